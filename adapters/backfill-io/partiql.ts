/**
 * The `partiql` write mode (the default): up to 25 PartiQL `INSERT` statements per
 * BatchExecuteStatement, each put-if-absent on its own (an INSERT fails with DuplicateItem when an
 * item has the key), at the normal write cost. The statements, the classification of each
 * statement's result, and how an INSERT that met an item tells whose it is.
 */
import { BatchExecuteStatementCommand, type BatchStatementRequest } from '@aws-sdk/client-dynamodb';
import { type WriteOutcome, isForeignItem } from '../../core/backfill';
import { ForeignItems } from '../../core/control';
import { NamedError, fullJitterDelay } from '../../core/common';
import { type Item, canonicalItem, pick } from '../../core/model';
import { fromSdkItem, toSdkItem } from '../dynamodb';
import { isRetryable, runPool, withRetry } from '../retry';
import { putEach, putIfAbsent } from './put';
import type { WriteContext } from './write-context';

/** Most statements DynamoDB accepts in one BatchExecuteStatement. */
export const MAX_BATCH_STATEMENTS = 25;

/** A per-statement error of BatchExecuteStatement that fails the page (not about one item). */
export class BatchStatementError extends NamedError {
  constructor(
    message: string,
    /** The statement's error code (`BatchStatementErrorCodeEnum`). */
    readonly code: string,
  ) {
    super(message);
  }
}

/** What a BatchExecuteStatement statement's result means for the item. */
export const StatementErrorKind = {
  OK: 'ok',
  EXISTS: 'exists',
  RETRY: 'retry',
  POISON: 'poison',
  FAIL: 'fail',
} as const;
export type StatementErrorKind = (typeof StatementErrorKind)[keyof typeof StatementErrorKind];

/** Statement error codes that mean "an item with this key exists" (DynamoDB Local 3.3 returns DuplicateItem). */
const EXISTS_CODES = new Set(['DuplicateItem', 'ConditionalCheckFailed']);
/** Statement error codes worth retrying after a backoff. */
const RETRY_CODES = new Set([
  'ProvisionedThroughputExceeded',
  'ThrottlingError',
  'RequestLimitExceeded',
  'InternalServerError',
  'TransactionConflict',
]);

/**
 * Classifies one statement's error code (undefined = it succeeded). `ValidationError` is about the
 * item (too large, wrong key type after mapping): poison. ResourceNotFound, AccessDenied,
 * ItemCollectionSizeLimitExceeded and unknown codes are not about one item: fail.
 */
export function classifyStatementError(code: string | undefined): StatementErrorKind {
  if (code === undefined) return StatementErrorKind.OK;
  if (EXISTS_CODES.has(code)) return StatementErrorKind.EXISTS;
  if (RETRY_CODES.has(code)) return StatementErrorKind.RETRY;
  if (code === 'ValidationError' || code === 'ValidationException') return StatementErrorKind.POISON;
  return StatementErrorKind.FAIL;
}

/** A PartiQL identifier as a string literal: single quotes, inner single quotes doubled. */
export function partiqlString(name: string): string {
  return `'${name.replace(/'/g, "''")}'`;
}

