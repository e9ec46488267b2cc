/**
 * Where alarms go: the SNS topic every alarm of a migration notifies on ALARM and on OK, and the
 * Aspect that wires every alarm under a scope to it (alarms added later, by other constructs in that
 * scope, are wired too: the Aspect runs at synth).
 *
 * The topic the construct creates is encrypted with a customer-managed KMS key: CloudWatch alarms
 * cannot publish to a topic encrypted with the AWS-managed `alias/aws/sns` key (its key policy cannot
 * admit `cloudwatch.amazonaws.com`), so an alarm wired to such a topic would notify no one, silently.
 */
import { AspectPriority, Aspects, Duration, type IAspect, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct, IConstruct } from 'constructs';

/**
 * Creates (in `scope`) `AlarmTopicKey` (rotated yearly, usable by CloudWatch of this account) and
 * `AlarmTopic`, encrypted with it and refusing non-TLS publishers. Subscribe people or a pager to it.
 */
export function createAlarmTopic(scope: Construct, displayName: string): sns.Topic {
  const stack = Stack.of(scope);
  const key = new kms.Key(scope, 'AlarmTopicKey', {
    description: `dualread alarm topic of ${displayName}`,
    enableKeyRotation: true,
    // Notifications already published are gone after delivery; a deleted key only loses the topic.
    removalPolicy: RemovalPolicy.DESTROY,
    pendingWindow: Duration.days(7),
  });
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'CloudWatchAlarmsPublish',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }),
  );
  return new sns.Topic(scope, 'AlarmTopic', {
    displayName: `dualread alarms: ${displayName}`.slice(0, 100),
    masterKey: key,
    enforceSSL: true,
  });
}

/**
 * Wires every CloudWatch alarm under a scope to `topic`, on ALARM and on OK, once each.
 */
export class AlarmNotifications implements IAspect {
  private readonly action: cloudwatch.IAlarmAction;
  private readonly wired = new WeakSet<cloudwatch.AlarmBase>();

  constructor(topic: sns.ITopic) {
    this.action = new actions.SnsAction(topic);
  }

  visit(node: IConstruct): void {
    if (!(node instanceof cloudwatch.AlarmBase) || this.wired.has(node)) return;
    node.addAlarmAction(this.action);
    node.addOkAction(this.action);
    this.wired.add(node);
  }

  /** Adds the Aspect to `scope` (before synth-time checks read the alarms). */
  static applyTo(scope: IConstruct, topic: sns.ITopic): void {
    Aspects.of(scope).add(new AlarmNotifications(topic), { priority: AspectPriority.MUTATING });
  }
}
