/**
 * One unit at ~530 lines: the shard loop, batching, delivery, bisection and retries below share one
 * poller's per-shard positions, buffers and counters (the dead-letter queue, record conversion and the
 * chaos PRNG are dead-letter-queue.ts, record-conversion.ts and seeded-random.ts).
 *
 * The local event source: a stand-in for Lambda's DynamoDB Streams event source mapping, reading a
 * DynamoDB Local stream and invoking the REAL sync handler with Lambda-shaped events.
 *
 * Semantics reproduced from the event source mapping (and what differs):
 *
 * 1. Shards are read from TRIM_HORIZON; a child shard starts only after its parent is read to its end
 *    and fully delivered (lineage). New shards are discovered every `discoveryIntervalMs`.
 * 2. Per shard, records are delivered in order, in batches of up to `batchSize`, waiting up to
 *    `maxBatchingWindowMs` to fill a batch. The shard is blocked while a batch is being retried.
 * 3. The event is JSON-encoded and decoded, as Lambda's is: binary arrives as base64 and
 *    `ApproximateCreationDateTime` in epoch seconds.
 * 4. Partial batch responses: records before the lowest failed sequence number are done; the rest is
 *    retried. A failure identifier that is not in the batch fails the whole batch (as in AWS).
 * 5. On error, with `bisectBatchOnError`, the failing part is split in two and each half retried
 *    (splitting does not consume retries); a part that cannot be split is retried up to
 *    `maxRetryAttempts` times and then sent to the on-failure destination with the reason, and the
 *    shard moves on (as Lambda does).
 * 6. Records older than `maxRecordAgeMs` are not delivered but sent to the on-failure destination.
 *    DynamoDB Local truncates creation times to the minute, so ages are over-estimated by up to 60 s.
 * 7. Differences: the on-failure destination is `LocalDeadLetterQueue` (dead-letter-queue.ts) and it
 *    keeps the records and the handler's reason (AWS's SQS message carries the batch's shard and
 *    sequence range and the reason is in the function's log; `deadLetterMessage` gives an entry as that
 *    message, and replaying reads the range again from the stream, as on AWS); positions are kept in
 *    memory only.
 * 8. A record that cannot be turned into Lambda's JSON (an image holding a value the SDK lost, say) is
 *    dead-lettered alone, in its turn, with the reason (`RecordNotConvertible`, local only), and the
 *    shard moves on: one bad record never stops a shard.
 *
 * For tests, `chaos` duplicates deliveries (at-least-once) and replays earlier batches, seeded.
 * While running it registers itself as the CDC consumer (control item `CDC#CONSUMER`) and refreshes
 * the heartbeat, which is what the local "CDC consuming" check reads.
 *
 * It obeys the CDC switch, the control item `CDC#SWITCH` that `dualread cutover` (another process)
 * writes as the local stand-in for `UpdateEventSourceMapping(Enabled=false)`: when the switch says
 * disabled, the poller finishes the batches in flight, stops reading and registers `Disabled` (which
 * `dualread cutover` waits for); when it says enabled again, it reads on from where it stopped.
 */
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { _Record as SdkStreamRecord } from '@aws-sdk/client-dynamodb-streams';
import {
  ExpiredIteratorException,
  type ShardInfo,
  type StreamShardReader,
  TrimmedDataAccessException,
} from '../adapters/stream-shards';
import { CDC_SWITCH_KEY, type CdcSwitchDoc, type ControlValue } from '../core/control';
import { DeadLetterCondition, LocalDeadLetterQueue } from './dead-letter-queue';
import { type Buffered, convertRecord, isUnconvertible, lambdaJson } from './record-conversion';
import { seededRandom } from './seeded-random';

// The poller's on-failure destination is part of its API (`StreamPollerOptions.deadLetters`).
export * from './dead-letter-queue';

/** Sort key of the local consumer registration (contract: see core/cdc/consuming.ts). */
export const CDC_CONSUMER_SK = 'CDC#CONSUMER';

/** Anything that handles a stream event like the sync Lambda. */
export type StreamEventHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;

/** Test-only delivery faults. */
export interface ChaosOptions {
  readonly seed: number;
  /** Probability that a delivery is immediately delivered again (at-least-once). */
  readonly duplicateProbability?: number;
  /** Probability that, before a new batch, an earlier delivered batch of the shard is delivered again. */
  readonly replayProbability?: number;
}

