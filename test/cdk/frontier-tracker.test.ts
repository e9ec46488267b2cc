import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { DualReadMigration, EXAMPLE_DEFINITIONS_FILE } from '../../lib';
import { FrontierMetrics, FrontierTracking, type FrontierTrackingProps } from '../../lib/frontier-tracker';
import { expectAllowed, synthesizedOnce } from '../helpers/cdk-parts';
import { ORDERS_STREAM_ARN, constructStack, ordersMigration, testStack } from './helpers';

function trackerStack(props: Partial<FrontierTrackingProps> = {}) {
  return constructStack(
    ({ stack, common }) =>
      new FrontierTracking(stack, 'Frontier', { ...common, legacyStreamArn: ORDERS_STREAM_ARN, ...props }),
  );
}

describe('Construct: FrontierTracking', () => {
  const synth = synthesizedOnce(() => trackerStack());

  it('runs one tracker at a time, a bit longer than its loop, with its settings in the environment', () => {
    // Assess
    synth.template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 70,
      ReservedConcurrentExecutions: 1,
      Environment: {
        Variables: Match.objectLike({
          MIGRATION_ID: 'orders',
          LEGACY_STREAM_ARN: ORDERS_STREAM_ARN,
          LOOP_DURATION_MS: '55000',
          LOOP_INTERVAL_MS: '250',
          PROPAGATION_MARGIN_MS: '1000',
          TIP_EMPTY_PAGES: '3',
          TIP_MIN_SPAN_MS: '1000',
          CHILD_LISTING_WAIT_MS: '300000',
          CONTROL_TABLE_NAME: Match.anyValue(),
          NEW_TABLE_NAME: Match.anyValue(),
        }),
      },
    });
    synth.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
    });
  });

  it('is invoked every minute by EventBridge', () => {
    // Assess
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 } })],
    });
  });

  it('may read the stream, batch-read the new table and use only its own control items', () => {
    // Assess
    expectAllowed(synth.template, [
      {
        Sid: 'ReadLegacyStream',
        Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
        Resource: ORDERS_STREAM_ARN,
      },
      {
        Sid: 'ReadNewItemSequences',
        Action: 'dynamodb:BatchGetItem',
        Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NewTable'), 'Arn'] },
      },
      {
        Sid: 'MigrationControlItems',
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
        Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ControlTable'), 'Arn'] },
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['MIGRATION#orders'] } },
      },
    ]);
  });

  it('alarms when F lags beyond the staleness budget or stops being reported, and on any violation', () => {
    // Assess
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: FrontierMetrics.NAMESPACE,
      MetricName: FrontierMetrics.LAG,
      Dimensions: Match.arrayWith([{ Name: 'migrationId', Value: 'orders' }]),
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'breaching',
    });
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: FrontierMetrics.VIOLATIONS,
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms on any late record (F was published past a record not yet applied)', () => {
    // Assess
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: FrontierMetrics.NAMESPACE,
      MetricName: FrontierMetrics.LATE_RECORDS,
      Dimensions: Match.arrayWith([{ Name: 'migrationId', Value: 'orders' }]),
      Statistic: 'Sum',
      Period: 60,
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmDescription: Match.stringLikeRegexp('late record'),
    });
  });

  it('passes cdk-nag AwsSolutions with a written reason for every acknowledgement', () => {
    // Assess
    expect(synth.nag.filter((f) => f.paths.some((p) => p.includes('/Frontier/')))).toEqual([]);
  });

  it.each([
    ['a loop longer than 58 s', { loopDuration: Duration.seconds(70) }],
    [
      'an interval longer than the loop',
      { loopDuration: Duration.seconds(10), loopInterval: Duration.seconds(20) },
    ],
    ['an interval under 100 ms', { loopInterval: Duration.millis(10) }],
  ])('refuses %s', (_name, props) => {
    // Act / Assess
    expect(() => trackerStack(props)).toThrow(/FrontierTracking \(migration "orders"\): loopDuration/);
  });

  it.each([
    ['no empty page', { tipEmptyPages: 0 }, /tipEmptyPages \(0\) must be a whole number of at least 1/],
    ['a fraction of a page', { tipEmptyPages: 2.5 }, /tipEmptyPages \(2.5\)/],
  ])('refuses a tip rule of %s', (_name, props, message) => {
    // Act / Assess
    expect(() => trackerStack(props)).toThrow(message);
  });
});

describe('Construct: DualReadMigration (frontier tracker wiring)', () => {
  function migrationStack(definitionsFile?: string) {
    const { stack, control } = testStack();
    const construct = new DualReadMigration(stack, 'Migration', {
      migration: ordersMigration(),
      controlTable: control.table,
      ...(definitionsFile ? { definitionsFile } : {}),
      frontierTrackingProps: { loopInterval: Duration.seconds(5) },
    });
    return { construct, template: Template.fromStack(stack) };
  }

  it('creates the tracker on the legacy stream when it has a definitions file', () => {
    // Act
    const { construct, template } = migrationStack(EXAMPLE_DEFINITIONS_FILE);

    // Assess
    expect(construct.frontierTracking).toBeDefined();
    // The tracker's schedule, and the control function's rule over the rollback alarms.
    template.resourceCountIs('AWS::Events::Rule', 2);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ LEGACY_STREAM_ARN: ORDERS_STREAM_ARN, LOOP_INTERVAL_MS: '5000' }),
      },
    });
  });

  it('creates only the tables without a definitions file', () => {
    // Act
    const { construct, template } = migrationStack();

    // Assess
    expect(construct.frontierTracking).toBeUndefined();
    template.resourceCountIs('AWS::Lambda::Function', 0);
  });
});
