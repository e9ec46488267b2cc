/**
 * The control table's data model (docs/design.md §3): keys, phases and the shapes of the control items.
 * Control items hold only the system's own values (safe integers, strings, booleans), encoded by
 * `control-codec.ts`; user data never goes here except as DynamoDB JSON (e.g. sample keys).
 */

/** Migration phases in forward order (docs/design.md §5). */
export const Phase = {
  LEGACY_ONLY: 'LEGACY_ONLY',
  BACKFILLING: 'BACKFILLING',
  SHADOW: 'SHADOW',
  DUAL_READ: 'DUAL_READ',
  NEW_PRIMARY: 'NEW_PRIMARY',
  FINALIZED: 'FINALIZED',
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

/** Phases in forward order (the order `Phase` declares them in). */
export const PHASE_ORDER: readonly Phase[] = Object.values(Phase);

/**
 * Backfill lifecycle. COMPLETE means every legacy item the scan saw is in new (copied, or present from
 * CDC) or its key was waived by an operator; COMPLETE_WITH_POISON means every segment is scanned but
 * some keys are unresolved (`BACKFILL_POISON#` items: poison, or a waived dead-lettered CDC record),
 * so a key absent from new proves nothing yet (core/backfill/poison.ts).
 */
export const BackfillStatus = {
  NOT_STARTED: 'NOT_STARTED',
  RUNNING: 'RUNNING',
  COMPLETE: 'COMPLETE',
  COMPLETE_WITH_POISON: 'COMPLETE_WITH_POISON',
  FAILED: 'FAILED',
} as const;
export type BackfillStatus = (typeof BackfillStatus)[keyof typeof BackfillStatus];

/**
 * How the backfill treats items of the new table that dualread did not write (no `_dr_seq`); chosen by
 * the operator at the start of a run and kept in STATE for it (core/backfill/foreign.ts).
 */
export const ForeignItems = { REFUSE: 'refuse', OVERWRITE: 'overwrite', KEEP: 'keep' } as const;
export type ForeignItems = (typeof ForeignItems)[keyof typeof ForeignItems];

/** Sort keys of control items. */
export const ControlKey = {
  STATE: 'STATE',
  FRONTIER: 'FRONTIER',
  BACKFILL_LOCK: 'LOCK#BACKFILL',
  VERIFY_LOCK: 'LOCK#VERIFY',
  shard: (shardId: string) => `SHARD#${shardId}`,
  segment: (n: number) => `SEGMENT#${String(n).padStart(6, '0')}`,
  verify: (runId: string) => `VERIFY#${runId}`,
  audit: (isoTime: string, id: string) => `AUDIT#${isoTime}#${id}`,
  progress: (marker: string) => `PROGRESS#${marker}`,
  /** Written by the local stream poller while it consumes the legacy stream (see core/cdc/consuming.ts). */
  CDC_CONSUMER: 'CDC#CONSUMER',
  /** A legacy item the backfill could not copy (mapItem threw, or the write was refused), with its reason. */
  backfillPoison: (segment: number, keyHash: string) =>
    `BACKFILL_POISON#${String(segment).padStart(6, '0')}#${keyHash}`,
  /** The key of a dead-lettered stream record an operator waived: unresolved like a poisoned key. */
  waivedRecordPoison: (keyHash: string) => `BACKFILL_POISON#CDC#${keyHash}`,
} as const;

/** Partition key of a migration's control items. */
export function controlPk(migrationId: string): string {
  return `MIGRATION#${migrationId}`;
}

/** Operator controls shared by backfill and verification. */
export interface RunControls {
  /** Stop copying/verifying at the next page boundary until cleared. */
  readonly paused: boolean;
  /** Items per second across all segments; 0 = unlimited. */
  readonly rateLimitPerSecond: number;
}

/** The backfill's adaptive rate (core/backfill/rate.ts), kept in `STATE.backfill.rate`. */
export interface BackfillRate {
  /** The most the run copies, items/s across all segments; 0 = no ceiling. */
  readonly ceiling: number;
  /** The rate in force, items/s across all segments (≤ ceiling); 0 = unlimited. */
  readonly inForce: number;
  /** Where the ceiling came from, in words (capacity figures, or the migration's setting). */
  readonly basis: string;
  /** Times the rate was lowered because of throttling. */
  readonly throttles: number;
  /** Epoch ms of the last change (raise or lower). */
  readonly changedAt: number;
  /** Epoch ms of the last lowering. */
  readonly loweredAt?: number;
}

/** The `STATE` item. `version` increments on every change (optimistic locking). */
export interface MigrationState {
  readonly migrationId: string;
  readonly phase: Phase;
  readonly rolloutPercent: number;
  readonly backfill: {
    readonly status: BackfillStatus;
    readonly startedAt?: number;
    readonly completedAt?: number;
    readonly copied?: number;
    readonly skipped?: number;
    /** The backfill run (lock owner) that last started, resumed, completed or failed it. */
    readonly runId?: string;
    /** Legacy items the backfill could not copy (recorded as `BACKFILL_POISON#` items). */
    readonly poison?: number;
    /** How the run treats items of the new table dualread did not write (core/backfill/foreign.ts). */
    readonly foreignItems?: ForeignItems;
    /** Legacy items not copied because a foreign item holds their key and `foreignItems` is `keep`. */
    readonly keptForeign?: number;
    /**
     * Keys whose legacy item is known not to be in new (unresolved `BACKFILL_POISON#` items), counted
     * when the scan finished and kept exact by every later registration, retry and waiver.
     */
    readonly unresolved?: number;
    /**
     * Keys pinned to legacy (`BACKFILL_POISON#` items with status `pinned`): deliberately not migrated
     * yet, served by legacy while legacy exists (`pins` below); counted by every recount.
     */
    readonly pinned?: number;
    /** The run's adaptive rate: ceiling, rate in force and why (core/backfill/rate.ts). */
    readonly rate?: BackfillRate;
  };
  readonly controls: RunControls;
  /** Epoch ms since which the sync Lambda has been consuming from TRIM_HORIZON, if it has. */
  readonly cdcConsumingSince?: number;
  /** When the current phase was entered (epoch ms; set by the control plane). */
  readonly phaseSince?: number;
  /** When `rolloutPercent` last changed (epoch ms; set by the control plane): the soak counts from it. */
  readonly rolloutSince?: number;
  /** Named approvals given in the current phase; a phase change clears them. */
  readonly approvals?: readonly Approval[];
  /** Operator overrides of the migration's read settings, applied by the read path within its cache interval. */
  readonly settings?: ControlOverrides;
  /**
   * The keys pinned to legacy, as the read path routes them (core/read/pins.ts): written by the
   * registry's recount from the `BACKFILL_POISON#` items, bounded (core/backfill/poison.ts `MAX_PINS`).
   */
  readonly pins?: PinnedKeys;
  readonly version: number;
  readonly updatedAt: number;
  readonly updatedBy: string;
}

/** Hashes of the keys pinned to legacy (`poisonKeyHash` of the legacy key, and of its partition key alone). */
export interface PinnedKeys {
  /** One per pinned key: the hash of the whole legacy key. */
  readonly keys: readonly string[];
  /** The distinct hashes of the pinned keys' legacy partition keys (a base-table query's partition). */
  readonly partitions: readonly string[];
}

/** A named approval for entering `phase` (docs/design.md §5). */
export interface Approval {
  readonly phase: Phase;
  readonly actor: string;
  readonly at: number;
  readonly reason: string;
}

/**
 * What an operator may change at run time without a deployment (`dualread rollout`, `settings`).
 * Unset fields fall back to the migration's definition.
 */
export interface ControlOverrides {
  readonly stalenessBudgetMs?: number;
  readonly shadowSampleRate?: number;
  /** `legacy`, `shadow`, `bounded` or `strong` (never `new`: it proves no freshness). */
  readonly defaultConsistency?: string;
  /** false: alarms do not roll this migration back (the team watches it by hand). */
  readonly autoRollback?: boolean;
  /**
   * Per query surface (by name): `rollout`, a limit (0–100 %) on the DUAL_READ rollout for that
   * surface's queries (`dualread rollout --surface <name> --percent N`); the lower of the two applies.
   */
  readonly surfaces?: Readonly<Record<string, { readonly rollout?: number }>>;
}

/** The initial state of a migration that has never been touched. */
export function initialState(migrationId: string, rateLimitPerSecond: number, now: number): MigrationState {
  return {
    migrationId,
    phase: Phase.LEGACY_ONLY,
    rolloutPercent: 0,
    backfill: { status: BackfillStatus.NOT_STARTED },
    controls: { paused: false, rateLimitPerSecond },
    version: 0,
    updatedAt: now,
    updatedBy: 'system',
  };
}

/** Per-shard detail of the frontier. */
export interface ShardFrontier {
  readonly shardId: string;
  /** Epoch ms up to which every record of this shard is known applied. */
  readonly caughtUpTo: number;
  readonly closed: boolean;
  /** Last sequence number known applied on this shard. */
  readonly appliedThrough?: string;
  /** Records pending application (lag), and records held by the dead-letter queue. */
  readonly pending: number;
  readonly deadLettered: number;
  /** Lineage: the shard this one was split from, if the tracker knows it. */
  readonly parentShardId?: string;
  /** `active`, `waiting` (its parent is still draining) — complete shards are left out. */
  readonly status?: string;
  /** Padded sequence number of the first record not known applied (what holds this shard back). */
  readonly firstUnapplied?: string;
  /** Assumption violations counted on this shard (see core/frontier/violations.ts). */
  readonly violations?: number;
}

/**
 * A stream gap (core/frontier/gap.ts): records of the legacy stream trimmed before a reader read them.
 * Their writes may be missing, stale or resurrected in new; while the gap is open `F` does not move and
 * no phase advances. It closes when a verification that started after `openedAt` ends clean
 * (`dualread recover stream-gap`).
 */
export interface StreamGap {
  /** When the tracker found the loss (epoch ms): every lost write was made before it. */
  readonly openedAt: number;
  /** `F` when the gap opened: it is published no higher until the gap closes. */
  readonly frozenAt: number;
  /** Shards whose reads hit the trim horizon (or a closed shard trimmed before it was read to its end). */
  readonly shards: readonly string[];
  /** Times the loss was found (one per shard read that hit the horizon). */
  readonly detections: number;
  /**
   * `F` as the tracker computes it from the records still in the stream (those after the horizon), not
   * published: the verification's re-check waits on it while the gap is open, so the drift the lost
   * records left is confirmed and repaired instead of ending `unconfirmed-lag`.
   */
  readonly cdcFrontier: number;
  /** Set when it closed: when, by whom, and the clean verification that closed it. */
  readonly closedAt?: number;
  readonly closedBy?: string;
  readonly closedByRun?: string;
}

/** The `FRONTIER` item: every legacy write older than `frontier` is applied to the new table. */
export interface FrontierState {
  readonly migrationId: string;
  /** Epoch ms. 0 = nothing proven yet. */
  readonly frontier: number;
  readonly computedAt: number;
  readonly shards: readonly ShardFrontier[];
  readonly version: number;
  /** Assumption violations counted by the tracker, by kind (see core/frontier/violations.ts). */
  readonly violations?: Readonly<Record<string, number>>;
  /** The last stream gap (open while `closedAt` is unset): see `StreamGap`. */
  readonly gap?: StreamGap;
}

/** An `AUDIT#` item: who did what, from which state to which, why. */
export interface AuditRecord {
  readonly migrationId: string;
  readonly at: number;
  readonly actor: string;
  readonly action: string;
  readonly reason: string;
  readonly from?: string;
  readonly to?: string;
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}
