/**
 * The one module that talks to the DynamoDB Streams API (`@aws-sdk/client-dynamodb-streams`): the
 * client factory, DescribeStream with pagination and lineage, GetShardIterator (TRIM_HORIZON /
 * AFTER_SEQUENCE_NUMBER / AT_SEQUENCE_NUMBER in the API's sequence-number form), GetRecords. The local
 * event source (local/stream-poller.ts) and the dead-letter replay (adapters/stream-range.ts) use
 * `StreamShardReader` directly; the frontier tracker's `StreamsPort` (adapters/streams-reader.ts) is a
 * thin layer over it.
 */
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ResourceNotFoundException,
  TrimmedDataAccessException,
  type _Record,
} from '@aws-sdk/client-dynamodb-streams';
import { type DynamoEndpoint, clientConfig } from './dynamodb';
import { keepExactAttributeValues } from './exact-values';
import { tokenPages } from './token-pages';

/** A shard as DescribeStream lists it. */
export interface ShardInfo {
  readonly shardId: string;
  readonly parentShardId?: string;
  readonly startingSequenceNumber?: string;
  /** Set when the shard is closed. */
  readonly endingSequenceNumber?: string;
}

/** One page of GetRecords. `nextIterator` is undefined once a closed shard is read to its end. */
export interface RecordsPage {
  readonly records: readonly _Record[];
  readonly nextIterator?: string;
}

/**
 * `ExpiredIteratorException`: the iterator expired (15 minutes in AWS); open a new one after the last
 * processed record. `TrimmedDataAccessException`: the records asked for are past the 24 h retention.
 * `ResourceNotFoundException`: the stream or shard does not exist (any more: a closed shard is deleted
 * 24 h after it closed).
 */
export { ExpiredIteratorException, ResourceNotFoundException, TrimmedDataAccessException };

/** The Streams client, for modules that take one without importing the SDK. */
export type StreamsClient = DynamoDBStreamsClient;

/** Builds a DynamoDB Streams client for an endpoint (DynamoDB Local serves streams on the same port). */
export function makeStreamsClient(where: DynamoEndpoint = {}): DynamoDBStreamsClient {
  const client = new DynamoDBStreamsClient(clientConfig(where));
  keepExactAttributeValues(client); // stream images read exactly (adapters/exact-values.ts)
  where.instrument?.(client, 'streams');
  return client;
}

/** The API's minimum length of a sequence number. */
const MIN_SEQUENCE_LENGTH = 21;

/**
 * A sequence number in the form the API wants. They are stored padded to 40 digits (`_dr_seq`); the
 * API wants them as the stream gave them, which is at least 21 digits (its length constraint): AWS's
 * have no leading zeros, DynamoDB Local pads its small ones to 21 (`000000000000000000172`). A number
 * already in the stream's form is returned unchanged.
 */
export function apiSequenceNumber(seq: string): string {
  return seq.replace(/^0+(?=\d)/, '').padStart(MIN_SEQUENCE_LENGTH, '0');
}

/** Reads one stream's shards and records. */
export class StreamShardReader {
  constructor(
    private readonly client: DynamoDBStreamsClient,
    readonly streamArn: string,
  ) {}

  /** Every shard of the stream (all DescribeStream pages), in the order listed. */
  async listShards(): Promise<ShardInfo[]> {
    const out: ShardInfo[] = [];
    const pages = tokenPages(
      'ExclusiveStartShardId',
      (start) => this.client.send(new DescribeStreamCommand({ StreamArn: this.streamArn, ...start })),
      (page) => page.StreamDescription?.LastEvaluatedShardId,
    );
    for await (const page of pages) {
      for (const s of page.StreamDescription?.Shards ?? []) {
        if (!s.ShardId) continue;
        out.push({
          shardId: s.ShardId,
          ...(s.ParentShardId ? { parentShardId: s.ParentShardId } : {}),
          ...(s.SequenceNumberRange?.StartingSequenceNumber
            ? { startingSequenceNumber: s.SequenceNumberRange.StartingSequenceNumber }
            : {}),
          ...(s.SequenceNumberRange?.EndingSequenceNumber
            ? { endingSequenceNumber: s.SequenceNumberRange.EndingSequenceNumber }
            : {}),
        });
      }
    }
    return out;
  }

  /**
   * An iterator at the shard's trim horizon, or just after `afterSequenceNumber` (as the stream gave it
   * or padded to 40 digits; sent in the API's form, see `apiSequenceNumber`).
   */
  async iterator(shardId: string, afterSequenceNumber?: string): Promise<string | undefined> {
    const out = await this.client.send(
      new GetShardIteratorCommand({
        StreamArn: this.streamArn,
        ShardId: shardId,
        ...(afterSequenceNumber === undefined
          ? { ShardIteratorType: 'TRIM_HORIZON' }
          : {
              ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
              SequenceNumber: apiSequenceNumber(afterSequenceNumber),
            }),
      }),
    );
    return out.ShardIterator;
  }

  /** An iterator just after the shard's newest record: what is read from it was written after this call. */
  async iteratorLatest(shardId: string): Promise<string | undefined> {
    const out = await this.client.send(
      new GetShardIteratorCommand({
        StreamArn: this.streamArn,
        ShardId: shardId,
        ShardIteratorType: 'LATEST',
      }),
    );
    return out.ShardIterator;
  }

  /**
   * An iterator AT `sequenceNumber` (the record itself is the first one read): how a dead-lettered range
   * is read again from its first record.
   */
  async iteratorAt(shardId: string, sequenceNumber: string): Promise<string | undefined> {
    const out = await this.client.send(
      new GetShardIteratorCommand({
        StreamArn: this.streamArn,
        ShardId: shardId,
        ShardIteratorType: 'AT_SEQUENCE_NUMBER',
        SequenceNumber: apiSequenceNumber(sequenceNumber),
      }),
    );
    return out.ShardIterator;
  }

  /** Reads up to `limit` records (AWS maximum 1000). */
  async read(iterator: string, limit = 1000): Promise<RecordsPage> {
    const out = await this.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }));
    return {
      records: out.Records ?? [],
      ...(out.NextShardIterator ? { nextIterator: out.NextShardIterator } : {}),
    };
  }
}
