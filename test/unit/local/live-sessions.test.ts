import { LiveSessions, type SessionChange } from '../../../src/local/live-sessions';

describe('LiveSessions', () => {
  const a = 'GID_test@@@a';
  const b = 'GID_test@@@b';

  it('keeps a Client ID online until its last connection closes, announcing each flip once', () => {
    const sessions = new LiveSessions();
    const changes: SessionChange[] = [];
    sessions.on('change', (change) => changes.push(change));
    sessions.connected(a, 1000);
    sessions.connected(a, 1100); // a session takeover overlaps two connections
    sessions.disconnected(a, 1200);
    expect(sessions.isOnline(a)).toBe(true);
    sessions.disconnected(a, 1300);
    expect(sessions.isOnline(a)).toBe(false);
    expect(changes.map(({ online, at }) => [online, at.getTime()])).toEqual([
      [true, 1000],
      [false, 1300],
    ]);
  });

  it('ignores a disconnect of a Client ID that is not connected', () => {
    const sessions = new LiveSessions();
    sessions.disconnected(a, 1000);
    expect(sessions.onlineClientIds()).toEqual([]);
    expect(sessions.wasOnlineAt(a, 1000)).toBe(false);
  });

  it('answers the status a Client ID had at a past moment (what a lagging batch answer reads)', () => {
    const sessions = new LiveSessions();
    sessions.connected(a, 1000);
    sessions.disconnected(a, 2000);
    expect([999, 1000, 1999, 2000].map((t) => sessions.wasOnlineAt(a, t))).toEqual([false, true, true, false]);
  });

  it('still answers within its window after forgetting Client IDs offline for longer than the window', () => {
    const sessions = new LiveSessions(1000);
    sessions.connected(a, 0);
    sessions.disconnected(a, 100);
    sessions.connected(b, 5000); // a has been offline for longer than the window: its history is dropped
    expect(sessions.wasOnlineAt(a, 4500)).toBe(false);
    sessions.connected(a, 6000);
    sessions.disconnected(b, 6500);
    expect([5500, 6000, 6499, 6500].map((t) => [sessions.wasOnlineAt(a, t), sessions.wasOnlineAt(b, t)])).toEqual([
      [false, true],
      [true, true],
      [true, true],
      [true, false],
    ]);
  });
});
