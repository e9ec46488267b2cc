/**
 * The `stream-trim` fault's streams behaviour (local/faults/trim.ts) over a faked stream: the consumer's
 * calls wait out the pause, and after the trim the API answers as DynamoDB Streams does past its
 * retention (trimmed positions refused, TRIM_HORIZON after the horizon, old iterators expired).
 */
import {
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import { StreamTrim } from '../../../local/faults/trim';

/** Shard s1 holds records 101..105 (all written before the trim's sampling). */
const sampler = {
  send: async (cmd: unknown) => {
    if (cmd instanceof DescribeStreamCommand) return { StreamDescription: { Shards: [{ ShardId: 's1' }] } };
    if (cmd instanceof GetShardIteratorCommand) return { ShardIterator: 'sample-0' };
    if (cmd instanceof GetRecordsCommand)
      return cmd.input.ShardIterator === 'sample-0'
        ? {
            Records: [101, 102, 103, 104, 105].map((n) => ({
              dynamodb: { SequenceNumber: String(n), Keys: { id: { S: `k${n}` } } },
            })),
            NextShardIterator: 'sample-1',
          }
        : { Records: [], NextShardIterator: 'sample-2' };
    throw new Error('unexpected command');
  },
} as unknown as DynamoDBStreamsClient;

/** The real call behind the hook: echoes the input, issues an iterator. */
const sent: Array<Record<string, unknown>> = [];
let issued = 0;
const next = async (input: Record<string, unknown>) => {
  sent.push(input);
  return { output: { ShardIterator: `it-${++issued}` } };
};

describe('Class: StreamTrim', () => {
  let clock = 0;
  const sleeps: number[] = [];
  let trim: StreamTrim;
  let resume: () => void = () => undefined;

  beforeEach(() => {
    sent.length = 0;
    sleeps.length = 0;
    trim = new StreamTrim(
      4000,
      8000,
      () => clock,
      async (ms) => {
        sleeps.push(ms);
        clock += ms;
        if (sleeps.length === 2) await new Promise<void>((r) => (resume = r));
      },
    );
  });

  it('holds the consumer during the pause, trims through the last record sampled, then answers as past the retention', async () => {
    // Prepare: an iterator issued before the trim.
    const before = await trim.around(
      'GetShardIterator',
      { ShardId: 's1', ShardIteratorType: 'LATEST' },
      next,
    );
    const injecting = trim.inject(sampler, 'arn');
    await new Promise((r) => setImmediate(r));
    let answered = false;
    const held = trim
      .around('GetShardIterator', { ShardId: 's1', ShardIteratorType: 'TRIM_HORIZON' }, next)
      .then((o) => ((answered = true), o));
    await new Promise((r) => setImmediate(r));
    expect(answered).toBe(false); // paused
    expect(trim.report()).toBeUndefined();

    // Act
    resume();
    const event = await injecting;
    const horizon = await held;

    // Assess: the pause's first (pause − retention) trimmed, then the retention waited out.
    expect(sleeps).toEqual([4000, 4000]);
    expect(event).toMatchObject({ pausedAt: 0, trimmedAt: 4000, resumedAt: 8000, recordsAtOrBefore: 5 });
    expect(event.horizons).toEqual({ s1: '105'.padStart(40, '0') });
    expect(sent.at(-1)).toMatchObject({
      ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
      SequenceNumber: '105'.padStart(21, '0'), // the API's minimum length
    });
    const call = (type: string, seq: string) =>
      trim.around('GetShardIterator', { ShardId: 's1', ShardIteratorType: type, SequenceNumber: seq }, next);
    await expect(call('AFTER_SEQUENCE_NUMBER', '103')).rejects.toBeInstanceOf(TrimmedDataAccessException);
    await expect(call('AT_SEQUENCE_NUMBER', '105')).rejects.toBeInstanceOf(TrimmedDataAccessException);
    await expect(call('AFTER_SEQUENCE_NUMBER', '105')).resolves.toBeDefined();
    const old = String(before.output?.ShardIterator);
    await expect(trim.around('GetRecords', { ShardIterator: old }, next)).rejects.toBeInstanceOf(
      ExpiredIteratorException,
    );
    await expect(
      trim.around('GetRecords', { ShardIterator: String(horizon.output?.ShardIterator) }, next),
    ).resolves.toBeDefined();
    expect(trim.report()).toMatchObject({ trimmedAnswers: 2, expiredAnswers: 1, trimHorizonMoves: 1 });
    expect(trim.trimmed().map((r) => r.keys)).toContainEqual({ id: { S: 'k101' } });
  });

  it('lets every call through untouched before a trim (and DescribeStream at any time)', async () => {
    await trim.around('GetShardIterator', { ShardId: 's1', ShardIteratorType: 'TRIM_HORIZON' }, next);
    await trim.around('GetRecords', { ShardIterator: 'anything' }, next);
    await trim.around('DescribeStream', { StreamArn: 'arn' }, next);
    expect(sent).toEqual([
      { ShardId: 's1', ShardIteratorType: 'TRIM_HORIZON' },
      { ShardIterator: 'anything' },
      { StreamArn: 'arn' },
    ]);
  });
});
