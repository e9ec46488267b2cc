/**
 * `DualReadMigration`: the reusable L3 construct for one live migration from a legacy DynamoDB table
 * to a new one: the tables (new created or imported, legacy imported), and, given the definitions
 * file, the stream sync, backfill, frontier tracker, verification, read API, control Lambda, alarms
 * and dashboard.
 */
import { Duration, Stack, Tags, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AlarmNotifications, createAlarmTopic } from './alarm-topic';
import type { Migration } from '../core/model';
import {
  addDeclaredIndexes,
  defaultNewTableProps,
  exampleLegacyTableProps,
  newTableIdentityProps,
} from './defaults';
import { ControlFunction } from './control-function';
import { MigrationDashboard } from './dashboard';
import { FrontierTracking, type FrontierTrackingProps } from './frontier-tracker';
import { rootStackName } from './lambda-workflow';
import { mergeProps } from './merge-props';
import type { LambdaObservability } from './nodejs-function';
import { ReadApi, type ReadApiProps } from './read-api';
import { parseStreamArn, validateDualReadMigrationProps } from './validate-props';
import { StreamSync, type StreamSyncProps } from './stream-sync';
import { Backfill, type BackfillProps } from './backfill';
import { Verification, type VerificationProps } from './verification';

/**
 * Table props a caller may override on the new table. Its name, key and TTL attribute are facts of the
 * migration definition (the handlers and local mode read the same definition), so they are not here.
 */
export type NewTableOverrides = Omit<
  dynamodb.TableProps,
  'tableName' | 'partitionKey' | 'sortKey' | 'timeToLiveAttribute'
>;

/** Props of `DualReadMigration`. */
export interface DualReadMigrationProps {
  /** The validated migration definition: the result of `defineMigration({...})`. */
  readonly migration: Migration;

  /**
   * The stack's control table, shared by every migration in the stack (see `ControlTable`).
   */
  readonly controlTable: dynamodb.ITable;

  /**
   * An existing new table to use instead of creating one. Its name must be `migration.newTable.tableName`.
   * Give this or `newTableProps`, not both.
   *
   * @default - the table is created (with `newTableProps`) when `migration.newTable.create` is true,
   *   and imported by `migration.newTable.tableName` when it is false
   */
  readonly existingNewTableObj?: dynamodb.ITable;

  /**
   * Overrides of the defaults of the new table the construct creates. Not allowed with
   * `existingNewTableObj` or with `migration.newTable.create: false`.
   *
   * @default - on-demand billing, point-in-time recovery, AWS-managed encryption, `RemovalPolicy.RETAIN`;
   *   name and key from `migration.newTable`, TTL attribute `<metadataPrefix>ttl` (always)
   */
  readonly newTableProps?: NewTableOverrides;

  /**
   * The existing legacy table, for example from `Table.fromTableAttributes` with `tableStreamArn`.
   * Not allowed with `createLegacyTableForExample`.
   *
   * @default - imported from `migration.legacyTable`: its name and `streamArn` (required then)
   */
  readonly existingLegacyTableObj?: dynamodb.ITable;

  /**
   * Create the legacy table, with a `NEW_AND_OLD_IMAGES` stream and `RemovalPolicy.DESTROY`, instead of
   * importing it. For example and rehearsal stacks only: a real legacy table already exists and is
   * never created or changed by this construct.
   *
   * @default false
   */
  readonly createLegacyTableForExample?: boolean;

  /**
   * Absolute path of the migration definitions file, bundled into the migration's Lambdas as
   * `dualread-definitions` (`DualReadStack` passes its own).
   *
   * @default - no Lambdas are created, only the tables
   */
  readonly definitionsFile?: string;

