/**
 * `replayDeadLetter` where DynamoDB Local cannot go: records trimmed from the stream (past the 24 h
 * retention), a message that is not a DDBStreamBatchInfo, another table's stream, a shard that does not
 * hold the range, and the Streams API's empty pages. aws-sdk-client-mock stands in for both APIs; the
 * DynamoDB Local test (test/integration/cdc/dead-letter-replay.test.ts) covers the real replay.
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  TrimmedDataAccessException,
  type _Record,
} from '@aws-sdk/client-dynamodb-streams';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DeadLetterMessageError,
  ForeignStreamError,
  RecordsTrimmedError,
  ReplayRangeError,
  streamDeadLetterBody,
} from '../../../core';
import { usersMigration } from '../../../examples/users/migration';
import { replayDeadLetter } from '../../../lambdas/sync/replay';
import { quietMetrics, silentLogger } from '../../helpers/quiet';

const ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/users/stream/2026-12-01T00:00:00.000';
const SHARD = 'shardId-00000001764547200000-0a1b2c3d';
const START = '800000000003126276362';
const END = '800000000003126276364';

function message(overrides: Partial<{ start: string; end: string; arn: string; batchSize: number }> = {}) {
  return streamDeadLetterBody({
    shardId: SHARD,
    startSequenceNumber: overrides.start ?? START,
    endSequenceNumber: overrides.end ?? END,
    streamArn: overrides.arn ?? ARN,
    batchSize: overrides.batchSize ?? 3,
    condition: 'RetryAttemptsExhausted',
    approximateInvokeCount: 11,
  });
}

/** A GetRecords record as the SDK returns it. */
function rec(seq: string, userId = `u-${seq.slice(-3)}`): _Record {
  return {
    eventID: `e-${seq}`,
    eventName: 'INSERT',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: {
      ApproximateCreationDateTime: new Date(1_764_547_200_000),
      Keys: { userId: { S: userId } },
      NewImage: { userId: { S: userId }, v: { N: '12345678901234567890123456789012345678' } },
      SequenceNumber: seq,
      SizeBytes: 40,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

const trimmed = () =>
  new TrimmedDataAccessException({ message: 'Records are trimmed', $metadata: { httpStatusCode: 400 } });

describe('Function: replayDeadLetter (faked AWS APIs)', () => {
  const streamsMock = mockClient(DynamoDBStreamsClient);
  const dynamoMock = mockClient(DynamoDBClient);
  const streams = new DynamoDBStreamsClient({ region: 'us-east-1' });
  const dynamo = new DynamoDBClient({ region: 'us-east-1' });
  const replay = (body: string) =>
    replayDeadLetter({
      message: body,
      migration: usersMigration,
      controlTableName: 'control',
      dynamo,
      streams,
      sync: { logger: silentLogger as never, metrics: quietMetrics as never },
    });

  beforeEach(() => {
    streamsMock.reset();
    dynamoMock.reset();
  });

  it('refuses a range the stream has trimmed (TrimmedDataAccessException) with RecordsTrimmedError saying what to do, applying nothing', async () => {
    // Prepare
    streamsMock.on(GetShardIteratorCommand).rejects(trimmed());

    // Act
    const outcome = replay(message());

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(RecordsTrimmedError);
    await expect(outcome).rejects.toThrow(
      new RegExp(`records ${START}\\.\\.${END} of shard ${SHARD} are no longer in the stream`),
    );
    await expect(outcome).rejects.toThrow(/waiveRecord .* legacy key/);
    await expect(outcome).rejects.toThrow(/verification with repair/);
    expect(streamsMock.commandCalls(GetShardIteratorCommand)[0]?.args[0].input).toEqual({
      StreamArn: ARN,
      ShardId: SHARD,
      ShardIteratorType: 'AT_SEQUENCE_NUMBER',
      SequenceNumber: START,
    });
    expect(dynamoMock.calls()).toHaveLength(0);
  });

  it('refuses as trimmed a range whose start is older than the first record the shard still holds', async () => {
    // Prepare: the shard now starts after START
    streamsMock.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it-1' });
    streamsMock
      .on(GetRecordsCommand)
      .resolves({ Records: [rec('800000000003126276363')], NextShardIterator: 'it-2' });

    // Act
    const outcome = replay(message());

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(RecordsTrimmedError);
    await expect(outcome).rejects.toThrow(/the first record there is 800000000003126276363/);
    expect(dynamoMock.calls()).toHaveLength(0);
  });

  it('refuses as trimmed a range trimmed while it was being read (TrimmedDataAccessException from GetRecords)', async () => {
    // Prepare
    streamsMock.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it-1' });
    streamsMock.on(GetRecordsCommand).rejects(trimmed());

    // Act / Assess
    await expect(replay(message())).rejects.toBeInstanceOf(RecordsTrimmedError);
    expect(dynamoMock.calls()).toHaveLength(0);
  });

  it('refuses a body that is not a DDBStreamBatchInfo with DeadLetterMessageError, before touching the stream', async () => {
    // Prepare: the records themselves (a Lambda stream event), as someone might paste them
    const event = JSON.stringify({ Records: [{ eventName: 'INSERT', dynamodb: { SequenceNumber: START } }] });

    // Act
    const outcome = replay(event);

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(DeadLetterMessageError);
    await expect(outcome).rejects.toThrow(/no DDBStreamBatchInfo/);
    expect(streamsMock.calls()).toHaveLength(0);
    expect(dynamoMock.calls()).toHaveLength(0);
  });

  it("refuses a message of another table's stream with ForeignStreamError, before touching the stream", async () => {
    // Act
    const outcome = replay(
      message({ arn: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-12-01T00:00:00.000' }),
    );

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(ForeignStreamError);
    await expect(outcome).rejects.toThrow(/table "orders".*migration "users" reads table "users"/);
    expect(streamsMock.calls()).toHaveLength(0);
  });

  it('refuses a range the shard ends before, with ReplayRangeError, applying nothing', async () => {
    // Prepare: a closed shard that ends one record short of END
    streamsMock.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it-1' });
    streamsMock
      .on(GetRecordsCommand)
      .resolves({ Records: [rec(START), rec('800000000003126276363')] /* no NextShardIterator: closed */ });

    // Act
    const outcome = replay(message());

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(ReplayRangeError);
    await expect(outcome).rejects.toThrow(
      /has no record 800000000003126276364: read 2 records from 800000000003126276362 to 800000000003126276363, then the shard ended/,
    );
    expect(dynamoMock.calls()).toHaveLength(0);
  });

  it('follows empty pages to the range, reads no further than its end, and applies each record through the sync handler', async () => {
    // Prepare: an empty page first (the API may return them before records), then the range and one more
    streamsMock.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it-1' });
    streamsMock
      .on(GetRecordsCommand, { ShardIterator: 'it-1' })
      .resolves({ Records: [], NextShardIterator: 'it-2' })
      .on(GetRecordsCommand, { ShardIterator: 'it-2' })
      .resolves({ Records: [rec(START), rec('800000000003126276363')], NextShardIterator: 'it-3' })
      .on(GetRecordsCommand, { ShardIterator: 'it-3' })
      .resolves({ Records: [rec(END), rec('800000000003126276365')], NextShardIterator: 'it-4' });
    dynamoMock.on(GetItemCommand).resolves({});
    dynamoMock.on(PutItemCommand).resolves({});

    // Act
    const report = await replay(message());

    // Assess
    expect(streamsMock.commandCalls(GetRecordsCommand)).toHaveLength(3);
    expect(report.records.map((r) => [r.sequenceNumber, r.result])).toEqual([
      [START, 'applied'],
      ['800000000003126276363', 'applied'],
      [END, 'applied'],
    ]);
    expect(report).toMatchObject({ applied: 3, skipped: 0, failed: 0, complete: true, recordsRead: 3 });
    const puts = dynamoMock.commandCalls(PutItemCommand).map((c) => c.args[0].input);
    const newPuts = puts.filter((p) => p.TableName === usersMigration.newTable.tableName);
    expect(newPuts.map((p) => p.Item?.PK)).toEqual([
      { S: 'USER#u-362' },
      { S: 'USER#u-363' },
      { S: 'USER#u-364' },
    ]);
    expect(newPuts[0]?.Item?.v).toEqual({ N: '12345678901234567890123456789012345678' });
    // One progress marker for the replayed batch, as the pipeline writes it.
    const markers = puts.filter((p) => p.TableName === 'control');
    expect(markers.map((p) => p.Item?.sk)).toEqual([{ S: `APPLIED#${START.padStart(40, '0')}` }]);
  });

  it('reopens an expired iterator after the last record read and reads the rest of the range', async () => {
    // Prepare: the iterator expires after the first page (15 minutes in AWS)
    streamsMock
      .on(GetShardIteratorCommand, { ShardIteratorType: 'AT_SEQUENCE_NUMBER' })
      .resolves({ ShardIterator: 'it-1' })
      .on(GetShardIteratorCommand, { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' })
      .resolves({ ShardIterator: 'it-5' });
    streamsMock
      .on(GetRecordsCommand, { ShardIterator: 'it-1' })
      .resolves({ Records: [rec(START)], NextShardIterator: 'it-2' })
      .on(GetRecordsCommand, { ShardIterator: 'it-2' })
      .rejects(new ExpiredIteratorException({ message: 'Iterator expired', $metadata: {} }))
      .on(GetRecordsCommand, { ShardIterator: 'it-5' })
      .resolves({ Records: [rec('800000000003126276363'), rec(END)], NextShardIterator: 'it-6' });
    dynamoMock.on(GetItemCommand).resolves({});
    dynamoMock.on(PutItemCommand).resolves({});

    // Act
    const report = await replay(message());

    // Assess
    expect(streamsMock.commandCalls(GetShardIteratorCommand)[1]?.args[0].input).toMatchObject({
      ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
      SequenceNumber: START,
    });
    expect(report.records.map((r) => r.sequenceNumber)).toEqual([START, '800000000003126276363', END]);
    expect(report.complete).toBe(true);
  });
});
