/**
 * Repair of confirmed drift (issue 5, invariants 1 and 2): the conditional write that makes the new
 * item equal `mapItem(legacy)` again without ever overwriting a CDC write that happened meanwhile.
 *
 * The repair re-reads the NEW item first (its `_dr_seq` is `found`), then the legacy item with
 * ConsistentRead, and writes under `#seq = :found` (or `attribute_not_exists(#seq)` when nothing with a
 * sequence was there), keeping `_dr_seq = found` (the metadata rule: "repair keeps the value it
 * found"), with `_dr_src = repair`. Why that is enough, numbered:
 *
 *   1. Every CDC write of a change `s` stores `_dr_seq = s`, strictly larger than what it replaces
 *      (apply rule), so any CDC write to the key after step 2 below changes `_dr_seq`.
 *   2. The repair reads new: `_dr_seq = found`.
 *   3. The repair reads legacy (consistent): state `L`, which reflects every legacy write committed
 *      before this read, in particular every write whose change is already applied in step 2's item.
 *   4a. No CDC write to the key between 2 and 5: the condition holds, new becomes `mapItem(L)` with
 *       `_dr_seq = found`. Any legacy write after 3 has a record with `s > found` and overwrites the
 *       repair later (`found < s`): the CDC value wins, and the key converges.
 *   4b. A CDC write between 2 and 5: `_dr_seq` changed, the condition fails, the repair is dropped
 *       (`lost-to-cdc`) and the CDC value stands. A later run re-checks the key.
 *   5. The repair writes.
 *   Reading new before legacy matters: reading legacy first, a write committed and applied between
 *   the two reads would be missing from `L` but present in `found`, and the repair would store the
 *   older content under the newer sequence, where no CDC write would ever fix it.
 *
 * Because the condition is on the sequence only, content comparison is not needed: a CDC write never
 * leaves the sequence unchanged. Extras (a live new item whose legacy item does not exist) and
 * resurrected items are tombstoned, not deleted: a tombstone keeps `_dr_seq`, so the apply rule still
 * refuses an older, late or replayed change for that key, while a delete would erase the guard
 * (`attribute_not_exists` would let any old change re-create the item). The read path already treats
 * tombstones as not found.
 *
 * The write and its `AUDIT#` record are one transaction (`RepairWrite`): a repair is never written
 * without its audit record, and an audit record never describes a repair that was not written. The
 * transaction is cancelled as a whole when the repair's condition fails; that cancellation is the
 * `lost-to-cdc` of step 4b, recognized by the reason of the repair's own put.
 *
 * A tombstone is written only for an item whose legacy origin is computed and absent: the new item read
 * in step 2 must give back, through `unmapItem` and `mapKey`, exactly the legacy key read in step 3.
 * When its origin cannot be computed (a mapping defect: `origin-unknown`), nothing proves it is an
 * extra, so nothing is written.
 */
import { itemHash } from './checksum';
import type { AuditRecord } from '../control';
import { DiffClass, classifyPair, expectedNewItem, originOf } from './diff';
import { RepairOutcome, type Suspect, SuspectStatus } from './recheck';
import {
  BACKFILL_SEQ,
  type MetadataNames,
  Source,
  sequenceOf,
  type Migration,
  type AttributeValue,
  type Item,
  type JsonItem,
  itemToDynamoJson,
  itemsEqual,
} from '../model';

/** A condition expression with its placeholders (the same shape as the apply rule's). */
export interface RepairConditionSpec {
  readonly expression: string;
  readonly names: Readonly<Record<string, string>>;
  readonly values: Readonly<Record<string, AttributeValue>>;
}

/** The write a repair makes (or `none`, with the reason when the class is a mapping problem). */
export type RepairPlan =
  | { readonly kind: 'none'; readonly cls: DiffClass; readonly reason?: string }
  | {
      readonly kind: 'put' | 'tombstone';
      readonly cls: DiffClass;
      readonly item: Item;
      readonly condition: RepairConditionSpec;
      /** `_dr_seq` found (and kept); undefined when there was none. */
      readonly found?: string;
      /** SHA-256 of the stored item before (`absent` when none) and of the item written. */
      readonly beforeHash: string;
      readonly afterHash: string;
    };

/** A planned write with its audit record: one transaction (both or neither). */
export interface RepairWrite {
  readonly item: Item;
  readonly condition: RepairConditionSpec;
  readonly audit: AuditRecord;
  /** Id of the `AUDIT#<iso-time>#<id>` record; also the transaction's idempotency token. */
  readonly auditId: string;
}

/** Who repairs what, for the audit record. */
export interface RepairContext {
  readonly migrationId: string;
  readonly runId: string;
  readonly actor: string;
  /** The suspect's legacy key (DynamoDB JSON; `{}` when it has none). */
  readonly legacyKey: JsonItem;
  readonly newKey: Item;
}

