/**
 * What `dualread plan` reads of a legacy table on AWS: item count, average item size and capacity
 * mode from DescribeTable (DynamoDB refreshes the first two about every six hours), and the write rate
 * from CloudWatch's `ConsumedWriteCapacityUnits` over the last 24 hours.
 */
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DualReadError } from '../core/common';
import { writeUnits } from '../core/plan';

/** The table DescribeTable could not describe; the message says which and what to do. */
export class TableStatsError extends DualReadError {}

/** A table's figures for planning. */
export interface TableStats {
  readonly itemCount: number;
  readonly averageItemBytes: number;
  readonly capacityMode: 'on-demand' | 'provisioned';
  /** Average writes per second over the last 24 h (write units ÷ units per average item). */
  readonly writesPerSecond: number;
}

const DAY_SECONDS = 86_400;

/** Reads `tableName`'s figures with the default credentials (optionally in `region`). */
export async function readTableStats(
  tableName: string,
  region?: string,
  now: () => number = Date.now,
  clients: { dynamo?: DynamoDBClient; cloudwatch?: CloudWatchClient } = {},
): Promise<TableStats> {
  const dynamo = clients.dynamo ?? new DynamoDBClient(region ? { region } : {});
  const cloudwatch = clients.cloudwatch ?? new CloudWatchClient(region ? { region } : {});
  let table;
  try {
    table = (await dynamo.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (err) {
    throw new TableStatsError(
      `DescribeTable ${tableName} failed (${(err as Error).name}: ${(err as Error).message}); check the name, ` +
        'the Region and your credentials, or give --items and --item-size instead',
    );
  }
  const itemCount = table?.ItemCount ?? 0;
  const averageItemBytes =
    itemCount > 0 ? Math.max(1, Math.round((table?.TableSizeBytes ?? 0) / itemCount)) : 1;
  const capacityMode = table?.BillingModeSummary?.BillingMode === 'PROVISIONED' ? 'provisioned' : 'on-demand';
  const end = new Date(now());
  const stats = await cloudwatch.send(
    new GetMetricStatisticsCommand({
      Namespace: 'AWS/DynamoDB',
      MetricName: 'ConsumedWriteCapacityUnits',
      Dimensions: [{ Name: 'TableName', Value: tableName }],
      StartTime: new Date(end.getTime() - DAY_SECONDS * 1000),
      EndTime: end,
      Period: DAY_SECONDS,
      Statistics: ['Sum'],
    }),
  );
  const units = (stats.Datapoints ?? []).reduce((a, d) => a + (d.Sum ?? 0), 0);
  return {
    itemCount,
    averageItemBytes,
    capacityMode,
    writesPerSecond: units / DAY_SECONDS / writeUnits(averageItemBytes),
  };
}
