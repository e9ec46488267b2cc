/**
 * `StreamSync`: the CDC path of one migration (docs/design.md §1, §4.2) — the sync Lambda fed by the legacy
 * table's stream from TRIM_HORIZON, failing per record (partial batch responses), bisecting, retrying a
 * bounded number of times and then sending the batch's description to an encrypted SQS dead-letter
 * queue; least-privilege access and alarms on the queue's depth, the iterator age and order
 * violations.
 *
 * Parallelization factor 1 (fixed, not a prop): with a factor above 1 Lambda processes one shard in
 * several concurrent batches, partitioned by partition key hash. Per-item order would survive that, but
 * (1) the progress-marker contract with the frontier tracker says a marker covers records first..last
 * of ONE shard-ordered batch, which concurrent sub-batches of a shard break (a marker's range would
 * contain records of other batches), and (2) the seq-regression check of the sync handler relies on a
 * batch being a shard-ordered run. Throughput per shard is bounded by one batch at a time; DynamoDB
 * scales shards with the table's write throughput, which is where the parallelism comes from.
 */
import { join } from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { allowOnTable, anyCountAlarm, controlItemsStatement, migrationMetric } from './alarms-grants';
import { deadLetterQueue } from './dead-letter-queue';
import { ConstructPropsError } from './errors';
import type { MigrationPartProps } from './migration-part-props';
import { DualReadFunction } from './nodejs-function';

/** CloudWatch namespace, service dimension and metric names of the sync Lambda (Powertools `Metrics`). */
export const SyncMetrics = {
  NAMESPACE: 'dualread',
  SERVICE: 'dualread-sync',
  APPLIED: 'Applied',
  SKIPPED_STALE: 'SkippedStale',
  TOMBSTONES: 'Tombstones',
  FAILURES: 'Failures',
  ORDER_VIOLATIONS: 'OrderViolations',
  APPLY_LATENCY: 'ApplyLatency',
  RECORD_AGE: 'RecordAgeMs',
} as const;

/**
 * Props of `StreamSync`. The legacy table must have `tableStreamArn` (a NEW_AND_OLD_IMAGES stream); the
 * changes are applied to the new table; on the control table, STATE is read and APPLIED# progress
 * markers are written.
 */
export interface StreamSyncProps extends MigrationPartProps {
  /**
   * An existing queue to use as the on-failure destination. Give this or `deadLetterQueueProps`, not both.
   *
   * @default - an SQS-encrypted queue that refuses non-TLS access, 14 days retention
   */
  readonly existingDeadLetterQueueObj?: sqs.IQueue;
  /** Overrides of the dead-letter queue the construct creates. @default - see `existingDeadLetterQueueObj` */
  readonly deadLetterQueueProps?: sqs.QueueProps;
  /** Records per invocation (1..10000). @default 100 */
  readonly batchSize?: number;
  /** How long Lambda gathers records before invoking (0..300 s). @default Duration.seconds(1) */
  readonly maxBatchingWindow?: Duration;
  /** Retries of a failing batch before it goes to the dead-letter queue (0..10000). @default 10 */
  readonly retryAttempts?: number;
  /**
   * Records older than this go to the dead-letter queue instead of being applied (they then hold the
   * frontier back until replayed or waived). 60 s .. 7 days; below the stream's 24 h retention to be
   * useful. @default Duration.hours(12)
   */
  readonly maxRecordAge?: Duration;
  /**
   * Time after backfill completion before tombstones may expire; must exceed the stream's 24 h
   * retention (a late replay of an older record would otherwise resurrect a deleted item).
   *
   * @default Duration.days(7)
   */
  readonly tombstoneMargin?: Duration;
  /** Iterator age above which the lag alarm fires. @default Duration.minutes(1) */
  readonly iteratorAgeAlarmThreshold?: Duration;
  /** Lambda timeout. @default Duration.seconds(60) */
  readonly timeout?: Duration;
}

