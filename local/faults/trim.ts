/**
 * The `stream-trim` fault: the stream's consumer (the CDC poller and the frontier tracker) paused past
 * the stream's retention while the workload writes on, so records are trimmed before they are read, as
 * DynamoDB Streams does past its 24 h horizon. A streams-role behaviour of the fault layer (middleware.ts
 * calls `around` on every streams call of the system under test), not a proxy:
 *
 * - `inject()` holds every GetShardIterator and GetRecords of the consumer for `pauseMs`; at
 *   `pauseMs − retentionMs` into the pause it reads each shard to its end with an UN-faulted streams
 *   client and takes the last sequence number as the shard's trim horizon H (DynamoDB Local's
 *   `ApproximateCreationDateTime` is truncated to the minute: no use for a horizon). Every record up to
 *   H is trimmed: the records written in the first `pauseMs − retentionMs` of the pause, and any the
 *   consumer had not read before it.
 * - from then on, as the real API: an iterator AFTER a sequence number below H (AT one at or below H)
 *   fails with `TrimmedDataAccessException`; TRIM_HORIZON starts after H; an iterator issued before the
 *   trim has expired (`ExpiredIteratorException`: a pause past a 24 h retention outlives every 15-minute
 *   iterator), so GetRecords never returns a trimmed record.
 */
