/**
 * The legacy table's secondary indexes as DynamoDB describes them (DescribeTable: GSIs and LSIs), on
 * AWS and DynamoDB Local alike: the facts of the query-surface coverage (core/control/surface-coverage.ts).
 */
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LegacyIndexFact } from '../core/control';

/** The table's GSIs then LSIs, each by name. */
export async function describeIndexes(client: DynamoDBClient, tableName: string): Promise<LegacyIndexFact[]> {
  const table = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  return [
    ...(table?.GlobalSecondaryIndexes ?? []).map((i) => ({
      name: i.IndexName ?? '?',
      kind: 'global' as const,
    })),
    ...(table?.LocalSecondaryIndexes ?? []).map((i) => ({
      name: i.IndexName ?? '?',
      kind: 'local' as const,
    })),
  ];
}

/** A `FactsPorts.legacyIndexes` port over DescribeTable of the legacy table. */
export function legacyIndexesPort(
  client: DynamoDBClient,
  tableName: string,
): () => Promise<LegacyIndexFact[]> {
  return () => describeIndexes(client, tableName);
}
