import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import { mockClient } from 'aws-sdk-client-mock';
import { StreamsReader } from '../../../adapters/streams-reader';
import { IteratorExpiredError, TrimmedDataError } from '../../../core/frontier';

const ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/users/stream/2026-01-01T00:00:00.000';

describe('Class: StreamsReader', () => {
  const mock = mockClient(DynamoDBStreamsClient);
  const reader = new StreamsReader(new DynamoDBStreamsClient({ region: 'us-east-1' }), ARN);
  beforeEach(() => mock.reset());

  it('lists every DescribeStream page with lineage and closed shards', async () => {
    // Prepare
    mock
      .on(DescribeStreamCommand, { StreamArn: ARN })
      .resolvesOnce({
        StreamDescription: {
          Shards: [
            { ShardId: 'p', SequenceNumberRange: { StartingSequenceNumber: '1', EndingSequenceNumber: '9' } },
          ],
          LastEvaluatedShardId: 'p',
        },
      })
      .resolvesOnce({
        StreamDescription: {
          Shards: [
            { ShardId: 'c', ParentShardId: 'p', SequenceNumberRange: { StartingSequenceNumber: '10' } },
          ],
        },
      });

    // Act
    const shards = await reader.listShards();

    // Assess
    expect(shards).toEqual([
      { shardId: 'p', closed: true },
      { shardId: 'c', parentShardId: 'p', closed: false },
    ]);
    expect(mock.commandCalls(DescribeStreamCommand)[1]?.args[0].input.ExclusiveStartShardId).toBe('p');
  });

  it("opens at TRIM_HORIZON, or after a sequence number in the API's form (at least 21 digits)", async () => {
    // Prepare
    mock.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it' });

    // Act
    await reader.iterator('s1');
    await reader.iterator('s1', '0000000000000000000000000000000000000172');
    await reader.iterator('s1', '0000000000000000111100000000001234567890');

    // Assess
    const calls = mock.commandCalls(GetShardIteratorCommand).map((c) => c.args[0].input);
    expect(calls[0]).toEqual({ StreamArn: ARN, ShardId: 's1', ShardIteratorType: 'TRIM_HORIZON' });
    expect(calls[1]).toEqual({
      StreamArn: ARN,
      ShardId: 's1',
      ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
      SequenceNumber: '000000000000000000172',
    });
    expect(calls[2]?.SequenceNumber).toBe('111100000000001234567890');
  });

  it('returns records with their creation time in ms, and no next iterator at the end of a closed shard', async () => {
    // Prepare
    mock.on(GetRecordsCommand).resolves({
      Records: [
        {
          dynamodb: {
            SequenceNumber: '172',
            ApproximateCreationDateTime: new Date(1_700_000_000_000),
            Keys: { userId: { S: 'u-1' } },
          },
        },
      ],
    });

    // Act
    const page = await reader.records('s1', 'it');

    // Assess
    expect(page).toEqual({
      records: [
        { sequenceNumber: '172', approxCreationMs: 1_700_000_000_000, keys: { userId: { S: 'u-1' } } },
      ],
    });
  });

  it('turns an expired iterator into IteratorExpiredError', async () => {
    // Prepare
    mock.on(GetRecordsCommand).rejects(new ExpiredIteratorException({ message: 'expired', $metadata: {} }));

    // Act / Assess
    await expect(reader.records('s1', 'it')).rejects.toBeInstanceOf(IteratorExpiredError);
  });

  it('turns trimmed data into TrimmedDataError, on reads and on iterators', async () => {
    // Prepare
    const trimmed = new TrimmedDataAccessException({ message: 'trimmed', $metadata: {} });
    mock.on(GetRecordsCommand).rejects(trimmed);
    mock.on(GetShardIteratorCommand).rejects(trimmed);

    // Act / Assess
    await expect(reader.records('s1', 'it')).rejects.toBeInstanceOf(TrimmedDataError);
    await expect(reader.iterator('s1', '5')).rejects.toBeInstanceOf(TrimmedDataError);
  });

  describe('on DynamoDB Local', () => {
    const local = new StreamsReader(new DynamoDBStreamsClient({ region: 'us-east-1' }), ARN, {
      dynamoDbLocal: true,
    });
    const trimmed = new TrimmedDataAccessException({ message: 'trimmed', $metadata: {} });

    const smallPages = new StreamsReader(new DynamoDBStreamsClient({}), ARN, {
      dynamoDbLocal: true,
      pageSize: 3,
    });
    it.each<[string, StreamsReader, number, number, boolean]>([
      ['marks a page short of the page size as the tip on DynamoDB Local', local, 3, 1000, true],
      ['never marks a full page as the tip', smallPages, 3, 3, false],
      ['never marks an empty page as the tip (the empty-page rule decides)', local, 0, 1000, false],
      ['never marks a page as the tip against AWS', reader, 3, 1000, false],
    ])('%s', async (_, r, count, limit, tip) => {
      // Prepare
      const records = Array.from({ length: count }, (_, i) => ({
        dynamodb: {
          SequenceNumber: String(100 + i),
          ApproximateCreationDateTime: new Date(1_700_000_000_000),
          Keys: { userId: { S: `u-${i}` } },
        },
      }));
      mock.on(GetRecordsCommand).resolves({ Records: records, NextShardIterator: 'next' });

      // Act
      const page = await r.records('s1', 'it');

      // Assess: judged against the page size it asked for
      expect(mock.commandCalls(GetRecordsCommand)[0]?.args[0].input.Limit).toBe(limit);
      expect(page.records).toHaveLength(count);
      expect(page.tip === true).toBe(tip);
    });

    it.each([
      ['on DynamoDB Local is taken as an expired iterator', () => local, IteratorExpiredError],
      ['against AWS is a trim, as always', () => reader, TrimmedDataError],
    ])(
      'a refused iterator that has read only empty pages since TRIM_HORIZON: %s',
      async (_what, which, expected) => {
        // Prepare: TRIM_HORIZON, an empty page, then the next iterator is refused.
        mock.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it-0' });
        mock
          .on(GetRecordsCommand, { ShardIterator: 'it-0' })
          .resolves({ Records: [], NextShardIterator: 'it-1' });
        mock.on(GetRecordsCommand, { ShardIterator: 'it-1' }).rejects(trimmed);

        // Act
        const page = await which().records('s1', await which().iterator('s1'));

        // Assess
        await expect(which().records('s1', page.next as string)).rejects.toBeInstanceOf(expected);
      },
    );

    it('keeps a refusal after a page with records, or after a sequence number, a trim', async () => {
      // Prepare
      mock.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it-0' });
      mock
        .on(GetRecordsCommand, { ShardIterator: 'it-0' })
        .resolves({ Records: [{ dynamodb: { SequenceNumber: '7', Keys: {} } }], NextShardIterator: 'it-1' });
      mock.on(GetRecordsCommand, { ShardIterator: 'it-1' }).rejects(trimmed);
      mock.on(GetRecordsCommand, { ShardIterator: 'it-after' }).rejects(trimmed);

      // Act
      const page = await local.records('s1', await local.iterator('s1'));
      mock.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it-after' });
      const after = await local.iterator('s1', '7');

      // Assess
      await expect(local.records('s1', page.next as string)).rejects.toBeInstanceOf(TrimmedDataError);
      await expect(local.records('s1', after)).rejects.toBeInstanceOf(TrimmedDataError);
    });
  });

  it('passes other failures through unchanged', async () => {
    // Prepare
    const boom = new Error('throttled');
    mock.on(GetRecordsCommand).rejects(boom);

    // Act / Assess
    await expect(reader.records('s1', 'it')).rejects.toBe(boom);
  });
});