/** Options of `StreamPoller`. */
export interface StreamPollerOptions {
  readonly reader: StreamShardReader;
  readonly handler: StreamEventHandler;
  /** The on-failure destination. @default a new LocalDeadLetterQueue */
  readonly deadLetters?: LocalDeadLetterQueue;
  /** Where to register as CDC consumer (`CDC#CONSUMER`); omit to not register. */
  readonly control?: {
    putUnversioned(sk: string, doc: Record<string, ControlValue | undefined>): Promise<void>;
    /** Reads the CDC switch (`CDC#SWITCH`, written by `dualread cutover`); omit to ignore it. */
    get?(sk: string): Promise<unknown>;
  };
  /** How often the CDC switch is read. @default 1000 */
  readonly switchCheckMs?: number;
  /** @default 100 */
  readonly batchSize?: number;
  /** @default 0 */
  readonly maxBatchingWindowMs?: number;
  /** Sleep between GetRecords calls on an idle shard. @default 50 */
  readonly pollIntervalMs?: number;
  /** @default true */
  readonly bisectBatchOnError?: boolean;
  /** @default 2 */
  readonly maxRetryAttempts?: number;
  /** -1 = infinite. @default -1 */
  readonly maxRecordAgeMs?: number;
  /** Pause before a retry. @default 0 */
  readonly retryDelayMs?: number;
  /** @default 5000 */
  readonly heartbeatMs?: number;
  /** @default 1000 */
  readonly discoveryIntervalMs?: number;
  readonly chaos?: ChaosOptions;
  readonly awsRegion?: string;
  readonly now?: () => number;
  /** Told of errors of the poller itself (stream reads, control writes); it retries. */
  readonly onError?: (err: unknown) => void;
}

/** Counters of a poller. */
export interface PollerStats {
  invocations: number;
  deliveredRecords: number;
  duplicatedDeliveries: number;
  replayedDeliveries: number;
  retries: number;
  bisections: number;
  deadLettered: number;
  pollerErrors: number;
  /**
   * Times a shard's position was past the trim horizon (records trimmed before they were read): like
   * the Lambda event source mapping, the poller skips to TRIM_HORIZON and goes on; it cannot know what
   * it lost (the frontier tracker detects it and opens a stream gap, core/frontier/gap.ts).
   */
  trimmedSkips: number;
}

interface ShardState {
  readonly info: ShardInfo;
  /** Last sequence number whose record reached a terminal outcome (delivered or dead-lettered). */
  checkpoint?: string;
  finished: boolean;
  running: boolean;
  /** Number of the latest GetRecords that found the shard empty with nothing buffered or in flight. */
  caughtUpAt: number;
  /** Delivered batches, for chaos replays. */
  history: DynamoDBRecord[][];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** The local event source mapping. */
export class StreamPoller {
  readonly deadLetters: LocalDeadLetterQueue;
  readonly stats: PollerStats = {
    invocations: 0,
    deliveredRecords: 0,
    duplicatedDeliveries: 0,
    replayedDeliveries: 0,
    retries: 0,
    bisections: 0,
    deadLettered: 0,
    pollerErrors: 0,
    trimmedSkips: 0,
  };
  private readonly shards = new Map<string, ShardState>();
  private readonly tasks = new Set<Promise<void>>();
  private running = false;
  private loop?: Promise<void>;
  /** Counters of GetRecords calls and shard listings: drain() compares against them, not the clock. */
  private fetches = 0;
  private listings = 0;
  private discoveredAt = 0;
  private since = 0;
  /** Reported in the heartbeat, as an event source mapping reports them (the backfill's CDC check). */
  private lastProcessingResult = 'No records processed';
  private iteratorAgeMs = 0;
  private readonly now: () => number;
  private readonly random: () => number;
  /** Disabled by the CDC switch: shards are not read until it is enabled again. */
  private suspended = false;
  private readonly o: Required<
    Omit<StreamPollerOptions, 'control' | 'chaos' | 'deadLetters' | 'onError' | 'now' | 'reader' | 'handler'>
  >;

  constructor(private readonly options: StreamPollerOptions) {
    this.deadLetters = options.deadLetters ?? new LocalDeadLetterQueue();
    this.now = options.now ?? (() => Date.now());
    this.random = seededRandom(options.chaos?.seed ?? 1);
    this.o = {
      batchSize: options.batchSize ?? 100,
      maxBatchingWindowMs: options.maxBatchingWindowMs ?? 0,
      pollIntervalMs: options.pollIntervalMs ?? 50,
      bisectBatchOnError: options.bisectBatchOnError ?? true,
      maxRetryAttempts: options.maxRetryAttempts ?? 2,
      maxRecordAgeMs: options.maxRecordAgeMs ?? -1,
      retryDelayMs: options.retryDelayMs ?? 0,
      heartbeatMs: options.heartbeatMs ?? 5000,
      discoveryIntervalMs: options.discoveryIntervalMs ?? 1000,
      awsRegion: options.awsRegion ?? 'us-east-1',
      switchCheckMs: options.switchCheckMs ?? 1000,
    };
    if (this.o.batchSize < 1 || this.o.batchSize > 10_000) throw new RangeError('batchSize must be 1..10000');
  }

