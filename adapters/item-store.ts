/**
 * Reads of user items for the read API: GetItem and Query on one table, with an abort signal per call
 * (per-store timeouts) and SDK failures turned into one domain error whose `retryable` says whether a
 * retry can help.
 */
import { type DynamoDBClient, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { DYNAMO_TRANSIENT_ERRORS, DualReadError } from '../core/common';
import type { AttributeValue, Item } from '../core/model';
import { fromSdkItem, toSdkItem } from './dynamodb';

/** A store read failed (or was aborted). */
export class StoreReadError extends DualReadError {
  constructor(
    readonly table: string,
    readonly retryable: boolean,
    readonly timedOut: boolean,
    cause: unknown,
    /** DynamoDB refused the request as invalid (a request the API should have refused first). */
    readonly invalid = false,
  ) {
    super(
      `reading table "${table}" failed: ${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)}`,
    );
  }
}

/** A sort-key condition of a query (names are bound by the store). */
export type SortCondition =
  | { readonly op: 'eq' | 'lt' | 'le' | 'gt' | 'ge' | 'beginsWith'; readonly value: AttributeValue }
  | { readonly op: 'between'; readonly value: AttributeValue; readonly to: AttributeValue };

/** One query page request. */
export interface QueryPageInput {
  readonly partitionName: string;
  readonly partitionValue: AttributeValue;
  readonly sortName?: string;
  readonly sort?: SortCondition;
  readonly limit: number;
  readonly forward: boolean;
  readonly startKey?: Item;
  /** Query this index instead of the table. */
  readonly indexName?: string;
  /** Strongly consistent read; a GSI allows only eventually consistent ones. @default true */
  readonly consistent?: boolean;
}

/** A query page. */
export interface QueryPage {
  readonly items: readonly Item[];
  readonly lastKey?: Item;
}

/** The read port of one table. */
export interface ItemStore {
  readonly tableName: string;
  get(key: Item, signal: AbortSignal): Promise<Item | undefined>;
  query(input: QueryPageInput, signal: AbortSignal): Promise<QueryPage>;
}

const SORT_EXPRESSIONS = {
  eq: '#sk = :sk',
  lt: '#sk < :sk',
  le: '#sk <= :sk',
  gt: '#sk > :sk',
  ge: '#sk >= :sk',
  beginsWith: 'begins_with(#sk, :sk)',
  between: '#sk BETWEEN :sk AND :sk2',
} as const;

const RETRYABLE: ReadonlySet<string> = new Set(DYNAMO_TRANSIENT_ERRORS);

function isRetryable(err: unknown): boolean {
  const e = err as {
    name?: string;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
    code?: string;
  };
  if (e?.$retryable) return true;
  if (e?.name && RETRYABLE.has(e.name)) return true;
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  // Network errors (connection refused or reset) from the HTTP handler.
  return typeof e?.code === 'string' && /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EAI_AGAIN)$/.test(e.code);
}

/**
 * `ItemStore` on a DynamoDB table. Strongly consistent reads of the table: the frontier argument needs
 * them; a GSI query is eventually consistent, which the index-propagation margin covers.
 */
export class DynamoItemStore implements ItemStore {
  constructor(
    private readonly client: DynamoDBClient,
    readonly tableName: string,
  ) {}

  private fail(err: unknown, signal: AbortSignal): never {
    if (signal.aborted) throw new StoreReadError(this.tableName, false, true, signal.reason ?? err);
    const invalid = (err as { name?: string })?.name === 'ValidationException';
    throw new StoreReadError(this.tableName, isRetryable(err), false, err, invalid);
  }

  async get(key: Item, signal: AbortSignal): Promise<Item | undefined> {
    try {
      const out = await this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: toSdkItem(key), ConsistentRead: true }),
        { abortSignal: signal },
      );
      return out.Item ? fromSdkItem(out.Item) : undefined;
    } catch (err) {
      this.fail(err, signal);
    }
  }

  async query(input: QueryPageInput, signal: AbortSignal): Promise<QueryPage> {
    const names: Record<string, string> = { '#pk': input.partitionName };
    const values: Record<string, AttributeValue> = { ':pk': input.partitionValue };
    let condition = '#pk = :pk';
    if (input.sort && input.sortName) {
      names['#sk'] = input.sortName;
      values[':sk'] = input.sort.value;
      if (input.sort.op === 'between') values[':sk2'] = input.sort.to;
      condition += ` AND ${SORT_EXPRESSIONS[input.sort.op]}`;
    }
    try {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: toSdkItem(values),
          Limit: input.limit,
          ScanIndexForward: input.forward,
          ConsistentRead: input.consistent ?? true,
          ...(input.indexName ? { IndexName: input.indexName } : {}),
          ...(input.startKey ? { ExclusiveStartKey: toSdkItem(input.startKey) } : {}),
        }),
        { abortSignal: signal },
      );
      return {
        items: (out.Items ?? []).map(fromSdkItem),
        ...(out.LastEvaluatedKey ? { lastKey: fromSdkItem(out.LastEvaluatedKey) } : {}),
      };
    } catch (err) {
      this.fail(err, signal);
    }
  }
}
