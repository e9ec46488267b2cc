/**
 * `WorkflowPart`: what `Backfill` and `Verification` are alike. Each is a Lambda workflow
 * (`buildLambdaWorkflow`) whose functions are built from one bundle under lambdas/ (`workflowFunction`),
 * and whose state machine name (fixed: it starts executions of itself) is checked, with the part's
 * other props, before anything is created.
 */
import { join } from 'node:path';
import type { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ConstructPropsError } from './errors';
import {
  buildLambdaWorkflow,
  stateMachineNameProblem,
  type WorkflowPartProps,
  workflowFunction,
  workflowStateMachineName,
} from './lambda-workflow';
import type { DualReadFunction } from './nodejs-function';

/** Makes one function of the workflow: its handler, timeout, own environment and control-table actions. */
export type MakeWorkflowFunction = (
  handler: string,
  timeout: Duration,
  environment: Record<string, string>,
  controlActions: string[],
) => DualReadFunction;

/** What a `WorkflowPart` is made of. */
export interface WorkflowPartSpec<F extends string> {
  /** The construct, in a props error (`Backfill`). */
  readonly construct: string;
  /** The folder under lambdas/ of the bundle; also the kind in the default state machine name (`backfill`, `verify`). */
  readonly folder: string;
  /** What the workflow is, in descriptions and alarms (`backfill`, `verification`). */
  readonly kind: string;
  /** Calls `fail` with the first problem of the part's own props (the state machine name is checked before). */
  readonly validate: (fail: (problem: string) => never) => void;
  /** Creates the functions (in this order, in the part's scope), by definition placeholder. */
  readonly functions: (make: MakeWorkflowFunction) => Record<F, DualReadFunction>;
  /** The ASL document (`LambdaWorkflowOptions.definition`). */
  readonly definition: object;
  /** What a failed execution leaves, in the failed-execution alarm. */
  readonly leavesOnFailure: string;
  /** The section of docs/runbook.md on reading the error and resuming. */
  readonly runbookSection: string;
}

/** A Lambda workflow of one migration: its state machine, log group, functions and failed-execution alarm. */
export abstract class WorkflowPart<F extends string> extends Construct {
  /** The state machine. */
  public readonly stateMachine: sfn.StateMachine;
  /** Its execution log group. */
  public readonly logGroup: logs.LogGroup;
  /** The functions, by definition placeholder. */
  public readonly functions: Readonly<Record<F, DualReadFunction>>;
  /** Fires when an execution fails. */
  public readonly failedAlarm: cloudwatch.Alarm;

  /**
   * @throws ConstructPropsError for an invalid state machine name, or what `spec.validate` fails with
   */
  protected constructor(scope: Construct, id: string, props: WorkflowPartProps, spec: WorkflowPartSpec<F>) {
    super(scope, id);
    const name = workflowStateMachineName(this, props, spec.folder);
    const fail = (problem: string): never => {
      throw new ConstructPropsError(spec.construct, props.migration.id, problem);
    };
    const nameProblem = stateMachineNameProblem(name);
    if (nameProblem) fail(nameProblem);
    spec.validate(fail);

    const entry = join(__dirname, '..', 'lambdas', spec.folder, 'index.ts');
    this.functions = spec.functions((handler, timeout, environment, controlActions) =>
      workflowFunction(this, props, {
        entry,
        handler,
        kind: spec.kind,
        timeout,
        environment,
        controlActions,
      }),
    );
    ({
      stateMachine: this.stateMachine,
      logGroup: this.logGroup,
      failedAlarm: this.failedAlarm,
    } = buildLambdaWorkflow(this, props, {
      name,
      kind: spec.kind,
      definition: spec.definition,
      functions: this.functions,
      leavesOnFailure: spec.leavesOnFailure,
      runbookSection: spec.runbookSection,
    }));
  }
}
