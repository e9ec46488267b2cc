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

/** `StreamsPort` over the DynamoDB Streams API. */
export class StreamsReader implements StreamsPort {
  private readonly reader: StreamShardReader;

  constructor(
    client: DynamoDBStreamsClient,
    readonly streamArn: string,
    /** Records per GetRecords call (AWS maximum 1000). */
    private readonly pageSize = 1000,
  ) {
    this.reader = new StreamShardReader(client, streamArn);
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
      return iterator;
    } catch (err) {
      if (err instanceof TrimmedDataAccessException) throw new TrimmedDataError(shardId);
      throw err;
    }
  }

  async records(
    shardId: string,
    iterator: string,
  ): Promise<{ records: TrackedRecordInput[]; next?: string }> {
    try {
      const page = await this.reader.read(iterator, this.pageSize);
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
      return { records, ...(page.nextIterator ? { next: page.nextIterator } : {}) };
    } catch (err) {
      if (err instanceof ExpiredIteratorException) throw new IteratorExpiredError(shardId);
      if (err instanceof TrimmedDataAccessException) throw new TrimmedDataError(shardId);
      throw err;
    }
  }
}
