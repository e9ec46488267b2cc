import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { ControlFunction } from '../../../lib/control-function';
import { type Finding, constructStack, errorOf, statementsOf, synthesize } from '../helpers';

function alarm(scope: ConstructParam, id: string): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, id, {
    metric: new cloudwatch.Metric({ namespace: 'test', metricName: id, period: Duration.minutes(1) }),
    threshold: 1,
    evaluationPeriods: 1,
  });
}
type ConstructParam = ConstructorParameters<typeof cloudwatch.Alarm>[0];

describe('Construct: ControlFunction', () => {
  let template: Template;
  let nag: Finding[];
  beforeAll(() => {
    const built = constructStack(({ stack, common }) => {
      const alarms = [alarm(stack, 'Read5xx'), alarm(stack, 'FrontierLag')];
      alarm(stack, 'Unrelated');
      return new ControlFunction(stack, 'Control', {
        migration: common.migration,
        controlTable: common.controlTable,
        definitionsFile: common.definitionsFile,
        alarms,
      });
    });
    ({ nag, template } = synthesize(built));
  });

  it('invokes the control Lambda on exactly the rollback alarms entering ALARM, with a dead-letter queue', () => {
    const rules = template.findResources('AWS::Events::Rule');
    expect(Object.values(rules)).toHaveLength(1);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        resources: [
          { 'Fn::GetAtt': [Match.stringLikeRegexp('^Read5xx'), 'Arn'] },
          { 'Fn::GetAtt': [Match.stringLikeRegexp('^FrontierLag'), 'Arn'] },
        ],
        detail: { state: { value: ['ALARM'] } },
      },
      Targets: [
        Match.objectLike({
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('DeadLetterQueue'), 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 3600 },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ MIGRATION_ID: 'orders', CONTROL_TABLE_NAME: Match.anyValue() }),
      },
    });
  });

  it('may only read and write this migration’s control items', () => {
    const statements = statementsOf(template, 'handler');
    const dynamo = statements.filter((s) => [s.Action].flat().some((a) => String(a).startsWith('dynamodb:')));
    expect(dynamo).toEqual([
      expect.objectContaining({
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^ControlTable/), 'Arn'] },
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['MIGRATION#orders'] } },
      }),
    ]);
  });

  it('passes cdk-nag AwsSolutions', () => {
    expect(nag.filter((f) => f.paths.some((p) => p.includes('/Control/')))).toEqual([]);
  });

  it('refuses an empty alarm list', () => {
    expect(
      errorOf(() =>
        constructStack(({ stack, common }) => new ControlFunction(stack, 'C', { ...common, alarms: [] })),
      ),
    ).toMatch(/ControlFunction \(migration "orders"\): alarms is empty/);
  });
});
