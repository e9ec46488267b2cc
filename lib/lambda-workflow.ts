/**
 * What the backfill and the verification state machines share: their functions (one bundle, one
 * handler per task, allowed this migration's control items only: `workflowFunction`), and a state
 * machine that runs one JSONPath definition (the document local mode runs too) whose task
 * placeholders are substituted with Lambda ARNs, logs to a vended log group with X-Ray tracing,
 * starts executions of itself (Distributed Map children and the continuation as a new execution,
 * docs/backfill.md), and alarms on a failed execution.
 *
 * Functions rather than constructs: the resources are created in the caller's scope, so their
 * construct paths (and logical ids) are the caller's own.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct, IConstruct } from 'constructs';
import type { MigrationPartProps, MigrationTables } from './migration-part-props';
import { anyCountAlarm, controlItemsStatement } from './alarms-grants';
import { DualReadFunction } from './nodejs-function';

/** The props the backfill and the verification take alike, besides those of every migration part. */
export interface WorkflowPartProps extends MigrationPartProps {
  /**
   * Name of the state machine (it starts executions of itself, so its role names it).
   *
   * @default `<root stack name>-<backfill | verify>-<migration id>`, cut to 80 characters
   */
  readonly stateMachineName?: string;
  /** Retention of the state machine's log group. @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
}

/** Inputs of `buildLambdaWorkflow`. */
export interface LambdaWorkflowOptions {
  /** Fixed state machine name: its role may start executions of this name only. */
  readonly name: string;
  /** What the workflow is, in the state machine's comment and the failed-execution alarm (`backfill`). */
  readonly kind: string;
  /** The ASL document, with a `${placeholder}` per task. */
  readonly definition: object;
  /** The function substituted for each placeholder (the state machine may invoke them). */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** What a failed execution leaves, in the failed-execution alarm (`lock released, checkpoints kept`). */
  readonly leavesOnFailure: string;
  /** The section of docs/runbook.md that says how to read the error and resume. */
  readonly runbookSection: string;
}

/** What `buildLambdaWorkflow` created. */
export interface LambdaWorkflow {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;
  readonly failedAlarm: cloudwatch.Alarm;
}

/**
 * Creates (in `scope`) `Logs`, `StateMachine` and `FailedAlarm`, grants the invocations and the
 * self-start permissions, and acknowledges the cdk-nag findings those grants raise, with reasons.
 */
export function buildLambdaWorkflow(
  scope: Construct,
  part: WorkflowPartProps,
  options: LambdaWorkflowOptions,
): LambdaWorkflow {
  const stack = Stack.of(scope);
  const { name, kind } = options;
  const migrationId = part.migration.id;
  const logGroup = new logs.LogGroup(scope, 'Logs', {
    // Step Functions vended logs: the /aws/vendedlogs/ prefix keeps the resource policy small.
    logGroupName: `/aws/vendedlogs/states/${name}`,
    retention: part.logRetention ?? logs.RetentionDays.ONE_YEAR,
    removalPolicy: RemovalPolicy.RETAIN,
  });

  const substitutions: Record<string, string> = {};
  for (const [placeholder, fn] of Object.entries(options.functions))
    substitutions[placeholder] = fn.functionArn;
  const stateMachine = new sfn.StateMachine(scope, 'StateMachine', {
    stateMachineName: name,
    stateMachineType: sfn.StateMachineType.STANDARD,
    definitionBody: sfn.DefinitionBody.fromString(JSON.stringify(options.definition)),
    definitionSubstitutions: substitutions,
    logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    tracingEnabled: true,
    comment: `dualread ${kind} of migration ${migrationId}`,
  });
  for (const fn of Object.values(options.functions)) fn.grantInvoke(stateMachine);

  // It starts executions of itself: Distributed Map child executions and ContinueAsNew.
  const selfArn = stack.formatArn({
    service: 'states',
    resource: 'stateMachine',
    resourceName: name,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  const executions = stack.formatArn({
    service: 'states',
    resource: 'execution',
    resourceName: `${name}/*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  stateMachine.addToRolePolicy(
    new iam.PolicyStatement({ sid: 'StartItself', actions: ['states:StartExecution'], resources: [selfArn] }),
  );
  stateMachine.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'ManageOwnExecutions',
      actions: ['states:DescribeExecution', 'states:StopExecution'],
      resources: [executions],
    }),
  );
  // cdk-nag findings name the exact resources; acknowledge each with its reason.
  for (const fn of Object.values(options.functions)) {
    Validations.of(stateMachine).acknowledge({
      id: iam5(stack, `${fn.functionArn}:*`),
      reason:
        'grantInvoke adds the function ARN with :* so that versions and aliases of this same function may be invoked.',
    });
  }
  Validations.of(stateMachine).acknowledge(
    {
      id: iam5(stack, executions),
      reason:
        'The child executions of a Distributed Map are named by Step Functions (<state machine>/<map run>:<id>); the ' +
        'wildcard covers only executions of this state machine, which must describe and stop them.',
    },
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray (PutTraceSegments, PutTelemetryRecords, GetSampling*) and CloudWatch Logs delivery actions, added by ' +
        'tracingEnabled and logs, have no resource-level permissions.',
    },
  );

  const failedAlarm = anyCountAlarm(
    scope,
    'FailedAlarm',
    `A ${kind} execution of migration ${migrationId} failed (${options.leavesOnFailure}). ` +
      `See docs/runbook.md "${options.runbookSection}" to read the error and resume.`,
    stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
  );
  return { stateMachine, logGroup, failedAlarm };
}

/** The tables a workflow's functions work on. */
export type WorkflowTables = MigrationTables;

/** Inputs of `workflowFunction`. */
export interface WorkflowFunctionOptions {
  /** The workflow's Lambda entry (one bundle, one exported handler per task). */
  readonly entry: string;
  /** The exported handler; the function's id is `<Handler>Function`. */
  readonly handler: string;
  /** What the workflow is, in the function's description (`dualread <kind> <handler> of migration <id>`). */
  readonly kind: string;
  readonly timeout: Duration;
  /** Added to `workflowEnvironment` (the migration id and the three table names). */
  readonly environment: Record<string, string>;
  /** Allowed on the control table, on this migration's items only. */
  readonly controlActions: string[];
}

/**
 * One function of a workflow (in `scope`): the workflow's bundle with one handler, the environment of
 * every workflow function plus its own, allowed `controlActions` on this migration's control items only
 * (and encrypt/decrypt with the control table's key, if it has one).
 */
export function workflowFunction(
  scope: Construct,
  part: MigrationPartProps,
  options: WorkflowFunctionOptions,
): DualReadFunction {
  const { handler } = options;
  const { migration, controlTable } = part;
  const fn = new DualReadFunction(scope, `${handler[0]?.toUpperCase()}${handler.slice(1)}Function`, {
    entry: options.entry,
    handler,
    definitionsFile: part.definitionsFile,
    observability: part.lambdaObservability,
    description: `dualread ${options.kind} ${handler} of migration ${migration.id}`,
    timeout: options.timeout,
    environment: { ...workflowEnvironment(migration.id, part), ...options.environment },
  });
  fn.addToRolePolicy(controlItemsStatement(controlTable, migration.id, options.controlActions));
  controlTable.encryptionKey?.grantEncryptDecrypt(fn);
  return fn;
}

/** The environment every workflow function reads: the migration id and the three table names. */
export function workflowEnvironment(migrationId: string, tables: WorkflowTables): Record<string, string> {
  return {
    MIGRATION_ID: migrationId,
    CONTROL_TABLE_NAME: tables.controlTable.tableName,
    LEGACY_TABLE_NAME: tables.legacyTable.tableName,
    NEW_TABLE_NAME: tables.newTable.tableName,
  };
}

/**
 * The name of the deployment `scope` belongs to: the name of its root stack. Inside a nested stack
 * (`DualReadStack` puts each migration in one) `Stack.of(scope).stackName` is a token that
 * CloudFormation resolves to a generated name, so it can neither be checked against a length limit
 * nor keep a physical name readable; the root stack's name is a plain string, unique per account and
 * region, and the migration id makes names unique within it.
 */
export function rootStackName(scope: IConstruct): string {
  let stack = Stack.of(scope);
  while (stack.nestedStackParent) stack = stack.nestedStackParent;
  return stack.stackName;
}

/** `<stack>-<kind>-<id>` within Step Functions' 80-character name limit (`stackName`: see `rootStackName`). */
export function workflowName(stackName: string, kind: string, migrationId: string): string {
  const suffix = `-${kind}-${migrationId}`;
  return `${stackName.slice(0, 80 - suffix.length)}${suffix}`;
}

/** The state machine name of a workflow part: `stateMachineName`, or `workflowName` in the root stack. */
export function workflowStateMachineName(scope: IConstruct, part: WorkflowPartProps, kind: string): string {
  return part.stateMachineName ?? workflowName(rootStackName(scope), kind, part.migration.id);
}

/** Why `name` cannot be a state machine name, if it cannot. */
export function stateMachineNameProblem(name: string): string | undefined {
  return !Token.isUnresolved(name) && !/^[A-Za-z0-9_-]{1,80}$/.test(name)
    ? `stateMachineName "${name}" must be 1-80 letters, digits, dashes or underscores`
    : undefined;
}

/**
 * The id cdk-nag gives an IAM5 finding on `resource`: tokens flattened as cdk-nag prints them
 * (`<LogicalId.Attr>`, `<AWS::Region>`), so an acknowledgement names exactly one resource.
 */
export function iam5(stack: Stack, resource: string): string {
  const flatten = (v: unknown): string => {
    if (typeof v === 'string') return v;
    const o = (v ?? {}) as Record<string, unknown>;
    if (typeof o.Ref === 'string') return `<${o.Ref}>`;
    if (Array.isArray(o['Fn::GetAtt'])) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
    if (Array.isArray(o['Fn::Join'])) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map(flatten).join(sep);
    }
    return JSON.stringify(v);
  };
  return `AwsSolutions-IAM5[Resource::${flatten(stack.resolve(resource))}]`;
}
