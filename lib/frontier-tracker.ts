/**
 * `FrontierTracking`: the frontier tracker Lambda of one migration (docs/design.md §4.4), invoked every minute
 * by EventBridge and looping inside for about a minute, with least-privilege access and alarms on the
 * frontier's lag and on violated assumptions.
 */
import { join } from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { Migration } from '../core/model';
import { DEFAULT_FRONTIER_LOOP_INTERVAL_MS } from '../core/frontier';
import { allowOnTable, anyCountAlarm, controlItemsStatement, migrationMetric } from './alarms-grants';
import { ConstructPropsError } from './errors';
import { DualReadFunction, type LambdaObservability } from './nodejs-function';

/** CloudWatch namespace and service dimension of the tracker's metrics (Powertools `Metrics`). */
export const FrontierMetrics = {
  NAMESPACE: 'dualread',
  SERVICE: 'dualread-frontier',
  LAG: 'FrontierLagSeconds',
  VIOLATIONS: 'FrontierAssumptionViolations',
  PENDING: 'FrontierPendingRecords',
  DEAD_LETTERED: 'FrontierDeadLettered',
  LATE_RECORDS: 'FrontierLateRecords',
} as const;

/** Props of `FrontierTracking`. */
export interface FrontierTrackingProps {
  /** The validated migration definition. */
  readonly migration: Migration;
  /** The stack's control table (FRONTIER, SHARD#, APPLIED#, WAIVER# items). */
  readonly controlTable: dynamodb.ITable;
  /** The new table, read for evidence (`_dr_seq` of the items). */
  readonly newTable: dynamodb.ITable;
  /** ARN of the legacy table's stream. */
  readonly legacyStreamArn: string;
  /**
   * The legacy table's customer-managed key: stream records are encrypted with it, so the tracker may
   * decrypt with it. @default none (AWS-owned or AWS-managed encryption)
   */
  readonly legacyTableKey?: kms.IKey;
  /** Absolute path of the migration definitions file bundled as `dualread-definitions`. */
  readonly definitionsFile: string;
  /** Tracing and log retention of the functions. @default - see `LambdaObservability` */
  readonly lambdaObservability?: LambdaObservability;
  /**
   * How long one invocation loops. Must leave room under one minute plus the timeout margin.
   *
   * @default Duration.seconds(55)
   */
  readonly loopDuration?: Duration;
  /**
   * Time between tracker steps: frontier lag is about the propagation margin plus one or two steps
   * (docs/correctness.md "Frontier lag"). Each step calls DescribeStream once (the API allows 10 calls a
   * second per account and Region); with several migrations in one account, raise it.
   *
   * @default Duration.millis(250)
   */
  readonly loopInterval?: Duration;
  /**
   * Stream propagation margin (assumption A3 in docs/correctness.md).
   *
   * @default Duration.seconds(1)
   */
  readonly propagationMargin?: Duration;
  /**
   * Tip detection (assumption T1 in docs/correctness.md): an empty GetRecords page counts as the tip of
   * a shard only when it ends this many consecutive empty pages...
   *
   * @default 3
   */
  readonly tipEmptyPages?: number;
  /**
   * ...whose first and last pages started at least this far apart.
   *
   * @default Duration.seconds(1)
   */
  readonly tipMinSpan?: Duration;
  /**
   * How long a closed shard none of whose children DescribeStream lists yet keeps holding `F` back
   * (DescribeStream may list a closed parent before its children; assumption A4).
   *
   * @default Duration.minutes(5)
   */
  readonly childListingWait?: Duration;
  /**
   * Lag of `F` above which the lag alarm fires. Above the staleness budget, bounded reads fall back to
   * legacy, so this is the point where dual read stops serving from the new table.
   *
   * @default - the migration's `read.stalenessBudgetMs`
   */
  readonly lagAlarmThreshold?: Duration;
}

