/**
 * The most events inside any rolling window of `windowMs`: events less than `windowMs` apart share a
 * window, as in the upstream's sliding-log limiter (src/local/sliding-log-limiter.ts). Checking every
 * window, not fixed seconds: a fixed-second count misses a burst straddling a second boundary.
 */
export function mostInAnyWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end] - sorted[start] >= windowMs) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}
