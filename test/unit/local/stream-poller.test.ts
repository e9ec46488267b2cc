import type { _Record } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { RecordsPage, ShardInfo, StreamShardReader } from '../../../adapters/stream-shards';
import { parseStreamDeadLetter } from '../../../core/cdc';
import {
  CDC_CONSUMER_SK,
  type LocalDeadLetter,
  StreamPoller,
  type StreamPollerOptions,
  deadLetterMessage,
} from '../../../local/stream-poller';

const NOW = 1_764_547_200_000;

interface FakeShard {
  info: ShardInfo;
  records: _Record[];
  closed: boolean;
}

/** A streams reader over fixed shards: iterators are `<shard>|<index>`. */
class FakeReader {
  readonly streamArn = 'arn:aws:dynamodb:us-east-1:1:table/t/stream/x';
  constructor(readonly shards: FakeShard[]) {}
  async listShards(): Promise<ShardInfo[]> {
    return this.shards.map((s) => s.info);
  }
  async iterator(shardId: string, after?: string): Promise<string> {
    const s = this.shards.find((x) => x.info.shardId === shardId) as FakeShard;
    const i = after ? s.records.findIndex((r) => r.dynamodb?.SequenceNumber === after) + 1 : 0;
    return `${shardId}|${i}`;
  }
  async read(iterator: string, limit = 1000): Promise<RecordsPage> {
    const [id, at] = iterator.split('|') as [string, string];
    const s = this.shards.find((x) => x.info.shardId === id) as FakeShard;
    const from = Number(at);
    const records = s.records.slice(from, from + limit);
    const next = from + records.length;
    return { records, ...(s.closed && next >= s.records.length ? {} : { nextIterator: `${id}|${next}` }) };
  }
}

function rec(seq: number, createdMs = NOW): _Record {
  return {
    eventName: 'INSERT',
    dynamodb: {
      Keys: { id: { S: `k${seq}` } },
      NewImage: { id: { S: `k${seq}` }, b: { B: new Uint8Array([seq % 256, 0]) } },
      SequenceNumber: String(seq),
      ApproximateCreationDateTime: new Date(createdMs),
    },
  };
}

const seqs = (e: DynamoDBStreamEvent) => e.Records.map((r) => Number(r.dynamodb?.SequenceNumber));

