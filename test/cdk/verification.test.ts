import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Verification, type VerificationProps } from '../../lib/verification';
import { VerifyFunction, verifyDefinition } from '../../stepfunctions/verify';
import {
  type Finding,
  type PolicyStatement,
  actionsOf,
  constructStack,
  allStatements,
  expectDefinitionDeployed,
  expectWorkflowStateMachine,
  statementsOf,
  synthesize,
} from './helpers';

function verificationStack(props: Partial<VerificationProps> = {}) {
  return constructStack(({ stack, common, legacyTable }) => {
    const migration = {
      ...common.migration,
      verification: { schedule: 'cron(30 2 * * ? *)', timeZone: 'Europe/Paris', repair: true },
    };
    return new Verification(stack, 'Verification', { ...common, migration, legacyTable, ...props });
  });
}

function dynamoActions(statements: PolicyStatement[]): string[] {
  return actionsOf(statements).filter((a) => a.startsWith('dynamodb:'));
}

describe('Construct: Verification', () => {
  // Bundling is skipped by newApp; one stack is synthesized and shared by the assertions.
  let template: Template;
  let nag: Finding[];
  beforeAll(() => ({ nag, template } = synthesize(verificationStack())));

  it('deploys the same definition local mode runs, apart from the function ARNs', () => {
    expectDefinitionDeployed(template, verifyDefinition(), Object.values(VerifyFunction));
  });

  it('uses none of the features the local interpreter ignores (JSONata, Assign, falsy Pass results, RetryCount)', () => {
    // Act
    const text = JSON.stringify(verifyDefinition());

    // Assess
    expect(text).not.toMatch(/JSONata|"Assign"|RetryCount|\{%/);
    const passResults = JSON.stringify(verifyDefinition()).match(/"Result":(?!\{)/g);
    expect(passResults).toBeNull();
  });

  it('creates a standard state machine with a fixed name, full logging and tracing', () => {
    expectWorkflowStateMachine(template, 'Test-verify-orders');
  });

  it('builds four functions from one entry, one per handler, with the budget and lag wait', () => {
    for (const handler of ['control', 'scan', 'recheck', 'repair']) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Handler: `index.${handler}`,
        Environment: {
          Variables: Match.objectLike({
            MIGRATION_ID: 'orders',
            VERIFY_BUDGET_MS: '60000',
            VERIFY_MAX_LAG_WAIT_MS: '900000',
          }),
        },
      });
    }
  });

  it('grants each function only what it does: reads for scan and recheck, PutItem on new only to repair', () => {
    expect(dynamoActions(statementsOf(template, 'scan'))).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:Scan',
      'dynamodb:Scan',
    ]);
    expect(dynamoActions(statementsOf(template, 'recheck'))).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
    ]);
    const repair = statementsOf(template, 'repair');
    expect(repair.find((s) => s.Sid === 'RepairNew')).toMatchObject({
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/NewTable/), 'Arn'] },
    });
    expect(repair.find((s) => s.Sid === 'ReadLegacy')).toMatchObject({
      Action: 'dynamodb:GetItem',
      Resource: 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders-legacy',
    });
    for (const handler of ['control', 'scan', 'recheck', 'repair']) {
      const control = statementsOf(template, handler).find((s) => s.Sid === 'MigrationControlItems');
      expect(control?.Condition).toEqual({
        'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['MIGRATION#orders'] },
      });
    }
    for (const handler of ['control', 'scan', 'recheck']) {
      const writes = statementsOf(template, handler).filter(
        (s) => s.Sid !== 'MigrationControlItems' && JSON.stringify(s.Action).includes('PutItem'),
      );
      expect(writes).toEqual([]);
    }
  });

  it('lets the state machine start executions of itself only', () => {
    const statements = allStatements(template);
    expect(statements.find((s) => s.Sid === 'StartItself')?.Resource).toBe(
      'arn:aws:states:eu-west-1:123456789012:stateMachine:Test-verify-orders',
    );
  });

  it('schedules runs with EventBridge Scheduler in the migration time zone, repair from the config, no flexible window', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 2 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: Match.objectLike({
        Arn: { Ref: Match.stringLikeRegexp('VerificationStateMachine') },
        Input: JSON.stringify({ repair: true }),
      }),
    });
  });

  it('alarms on failed executions and on confirmed drift', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsFailed',
      Namespace: 'AWS/States',
      Threshold: 1,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'VerifyConfirmedDrift',
      Namespace: 'dualread',
      Dimensions: Match.arrayWith([{ Name: 'migrationId', Value: 'orders' }]),
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('passes cdk-nag with a written reason for every acknowledgement', () => {
    expect(nag.filter((f) => f.paths.some((p) => p.includes('/Verification/')))).toEqual([]);
  });
});

describe('Construct: Verification props', () => {
  it.each<[string, Partial<VerificationProps>, RegExp]>([
    ['an invalid state machine name', { stateMachineName: 'has spaces' }, /stateMachineName/],
    ['a budget over 10 minutes', { budget: Duration.minutes(11) }, /budget/],
    ['a lag wait over a day', { maxLagWait: Duration.hours(25) }, /maxLagWait/],
  ])('refuses %s', (_case, props, message) => {
    expect(() => verificationStack(props)).toThrow(message);
  });

  it('creates no schedule when scheduling is off', () => {
    const { stack } = verificationStack({ scheduleEnabled: false });
    Template.fromStack(stack).resourceCountIs('AWS::Scheduler::Schedule', 0);
  });
});
