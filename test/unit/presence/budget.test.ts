import { CallBudget, MemoryBudgetStore, type BudgetStore } from '../../../src/presence/budget';
import { slowedLimit } from '../../../src/presence/budget-slowdown';
import { PresenceErrorCode, UpstreamThrottledError } from '../../../src/presence/errors';

beforeEach(() => jest.useFakeTimers({ now: 0 }));
afterEach(() => jest.useRealTimers());

describe('MemoryBudgetStore', () => {
  it('grants up to the limit in a window and then says how long until the oldest grant leaves it', async () => {
    const store = new MemoryBudgetStore();
    expect(await store.tryAcquire('A', 2, 1000, 0)).toMatchObject({ granted: true });
    jest.advanceTimersByTime(300);
    expect(await store.tryAcquire('A', 2, 1000, 0)).toMatchObject({ granted: true });
    jest.advanceTimersByTime(100);
    expect(await store.tryAcquire('A', 2, 1000, 0)).toEqual({ granted: false, retryAfterMs: 600 });
    jest.advanceTimersByTime(600);
    expect(await store.tryAcquire('A', 2, 1000, 0)).toMatchObject({ granted: true });
  });

  it('is a sliding log, so no burst of twice the limit passes across a second boundary', async () => {
    const store = new MemoryBudgetStore();
    jest.advanceTimersByTime(990);
    for (let i = 0; i < 5; i++) expect((await store.tryAcquire('A', 5, 1000, 0)).granted).toBe(true);
    jest.advanceTimersByTime(20); // a fixed one-second window would have reset at 1000
    expect(await store.tryAcquire('A', 5, 1000, 0)).toEqual({ granted: false, retryAfterMs: 980 });
  });

  it('counts each action on its own', async () => {
    const store = new MemoryBudgetStore();
    expect((await store.tryAcquire('A', 1, 1000, 0)).granted).toBe(true);
    expect((await store.tryAcquire('B', 1, 1000, 0)).granted).toBe(true);
    expect((await store.tryAcquire('A', 1, 1000, 0)).granted).toBe(false);
  });

  it('counts a grant until one window after its call ended, however late that is, because the upstream counts arrivals', async () => {
    const store = new MemoryBudgetStore();
    const first = await store.tryAcquire('A', 1, 1000, 7000);
    if (!first.granted) throw new Error('expected a grant');
    // In flight: the call may still arrive at any moment, so the next one is a full window away.
    jest.advanceTimersByTime(300);
    expect(await store.tryAcquire('A', 1, 1000, 7000)).toEqual({ granted: false, retryAfterMs: 1000 });
    await first.grant.settle();
    jest.advanceTimersByTime(999);
    expect(await store.tryAcquire('A', 1, 1000, 7000)).toEqual({ granted: false, retryAfterMs: 1 });
    jest.advanceTimersByTime(1);
    expect((await store.tryAcquire('A', 1, 1000, 7000)).granted).toBe(true);
  });

  it('counts a grant never settled until pendingMs plus one window after it was given', async () => {
    const store = new MemoryBudgetStore();
    await store.tryAcquire('A', 1, 1000, 25);
    jest.advanceTimersByTime(1024);
    expect(await store.tryAcquire('A', 1, 1000, 25)).toEqual({ granted: false, retryAfterMs: 1 });
    jest.advanceTimersByTime(1);
    expect((await store.tryAcquire('A', 1, 1000, 25)).granted).toBe(true);
  });

  it('still counts a call that ends after its grant had left the log, from the moment it ended', async () => {
    const store = new MemoryBudgetStore();
    const slow = await store.tryAcquire('A', 1, 1000, 25);
    jest.advanceTimersByTime(2000);
    if (!slow.granted) throw new Error('expected a grant');
    await slow.grant.settle();
    expect(await store.tryAcquire('A', 1, 1000, 25)).toEqual({ granted: false, retryAfterMs: 1000 });
  });

  it('settles a grant once: a second settle does not move it', async () => {
    const store = new MemoryBudgetStore();
    const decision = await store.tryAcquire('A', 1, 1000, 0);
    if (!decision.granted) throw new Error('expected a grant');
    await decision.grant.settle();
    jest.advanceTimersByTime(500);
    await decision.grant.settle();
    jest.advanceTimersByTime(500);
    expect((await store.tryAcquire('A', 1, 1000, 0)).granted).toBe(true);
  });
});

describe('Slowing down after a throttled answer', () => {
  const slowdown = { share: 0.5, durationMs: 1000 };
  /** Takes every grant the store gives now (calls that end at once); returns how many. */
  const takeAll = async (store: BudgetStore, action = 'A') => {
    let taken = 0;
    while ((await store.tryAcquire(action, 10, 1000, 0, slowdown)).granted) taken++;
    return taken;
  };

  it('grants share of the limit right after a throttled answer, rising linearly back to the whole limit over durationMs', async () => {
    const store = new MemoryBudgetStore();
    await store.throttled('A');
    expect(await takeAll(store)).toBe(5);
    jest.advanceTimersByTime(500);
    expect(await takeAll(store)).toBe(2); // ⌊10 · 0.75⌋ = 7, of which 5 are still counted
    jest.advanceTimersByTime(500);
    expect(await takeAll(store)).toBe(8); // whole again; the first 5 have left the window
  });

  it('restarts the slowdown on each throttled answer without lowering it further, so random faults cannot starve the account', async () => {
    const store = new MemoryBudgetStore();
    for (let i = 0; i < 5; i++) await store.throttled('A');
    expect(await takeAll(store)).toBe(5);
    jest.advanceTimersByTime(1000);
    await store.throttled('A');
    expect(await takeAll(store)).toBe(5);
  });

  it('slows only the action that was throttled, and not a caller that asks without a slowdown', async () => {
    const store = new MemoryBudgetStore();
    await store.throttled('A');
    expect(await takeAll(store, 'B')).toBe(10);
    await store.throttled('C');
    let unslowed = 0;
    while ((await store.tryAcquire('C', 10, 1000, 0)).granted) unslowed++;
    expect(unslowed).toBe(10);
  });

  it('never slows a limit below one call, and 0 ms is no slowdown', () => {
    expect(slowedLimit(1, 0, { share: 0.1, durationMs: 1000 })).toBe(1);
    expect(slowedLimit(100, 0, { share: 0.5, durationMs: 0 })).toBe(100);
    expect(slowedLimit(100, 250, { share: 0.5, durationMs: 1000 })).toBe(62);
    expect(slowedLimit(100, 1000, { share: 0.5, durationMs: 1000 })).toBe(100);
  });
});

