/**
 * Bounded retries: a retry budget (the delays are `fullJitterDelay`, core/common/backoff.ts, the one
 * backoff of the project) that caps retries at a share of recent first attempts, so that a struggling store sees at most `1 + ratio` times its
 * normal load from retries (they cannot storm). Pure: clock and randomness are injected.
 */

/**
 * The error names of DynamoDB throttling, 5xx and request timeouts (`TimeoutError` is the SDK's name for
 * both a timed-out request and a reset socket): transient, so worth retrying after a backoff. The read
 * path's store errors say so (adapters/item-store.ts), and the state machines retry a Lambda task that
 * failed with one of them (`dynamoTransient`, stepfunctions/asl.ts).
 */
export const DYNAMO_TRANSIENT_ERRORS = [
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
] as const;

/** Settings of a `RetryBudget`. */
export interface RetryBudgetOptions {
  /** Retries allowed per first attempt, over the window. @default 0.1 */
  readonly ratio: number;
  /** Retries always allowed per window, so a quiet function can still retry. @default 10 */
  readonly minPerWindow: number;
  /** @default 10000 ms */
  readonly windowMs: number;
}

/** A token budget for retries, refilled by first attempts. */
export class RetryBudget {
  private readonly options: RetryBudgetOptions;
  private windowStart: number;
  private attempts = 0;
  private retries = 0;

  constructor(
    options: Partial<RetryBudgetOptions>,
    private readonly now: () => number,
  ) {
    this.options = { ratio: 0.1, minPerWindow: 10, windowMs: 10_000, ...options };
    this.windowStart = now();
  }

  private roll(): void {
    const t = this.now();
    if (t - this.windowStart >= this.options.windowMs) {
      this.windowStart = t;
      this.attempts = 0;
      this.retries = 0;
    }
  }

  /** Records a first attempt. */
  recordAttempt(): void {
    this.roll();
    this.attempts++;
  }

  /** Takes a retry token if the budget allows one. */
  tryRetry(): boolean {
    this.roll();
    const allowed = this.options.minPerWindow + this.attempts * this.options.ratio;
    if (this.retries + 1 > allowed) return false;
    this.retries++;
    return true;
  }
}

/**
 * Keeps the most recent latencies of a store (a ring of `size` samples) and answers percentiles:
 * the hedge delay defaults to the observed p95 of the new store.
 */
export class LatencyWindow {
  private readonly samples: number[] = [];
  private next = 0;
  /** Latencies recorded so far (ever), so callers can recompute percentiles only now and then. */
  recorded = 0;

  constructor(private readonly size = 512) {}

  /** Records one latency, ms. */
  record(ms: number): void {
    if (this.samples.length < this.size) this.samples.push(ms);
    else this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.size;
    this.recorded++;
  }

  /** Number of samples held. */
  get count(): number {
    return this.samples.length;
  }

  /** Nearest-rank percentile (0..100), or undefined with no samples. */
  percentile(p: number): number | undefined {
    if (this.samples.length === 0) return undefined;
    const sorted = [...this.samples].sort((a, b) => a - b);
    const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[rank];
  }
}

/**
 * The hedge delay: the observed p95 of the store once `minSamples` are held, clamped to
 * [floorMs, ceilingMs]; `fallbackMs` before that.
 */
export function hedgeDelay(
  window: LatencyWindow,
  options: {
    readonly fallbackMs: number;
    readonly floorMs: number;
    readonly ceilingMs: number;
    readonly minSamples: number;
  },
): number {
  const p95 = window.count >= options.minSamples ? window.percentile(95) : undefined;
  const base = p95 ?? options.fallbackMs;
  return Math.min(options.ceilingMs, Math.max(options.floorMs, base));
}
