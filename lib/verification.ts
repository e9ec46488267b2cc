/**
 * `Verification`: the verification and reconciliation of one migration (issue 5) — the definition from
 * `stepfunctions/verify.ts` (the same document local mode runs) with its task placeholders substituted
 * by the ARNs of four functions built from `lambdas/verify` (control, scan, recheck, repair), each with
 * its own least-privilege role; a log group, X-Ray tracing, alarms on failed executions and on
 * confirmed drift, and an EventBridge Scheduler schedule that starts it on the migration's
 * `verification.schedule` in `verification.timeZone` with input `{ repair: verification.repair }`.
 *
 * Like the backfill, the state machine has a fixed name because it starts executions of itself
 * (Distributed Map child executions, continuation as a new execution); its role is scoped to that name.
 */
import { Duration, TimeZone } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type { Construct } from 'constructs';
import { VerifyFunction, verifyDefinition } from '../stepfunctions/verify';
import { allowOnTable, anyCountAlarm, migrationMetric } from './alarms-grants';
import type { WorkflowPartProps } from './lambda-workflow';
import type { DualReadFunction } from './nodejs-function';
import { type MakeWorkflowFunction, WorkflowPart } from './workflow-part';

/** Metric names the verification report step publishes (namespace `dualread`, service `dualread-verify`). */
export const VerifyMetrics = {
  NAMESPACE: 'dualread',
  SERVICE: 'dualread-verify',
  CONFIRMED_DRIFT: 'VerifyConfirmedDrift',
  UNCONFIRMED_LAG: 'VerifyUnconfirmedLag',
} as const;

/**
 * Props of `Verification` (the migration's `verification` settings drive the schedule). Its functions
 * may Scan, GetItem and BatchGetItem on the legacy and the new table, and conditional PutItem on the
 * new table for repairs; on the control table, this migration's items only.
 */
export interface VerificationProps extends WorkflowPartProps {
  /** How long one scan, recheck or repair invocation works before returning. @default Duration.seconds(60) */
  readonly budget?: Duration;
  /** How long a suspect may wait for the frontier before it is `unconfirmed-lag`. @default Duration.minutes(15) */
  readonly maxLagWait?: Duration;
  /** Create the EventBridge Scheduler schedule. @default true */
  readonly scheduleEnabled?: boolean;
}

/** The verification of one migration. */
export class Verification extends WorkflowPart<VerifyFunction> {
  /** Fires when a run reports confirmed drift. */
  public readonly driftAlarm: cloudwatch.Alarm;
  /** Fires when a run ends with suspects the frontier never passed (`unconfirmed-lag`). */
  public readonly unconfirmedLagAlarm: cloudwatch.Alarm;
  /** The schedule (absent when `scheduleEnabled` is false). */
  public readonly schedule?: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: VerificationProps) {
    const budget = props.budget ?? Duration.seconds(60);
    const maxLagWait = props.maxLagWait ?? Duration.minutes(15);
    super(scope, id, props, {
      construct: 'Verification',
      folder: 'verify',
      kind: 'verification',
      validate: (fail) => validateVerificationProps(budget, maxLagWait, fail),
      functions: (make) => verificationFunctions(props, budget, maxLagWait, make),
      definition: verifyDefinition(),
      leavesOnFailure: 'report FAILED, lock released',
      runbookSection: 'Verification',
    });
    const { migration } = props;
    this.driftAlarm = anyCountAlarm(
      this,
      'ConfirmedDriftAlarm',
      `A verification run of migration ${migration.id} confirmed drift between legacy and new (lag excluded). ` +
        'Read the VERIFY#<runId> report (docs/runbook.md "Verification") and repair or investigate.',
      migrationMetric(VerifyMetrics, VerifyMetrics.CONFIRMED_DRIFT, migration.id, 'Sum', Duration.hours(1)),
    );

    this.unconfirmedLagAlarm = anyCountAlarm(
      this,
      'UnconfirmedLagAlarm',
      `A verification run of migration ${migration.id} ended with differences it could not judge: the frontier did ` +
        'not pass them within maxLagWait (unconfirmed-lag). CDC or the frontier tracker is behind; see ' +
        'docs/runbook.md "Verification".',
      migrationMetric(VerifyMetrics, VerifyMetrics.UNCONFIRMED_LAG, migration.id, 'Sum', Duration.hours(1)),
    );

    if (props.scheduleEnabled ?? true) {
      this.schedule = new scheduler.Schedule(this, 'Schedule', {
        description: `dualread verification of migration ${migration.id} (repair: ${migration.verification.repair})`,
        schedule: scheduler.ScheduleExpression.expression(
          migration.verification.schedule,
          TimeZone.of(migration.verification.timeZone),
        ),
        // Runs never overlap: a tick while a run holds the lock ends at once (AlreadyRunning).
        timeWindow: scheduler.TimeWindow.off(),
        target: new targets.StepFunctionsStartExecution(this.stateMachine, {
          input: scheduler.ScheduleTargetInput.fromObject({ repair: migration.verification.repair }),
          retryAttempts: 3,
        }),
      });
    }
    // No stack output: the name is fixed (`<stack>-verify-<id>`), so the ARN is known (docs/runbook.md).
  }
}

