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
 * Or an operator pins it to legacy (`pinned`, audited like a waiver): the key is deliberately not
 * migrated YET, and legacy keeps serving it while legacy exists. A pinned key counts as settled for
 * completion only because the read path routes every read of it to legacy (STATE carries the pinned
 * key hashes, `pins`, written by the same recount that drops the unresolved count, so a key is never
 * settled in STATE before its pin is); FINALIZED is refused while any key is pinned (there is no
 * legacy to serve it then). A retry still examines pinned keys (a fixed mapping copies them, an item
 * removed from legacy settles as absent): a settled pin leaves STATE at the next recount. Pins are
 * bounded (`MAX_PINS`): STATE carries them, and more is a mapping to fix, not keys to pin.
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
import { BackfillStatus, type MigrationState, type PinnedKeys } from '../control';
import { type Item, type JsonItem, canonicalItem, itemFromDynamoJson } from '../model';
import { BackfillError } from './errors';

/** Lifecycle of a registered key. A record without `status` (written before it existed) is unresolved. */
export const PoisonStatus = { UNRESOLVED: 'unresolved', RESOLVED: 'resolved', PINNED: 'pinned' } as const;
export type PoisonStatus = (typeof PoisonStatus)[keyof typeof PoisonStatus];

/** How a key stopped being unresolved. */
export const PoisonResolution = {
  COPIED: 'copied',
  PRESENT_IN_NEW: 'present-in-new',
  ABSENT_IN_LEGACY: 'absent-in-legacy',
  KEPT_FOREIGN: 'kept-foreign',
  WAIVED: 'waived',
  /** Pinned to legacy: not migrated yet, served by legacy (status `pinned` until a retry settles it). */
  PINNED: 'pinned',
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
  /** Why an operator pinned the key to legacy (status `pinned`). */
  readonly pinReason?: string;
  /** Hash of the legacy partition key alone (`partitionKeyHash`), set when the key is pinned. */
  readonly partitionHash?: string;
}

/** Most keys that may be pinned to legacy at once (STATE carries their hashes). */
export const MAX_PINS = 1000;

/** Pinning would exceed `MAX_PINS`. */
export class TooManyPinsError extends BackfillError {
  constructor(
    readonly migrationId: string,
    readonly pinned: number,
    readonly requested: number,
  ) {
    super(
      `migration "${migrationId}": ${pinned} key(s) are pinned to legacy and pinning ${requested} more would pass the ` +
        `limit of ${MAX_PINS}; so many keys mapItem refuses is a defect of the mapping: fix the mapping instead ` +
        '(then `dualread backfill poison retry` / `dualread dlq replay`), or remove the items from legacy',
    );
  }
}

/** Whether the key is pinned to legacy. */
export function isPinned(record: Pick<PoisonRecord, 'status'>): boolean {
  return record.status === PoisonStatus.PINNED;
}

/** Whether a retry examines the key: unresolved or pinned (a pin stays until a retry settles it). */
export function isRetryable(record: Pick<PoisonRecord, 'status'>): boolean {
  return isUnresolved(record) || isPinned(record);
}

/** The hash of a legacy key's partition key alone: what a base-table query names. */
export function partitionKeyHash(legacyKey: Item, partitionKeyName: string): string {
  const value = legacyKey[partitionKeyName];
  return poisonKeyHash(value === undefined ? {} : { [partitionKeyName]: value });
}

/**
 * STATE's `pins` from the pinned registry items (sorted, distinct: a key pinned both as a backfill
 * poison item and as a waived record's key counts once). Every pinned item carries its partition hash
 * (the registry's `pin` writes it with the status).
 */
export function pinsOf(records: ReadonlyArray<Pick<PoisonRecord, 'key' | 'partitionHash'>>): PinnedKeys {
  const keys = new Set<string>();
  const partitions = new Set<string>();
  for (const r of records) {
    keys.add(poisonKeyHash(itemFromDynamoJson(r.key)));
    if (r.partitionHash === undefined)
      throw new BackfillError(`pinned key ${JSON.stringify(r.key)} has no partition hash: pin it again`);
    partitions.add(r.partitionHash);
  }
  return { keys: [...keys].sort(), partitions: [...partitions].sort() };
}

/** Whether two `pins` are the same sets (both sorted by `pinsOf`). */
export function samePins(a: PinnedKeys | undefined, b: PinnedKeys | undefined): boolean {
  const ak = a?.keys ?? [];
  const bk = b?.keys ?? [];
  const ap = a?.partitions ?? [];
  const bp = b?.partitions ?? [];
  return (
    ak.length === bk.length &&
    ap.length === bp.length &&
    ak.every((k, i) => k === bk[i]) &&
    ap.every((p, i) => p === bp[i])
  );
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
