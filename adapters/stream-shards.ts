/**
 * Minimal DynamoDB Streams access for the local event source (local/stream-poller.ts): list shards
 * with their lineage, open an iterator, read a page. The frontier tracker has its own reader.
 */
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoEndpoint } from './dynamodb';

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

/** The iterator expired (15 minutes in AWS); open a new one after the last processed record. */
export { ExpiredIteratorException };

/** Builds a DynamoDB Streams client for an endpoint (DynamoDB Local serves streams on the same port). */
export function makeStreamsClient(where: DynamoEndpoint = {}): DynamoDBStreamsClient {
  return new DynamoDBStreamsClient({
    region: where.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(where.endpoint ? { endpoint: where.endpoint } : {}),
    ...(where.credentials ? { credentials: { ...where.credentials } } : {}),
    maxAttempts: where.maxAttempts ?? 3,
  });
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
    let start: string | undefined;
    do {
      const page = await this.client.send(
        new DescribeStreamCommand({
          StreamArn: this.streamArn,
          ...(start ? { ExclusiveStartShardId: start } : {}),
        }),
      );
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
      start = page.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    return out;
  }

  /** An iterator at the shard's trim horizon, or just after `afterSequenceNumber`. */
  async iterator(shardId: string, afterSequenceNumber?: string): Promise<string | undefined> {
    const out = await this.client.send(
      new GetShardIteratorCommand({
        StreamArn: this.streamArn,
        ShardId: shardId,
        ...(afterSequenceNumber
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: afterSequenceNumber }
          : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
    );
    return out.ShardIterator;
  }

  /** Reads up to `limit` records. */
  async read(iterator: string, limit = 1000): Promise<RecordsPage> {
    const out = await this.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }));
    return {
      records: out.Records ?? [],
      ...(out.NextShardIterator ? { nextIterator: out.NextShardIterator } : {}),
    };
  }
}
