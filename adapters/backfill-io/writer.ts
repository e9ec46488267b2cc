/**
 * `IfAbsentWriter`: copies a page's items to the new table under rule 3 (write only where no item or
 * tombstone exists: docs/correctness.md) in the configured write mode (`partiql.ts`, `put.ts`,
 * `transact.ts`), treating an item dualread did not write as the run's foreign-item policy says.
 * Throttling and 5xx are retried with jittered exponential backoff; everything else is reported per item.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { WriteOutcome } from '../../core/backfill';
import type { ForeignItems } from '../../core/control';
import type { Item } from '../../core/model';
import { realRetryTiming, runPool } from '../retry';
import { MAX_BATCH_STATEMENTS, batchesWithDistinctKeys, insertBatch } from './partiql';
import { putIfAbsent } from './put';
import { transactIfAbsent } from './transact';
import { type IfAbsentWriterOptions, type WriteContext, WriteMode } from './write-context';

/** Writes items to the new table only where no item or tombstone exists (rule 3). */
export class IfAbsentWriter {
  private readonly context: WriteContext;
  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
    options: IfAbsentWriterOptions,
  ) {
    this.context = { client, tableName, options, timing: options.timing ?? realRetryTiming };
  }

  /**
   * Writes every item under rule 3, treating an item dualread did not write that holds a key as
   * `foreignItems` says (core/backfill/foreign.ts); outcomes are in input order.
   */
  async writeAll(items: readonly Item[], foreignItems: ForeignItems): Promise<WriteOutcome[]> {
    const ctx = this.context;
    const outcomes: WriteOutcome[] = new Array(items.length);
    const indexes = items.map((_, i) => i);
    if (ctx.options.mode === WriteMode.PARTIQL) {
      const batches = batchesWithDistinctKeys(items, ctx.options.keyNames, MAX_BATCH_STATEMENTS);
      await runPool(batches, ctx.options.concurrency, (batch) =>
        insertBatch(ctx, batch, items, outcomes, foreignItems),
      );
      return outcomes;
    }
    const groups =
      ctx.options.mode === WriteMode.TRANSACT
        ? chunk(indexes, Math.min(100, ctx.options.transactionSize))
        : indexes.map((i) => [i]);
    await runPool(groups, ctx.options.concurrency, async (group) => {
      if (group.length === 1)
        outcomes[group[0] as number] = await putIfAbsent(
          ctx,
          items[group[0] as number] as Item,
          foreignItems,
        );
      else await transactIfAbsent(ctx, group, items, outcomes, foreignItems);
    });
    return outcomes;
  }
}

function chunk<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}