/** The functions of the verification, by definition placeholder. */
function verificationFunctions(
  props: VerificationProps,
  budget: Duration,
  maxLagWait: Duration,
  make: MakeWorkflowFunction,
): Record<VerifyFunction, DualReadFunction> {
  const environment = {
    VERIFY_BUDGET_MS: String(budget.toMilliseconds()),
    VERIFY_MAX_LAG_WAIT_MS: String(maxLagWait.toMilliseconds()),
  };
  const fn = (handler: string, timeout: Duration): DualReadFunction =>
    // Checkpoints, suspects, the report, the lock, audit items: this migration's control items only.
    make(handler, timeout, environment, ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);

  const control = fn('control', Duration.seconds(60));
  allowOnTable(control, 'LegacyTableExists', ['dynamodb:DescribeTable'], props.legacyTable);
  allowOnTable(control, 'NewTableExists', ['dynamodb:DescribeTable'], props.newTable);

  // The budget plus the page in progress and its throttling retries.
  const scan = fn('scan', budget.plus(Duration.minutes(4)));
  allowOnTable(scan, 'ReadLegacy', ['dynamodb:Scan', 'dynamodb:BatchGetItem'], props.legacyTable);
  allowOnTable(scan, 'ReadNew', ['dynamodb:Scan', 'dynamodb:BatchGetItem'], props.newTable);

  const recheck = fn('recheck', budget.plus(Duration.minutes(2)));
  allowOnTable(recheck, 'ReadLegacy', ['dynamodb:BatchGetItem'], props.legacyTable);
  allowOnTable(recheck, 'ReadNew', ['dynamodb:BatchGetItem'], props.newTable);

  // The repair reads both sides and writes new items under a condition (in the code) that loses to CDC.
  const repair = fn('repair', budget.plus(Duration.minutes(2)));
  allowOnTable(repair, 'ReadLegacy', ['dynamodb:GetItem'], props.legacyTable);
  allowOnTable(repair, 'RepairNew', ['dynamodb:GetItem', 'dynamodb:PutItem'], props.newTable);

  // allowOnTable granted the tables' customer-managed keys to the functions that read or write items
  // (not to control: DescribeTable reads no item).
  return {
    [VerifyFunction.CONTROL]: control,
    [VerifyFunction.SCAN]: scan,
    [VerifyFunction.RECHECK]: recheck,
    [VerifyFunction.REPAIR]: repair,
  };
}

/** Calls `fail` with the first problem of the verification's own props. */
function validateVerificationProps(
  budget: Duration,
  maxLagWait: Duration,
  fail: (problem: string) => never,
): void {
  const b = budget.toSeconds();
  if (b < 1 || b > 600) fail(`budget must be from 1 s to 10 minutes, not ${b} s`);
  const w = maxLagWait.toSeconds();
  if (w < 1 || w > 86_400) fail(`maxLagWait must be from 1 s to 24 hours, not ${w} s`);
}
