import { DynamoDBStreamsClient, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { mockClient } from 'aws-sdk-client-mock';
import { StreamShardReader, apiSequenceNumber } from '../../../adapters/stream-shards';

const ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/users/stream/2026-01-01T00:00:00.000';

describe('Function: apiSequenceNumber', () => {
  it('strips the 40-digit padding down to the API minimum of 21 digits', () => {
    // Act / Assess
    expect(apiSequenceNumber('0000000000000000000000000000000000000172')).toBe('000000000000000000172');
    expect(apiSequenceNumber('0000000000000000111100000000001234567890')).toBe('111100000000001234567890');
  });

  it('returns a sequence number already in the stream form unchanged', () => {
    // Act / Assess
    expect(apiSequenceNumber('000000000000000000172')).toBe('000000000000000000172');
    expect(apiSequenceNumber('49612345678901234567890123')).toBe('49612345678901234567890123');
  });
});

describe('Class: StreamShardReader', () => {
  const mock = mockClient(DynamoDBStreamsClient);
  const reader = new StreamShardReader(new DynamoDBStreamsClient({ region: 'us-east-1' }), ARN);
  beforeEach(() => mock.reset());

  it('opens the poller iterator after a padded sequence number in the API form', async () => {
    // Prepare
    mock.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it' });

    // Act
    const iterator = await reader.iterator('s1', '0000000000000000000000000000000000000172');

    // Assess
    expect(iterator).toBe('it');
    expect(mock.commandCalls(GetShardIteratorCommand)[0]?.args[0].input).toEqual({
      StreamArn: ARN,
      ShardId: 's1',
      ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
      SequenceNumber: '000000000000000000172',
    });
  });
});