/** A table name as a PartiQL quoted identifier: double quotes, inner double quotes doubled. */
export function partiqlTable(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * `INSERT INTO "<table>" VALUE {'a': ?, 'b': ?}` for one item, with the item's values as
 * parameters in the same order as the names (AttributeValues: nothing is converted).
 */
export function insertStatement(tableName: string, item: Item): BatchStatementRequest {
  const sdk = toSdkItem(item);
  const names = Object.keys(sdk);
  return {
    Statement: `INSERT INTO ${partiqlTable(tableName)} VALUE {${names.map((n) => `${partiqlString(n)}: ?`).join(', ')}}`,
    Parameters: names.map((n) => sdk[n] as NonNullable<BatchStatementRequest['Parameters']>[number]),
    // The item an INSERT met, if DynamoDB returns it (DynamoDB Local does not): saves a read.
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  };
}

/**
 * Splits item indexes into batches of at most `size` in which no two items share a key (DynamoDB
 * refuses a whole request with duplicate keys). Without key names, every item is its own key.
 */
export function batchesWithDistinctKeys(
  items: readonly Item[],
  keyNames: readonly string[],
  size: number,
): number[][] {
  const batches: { indexes: number[]; keys: Set<string> }[] = [];
  let open = 0;
  items.forEach((item, i) => {
    const key =
      keyNames.length === 0
        ? String(i)
        : canonicalItem(Object.fromEntries(keyNames.map((n) => [n, item[n] ?? { NULL: true }])));
    let b = open;
    while (b < batches.length && ((batches[b]?.indexes.length ?? 0) >= size || batches[b]?.keys.has(key)))
      b++;
    if (b === batches.length) batches.push({ indexes: [], keys: new Set() });
    const batch = batches[b] as { indexes: number[]; keys: Set<string> };
    batch.indexes.push(i);
    batch.keys.add(key);
    while (open < batches.length && (batches[open]?.indexes.length ?? 0) >= size) open++;
  });
  return batches.map((b) => b.indexes);
}

/**
 * One batch of PartiQL INSERTs. Each statement's result is mapped on its own: DuplicateItem /
 * ConditionalCheckFailed = an item holds the key (settled by `settleDuplicates`); throttling and
 * server faults = only those statements are retried after a jittered backoff; ValidationError =
 * poison; anything else fails the page. A request refused as a whole for a validation reason names
 * no item: its items are isolated one by one with conditional PutItem (the `put` path classifies them).
 */
export async function insertBatch(
  ctx: WriteContext,
  batch: readonly number[],
  items: readonly Item[],
  outcomes: WriteOutcome[],
  foreignItems: ForeignItems,
): Promise<void> {
  const duplicates: Array<{ index: number; stored?: Item }> = [];
  let pending = [...batch];
  for (let round = 0; pending.length > 0; round++) {
    let responses;
    try {
      const out = await withRetry(
        () =>
          ctx.client.send(
            new BatchExecuteStatementCommand({
              Statements: pending.map((i) => insertStatement(ctx.tableName, items[i] as Item)),
            }),
          ),
        ctx.timing,
      );
      responses = out.Responses ?? [];
    } catch (err) {
      if (isRetryable(err) || (err as Error).name !== 'ValidationException') throw err;
      await putEach(ctx, pending, items, outcomes, foreignItems, 1);
      break;
    }
    const retry: number[] = [];
    let lastRetryable: { code: string; message: string } | undefined;
    pending.forEach((i, k) => {
      const error = responses[k]?.Error;
      const kind = classifyStatementError(error?.Code);
      const message = `${error?.Code ?? 'no response'}: ${error?.Message ?? 'DynamoDB returned no result for this statement'}`;
      if (kind === StatementErrorKind.OK) outcomes[i] = { kind: 'copied' };
      else if (kind === StatementErrorKind.EXISTS)
        duplicates.push({ index: i, ...(error?.Item ? { stored: fromSdkItem(error.Item) } : {}) });
      else if (kind === StatementErrorKind.POISON) outcomes[i] = { kind: 'failed', reason: message };
      else if (kind === StatementErrorKind.RETRY) {
        retry.push(i);
        lastRetryable = { code: error?.Code ?? '', message };
      } else
        throw new BatchStatementError(
          `PartiQL INSERT into ${ctx.tableName} failed with ${message}; the page is not settled and will be retried by the state machine (check the table and the function's dynamodb:PartiQLInsert permission)`,
          error?.Code ?? 'Unknown',
        );
    });
    if (retry.length === 0) break;
    if (round + 1 >= ctx.timing.backoff.maxAttempts) {
      throw new BatchStatementError(
        `${retry.length} PartiQL INSERT statements into ${ctx.tableName} still failed after ${round + 1} attempts (last: ${lastRetryable?.message}); the page is not settled and will be retried`,
        lastRetryable?.code ?? 'Unknown',
      );
    }
    ctx.timing.onRetry?.(lastRetryable, round);
    await ctx.timing.sleep(fullJitterDelay(round, ctx.timing.backoff, ctx.timing.random()));
    pending = retry;
  }
  if (duplicates.length) await settleDuplicates(ctx, duplicates, items, outcomes, foreignItems);
}

/**
 * An INSERT that met an item cannot tell whose it is. The item from the statement error (AWS may
 * return it with ALL_OLD; DynamoDB Local does not), else a consistent read, says: an item dualread
 * wrote is `exists`; a foreign item is overwritten (`overwrite`, by a conditional put that still
 * loses to a CDC write made meanwhile) or left (`foreign`). An item gone by the time it is read is
 * settled by the conditional put as well.
 */
async function settleDuplicates(
  ctx: WriteContext,
  duplicates: ReadonlyArray<{ index: number; stored?: Item }>,
  items: readonly Item[],
  outcomes: WriteOutcome[],
  foreignItems: ForeignItems,
): Promise<void> {
  const keyOf = (i: number) => pick(items[i] as Item, ctx.options.keyNames);
  const unknown = duplicates.filter((d) => !d.stored).map((d) => keyOf(d.index));
  const read = unknown.length && ctx.options.existing ? await ctx.options.existing(unknown) : undefined;
  await runPool(duplicates, ctx.options.concurrency, async ({ index, stored }) => {
    const found = stored ?? read?.get(canonicalItem(keyOf(index)));
    if (found && !isForeignItem(found, ctx.options.seqAttribute)) outcomes[index] = { kind: 'exists' };
    else if (found && foreignItems !== ForeignItems.OVERWRITE) outcomes[index] = { kind: 'foreign' };
    else outcomes[index] = await putIfAbsent(ctx, items[index] as Item, foreignItems);
  });
}
