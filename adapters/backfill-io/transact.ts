/**
 * The `transact` write mode: up to 100 conditional puts per TransactWriteItems (twice the write cost
 * on AWS), each under the same condition as the `put` mode.
 */
import { TransactWriteItemsCommand, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { WriteOutcome } from '../../core/backfill';
import type { ForeignItems } from '../../core/control';
import { fullJitterDelay } from '../../core/common';
import type { Item } from '../../core/model';
import { fromSdkItem, toSdkItem } from '../dynamodb';
import { isRetryable, withRetry } from '../retry';
import { metOutcome, putCondition, putEach, putIfAbsent } from './put';
import { type WriteContext, partitionKeyOf } from './write-context';

/**
 * One transaction for a group. On cancellation the reasons say, per item, whether its condition
 * failed (already exists: final) or it conflicted with a concurrent write (retried in the next
 * round); a round without cancellation commits all the rest.
 */
export async function transactIfAbsent(
  ctx: WriteContext,
  group: readonly number[],
  items: readonly Item[],
  outcomes: WriteOutcome[],
  foreignItems: ForeignItems,
): Promise<void> {
  let pending = [...group];
  for (let round = 0; pending.length > 0; round++) {
    if (pending.length === 1) {
      outcomes[pending[0] as number] = await putIfAbsent(
        ctx,
        items[pending[0] as number] as Item,
        foreignItems,
      );
      return;
    }
    try {
      await withRetry(
        () =>
          ctx.client.send(
            new TransactWriteItemsCommand({
              TransactItems: pending.map((i) => ({
                Put: {
                  TableName: ctx.tableName,
                  Item: toSdkItem(items[i] as Item),
                  ...putCondition(foreignItems, ctx.options.seqAttribute, partitionKeyOf(ctx)),
                  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                },
              })),
            }),
          ),
        ctx.timing,
      );
      for (const i of pending) outcomes[i] = { kind: 'copied' };
      return;
    } catch (err) {
      if (err instanceof TransactionCanceledException && err.CancellationReasons) {
        const reasons = err.CancellationReasons;
        const next: number[] = [];
        pending.forEach((i, k) => {
          const reason = reasons[k];
          if (reason?.Code === 'ConditionalCheckFailed')
            outcomes[i] = metOutcome(ctx, reason.Item ? fromSdkItem(reason.Item) : undefined);
          else next.push(i);
        });
        if (next.length === pending.length) {
          // Nothing was settled (conflicts, throttling or a bad item): back off, then isolate items.
          if (round >= 2) {
            await putEach(ctx, next, items, outcomes, foreignItems, ctx.options.concurrency);
            return;
          }
          await ctx.timing.sleep(fullJitterDelay(round, ctx.timing.backoff, ctx.timing.random()));
        }
        pending = next;
        continue;
      }
      if (isRetryable(err)) throw err;
      // A validation error names no item: isolate them one by one.
      await putEach(ctx, pending, items, outcomes, foreignItems, ctx.options.concurrency);
      return;
    }
  }
}