/** The `AUDIT#` record of a planned write (`action: verify-repair`). */
export function repairAudit(
  plan: Extract<RepairPlan, { kind: 'put' | 'tombstone' }>,
  ctx: RepairContext,
  now: number,
): AuditRecord {
  return {
    migrationId: ctx.migrationId,
    at: now,
    actor: ctx.actor,
    action: 'verify-repair',
    reason: `verification run ${ctx.runId} repaired confirmed ${plan.cls}`,
    detail: {
      runId: ctx.runId,
      class: plan.cls,
      write: plan.kind,
      key: JSON.stringify(ctx.legacyKey),
      newKey: JSON.stringify(itemToDynamoJson(ctx.newKey)),
      beforeHash: plan.beforeHash,
      afterHash: plan.afterHash,
      keptSeq: plan.found ?? 'none',
    },
  };
}

/** The condition that loses to any CDC write since `found` was read. */
export function repairCondition(found: string | undefined, names: MetadataNames): RepairConditionSpec {
  if (found === undefined)
    return { expression: 'attribute_not_exists(#seq)', names: { '#seq': names.seq }, values: {} };
  return { expression: '#seq = :found', names: { '#seq': names.seq }, values: { ':found': { S: found } } };
}

/** What the repair read, in its order: new first (`current`), then legacy. */
export interface RepairReads {
  /** The new-table key. */
  readonly newKey: Item;
  /** The legacy key whose item was read (`{}` when the suspect has none). */
  readonly legacyKey: Item;
  /** The legacy item (ConsistentRead, read second); undefined when absent or not read. */
  readonly legacy: Item | undefined;
  /** The new item as stored (ConsistentRead, read first); undefined when absent. */
  readonly current: Item | undefined;
}

/** Plans the repair of one key from fresh reads of new (first) and legacy (second). */
export function planRepair(
  migration: Migration,
  names: MetadataNames,
  reads: RepairReads,
  now: number,
): RepairPlan {
  const { newKey, legacyKey, legacy, current } = reads;
  let expected: Item | undefined;
  if (legacy !== undefined) {
    const e = expectedNewItem(migration, legacy, names);
    if ('unmappable' in e) return { kind: 'none', cls: DiffClass.UNMAPPABLE, reason: e.unmappable };
    expected = e.item;
  }
  const cls = classifyPair(expected, current, names);
  if (cls === DiffClass.MATCH) return { kind: 'none', cls };
  if (expected === undefined && current !== undefined) {
    // About to tombstone a live item: only when its origin is computed and is the legacy key read.
    const origin = originOf(migration, current, names);
    if ('unknown' in origin) return { kind: 'none', cls: DiffClass.ORIGIN_UNKNOWN, reason: origin.unknown };
    if (!itemsEqual(origin.key, legacyKey))
      return {
        kind: 'none',
        cls: DiffClass.ORIGIN_UNKNOWN,
        reason: 'the new item now comes from another legacy key than the one read',
      };
  }
  const found = current === undefined ? undefined : sequenceOf(current, names);
  const meta: Item = {
    [names.seq]: { S: found ?? BACKFILL_SEQ },
    [names.src]: { S: Source.REPAIR },
    [names.ts]: { N: String(Math.trunc(now)) },
  };
  const item: Item =
    expected !== undefined ? { ...expected, ...meta } : { ...newKey, ...meta, [names.del]: { BOOL: true } };
  return {
    kind: expected !== undefined ? 'put' : 'tombstone',
    cls,
    item,
    condition: repairCondition(found, names),
    ...(found !== undefined ? { found } : {}),
    beforeHash: current === undefined ? 'absent' : itemHash(current),
    afterHash: itemHash(item),
  };
}

/**
 * The suspect as the repair step stores it when its plan writes nothing: a live item whose origin cannot
 * be computed now is a mapping defect, not an extra to tombstone (`skipped`, with the reason); an item
 * `mapItem` now refuses is `skipped`; anything else was `already-fixed` (e.g. CDC wrote the key).
 */
export function unwrittenRepair(s: Suspect, plan: Extract<RepairPlan, { kind: 'none' }>): Suspect {
  if (plan.cls === DiffClass.ORIGIN_UNKNOWN)
    return {
      ...s,
      class: plan.cls,
      status: SuspectStatus.MAPPING_DEFECT,
      repair: RepairOutcome.SKIPPED,
      ...(plan.reason !== undefined ? { reason: plan.reason } : {}),
    };
  return {
    ...s,
    repair: plan.cls === DiffClass.UNMAPPABLE ? RepairOutcome.SKIPPED : RepairOutcome.ALREADY_FIXED,
  };
}
