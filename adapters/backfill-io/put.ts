/**
 * The `put` write mode, the one every mode falls back to for single items: one conditional PutItem
 * per item under rule 3 (write only where no item or tombstone exists: docs/correctness.md), with the
 * condition the run's foreign-item policy asks for; a failed condition returns the item it met, which
 * says whether dualread wrote it.
 */
import { ConditionalCheckFailedException, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type WriteOutcome, isForeignItem } from '../../core/backfill';
import { ForeignItems } from '../../core/control';
import type { Item } from '../../core/model';
import { fromSdkItem, toSdkItem } from '../dynamodb';
import { isRetryable, runPool, withRetry } from '../retry';
import { type WriteContext, partitionKeyOf } from './write-context';

/** Rule 3: nothing dualread wrote (item or tombstone) is at this key; a foreign item is overwritten. */
const absent = 'attribute_not_exists(#seq)';
/** Rule 3 that also leaves a foreign item alone: no item at all has this key (a PartiQL INSERT's rule). */
const noItem = 'attribute_not_exists(#pk)';

/** The condition and names of a put-if-absent under a foreign-item policy. */
export function putCondition(
  policy: ForeignItems,
  seqAttribute: string,
  partitionKey: string,
): { ConditionExpression: string; ExpressionAttributeNames: Record<string, string> } {
  return policy === ForeignItems.OVERWRITE
    ? { ConditionExpression: absent, ExpressionAttributeNames: { '#seq': seqAttribute } }
    : { ConditionExpression: noItem, ExpressionAttributeNames: { '#pk': partitionKey } };
}

/** What a failed condition met: an item dualread wrote (`exists`) or a foreign one. */
export function metOutcome(ctx: WriteContext, stored: Item | undefined): WriteOutcome {
  // ALL_OLD returns the item that failed the condition; only a dualread item fails `absent`.
  return stored && isForeignItem(stored, ctx.options.seqAttribute) ? { kind: 'foreign' } : { kind: 'exists' };
}

/** Writes one item with a conditional PutItem (throttling and 5xx retried; other errors about the item are poison). */
export async function putIfAbsent(
  ctx: WriteContext,
  item: Item,
  foreignItems: ForeignItems,
): Promise<WriteOutcome> {
  try {
    await withRetry(
      () =>
        ctx.client.send(
          new PutItemCommand({
            TableName: ctx.tableName,
            Item: toSdkItem(item),
            ...putCondition(foreignItems, ctx.options.seqAttribute, partitionKeyOf(ctx)),
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      ctx.timing,
    );
    return { kind: 'copied' };
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException)
      return metOutcome(ctx, err.Item ? fromSdkItem(err.Item) : undefined);
    if (isRetryable(err)) throw err;
    // Not retryable and about this item (too large, invalid key after mapping, ...): poison, not fatal.
    return { kind: 'failed', reason: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

/**
 * Writes the items at `indexes` one by one with conditional PutItem (at most `concurrency` at once),
 * each outcome in its place: how a group a transaction or a batch could not settle is isolated.
 */
export async function putEach(
  ctx: WriteContext,
  indexes: readonly number[],
  items: readonly Item[],
  outcomes: WriteOutcome[],
  foreignItems: ForeignItems,
  concurrency: number,
): Promise<void> {
  await runPool(indexes, concurrency, async (i) => {
    outcomes[i] = await putIfAbsent(ctx, items[i] as Item, foreignItems);
  });
}
