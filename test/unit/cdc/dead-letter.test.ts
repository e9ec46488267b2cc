import {
  DeadLetterMessageError,
  parseStreamDeadLetter,
  streamDeadLetterBody,
  streamTableName,
} from '../../../core/cdc';

const ARN = 'arn:aws:dynamodb:us-east-2:123456789012:table/users/stream/2026-11-14T00:04:06.388';

/** The on-failure record Lambda sends for a DynamoDB stream batch (as documented by AWS). */
function onFailureRecord(batch: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return {
    requestContext: {
      requestId: '316aa6d0-8154-4b7a-9af7-85d5f4a6bc81',
      functionArn: 'arn:aws:lambda:us-east-2:123456789012:function:sync',
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 11,
    },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    timestamp: '2026-11-14T00:13:49.717Z',
    DDBStreamBatchInfo: {
      shardId: 'shardId-00000001573689847184-864758bb',
      startSequenceNumber: '800000000003126276362',
      endSequenceNumber: '800000000003126276370',
      approximateArrivalOfFirstRecord: '2026-11-14T00:13:19Z',
      approximateArrivalOfLastRecord: '2026-11-14T00:13:21Z',
      batchSize: 3,
      streamArn: ARN,
      ...batch,
    },
    ...extra,
  };
}

const body = (batch?: Record<string, unknown>, extra?: Record<string, unknown>) =>
  JSON.stringify(onFailureRecord(batch, extra));

describe('Function: parseStreamDeadLetter', () => {
  it('reads the shard, the sequence range and the batch facts of a documented on-failure record', () => {
    // Act
    const parsed = parseStreamDeadLetter(body());

    // Assess
    expect(parsed).toEqual({
      shardId: 'shardId-00000001573689847184-864758bb',
      startSequenceNumber: '800000000003126276362',
      endSequenceNumber: '800000000003126276370',
      streamArn: ARN,
      batchSize: 3,
      approximateArrivalOfFirstRecord: Date.parse('2026-11-14T00:13:19Z'),
      approximateArrivalOfLastRecord: Date.parse('2026-11-14T00:13:21Z'),
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 11,
      timestamp: Date.parse('2026-11-14T00:13:49.717Z'),
    });
  });

  it('keeps sequence numbers of 40 digits exactly (never through a JS number)', () => {
    // Prepare
    const start = '1234567890123456789012345678901234567890';

    // Act
    const parsed = parseStreamDeadLetter(body({ startSequenceNumber: start, endSequenceNumber: start }));

    // Assess
    expect(parsed.startSequenceNumber).toBe(start);
    expect(parsed.endSequenceNumber).toBe(start);
  });

  it('accepts a record without the optional request context and arrival times', () => {
    // Prepare
    const minimal = {
      DDBStreamBatchInfo: {
        shardId: 's-1',
        startSequenceNumber: '000000000000000000172',
        endSequenceNumber: '000000000000000000172',
        batchSize: 1,
        streamArn: ARN,
      },
    };

    // Act
    const parsed = parseStreamDeadLetter(JSON.stringify(minimal));

    // Assess
    expect(parsed).toEqual({
      shardId: 's-1',
      startSequenceNumber: '000000000000000000172',
      endSequenceNumber: '000000000000000000172',
      streamArn: ARN,
      batchSize: 1,
    });
  });

  it.each<[string, string, RegExp]>([
    ['an empty body', '', /the message body is empty/],
    ['not JSON', 'userId=u-1', /not JSON/],
    ['a JSON array', '[1,2]', /not a JSON object/],
    [
      'a Kinesis on-failure record',
      JSON.stringify({ KinesisBatchInfo: { shardId: 's', startSequenceNumber: '1' } }),
      /KinesisBatchInfo.*Kinesis stream, not a DynamoDB stream/,
    ],
    [
      'an asynchronous-invocation record',
      JSON.stringify({ requestContext: { condition: 'RetriesExhausted' }, requestPayload: {} }),
      /asynchronous invocation.*no DDBStreamBatchInfo/,
    ],
    [
      'a stream record itself',
      JSON.stringify({ Records: [{ eventName: 'INSERT' }] }),
      /no DDBStreamBatchInfo/,
    ],
    ['DDBStreamBatchInfo not an object', body(undefined, { DDBStreamBatchInfo: 'x' }), /must be an object/],
    ['no shardId', body({ shardId: undefined }), /shardId: missing/],
    ['an empty shardId', body({ shardId: '' }), /shardId: must be a non-empty string/],
    ['no startSequenceNumber', body({ startSequenceNumber: undefined }), /startSequenceNumber: missing/],
    [
      'a sequence number as a JSON number',
      body().replace(
        '"endSequenceNumber":"800000000003126276370"',
        '"endSequenceNumber":800000000003126276370',
      ),
      /endSequenceNumber: must be a string of digits/,
    ],
    ['a sequence number with letters', body({ startSequenceNumber: '80000x' }), /string of 1 to 40 digits/],
    ['a sequence number of 41 digits', body({ startSequenceNumber: '1'.repeat(41) }), /1 to 40 digits/],
    [
      'a range that ends before it starts',
      body({ startSequenceNumber: '900', endSequenceNumber: '899' }),
      /endSequenceNumber 899 is before startSequenceNumber 900/,
    ],
    ['no batchSize', body({ batchSize: undefined }), /batchSize: missing/],
    ['batchSize 0', body({ batchSize: 0 }), /batchSize: must be an integer from 1 to 10000/],
    ['batchSize as text', body({ batchSize: '3' }), /batchSize: must be an integer from 1 to 10000/],
    ['no streamArn', body({ streamArn: undefined }), /streamArn: missing/],
    [
      'a table ARN instead of a stream ARN',
      body({ streamArn: 'arn:aws:dynamodb:us-east-2:123456789012:table/users' }),
      /streamArn: not a DynamoDB stream ARN/,
    ],
    [
      'an arrival time that is no time',
      body({ approximateArrivalOfFirstRecord: 'yesterday' }),
      /approximateArrivalOfFirstRecord: not an ISO-8601 time/,
    ],
  ])('refuses %s with a DeadLetterMessageError naming the problem', (_case, text, problem) => {
    // Act
    const act = () => parseStreamDeadLetter(text);

    // Assess
    expect(act).toThrow(DeadLetterMessageError);
    expect(act).toThrow(problem);
    expect(act).toThrow(/DDBStreamBatchInfo/);
  });
});

