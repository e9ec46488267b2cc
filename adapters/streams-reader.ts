/**
 * The frontier tracker's reader of the legacy table's stream (`StreamsPort` of core/frontier/ports.ts):
 * a thin layer over `StreamShardReader` (adapters/stream-shards.ts, the one module that talks to the
 * Streams API) that maps shards and records to the tracker's types and SDK failures to its domain
 * errors.
 */
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import {
  type TrackedRecordInput,
  IteratorExpiredError,
  type StreamShardInfo,
  type StreamsPort,
  TrimmedDataError,
} from '../core/frontier';
import { type SdkItem, fromSdkItem } from './dynamodb';
import { ExpiredIteratorException, StreamShardReader, TrimmedDataAccessException } from './stream-shards';

/** Settings of `StreamsReader`. */
export interface StreamsReaderOptions {
  /** Records per GetRecords call (AWS maximum 1000). @default 1000 */
  readonly pageSize?: number;
  /**
   * The stream is DynamoDB Local's. Its iterator on a shard that holds no record yet points at the
   * server's next sequence number, which every table's stream shares: once another stream takes that
   * number, reading the iterator fails with `TrimmedDataAccessException` although nothing was trimmed
   * (nothing had been written to the shard). Such a refusal is taken as an expired iterator (the tracker
   * opens a new one at its position), not as a stream gap. And DynamoDB Local serves every visible
   * record from the iterator's position in one call, up to the page size, so a page with records short
   * of the page size is marked `tip` (checked by test/integration/frontier/frontier.test.ts).
   * @default false
   */
  readonly dynamoDbLocal?: boolean;
}

/** `StreamsPort` over the DynamoDB Streams API. */
export class StreamsReader implements StreamsPort {
  private readonly reader: StreamShardReader;
  private readonly pageSize: number;
  private readonly dynamoDbLocal: boolean;
  /** Iterators opened at a shard's trim horizon that have read only empty pages since. */
  private readonly nothingRead = new Set<string>();

  constructor(
    client: DynamoDBStreamsClient,
    readonly streamArn: string,
    options: StreamsReaderOptions = {},
  ) {
    this.reader = new StreamShardReader(client, streamArn);
    this.pageSize = options.pageSize ?? 1000;
    this.dynamoDbLocal = options.dynamoDbLocal ?? false;
  }

  async listShards(): Promise<StreamShardInfo[]> {
    return (await this.reader.listShards()).map((s) => ({
      shardId: s.shardId,
      ...(s.parentShardId ? { parentShardId: s.parentShardId } : {}),
      closed: s.endingSequenceNumber !== undefined,
    }));
  }

  async iterator(shardId: string, afterSequence?: string): Promise<string> {
    try {
      const iterator = await this.reader.iterator(shardId, afterSequence);
      if (!iterator) throw new Error(`GetShardIterator returned no iterator for ${shardId}`);
      if (afterSequence === undefined && this.dynamoDbLocal) this.nothingRead.add(iterator);
      return iterator;
    } catch (err) {
      if (err instanceof TrimmedDataAccessException) throw new TrimmedDataError(shardId);
      throw err;
    }
  }

  async records(
    shardId: string,
    iterator: string,
  ): Promise<{ records: TrackedRecordInput[]; next?: string; tip?: boolean }> {
    const fromEmptyStart = this.nothingRead.delete(iterator);
    try {
      const page = await this.reader.read(iterator, this.pageSize);
      if (fromEmptyStart && page.records.length === 0 && page.nextIterator)
        this.nothingRead.add(page.nextIterator);
      const records: TrackedRecordInput[] = [];
      for (const r of page.records) {
        const body = r.dynamodb;
        if (!body?.SequenceNumber) continue;
        records.push({
          sequenceNumber: body.SequenceNumber,
          // Missing time: 0 is the most conservative bound (the record then holds F at 0 until applied).
          approxCreationMs: body.ApproximateCreationDateTime?.getTime() ?? 0,
          keys: fromSdkItem((body.Keys ?? {}) as SdkItem),
        });
      }
      const tip = this.dynamoDbLocal && page.records.length > 0 && page.records.length < this.pageSize;
      return { records, ...(page.nextIterator ? { next: page.nextIterator } : {}), ...(tip ? { tip } : {}) };
    } catch (err) {
      if (err instanceof ExpiredIteratorException) throw new IteratorExpiredError(shardId);
      // DynamoDB Local's refusal of an iterator opened on an empty shard (see `dynamoDbLocal`).
      if (err instanceof TrimmedDataAccessException && fromEmptyStart)
        throw new IteratorExpiredError(shardId);
      if (err instanceof TrimmedDataAccessException) throw new TrimmedDataError(shardId);
      throw err;
    }
  }
}
