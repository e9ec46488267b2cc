import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Verification, type VerificationProps } from '../../lib/verification';
import { VerifyFunction, verifyDefinition } from '../../stepfunctions/verify';
import {
  itIsALambdaWorkflow,
  itRefusesInvalidWorkflowProps,
  partStack,
  synthesizedOnce,
} from '../helpers/cdk-parts';
import { dynamoActions, expectFunctionPerHandler, statementsOf } from './helpers';

function verificationStack(props: Partial<VerificationProps> = {}) {
  return partStack(Verification, 'Verification', props, ({ common }) => ({
    migration: {
      ...common.migration,
      verification: { schedule: 'cron(30 2 * * ? *)', timeZone: 'Europe/Paris', repair: true },
    },
  }));
}

describe('Construct: Verification', () => {
  const synth = synthesizedOnce(() => verificationStack());

  itIsALambdaWorkflow(synth, {
    id: 'Verification',
    definition: verifyDefinition(),
    placeholders: Object.values(VerifyFunction),
    stateMachineName: 'Test-verify-orders',
  });

  it('uses none of the features the local interpreter ignores (JSONata, Assign, falsy Pass results, RetryCount)', () => {
    // Act
    const text = JSON.stringify(verifyDefinition());

    // Assess
    expect(text).not.toMatch(/JSONata|"Assign"|RetryCount|\{%/);
    const passResults = JSON.stringify(verifyDefinition()).match(/"Result":(?!\{)/g);
    expect(passResults).toBeNull();
  });

  it('builds four functions from one entry, one per handler, with the budget and lag wait', () => {
    expectFunctionPerHandler(synth.template, ['control', 'scan', 'recheck', 'repair'], {
      MIGRATION_ID: 'orders',
      VERIFY_BUDGET_MS: '60000',
      VERIFY_MAX_LAG_WAIT_MS: '900000',
    });
  });

  it('grants each function only what it does: reads for scan and recheck, PutItem on new only to repair', () => {
    expect(dynamoActions(statementsOf(synth.template, 'scan'))).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:Scan',
      'dynamodb:Scan',
    ]);
    expect(dynamoActions(statementsOf(synth.template, 'recheck'))).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
    ]);
    const repair = statementsOf(synth.template, 'repair');
    expect(repair.find((s) => s.Sid === 'RepairNew')).toMatchObject({
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/NewTable/), 'Arn'] },
    });
    expect(repair.find((s) => s.Sid === 'ReadLegacy')).toMatchObject({
      Action: 'dynamodb:GetItem',
      Resource: 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders-legacy',
    });
    for (const handler of ['control', 'scan', 'recheck', 'repair']) {
      const control = statementsOf(synth.template, handler).find((s) => s.Sid === 'MigrationControlItems');
      expect(control?.Condition).toEqual({
        'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['MIGRATION#orders'] },
      });
    }
    for (const handler of ['control', 'scan', 'recheck']) {
      const writes = statementsOf(synth.template, handler).filter(
        (s) => s.Sid !== 'MigrationControlItems' && JSON.stringify(s.Action).includes('PutItem'),
      );
      expect(writes).toEqual([]);
    }
  });

  it('schedules runs with EventBridge Scheduler in the migration time zone, repair from the config, no flexible window', () => {
    synth.template.hasResourceProperties('AWS::Scheduler::Schedule', {
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

  it('alarms on confirmed drift', () => {
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'VerifyConfirmedDrift',
      Namespace: 'dualread',
      Dimensions: Match.arrayWith([{ Name: 'migrationId', Value: 'orders' }]),
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });
});

describe('Construct: Verification props', () => {
  itRefusesInvalidWorkflowProps(verificationStack, [
    ['a budget over 10 minutes', { budget: Duration.minutes(11) }, /budget/],
    ['a lag wait over a day', { maxLagWait: Duration.hours(25) }, /maxLagWait/],
  ]);

  it('creates no schedule when scheduling is off', () => {
    const { stack } = verificationStack({ scheduleEnabled: false });
    Template.fromStack(stack).resourceCountIs('AWS::Scheduler::Schedule', 0);
  });
});
