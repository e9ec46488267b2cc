/**
 * `Backfill`: the backfill state machine of one migration (issue 4) — the definition from
 * `stepfunctions/backfill.ts` (the same document local mode runs) with its task placeholders
 * substituted by the ARNs of four functions built from `lambdas/backfill` (preflight, controls, page
 * worker, finish), each with its own least-privilege role; a log group, X-Ray tracing, an alarm on
 * failed executions (`DualReadStack` outputs the state machine ARN as `<Migration>BackfillStateMachineArn`).
 * A fifth function from the same bundle, `poison`, is invoked by operators to list, retry and waive the
 * keys the backfill could not copy (output `<Migration>BackfillPoisonFunctionName`).
 *
 * The state machine has a fixed name because it starts executions of itself (Distributed Map child
 * executions and the continuation as a new execution, docs/backfill.md); its role is scoped to that
 * name.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { BackfillFunction, backfillDefinition } from '../stepfunctions/backfill';
import { allowOnTable, migrationMetric } from './alarms-grants';
import type { WorkflowPartProps } from './lambda-workflow';
import type { DualReadFunction } from './nodejs-function';
import { type MakeWorkflowFunction, WorkflowPart } from './workflow-part';

/** Namespace, service dimension and metric names of the backfill workers (Powertools `Metrics`). */
export const BackfillMetrics = {
  NAMESPACE: 'dualread',
  SERVICE: 'dualread-backfill',
  /** Items a page worker invocation copied (published at the end of every invocation, 0 included). */
  ITEMS_COPIED: 'BackfillItemsCopied',
} as const;

/**
 * Props of `Backfill`. Its functions may Scan the legacy table only, and only DescribeTable and
 * conditional PutItem on the new table; on the control table, this migration's items only.
 */
export interface BackfillProps extends WorkflowPartProps {
  /** The sync Lambda: preflight checks its event source mapping consumes from TRIM_HORIZON. */
  readonly syncFunction: lambda.IFunction;
  /** The legacy stream ARN the sync Lambda consumes. */
  readonly legacyStreamArn: string;
  /** How long one page-worker invocation copies before returning. @default Duration.seconds(60) */
  readonly pageBudget?: Duration;
  /**
   * `partiql`: up to 25 PartiQL INSERTs (put-if-absent, each on its own) per BatchExecuteStatement
   * (1 WCU per KB, few requests); `put`: one conditional PutItem per item (1 WCU per KB);
   * `transact`: up to 100 conditional puts per TransactWriteItems (2 WCU per KB, all-or-nothing).
   * @default 'partiql'
   */
  readonly writeMode?: 'partiql' | 'put' | 'transact';
  /** Concurrent write requests per page worker. @default 16 */
  readonly writeConcurrency?: number;
  /**
   * How long page workers may run without copying an item before the stuck-backfill alarm fires
   * (rounded up to whole 5-minute periods).
   *
   * @default Duration.minutes(15)
   */
  readonly stuckAfter?: Duration;
}

/** The backfill of one migration. */
export class Backfill extends WorkflowPart<BackfillFunction> {
  /** Fires when page workers run but copy nothing for `stuckAfter`. */
  public readonly stuckAlarm: cloudwatch.Alarm;
  /**
   * The operator's function for keys not in new (`{"operation": "list" | "retry" | "waive", ...}`,
   * docs/runbook.md "Backfill"); not part of the state machine.
   */
  public readonly poisonFunction: DualReadFunction;

  constructor(scope: Construct, id: string, props: BackfillProps) {
    const pageBudget = props.pageBudget ?? Duration.seconds(60);
    let poisonFunction: DualReadFunction | undefined;
    super(scope, id, props, {
      construct: 'Backfill',
      folder: 'backfill',
      kind: 'backfill',
      validate: (fail) => validateBackfillProps(props, pageBudget, fail),
      functions: (make) => {
        const made = backfillFunctions(props, pageBudget, make);
        poisonFunction = made.poison;
        return made.functions;
      },
      definition: backfillDefinition(),
      leavesOnFailure: 'lock released, checkpoints kept',
      runbookSection: 'Backfill',
    });
    const { migration } = props;
    const page = this.functions[BackfillFunction.PAGE];
    this.poisonFunction = poisonFunction as DualReadFunction;

    // Stuck: page workers are invoked (so the backfill runs, is not paused) but copy nothing. A paused or
    // finished backfill invokes no page worker, so it is not stuck.
    const period = Duration.minutes(5);
    const periods = Math.max(
      1,
      Math.ceil((props.stuckAfter ?? Duration.minutes(15)).toMinutes({ integral: false }) / 5),
    );
    this.stuckAlarm = new cloudwatch.Alarm(this, 'StuckAlarm', {
      alarmDescription:
        `The backfill of migration ${migration.id} ran page workers for ${periods * 5} minutes without copying an ` +
        'item (throttled to a standstill, or failing and retrying). See docs/runbook.md "Backfill".',
      metric: new cloudwatch.MathExpression({
        expression: 'IF(FILL(invocations, 0) > 0 AND FILL(copied, 0) == 0, 1, 0)',
        usingMetrics: {
          invocations: page.metricInvocations({ period, statistic: 'Sum' }),
          copied: migrationMetric(BackfillMetrics, BackfillMetrics.ITEMS_COPIED, migration.id, 'Sum', period),
        },
        label: 'Page workers running without progress',
        period,
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: periods,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}

/**
 * The functions of the backfill, made in this order: the state machine's four by definition placeholder,
 * and the operator's poison function.
 */
function backfillFunctions(
  props: BackfillProps,
  pageBudget: Duration,
  make: MakeWorkflowFunction,
): { functions: Record<BackfillFunction, DualReadFunction>; poison: DualReadFunction } {
  const preflight = make(
    'preflight',
    // Its search of the new table for items dualread did not write has a budget of 4 minutes.
    Duration.minutes(5),
    { SYNC_FUNCTION_NAME: props.syncFunction.functionName, LEGACY_STREAM_ARN: props.legacyStreamArn },
    // STATE + AUDIT are written in one TransactWriteItems, which IAM checks as PutItem per item.
    ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
  );
  preflight.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'CheckCdcConsuming',
      actions: ['lambda:ListEventSourceMappings'],
      resources: ['*'],
    }),
  );
  Validations.of(preflight.role ?? preflight).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'lambda:ListEventSourceMappings has no resource-level permissions (IAM service authorization reference); ' +
      'the call is filtered to the sync function and the legacy stream in the code. Nor have X-Ray PutTraceSegments and ' +
      'PutTelemetryRecords (active tracing). Every other statement names its resource.',
  });
  // The new table exists, and holds no item dualread did not write (a Scan of its keys).
  allowOnTable(preflight, 'NewTableExists', ['dynamodb:DescribeTable', 'dynamodb:Scan'], props.newTable);
  // CDC must consume the legacy table's current stream (LatestStreamArn).
  allowOnTable(preflight, 'LegacyCurrentStream', ['dynamodb:DescribeTable'], props.legacyTable);
  props.newTable.encryptionKey?.grantDecrypt(preflight);

