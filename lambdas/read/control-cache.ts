/**
 * The read Lambda's cache of control state (STATE and FRONTIER), refreshed at most every
 * `read.controlCacheMs` (default 1 s). Its age is counted in every staleness bound, so caching can
 * only make a bounded read go to legacy sooner, never serve an older state than promised. A control
 * table that cannot be read never fails a read: the last snapshot keeps ageing (bounded reads then
 * fall back to legacy) and with no snapshot at all every read goes to legacy.
 */
import { isBackfillComplete } from '../../core/backfill-poison';
import type { FrontierState, MigrationState } from '../../core/control';

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
  /** When it was read (epoch ms); 0 if never. */
  readonly fetchedAt: number;
}

const EMPTY: ControlSnapshot = { frontier: 0, backfillComplete: false, fetchedAt: 0 };

/** Single-flight, time-bounded cache of one migration's control state. */
export class ControlCache {
  private snapshot: ControlSnapshot = EMPTY;
  private inflight: Promise<ControlSnapshot> | undefined;
  /** Last refresh error, for logs. */
  lastError: unknown;

  constructor(
    private readonly source: ControlSource,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  /** The snapshot, refreshed first if older than the TTL. Never throws. */
  async get(): Promise<ControlSnapshot> {
    if (this.snapshot.fetchedAt > 0 && this.now() - this.snapshot.fetchedAt < this.ttlMs)
      return this.snapshot;
    return this.refresh();
  }

  /** Re-reads control state now (single flight). Never throws: on failure the old snapshot stays. */
  refresh(): Promise<ControlSnapshot> {
    if (!this.inflight) {
      const startedAt = this.now();
      this.inflight = Promise.all([this.source.getState(), this.source.getFrontier()])
        .then(([state, frontier]) => {
          this.snapshot = {
            ...(state ? { state } : {}),
            frontier: frontier?.frontier ?? 0,
            // COMPLETE with no unresolved key (poison not retried or waived): see core/backfill-poison.ts.
            backfillComplete: isBackfillComplete(state),
            // The age counts from the start of the read: the values may be that old.
            fetchedAt: startedAt,
          };
          this.lastError = undefined;
          return this.snapshot;
        })
        .catch((err: unknown) => {
          this.lastError = err;
          return this.snapshot;
        })
        .finally(() => {
          this.inflight = undefined;
        });
    }
    return this.inflight;
  }

  /** The frontier of the current snapshot (no refresh). */
  peekFrontier(): number {
    return this.snapshot.frontier;
  }

  /** Age of a snapshot at `at`: how old its values may be. */
  static ageOf(snapshot: ControlSnapshot, at: number): number {
    return snapshot.fetchedAt > 0 ? Math.max(0, at - snapshot.fetchedAt) : 0;
  }
}
