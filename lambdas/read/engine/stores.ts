/**
 * Store access of the read engine, for one migration. Every read of legacy or new goes through here:
 * the per-store timeout, bounded retries within a retry budget, the new store's circuit breaker (every
 * outcome recorded, state changes reported), new's observed latency for the hedge delay, and what a
 * client is told when a store refuses a request or cannot answer (never a table name or a raw error;
 * both are logged). Also the outcome of a key read as a `KeyResult`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreReadError } from '../../../adapters/item-store';
import {
  type MetadataNames,
  isTombstone,
  metadataNames,
  stripMetadata,
  type Item,
  findLostAttribute,
} from '../../../core/model';
import {
  type Admission,
  type BreakerState,
  CircuitBreaker,
  type NewRead,
  type RouteDecision,
  Store,
} from '../../../core/read';
import { LatencyWindow, RetryBudget, fullJitterDelay, hedgeDelay } from '../../../core/common';
import type { ReadTelemetry } from '../telemetry';
import { BadRequestError } from '../validation';
import type { KeyResult, ReadOptions, ReadTarget } from './types';

/** What reading a key in new gave, in the legacy shape. */
export type NewOutcome =
  | { readonly kind: 'present'; readonly item: Item }
  | { readonly kind: 'tombstone' }
  | { readonly kind: 'absent' }
  | { readonly kind: 'failed'; readonly message: string }
  /** The store answered, but `unmapItem` refused its item: routed as a failure of new, counted apart. */
  | { readonly kind: 'unmappable'; readonly message: string; readonly detail: string };

/** What a routing decision learns from reading new: an unmappable item is a failure of new. */
export function newReadOf(outcome: NewOutcome): NewRead {
  return outcome.kind === 'unmappable' ? 'failed' : outcome.kind;
}

/** What reading a key in legacy gave. */
export type LegacyOutcome =
  { readonly ok: true; readonly item: Item | undefined } | { readonly ok: false; readonly message: string };

function failureMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The two stores of one migration behind timeouts, retries and the new store's breaker. */
export class ReadStores {
  readonly breaker: CircuitBreaker;
  readonly names: MetadataNames;
  private readonly newLatency = new LatencyWindow(512);
  private readonly retryBudgets: Record<Store, RetryBudget>;
  private lastBreakerState: BreakerState = 'closed';
  private hedgeCache: number | undefined;
  private hedgeComputedAt = 0;

  constructor(
    readonly target: ReadTarget,
    private readonly options: ReadOptions,
    private readonly telemetry: ReadTelemetry,
    now: () => number,
    private readonly random: () => number,
  ) {
    this.breaker = new CircuitBreaker(options.breaker, now);
    this.retryBudgets = {
      legacy: new RetryBudget({ ratio: options.retryRatio }, now),
      new: new RetryBudget({ ratio: options.retryRatio }, now),
    };
    this.names = metadataNames(target.migration.metadataPrefix);
  }