function poller(
  shards: FakeShard[],
  handler: (e: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>,
  options: Partial<StreamPollerOptions> = {},
) {
  return new StreamPoller({
    reader: new FakeReader(shards) as unknown as StreamShardReader,
    handler,
    pollIntervalMs: 1,
    discoveryIntervalMs: 5,
    now: () => NOW + 1000,
    ...options,
  });
}

/** Starts `p`, waits until it has delivered every record (5 s at most), and stops it. */
async function deliverAll(p: StreamPoller): Promise<void> {
  await p.start();
  try {
    await p.drain(5000);
  } finally {
    await p.stop();
  }
}

describe('Class: StreamPoller', () => {
  it('delivers a closed parent shard completely before its child, in order, in batches', async () => {
    // Prepare
    const calls: number[][] = [];
    const p = poller(
      [
        { info: { shardId: 'child', parentShardId: 'parent' }, records: [rec(20), rec(21)], closed: false },
        { info: { shardId: 'parent' }, records: [1, 2, 3, 4, 5].map((n) => rec(n)), closed: true },
      ],
      async (e) => {
        calls.push(seqs(e));
      },
      { batchSize: 2 },
    );

    // Act
    await deliverAll(p);

    // Assess
    expect(calls).toEqual([[1, 2], [3, 4], [5], [20, 21]]);
  });

  it('hands the handler Lambda-shaped JSON: base64 binary and creation time in epoch seconds', async () => {
    let seen: DynamoDBStreamEvent | undefined;
    const p = poller([{ info: { shardId: 's' }, records: [rec(7)], closed: false }], async (e) => {
      seen = e;
    });
    await deliverAll(p);
    expect(seen?.Records[0]?.dynamodb?.NewImage?.b).toEqual({ B: Buffer.from([7, 0]).toString('base64') });
    expect(seen?.Records[0]?.dynamodb?.ApproximateCreationDateTime).toBe(NOW / 1000);
  });

  it('retries from the first reported failure, bisects, and dead-letters the poison record alone', async () => {
    // Prepare
    const delivered = new Set<number>();
    const p = poller(
      [{ info: { shardId: 's' }, records: Array.from({ length: 10 }, (_, i) => rec(i + 1)), closed: false }],
      async (e) => {
        const failed = seqs(e).filter((s) => s === 4);
        seqs(e)
          .filter((s) => s !== 4)
          .forEach((s) => delivered.add(s));
        return { batchItemFailures: failed.map((s) => ({ itemIdentifier: String(s) })) };
      },
      { batchSize: 10, maxRetryAttempts: 2 },
    );
    p.deadLetters.noteFailure('4', 'UnappliableChangeError: boom');

    // Act
    await deliverAll(p);

    // Assess
    expect(p.deadLetters.sequenceNumbers()).toEqual(['4']);
    expect(p.deadLetters.entries[0]).toMatchObject({
      condition: 'RetryAttemptsExhausted',
      reason: '4: UnappliableChangeError: boom',
      attempts: 3,
    });
    expect([...delivered].sort((a, b) => a - b)).toEqual([1, 2, 3, 5, 6, 7, 8, 9, 10]);
    expect(p.stats.bisections).toBeGreaterThan(0);
  });

  it('without bisect, dead-letters the rest of a batch that keeps failing after the bounded retries', async () => {
    let calls = 0;
    const p = poller(
      [{ info: { shardId: 's' }, records: [rec(1), rec(2), rec(3)], closed: false }],
      async () => {
        calls++;
        throw new Error('down');
      },
      { batchSize: 3, maxRetryAttempts: 1, bisectBatchOnError: false },
    );
    await deliverAll(p);
    expect(calls).toBe(2);
    expect(p.deadLetters.entries.map((e) => [e.condition, e.reason, e.records.length])).toEqual([
      ['RetryAttemptsExhausted', 'Error: down', 3],
    ]);
  });

  it('sends records older than maxRecordAge to the on-failure destination without delivering them', async () => {
    const calls: number[][] = [];
    const p = poller(
      [{ info: { shardId: 's' }, records: [rec(1, NOW - 120_000), rec(2, NOW)], closed: false }],
      async (e) => {
        calls.push(seqs(e));
      },
      { maxRecordAgeMs: 60_000 },
    );
    await deliverAll(p);
    expect(calls).toEqual([[2]]);
    expect(p.deadLetters.entries.map((e) => [e.condition, e.records.length])).toEqual([
      ['RecordAgeExceeded', 1],
    ]);
  });

  it('hands each dead letter out as the SQS message Lambda sends, and removes it only once its replay is complete', async () => {
    // Prepare
    const p = poller(
      [{ info: { shardId: 's' }, records: [rec(1)], closed: false }],
      async () => {
        throw new Error('bad mapping');
      },
      { maxRetryAttempts: 0 },
    );
    await deliverAll(p);
    let fixed = false;
    const messages: string[] = [];
    const replayEntry = async (entry: LocalDeadLetter) => {
      messages.push(deadLetterMessage(entry));
      return { complete: fixed };
    };

    // Act
    const before = await p.deadLetters.replay(replayEntry);
    fixed = true;
    const after = await p.deadLetters.replay(replayEntry);

    // Assess
    expect(before).toEqual({ replayed: 0, remaining: 1, reports: [{ complete: false }] });
    expect(after).toEqual({ replayed: 1, remaining: 0, reports: [{ complete: true }] });
    expect(p.deadLetters.depth).toBe(0);
    expect(parseStreamDeadLetter(messages[0] as string)).toEqual({
      shardId: 's',
      startSequenceNumber: '1',
      endSequenceNumber: '1',
      streamArn: 'arn:aws:dynamodb:us-east-1:1:table/t/stream/x',
      batchSize: 1,
      approximateArrivalOfFirstRecord: NOW,
      approximateArrivalOfLastRecord: NOW,
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 1,
      timestamp: NOW + 1000,
    });
  });

  it('dead-letters a record whose image lost a value (as the SDK delivers a "__proto__" attribute) alone, with the reason, and moves on in order', async () => {
    // Prepare: record 2's image has an own "__proto__" whose value is undefined.
    const lost = rec(2);
    Object.defineProperty(lost.dynamodb?.NewImage, '__proto__', {
      value: undefined,
      enumerable: true,
      configurable: true,
      writable: true,
    });
    const calls: number[][] = [];
    const p = poller(
      [{ info: { shardId: 's' }, records: [rec(1), lost, rec(3), rec(4)], closed: false }],
      async (e) => {
        calls.push(seqs(e));
      },
      { batchSize: 10 },
    );

    // Act
    await deliverAll(p);

    // Assess
    expect(calls).toEqual([[1], [3, 4]]);
    expect(p.deadLetters.sequenceNumbers()).toEqual(['2']);
    expect(p.deadLetters.entries[0]).toMatchObject({ condition: 'RecordNotConvertible', attempts: 0 });
    expect(p.deadLetters.entries[0]?.reason).toMatch(/LostAttributeError: NewImage\.__proto__: has no value/);
    expect(p.stats.pollerErrors).toBe(0);
  });

  it('registers as CDC consumer from TRIM_HORIZON while running and as Disabled after stop', async () => {
    const docs: Array<Record<string, unknown>> = [];
    const p = poller([{ info: { shardId: 's' }, records: [], closed: false }], async () => undefined, {
      control: {
        putUnversioned: async (sk, doc) => {
          docs.push({ sk, ...doc });
        },
      },
    });
    await p.start();
    await p.stop();
    expect(docs).toEqual([
      expect.objectContaining({ sk: CDC_CONSUMER_SK, state: 'Enabled', startingPosition: 'TRIM_HORIZON' }),
      expect.objectContaining({ sk: CDC_CONSUMER_SK, state: 'Disabled' }),
    ]);
  });
});