describe('Function: streamTableName', () => {
  it.each<[string, string | undefined]>([
    [ARN, 'users'],
    [
      'arn:aws-cn:dynamodb:cn-north-1:123456789012:table/app.users-v1/stream/2026-01-01T00:00:00.000',
      'app.users-v1',
    ],
    ['arn:aws:dynamodb:ddblocal:000000000000:table/t-1/stream/2026-12-04T15:16:04.123', 't-1'],
    ['arn:aws:dynamodb:us-east-1:123456789012:table/users', undefined],
    ['arn:aws:kinesis:us-east-1:123456789012:stream/users', undefined],
  ])('reads the table of %p as %p', (arn, table) => {
    expect(streamTableName(arn)).toBe(table);
  });
});

describe('Function: streamDeadLetterBody', () => {
  it('writes an on-failure record that parseStreamDeadLetter reads back', () => {
    // Prepare
    const info = {
      shardId: 'shardId-1',
      startSequenceNumber: '000000000000000000172',
      endSequenceNumber: '000000000000000000175',
      streamArn: ARN,
      batchSize: 4,
      approximateArrivalOfFirstRecord: Date.parse('2026-12-04T15:16:00Z'),
      approximateArrivalOfLastRecord: Date.parse('2026-12-04T15:16:00Z'),
      condition: 'RecordAgeExceeded',
      approximateInvokeCount: 0,
      timestamp: Date.parse('2026-12-04T15:17:00.000Z'),
    };

    // Act
    const text = streamDeadLetterBody(info);

    // Assess
    expect(JSON.parse(text)).toMatchObject({
      version: '1.0',
      requestContext: { condition: 'RecordAgeExceeded' },
      DDBStreamBatchInfo: { startSequenceNumber: '000000000000000000172', batchSize: 4 },
    });
    expect(parseStreamDeadLetter(text)).toEqual(info);
  });
});
