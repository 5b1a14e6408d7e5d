import { CallBudget, MemoryBudgetStore } from '../../../src/presence/budget';
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

  it('rejects bad options with a message naming the option and the value', () => {
    expect(() => budget(0)).toThrow('CallBudget: limitPerSecond must be a whole number ≥ 1; got 0');
    expect(() => budget(10, -1)).toThrow('CallBudget: maxCallMs must be a finite number ≥ 0; got -1');
  });
});