import {
  type DynamoDBStreamsClient,
  ExpiredIteratorException,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import { type SdkItem, fromSdkItem } from '../../adapters/dynamodb';
import { StreamShardReader, apiSequenceNumber } from '../../adapters/stream-shards';
import { type Item, padSequence } from '../../core/model';

/** One record at or before a trim horizon, as the sampling read it. */
export interface SampledRecord {
  readonly shardId: string;
  /** Padded to 40 digits. */
  readonly seq: string;
  /** Its legacy key (`Keys` of the record). */
  readonly keys: Item;
}

/** What the fault did, for the fault table. */
export interface TrimEvent {
  readonly pausedAt: number;
  readonly trimmedAt: number;
  readonly resumedAt: number;
  readonly retentionMs: number;
  readonly pauseMs: number;
  /** Trim horizon per shard (padded last trimmed sequence number). */
  readonly horizons: Readonly<Record<string, string>>;
  /** Records at or before the horizons (the sync handler may have had the earlier ones). */
  readonly recordsAtOrBefore: number;
  /** Calls answered `TrimmedDataAccessException` / `ExpiredIteratorException`, TRIM_HORIZON moved. */
  readonly trimmedAnswers: number;
  readonly expiredAnswers: number;
  readonly trimHorizonMoves: number;
}

type Next = (input: Record<string, unknown>) => Promise<{ output?: Record<string, unknown> }>;

const CONSUMER_CALLS = new Set(['GetShardIterator', 'GetRecords']);

/** The pause and the trim; `around` is the streams middleware's hook. */
export class StreamTrim {
  private gate: Promise<void> | undefined;
  private horizons = new Map<string, bigint>();
  private trimmedAt: number | undefined;
  private readonly issued = new Set<string>();
  private sampled: SampledRecord[] = [];
  private event: Omit<TrimEvent, 'trimmedAnswers' | 'expiredAnswers' | 'trimHorizonMoves'> | undefined;
  private readonly answers = { trimmed: 0, expired: 0, moved: 0 };

  constructor(
    readonly retentionMs: number,
    readonly pauseMs: number,
    private readonly clock: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /**
   * Pauses the consumer for `pauseMs`, trims what was written up to `pauseMs − retentionMs` into it (read
   * by `sampler`, an un-faulted streams client of `streamArn`), and resumes it.
   */
  async inject(sampler: DynamoDBStreamsClient, streamArn: string): Promise<TrimEvent> {
    let release = (): void => undefined;
    this.gate = new Promise<void>((r) => (release = r));
    const pausedAt = this.clock();
    try {
      await this.sleep(this.pauseMs - this.retentionMs);
      const sampled = await readToEnd(sampler, streamArn);
      const horizons = new Map<string, bigint>();
      for (const r of sampled) horizons.set(r.shardId, BigInt(r.seq)); // in shard order: the last wins
      this.sampled = sampled;
      this.horizons = horizons;
      this.trimmedAt = this.clock();
      await this.sleep(this.retentionMs);
    } finally {
      this.gate = undefined;
      release();
    }
    this.event = {
      pausedAt,
      trimmedAt: this.trimmedAt ?? pausedAt,
      resumedAt: this.clock(),
      retentionMs: this.retentionMs,
      pauseMs: this.pauseMs,
      horizons: Object.fromEntries([...this.horizons].map(([s, h]) => [s, padSequence(h.toString())])),
      recordsAtOrBefore: this.sampled.length,
    };
    return this.report() as TrimEvent;
  }

  /** The fault's events so far (undefined before `inject` ended). */
  report(): TrimEvent | undefined {
    return this.event
      ? {
          ...this.event,
          trimmedAnswers: this.answers.trimmed,
          expiredAnswers: this.answers.expired,
          trimHorizonMoves: this.answers.moved,
        }
      : undefined;
  }

  /** The records at or before the horizons (the sampling's read). */
  trimmed(): readonly SampledRecord[] {
    return this.sampled;
  }

  /** The middleware's hook for one streams call of the system under test. */
  async around(
    operation: string,
    input: Record<string, unknown>,
    next: Next,
  ): Promise<{ output?: Record<string, unknown> }> {
    if (!CONSUMER_CALLS.has(operation)) return next(input);
    while (this.gate) await this.gate;
    if (this.trimmedAt === undefined) return next(input);
    let sent = input;
    if (operation === 'GetRecords' && !this.issued.has(String(input.ShardIterator))) {
      this.answers.expired++;
      throw new ExpiredIteratorException({
        message: 'Iterator expired: it was issued before the stream was trimmed (injected by stream-trim)',
        $metadata: { httpStatusCode: 400 },
      });
    }
    if (operation === 'GetShardIterator') {
      const h = this.horizons.get(String(input.ShardId));
      const type = String(input.ShardIteratorType);
      const seq = typeof input.SequenceNumber === 'string' ? BigInt(input.SequenceNumber) : undefined;
      if (h !== undefined && type === 'TRIM_HORIZON') {
        this.answers.moved++;
        // In the API's form (at least 21 digits; DynamoDB Local pads its small ones).
        sent = {
          ...input,
          ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
          SequenceNumber: apiSequenceNumber(h.toString()),
        };
      } else if (
        h !== undefined &&
        seq !== undefined &&
        ((type === 'AFTER_SEQUENCE_NUMBER' && seq < h) || (type === 'AT_SEQUENCE_NUMBER' && seq <= h))
      ) {
        this.answers.trimmed++;
        throw new TrimmedDataAccessException({
          message: `records after ${String(input.SequenceNumber)} of ${String(input.ShardId)} were trimmed (past the ${this.retentionMs} ms retention; injected by stream-trim)`,
          $metadata: { httpStatusCode: 400 },
        });
      }
    }
    const out = await next(sent);
    const it = out.output?.ShardIterator ?? out.output?.NextShardIterator;
    if (typeof it === 'string') this.issued.add(it);
    return out;
  }
}

/** Every record of every shard, read to each shard's end (its first empty page), in shard order. */
async function readToEnd(client: DynamoDBStreamsClient, streamArn: string): Promise<SampledRecord[]> {
  const reader = new StreamShardReader(client, streamArn);
  const out: SampledRecord[] = [];
  for (const { shardId } of await reader.listShards()) {
    let iterator = await reader.iterator(shardId);
    while (iterator) {
      const page = await reader.read(iterator);
      for (const r of page.records)
        if (r.dynamodb?.SequenceNumber)
          out.push({
            shardId,
            seq: padSequence(r.dynamodb.SequenceNumber),
            keys: fromSdkItem((r.dynamodb.Keys ?? {}) as SdkItem),
          });
      if (!page.records.length) break;
      iterator = page.nextIterator;
    }
  }
  return out;
}
