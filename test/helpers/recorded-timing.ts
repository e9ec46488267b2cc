/**
 * Retry timing for unit tests of the adapters' retries: sleeps are recorded instead of slept, the
 * jitter is fixed at 0.5 and the backoff is 10 ms doubling to at most 1 s.
 */
import type { RetryTiming } from '../../adapters/retry';

/** A fake `RetryTiming` allowing `maxAttempts` attempts, and the sleeps it was asked for. */
export function recordedTiming(maxAttempts: number): { sleeps: number[]; timing: RetryTiming } {
  const sleeps: number[] = [];
  const timing: RetryTiming = {
    sleep: async (ms: number) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    backoff: { baseMs: 10, capMs: 1_000, maxAttempts },
  };
  return { sleeps, timing };
}