  /**
   * The SNS topic every alarm of this migration notifies, on ALARM and on OK. An existing topic must let
   * CloudWatch publish (with SSE, a customer-managed key whose policy admits `cloudwatch.amazonaws.com`).
   *
   * @default - a topic created for this migration (`AlarmTopic`), encrypted with a customer-managed key
   *   CloudWatch may use; subscribe to it (docs/runbook.md "Alarms")
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * Sustained write throttling of the new table (minutes in a row with throttled writes) that fires the
   * new-table throttling alarm. The backfill slows down by itself on throttling; this alarm says when it
   * does not suffice (or CDC is throttled).
   *
   * @default 5
   */
  readonly newTableThrottleAlarmMinutes?: number;

  /**
   * Name of the migration's CloudWatch dashboard (phase and rollout, backfill, CDC and frontier lag,
   * reads, latency, shadow mismatches, dead letters, verification), created with the Lambdas.
   *
   * @default `<root stack name>-<migration id>`
   */
  readonly dashboardName?: string;

  /**
   * Tracing and log retention of every Lambda of the migration.
   *
   * @default - active X-Ray tracing (Powertools Tracer on), logs kept one year
   */
  readonly lambdaObservability?: LambdaObservability;

  /**
   * Settings of the frontier tracker (loop, interval, propagation margin, lag alarm threshold, tip
   * detection, child listing wait).
   *
   * @default - see `FrontierTrackingProps`
   */
  readonly frontierTrackingProps?: Pick<
    FrontierTrackingProps,
    | 'loopDuration'
    | 'loopInterval'
    | 'propagationMargin'
    | 'lagAlarmThreshold'
    | 'tipEmptyPages'
    | 'tipMinSpan'
    | 'childListingWait'
  >;

  /**
   * Settings of the dual-read API (API key and usage plan, stage, page-token secret, timeouts, alarms).
   *
   * @default - see `ReadApiProps`: IAM authorization only, stage `v1`
   */
  readonly readApiProps?: Pick<
    ReadApiProps,
    | 'apiKey'
    | 'pageTokenSecret'
    | 'stageName'
    | 'newTableTimeout'
    | 'latencyAlarmThreshold'
    | 'logRetention'
    | 'throttle'
    | 'reservedConcurrency'
    | 'serverErrorRateThreshold'
    | 'shadowMismatchRateThreshold'
  >;

  /**
   * Settings of the stream sync (event source batching, retries, record age, dead-letter queue,
   * tombstone margin, alarm threshold). The parallelization factor is fixed at 1 (see `StreamSync`).
   *
   * @default - see `StreamSyncProps`
   */
  readonly streamSyncProps?: Omit<
    StreamSyncProps,
    'migration' | 'legacyTable' | 'newTable' | 'controlTable' | 'definitionsFile' | 'lambdaObservability'
  >;

  /**
   * Settings of the backfill state machine (page budget, write mode and concurrency, name, log
   * retention). Segments, page size and rate come from `migration.backfill` and the start input.
   *
   * @default - see `BackfillProps`
   */
  readonly backfillProps?: Pick<
    BackfillProps,
    'pageBudget' | 'writeMode' | 'writeConcurrency' | 'stateMachineName' | 'logRetention' | 'stuckAfter'
  >;

  /**
   * Settings of the verification (invocation budget, frontier wait bound, schedule on/off, log
   * retention). Schedule, time zone and repair come from `migration.verification`.
   *
   * @default - see `VerificationProps`
   */
  readonly verificationProps?: Pick<
    VerificationProps,
    'budget' | 'maxLagWait' | 'scheduleEnabled' | 'logRetention' | 'stateMachineName'
  >;
}

