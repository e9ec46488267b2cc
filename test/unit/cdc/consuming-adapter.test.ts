import { DescribeTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { LambdaClient, ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import {
  EventSourceMappingCdcStatus,
  currentStreamArn,
  frontierIteratorAge,
} from '../../../adapters/cdc-status';
import { ControlStore } from '../../../adapters/control-store';

const STREAM = 'arn:aws:dynamodb:eu-west-1:123456789012:table/users/stream/2026-01-01T00:00:00.000';
const NEWER = 'arn:aws:dynamodb:eu-west-1:123456789012:table/users/stream/2026-03-01T00:00:00.000';

// One mock per client class for the whole file (a second mockClient of a class replaces the first).
const lambda = mockClient(LambdaClient);
const ddb = mockClient(DynamoDBClient);
afterEach(() => {
  lambda.reset();
  ddb.reset();
});

describe('Class: EventSourceMappingCdcStatus', () => {
  const status = (ageMs: number | undefined) =>
    new EventSourceMappingCdcStatus({
      lambda: new LambdaClient({ region: 'eu-west-1' }),
      dynamo: new DynamoDBClient({ region: 'eu-west-1' }),
      syncFunctionName: 'sync-fn',
      legacyTableName: 'users',
      streamArn: STREAM,
      iteratorAge: async () => (ageMs === undefined ? { source: 'none' } : { ageMs, source: 'test' }),
    });
  const table = (latest: string, enabled = true) =>
    ddb.on(DescribeTableCommand, { TableName: 'users' }).resolves({
      Table: {
        TableName: 'users',
        LatestStreamArn: latest,
        StreamSpecification: { StreamEnabled: enabled, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      },
    });
  const mapping = {
    UUID: 'b',
    EventSourceArn: STREAM,
    State: 'Enabled',
    StartingPosition: 'TRIM_HORIZON' as const,
    LastProcessingResult: 'OK',
  };

  it('finds an Enabled TRIM_HORIZON mapping on a later page of ListEventSourceMappings', async () => {
    // Prepare
    table(STREAM);
    lambda
      .on(ListEventSourceMappingsCommand, { FunctionName: 'sync-fn', EventSourceArn: STREAM })
      .resolvesOnce({
        EventSourceMappings: [{ ...mapping, UUID: 'a', State: 'Disabled' }],
        NextMarker: 'm1',
      })
      .resolvesOnce({ EventSourceMappings: [mapping] });

    // Act
    const out = await status(2_000).check();

    // Assess
    expect(out).toEqual({
      consuming: true,
      reason: expect.stringMatching(/mapping b of sync-fn is Enabled .*last result OK; iterator age 2000 ms/),
    });
    expect(lambda.commandCalls(ListEventSourceMappingsCommand).map((c) => c.args[0].input.Marker)).toEqual([
      undefined,
      'm1',
    ]);
  });

  it.each([
    [
      'the only mapping starts from LATEST',
      STREAM,
      true,
      { StartingPosition: 'LATEST' },
      2_000,
      /b: Enabled from LATEST/,
    ],
    ['the stream was re-created', NEWER, true, {}, 2_000, /not the table's current stream .*2026-03-01/],
    ['the stream is disabled', STREAM, false, {}, 2_000, /no stream enabled/],
    [
      'the mapping reports a problem',
      STREAM,
      true,
      { LastProcessingResult: 'PROBLEM: Function call failed' },
      2_000,
      /PROBLEM: Function call failed/,
    ],
    ['CDC is 2 hours behind', STREAM, true, {}, 7_200_000, /7200000 ms behind/],
    ['the iterator age is unknown', STREAM, true, {}, undefined, /cannot tell how far behind/],
  ] as const)('reports not consuming when %s', async (_case, latest, enabled, over, age, reason) => {
    // Prepare
    table(latest, enabled);
    lambda.on(ListEventSourceMappingsCommand).resolves({ EventSourceMappings: [{ ...mapping, ...over }] });

    // Act
    const out = await status(age).check();

    // Assess
    expect(out.consuming).toBe(false);
    expect(out.reason).toMatch(reason);
  });
});

describe('Function: currentStreamArn', () => {
  it('is undefined when the table has no stream enabled, even though LatestStreamArn names the old one', async () => {
    // Prepare
    ddb.on(DescribeTableCommand).resolves({ Table: { LatestStreamArn: STREAM } });

    // Act + Assess
    await expect(
      currentStreamArn(new DynamoDBClient({ region: 'eu-west-1' }), 'users'),
    ).resolves.toBeUndefined();
  });
});

describe('Function: frontierIteratorAge', () => {
  it('bounds the iterator age by the age of the published frontier', async () => {
    // Prepare
    ddb.on(GetItemCommand).resolves({
      Item: {
        pk: { S: 'MIGRATION#users' },
        sk: { S: 'FRONTIER' },
        migrationId: { S: 'users' },
        frontier: { N: '95000' },
        computedAt: { N: '99000' },
        shards: { L: [] },
        version: { N: '3' },
      },
    });
    const store = new ControlStore(new DynamoDBClient({ region: 'eu-west-1' }), 'control', 'users');

    // Act
    const reading = await frontierIteratorAge(store, () => 100_000)();

    // Assess
    expect(reading.ageMs).toBe(5_000);
    expect(ddb.commandCalls(GetItemCommand)[0]?.args[0].input).toMatchObject({
      Key: { pk: { S: 'MIGRATION#users' }, sk: { S: 'FRONTIER' } },
      ConsistentRead: true,
    });
  });
});
