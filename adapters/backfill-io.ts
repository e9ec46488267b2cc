/**
 * The backfill's I/O: one parallel-Scan page of the legacy table, and the copy of a page's items to
 * the new table under rule 3 (DESIGN §4.3: write only where no item or tombstone exists). Throttling
 * and 5xx are retried here with jittered exponential backoff; everything else is reported per item.
 */
import {
  ConditionalCheckFailedException,
  DescribeTableCommand,
  type DynamoDBClient,
  PutItemCommand,
  ResourceNotFoundException,
  ScanCommand,
  TransactWriteItemsCommand,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { type BackoffSettings, DEFAULT_BACKOFF, fullJitterDelay } from '../core/backoff';
import type { Item } from '../core/values';
import { type SdkItem, fromSdkItem, toSdkItem } from './dynamodb';

/** Error names DynamoDB uses for throttling and transient server faults. */
const RETRYABLE_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TransactionInProgressException',
  'LimitExceededException',
  'TimeoutError',
  'ECONNRESET',
]);

/** True for throttling and 5xx errors, which are worth retrying after a backoff. */
export function isRetryable(err: unknown): boolean {
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  if (!e) return false;
  if (RETRYABLE_NAMES.has(e.name ?? '') || RETRYABLE_NAMES.has(e.code ?? '')) return true;
  return (e.$metadata?.httpStatusCode ?? 0) >= 500;
}

/** Injected timing of retries (tests pass a fake). */
export interface RetryTiming {
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  readonly backoff: BackoffSettings;
  /** Called on each retry (for counting). */
  readonly onRetry?: (err: unknown, retry: number) => void;
}

/** Real timers and `Math.random`. */
export const realRetryTiming: RetryTiming = {
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  random: Math.random,
  backoff: DEFAULT_BACKOFF,
};

/** Runs `fn`, retrying throttling and 5xx with full-jitter backoff; other errors propagate at once. */
export async function withRetry<T>(fn: () => Promise<T>, timing: RetryTiming = realRetryTiming): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await fn();
    } catch (err) {
      if (!isRetryable(err) || retry + 1 >= timing.backoff.maxAttempts) throw err;
      timing.onRetry?.(err, retry);
      await timing.sleep(fullJitterDelay(retry, timing.backoff, timing.random()));
    }
  }
}

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

/** How a copy writes: `put` = one conditional PutItem per item; `transact` = up to 100 conditional puts per TransactWriteItems. */
export const WriteMode = { PUT: 'put', TRANSACT: 'transact' } as const;
export type WriteMode = (typeof WriteMode)[keyof typeof WriteMode];

/** The result of writing one item. */
export type WriteOutcome =
  | { readonly kind: 'copied' }
  | { readonly kind: 'exists' }
  | { readonly kind: 'failed'; readonly reason: string };

/** Settings of `IfAbsentWriter`. */
export interface IfAbsentWriterOptions {
  /** Name of the metadata attribute `_dr_seq`: present on every item and tombstone dualread writes. */
  readonly seqAttribute: string;
  readonly mode: WriteMode;
  /** Concurrent requests per page. */
  readonly concurrency: number;
  /** Items per transaction in `transact` mode (at most 100). */
  readonly transactionSize: number;
  readonly timing?: RetryTiming;
}

/** DynamoDB's condition for rule 3: nothing dualread wrote (item or tombstone) is at this key. */
const absent = 'attribute_not_exists(#seq)';

/** Writes items to the new table only where no item or tombstone exists (rule 3). */
export class IfAbsentWriter {
  private readonly timing: RetryTiming;
  constructor(
    private readonly client: DynamoDBClient,
    readonly tableName: string,
    private readonly options: IfAbsentWriterOptions,
  ) {
    this.timing = options.timing ?? realRetryTiming;
  }

  /** Writes every item; outcomes are in input order. */
  async writeAll(items: readonly Item[]): Promise<WriteOutcome[]> {
    const outcomes: WriteOutcome[] = new Array(items.length);
    const indexes = items.map((_, i) => i);
    const groups =
      this.options.mode === WriteMode.TRANSACT
        ? chunk(indexes, Math.min(100, this.options.transactionSize))
        : indexes.map((i) => [i]);
    await runPool(groups, this.options.concurrency, async (group) => {
      if (group.length === 1)
        outcomes[group[0] as number] = await this.putOne(items[group[0] as number] as Item);
      else await this.transact(group, items, outcomes);
    });
    return outcomes;
  }

  private async putOne(item: Item): Promise<WriteOutcome> {
    try {
      await withRetry(
        () =>
          this.client.send(
            new PutItemCommand({
              TableName: this.tableName,
              Item: toSdkItem(item),
              ConditionExpression: absent,
              ExpressionAttributeNames: { '#seq': this.options.seqAttribute },
            }),
          ),
        this.timing,
      );
      return { kind: 'copied' };
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return { kind: 'exists' };
      if (isRetryable(err)) throw err;
      // Not retryable and about this item (too large, invalid key after mapping, ...): poison, not fatal.
      return { kind: 'failed', reason: `${(err as Error).name}: ${(err as Error).message}` };
    }
  }

  /**
   * One transaction for a group. On cancellation the reasons say, per item, whether its condition
   * failed (already exists: final) or it conflicted with a concurrent write (retried in the next
   * round); a round without cancellation commits all the rest.
   */
  private async transact(
    group: readonly number[],
    items: readonly Item[],
    outcomes: WriteOutcome[],
  ): Promise<void> {
    let pending = [...group];
    for (let round = 0; pending.length > 0; round++) {
      if (pending.length === 1) {
        outcomes[pending[0] as number] = await this.putOne(items[pending[0] as number] as Item);
        return;
      }
      try {
        await withRetry(
          () =>
            this.client.send(
              new TransactWriteItemsCommand({
                TransactItems: pending.map((i) => ({
                  Put: {
                    TableName: this.tableName,
                    Item: toSdkItem(items[i] as Item),
                    ConditionExpression: absent,
                    ExpressionAttributeNames: { '#seq': this.options.seqAttribute },
                  },
                })),
              }),
            ),
          this.timing,
        );
        for (const i of pending) outcomes[i] = { kind: 'copied' };
        return;
      } catch (err) {
        if (err instanceof TransactionCanceledException && err.CancellationReasons) {
          const reasons = err.CancellationReasons;
          const next: number[] = [];
          pending.forEach((i, k) => {
            const code = reasons[k]?.Code;
            if (code === 'ConditionalCheckFailed') outcomes[i] = { kind: 'exists' };
            else next.push(i);
          });
          if (next.length === pending.length) {
            // Nothing was settled (conflicts, throttling or a bad item): back off, then isolate items.
            if (round >= 2) {
              await runPool(next, this.options.concurrency, async (i) => {
                outcomes[i] = await this.putOne(items[i] as Item);
              });
              return;
            }
            await this.timing.sleep(fullJitterDelay(round, this.timing.backoff, this.timing.random()));
          }
          pending = next;
          continue;
        }
        if (isRetryable(err)) throw err;
        // A validation error names no item: isolate them one by one.
        await runPool(pending, this.options.concurrency, async (i) => {
          outcomes[i] = await this.putOne(items[i] as Item);
        });
        return;
      }
    }
  }
}

function chunk<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/** Runs `fn` over `xs` with at most `concurrency` in flight. */
export async function runPool<T>(
  xs: readonly T[],
  concurrency: number,
  fn: (x: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(concurrency, xs.length)) }, async () => {
    while (next < xs.length) {
      const x = xs[next++] as T;
      await fn(x);
    }
  });
  await Promise.all(workers);
}
