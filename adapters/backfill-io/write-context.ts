/**
 * What the backfill's writer is configured with (`IfAbsentWriterOptions`: write mode, concurrency, the
 * new table's key) and the context its write modes share.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Item } from '../../core/model';
import type { RetryTiming } from '../retry';

/**
 * How a copy writes:
 * - `partiql` (default) = up to 25 PartiQL `INSERT` statements per BatchExecuteStatement; each
 *   succeeds or fails on its own, an INSERT fails with DuplicateItem when an item has the key.
 * - `put` = one conditional PutItem per item.
 * - `transact` = up to 100 conditional puts per TransactWriteItems (twice the write cost on AWS).
 */
export const WriteMode = { PARTIQL: 'partiql', PUT: 'put', TRANSACT: 'transact' } as const;
export type WriteMode = (typeof WriteMode)[keyof typeof WriteMode];

/** Settings of `IfAbsentWriter`. */
export interface IfAbsentWriterOptions {
  /** Name of the metadata attribute `_dr_seq`: present on every item and tombstone dualread writes. */
  readonly seqAttribute: string;
  readonly mode: WriteMode;
  /** Concurrent requests per page. */
  readonly concurrency: number;
  /** Items per transaction in `transact` mode (at most 100). */
  readonly transactionSize: number;
  /**
   * Key attribute names of the new table, partition key first. The `refuse`/`keep` condition names
   * the partition key; in `partiql` mode two statements with the same key in one request make
   * DynamoDB refuse the whole request, so such items go to separate requests.
   */
  readonly keyNames: readonly string[];
  /**
   * Consistent reads of new-table items by key (`KeyReader.batchGet`), to tell a dualread item from a
   * foreign one after a PartiQL `DuplicateItem` that did not return the item. Without it, such items
   * are settled one by one with a conditional PutItem, which returns the item it met.
   */
  readonly existing?: (keys: readonly Item[]) => Promise<ReadonlyMap<string, Item>>;
  readonly timing?: RetryTiming;
}

/** What a write mode works with: the client, the new table, the writer's options and retry timing. */
export interface WriteContext {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly options: IfAbsentWriterOptions;
  readonly timing: RetryTiming;
}

/** The new table's partition key (the `refuse`/`keep` condition names it). */
export function partitionKeyOf(ctx: WriteContext): string {
  const pk = ctx.options.keyNames[0];
  if (!pk) throw new RangeError(`IfAbsentWriter for ${ctx.tableName} needs the new table's key names`);
  return pk;
}