describe('CallBudget', () => {
  const budget = (limitPerSecond: number, maxCallMs?: number) =>
    new CallBudget({ store: new MemoryBudgetStore(), action: 'BatchQuerySessionByClientIds', limitPerSecond, maxCallMs });

  it("counts over the upstream's own rolling second, and an unsettled call 25 ms longer by default", () => {
    expect(budget(100).windowMs).toBe(1000);
    expect(budget(100).maxCallMs).toBe(25);
    expect(budget(100, 7000).maxCallMs).toBe(7000);
  });

  it('waits on a timer for the next grant instead of failing', async () => {
    const calls = budget(2);
    await calls.acquire(0);
    await calls.acquire(0);
    let granted = false;
    void calls.acquire(5000).then(() => (granted = true));
    await jest.advanceTimersByTimeAsync(1024);
    expect(granted).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(granted).toBe(true);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('grants again one window after the calls it granted were settled', async () => {
    const calls = budget(2, 7000);
    const grants = [await calls.acquire(0), await calls.acquire(0)];
    jest.advanceTimersByTime(40);
    await Promise.all(grants.map((grant) => grant.settle()));
    let granted = false;
    void calls.acquire(5000).then(() => (granted = true));
    await jest.advanceTimersByTimeAsync(999);
    expect(granted).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(granted).toBe(true);
  });

  it('throws UPSTREAM_THROTTLED with retryAfterMs at once when the next grant would come after the deadline', async () => {
    const calls = budget(1);
    await calls.acquire(0);
    jest.advanceTimersByTime(25);
    const error = await calls.acquire(500).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamThrottledError);
    expect(error).toMatchObject({ code: PresenceErrorCode.UpstreamThrottled, retryAfterMs: 1000 });
  });

  it('still takes a grant that is free at once when the deadline has passed', async () => {
    await expect(budget(1).acquire(-1)).resolves.toEqual({ settle: expect.any(Function) });
  });

  it('stops waiting when its signal aborts', async () => {
    const calls = budget(1);
    await calls.acquire(0);
    const controller = new AbortController();
    const waiting = calls.acquire(5000, controller.signal);
    controller.abort(new Error('closed'));
    await expect(waiting).rejects.toThrow('closed');
    expect(jest.getTimerCount()).toBe(0);
  });

  it('halves its grants for 2 s after the upstream throttled a call, by default, and for every budget on the same store', async () => {
    const store = new MemoryBudgetStore();
    const own = new CallBudget({ store, action: 'Batch', limitPerSecond: 10 });
    const peer = new CallBudget({ store, action: 'Batch', limitPerSecond: 10 });
    expect(own.slowdown).toEqual({ share: 0.5, durationMs: 2000 });
    await own.throttled();
    for (let i = 0; i < 5; i++) await peer.acquire(0);
    await expect(peer.acquire(0)).rejects.toBeInstanceOf(UpstreamThrottledError);
  });

  it('does not slow down with slowdownMs 0, and never rejects when the store cannot record the throttled answer', async () => {
    const store = new MemoryBudgetStore();
    const recorded: Array<[string, number]> = [];
    const recording: BudgetStore = { tryAcquire: (...args) => store.tryAcquire(...args), throttled: async (...args) => void recorded.push(args) };
    await new CallBudget({ store: recording, action: 'Batch', limitPerSecond: 2, slowdownMs: 0 }).throttled();
    await new CallBudget({ store: recording, action: 'Exact', limitPerSecond: 2, slowdownMs: 700 }).throttled();
    expect(recorded).toEqual([['Exact', 700]]);
    const failing: BudgetStore = { tryAcquire: (...args) => store.tryAcquire(...args), throttled: () => Promise.reject(new Error('Redis gone')) };
    await expect(new CallBudget({ store: failing, action: 'Batch', limitPerSecond: 2 }).throttled()).resolves.toBeUndefined();
  });

  it('rejects bad options with a message naming the option and the value', () => {
    expect(() => new CallBudget({ store: new MemoryBudgetStore(), action: 'A', limitPerSecond: 1, slowdownShare: 0 })).toThrow(
      'CallBudget: slowdownShare must be a number more than 0 and at most 1; got 0',
    );
    expect(() => new CallBudget({ store: new MemoryBudgetStore(), action: 'A', limitPerSecond: 1, slowdownMs: -1 })).toThrow(
      'CallBudget: slowdownMs must be a finite number ≥ 0; got -1',
    );
    expect(() => budget(0)).toThrow('CallBudget: limitPerSecond must be a whole number ≥ 1; got 0');
    expect(() => budget(10, -1)).toThrow('CallBudget: maxCallMs must be a finite number ≥ 0; got -1');
  });
});
