/**
 * The alarms and grants the migration constructs share: an alarm that fires on any count of a metric,
 * the Powertools metric of one migration, and the least-privilege statements on the control table
 * (this migration's items only) and on one table.
 *
 * Functions, not constructs: the resources are created in the caller's scope, so their construct paths
 * (and logical ids) are the caller's own.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/**
 * An alarm (in `scope`) that fires when `metric` is at least 1 in one period; missing data is not
 * breaching (nothing counted).
 */
export function anyCountAlarm(
  scope: Construct,
  id: string,
  alarmDescription: string,
  metric: cloudwatch.IMetric,
): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, id, {
    alarmDescription,
    metric,
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}

/** The namespace and service dimension a Lambda publishes its Powertools metrics under. */
export interface MetricSource {
  readonly NAMESPACE: string;
  readonly SERVICE: string;
}

/** Metric `metricName` a Lambda of `source` publishes for one migration (dimensions service, migrationId). */
export function migrationMetric(
  source: MetricSource,
  metricName: string,
  migrationId: string,
  statistic: 'Sum' | 'Maximum' | 'Average' | 'p50' | 'p99',
  period: Duration = Duration.minutes(1),
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: source.NAMESPACE,
    metricName,
    dimensionsMap: { service: source.SERVICE, migrationId },
    statistic,
    period,
  });
}

/**
 * `actions` on the control table, on this migration's items only (leading key `MIGRATION#<id>`).
 *
 * @param sid - @default 'MigrationControlItems'
 */
export function controlItemsStatement(
  controlTable: dynamodb.ITable,
  migrationId: string,
  actions: string[],
  sid = 'MigrationControlItems',
): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    actions,
    resources: [controlTable.tableArn],
    conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [`MIGRATION#${migrationId}`] } },
  });
}

/** DynamoDB actions that only describe a table: no item is read or written, so no key is used. */
const DESCRIBE_ONLY = new Set(['dynamodb:DescribeTable']);
/** DynamoDB actions that write items (with a customer-managed key: encrypt as well as decrypt). */
const WRITES =
  /^dynamodb:(PutItem|UpdateItem|DeleteItem|BatchWriteItem|PartiQLInsert|PartiQLUpdate|PartiQLDelete)$/;

/**
 * Adds to `fn`'s role a statement `sid` allowing `actions` on `table`; when the table is encrypted with
 * a customer-managed key (`table.encryptionKey`), also `kms:Decrypt` on it for reads, and encrypt and
 * decrypt for writes: without it every read of such a table fails with AccessDenied.
 */
export function allowOnTable(
  fn: iam.IGrantable & { addToRolePolicy(statement: iam.PolicyStatement): void },
  sid: string,
  actions: string[],
  table: dynamodb.ITable,
): void {
  fn.addToRolePolicy(new iam.PolicyStatement({ sid, actions, resources: [table.tableArn] }));
  const key = table.encryptionKey;
  if (!key || actions.every((a) => DESCRIBE_ONLY.has(a))) return;
  if (actions.some((a) => WRITES.test(a))) key.grantEncryptDecrypt(fn);
  else key.grantDecrypt(fn);
}
