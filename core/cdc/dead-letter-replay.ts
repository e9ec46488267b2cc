/**
 * Replaying a dead-lettered CDC batch (docs/runbook.md "CDC dead letters"): the records of the range an
 * on-failure message names (core/cdc/dead-letter.ts) are read again from the stream and applied
 * through the sync handler, under the apply rule. This file holds what the replay reports per record, and
 * the named errors of a replay that cannot be done.
 *
 * Why a replay is always safe: every record is written under `attribute_not_exists(_dr_seq) OR _dr_seq <
 * s`, so a record whose change is already applied (a duplicate) or superseded by a later change of its
 * item (stale) is skipped, never re-applied; only a record whose change the new table lacks is written.
 */
import { DualReadError } from '../common';
import type { StreamDeadLetter } from './dead-letter';
import type { JsonItem } from '../model';

/** What happened to one record of a replayed range. */
export const ReplayResult = {
  /** Written to the new table now. */
  APPLIED: 'applied',
  /** Not written: the new table already holds this change (duplicate) or a later one (stale). */
  SKIPPED: 'skipped',
  /** Not applied again; `reason` says why (the mapping still refuses it, a store error, ...). */
  FAILED: 'failed',
} as const;
export type ReplayResult = (typeof ReplayResult)[keyof typeof ReplayResult];

/** One record of a replayed range. */
export interface ReplayedRecord {
  /** As the stream gives it. */
  readonly sequenceNumber: string;
  readonly eventName?: string;
  /** The record's legacy key as DynamoDB JSON (`waiveRecord` takes it through `itemFromDynamoJson`). */
  readonly keys?: JsonItem;
  readonly result: ReplayResult;
  /** Skipped: duplicate, stale or order-violation, with the stored sequence number; failed: the error. */
  readonly reason?: string;
}

/** The outcome of replaying one dead-lettered range. */
export interface ReplayReport {
  readonly streamArn: string;
  readonly shardId: string;
  readonly startSequenceNumber: string;
  readonly endSequenceNumber: string;
  /** Records in the range by the message (Lambda's count). */
  readonly batchSize: number;
  /** Records read from the stream for the range. */
  readonly recordsRead: number;
  readonly applied: number;
  readonly skipped: number;
  readonly failed: number;
  /**
   * No record failed: every change of the range is now in the new table or superseded there. Only then
   * may the dead-letter message be deleted.
   */
  readonly complete: boolean;
  /** Every record of the range, in shard order. */
  readonly records: readonly ReplayedRecord[];
}

/** The report of a replay of `deadLetter` whose records came out as `records` (shard order). */
export function replayReport(deadLetter: StreamDeadLetter, records: readonly ReplayedRecord[]): ReplayReport {
  const count = (r: ReplayResult) => records.filter((x) => x.result === r).length;
  const failed = count(ReplayResult.FAILED);
  return {
    streamArn: deadLetter.streamArn,
    shardId: deadLetter.shardId,
    startSequenceNumber: deadLetter.startSequenceNumber,
    endSequenceNumber: deadLetter.endSequenceNumber,
    batchSize: deadLetter.batchSize,
    recordsRead: records.length,
    applied: count(ReplayResult.APPLIED),
    skipped: count(ReplayResult.SKIPPED),
    failed,
    complete: failed === 0,
    records,
  };
}

/** Where a range is, for error messages. */
function rangeOf(d: StreamDeadLetter): string {
  return `records ${d.startSequenceNumber}..${d.endSequenceNumber} of shard ${d.shardId}`;
}

/** Base of the errors of a replay that cannot be done (nothing was applied). */
export class ReplayError extends DualReadError {}

/**
 * The range is no longer in the stream: DynamoDB Streams keeps records 24 hours, and a shard that closed
 * more than 24 hours ago is gone. The records cannot be replayed; the message says what to do instead.
 */
export class RecordsTrimmedError extends ReplayError {
  constructor(
    readonly deadLetter: StreamDeadLetter,
    why: string,
  ) {
    super(
      `${rangeOf(deadLetter)} are no longer in the stream (${why}); DynamoDB Streams keeps records for 24 hours, ` +
        'so they cannot be replayed. Instead, for each of them that still holds the frontier back (the FRONTIER ' +
        "item's firstUnapplied): waive it with waiveRecord (adapters/frontier-store.ts; audited), which needs the " +
        "record's legacy key (the frontier tracker's SHARD#<shardId> control item lists waiting records with their " +
        'keys), then run a verification with repair, which copies the key from legacy; then delete the message',
    );
  }
}

/** The shard does not hold the range as the message describes it; nothing was applied. */
export class ReplayRangeError extends ReplayError {
  constructor(
    readonly deadLetter: StreamDeadLetter,
    problem: string,
  ) {
    super(`${rangeOf(deadLetter)}: ${problem}`);
  }
}

/** The message names the stream of another table than the migration's legacy table. */
export class ForeignStreamError extends ReplayError {
  constructor(
    readonly streamArn: string,
    readonly tableName: string | undefined,
    readonly migrationId: string,
    readonly legacyTableName: string,
  ) {
    super(
      `the message names the stream of table "${tableName ?? '?'}" (${streamArn}), but migration ` +
        `"${migrationId}" reads table "${legacyTableName}": replay it with the migration of that table ` +
        "(the message came from another migration's dead-letter queue)",
    );
  }
}