  const controls = make('controls', Duration.seconds(30), {}, ['dynamodb:GetItem']);

  // The page worker and the operator's poison function copy legacy items to new the same way.
  const copyTimeout = pageBudget.plus(Duration.minutes(4));
  const copyEnv = {
    BACKFILL_PAGE_BUDGET_MS: String(pageBudget.toMilliseconds()),
    BACKFILL_WRITE_MODE: props.writeMode ?? 'partiql',
    BACKFILL_WRITE_CONCURRENCY: String(props.writeConcurrency ?? 16),
  };
  const partiqlActions =
    (props.writeMode ?? 'partiql') === 'partiql' ? ['dynamodb:PartiQLInsert', 'dynamodb:BatchGetItem'] : [];

  const page = make(
    'page',
    // The budget, plus the page in progress and its throttling retries.
    copyTimeout,
    copyEnv,
    ['dynamodb:GetItem', 'dynamodb:PutItem'],
  );
  // allowOnTable also grants the tables' customer-managed keys, when they have one.
  allowOnTable(page, 'ScanLegacy', ['dynamodb:Scan'], props.legacyTable);
  // PutItem (conditional, rule 3, in the code; TransactWriteItems is authorized as PutItem per item)
  // and, in partiql mode, PartiQLInsert (BatchExecuteStatement INSERTs; put-if-absent by
  // definition; PutItem isolates the items of a request refused as a whole) and BatchGetItem (whose
  // item an INSERT met: dualread's, or a foreign one to treat as `foreignItems` says).
  allowOnTable(page, 'CopyToNewTable', ['dynamodb:PutItem', ...partiqlActions], props.newTable);

  // The operator's poison operations: consistent reads of legacy items by key, the page worker's
  // writes to new (plus GetItem: a waived record's key is settled by the state new holds), control
  // items (the registry, STATE + AUDIT in transactions, authorized as PutItem per item).
  const poison = make('poison', copyTimeout, copyEnv, [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:Query',
  ]);
  allowOnTable(poison, 'ReadLegacyItems', ['dynamodb:GetItem'], props.legacyTable);
  allowOnTable(
    poison,
    'CopyToNewTable',
    ['dynamodb:PutItem', 'dynamodb:GetItem', ...partiqlActions],
    props.newTable,
  );

  const finish = make('finish', Duration.seconds(60), {}, [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:Query',
  ]);
  return {
    functions: {
      [BackfillFunction.PREFLIGHT]: preflight,
      [BackfillFunction.CONTROLS]: controls,
      [BackfillFunction.PAGE]: page,
      [BackfillFunction.FINISH]: finish,
    },
    poison,
  };
}

/**
 * Calls `fail` with the first problem of the backfill's own props.
 */
function validateBackfillProps(
  props: BackfillProps,
  pageBudget: Duration,
  fail: (problem: string) => never,
): void {
  const stuck = props.stuckAfter?.toMinutes({ integral: false });
  if (stuck !== undefined && (stuck < 5 || stuck > 24 * 60))
    fail(`stuckAfter must be from 5 minutes to 24 hours, not ${stuck} minutes`);
  const budget = pageBudget.toSeconds();
  if (budget < 1 || budget > 600) fail(`pageBudget must be from 1 s to 10 minutes, not ${budget} s`);
  const c = props.writeConcurrency ?? 16;
  if (!Number.isInteger(c) || c < 1 || c > 256)
    fail(`writeConcurrency must be an integer from 1 to 256, not ${c}`);
  if (
    props.writeMode !== undefined &&
    props.writeMode !== 'partiql' &&
    props.writeMode !== 'put' &&
    props.writeMode !== 'transact'
  ) {
    fail(`writeMode must be 'partiql', 'put' or 'transact', not ${String(props.writeMode)}`);
  }
}
