import { parseStatusNotice } from '../../../../src/presence/status-notices/status-notice';

const valid = { clientId: 'GID_x-1@@@dev1', eventType: 'connect', channelId: 'ch-1', clientIp: '10.0.0.1', time: 1_700_000_000_000, certificateChainSn: 'sn' };

function reasonFor(body: Buffer | string): string {
  const parsed = parseStatusNotice(body);
  if (parsed.ok) throw new Error('expected a refusal');
  return parsed.reason;
}

describe('parseStatusNotice', () => {
  it('reads a notice as Alibaba sends it, with the Group ID taken from the Client ID', () => {
    expect(parseStatusNotice(Buffer.from(JSON.stringify(valid)))).toEqual({
      ok: true,
      notice: { clientId: 'GID_x-1@@@dev1', groupId: 'GID_x-1', eventType: 'connect', channelId: 'ch-1', clientIp: '10.0.0.1', timeMs: 1_700_000_000_000 },
    });
  });

  it('reads every event type, and leaves out a client IP that is missing or not a short printable string', () => {
    for (const eventType of ['connect', 'disconnect', 'tcpclean']) {
      const parsed = parseStatusNotice(JSON.stringify({ ...valid, eventType, clientIp: 'x\ny' }));
      expect(parsed).toEqual({ ok: true, notice: expect.objectContaining({ eventType }) });
      expect(parsed.ok && 'clientIp' in parsed.notice).toBe(false);
    }
  });

  it.each([
    ['a body that is not JSON', '{"clientId":', /not JSON/],
    ['JSON that is not an object', '[1,2]', /not a JSON object/],
    ['null', 'null', /not a JSON object/],
    ['an unknown event type', JSON.stringify({ ...valid, eventType: 'reconnect' }), /eventType "reconnect" is not one of/],
    ['a missing channel ID', JSON.stringify({ ...valid, channelId: undefined }), /channelId \(absent\) is missing/],
    ['an empty channel ID', JSON.stringify({ ...valid, channelId: '' }), /channelId "" is missing or empty/],
    ['an over-long channel ID', JSON.stringify({ ...valid, channelId: 'c'.repeat(129) }), /channelId is 129 characters; at most 128/],
    ['a channel ID with a space or control character', JSON.stringify({ ...valid, channelId: 'a b' }), /printable ASCII/],
    ['a time given as a string', JSON.stringify({ ...valid, time: '1700000000000' }), /time "1700000000000" is not a positive whole number/],
    ['a fractional time', JSON.stringify({ ...valid, time: 1.5 }), /time 1.5 is not/],
    ['a time of zero', JSON.stringify({ ...valid, time: 0 }), /time 0 is not/],
    ['a negative time', JSON.stringify({ ...valid, time: -5 }), /time -5 is not/],
    ['a malformed Client ID', JSON.stringify({ ...valid, clientId: 'dev1' }), /clientId "dev1" is not a valid Client ID/],
    ['a Client ID that is not a string', JSON.stringify({ ...valid, clientId: 42 }), /clientId 42 is not a string/],
  ])('refuses %s, saying why', (_, body, reason) => {
    expect(reasonFor(body)).toMatch(reason);
  });

  it('never echoes more than a short, printable piece of a bad value', () => {
    const hostile = `GID_${'\u0007\n"'.repeat(40)}${'x'.repeat(10_000)}`;
    const reason = reasonFor(JSON.stringify({ ...valid, clientId: hostile }));
    expect(reason.length).toBeLessThan(80);
    expect(reason).toMatch(/^[\x20-\x7e…]*$/);
    expect(reasonFor(JSON.stringify({ ...valid, eventType: { nested: 'x'.repeat(1000) } }))).toBe('eventType (object) is not one of connect, disconnect, tcpclean');
  });

  it('refuses a body far bigger than any notice before parsing it', () => {
    expect(reasonFor(JSON.stringify({ ...valid, padding: 'x'.repeat(5000) }))).toMatch(/^body is \d+ bytes; at most 4096/);
  });
});
