/**
 * Operations of a deployed stack: every alarm notifies the alarm topic on ALARM and OK, the alarms an
 * operator needs exist (from metrics the handlers publish), the rollback alarms, and the read API's
 * throttling, reserved concurrency, CloudWatch role, URL output and page-token secret.
 */
import { CfnWaitConditionHandle, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { DualReadStack, type DualReadStackProps, ReadApi } from '../../lib';
import {
  ORDERS_DEFINITIONS_FILE,
  constructStack,
  errorOf,
  newApp,
  ordersLike,
  ordersMigration,
} from './helpers';
import { stackTemplates } from './templates';

type Resource = { Type: string; Properties: Record<string, unknown> };

function build(props: Partial<DualReadStackProps> = {}): { stack: DualReadStack; templates: Template[] } {
  const app = newApp();
  const stack = new DualReadStack(app, 'DualRead-prod', {
    migrations: [ordersMigration()],
    envName: 'prod',
    definitionsFile: ORDERS_DEFINITIONS_FILE,
    env: { account: '123456789012', region: 'eu-west-1' },
    ...props,
  });
  return { stack, templates: stackTemplates(stack) };
}

/** Every resource of type `type` in any of `templates`, with its logical id. */
function resourcesOf(templates: readonly Template[], type: string): Array<[string, Resource]> {
  return templates.flatMap((t) => Object.entries(t.findResources(type)) as Array<[string, Resource]>);
}

/** The metric names an alarm reads (directly or in its math expression). */
function metricNamesOf(alarm: Resource): string[] {
  const p = alarm.Properties as {
    MetricName?: string;
    Metrics?: Array<{ MetricStat?: { Metric: { MetricName: string } } }>;
  };
  if (p.MetricName) return [p.MetricName];
  return (p.Metrics ?? []).flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric.MetricName] : []));
}

describe('Alarms reach someone', () => {
  let built: ReturnType<typeof build>;
  let alarms: Array<[string, Resource]>;
  beforeAll(() => {
    built = build();
    alarms = resourcesOf(built.templates, 'AWS::CloudWatch::Alarm');
  });

  it('wires every alarm of the stack to the alarm topic, on ALARM and on OK', () => {
    // Assess
    expect(alarms).toHaveLength(19);
    for (const [id, alarm] of alarms) {
      const p = alarm.Properties as { AlarmActions?: unknown[]; OKActions?: unknown[] };
      expect({ id, actions: p.AlarmActions?.length, ok: p.OKActions?.length }).toEqual({
        id,
        actions: 1,
        ok: 1,
      });
      expect(JSON.stringify(p.AlarmActions)).toMatch(/AlarmTopic/);
      expect(p.OKActions).toEqual(p.AlarmActions);
    }
  });

  it('creates one topic, encrypted with a rotated customer-managed key that CloudWatch may use', () => {
    // Assess
    const topics = resourcesOf(built.templates, 'AWS::SNS::Topic');
    expect(topics).toHaveLength(1);
    const root = Template.fromStack(built.stack);
    root.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('AlarmTopicKey'), 'Arn'] },
    });
    root.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
    // Publishers must use TLS.
    root.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    root.hasOutput('AlarmTopicArn', Match.anyValue());
  });

  it('has the alarms an operator needs, each on a metric the handlers publish', () => {
    // Assess
    const metrics = alarms.flatMap(([, a]) => metricNamesOf(a));
    for (const name of [
      // read API
      '5XXError',
      'Latency',
      'ShadowComparisons.missing',
      'ShadowComparisons.extra',
      'ShadowComparisons.content',
      'ShadowComparisons.unmappable',
      'ShadowComparisons',
      'NewBreakerOpen',
      'NewStoreErrors',
      // new table, backfill, verification
      'WriteThrottleEvents',
      'BackfillItemsCopied',
      'Invocations',
      'VerifyConfirmedDrift',
      'VerifyUnconfirmedLag',
      // CDC and frontier
      'ApproximateNumberOfMessagesVisible',
      'IteratorAge',
      'OrderViolations',
      'FrontierLagSeconds',
      'FrontierAssumptionViolations',
      'FrontierLateRecords',
    ]) {
      expect({ name, found: metrics.includes(name) }).toEqual({ name, found: true });
    }
    // Read metrics carry the read Lambda's service and the migration (Powertools dimensions).
    const [, breaker] = alarms.find(([id]) => id.includes('NewBreakerOpenAlarm')) ?? [];
    expect(breaker?.Properties).toMatchObject({
      Namespace: 'dualread',
      Dimensions: expect.arrayContaining([
        { Name: 'service', Value: 'dualread-read' },
        { Name: 'migrationId', Value: 'orders' },
      ]),
    });
  });

  it('lists the rollback alarms on the migration: 5xx rate, mismatch rate, lag, DLQ, iterator age, order, violations, late records', () => {
    // Prepare
    const [migration] = built.stack.migrations;
    // The last two parts of each alarm's construct path: its part of the migration and its id.
    const names = migration?.rollbackAlarms.map((a) => a.node.path.split('/').slice(-2).join('/'));

    // Assess
    expect(names).toEqual([
      'ReadApi/ServerErrorRateAlarm',
      'ReadApi/ShadowMismatchRateAlarm',
      'FrontierTracker/LagAlarm',
      'StreamSync/DeadLetterAlarm',
      'StreamSync/IteratorAgeAlarm',
      'StreamSync/OrderViolationAlarm',
      'FrontierTracker/ViolationsAlarm',
      'FrontierTracker/LateRecordAlarm',
    ]);
  });

  it('uses a given topic and creates none', () => {
    // Prepare
    const app = newApp();
    const shared = new Stack(app, 'Shared', { env: { account: '123456789012', region: 'eu-west-1' } });
    // A stack must hold a resource to synthesize; the topic itself is imported by ARN.
    new CfnWaitConditionHandle(shared, 'Placeholder');
    const topic = sns.Topic.fromTopicArn(shared, 'Oncall', 'arn:aws:sns:eu-west-1:123456789012:oncall');
    const stack = new DualReadStack(app, 'DualRead-prod', {
      migrations: [ordersMigration()],
      envName: 'prod',
      definitionsFile: ORDERS_DEFINITIONS_FILE,
      env: { account: '123456789012', region: 'eu-west-1' },
      alarmTopic: topic,
    });

    // Act
    const templates = stackTemplates(stack);

    // Assess
    expect(resourcesOf(templates, 'AWS::SNS::Topic')).toHaveLength(0);
    for (const [, alarm] of resourcesOf(templates, 'AWS::CloudWatch::Alarm')) {
      expect(alarm.Properties.AlarmActions).toEqual(['arn:aws:sns:eu-west-1:123456789012:oncall']);
      expect(alarm.Properties.OKActions).toEqual(['arn:aws:sns:eu-west-1:123456789012:oncall']);
    }
  });
});