/** One live migration from a legacy DynamoDB table to a new one. */
export class DualReadMigration extends Construct {
  /** The migration this construct deploys. */
  public readonly migration: Migration;
  /** The stack's control table. */
  public readonly controlTable: dynamodb.ITable;
  /** The new table, created or imported. */
  public readonly newTableInterface: dynamodb.ITable;
  /** The new table, when this construct created it. */
  public readonly newTable?: dynamodb.Table;
  /** The legacy table, imported (or created for an example). */
  public readonly legacyTableInterface: dynamodb.ITable;
  /** The legacy table, when it was created for an example. */
  public readonly legacyTable?: dynamodb.Table;
  /** ARN of the legacy table's stream, which the sync Lambda and the frontier tracker read. */
  public readonly legacyStreamArn: string;
  /** The frontier tracker (when `definitionsFile` is given). */
  public readonly frontierTracking?: FrontierTracking;
  /** The CDC sync: stream → sync Lambda → new table, with its dead-letter queue (when `definitionsFile` is given). */
  public readonly streamSync?: StreamSync;
  /** The backfill state machine (when `definitionsFile` is given; it needs the stream sync). */
  public readonly backfill?: Backfill;
  /** The dual-read API (when `definitionsFile` is given). */
  public readonly readApi?: ReadApi;
  /** Verification and reconciliation, scheduled (when `definitionsFile` is given). */
  public readonly verification?: Verification;
  /** The topic every alarm of this migration notifies (given or created). */
  public readonly alarmTopic: sns.ITopic;
  /** Fires when writes to the new table are throttled for `newTableThrottleAlarmMinutes` in a row. */
  public readonly newTableThrottleAlarm: cloudwatch.Alarm;
  /**
   * The alarms on which dual read goes back to the last safe phase (DUAL_READ and NEW_PRIMARY → SHADOW):
   * read 5xx rate, confirmed shadow mismatch rate, frontier lag over budget, dead-letter queue not
   * empty, iterator age, order violations, frontier assumption violations and late records. Empty
   * without `definitionsFile` (no Lambdas, nothing to roll back).
   */
  public readonly rollbackAlarms: readonly cloudwatch.IAlarm[] = [];
  /** The control Lambda the rollback alarms invoke (lib/control-function.ts). */
  public readonly control?: ControlFunction;
  /** The migration's CloudWatch dashboard (when `definitionsFile` is given). */
  public readonly dashboard?: MigrationDashboard;