  /** The stream this poller reads. */
  get streamArn(): string {
    return this.options.reader.streamArn;
  }

  /** Starts consuming from TRIM_HORIZON (or from where a previous `stop()` left off). */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.since = this.now();
    await this.register('Enabled');
    this.loop = this.mainLoop();
  }

  /** Stops after the batches in flight; positions are kept for a later `start()`. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.loop;
    await Promise.all([...this.tasks]);
    await this.register('Disabled').catch((err: unknown) => this.reportError(err));
  }

  /**
   * Waits until every record written to the stream before this call has reached a terminal outcome
   * (delivered, or dead-lettered): every known unfinished shard has been read to its tip by a
   * GetRecords that started after the call, with nothing left buffered or in flight.
   *
   * @throws Error after `timeoutMs`
   */
  async drain(timeoutMs = 60_000): Promise<void> {
    if (!this.running) throw new Error('drain() needs a started poller');
    const mark = this.fetches;
    const listingMark = this.listings;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const shards = [...this.shards.values()];
      const done =
        this.discoveredAt > listingMark &&
        shards.length > 0 &&
        shards.every((s) => s.finished || s.caughtUpAt > mark);
      if (done) return;
      if (performance.now() > deadline) {
        throw new Error(
          `stream poller did not drain within ${timeoutMs} ms (shards: ${shards
            .map((s) => `${s.info.shardId} finished=${s.finished} caughtUpAt=${s.caughtUpAt}`)
            .join(', ')})`,
        );
      }
      await sleep(Math.max(5, Math.min(20, this.o.pollIntervalMs)));
    }
  }

  /** Delivers the `index`-th delivered batch of every shard again (tests: explicit replay). */
  async replayDelivered(index = 0): Promise<number> {
    let n = 0;
    for (const s of this.shards.values()) {
      const batch = s.history[index];
      if (!batch) continue;
      await this.invoke(batch).catch(() => undefined);
      this.stats.replayedDeliveries++;
      n++;
    }
    return n;
  }

  private reportError(err: unknown): void {
    this.stats.pollerErrors++;
    this.options.onError?.(err);
  }

  private async register(state: 'Enabled' | 'Disabled'): Promise<void> {
    if (!this.options.control) return;
    const t = this.now();
    await this.options.control.putUnversioned(CDC_CONSUMER_SK, {
      streamArn: this.streamArn,
      startingPosition: 'TRIM_HORIZON',
      state,
      since: this.since,
      heartbeatAt: t,
      lastProcessingResult: this.lastProcessingResult,
      iteratorAgeMs: this.iteratorAgeMs,
    });
  }

  private async mainLoop(): Promise<void> {
    // Scheduling uses the monotonic clock; the injected clock is for record ages and written times.
    let lastHeartbeat = performance.now();
    let lastDiscovery = -Infinity;
    let lastSwitch = -Infinity;
    while (this.running) {
      const t = performance.now();
      if (this.options.control?.get && t - lastSwitch >= this.o.switchCheckMs) {
        lastSwitch = t;
        const resumed = await this.obeySwitch().catch((err: unknown) => {
          this.reportError(err);
          return false;
        });
        if (resumed) lastDiscovery = -Infinity;
      }
      if (!this.suspended && t - lastDiscovery >= this.o.discoveryIntervalMs) {
        lastDiscovery = t;
        try {
          await this.discover(++this.listings);
        } catch (err) {
          this.reportError(err);
        }
      }
      if (t - lastHeartbeat >= this.o.heartbeatMs) {
        lastHeartbeat = t;
        await this.register(this.suspended ? 'Disabled' : 'Enabled').catch((err: unknown) =>
          this.reportError(err),
        );
      }
      await sleep(Math.min(50, this.o.discoveryIntervalMs));
    }
  }

  /**
   * Reads the CDC switch: disabled → finish the batches in flight, stop reading, register `Disabled`;
   * enabled again → register `Enabled` and return true (the caller discovers shards again).
   */
  private async obeySwitch(): Promise<boolean> {
    const doc = (await this.options.control?.get?.(CDC_SWITCH_KEY)) as CdcSwitchDoc | undefined;
    const off = doc?.enabled === false;
    if (off && !this.suspended) {
      this.suspended = true;
      await Promise.all([...this.tasks]);
      await this.register('Disabled');
    } else if (!off && this.suspended) {
      this.suspended = false;
      await this.register('Enabled');
      return true;
    }
    return false;
  }

  /** Lists shards and starts a reader for each shard whose parent is done (or unknown: trimmed). */
  private async discover(listing: number): Promise<void> {
    const listed = await this.options.reader.listShards();
    for (const info of listed) {
      if (!this.shards.has(info.shardId)) {
        this.shards.set(info.shardId, { info, finished: false, running: false, caughtUpAt: 0, history: [] });
      }
    }
    for (const s of this.shards.values()) {
      if (s.running || s.finished) continue;
      const parent = s.info.parentShardId ? this.shards.get(s.info.parentShardId) : undefined;
      if (parent && !parent.finished) continue;
      s.running = true;
      const task = this.runShard(s).finally(() => {
        s.running = false;
        this.tasks.delete(task);
      });
      this.tasks.add(task);
    }
    this.discoveredAt = listing;
  }

  /** Converts one record; a record that does not convert is kept, with the reason, to dead-letter. */
  private convert(r: SdkStreamRecord): Buffered {
    return convertRecord(r, { eventSourceARN: this.streamArn, awsRegion: this.o.awsRegion });
  }

  private async runShard(s: ShardState): Promise<void> {
    const reader = this.options.reader;
    let iterator: string | undefined;
    let buffer: Buffered[] = [];
    let bufferSince = 0;
    let open = true;
    while (this.running && !this.suspended) {
      try {
        if (open && buffer.length < this.o.batchSize) {
          if (!iterator) iterator = await reader.iterator(s.info.shardId, s.checkpoint);
          const fetchNo = ++this.fetches;
          const page = await reader.read(iterator as string);
          iterator = page.nextIterator;
          if (!iterator) open = false;
          if (page.records.length) {
            if (buffer.length === 0) bufferSince = performance.now();
            // One record that does not convert never stops the shard: it is dead-lettered in its turn.
            for (const r of page.records) buffer.push(this.convert(r));
          } else if (buffer.length === 0) {
            s.caughtUpAt = fetchNo;
          }
        }
        if (buffer.length === 0) {
          if (!open) {
            s.finished = true;
            return;
          }
          await sleep(this.o.pollIntervalMs);
          continue;
        }
        const head = buffer[0];
        if (isUnconvertible(head)) {
          buffer = buffer.slice(1);
          this.deadLetter(s, [head.unconvertible], DeadLetterCondition.NOT_CONVERTIBLE, head.reason, 0);
          continue;
        }
        const stop = buffer.findIndex(isUnconvertible);
        const windowOpen =
          open &&
          stop < 0 &&
          buffer.length < this.o.batchSize &&
          performance.now() - bufferSince < this.o.maxBatchingWindowMs;
        if (windowOpen) {
          await sleep(Math.min(this.o.pollIntervalMs, this.o.maxBatchingWindowMs));
          continue;
        }
        // A batch ends before a record that did not convert (records stay in shard order).
        const batch = buffer.slice(0, stop < 0 ? this.o.batchSize : Math.min(stop, this.o.batchSize));
        buffer = buffer.slice(batch.length);
        bufferSince = performance.now();
        await this.maybeReplay(s);
        await this.deliver(s, batch as DynamoDBRecord[]);
      } catch (err) {
        if (err instanceof ExpiredIteratorException) {
          iterator = undefined;
          buffer = [];
          continue;
        }
        if (err instanceof TrimmedDataAccessException) {
          this.stats.trimmedSkips++;
          s.checkpoint = undefined; // TRIM_HORIZON: the oldest record still in the stream
          iterator = undefined;
          buffer = [];
          continue;
        }
        this.reportError(err);
        iterator = undefined;
        buffer = [];
        open = true;
        await sleep(Math.max(100, this.o.pollIntervalMs));
      }
    }
  }

  private async maybeReplay(s: ShardState): Promise<void> {
    const p = this.options.chaos?.replayProbability ?? 0;
    if (p <= 0 || s.history.length === 0 || this.random() >= p) return;
    const old = s.history[Math.floor(this.random() * s.history.length)] as DynamoDBRecord[];
    this.stats.replayedDeliveries++;
    await this.invoke(old).catch(() => undefined);
  }

  /** Calls the handler with a Lambda-shaped event; returns the index of the first record to retry. */
  private async invoke(records: readonly DynamoDBRecord[]): Promise<{ retryFrom?: number; error?: string }> {
    this.stats.invocations++;
    let res: DynamoDBBatchResponse | void;
    try {
      res = await this.options.handler(lambdaJson({ Records: [...records] }));
    } catch (err) {
      return { retryFrom: 0, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
    }
    const failures = res?.batchItemFailures ?? [];
    if (failures.length === 0) return {};
    let first = records.length;
    for (const f of failures) {
      const i = records.findIndex((r) => r.dynamodb?.SequenceNumber === f.itemIdentifier);
      first = Math.min(first, i < 0 ? 0 : i); // unknown identifier: the whole batch failed
    }
    return { retryFrom: first, error: 'the handler reported batch item failures' };
  }

  /** Delivers one batch to a terminal outcome (applied or dead-lettered), blocking the shard. */
  private async deliver(s: ShardState, batch: DynamoDBRecord[]): Promise<void> {
    let records = batch;
    if (this.o.maxRecordAgeMs >= 0) {
      const t = this.now();
      const age = (r: DynamoDBRecord) => t - (r.dynamodb?.ApproximateCreationDateTime ?? 0) * 1000;
      const expired = records.filter((r) => age(r) > this.o.maxRecordAgeMs);
      if (expired.length) {
        this.deadLetter(
          s,
          expired,
          DeadLetterCondition.RECORD_AGE_EXCEEDED,
          `older than maxRecordAge ${this.o.maxRecordAgeMs} ms`,
          0,
        );
        records = records.filter((r) => age(r) <= this.o.maxRecordAgeMs);
      }
    }
    const queue: Array<{ records: DynamoDBRecord[]; attempts: number }> = records.length
      ? [{ records, attempts: 0 }]
      : [];
    while (queue.length) {
      const part = queue.shift() as { records: DynamoDBRecord[]; attempts: number };
      const result = await this.invoke(part.records);
      this.lastProcessingResult = result.error ? `PROBLEM: ${result.error}` : 'OK';
      const newest = part.records[part.records.length - 1]?.dynamodb?.ApproximateCreationDateTime ?? 0;
      this.iteratorAgeMs = Math.max(0, this.now() - newest * 1000);
      if ((this.options.chaos?.duplicateProbability ?? 0) > this.random()) {
        this.stats.duplicatedDeliveries++;
        await this.invoke(part.records);
      }
      const doneCount = result.retryFrom ?? part.records.length;
      if (doneCount > 0) this.done(s, part.records.slice(0, doneCount));
      if (result.retryFrom === undefined) continue;
      const rest = part.records.slice(result.retryFrom);
      if (this.o.bisectBatchOnError && rest.length > 1) {
        this.stats.bisections++;
        const half = Math.ceil(rest.length / 2);
        queue.unshift(
          { records: rest.slice(0, half), attempts: 0 },
          { records: rest.slice(half), attempts: 0 },
        );
        continue;
      }
      const attempts = part.attempts + 1;
      if (attempts > this.o.maxRetryAttempts) {
        this.deadLetter(
          s,
          rest,
          DeadLetterCondition.RETRIES_EXHAUSTED,
          this.deadLetters.reasonFor(rest, result.error ?? 'unknown'),
          attempts,
        );
        continue;
      }
      this.stats.retries++;
      if (this.o.retryDelayMs) await sleep(this.o.retryDelayMs);
      queue.unshift({ records: rest, attempts });
    }
  }

  private done(s: ShardState, records: DynamoDBRecord[]): void {
    this.stats.deliveredRecords += records.length;
    s.history.push(records);
    if (s.history.length > 200) s.history.shift();
    this.advance(s, records);
  }

  private deadLetter(
    s: ShardState,
    records: DynamoDBRecord[],
    condition: DeadLetterCondition,
    reason: string,
    attempts: number,
  ): void {
    this.stats.deadLettered += records.length;
    this.deadLetters.add({
      condition,
      reason,
      shardId: s.info.shardId,
      streamArn: this.streamArn,
      records,
      attempts,
      at: this.now(),
    });
    this.advance(s, records);
  }

  private advance(s: ShardState, records: DynamoDBRecord[]): void {
    const last = records[records.length - 1]?.dynamodb?.SequenceNumber;
    if (last && (!s.checkpoint || BigInt(last) > BigInt(s.checkpoint))) s.checkpoint = last;
  }
}
