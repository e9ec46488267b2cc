/**
 * Poisoned keys and what "backfill complete" means.
 *
 * The read path takes "backfill complete" as proof that a key absent from the new table does not
 * exist (docs/correctness.md "Read safety", condition 4). That is only true when every legacy item
 * the scan saw is in new (copied, or present from CDC). So the keys known not to be there are kept as
 * `BACKFILL_POISON#` control items (the registry), each `unresolved` until one of:
 *
 * - a retry (the backfill's `retry` poison operation, after a fix) reads the legacy item consistently
 *   and writes it under rule 3: `copied`, `present-in-new` (something dualread wrote holds the key),
 *   `absent-in-legacy` (deleted since: absence is then the truth), `kept-foreign` (`foreignItems: keep`);
 * - an operator waives it (`waived`, audited with actor and reason): the key is then deliberately not
 *   migrated and reads may answer it as absent from new.
 *
 * Two sources register keys: the backfill's page worker (a poison item), and the waiver of a
 * dead-lettered stream record (`waiveRecord`: its INSERT may never have reached new, and with the
 * record waived the frontier passes it).
 *
 * STATE carries the count (`backfill.unresolved`) and the status: when every segment is scanned the
 * backfill is COMPLETE only with no unresolved key, else COMPLETE_WITH_POISON, which the read path
 * does not take as complete. The count is recomputed from the registry with a versioned STATE write
 * (finish, and after every retry or waiver), and a registration after completion bumps STATE in the
 * same transaction, so a count can be too high for a moment (reads go to legacy: safe) but never too
 * low: a registration either precedes the recount's read of STATE (and is listed) or conflicts with
 * its write (and the recount runs again).
 */
import { createHash } from 'node:crypto';
import { BackfillStatus, type MigrationState } from '../control';
import { type Item, type JsonItem, canonicalItem } from '../model';

/** Lifecycle of a registered key. A record without `status` (written before it existed) is unresolved. */
export const PoisonStatus = { UNRESOLVED: 'unresolved', RESOLVED: 'resolved' } as const;
export type PoisonStatus = (typeof PoisonStatus)[keyof typeof PoisonStatus];

/** How a key stopped being unresolved. */
export const PoisonResolution = {
  COPIED: 'copied',
  PRESENT_IN_NEW: 'present-in-new',
  ABSENT_IN_LEGACY: 'absent-in-legacy',
  KEPT_FOREIGN: 'kept-foreign',
  WAIVED: 'waived',
} as const;
export type PoisonResolution = (typeof PoisonResolution)[keyof typeof PoisonResolution];

/** Who registered the key. */
export const PoisonOrigin = { BACKFILL: 'backfill', CDC_WAIVER: 'cdc-waiver' } as const;
export type PoisonOrigin = (typeof PoisonOrigin)[keyof typeof PoisonOrigin];

/** A `BACKFILL_POISON#` control item. */
export interface PoisonRecord {
  /** The legacy key, DynamoDB JSON. */
  readonly key: JsonItem;
  /** Why the key is not in new (the latest reason, after a failed retry). */
  readonly reason: string;
  /** Epoch ms of the registration. */
  readonly at: number;
  /** @default backfill */
  readonly origin?: PoisonOrigin;
  /** Scan segment and run of a backfill poison item. */
  readonly segment?: number;
  readonly runId?: string;
  /** The waived stream record (padded sequence number) of a `cdc-waiver` registration. */
  readonly sequenceNumber?: string;
  /** @default unresolved */
  readonly status?: PoisonStatus;
  readonly resolution?: PoisonResolution;
  readonly resolvedAt?: number;
  readonly resolvedBy?: string;
  /** Retries that found the key still poison. */
  readonly retries?: number;
}

/** Whether the key still counts against completion. */
export function isUnresolved(record: Pick<PoisonRecord, 'status'>): boolean {
  return (record.status ?? PoisonStatus.UNRESOLVED) === PoisonStatus.UNRESOLVED;
}

/** A short stable id of a legacy key (the poison item's sort key). */
export function poisonKeyHash(legacyKey: Item): string {
  return createHash('sha256').update(canonicalItem(legacyKey)).digest('hex').slice(0, 32);
}

/** Whether every segment has been scanned (the status is one of the two completions). */
export function isScanFinished(status: string): boolean {
  return status === BackfillStatus.COMPLETE || status === BackfillStatus.COMPLETE_WITH_POISON;
}

/** The completion status for `unresolved` keys. */
export function completionStatus(
  unresolved: number,
): typeof BackfillStatus.COMPLETE | typeof BackfillStatus.COMPLETE_WITH_POISON {
  return unresolved > 0 ? BackfillStatus.COMPLETE_WITH_POISON : BackfillStatus.COMPLETE;
}

/**
 * STATE's backfill after a registration or resolution changed the unresolved count by `delta`: only a
 * finished scan has a count and a completion status to keep; before, the finish step counts.
 */
export function backfillAfter(
  backfill: MigrationState['backfill'],
  delta: number,
): MigrationState['backfill'] {
  if (!isScanFinished(backfill.status)) return backfill;
  const unresolved = Math.max(0, (backfill.unresolved ?? 0) + delta);
  return { ...backfill, unresolved, status: completionStatus(unresolved) };
}

/**
 * The read path's routing input "backfill complete": COMPLETE with nothing unresolved. A STATE written
 * before `unresolved` existed counts its poison items as unresolved.
 */
export function isBackfillComplete(state: Pick<MigrationState, 'backfill'> | undefined): boolean {
  if (state?.backfill.status !== BackfillStatus.COMPLETE) return false;
  return (state.backfill.unresolved ?? state.backfill.poison ?? 0) === 0;
}