  /**
   * Runs `op` against `store` within its timeout, retrying retryable failures within the budget. New's
   * short timeout applies where legacy can answer instead; `sole` (new is the only store, see
   * `newIsSoleStore`) gives new the legacy timeout.
   */
  async withRetry<T>(store: Store, op: (signal: AbortSignal) => Promise<T>, sole = false): Promise<T> {
    const timeout = store === Store.NEW && !sole ? this.options.newTimeoutMs : this.options.legacyTimeoutMs;
    // A plain controller and timer, cleared on completion: AbortSignal.timeout and an aborted
    // timers/promises sleep both cost far more per request (a DOMException each) on the hot path.
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new StoreReadError(store, false, true, `timed out after ${timeout} ms`)),
      timeout,
    );
    const { signal } = controller;
    const budget = this.retryBudgets[store];
    budget.recordAttempt();
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          return await op(signal);
        } catch (err) {
          const retryable = err instanceof StoreReadError && err.retryable && !err.timedOut;
          if (!retryable || attempt >= this.options.maxAttempts || signal.aborted || !budget.tryRetry())
            throw err;
          const delay = fullJitterDelay(
            attempt - 1,
            {
              baseMs: this.options.retryBaseMs,
              capMs: this.options.retryCapMs,
              maxAttempts: this.options.maxAttempts,
            },
            this.random(),
          );
          try {
            await sleep(delay, undefined, { signal });
          } catch {
            throw new StoreReadError(store, false, true, err);
          }
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** The hedge delay: fixed, or the observed p95 of new, recomputed every 64 reads (not per request). */
  hedgeAfter(): number {
    if (this.options.hedgeAfterMs !== undefined) return this.options.hedgeAfterMs;
    if (this.hedgeCache === undefined || this.newLatency.recorded - this.hedgeComputedAt >= 64) {
      this.hedgeCache = hedgeDelay(this.newLatency, {
        fallbackMs: this.options.hedgeFallbackMs,
        floorMs: this.options.hedgeFloorMs,
        ceilingMs: this.options.hedgeCeilingMs,
        minSamples: 50,
      });
      this.hedgeComputedAt = this.newLatency.recorded;
    }
    return this.hedgeCache;
  }

  /** Reads the key in legacy. Never throws for store failures (a request DynamoDB refused is a 400). */
  async readLegacy(key: Item): Promise<LegacyOutcome> {
    try {
      const item = await this.withRetry(Store.LEGACY, (s) => this.target.legacy.get(key, s));
      return { ok: true, item };
    } catch (err) {
      return { ok: false, message: this.legacyFailed(err) };
    }
  }

  /**
   * Reads the key in new, in the legacy shape; records the outcome in the breaker. `sole`: new is the
   * only store that may answer (its timeout is legacy's; see `withRetry`).
   */
  async readNew(newKey: Item, admission: Admission, sole = false): Promise<NewOutcome> {
    const started = performance.now();
    let raw: Item | undefined;
    try {
      raw = await this.withRetry(Store.NEW, (s) => this.target.fresh.get(newKey, s), sole);
    } catch (err) {
      return { kind: 'failed', message: this.newFailed(err, admission) };
    }
    this.newLatency.record(performance.now() - started);
    this.newSucceeded(admission);
    if (raw === undefined) return { kind: 'absent' };
    if (isTombstone(raw, this.names)) return { kind: 'tombstone' };
    try {
      const item = this.target.migration.unmapItem(stripMetadata(raw, this.names));
      // A result that lost an attribute (assigned "__proto__") must not be served without it.
      const lost = findLostAttribute(item, 'unmapItem result');
      if (lost) throw lost;
      return { kind: 'present', item };
    } catch (err) {
      // The store is fine, the data is not: legacy answers; shadow compare counts it as `unmappable`.
      return {
        kind: 'unmappable',
        message: 'new store unavailable: its item cannot be read back (unmapItem)',
        detail: `unmapItem failed: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
      };
    }
  }

  /** Records a successful read of new in the breaker. */
  newSucceeded(admission: Admission): void {
    this.breaker.record('success', admission);
    this.noteBreaker();
  }

  /**
   * A failed read of new: a request DynamoDB refused is thrown as a 400; anything else is recorded in
   * the breaker and logged, and the message a client may be told is returned.
   */
  newFailed(err: unknown, admission: Admission): string {
    if (err instanceof StoreReadError && err.invalid) throw this.invalidRequest(Store.NEW, err);
    const timedOut = err instanceof StoreReadError && err.timedOut;
    this.breaker.record(timedOut ? 'timeout' : 'failure', admission);
    this.noteBreaker();
    this.telemetry.storeFailure(this.target.migration.id, Store.NEW, timedOut, failureMessage(err));
    return this.unavailable(Store.NEW, err);
  }

  /** A failed read of legacy: a refused request is thrown as a 400; else logged, and the client's message returned. */
  legacyFailed(err: unknown): string {
    if (err instanceof StoreReadError && err.invalid) throw this.invalidRequest(Store.LEGACY, err);
    this.telemetry.storeFailure(
      this.target.migration.id,
      Store.LEGACY,
      err instanceof StoreReadError && err.timedOut,
      failureMessage(err),
    );
    return this.unavailable(Store.LEGACY, err);
  }

  private noteBreaker(): void {
    const state = this.breaker.state;
    if (state !== this.lastBreakerState) {
      this.telemetry.breakerChanged(this.target.migration.id, this.lastBreakerState, state);
      this.lastBreakerState = state;
    }
  }

  /**
   * A request DynamoDB refused as invalid, as a 400 that says what is wrong with it, never which table
   * refused it or DynamoDB's raw message (both stay in the log through `detail`).
   */
  private invalidRequest(store: Store, err: StoreReadError): BadRequestError {
    const raw = failureMessage(err);
    const what =
      store === Store.LEGACY
        ? 'the key is not a valid key of the legacy table'
        : "the key, mapped by the migration's mapKey, is not a valid key of the new table";
    const why = /size|exceed|too large|limit/i.test(raw)
      ? 'a key value is larger than DynamoDB allows (partition key 2048 bytes, sort key 1024)'
      : /empty/i.test(raw)
        ? 'a key value is empty'
        : /schema|key element|type/i.test(raw)
          ? "its attributes do not match the table's key schema"
          : 'DynamoDB refused it as invalid';
    return new BadRequestError(`${what}: ${why}`, raw);
  }

  /** What a client is told when a store cannot answer (no table names, no raw errors: those are logged). */
  private unavailable(store: Store, err: unknown): string {
    const timedOut = err instanceof StoreReadError && err.timedOut;
    const throttled =
      err instanceof StoreReadError && err.retryable && /throttl|exceeded|limit/i.test(failureMessage(err));
    return `${store} store unavailable: ${timedOut ? 'the read timed out' : throttled ? 'the read was throttled' : 'the read failed'}; retry later`;
  }
}

/** A key result answered by legacy. */
export function fromLegacy(
  legacy: LegacyOutcome,
  decision: RouteDecision,
  fallback: boolean,
  hedged: boolean,
): KeyResult {
  if (!legacy.ok)
    return {
      status: 503,
      decision,
      fallback,
      hedged,
      message: legacy.message,
    };
  if (legacy.item === undefined) return { status: 404, decision, fallback, hedged };
  return { status: 200, item: legacy.item, decision, fallback, hedged };
}

/** A key result answered by new. */
export function fromNew(outcome: NewOutcome, decision: RouteDecision): KeyResult {
  if (outcome.kind === 'present')
    return { status: 200, item: outcome.item, decision, fallback: false, hedged: false };
  if (outcome.kind === 'failed' || outcome.kind === 'unmappable')
    return {
      status: 503,
      decision,
      fallback: false,
      hedged: false,
      message: outcome.message,
    };
  return { status: 404, decision, fallback: false, hedged: false };
}
