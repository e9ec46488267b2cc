/**
 * Retry delays: exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff
 * And Jitter"): attempt `n` waits a uniform random time in [0, min(cap, base * 2^n)].
 */

/** Settings of a backoff. */
export interface BackoffSettings {
  /** Delay ceiling of the first retry, in ms. */
  readonly baseMs: number;
  /** Largest delay, in ms. */
  readonly capMs: number;
  /** Attempts in total (first try included). */
  readonly maxAttempts: number;
}

/** Defaults for DynamoDB throttling and 5xx in the backfill. */
export const DEFAULT_BACKOFF: BackoffSettings = { baseMs: 50, capMs: 5_000, maxAttempts: 8 };

/**
 * The delay before retry number `retry` (0 = first retry), given a random number in [0, 1).
 */
export function fullJitterDelay(retry: number, settings: BackoffSettings, random: number): number {
  const ceiling = Math.min(settings.capMs, settings.baseMs * 2 ** Math.max(0, retry));
  return Math.floor(ceiling * Math.min(Math.max(random, 0), 1));
}
