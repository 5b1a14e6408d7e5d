import { UpstreamUnavailableError } from '../../../src/presence/errors';
import { SessionAction } from '../../../src/presence/session-api';
import { parseBatchAnswer } from '../../../src/upstream/batch-query-session-by-client-ids';
import { parseExactAnswer } from '../../../src/upstream/query-session-by-client-id';

const batch = { action: SessionAction.Batch, endpoint: 'http://127.0.0.1:1' };
const exact = { action: SessionAction.Exact, endpoint: 'http://127.0.0.1:1' };

describe('parseBatchAnswer', () => {
  it('keys statuses by ClientId, whatever the order of OnlineStatusList', () => {
    const answer = parseBatchAnswer(
      { RequestId: 'R', OnlineStatusList: [{ ClientId: 'GID_a@@@2', OnlineStatus: false }, { ClientId: 'GID_a@@@1', OnlineStatus: true }] },
      ['GID_a@@@1', 'GID_a@@@2'],
      batch,
    );

    expect(answer).toEqual({ requestId: 'R', statuses: new Map([['GID_a@@@1', true], ['GID_a@@@2', false]]) });
  });

  it('leaves an ID the answer does not name out of the map, never false', () => {
    const answer = parseBatchAnswer({ RequestId: 'R', OnlineStatusList: [] }, ['GID_a@@@1'], batch);

    expect(answer.statuses.has('GID_a@@@1')).toBe(false);
  });

  it('ignores entries for IDs that were not asked for', () => {
    const answer = parseBatchAnswer({ RequestId: 'R', OnlineStatusList: [{ ClientId: 'GID_x@@@9', OnlineStatus: true }] }, ['GID_a@@@1'], batch);

    expect(answer.statuses.size).toBe(0);
  });

  it('reads 1 and 0 as the official SDK\'s cast does', () => {
    const answer = parseBatchAnswer(
      { RequestId: 'R', OnlineStatusList: [{ ClientId: 'GID_a@@@1', OnlineStatus: 1 }, { ClientId: 'GID_a@@@2', OnlineStatus: 0 }] },
      ['GID_a@@@1', 'GID_a@@@2'],
      batch,
    );

    expect([...answer.statuses]).toEqual([['GID_a@@@1', true], ['GID_a@@@2', false]]);
  });

  it('fails an answer that names one ID twice with different statuses', () => {
    const body = { RequestId: 'R', OnlineStatusList: [{ ClientId: 'GID_a@@@1', OnlineStatus: true }, { ClientId: 'GID_a@@@1', OnlineStatus: false }] };

    expect(() => parseBatchAnswer(body, ['GID_a@@@1'], batch)).toThrow(UpstreamUnavailableError);
  });

  it.each([
    ['a null entry', [null]],
    ['a numeric ClientId', [{ ClientId: 7, OnlineStatus: true }]],
    ['a null OnlineStatus', [{ ClientId: 'GID_a@@@1', OnlineStatus: null }]],
    ['a list that is an object', { ClientId: 'GID_a@@@1', OnlineStatus: true }],
  ])('fails an answer with %s as malformed, keeping the RequestId', (_case, list) => {
    expect(() => parseBatchAnswer({ RequestId: 'R', OnlineStatusList: list }, ['GID_a@@@1'], batch)).toThrow(
      expect.objectContaining({ upstream: { code: 'MalformedResponse', requestId: 'R' } }),
    );
  });
});

describe('parseExactAnswer', () => {
  it('reads OnlineStatus and RequestId', () => {
    expect(parseExactAnswer({ RequestId: 'R', OnlineStatus: true }, exact)).toEqual({ requestId: 'R', online: true });
  });

  it('fails an answer without a boolean OnlineStatus as malformed', () => {
    expect(() => parseExactAnswer({ RequestId: 'R', OnlineStatus: 'yes' }, exact)).toThrow(UpstreamUnavailableError);
  });
});
