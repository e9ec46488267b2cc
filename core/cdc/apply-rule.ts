/**
 * The apply rule (docs/correctness.md, "Apply rule"): how one stream change becomes a conditional write to the new table,
 * and how a rejected write is read.
 *
 * A change with sequence number `s` is written under
 *
 *     attribute_not_exists(#seq) OR #seq < :seq
 *
 * INSERT/MODIFY write `mapItem(NewImage)` plus metadata; REMOVE writes a tombstone (the new key,
 * `_dr_del = true`, metadata, and `_dr_ttl` once backfill is complete plus a margin). Because every
 * write carries its own `_dr_seq` and only ever replaces a smaller one, the stored item is always the
 * image of the largest sequence number applied so far for that key: duplicates and replays are
 * no-ops, an older change never overwrites a newer one, and a backfill write (`BACKFILL_SEQ`, forty
 * zeros, under `attribute_not_exists`) loses to every change. A rejected condition is therefore
 * "stale or duplicate: skipped", counted, never an error.
 *
 * What the rule assumes beyond DynamoDB's documentation is that sequence numbers of one item increase
 * with the order of its writes, also across shards (DynamoDB documents per-item order of the records,
 * not the comparability of sequence numbers across shards). `classifySkip` and `findSeqRegressions`
 * (order-violations.ts) detect violations of that assumption where they are observable; see
 * docs/correctness.md.
 */
import { DualReadError } from '../common';
import {
  BACKFILL_SEQ,
  type MetadataNames,
  Source,
  metadataNames,
  padSequence,
  sequenceOf,
  mappedKeyProblem,
  safeCanonical,
  type Migration,
  type AttributeValue,
  type Item,
  assertItem,
  mergeItems,
} from '../model';
import { classifySkip, type SkipReason } from './order-violations';
import { ChangeKind, type StreamChange } from './stream-change';

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/** Base of the apply rule's errors. */
export class ApplyRuleError extends DualReadError {}

/**
 * The new table already holds this change or a newer one for the key: the condition failed. Not a
 * failure: the change is skipped. `stored` is the item the condition saw (from
 * `ReturnValuesOnConditionCheckFailure: ALL_OLD`), when the store returned it.
 */
export class StaleChangeError extends ApplyRuleError {
  constructor(
    readonly sequence: string,
    readonly stored: Item | undefined,
  ) {
    super(`change ${sequence} is stale or a duplicate: the new item holds it or a newer change; skipped`);
  }
}

/**
 * The change cannot be applied as it stands (a poison record): `mapItem` threw, returned an invalid
 * item, moved the key, or the record lacks what the rule needs. Retrying will not help; it goes to the
 * dead-letter queue with this message once its retries are exhausted.
 */
