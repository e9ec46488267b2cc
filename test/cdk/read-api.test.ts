import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ReadApi, type ReadApiProps } from '../../lib/read-api';
import { expectAllowed, partStack, synthesizedOnce } from '../helpers/cdk-parts';
import { ordersWithSurfaces } from './helpers';

function readApiStack(props: Partial<ReadApiProps> = {}) {
  return partStack(ReadApi, 'Read', props);
}

describe('Construct: ReadApi', () => {
  const synth = synthesizedOnce(() => readApiStack());

  it('exposes get, batch-get and query (POST, and GET with query-string parameters) under /migrations/{id}, every method IAM-authorized', () => {
    // Assess
    const methods = synth.template.findResources('AWS::ApiGateway::Method');
    const served = Object.values(methods).map(
      (m) => (m as { Properties: { HttpMethod: string; AuthorizationType: string } }).Properties,
    );
    expect(served.map((m) => m.HttpMethod).sort()).toEqual(['GET', 'GET', 'POST', 'POST']);
    expect(served.every((m) => m.AuthorizationType === 'AWS_IAM')).toBe(true);
    for (const part of ['migrations', '{id}', 'items', 'batch-get', 'query'])
      synth.template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: part });
    synth.template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      ApiKeyRequired: false,
      RequestParameters: { 'method.request.querystring.key': true },
    });
    synth.template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      ResourceId: { Ref: Match.stringLikeRegexp('query') },
      RequestParameters: { 'method.request.querystring.partitionKey': true },
    });
    synth.template.resourceCountIs('AWS::ApiGateway::ApiKey', 0);
  });

  it('writes access logs and execution logs, with tracing', () => {
    synth.template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.anyValue() },
      MethodSettings: [
        Match.objectLike({ LoggingLevel: 'ERROR', MetricsEnabled: true, DataTraceEnabled: false }),
      ],
      TracingEnabled: true,
    });
  });

  it('runs the read Lambda with its migration, tables and timeouts in the environment', () => {
    synth.template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 10,
      Environment: {
        Variables: Match.objectLike({
          MIGRATION_ID: 'orders',
          CONTROL_TABLE_NAME: Match.anyValue(),
          LEGACY_TABLE_NAME: 'orders-legacy',
          NEW_TABLE_NAME: Match.anyValue(),
          PAGE_TOKEN_SECRET_ARN: { Ref: Match.stringLikeRegexp('PageTokenSecret') },
          READ_NEW_TIMEOUT_MS: '300',
          POWERTOOLS_SERVICE_NAME: 'dualread-read',
        }),
      },
    });
  });

  it('may query the indexes its query surfaces read, and no other index', () => {
    // Arrange
    const migration = ordersWithSurfaces();

    // Act
    const surfaces = Template.fromStack(readApiStack({ migration }).stack);

    // Assess
    expectAllowed(surfaces, [
      {
        Sid: 'QueryMappedIndexes',
        Action: 'dynamodb:Query',
        Resource: [
          'arn:aws:dynamodb:eu-west-1:123456789012:table/orders-legacy/index/by-customer',
          {
            'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^NewTable'), 'Arn'] }, '/index/GSI1']],
          },
        ],
      },
    ]);
    expect(JSON.stringify(surfaces.toJSON())).not.toContain('/index/GSI2');
  });

  it('may only get and query the two tables, and get and count (UpdateItem ADD) its own control items', () => {
    expectAllowed(synth.template, [
      {
        Sid: 'ReadMigratedTables',
        Action: ['dynamodb:GetItem', 'dynamodb:Query'],
        Resource: [
          'arn:aws:dynamodb:eu-west-1:123456789012:table/orders-legacy',
          { 'Fn::GetAtt': [Match.stringLikeRegexp('^NewTable'), 'Arn'] },
        ],
      },
      {
        Sid: 'ReadMigrationControlItems',
        Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ControlTable'), 'Arn'] },
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['MIGRATION#orders'] } },
      },
    ]);
    const policies = JSON.stringify(synth.template.findResources('AWS::IAM::Policy'));
    // UpdateItem only on its control items (the SHADOW# counters, asserted above); no other write.
    expect(policies).not.toMatch(/dynamodb:(PutItem|DeleteItem|BatchWriteItem|Scan|\*)/);
  });

  it('alarms on any 5xx and on p99 latency', () => {
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: '5XXError',
      Namespace: 'AWS/ApiGateway',
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Latency',
      ExtendedStatistic: 'p99',
      Threshold: 1000,
    });
  });

  it('passes cdk-nag AwsSolutions with a written reason for every acknowledgement', () => {
    expect(synth.nag.filter((f) => f.paths.some((p) => p.includes('/Read/')))).toEqual([]);
  });
});

describe('Construct: ReadApi options', () => {
  it('adds an API key and a throttling usage plan on request, keeping IAM authorization', () => {
    // Prepare / Act
    const { stack } = readApiStack({ apiKey: { rateLimit: 50, burstLimit: 80 } });
    const template = Template.fromStack(stack);

    // Assess
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 50, BurstLimit: 80 },
    });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      ApiKeyRequired: true,
      AuthorizationType: 'AWS_IAM',
    });
  });

  it.each([
    ['a new-table timeout under 10 ms', { newTableTimeout: Duration.millis(1) }, /newTableTimeout/],
    ['a non-positive key rate', { apiKey: { rateLimit: 0 } }, /rateLimit/],
  ])('refuses %s', (_name, props, message) => {
    expect(() => readApiStack(props)).toThrow(message);
  });
});
