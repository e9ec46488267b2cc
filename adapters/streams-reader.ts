/**
 * The frontier tracker's reader of the legacy table's stream (`StreamsPort` of core/frontier-tracker.ts):
 * DescribeStream with pagination and lineage, GetShardIterator (TRIM_HORIZON / AFTER_SEQUENCE_NUMBER),
 * GetRecords. The only module of the tracker that imports `@aws-sdk/client-dynamodb-streams`; SDK
 * failures become the tracker's domain errors here.
 */
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import type { TrackedRecordInput } from '../core/frontier-ledger';
import {
  IteratorExpiredError,
  type StreamShardInfo,
  type StreamsPort,
  TrimmedDataError,
} from '../core/frontier-tracker';
import { type DynamoEndpoint, type SdkItem, fromSdkItem } from './dynamodb';

/** Builds a DynamoDB Streams client (DynamoDB Local serves streams on its own port). */
export function makeTrackerStreamsClient(where: DynamoEndpoint = {}): DynamoDBStreamsClient {
  return new DynamoDBStreamsClient({
    region: where.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(where.endpoint ? { endpoint: where.endpoint } : {}),
    ...(where.credentials ? { credentials: { ...where.credentials } } : {}),
    maxAttempts: where.maxAttempts ?? 3,
  });
}

/**
 * Sequence numbers are stored padded to 40 digits; the API wants them as the stream gave them, which
 * is at least 21 digits (its length constraint): AWS's have no leading zeros, DynamoDB Local pads its
 * small ones to 21 (`000000000000000000172`).
 */
function unpad(seq: string): string {
  return seq.replace(/^0+(?=\d)/, '').padStart(MIN_SEQUENCE_LENGTH, '0');
}

/** The API's minimum length of a sequence number. */
const MIN_SEQUENCE_LENGTH = 21;

/** `StreamsPort` over the DynamoDB Streams API. */
export class StreamsReader implements StreamsPort {
  constructor(
    private readonly client: DynamoDBStreamsClient,
    readonly streamArn: string,
    /** Records per GetRecords call (AWS maximum 1000). */
    private readonly pageSize = 1000,
  ) {}

  async listShards(): Promise<StreamShardInfo[]> {
    const out: StreamShardInfo[] = [];
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
          closed: s.SequenceNumberRange?.EndingSequenceNumber !== undefined,
        });
      }
      start = page.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    return out;
  }

  async iterator(shardId: string, afterSequence?: string): Promise<string> {
    try {
      const out = await this.client.send(
        new GetShardIteratorCommand({
          StreamArn: this.streamArn,
          ShardId: shardId,
          ...(afterSequence === undefined
            ? { ShardIteratorType: 'TRIM_HORIZON' }
            : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: unpad(afterSequence) }),
        }),
      );
      if (!out.ShardIterator) throw new Error(`GetShardIterator returned no iterator for ${shardId}`);
      return out.ShardIterator;
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
      const out = await this.client.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: this.pageSize }),
      );
      const records: TrackedRecordInput[] = [];
      for (const r of out.Records ?? []) {
        const body = r.dynamodb;
        if (!body?.SequenceNumber) continue;
        records.push({
          sequenceNumber: body.SequenceNumber,
          // Missing time: 0 is the most conservative bound (the record then holds F at 0 until applied).
          approxCreationMs: body.ApproximateCreationDateTime?.getTime() ?? 0,
          keys: fromSdkItem((body.Keys ?? {}) as SdkItem),
        });
      }
      return { records, ...(out.NextShardIterator ? { next: out.NextShardIterator } : {}) };
    } catch (err) {
      if (err instanceof ExpiredIteratorException) throw new IteratorExpiredError(shardId);
      if (err instanceof TrimmedDataAccessException) throw new TrimmedDataError(shardId);
      throw err;
    }
  }
}