export class UnappliableChangeError extends ApplyRuleError {
  constructor(
    readonly migrationId: string,
    readonly sequence: string,
    problem: string,
  ) {
    super(
      `migration "${migrationId}", stream record ${sequence}: ${problem}. ` +
        'Fix the mapping (or the legacy item) and replay the record from the dead-letter queue.',
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Conditions, built from named parts
// ---------------------------------------------------------------------------------------------

/** A condition expression with its placeholders. */
export interface ConditionSpec {
  readonly expression: string;
  readonly names: Readonly<Record<string, string>>;
  readonly values: Readonly<Record<string, AttributeValue>>;
}

/** No change has written this key yet (nothing there, or only an item without metadata). */
const absent = 'attribute_not_exists(#seq)';
/** What is stored comes from an older change (or from backfill: forty zeros). */
const older = '#seq < :seq';

/** The apply rule's condition for a change with padded sequence `seq`. */
export function applyCondition(seq: string, names: MetadataNames): ConditionSpec {
  return {
    expression: `${absent} OR ${older}`,
    names: { '#seq': names.seq },
    values: { ':seq': { S: seq } },
  };
}

/** Backfill's condition: write only where no item or tombstone exists (rule 3; docs/correctness.md). */
export function backfillCondition(names: MetadataNames): ConditionSpec {
  return { expression: absent, names: { '#seq': names.seq }, values: {} };
}

// ---------------------------------------------------------------------------------------------
// Planning a write
// ---------------------------------------------------------------------------------------------

/** A conditional put of the new table. */
export interface WritePlan {
  /** `upsert` for INSERT/MODIFY, `tombstone` for REMOVE. */
  readonly kind: 'upsert' | 'tombstone';
  /** The new-table key. */
  readonly key: Item;
  /** The full item to put, metadata included. */
  readonly item: Item;
  /** The padded sequence number the item carries. */
  readonly seq: string;
  readonly condition: ConditionSpec;
}

/** Inputs of `planWrite` that are not in the change. */
export interface PlanOptions {
  /**
   * `_dr_ttl` of a tombstone, epoch seconds; only once backfill is complete plus a margin
   * (`tombstoneExpiry`). Undefined: the tombstone does not expire.
   */
  readonly tombstoneTtl?: number;
}

/** The metadata attributes of a CDC write. */
function cdcMetadata(names: MetadataNames, seq: string, change: StreamChange): Item {
  return {
    [names.seq]: { S: seq },
    [names.src]: { S: Source.CDC },
    [names.ts]: { N: String(Math.trunc(change.approximateCreationTime)) },
  };
}

function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * Turns a change into the conditional write the apply rule prescribes.
 *
 * @throws UnappliableChangeError for a poison record: bad sequence number, INSERT/MODIFY without a
 *   new image, `mapKey`/`mapItem` throwing or returning an invalid item, a mapped item whose key
 *   differs from `mapKey(keys)` or that carries metadata attributes
 */
export function planWrite(change: StreamChange, migration: Migration, options: PlanOptions = {}): WritePlan {
  const names = metadataNames(migration.metadataPrefix);
  const raw = change.sequenceNumber;
  const fail = (problem: string): never => {
    throw new UnappliableChangeError(migration.id, raw, problem);
  };
  let seq = '';
  try {
    seq = padSequence(raw);
  } catch (err) {
    fail(describeError(err));
  }
  if (seq === BACKFILL_SEQ) fail('sequence number 0 is reserved for backfill');

  let key: Item = {};
  try {
    key = assertItem(migration.mapKey(change.keys), 'mapKey result');
  } catch (err) {
    fail(`mapKey failed on legacy key ${safeCanonical(change.keys)}: ${describeError(err)}`);
  }

  if (change.eventName === ChangeKind.REMOVE) {
    const item = mergeItems(
      key,
      { [names.del]: { BOOL: true } },
      cdcMetadata(names, seq, change),
      options.tombstoneTtl !== undefined
        ? { [names.ttl]: { N: String(Math.trunc(options.tombstoneTtl)) } }
        : {},
    );
    return { kind: 'tombstone', key, item, seq, condition: applyCondition(seq, names) };
  }

  if (!change.newImage)
    fail(`${change.eventName} record has no NewImage (the stream must be NEW_AND_OLD_IMAGES)`);
  let mapped: Item = {};
  try {
    mapped = assertItem(migration.mapItem(change.newImage as Item), 'mapItem result');
  } catch (err) {
    fail(`mapItem failed: ${describeError(err)}`);
  }
  const moved = mappedKeyProblem(migration, key, mapped);
  if (moved) fail(moved);
  const reserved = Object.keys(mapped).filter((n) => n.startsWith(names.prefix));
  if (reserved.length) {
    fail(
      `mapItem returned metadata attributes ${reserved.join(', ')} (prefix "${names.prefix}" is reserved)`,
    );
  }
  return {
    kind: 'upsert',
    key,
    item: mergeItems(mapped, cdcMetadata(names, seq, change)),
    seq,
    condition: applyCondition(seq, names),
  };
}

/** Default margin after backfill completion before tombstones may expire: 7 days (> 24 h stream retention). */
export const DEFAULT_TOMBSTONE_MARGIN_MS = 7 * 24 * 3600 * 1000;

/**
 * `_dr_ttl` (epoch seconds) for a tombstone written at `now`, or undefined while backfill is not
 * complete. Before completion a tombstone is what keeps backfill from resurrecting a deleted item; after
 * it, it still blocks late replays of older records (stream retention is 24 h), so the margin must
 * exceed the stream's retention.
 */
export function tombstoneExpiry(
  backfill: { readonly status: string; readonly completedAt?: number },
  now: number,
  marginMs: number = DEFAULT_TOMBSTONE_MARGIN_MS,
): number | undefined {
  if (backfill.status !== 'COMPLETE') return undefined;
  const from = Math.max(now, backfill.completedAt ?? now);
  return Math.ceil((from + marginMs) / 1000);
}

// ---------------------------------------------------------------------------------------------
// Applying
// ---------------------------------------------------------------------------------------------

/** Port: the new table's conditional writer (adapters/new-table-writer.ts). */
export interface NewTableWriterPort {
  /**
   * Puts `plan.item` under `plan.condition`.
   *
   * @throws StaleChangeError when the condition fails (with the stored item, if returned)
   */
  write(plan: WritePlan): Promise<void>;
  /**
   * Puts each plan's item only where no item holds its key (batched put-if-absent; plans of distinct
   * keys). For each plan: true when it was written; false when it was not (an item holds the key, or
   * the statement failed for any other reason): the caller then writes it with `write`, which decides
   * it under the full rule. Optional: without it every plan goes through `write`.
   */
  insertIfAbsent?(plans: readonly WritePlan[]): Promise<boolean[]>;
}

/** The result of applying one change. */
export type ApplyOutcome =
  | { readonly result: 'applied'; readonly kind: WritePlan['kind']; readonly seq: string }
  | {
      readonly result: 'skipped';
      readonly kind: WritePlan['kind'];
      readonly seq: string;
      readonly reason: SkipReason;
      readonly storedSeq?: string;
    };

/** What `applyChange` needs besides the change. */
export interface ApplyContext {
  readonly migration: Migration;
  readonly writer: NewTableWriterPort;
  readonly tombstoneTtl?: number;
  readonly orderToleranceMs?: number;
}

/**
 * Applies one change under the apply rule. A failed condition is a `skipped` outcome, never an error.
 *
 * @throws UnappliableChangeError for a poison record; store errors propagate (the record is retried)
 */
export async function applyChange(change: StreamChange, ctx: ApplyContext): Promise<ApplyOutcome> {
  return applyPlan(change, planWrite(change, ctx.migration, { tombstoneTtl: ctx.tombstoneTtl }), ctx);
}

/**
 * Writes a change's plan (from `planWrite`) under the apply rule: what `applyChange` does once the
 * change is planned. A failed condition is a `skipped` outcome, never an error.
 */
export async function applyPlan(
  change: StreamChange,
  plan: WritePlan,
  ctx: ApplyContext,
): Promise<ApplyOutcome> {
  try {
    await ctx.writer.write(plan);
    return { result: 'applied', kind: plan.kind, seq: plan.seq };
  } catch (err) {
    if (!(err instanceof StaleChangeError)) throw err;
    const names = metadataNames(ctx.migration.metadataPrefix);
    const storedSeq = err.stored ? sequenceOf(err.stored, names) : undefined;
    return {
      result: 'skipped',
      kind: plan.kind,
      seq: plan.seq,
      reason: classifySkip(change, err.stored, names, ctx.orderToleranceMs),
      ...(storedSeq !== undefined ? { storedSeq } : {}),
    };
  }
}
