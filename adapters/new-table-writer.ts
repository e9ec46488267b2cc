/**
 * The new table's conditional writer: one `PutItem` per change under the apply rule's condition
 * (core/cdc/apply-rule.ts). A failed condition becomes the domain's `StaleChangeError`, carrying the stored
 * item (`ReturnValuesOnConditionCheckFailure: ALL_OLD`) so the core can tell a duplicate from a stale
 * replay from an order violation without a second read. `insertIfAbsent` is the batched fast path of
 * changes whose key is absent (core/cdc/coalesce.ts): PartiQL INSERTs, 25 per BatchExecuteStatement.
 */
import {
  BatchExecuteStatementCommand,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { type NewTableWriterPort, StaleChangeError, type WritePlan } from '../core/cdc';
import {
  MAX_BATCH_STATEMENTS,
  StatementErrorKind,
  classifyStatementError,
  insertStatement,
} from './backfill-io/partiql';
import { fromSdkItem, toSdkItem } from './dynamodb';

/** Writes apply-rule plans to the new table. */
export class NewTableWriter implements NewTableWriterPort {
  /** Write requests sent (PutItem and BatchExecuteStatement), for the requests-per-record figure. */
  requests = 0;
  /** The last error of a whole BatchExecuteStatement request (its plans fell back to PutItem). */
  lastBatchError: string | undefined;

  constructor(
    private readonly client: DynamoDBClient,
    readonly tableName: string,
  ) {}

  /** @throws StaleChangeError when the condition fails; other SDK errors propagate (retryable). */
  async write(plan: WritePlan): Promise<void> {
    const values = plan.condition.values;
    this.requests++;
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: toSdkItem(plan.item),
          ConditionExpression: plan.condition.expression,
          ExpressionAttributeNames: { ...plan.condition.names },
          ...(Object.keys(values).length ? { ExpressionAttributeValues: toSdkItem(values) } : {}),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        throw new StaleChangeError(plan.seq, err.Item ? fromSdkItem(err.Item) : undefined);
      }
      throw err;
    }
  }

  /**
   * PartiQL INSERT per plan (distinct keys), 25 per request. A statement that did not succeed, for
   * whatever reason (the key exists, throttling, a validation error), and every statement of a request
   * that failed as a whole, answers false: the caller's conditional put decides it, retries it or
   * fails it with its own error, exactly as without this path.
   */
  async insertIfAbsent(plans: readonly WritePlan[]): Promise<boolean[]> {
    const out = plans.map(() => false);
    const chunks: number[][] = [];
    for (let i = 0; i < plans.length; i += MAX_BATCH_STATEMENTS)
      chunks.push(plans.slice(i, i + MAX_BATCH_STATEMENTS).map((_, k) => i + k));
    await Promise.all(
      chunks.map(async (chunk) => {
        this.requests++;
        try {
          const res = await this.client.send(
            new BatchExecuteStatementCommand({
              Statements: chunk.map((i) => insertStatement(this.tableName, (plans[i] as WritePlan).item)),
            }),
          );
          chunk.forEach((i, k) => {
            const r = res.Responses?.[k];
            out[i] = r !== undefined && classifyStatementError(r.Error?.Code) === StatementErrorKind.OK;
          });
        } catch (err) {
          // The request failed as a whole: every plan of it goes through the conditional put.
          this.lastBatchError = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        }
      }),
    );
    return out;
  }
}
