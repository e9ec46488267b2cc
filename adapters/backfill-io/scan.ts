/**
 * The backfill's reads: one page of a parallel Scan segment of the legacy table, whether the new table
 * is usable, and the preflight's search of the new table for items dualread did not write.
 */
import {
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import type { TableCapacity } from '../../core/backfill';
import type { Item } from '../../core/model';
import { type SdkItem, fromSdkItem, toSdkItem } from '../dynamodb';
import { type RetryTiming, realRetryTiming, withRetry } from '../retry';

/** One Scan page. */
export interface ScanPage {
  readonly items: readonly Item[];
  readonly lastEvaluatedKey?: Item;
}

/** Reads one page of a parallel Scan segment. */
export async function scanSegmentPage(
  client: DynamoDBClient,
  tableName: string,
  args: { segment: number; totalSegments: number; limit: number; exclusiveStartKey?: Item },
  timing: RetryTiming = realRetryTiming,
): Promise<ScanPage> {
  const out = await withRetry(
    () =>
      client.send(
        new ScanCommand({
          TableName: tableName,
          Segment: args.segment,
          TotalSegments: args.totalSegments,
          Limit: args.limit,
          ...(args.exclusiveStartKey ? { ExclusiveStartKey: toSdkItem(args.exclusiveStartKey) } : {}),
        }),
      ),
    timing,
  );
  return {
    items: (out.Items ?? []).map((i: SdkItem) => fromSdkItem(i)),
    ...(out.LastEvaluatedKey ? { lastEvaluatedKey: fromSdkItem(out.LastEvaluatedKey) } : {}),
  };
}

/** Whether the table exists and is ACTIVE; the reason when not. */
export async function tableStatus(
  client: DynamoDBClient,
  tableName: string,
): Promise<{ usable: boolean; detail: string }> {
  try {
    const out = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const status = out.Table?.TableStatus ?? 'UNKNOWN';
    return { usable: status === 'ACTIVE', detail: `status ${status}` };
  } catch (err) {
    if (err instanceof ResourceNotFoundException) return { usable: false, detail: 'it does not exist' };
    throw err;
  }
}

/**
 * A table's capacity as DescribeTable reports it (billing mode, provisioned units, item count and size),
 * for the backfill's default rate (core/backfill/rate.ts).
 */
export async function tableCapacity(client: DynamoDBClient, tableName: string): Promise<TableCapacity> {
  const t = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  const provisioned =
    t?.BillingModeSummary?.BillingMode !== 'PAY_PER_REQUEST' &&
    (t?.ProvisionedThroughput?.ReadCapacityUnits ?? 0) > 0;
  return {
    billingMode: provisioned ? 'PROVISIONED' : 'PAY_PER_REQUEST',
    ...(provisioned
      ? {
          readCapacityUnits: t?.ProvisionedThroughput?.ReadCapacityUnits ?? 0,
          writeCapacityUnits: t?.ProvisionedThroughput?.WriteCapacityUnits ?? 0,
        }
      : {}),
    ...(t?.ItemCount !== undefined ? { itemCount: t.ItemCount } : {}),
    ...(t?.TableSizeBytes !== undefined ? { sizeBytes: t.TableSizeBytes } : {}),
  };
}

/** What the search for foreign items found. */
export interface ForeignItemSearch {
  /** Keys of foreign items found (at most the limit asked for). */
  readonly keys: readonly Item[];
  /** Items of the new table examined. */
  readonly scanned: number;
  /** True when the whole table was searched or the limit was reached; false when the budget ran out. */
  readonly complete: boolean;
}

/**
 * Searches the new table for items dualread did not write (no `_dr_seq`): a Scan that reads only the
 * key attributes of items without it, stopping after `limit` are found or `budgetMs` passed.
 */
export async function findForeignItems(
  client: DynamoDBClient,
  tableName: string,
  o: {
    readonly seqAttribute: string;
    readonly keyNames: readonly string[];
    readonly limit: number;
    readonly budgetMs: number;
    readonly now: () => number;
    readonly timing?: RetryTiming;
  },
): Promise<ForeignItemSearch> {
  const started = o.now();
  const names: Record<string, string> = { '#seq': o.seqAttribute };
  o.keyNames.forEach((n, i) => (names[`#k${i}`] = n));
  const keys: Item[] = [];
  let scanned = 0;
  let start: SdkItem | undefined;
  do {
    if (o.now() - started > o.budgetMs) return { keys, scanned, complete: false };
    const page = await withRetry(
      () =>
        client.send(
          new ScanCommand({
            TableName: tableName,
            FilterExpression: 'attribute_not_exists(#seq)',
            ProjectionExpression: o.keyNames.map((_, i) => `#k${i}`).join(', '),
            ExpressionAttributeNames: names,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      o.timing ?? realRetryTiming,
    );
    scanned += page.ScannedCount ?? 0;
    for (const raw of page.Items ?? []) if (keys.length < o.limit) keys.push(fromSdkItem(raw));
    start = page.LastEvaluatedKey;
  } while (start && keys.length < o.limit);
  return { keys, scanned, complete: true };
}
