/**
 * The backfill's I/O: one parallel-Scan page of the legacy table, and the copy of a page's items to
 * the new table under rule 3 (write only where no item or tombstone exists: docs/correctness.md). Throttling
 * and 5xx are retried here with jittered exponential backoff; everything else is reported per item.
 */
import {
  type BatchStatementRequest,
  BatchExecuteStatementCommand,
  ConditionalCheckFailedException,
  DescribeTableCommand,
  type DynamoDBClient,
  PutItemCommand,
  ResourceNotFoundException,
  ScanCommand,
  TransactWriteItemsCommand,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { isForeignItem } from '../core/backfill';
import { ForeignItems } from '../core/control';
import { type BackoffSettings, DEFAULT_BACKOFF, fullJitterDelay } from '../core/shared';
import { type Item, canonicalItem, pick } from '../core/model';
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

/**
 * How a copy writes:
 * - `partiql` (default) = up to 25 PartiQL `INSERT` statements per BatchExecuteStatement; each
 *   succeeds or fails on its own, an INSERT fails with DuplicateItem when an item has the key.
 * - `put` = one conditional PutItem per item.
 * - `transact` = up to 100 conditional puts per TransactWriteItems (twice the write cost on AWS).
 */
export const WriteMode = { PARTIQL: 'partiql', PUT: 'put', TRANSACT: 'transact' } as const;
export type WriteMode = (typeof WriteMode)[keyof typeof WriteMode];

/**
 * The result of writing one item: `copied`; `exists` (an item or tombstone dualread wrote holds the
 * key: rule 3 leaves it); `foreign` (an item dualread did not write holds the key and the policy is
 * `refuse` or `keep`: left untouched); `failed` (DynamoDB refused this item: poison).
 */
export type WriteOutcome =
  | { readonly kind: 'copied' }
  | { readonly kind: 'exists' }
  | { readonly kind: 'foreign' }
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

/** Rule 3: nothing dualread wrote (item or tombstone) is at this key; a foreign item is overwritten. */
const absent = 'attribute_not_exists(#seq)';
/** Rule 3 that also leaves a foreign item alone: no item at all has this key (a PartiQL INSERT's rule). */
const noItem = 'attribute_not_exists(#pk)';

/** The condition and names of a put-if-absent under a foreign-item policy. */
function putCondition(
  policy: ForeignItems,
  seqAttribute: string,
  partitionKey: string,
): { ConditionExpression: string; ExpressionAttributeNames: Record<string, string> } {
  return policy === ForeignItems.OVERWRITE
    ? { ConditionExpression: absent, ExpressionAttributeNames: { '#seq': seqAttribute } }
    : { ConditionExpression: noItem, ExpressionAttributeNames: { '#pk': partitionKey } };
}

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

  /**
   * Writes every item under rule 3, treating an item dualread did not write that holds a key as
   * `foreignItems` says (core/backfill/foreign.ts); outcomes are in input order.
   */
  async writeAll(items: readonly Item[], foreignItems: ForeignItems): Promise<WriteOutcome[]> {
    const outcomes: WriteOutcome[] = new Array(items.length);
    const indexes = items.map((_, i) => i);
    if (this.options.mode === WriteMode.PARTIQL) {
      const batches = batchesWithDistinctKeys(items, this.options.keyNames, MAX_BATCH_STATEMENTS);
      await runPool(batches, this.options.concurrency, (batch) =>
        this.insertBatch(batch, items, outcomes, foreignItems),
      );
      return outcomes;
    }
    const groups =
      this.options.mode === WriteMode.TRANSACT
        ? chunk(indexes, Math.min(100, this.options.transactionSize))
        : indexes.map((i) => [i]);
    await runPool(groups, this.options.concurrency, async (group) => {
      if (group.length === 1)
        outcomes[group[0] as number] = await this.putOne(items[group[0] as number] as Item, foreignItems);
      else await this.transact(group, items, outcomes, foreignItems);
    });
    return outcomes;
  }

  /** What a failed condition met: an item dualread wrote (`exists`) or a foreign one. */
  private met(stored: Item | undefined): WriteOutcome {
    // ALL_OLD returns the item that failed the condition; only a dualread item fails `absent`.
    return stored && isForeignItem(stored, this.options.seqAttribute)
      ? { kind: 'foreign' }
      : { kind: 'exists' };
  }

  private async putOne(item: Item, foreignItems: ForeignItems): Promise<WriteOutcome> {
    try {
      await withRetry(
        () =>
          this.client.send(
            new PutItemCommand({
              TableName: this.tableName,
              Item: toSdkItem(item),
              ...putCondition(foreignItems, this.options.seqAttribute, this.partitionKey),
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
          ),
        this.timing,
      );
      return { kind: 'copied' };
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException)
        return this.met(err.Item ? fromSdkItem(err.Item) : undefined);
      if (isRetryable(err)) throw err;
      // Not retryable and about this item (too large, invalid key after mapping, ...): poison, not fatal.
      return { kind: 'failed', reason: `${(err as Error).name}: ${(err as Error).message}` };
    }
  }

  private get partitionKey(): string {
    const pk = this.options.keyNames[0];
    if (!pk) throw new RangeError(`IfAbsentWriter for ${this.tableName} needs the new table's key names`);
    return pk;
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
    foreignItems: ForeignItems,
  ): Promise<void> {
    const putOne = (i: number) => this.putOne(items[i] as Item, foreignItems);
    let pending = [...group];
    for (let round = 0; pending.length > 0; round++) {
      if (pending.length === 1) {
        outcomes[pending[0] as number] = await putOne(pending[0] as number);
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
                    ...putCondition(foreignItems, this.options.seqAttribute, this.partitionKey),
                    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
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
            const reason = reasons[k];
            if (reason?.Code === 'ConditionalCheckFailed')
              outcomes[i] = this.met(reason.Item ? fromSdkItem(reason.Item) : undefined);
            else next.push(i);
          });
          if (next.length === pending.length) {
            // Nothing was settled (conflicts, throttling or a bad item): back off, then isolate items.
            if (round >= 2) {
              await runPool(next, this.options.concurrency, async (i) => {
                outcomes[i] = await putOne(i);
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
          outcomes[i] = await putOne(i);
        });
        return;
      }
    }
  }

  /**
   * One batch of PartiQL INSERTs. Each statement's result is mapped on its own: DuplicateItem /
   * ConditionalCheckFailed = an item holds the key (settled by `settleDuplicates`); throttling and
   * server faults = only those statements are retried after a jittered backoff; ValidationError =
   * poison; anything else fails the page. A request refused as a whole for a validation reason names
   * no item: its items are isolated one by one with conditional PutItem (the `put` path classifies them).
   */
  private async insertBatch(
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
            this.client.send(
              new BatchExecuteStatementCommand({
                Statements: pending.map((i) => insertStatement(this.tableName, items[i] as Item)),
              }),
            ),
          this.timing,
        );
        responses = out.Responses ?? [];
      } catch (err) {
        if (isRetryable(err) || (err as Error).name !== 'ValidationException') throw err;
        await runPool(pending, 1, async (i) => {
          outcomes[i] = await this.putOne(items[i] as Item, foreignItems);
        });
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
            `PartiQL INSERT into ${this.tableName} failed with ${message}; the page is not settled and will be retried by the state machine (check the table and the function's dynamodb:PartiQLInsert permission)`,
            error?.Code ?? 'Unknown',
          );
      });
      if (retry.length === 0) break;
      if (round + 1 >= this.timing.backoff.maxAttempts) {
        throw new BatchStatementError(
          `${retry.length} PartiQL INSERT statements into ${this.tableName} still failed after ${round + 1} attempts (last: ${lastRetryable?.message}); the page is not settled and will be retried`,
          lastRetryable?.code ?? 'Unknown',
        );
      }
      this.timing.onRetry?.(lastRetryable, round);
      await this.timing.sleep(fullJitterDelay(round, this.timing.backoff, this.timing.random()));
      pending = retry;
    }
    if (duplicates.length) await this.settleDuplicates(duplicates, items, outcomes, foreignItems);
  }

  /**
   * An INSERT that met an item cannot tell whose it is. The item from the statement error (AWS may
   * return it with ALL_OLD; DynamoDB Local does not), else a consistent read, says: an item dualread
   * wrote is `exists`; a foreign item is overwritten (`overwrite`, by a conditional put that still
   * loses to a CDC write made meanwhile) or left (`foreign`). An item gone by the time it is read is
   * settled by the conditional put as well.
   */
  private async settleDuplicates(
    duplicates: ReadonlyArray<{ index: number; stored?: Item }>,
    items: readonly Item[],
    outcomes: WriteOutcome[],
    foreignItems: ForeignItems,
  ): Promise<void> {
    const keyOf = (i: number) => pick(items[i] as Item, this.options.keyNames);
    const unknown = duplicates.filter((d) => !d.stored).map((d) => keyOf(d.index));
    const read = unknown.length && this.options.existing ? await this.options.existing(unknown) : undefined;
    await runPool(duplicates, this.options.concurrency, async ({ index, stored }) => {
      const found = stored ?? read?.get(canonicalItem(keyOf(index)));
      if (found && !isForeignItem(found, this.options.seqAttribute)) outcomes[index] = { kind: 'exists' };
      else if (found && foreignItems !== ForeignItems.OVERWRITE) outcomes[index] = { kind: 'foreign' };
      else outcomes[index] = await this.putOne(items[index] as Item, foreignItems);
    });
  }
}

/** Most statements DynamoDB accepts in one BatchExecuteStatement. */
export const MAX_BATCH_STATEMENTS = 25;

/** A per-statement error of BatchExecuteStatement that fails the page (not about one item). */
export class BatchStatementError extends Error {
  override readonly name = 'BatchStatementError';
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
