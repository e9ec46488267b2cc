/**
 * The read Lambda's cache of control state (STATE and FRONTIER), refreshed at most every
 * `read.controlCacheMs` (default 1 s). Its age is counted in every staleness bound, from the START of
 * the control read that produced it (the values may be that old), so caching can only make a bounded
 * read go to legacy sooner, never serve an older state than promised.
 *
 * Stale-while-revalidate with a bounded wait: a read that finds the snapshot expired starts a refresh
 * (one at a time) and waits for it at most `waitMs` (default 50 ms). If the control table has not
 * answered by then, the read routes on the last snapshot, whose age keeps growing (so bounded reads
 * drift to legacy once the age eats the budget), or, with no snapshot at all, on the empty one (every
 * read goes to legacy, `CONTROL_UNAVAILABLE`). A slow or failing control table therefore never stalls
 * or fails a read that legacy can answer. A refresh still running after `refreshTimeoutMs` is
 * abandoned so that the next read starts a new one, and an answer that arrives late never replaces a
 * snapshot from a later read.
 */
import { isBackfillComplete } from '../../core/backfill';
import type { FrontierState, MigrationState } from '../../core/control';
import { NO_PINS, type PinIndex, pinIndex } from '../../core/read';

/** Where control state comes from (`ControlStore` satisfies it). */
export interface ControlSource {
  getState(): Promise<MigrationState | undefined>;
  getFrontier(): Promise<FrontierState | undefined>;
}

/** What the read path needs from control state. */
export interface ControlSnapshot {
  readonly state?: MigrationState;
  /** Frontier F, epoch ms (0 = none). */
  readonly frontier: number;
  readonly backfillComplete: boolean;
  /** The keys pinned to legacy, from STATE's `pins` (core/read/pins.ts): no registry read per request. */
  readonly pins: PinIndex;
  /** When the control read that produced it STARTED (epoch ms); 0 if never. */
  readonly fetchedAt: number;
}

/** Tunables of the cache's waiting. */
export interface ControlCacheOptions {
  /** Longest a read waits for a refresh before routing on the last snapshot. @default 50 ms */
  readonly waitMs?: number;
  /** A refresh still running after this is abandoned (the next read starts a new one). @default 2000 ms */
  readonly refreshTimeoutMs?: number;
}

/** Defaults of `ControlCacheOptions`. */
export const DEFAULT_CONTROL_WAIT_MS = 50;
export const DEFAULT_CONTROL_REFRESH_TIMEOUT_MS = 2_000;

const EMPTY: ControlSnapshot = { frontier: 0, backfillComplete: false, pins: NO_PINS, fetchedAt: 0 };

/** A timer that does not keep the process alive. */
function delay(ms: number): { promise: Promise<void>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref?.();
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

/** Single-flight, time-bounded, stale-while-revalidate cache of one migration's control state. */
export class ControlCache {
  private snapshot: ControlSnapshot = EMPTY;
  private inflight: Promise<ControlSnapshot> | undefined;
  private readonly waitMs: number;
  private readonly refreshTimeoutMs: number;
  /** Last refresh error, for logs. */
  lastError: unknown;

  constructor(
    private readonly source: ControlSource,
    private readonly ttlMs: number,
    private readonly now: () => number,
    options: ControlCacheOptions = {},
  ) {
    this.waitMs = options.waitMs ?? DEFAULT_CONTROL_WAIT_MS;
    this.refreshTimeoutMs = options.refreshTimeoutMs ?? DEFAULT_CONTROL_REFRESH_TIMEOUT_MS;
  }

  /**
   * The snapshot, refreshed first if older than the TTL, waiting for the refresh at most `waitMs`;
   * after that, the last snapshot (or the empty one). Never throws.
   */
  async get(): Promise<ControlSnapshot> {
    if (this.snapshot.fetchedAt > 0 && this.now() - this.snapshot.fetchedAt < this.ttlMs)
      return this.snapshot;
    const refreshing = this.refresh();
    const wait = delay(this.waitMs);
    try {
      return await Promise.race([refreshing, wait.promise.then(() => this.snapshot)]);
    } finally {
      wait.cancel();
    }
  }

  /**
   * Re-reads control state now (single flight) and waits for it, at most `refreshTimeoutMs`. Never
   * throws: on failure or timeout the last snapshot stays.
   */
  refresh(): Promise<ControlSnapshot> {
    if (this.inflight) return this.inflight;
    const startedAt = this.now();
    const read = Promise.all([this.source.getState(), this.source.getFrontier()]).then(
      ([state, frontier]) => {
        // A late answer from an abandoned read must not replace a snapshot read after it started.
        if (startedAt >= this.snapshot.fetchedAt) {
          this.snapshot = {
            ...(state ? { state } : {}),
            frontier: frontier?.frontier ?? 0,
            // COMPLETE with no unresolved key (poison not retried or waived): see core/backfill/poison.ts.
            backfillComplete: isBackfillComplete(state),
            // The keys pinned to legacy come with STATE (bounded: core/backfill/poison.ts MAX_PINS).
            pins: pinIndex(state?.pins),
            // The age counts from the start of the read: the values may be that old.
            fetchedAt: startedAt,
          };
          this.lastError = undefined;
        }
        return this.snapshot;
      },
      (err: unknown) => {
        this.lastError = err;
        return this.snapshot;
      },
    );
    const timeout = delay(this.refreshTimeoutMs);
    const flight = Promise.race([
      read,
      timeout.promise.then(() => {
        this.lastError = new Error(`control state read did not answer within ${this.refreshTimeoutMs} ms`);
        return this.snapshot;
      }),
    ]).finally(() => {
      timeout.cancel();
      if (this.inflight === flight) this.inflight = undefined;
    });
    this.inflight = flight;
    return flight;
  }

  /** The frontier of the current snapshot (no refresh). */
  peekFrontier(): number {
    return this.snapshot.frontier;
  }

  /** Whether the current snapshot says the backfill is complete (no refresh). */
  peekBackfillComplete(): boolean {
    return this.snapshot.backfillComplete;
  }

  /** The keys pinned to legacy in the current snapshot (no refresh). */
  peekPins(): PinIndex {
    return this.snapshot.pins;
  }

  /** Age of a snapshot at `at`: how old its values may be. */
  static ageOf(snapshot: ControlSnapshot, at: number): number {
    return snapshot.fetchedAt > 0 ? Math.max(0, at - snapshot.fetchedAt) : 0;
  }
}
