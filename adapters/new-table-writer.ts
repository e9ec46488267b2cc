/**
 * The new table's conditional writer: one `PutItem` per change under the apply rule's condition
 * (core/cdc/apply-rule.ts). A failed condition becomes the domain's `StaleChangeError`, carrying the stored
 * item (`ReturnValuesOnConditionCheckFailure: ALL_OLD`) so the core can tell a duplicate from a stale
 * replay from an order violation without a second read.
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { type NewTableWriterPort, StaleChangeError, type WritePlan } from '../core/cdc';
import { fromSdkItem, toSdkItem } from './dynamodb';

/** Writes apply-rule plans to the new table. */
export class NewTableWriter implements NewTableWriterPort {
  constructor(
    private readonly client: DynamoDBClient,
    readonly tableName: string,
  ) {}

  /** @throws StaleChangeError when the condition fails; other SDK errors propagate (retryable). */
  async write(plan: WritePlan): Promise<void> {
    const values = plan.condition.values;
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
}
