/**
 * Watches the legacy table's stream from the cutover's fence on (core/control/cutover.ts): every record
 * read after the fence is a legacy write after T, named by its key. At the fence each open shard is
 * opened at LATEST, so what the watch reads was written after that instant, whatever the granularity of
 * `ApproximateCreationDateTime` (whole seconds on AWS, the minute on DynamoDB Local: a time comparison
 * would miss writes in the fence's second or minute, or accuse writes made just before it). Shards
 * that appear later (a split) are read from their trim horizon: all their records are after the fence.
 *
 * `positions()` (shard → last sequence read, `''` for a shard opened at LATEST with nothing read yet)
 * is stored in the CUTOVER item, so a resumed cutover reads on from where the last one stopped; a
 * shard with no position is opened at LATEST again, and `gaps` says which (a write to it while no
 * cutover ran would go unseen — `dualread cutover` prints them).
 */
import type { FenceWatch, WriteAfterFence } from '../core/control';
import { itemToDynamoJson } from '../core/model';
import { type SdkItem, fromSdkItem } from './dynamodb';
import {
  ExpiredIteratorException,
  type RecordsPage,
  type ShardInfo,
  type StreamShardReader,
  TrimmedDataAccessException,
} from './stream-shards';

interface Watched {
  iterator?: string;
  /** Last sequence number read; '' when opened at LATEST and nothing read yet. */
  seq: string;
  closed: boolean;
  /** Read from the trim horizon after a LATEST iterator was refused: records from this time count. */
  since?: number;
}

/** Options of `StreamFenceWatch`. */
export interface StreamFenceWatchOptions {
  readonly reader: StreamShardReader;
  /** The fence T (epoch ms). */
  readonly fenceAt: number;
  /** Where a previous watch stopped (from the CUTOVER item); undefined at the fence. */
  readonly positions?: Readonly<Record<string, string>>;
  readonly now?: () => number;
}

/**
 * How long before T a record read from the trim horizon still counts, in the fallback for a LATEST
 * iterator DynamoDB Local refuses (its creation times are truncated to the minute).
 */
const FALLBACK_MARGIN_MS = 60_000;

/** Reads the legacy stream from the fence on; `poll()` returns everything seen so far. */
export class StreamFenceWatch {
  private readonly shards = new Map<string, Watched>();
  private readonly writes: WriteAfterFence[] = [];
  private started = false;
  /** Shards opened at LATEST on a resume (no stored position): writes while nothing watched are unseen. */
  readonly gaps: string[] = [];
  private readonly now: () => number;

  constructor(private readonly o: StreamFenceWatchOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Opens every open shard (at LATEST, or after its stored position). Call at the fence. */
  async start(): Promise<void> {
    if (this.started) return;
    const known = this.o.positions ?? {};
    for (const info of await this.o.reader.listShards()) {
      if (info.endingSequenceNumber !== undefined && known[info.shardId] === undefined) continue;
      await this.open(info, known[info.shardId], true);
    }
    this.started = true;
  }

  private async open(info: ShardInfo, position: string | undefined, atFence: boolean): Promise<void> {
    const r = this.o.reader;
    const s: Watched = { seq: position ?? '', closed: false };
    this.shards.set(info.shardId, s);
    let iterator: string | undefined;
    if (position) iterator = await r.iterator(info.shardId, position);
    else if (atFence) {
      iterator = await r.iteratorLatest(info.shardId);
      if (this.o.positions) this.gaps.push(info.shardId);
    } else iterator = await r.iterator(info.shardId);
    if (iterator) s.iterator = iterator;
    else s.closed = true;
    // A LATEST iterator is read once right away: DynamoDB Local refuses one never read once a record
    // lands behind it (TrimmedDataAccessException); the empty page's next iterator is kept instead.
    if (atFence && !position && s.iterator) await this.readPage(info.shardId, s);
  }

  /**
   * A LATEST iterator refused: read the shard from its trim horizon, counting the records created
   * from a minute before T on (an earlier write in that minute counts too: a false abort, never a miss).
   */
  private async fallBack(shardId: string, s: Watched): Promise<void> {
    s.since = this.o.fenceAt - FALLBACK_MARGIN_MS;
    const it = await this.o.reader.iterator(shardId);
    if (it) s.iterator = it;
    else s.closed = true;
  }

  /** Reads one page of a shard; returns how many records it held. */
  private async readPage(shardId: string, s: Watched): Promise<number> {
    let page: RecordsPage;
    try {
      page = await this.o.reader.read(s.iterator as string);
    } catch (err) {
      if (err instanceof TrimmedDataAccessException && !s.seq && s.since === undefined) {
        await this.fallBack(shardId, s);
        return -1;
      }
      if (!(err instanceof ExpiredIteratorException)) throw err;
      const again = s.seq
        ? await this.o.reader.iterator(shardId, s.seq)
        : await this.o.reader.iteratorLatest(shardId);
      if (again) s.iterator = again;
      else s.closed = true;
      return -1;
    }
    for (const rec of page.records) {
      const body = rec.dynamodb;
      if (!body?.SequenceNumber) continue;
      s.seq = body.SequenceNumber;
      const at = body.ApproximateCreationDateTime?.getTime() ?? 0;
      if (s.since !== undefined && at < s.since) continue;
      this.writes.push({
        key: JSON.stringify(itemToDynamoJson(fromSdkItem((body.Keys ?? {}) as SdkItem))),
        at,
        eventName: rec.eventName ?? 'UNKNOWN',
      });
    }
    if (page.nextIterator) s.iterator = page.nextIterator;
    else s.closed = true;
    return page.records.length;
  }

  /** Shard → last sequence number read (`''`: opened at LATEST, nothing read). */
  positions(): Record<string, string> {
    return Object.fromEntries([...this.shards].map(([id, s]) => [id, s.seq]));
  }

  /** Reads every shard to its tip; new shards (a split after the fence) from their trim horizon. */
  async poll(): Promise<FenceWatch> {
    await this.start();
    const passStart = this.now();
    for (const info of await this.o.reader.listShards())
      if (!this.shards.has(info.shardId)) await this.open(info, undefined, false);
    for (const [shardId, s] of this.shards) {
      while (!s.closed && s.iterator) if ((await this.readPage(shardId, s)) === 0) break;
    }
    return { writes: [...this.writes], readToTipAt: passStart };
  }
}