/** The stream sync of one migration. */
export class StreamSync extends Construct {
  /** The sync Lambda. */
  public readonly function: DualReadFunction;
  /** The on-failure destination of the event source mapping. */
  public readonly deadLetterQueue: sqs.IQueue;
  /** The event source mapping (stream → function). */
  public readonly eventSource: DynamoEventSource;
  /** Fires when any batch is in the dead-letter queue. */
  public readonly deadLetterAlarm: cloudwatch.Alarm;
  /** Fires when the sync falls behind the stream. */
  public readonly iteratorAgeAlarm: cloudwatch.Alarm;
  /** Fires when the sync counts a per-item order violation (docs/correctness.md). */
  public readonly orderViolationAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: StreamSyncProps) {
    super(scope, id);
    const { migration } = props;
    validateStreamSyncProps(props);
    const batchSize = props.batchSize ?? 100;
    const margin = props.tombstoneMargin ?? Duration.days(7);

    this.deadLetterQueue =
      props.existingDeadLetterQueueObj ??
      deadLetterQueue(
        this,
        {
          redrive:
            'This queue IS the dead-letter queue of the sync event source mapping; operators replay its messages ' +
            '(docs/runbook.md "CDC dead letters"), and a redrive policy would move them out of sight.',
          sqs3:
            'This queue IS the dead-letter queue: it is the on-failure destination of the sync event source mapping ' +
            '(it receives descriptions of batches that could not be applied). A dead-letter queue of a dead-letter ' +
            'queue would only move the same messages once more.',
        },
        props.deadLetterQueueProps,
      );

    this.function = new DualReadFunction(this, 'Function', {
      entry: join(__dirname, '..', 'lambdas', 'sync', 'index.ts'),
      definitionsFile: props.definitionsFile,
      observability: props.lambdaObservability,
      description: `dualread stream sync of migration ${migration.id}`,
      timeout: props.timeout ?? Duration.seconds(60),
      environment: {
        MIGRATION_ID: migration.id,
        CONTROL_TABLE_NAME: props.controlTable.tableName,
        NEW_TABLE_NAME: props.newTable.tableName,
        TOMBSTONE_MARGIN_HOURS: String(margin.toHours({ integral: false })),
        POWERTOOLS_SERVICE_NAME: SyncMetrics.SERVICE,
        POWERTOOLS_METRICS_NAMESPACE: SyncMetrics.NAMESPACE,
      },
    });

    this.eventSource = new DynamoEventSource(props.legacyTable, {
      // Everything still in the stream: backfill starts only once this consumes from TRIM_HORIZON.
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize,
      maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(1),
      bisectBatchOnError: true,
      retryAttempts: props.retryAttempts ?? 10,
      maxRecordAge: props.maxRecordAge ?? Duration.hours(12),
      // See the file comment: per-shard order and the progress-marker contract.
      parallelizationFactor: 1,
      reportBatchItemFailures: true,
      onFailure: new SqsDlq(this.deadLetterQueue),
    });
    this.function.addEventSource(this.eventSource);
    Validations.of(this.function.role ?? this.function).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'dynamodb:ListStreams, which the DynamoDB Streams event source mapping needs on the execution role, has no ' +
        'resource-level permissions, nor have X-Ray PutTraceSegments and PutTelemetryRecords (active tracing); the ' +
        'stream reads themselves are granted on the legacy stream ARN only.',
    });

    // Least privilege: put items (under the apply rule's condition, in the code) into the new table only;
    // read STATE and write progress markers of this migration only (leading key MIGRATION#<id>).
    // PartiQLInsert: the put-if-absent fast path of INSERT records (core/cdc/coalesce.ts).
    allowOnTable(
      this.function,
      'ApplyChangesToNewTable',
      ['dynamodb:PartiQLInsert', 'dynamodb:PutItem'],
      props.newTable,
    );
    this.function.addToRolePolicy(
      controlItemsStatement(props.controlTable, migration.id, ['dynamodb:GetItem', 'dynamodb:PutItem']),
    );
    props.newTable.encryptionKey?.grantEncryptDecrypt(this.function);
    props.controlTable.encryptionKey?.grantEncryptDecrypt(this.function);

    this.deadLetterAlarm = anyCountAlarm(
      this,
      'DeadLetterAlarm',
      `A stream batch of migration ${migration.id} could not be applied and is in the dead-letter queue: the ` +
        'frontier is held back until it is replayed or waived. See docs/runbook.md "CDC dead letters".',
      this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
    );
    const iteratorAge = props.iteratorAgeAlarmThreshold ?? Duration.minutes(1);
    this.iteratorAgeAlarm = new cloudwatch.Alarm(this, 'IteratorAgeAlarm', {
      alarmDescription:
        `The stream sync of migration ${migration.id} is more than ${iteratorAge.toSeconds()} s behind the stream ` +
        '(records older than 24 h are lost from the stream). See docs/runbook.md "CDC lag".',
      metric: this.function.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1) }),
      threshold: iteratorAge.toMilliseconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.orderViolationAlarm = anyCountAlarm(
      this,
      'OrderViolationAlarm',
      `The stream sync of migration ${migration.id} saw a per-item order violation (docs/correctness.md "Apply ` +
        'rule"): a change may have been lost. Run a verification with repair. See docs/runbook.md "CDC order violation".',
      migrationMetric(SyncMetrics, SyncMetrics.ORDER_VIOLATIONS, migration.id, 'Sum'),
    );
  }
}

/**
 * @throws ConstructPropsError for an invalid combination of props
 */
function validateStreamSyncProps(props: StreamSyncProps): void {
  const fail = (problem: string): never => {
    throw new ConstructPropsError('StreamSync', props.migration.id, problem);
  };
  if (props.existingDeadLetterQueueObj && props.deadLetterQueueProps) {
    fail('give existingDeadLetterQueueObj or deadLetterQueueProps, not both');
  }
  if (!props.legacyTable.tableStreamArn) {
    fail('legacyTable has no tableStreamArn: import it with Table.fromTableAttributes({ tableStreamArn })');
  }
  const batchSize = props.batchSize ?? 100;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    fail(`batchSize must be an integer from 1 to 10000, not ${batchSize}`);
  }
  const retries = props.retryAttempts ?? 10;
  if (!Number.isInteger(retries) || retries < 0 || retries > 10_000) {
    fail(`retryAttempts must be bounded: an integer from 0 to 10000, not ${retries}`);
  }
  const age = props.maxRecordAge?.toSeconds();
  if (age !== undefined && (age < 60 || age > 7 * 24 * 3600)) {
    fail(`maxRecordAge must be from 60 s to 7 days, not ${age} s`);
  }
  const margin = props.tombstoneMargin?.toHours({ integral: false });
  if (margin !== undefined && margin <= 24) {
    fail(`tombstoneMargin must exceed the stream's 24 h retention, not ${margin} h`);
  }
}
