/**
 * Retry delay after a failed run: `backoffMs` after the first failure, doubling after each
 * further one, never more than `maxBackoffMs`. No jitter: retries of one job are spread by
 * the doubling, and a predictable delay is easier to reason about in logs and tests.
 */
export function backoffDelay(failedAttempt: number, backoffMs: number, maxBackoffMs: number): number {
  const exponent = Math.max(0, failedAttempt - 1);
  // 2 ** 60 is already far past any cap; avoid Infinity for absurd attempt counts.
  return Math.min(maxBackoffMs, backoffMs * 2 ** Math.min(exponent, 60));
}
