/**
 * `ControlFunction`: the `control` Lambda of one migration and the EventBridge rule that invokes it
 * when one of the migration's rollback alarms enters ALARM. The Lambda moves DUAL_READ and NEW_PRIMARY
 * back to SHADOW (lambdas/control/handler.ts), audited with the alarm as actor. Least privilege: it
 * reads and writes only this migration's control items. An invocation that fails after EventBridge's
 * retries lands in a dead-letter queue, so an alarm is never lost silently.
 */
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Migration } from '../core/model';
import { controlItemsStatement } from './alarms-grants';
import { deadLetterQueue } from './dead-letter-queue';
import { ConstructPropsError } from './errors';
import { DualReadFunction } from './nodejs-function';

/** Props of `ControlFunction`. */
export interface ControlFunctionProps {
  readonly migration: Migration;
  readonly controlTable: dynamodb.ITable;
  readonly definitionsFile: string;
  /** The alarms that roll the migration back (`DualReadMigration.rollbackAlarms`). */
  readonly alarms: readonly cloudwatch.IAlarm[];
}

/** The control Lambda of one migration, invoked by its rollback alarms. */
export class ControlFunction extends Construct {
  public readonly function: DualReadFunction;
  public readonly rule: events.Rule;
  /** Alarm events whose invocation failed after retries. */
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: ControlFunctionProps) {
    super(scope, id);
    const { migration } = props;
    if (props.alarms.length === 0)
      throw new ConstructPropsError(
        'ControlFunction',
        migration.id,
        'alarms is empty: pass the rollback alarms',
      );

    this.function = new DualReadFunction(this, 'Function', {
      entry: join(__dirname, '..', 'lambdas', 'control', 'index.ts'),
      definitionsFile: props.definitionsFile,
      description: `dualread control of migration ${migration.id}: rolls it back when a rollback alarm fires`,
      timeout: Duration.seconds(30),
      environment: {
        MIGRATION_ID: migration.id,
        CONTROL_TABLE_NAME: props.controlTable.tableName,
        POWERTOOLS_SERVICE_NAME: 'dualread-control',
      },
    });
    // Reads STATE, writes STATE + AUDIT in one transaction (TransactWriteItems checks PutItem per item).
    this.function.addToRolePolicy(
      controlItemsStatement(props.controlTable, migration.id, ['dynamodb:GetItem', 'dynamodb:PutItem']),
    );
    props.controlTable.encryptionKey?.grantEncryptDecrypt(this.function);

    this.deadLetterQueue = deadLetterQueue(this, {
      redrive:
        'This queue IS the dead-letter queue of the rollback rule: an operator reads its alarm events ' +
        '(docs/runbook.md "The dualread CLI"), and a redrive policy would move them out of sight.',
      sqs3:
        "This queue IS the dead-letter queue: it is the rule target's DLQ for alarm events the control Lambda " +
        'could not handle after retries. A dead-letter queue of a dead-letter queue would only move them once more.',
    });
    this.rule = new events.Rule(this, 'RollbackRule', {
      description: `Rolls migration ${migration.id} back to SHADOW when one of its rollback alarms fires`,
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        resources: props.alarms.map((a) => a.alarmArn),
        detail: { state: { value: ['ALARM'] } },
      },
      targets: [
        new targets.LambdaFunction(this.function, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(1),
          deadLetterQueue: this.deadLetterQueue,
        }),
      ],
    });
  }
}
