import { PresenceKeyIds, PresenceKeyMap } from '../../../src/presence/presence-key-map';
import { presenceKeyId } from '../../../src/presence/types';
import { INSTANCE, key } from './fake-session-api';

describe('PresenceKeyMap', () => {
  it('finds an entry by the key’s value, whatever object holds it', () => {
    const map = new PresenceKeyMap<string>();
    map.set(key(1), 'one');
    expect(map.get({ ...key(1) })).toBe('one');
    expect(map.has({ instanceId: INSTANCE, clientId: key(1).clientId })).toBe(true);
    expect(map.get(key(2))).toBeUndefined();
    expect(map.has(key(2))).toBe(false);
  });

  it('keeps the same Client ID of two instances apart', () => {
    const map = new PresenceKeyMap<string>();
    map.set(key(1, 'mqtt-a'), 'a');
    map.set(key(1, 'mqtt-b'), 'b');
    expect([map.get(key(1, 'mqtt-a')), map.get(key(1, 'mqtt-b')), map.get(key(1, 'mqtt-c'))]).toEqual(['a', 'b', undefined]);
    expect(map.size).toBe(2);
  });

  it('counts each distinct key once, over all instances, as entries are replaced, deleted and cleared', () => {
    const map = new PresenceKeyMap<number>();
    map.set(key(1), 1).set(key(1), 2).set(key(2), 3).set(key(2, 'mqtt-other'), 4);
    expect(map.size).toBe(3);
    expect(map.get(key(1))).toBe(2);
    expect(map.delete(key(2))).toBe(true);
    expect(map.delete(key(2))).toBe(false);
    expect(map.delete(key(9, 'mqtt-unknown'))).toBe(false);
    expect(map.size).toBe(2);
    map.clear();
    expect(map.size).toBe(0);
    expect(map.get(key(1))).toBeUndefined();
  });
});

describe('PresenceKeyIds', () => {
  it('gives each key its presenceKeyId, the same for equal keys held by different objects', () => {
    const ids = new PresenceKeyIds(10);
    expect(ids.idOf(key(1))).toBe(presenceKeyId(key(1)));
    expect(ids.idOf({ ...key(1) })).toBe(presenceKeyId(key(1)));
    expect(ids.idOf(key(1, 'mqtt-other'))).toBe(presenceKeyId(key(1, 'mqtt-other')));
    expect(ids.size).toBe(2);
  });

  it('never keeps more than maxKeys ids, and still answers every key after forgetting', () => {
    const ids = new PresenceKeyIds(3);
    for (let n = 0; n < 10; n++) {
      expect(ids.idOf(key(n))).toBe(presenceKeyId(key(n)));
      expect(ids.size).toBeLessThanOrEqual(3);
    }
    expect(ids.idOf(key(0))).toBe(presenceKeyId(key(0)));
  });
});
