/**
 * `DualReadStack`: one control table, and one `DualReadMigration` per migration of a definitions file,
 * each in a nested stack of its own (`MigrationStack`). Every output the CLI reads is an output of this
 * (root) stack: `DescribeStacks` of the root does not list the outputs of nested stacks.
 */
import { isAbsolute } from 'node:path';
import { CfnOutput, RemovalPolicy, Stack, type StackProps, Tags, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { createAlarmTopic } from './alarm-topic';
import { type Migration, validateMigrationSet } from '../core/model';
import { ControlTable } from './control-table';
import type { DualReadMigration } from './dual-read-migration';
import { ConstructPropsError } from './errors';
import { MigrationStack } from './migration-stack';

/** Props of `DualReadStack`. */
export interface DualReadStackProps extends StackProps {
  /** The migrations to deploy, from one definitions file (ids and tables must be distinct). */
  readonly migrations: readonly Migration[];
  /** Environment name (`dev`, `prod`, ...), tagged on every resource as `dualread:env`. */
  readonly envName: string;
  /**
   * Absolute path of the definitions file the migrations came from; every Lambda bundles it as
   * `dualread-definitions`, so the deployed handlers run the same definitions that were synthesized.
   */
  readonly definitionsFile: string;
  /**
   * Create the legacy tables instead of importing them (example and rehearsal stacks). Such a stack
   * is throwaway: all its tables are destroyed with it.
   *
   * @default false
   */
  readonly createLegacyTablesForExample?: boolean;
  /**
   * The SNS topic every alarm of every migration notifies, on ALARM and on OK.
   *
   * @default - one topic for the stack (`AlarmTopic`, output `AlarmTopicArn`), encrypted with a
   *   customer-managed key CloudWatch may use
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Create the account's API Gateway CloudWatch Logs role (one per account and region, needed for the
   * read APIs' access and execution logs) in this stack. Leave it off when the account already has one:
   * the setting is account-wide, so two stacks creating it would overwrite each other's.
   *
   * @default false
   */
  readonly apiGatewayCloudWatchRole?: boolean;
}

/** `users` -> `Users`, `user-profiles` -> `UserProfiles`: a migration id as part of an output id. */
function pascal(id: string): string {
  return id
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** The deployable dualread stack. */
export class DualReadStack extends Stack {
  /** The stack's control table. */
  public readonly controlTable: ControlTable;
  /** One construct per migration, in definition order (each in its nested stack, `migrationStacks`). */
  public readonly migrations: readonly DualReadMigration[];
  /** The nested stack of each migration, in definition order (construct id `Migration-<id>`). */
  public readonly migrationStacks: readonly MigrationStack[];
  /** Absolute path of the definitions file (see `DualReadStackProps.definitionsFile`). */
  public readonly definitionsFile: string;
  /** The topic every alarm of the stack notifies. */
  public readonly alarmTopic: sns.ITopic;
  /** The account's API Gateway CloudWatch Logs setting, when `apiGatewayCloudWatchRole` is set. */
  public readonly apiGatewayAccount?: apigateway.CfnAccount;

  constructor(scope: Construct, id: string, props: DualReadStackProps) {
    super(scope, id, {
      description: `dualread: live DynamoDB migrations (${props.envName})`,
      ...props,
    });
    if (typeof props.definitionsFile !== 'string' || !isAbsolute(props.definitionsFile)) {
      throw new ConstructPropsError(
        'DualReadStack',
        undefined,
        `definitionsFile must be the absolute path of the definitions file, not ${JSON.stringify(props.definitionsFile)}`,
      );
    }
    validateMigrationSet(props.migrations);
    this.definitionsFile = props.definitionsFile;
    const throwaway = props.createLegacyTablesForExample ?? false;
    // In an example stack every table holds example data and has a fixed name; retaining them would only
    // make the next deploy of the example fail on "table already exists".
    const removalPolicy = throwaway ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    this.controlTable = new ControlTable(this, 'ControlTable', { tableProps: { removalPolicy } });
    new CfnOutput(this, 'ControlTableName', {
      value: this.controlTable.table.tableName,
      description: 'Control table: phases, frontier, checkpoints, verification reports, audit log',
    });

    this.alarmTopic = props.alarmTopic ?? createAlarmTopic(this, `stack ${this.stackName}`);
    if (!props.alarmTopic) {
      new CfnOutput(this, 'AlarmTopicArn', {
        value: this.alarmTopic.topicArn,
        description:
          'Every alarm notifies this topic on ALARM and OK: subscribe the on-call (docs/runbook.md "Alarms")',
      });
    }
    if (props.apiGatewayCloudWatchRole) this.apiGatewayAccount = createApiGatewayAccount(this);

    this.migrationStacks = props.migrations.map((migration) => {
      const nested = new MigrationStack(this, `Migration-${migration.id}`, {
        migration,
        alarmTopic: this.alarmTopic,
        controlTable: this.controlTable.table,
        createLegacyTableForExample: throwaway,
        definitionsFile: this.definitionsFile,
        ...(throwaway && migration.newTable.create ? { newTableProps: { removalPolicy } } : {}),
      });
      const construct = nested.migration;
      const prefix = pascal(migration.id);
      new CfnOutput(this, `${prefix}LegacyTableName`, {
        value: construct.legacyTableInterface.tableName,
        description: `Migration "${migration.id}": legacy table`,
      });
      new CfnOutput(this, `${prefix}LegacyStreamArn`, {
        value: construct.legacyStreamArn,
        description: `Migration "${migration.id}": legacy table stream, read by the sync Lambda and the frontier tracker`,
      });
      new CfnOutput(this, `${prefix}NewTableName`, {
        value: construct.newTableInterface.tableName,
        description: `Migration "${migration.id}": new table`,
      });
      if (construct.streamSync) {
        new CfnOutput(this, `${prefix}DeadLetterQueueUrl`, {
          value: construct.streamSync.deadLetterQueue.queueUrl,
          description: `Migration "${migration.id}": CDC dead-letter queue, one message per batch the sync Lambda gave up on (replay: docs/runbook.md "CDC dead letters")`,
        });
        new CfnOutput(this, `${prefix}SyncFunctionName`, {
          value: construct.streamSync.function.functionName,
          description: `Migration "${migration.id}": the CDC sync Lambda; \`dualread cutover\` disables its event source mapping (docs/cutover.md)`,
        });
      }
      if (construct.readApi) {
        if (this.apiGatewayAccount)
          construct.readApi.api.deploymentStage.node.addDependency(this.apiGatewayAccount);
        new CfnOutput(this, `${prefix}ReadApiUrl`, {
          value: construct.readApi.api.url,
          description: `Migration "${migration.id}": dual-read API (SigV4): GET <url>migrations/${migration.id}/items?key=...`,
        });
      }
      if (construct.verification) {
        new CfnOutput(this, `${prefix}VerificationStateMachineArn`, {
          value: construct.verification.stateMachine.stateMachineArn,
          description: `Migration "${migration.id}": verification state machine, started by \`dualread verify\` and by \`dualread cutover\` after the fence (docs/runbook.md "Verification", docs/cutover.md)`,
        });
      }
      if (construct.dashboard) {
        new CfnOutput(this, `${prefix}DashboardName`, {
          value: construct.dashboard.dashboard.dashboardName,
          description: `Migration "${migration.id}": CloudWatch dashboard (phase, backfill, lag, reads, mismatches, dead letters, verification)`,
        });
      }
      if (construct.backfill) {
        new CfnOutput(this, `${prefix}BackfillStateMachineArn`, {
          value: construct.backfill.stateMachine.stateMachineArn,
          description: `Migration "${migration.id}": backfill state machine (aws stepfunctions start-execution --state-machine-arn ...; docs/runbook.md "Backfill")`,
        });
        new CfnOutput(this, `${prefix}BackfillPoisonFunctionName`, {
          value: construct.backfill.poisonFunction.functionName,
          description: `Migration "${migration.id}": list, retry or waive the keys the backfill could not copy (aws lambda invoke; docs/runbook.md "Backfill")`,
        });
      }
      return nested;
    });
    this.migrations = this.migrationStacks.map((nested) => nested.migration);

    Tags.of(this).add('dualread:env', props.envName);
  }
}

/**
 * The account's API Gateway CloudWatch Logs role and setting (kept when the stack is deleted: other
 * APIs of the account may log through it).
 */
function createApiGatewayAccount(stack: Stack): apigateway.CfnAccount {
  const role = new iam.Role(stack, 'ApiGatewayCloudWatchRole', {
    assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
    description: 'API Gateway: write access and execution logs of the APIs of this account and region',
    managedPolicies: [
      iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs'),
    ],
  });
  role.applyRemovalPolicy(RemovalPolicy.RETAIN);
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
    reason:
      "The API Gateway account role must be able to create and write any log group of the account's APIs; the AWS " +
      'managed AmazonAPIGatewayPushToCloudWatchLogs policy is exactly that and is kept current by AWS.',
  });
  const account = new apigateway.CfnAccount(stack, 'ApiGatewayAccount', { cloudWatchRoleArn: role.roleArn });
  account.applyRemovalPolicy(RemovalPolicy.RETAIN);
  return account;
}
