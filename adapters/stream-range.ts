/**
 * Reads a dead-lettered range again from the stream: the records `start..end` (inclusive) of one shard,
 * as an on-failure message names them (core/cdc/dead-letter.ts), converted to the records Lambda's
 * event source would deliver (adapters/stream-records.ts, the conversion the local event source uses).
 * The records are read completely and checked before anything is applied, so a replay never applies half
 * a range it cannot find. Streams API failures become the replay's named errors (core/cdc/dead-letter-replay.ts):
 *
 * 1. `TrimmedDataAccessException`, a shard or stream that no longer exists, or a first record later than
 *    `start` (the shard no longer holds it): `RecordsTrimmedError`, which says what to do instead.
 * 2. The shard ends, or the next record is past `end`, before `end` was read: `ReplayRangeError`.
 *
 * Empty pages are followed (the API may return empty pages before records); an expired iterator is
 * reopened after the last record read.
 */
import type { DynamoDBRecord } from 'aws-lambda';
import { RecordsTrimmedError, ReplayRangeError, type StreamDeadLetter } from '../core/cdc';
import { type JsonItem, assertItem, itemToDynamoJson } from '../core/model';
import { MalformedStreamRecordError, lambdaRecordFromSdk } from './stream-records';
import {
  ExpiredIteratorException,
  type RecordsPage,
  ResourceNotFoundException,
  type StreamShardReader,
  TrimmedDataAccessException,
} from './stream-shards';

/** A record as GetRecords returns it. */
export type SdkStreamRecord = RecordsPage['records'][number];

/** One record of the range: in Lambda's shape, or why it could not be put in it. */
export type RangeRecord =
  | { readonly sequenceNumber: string; readonly record: DynamoDBRecord }
  | {
      readonly sequenceNumber: string;
      /** Why the record does not convert to Lambda's JSON (`MalformedStreamRecordError: ...`). */
      readonly notConvertible: string;
      readonly eventName?: string;
      readonly keys?: JsonItem;
    };

/** Options of `readStreamRange`. */
export interface ReadRangeOptions {
  /** Applied to every record before conversion (local mode: DynamoDB Local's empty-map repair). */
  readonly prepareRecord?: (record: SdkStreamRecord) => SdkStreamRecord;
  /** Consecutive empty pages after which the read gives up (`ReplayRangeError`). @default 100 */
  readonly maxEmptyPages?: number;
  /** Records per GetRecords call (AWS maximum 1000). @default 1000 */
  readonly pageSize?: number;
}

/** The region in a stream ARN (`arn:aws:dynamodb:<region>:...`). */
function regionOf(arn: string): string {
  return arn.split(':')[3] ?? '';
}

/** The keys of a record that did not convert, as far as they are valid, for the report. */
function keysOf(record: SdkStreamRecord): JsonItem | undefined {
  try {
    return record.dynamodb?.Keys ? itemToDynamoJson(assertItem(record.dynamodb.Keys, 'Keys')) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads the records `deadLetter.startSequenceNumber..endSequenceNumber` of `deadLetter.shardId`.
 *
 * @throws RecordsTrimmedError if the range is no longer in the stream
 * @throws ReplayRangeError if the shard does not hold the range up to its end
 */
export async function readStreamRange(
  reader: StreamShardReader,
  deadLetter: StreamDeadLetter,
  options: ReadRangeOptions = {},
): Promise<RangeRecord[]> {
  const { shardId } = deadLetter;
  const start = BigInt(deadLetter.startSequenceNumber);
  const end = BigInt(deadLetter.endSequenceNumber);
  const maxEmptyPages = options.maxEmptyPages ?? 100;
  const raw: SdkStreamRecord[] = [];
  const lastRead = () => raw[raw.length - 1]?.dynamodb?.SequenceNumber;
  // The first page at START, or after the last record read once an iterator expired.
  const open = () => {
    const last = lastRead();
    return last === undefined
      ? reader.iteratorAt(shardId, deadLetter.startSequenceNumber)
      : reader.iterator(shardId, last);
  };
  let stoppedBecause = 'the shard ended';
  try {
    let iterator = await open();
    let emptyRun = 0;
    let reachedEnd = false;
    while (!reachedEnd) {
      if (iterator === undefined) break; // a closed shard read to its end
      let page: RecordsPage;
      try {
        page = await reader.read(iterator, options.pageSize ?? 1000);
      } catch (err) {
        if (!(err instanceof ExpiredIteratorException)) throw err;
        iterator = await open();
        continue;
      }
      for (const record of page.records) {
        const seq = record.dynamodb?.SequenceNumber;
        if (seq === undefined || !/^\d+$/.test(seq)) continue;
        const n = BigInt(seq);
        if (n < start) continue;
        if (raw.length === 0 && n > start)
          throw new RecordsTrimmedError(
            deadLetter,
            `the shard no longer holds record ${deadLetter.startSequenceNumber}: the first record there is ${seq}`,
          );
        if (n > end) {
          stoppedBecause = `the next record is ${seq}`;
          reachedEnd = true;
          break;
        }
        raw.push(record);
        if (n === end) {
          reachedEnd = true;
          break;
        }
      }
      if (reachedEnd) break;
      emptyRun = page.records.length === 0 ? emptyRun + 1 : 0;
      if (emptyRun >= maxEmptyPages) {
        stoppedBecause = `the stream returned ${emptyRun} empty pages in a row (run the replay again)`;
        break;
      }
      iterator = page.nextIterator;
    }
  } catch (err) {
    if (err instanceof TrimmedDataAccessException)
      throw new RecordsTrimmedError(deadLetter, `TrimmedDataAccessException: ${err.message}`);
    if (err instanceof ResourceNotFoundException)
      throw new RecordsTrimmedError(
        deadLetter,
        `ResourceNotFoundException: the shard or the stream does not exist any more (${err.message})`,
      );
    throw err;
  }

  const last = lastRead();
  if (last === undefined && stoppedBecause === 'the shard ended')
    throw new RecordsTrimmedError(deadLetter, 'the shard holds no record at or after its start');
  if (last === undefined || BigInt(last) !== end) {
    const first = raw[0]?.dynamodb?.SequenceNumber;
    const read =
      first === undefined ? 'read no record' : `read ${raw.length} records from ${first} to ${last}`;
    throw new ReplayRangeError(
      deadLetter,
      `the shard has no record ${deadLetter.endSequenceNumber}: ${read}, then ${stoppedBecause}; ` +
        'check that the message is the one Lambda sent (nothing was applied)',
    );
  }

  const shape = { eventSourceARN: deadLetter.streamArn, awsRegion: regionOf(deadLetter.streamArn) };
  return raw.map((record): RangeRecord => {
    const sequenceNumber = record.dynamodb?.SequenceNumber as string;
    try {
      return {
        sequenceNumber,
        record: lambdaRecordFromSdk(options.prepareRecord?.(record) ?? record, shape),
      };
    } catch (err) {
      if (!(err instanceof MalformedStreamRecordError)) throw err;
      const keys = keysOf(record);
      return {
        sequenceNumber,
        notConvertible: `${err.name}: ${err.message}`,
        ...(record.eventName ? { eventName: record.eventName } : {}),
        ...(keys ? { keys } : {}),
      };
    }
  });
}
