/**
 * Verification's I/O (issue 5): batched key lookups (BatchGetItem in chunks of 100, unprocessed keys
 * retried with the backfill's jittered backoff), consistent single reads, and the repair's conditional
 * write with its audit record in one transaction. Scan pages come from the backfill's `scanSegmentPage`
 * (the same segment machinery).
 */
import { randomUUID } from 'node:crypto';
import {
  BatchGetItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  TransactWriteItemsCommand,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { NamedError, fullJitterDelay } from '../core/common';
import { type RepairWrite, RepairTransactionError } from '../core/verify';
import { type Item, canonicalItem } from '../core/model';
import { type RetryTiming, realRetryTiming, runPool, withRetry } from './backfill-io';
import type { ControlStore } from './control-store';
import { fromSdkItem, toSdkItem } from './dynamodb';

/** Keys per BatchGetItem request (DynamoDB's limit). */
export const BATCH_GET_LIMIT = 100;

/** BatchGetItem gave up on some keys after every retry. */
export class UnprocessedKeysError extends NamedError {
  constructor(
    readonly tableName: string,
    readonly remaining: number,
  ) {
    super(
      `BatchGetItem on "${tableName}" left ${remaining} keys unprocessed after every retry (throttled); ` +
        'the step is retried by the state machine, or lower the rate limit',
    );
  }
}

/** Map key of an item's key (canonical encoding). */
export function keyId(key: Item): string {
  return canonicalItem(key);
}

/** Reads of one table by key. */
export class KeyReader {
  private readonly timing: RetryTiming;
  constructor(
    private readonly client: DynamoDBClient,
    readonly tableName: string,
    /** Names of the table's key attributes (to find each returned item's key). */
    private readonly keyNames: readonly string[],
    options: { timing?: RetryTiming; concurrency?: number } = {},
  ) {
    this.timing = options.timing ?? realRetryTiming;
    this.concurrency = options.concurrency ?? 4;
  }
  private readonly concurrency: number;

  /**
   * Looks up `keys` (duplicates allowed) and returns the items found by `keyId` of their key.
   * Chunks of 100 run `concurrency` at a time; UnprocessedKeys are retried with backoff.
   */
  async batchGet(keys: readonly Item[], consistent: boolean): Promise<Map<string, Item>> {
    const unique = new Map<string, Item>();
    for (const k of keys) unique.set(keyId(k), k);
    const all = [...unique.values()];
    const chunks: Item[][] = [];
    for (let i = 0; i < all.length; i += BATCH_GET_LIMIT) chunks.push(all.slice(i, i + BATCH_GET_LIMIT));
    const found = new Map<string, Item>();
    await runPool(chunks, this.concurrency, async (chunk) => {
      let pending: Item[] = chunk;
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= this.timing.backoff.maxAttempts)
          throw new UnprocessedKeysError(this.tableName, pending.length);
        if (attempt > 0)
          await this.timing.sleep(fullJitterDelay(attempt - 1, this.timing.backoff, this.timing.random()));
        const request = pending;
        const out = await withRetry(
          () =>
            this.client.send(
              new BatchGetItemCommand({
                RequestItems: {
                  [this.tableName]: { Keys: request.map(toSdkItem), ConsistentRead: consistent },
                },
              }),
            ),
          this.timing,
        );
        for (const raw of out.Responses?.[this.tableName] ?? []) {
          const item = fromSdkItem(raw);
          found.set(keyId(this.keyOf(item)), item);
        }
        pending = (out.UnprocessedKeys?.[this.tableName]?.Keys ?? []).map(fromSdkItem);
      }
    });
    return found;
  }

  /** One read by key. */
  async get(key: Item, consistent: boolean): Promise<Item | undefined> {
    const out = await withRetry(
      () =>
        this.client.send(
          new GetItemCommand({ TableName: this.tableName, Key: toSdkItem(key), ConsistentRead: consistent }),
        ),
      this.timing,
    );
    return out.Item ? fromSdkItem(out.Item) : undefined;
  }

  private keyOf(item: Item): Item {
    const out: Record<string, Item[string]> = {};
    for (const n of this.keyNames) if (item[n] !== undefined) out[n] = item[n] as Item[string];
    return out;
  }
}

/** Cancellation reasons worth another transaction: nothing was decided about the items. */
const TRANSIENT_REASONS = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
]);

/**
 * Writes a repair and its audit record in one `TransactWriteItems`: both or neither.
 *
 * - `written`: both are stored.
 * - `lost`: the repair's condition failed (a CDC write got there first, `lost-to-cdc`); DynamoDB
 *   cancels the whole transaction, so no audit record is written either. Recognized by the reason of
 *   the repair's own put (the first action), never by the audit's.
 * - A transient cancellation (a conflicting write in flight, throttling) is retried with backoff, as a
 *   new transaction; throttling and 5xx of the request itself are retried with the same client request
 *   token, so a request that did commit but whose answer was lost is not applied twice.
 *
 * @throws RepairTransactionError for any other cancellation (the audit record exists, an invalid item):
 *   nothing was written
 */
export async function transactRepair(
  client: DynamoDBClient,
  newTableName: string,
  store: ControlStore,
  write: RepairWrite,
  timing: RetryTiming = realRetryTiming,
): Promise<'written' | 'lost'> {
  const { condition } = write;
  const audit = store.auditPut(write.audit, write.auditId);
  for (let round = 0; ; round++) {
    const token = round === 0 ? write.auditId : randomUUID();
    try {
      await withRetry(
        () =>
          client.send(
            new TransactWriteItemsCommand({
              ClientRequestToken: token,
              TransactItems: [
                {
                  Put: {
                    TableName: newTableName,
                    Item: toSdkItem(write.item),
                    ConditionExpression: condition.expression,
                    ExpressionAttributeNames: { ...condition.names },
                    ...(Object.keys(condition.values).length
                      ? { ExpressionAttributeValues: toSdkItem(condition.values) }
                      : {}),
                  },
                },
                { Put: audit },
              ],
            }),
          ),
        timing,
      );
      return 'written';
    } catch (err) {
      if (!(err instanceof TransactionCanceledException)) throw err;
      const reasons = [0, 1].map((i) => err.CancellationReasons?.[i]?.Code ?? 'None');
      if (reasons[0] === 'ConditionalCheckFailed') return 'lost';
      const transient = reasons.some((r) => TRANSIENT_REASONS.has(r));
      if (!transient || round + 1 >= timing.backoff.maxAttempts)
        throw new RepairTransactionError(newTableName, reasons, err.message);
      timing.onRetry?.(err, round);
      await timing.sleep(fullJitterDelay(round, timing.backoff, timing.random()));
    }
  }
}
