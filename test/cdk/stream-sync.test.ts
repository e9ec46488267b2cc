import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { StreamSync, type StreamSyncProps } from '../../lib/stream-sync';
import { partStack, synthesizedOnce } from '../helpers/cdk-parts';
import { ORDERS_STREAM_ARN } from './helpers';

function syncStack(props: Partial<StreamSyncProps> = {}) {
  return partStack(StreamSync, 'Sync', props);
}

describe('Construct: StreamSync', () => {
  const synth = synthesizedOnce(() => syncStack());

  it('consumes the legacy stream from TRIM_HORIZON per record, bisecting, with bounded retries and factor 1', () => {
    synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: ORDERS_STREAM_ARN,
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 1,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 12 * 3600,
      ParallelizationFactor: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('DeadLetterQueue'), 'Arn'] } },
      },
    });
  });

  it('sends failed batches to an SQS-encrypted dead-letter queue that refuses non-TLS access', () => {
    synth.template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 86400,
    });
    synth.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('tells the handler its migration, tables and tombstone margin', () => {
    synth.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          MIGRATION_ID: 'orders',
          TOMBSTONE_MARGIN_HOURS: '168',
          CONTROL_TABLE_NAME: Match.anyValue(),
          NEW_TABLE_NAME: Match.anyValue(),
          POWERTOOLS_SERVICE_NAME: 'dualread-sync',
        }),
      },
    });
  });

  it('grants PutItem and PartiQLInsert (put-if-absent) on the new table only and this migration’s control items only', () => {
    const policies = synth.template.findResources('AWS::IAM::Policy');
    const statements = Object.values(policies).flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } }).Properties
          .PolicyDocument.Statement,
    );
    const apply = statements.find((s) => s.Sid === 'ApplyChangesToNewTable');
    expect(apply?.Action).toEqual(['dynamodb:PartiQLInsert', 'dynamodb:PutItem']);
    const control = statements.find((s) => s.Sid === 'MigrationControlItems');
    expect(control?.Action).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
    expect(control?.Condition).toEqual({
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['MIGRATION#orders'] },
    });
    // Nothing deletes, updates or scans anything.
    const actions = statements.flatMap((s) => [s.Action].flat() as string[]);
    expect(actions.filter((a) => /Delete|Update|Scan|BatchWrite|\*/.test(a))).toEqual([]);
  });

  it('alarms on dead letters, iterator age and order violations', () => {
    synth.template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
    });
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'IteratorAge',
      Threshold: 60_000,
    });
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'OrderViolations',
      Namespace: 'dualread',
      Dimensions: Match.arrayWith([{ Name: 'migrationId', Value: 'orders' }]),
    });
  });

  it('passes cdk-nag with a written reason for every acknowledgement', () => {
    expect(synth.nag).toEqual([]);
  });

  it.each<[string, Partial<StreamSyncProps>, RegExp]>([
    [
      'both an existing queue and queue props',
      { existingDeadLetterQueueObj: {} as sqs.IQueue, deadLetterQueueProps: {} },
      /not both/,
    ],
    ['a batch size of 0', { batchSize: 0 }, /batchSize/],
    ['unbounded retries', { retryAttempts: -1 }, /retryAttempts must be bounded/],
    ['a record age below a minute', { maxRecordAge: Duration.seconds(10) }, /maxRecordAge/],
    [
      'a tombstone margin within the stream retention',
      { tombstoneMargin: Duration.hours(12) },
      /tombstoneMargin/,
    ],
  ])('refuses %s', (_label, props, message) => {
    expect(() => syncStack(props)).toThrow(message);
  });
});
