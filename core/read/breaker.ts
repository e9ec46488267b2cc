/**
 * A circuit breaker for the new store (read path resilience): it opens on a high error rate (errors
 * and timeouts count alike) over a sliding window, or on a run of consecutive failures; after a cool
 * down it lets a bounded number of probe requests through (half-open); enough probe successes close
 * it, a probe failure opens it again. Pure: the clock is injected, nothing else is shared.
 *
 * While it is open the routing decision keeps every read on legacy, so an outage of the new table is
 * invisible to clients (they pay no timeout); probes themselves fall back to legacy when they fail.
 */

/** States of the breaker. */
export const BreakerState = { CLOSED: 'closed', OPEN: 'open', HALF_OPEN: 'half-open' } as const;
export type BreakerState = (typeof BreakerState)[keyof typeof BreakerState];

/** Outcome of one call to the guarded store. */
export type BreakerOutcome = 'success' | 'failure' | 'timeout';

/** Settings of a breaker. */
export interface BreakerOptions {
  /** Sliding window of the error rate. @default 10000 ms */
  readonly windowMs: number;
  /** Window granularity. @default 1000 ms */
  readonly bucketMs: number;
  /** Calls in the window before the error rate can open the breaker. @default 20 */
  readonly minCalls: number;
  /** Error rate (0..1) in the window that opens it. @default 0.5 */
  readonly failureRate: number;
  /** Consecutive failures that open it regardless of the rate. @default 5 */
  readonly consecutiveFailures: number;
  /** Time open before probes are let through. @default 5000 ms */
  readonly openMs: number;
  /** Probes in flight at once while half-open. @default 1 */
  readonly maxProbes: number;
  /** Probe successes that close it. @default 3 */
  readonly probeSuccesses: number;
}

/** Defaults of `BreakerOptions`. */
export const DEFAULT_BREAKER_OPTIONS: BreakerOptions = {
  windowMs: 10_000,
  bucketMs: 1_000,
  minCalls: 20,
  failureRate: 0.5,
  consecutiveFailures: 5,
  openMs: 5_000,
  maxProbes: 1,
  probeSuccesses: 3,
};

/** What the breaker told one request: go ahead (`closed`), go ahead as a probe (`half-open`), or don't (`open`). */
export type Admission = BreakerState;

/** A snapshot for metrics and logs. */
export interface BreakerSnapshot {
  readonly state: BreakerState;
  readonly calls: number;
  readonly failures: number;
  readonly consecutiveFailures: number;
  readonly openedAt?: number;
  /** Number of times it has opened. */
  readonly opens: number;
}

/** The breaker. One per store per execution environment. */
export class CircuitBreaker {
  readonly options: BreakerOptions;
  private current: BreakerState = BreakerState.CLOSED;
  private readonly calls: number[];
  private readonly failures: number[];
  private bucketStart = 0;
  private consecutive = 0;
  private openedAt = 0;
  private probesInFlight = 0;
  private probeOk = 0;
  private opens = 0;

  constructor(
    options: Partial<BreakerOptions> = {},
    private readonly now: () => number,
  ) {
    this.options = { ...DEFAULT_BREAKER_OPTIONS, ...options };
    const n = Math.max(1, Math.ceil(this.options.windowMs / this.options.bucketMs));
    this.calls = new Array<number>(n).fill(0);
    this.failures = new Array<number>(n).fill(0);
  }

  /** The state now (an open breaker whose cool-down has passed reads as half-open). */
  get state(): BreakerState {
    if (this.current === BreakerState.OPEN && this.now() - this.openedAt >= this.options.openMs) {
      this.current = BreakerState.HALF_OPEN;
      this.probesInFlight = 0;
      this.probeOk = 0;
    }
    return this.current;
  }

  /**
   * Asks to call the store. `closed`: call it. `half-open`: call it as a probe (then `record` with
   * that admission). `open`: do not call it.
   */
  admit(): Admission {
    const state = this.state;
    if (state === BreakerState.CLOSED) return state;
    if (state === BreakerState.HALF_OPEN && this.probesInFlight < this.options.maxProbes) {
      this.probesInFlight++;
      return state;
    }
    return BreakerState.OPEN;
  }

  /** Records the outcome of a call made under `admission`. */
  record(outcome: BreakerOutcome, admission: Admission): void {
    const ok = outcome === 'success';
    if (admission === BreakerState.HALF_OPEN) {
      this.probesInFlight = Math.max(0, this.probesInFlight - 1);
      if (this.current !== BreakerState.HALF_OPEN) return;
      if (!ok) return this.open();
      this.probeOk++;
      if (this.probeOk >= this.options.probeSuccesses) this.close();
      return;
    }
    if (admission !== BreakerState.CLOSED || this.current !== BreakerState.CLOSED) return;
    const i = this.rotate();
    this.calls[i] = (this.calls[i] as number) + 1;
    if (ok) {
      this.consecutive = 0;
      return;
    }
    this.failures[i] = (this.failures[i] as number) + 1;
    this.consecutive++;
    const calls = sum(this.calls);
    const failures = sum(this.failures);
    if (
      this.consecutive >= this.options.consecutiveFailures ||
      (calls >= this.options.minCalls && failures / calls >= this.options.failureRate)
    ) {
      this.open();
    }
  }

  /** Counts for metrics and logs. */
  snapshot(): BreakerSnapshot {
    const state = this.state;
    this.rotate();
    return {
      state,
      calls: sum(this.calls),
      failures: sum(this.failures),
      consecutiveFailures: this.consecutive,
      ...(this.opens > 0 ? { openedAt: this.openedAt } : {}),
      opens: this.opens,
    };
  }

  private open(): void {
    this.current = BreakerState.OPEN;
    this.openedAt = this.now();
    this.opens++;
    this.probesInFlight = 0;
    this.probeOk = 0;
  }

  private close(): void {
    this.current = BreakerState.CLOSED;
    this.consecutive = 0;
    this.calls.fill(0);
    this.failures.fill(0);
    this.bucketStart = 0;
  }

  /** Advances the ring to the current bucket, clearing expired ones; returns its index. */
  private rotate(): number {
    const { bucketMs } = this.options;
    const n = this.calls.length;
    const nowBucket = Math.floor(this.now() / bucketMs);
    if (this.bucketStart === 0) this.bucketStart = nowBucket;
    const steps = nowBucket - this.bucketStart;
    if (steps > 0) {
      for (let k = 1; k <= Math.min(steps, n); k++) {
        const j = (((this.bucketStart + k) % n) + n) % n;
        this.calls[j] = 0;
        this.failures[j] = 0;
      }
      this.bucketStart = nowBucket;
    }
    return ((nowBucket % n) + n) % n;
  }
}

function sum(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}