describe('Read API in production', () => {
  let built: ReturnType<typeof build>;
  beforeAll(() => (built = build()));

  it('throttles the stage at 1000 requests/s with bursts of 2000 by default', () => {
    // Assess
    const [stage] = resourcesOf(built.templates, 'AWS::ApiGateway::Stage');
    expect(stage?.[1].Properties.MethodSettings).toEqual([
      expect.objectContaining({
        HttpMethod: '*',
        ResourcePath: '/*',
        ThrottlingRateLimit: 1000,
        ThrottlingBurstLimit: 2000,
      }),
    ]);
  });

  it('creates no API Gateway account role by default, and exactly one per stack when asked', () => {
    // Assess: default
    expect(resourcesOf(built.templates, 'AWS::ApiGateway::Account')).toHaveLength(0);

    // Act: two migrations, the role asked for
    const withRole = build({
      migrations: [ordersMigration(), ordersLike('orders-b')],
      apiGatewayCloudWatchRole: true,
    });

    // Assess
    const accounts = resourcesOf(withRole.templates, 'AWS::ApiGateway::Account');
    expect(accounts).toHaveLength(1);
    expect(resourcesOf(withRole.templates, 'AWS::ApiGateway::RestApi')).toHaveLength(2);
    Template.fromStack(withRole.stack).hasResource('AWS::ApiGateway::Account', { DeletionPolicy: 'Retain' });
  });

  it('outputs the URL of each read API', () => {
    // Assess
    const outputs = Template.fromStack(built.stack).findOutputs('OrdersReadApiUrl');
    expect(JSON.stringify(outputs)).toMatch(/execute-api/);
  });

  it('sets reserved concurrency of the read Lambda only when asked, and refuses a bad value', () => {
    // Prepare
    const readFunctions = (templates: Template[]) =>
      resourcesOf(templates, 'AWS::Lambda::Function').filter(([id]) => id.includes('ReadApiFunction'));

    // Assess: default unreserved
    expect(readFunctions(built.templates)[0]?.[1].Properties.ReservedConcurrentExecutions).toBeUndefined();

    // Act
    const withReserved = constructStack(
      ({ stack, common, legacyTable }) =>
        new ReadApi(stack, 'Read', {
          ...common,
          legacyTable,
          reservedConcurrency: 50,
          throttle: { rateLimit: 10, burstLimit: 20 },
        }),
    );
    const t = Template.fromStack(withReserved.stack);

    // Assess
    t.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 50 });
    t.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 })],
    });
    expect(
      errorOf(() =>
        constructStack(
          ({ stack, common, legacyTable }) =>
            new ReadApi(stack, 'Read', { ...common, legacyTable, reservedConcurrency: 0 }),
        ),
      ),
    ).toBe('ReadApi (migration "orders"): reservedConcurrency must be a whole number of at least 1, not 0');
  });

  it('keeps the page-token secret in Secrets Manager: generated at deploy, its ARN in the environment, readable by the read Lambda only', () => {
    // Assess: generated, not a value in the template
    const secrets = resourcesOf(built.templates, 'AWS::SecretsManager::Secret');
    expect(secrets).toHaveLength(1);
    const [secretId, secret] = secrets[0] as [string, Resource];
    expect(secret.Properties.GenerateSecretString).toEqual({ PasswordLength: 64, ExcludePunctuation: true });
    expect(secret.Properties.SecretString).toBeUndefined();

    // The read Lambda gets the ARN; no environment variable of any Lambda holds a secret.
    const functions = resourcesOf(built.templates, 'AWS::Lambda::Function');
    const read = functions.find(([id]) => id.includes('ReadApiFunction'));
    const env = (read?.[1].Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env.PAGE_TOKEN_SECRET_ARN).toEqual({ Ref: secretId });
    for (const [, fn] of functions) {
      const vars =
        (fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
      expect(Object.keys(vars).filter((k) => /SECRET|TOKEN|PASSWORD/.test(k) && !k.endsWith('_ARN'))).toEqual(
        [],
      );
    }

    // GetSecretValue: granted in exactly one policy, on this secret.
    const grants = resourcesOf(built.templates, 'AWS::IAM::Policy').flatMap(([, p]) =>
      (
        p.Properties.PolicyDocument as { Statement: Array<{ Action: string | string[]; Resource: unknown }> }
      ).Statement.filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue')),
    );
    expect(grants).toHaveLength(1);
    expect(grants[0]?.Resource).toEqual({ Ref: secretId });
  });
});