  constructor(scope: Construct, id: string, props: DualReadMigrationProps) {
    super(scope, id);
    const region = Stack.of(this).region;
    validateDualReadMigrationProps(props, Token.isUnresolved(region) ? undefined : region);
    const { migration } = props;
    this.migration = migration;
    this.controlTable = props.controlTable;

    // New table: given, imported by name, or created.
    if (props.existingNewTableObj) {
      this.newTableInterface = props.existingNewTableObj;
    } else if (!migration.newTable.create) {
      this.newTableInterface = dynamodb.Table.fromTableName(this, 'NewTable', migration.newTable.tableName);
    } else {
      // The migration's name, key and TTL attribute are applied last, so no override can change them.
      const tableProps = {
        ...mergeProps(defaultNewTableProps(migration), props.newTableProps),
        ...newTableIdentityProps(migration),
      };
      this.newTable = new dynamodb.Table(this, 'NewTable', tableProps);
      // The GSIs the query surfaces read (docs/architecture.md "Query surfaces").
      addDeclaredIndexes(this.newTable, migration.newTable.indexes);
      this.newTableInterface = this.newTable;
    }

    // Legacy table: created for an example, given, or imported from the definition's name and stream.
    if (props.createLegacyTableForExample) {
      this.legacyTable = new dynamodb.Table(this, 'LegacyTable', exampleLegacyTableProps(migration));
      addDeclaredIndexes(this.legacyTable, migration.legacyTable.indexes);
      this.legacyTableInterface = this.legacyTable;
    } else if (props.existingLegacyTableObj) {
      this.legacyTableInterface = props.existingLegacyTableObj;
    } else {
      this.legacyTableInterface = importLegacyTable(this, migration);
    }
    // validateDualReadMigrationProps has ensured a stream ARN is known here.
    this.legacyStreamArn = this.legacyTableInterface.tableStreamArn as string;

    this.alarmTopic = props.alarmTopic ?? createAlarmTopic(this, `migration ${migration.id}`);
    AlarmNotifications.applyTo(this, this.alarmTopic);
    const throttleMinutes = props.newTableThrottleAlarmMinutes ?? 5;
    this.newTableThrottleAlarm = new cloudwatch.Alarm(this, 'NewTableWriteThrottleAlarm', {
      alarmDescription:
        `Writes to the new table of migration ${migration.id} were throttled in each of ${throttleMinutes} minutes: ` +
        'CDC falls behind and the backfill crawls. Raise the table capacity or lower the backfill rate ' +
        '(docs/runbook.md "Backfill").',
      metric: this.newTableInterface.metric('WriteThrottleEvents', {
        statistic: 'Sum',
        period: Duration.minutes(1),
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: throttleMinutes,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    if (props.definitionsFile) {
      // What every part of the migration is wired to.
      const wiring = {
        migration,
        controlTable: this.controlTable,
        newTable: this.newTableInterface,
        definitionsFile: props.definitionsFile,
        lambdaObservability: props.lambdaObservability,
      };
      const legacyTable = this.legacyTableInterface;
      this.streamSync = new StreamSync(this, 'StreamSync', {
        ...props.streamSyncProps,
        ...wiring,
        legacyTable,
      });
      // Its preflight checks that this stream sync consumes the legacy stream from TRIM_HORIZON.
      this.backfill = new Backfill(this, 'Backfill', {
        ...props.backfillProps,
        ...wiring,
        legacyTable,
        syncFunction: this.streamSync.function,
        legacyStreamArn: this.legacyStreamArn,
      });
      this.frontierTracking = new FrontierTracking(this, 'FrontierTracker', {
        ...props.frontierTrackingProps,
        ...wiring,
        legacyStreamArn: this.legacyStreamArn,
        legacyTableKey: legacyTable.encryptionKey,
      });
      this.readApi = new ReadApi(this, 'ReadApi', { ...props.readApiProps, ...wiring, legacyTable });
      this.verification = new Verification(this, 'Verification', {
        ...props.verificationProps,
        ...wiring,
        legacyTable,
      });
      this.rollbackAlarms = [
        this.readApi.serverErrorRateAlarm,
        this.readApi.shadowMismatchRateAlarm,
        this.frontierTracking.lagAlarm,
        this.streamSync.deadLetterAlarm,
        this.streamSync.iteratorAgeAlarm,
        this.streamSync.orderViolationAlarm,
        this.frontierTracking.violationsAlarm,
        this.frontierTracking.lateRecordAlarm,
      ];
      this.control = new ControlFunction(this, 'Control', {
        migration,
        controlTable: this.controlTable,
        definitionsFile: wiring.definitionsFile,
        alarms: this.rollbackAlarms,
      });
      this.dashboard = new MigrationDashboard(this, 'Dashboard', {
        migration,
        dashboardName: props.dashboardName ?? `${rootStackName(this)}-${migration.id}`,
        streamSync: this.streamSync,
      });
    }

    Tags.of(this).add('dualread:migration', migration.id);
  }
}

/**
 * Imports the legacy table from the definition. Its ARN is taken from the stream ARN (the table's ARN
 * is the stream ARN without `/stream/<label>`), so account and region are those of the real table
 * rather than assumed to be the stack's: later grants then name the right table.
 */
function importLegacyTable(scope: Construct, migration: Migration): dynamodb.ITable {
  const tableStreamArn = migration.legacyTable.streamArn as string;
  const parts = Token.isUnresolved(tableStreamArn) ? undefined : parseStreamArn(tableStreamArn);
  const { kmsKeyArn } = migration.legacyTable;
  // Its customer-managed key, if any: the functions that read the table or its stream decrypt with it.
  const encryptionKey = kmsKeyArn ? kms.Key.fromKeyArn(scope, 'LegacyTableKey', kmsKeyArn) : undefined;
  return dynamodb.Table.fromTableAttributes(scope, 'LegacyTable', {
    ...(parts ? { tableArn: parts.tableArn } : { tableName: migration.legacyTable.tableName }),
    tableStreamArn,
    ...(encryptionKey ? { encryptionKey } : {}),
  });
}
