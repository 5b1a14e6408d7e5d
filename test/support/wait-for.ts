/**
 * Polls `probe` until it returns something truthy, or fails after `timeoutMs` with `what` in the
 * message. For conditions that have no event to wait on (an upstream cache catching up); never a
 * fixed sleep standing in for synchronisation.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T> | T, timeoutMs = 10_000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
