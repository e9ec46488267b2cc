/**
 * Retries of DynamoDB calls: throttling and 5xx are retried with full-jitter backoff (core/common/backoff.ts),
 * everything else propagates at once; and a bounded pool of concurrent calls. Shared by the backfill's and
 * the verification's table I/O.
 */
import { type BackoffSettings, DEFAULT_BACKOFF, fullJitterDelay } from '../core/common';

/** Error names DynamoDB uses for throttling and transient server faults. */
const RETRYABLE_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TransactionInProgressException',
  'LimitExceededException',
  'TimeoutError',
  'ECONNRESET',
]);

/** Throttling error names (request level) and PartiQL statement error codes. */
const THROTTLE_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceeded',
  'ThrottlingError',
]);

/**
 * True when a retried error was throttling (of a request, or of one PartiQL statement: `{ code }`), the
 * signal the backfill's adaptive rate lowers on (core/backfill/rate.ts).
 */
export function isThrottle(err: unknown): boolean {
  const e = err as { name?: string; code?: string } | undefined;
  return THROTTLE_NAMES.has(e?.name ?? '') || THROTTLE_NAMES.has(e?.code ?? '');
}

/** Counts throttled retries between two `take()`s (wire `count` as `RetryTiming.onRetry`). */
export class ThrottleCounter {
  private n = 0;
  /** `RetryTiming.onRetry`: counts the retry if it was throttling. */
  readonly count = (err: unknown): void => {
    if (isThrottle(err)) this.n++;
  };
  /** Throttled retries since the last call. */
  take(): number {
    const n = this.n;
    this.n = 0;
    return n;
  }
}

/** True for throttling and 5xx errors, which are worth retrying after a backoff. */
export function isRetryable(err: unknown): boolean {
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  if (!e) return false;
  if (RETRYABLE_NAMES.has(e.name ?? '') || RETRYABLE_NAMES.has(e.code ?? '')) return true;
  return (e.$metadata?.httpStatusCode ?? 0) >= 500;
}

/** Injected timing of retries (tests pass a fake). */
export interface RetryTiming {
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  readonly backoff: BackoffSettings;
  /** Called on each retry (for counting). */
  readonly onRetry?: (err: unknown, retry: number) => void;
}

/** Real timers and `Math.random`. */
export const realRetryTiming: RetryTiming = {
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  random: Math.random,
  backoff: DEFAULT_BACKOFF,
};

/** Runs `fn`, retrying throttling and 5xx with full-jitter backoff; other errors propagate at once. */
export async function withRetry<T>(fn: () => Promise<T>, timing: RetryTiming = realRetryTiming): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await fn();
    } catch (err) {
      if (!isRetryable(err) || retry + 1 >= timing.backoff.maxAttempts) throw err;
      timing.onRetry?.(err, retry);
      await timing.sleep(fullJitterDelay(retry, timing.backoff, timing.random()));
    }
  }
}

/** Runs `fn` over `xs` with at most `concurrency` in flight. */
export async function runPool<T>(
  xs: readonly T[],
  concurrency: number,
  fn: (x: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(concurrency, xs.length)) }, async () => {
    while (next < xs.length) {
      const x = xs[next++] as T;
      await fn(x);
    }
  });
  await Promise.all(workers);
}
