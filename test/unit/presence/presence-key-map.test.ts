import { PresenceKeyMap } from '../../../src/presence/presence-key-map';
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