/** The frontier tracker of one migration. */
export class FrontierTracking extends Construct {
  /** The tracker Lambda. */
  public readonly function: DualReadFunction;
  /** The EventBridge rule that invokes it every minute. */
  public readonly schedule: events.Rule;
  /** Fires when `F` lags more than the threshold (or the tracker stops reporting). */
  public readonly lagAlarm: cloudwatch.Alarm;
  /** Fires when the tracker counts any assumption violation. */
  public readonly violationsAlarm: cloudwatch.Alarm;
  /**
   * Fires on a late record: `F` was published past a record that was not applied yet, so bounded reads
   * may have been served stale. Automatic rollback on it comes with the control plane.
   */
  public readonly lateRecordAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: FrontierTrackingProps) {
    super(scope, id);
    const { migration } = props;
    const loop = props.loopDuration ?? Duration.seconds(55);
    const interval = props.loopInterval ?? Duration.millis(DEFAULT_FRONTIER_LOOP_INTERVAL_MS);
    if (
      loop.toMilliseconds() > 58_000 ||
      interval.toMilliseconds() < 100 ||
      interval.toMilliseconds() > loop.toMilliseconds()
    ) {
      throw new ConstructPropsError(
        'FrontierTracking',
        migration.id,
        `loopDuration (${loop.toSeconds()} s) must be at most 58 s, so one run ends before the next minute's, and ` +
          `loopInterval (${interval.toMilliseconds()} ms) between 100 ms and loopDuration`,
      );
    }
    const margin = props.propagationMargin ?? Duration.seconds(1);
    const tipEmptyPages = props.tipEmptyPages ?? 3;
    if (!Number.isInteger(tipEmptyPages) || tipEmptyPages < 1) {
      throw new ConstructPropsError(
        'FrontierTracking',
        migration.id,
        `tipEmptyPages (${tipEmptyPages}) must be a whole number of at least 1: the consecutive empty pages before a shard counts as read to its tip`,
      );
    }
    const tipMinSpan = props.tipMinSpan ?? Duration.seconds(1);
    const childListingWait = props.childListingWait ?? Duration.minutes(5);

    this.function = new DualReadFunction(this, 'Function', {
      entry: join(__dirname, '..', 'lambdas', 'frontier', 'index.ts'),
      definitionsFile: props.definitionsFile,
      observability: props.lambdaObservability,
      description: `dualread frontier tracker of migration ${migration.id}`,
      // A little above the loop, so a run always ends by itself and publishes its last step.
      timeout: Duration.millis(loop.toMilliseconds() + 15_000),
      // One publisher at a time: F is a versioned item that must never go backwards, and two trackers
      // would also double the stream reads (DynamoDB Streams allows ~2 readers per shard, and the sync
      // Lambda is one of them).
      reservedConcurrentExecutions: 1,
      // A run still going when the next minute's event arrives throttles that event (reserved
      // concurrency 1); Lambda retries throttled events until they are maxEventAge old, so the event
      // starts the next run as soon as this one ends, and is dropped rather than piled up after 60 s.
      // Function errors are not retried: the next minute brings another event.
      retryAttempts: 0,
      maxEventAge: Duration.seconds(60),
      environment: {
        MIGRATION_ID: migration.id,
        CONTROL_TABLE_NAME: props.controlTable.tableName,
        NEW_TABLE_NAME: props.newTable.tableName,
        LEGACY_STREAM_ARN: props.legacyStreamArn,
        LOOP_DURATION_MS: String(loop.toMilliseconds()),
        LOOP_INTERVAL_MS: String(interval.toMilliseconds()),
        PROPAGATION_MARGIN_MS: String(margin.toMilliseconds()),
        CREATION_GRANULARITY_MS: '1000',
        TIP_EMPTY_PAGES: String(tipEmptyPages),
        TIP_MIN_SPAN_MS: String(tipMinSpan.toMilliseconds()),
        CHILD_LISTING_WAIT_MS: String(childListingWait.toMilliseconds()),
        POWERTOOLS_SERVICE_NAME: FrontierMetrics.SERVICE,
        POWERTOOLS_METRICS_NAMESPACE: FrontierMetrics.NAMESPACE,
      },
    });

    // Least privilege: read the one stream; read items of the new table in batches (the evidence);
    // read and write only this migration's control items (leading key MIGRATION#<id>).
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadLegacyStream',
        actions: ['dynamodb:DescribeStream', 'dynamodb:GetShardIterator', 'dynamodb:GetRecords'],
        resources: [props.legacyStreamArn],
      }),
    );
    props.legacyTableKey?.grantDecrypt(this.function);
    allowOnTable(this.function, 'ReadNewItemSequences', ['dynamodb:BatchGetItem'], props.newTable);
    this.function.addToRolePolicy(
      controlItemsStatement(props.controlTable, migration.id, [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
      ]),
    );
    // Imported or customer-managed-key tables: let CDK add the key grants it knows about.
    props.newTable.encryptionKey?.grantDecrypt(this.function);
    props.controlTable.encryptionKey?.grantEncryptDecrypt(this.function);

    this.schedule = new events.Rule(this, 'Schedule', {
      description: `Runs the frontier tracker of migration ${migration.id} every minute (it loops inside)`,
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [
        new targets.LambdaFunction(this.function, { retryAttempts: 0, maxEventAge: Duration.minutes(1) }),
      ],
    });

    const dropped =
      "A failed or throttled tick is dropped on purpose: the next minute's tick starts the next run, and replaying " +
      'old ticks would only queue runs that reserved concurrency 1 throttles. A tracker that stops running shows as ' +
      'missing FrontierLagSeconds, which the lag alarm treats as breaching.';
    Validations.of(this.function).acknowledge({
      id: 'Serverless-LambdaAsyncFailureDestination',
      reason: dropped,
    });
    Validations.of(this.schedule).acknowledge({ id: 'Serverless-EventBusDLQ', reason: dropped });

    const budget = props.lagAlarmThreshold ?? Duration.millis(migration.read.stalenessBudgetMs);
    this.lagAlarm = new cloudwatch.Alarm(this, 'LagAlarm', {
      alarmDescription:
        `Frontier of migration ${migration.id} lags more than ${budget.toSeconds()} s (the staleness budget): ` +
        'bounded reads fall back to legacy. Missing data counts as breaching: a tracker that stopped reporting ' +
        'leaves F stale. See docs/runbook.md "Frontier".',
      metric: migrationMetric(FrontierMetrics, FrontierMetrics.LAG, migration.id, 'Maximum'),
      threshold: budget.toSeconds({ integral: false }),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    this.violationsAlarm = anyCountAlarm(
      this,
      'ViolationsAlarm',
      `The frontier tracker of migration ${migration.id} counted a violated assumption (docs/correctness.md ` +
        '"Frontier"): F may be wrong. Roll back dual read and follow docs/runbook.md "Frontier".',
      migrationMetric(FrontierMetrics, FrontierMetrics.VIOLATIONS, migration.id, 'Sum'),
    );
    this.lateRecordAlarm = anyCountAlarm(
      this,
      'LateRecordAlarm',
      `The frontier tracker of migration ${migration.id} read a late record: F had been published past a ` +
        'record that was not applied yet, so bounded reads from the new table may have been stale. Roll dual ' +
        'read back now (automatic rollback comes with the control plane) and follow docs/runbook.md "Frontier".',
      migrationMetric(FrontierMetrics, FrontierMetrics.LATE_RECORDS, migration.id, 'Sum'),
    );
  }
}
