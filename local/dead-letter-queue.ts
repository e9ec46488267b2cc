/**
 * The local on-failure destination of the local event source (`StreamPoller`; the SQS dead-letter queue
 * in AWS): why records were dead-lettered, each message with the records and the handler's reasons, the
 * message as Lambda would have sent it to SQS, and the replay of held messages.
 */
import type { DynamoDBRecord } from 'aws-lambda';
import { streamDeadLetterBody } from '../core/cdc';

/** Why records went to the on-failure destination (AWS's `condition` names). */
export const DeadLetterCondition = {
  RETRIES_EXHAUSTED: 'RetryAttemptsExhausted',
  RECORD_AGE_EXCEEDED: 'RecordAgeExceeded',
  /**
   * Local only: the record could not be turned into Lambda's JSON (an image holding a value the SDK
   * lost, for instance). In AWS the handler would refuse it and it would end as RetryAttemptsExhausted;
   * here it is dead-lettered at once, alone, with the reason, and the shard moves on.
   */
  NOT_CONVERTIBLE: 'RecordNotConvertible',
} as const;
export type DeadLetterCondition = (typeof DeadLetterCondition)[keyof typeof DeadLetterCondition];

/** One message of the local dead-letter queue. */
export interface LocalDeadLetter {
  readonly id: number;
  readonly condition: DeadLetterCondition;
  /** The handler's reason(s) for the failed records, or why they were not delivered. */
  readonly reason: string;
  readonly shardId: string;
  /** The stream the records were read from. */
  readonly streamArn: string;
  readonly records: readonly DynamoDBRecord[];
  readonly attempts: number;
  readonly at: number;
}

/**
 * The entry as the SQS message Lambda would have sent for it: an on-failure record whose
 * `DDBStreamBatchInfo` names the shard and the range from its first to its last record.
 */
export function deadLetterMessage(entry: LocalDeadLetter): string {
  const seqs = entry.records.map((r) => r.dynamodb?.SequenceNumber ?? '');
  const arrival = (r: DynamoDBRecord | undefined) => (r?.dynamodb?.ApproximateCreationDateTime ?? 0) * 1000;
  return streamDeadLetterBody({
    shardId: entry.shardId,
    startSequenceNumber: seqs[0] ?? '',
    endSequenceNumber: seqs[seqs.length - 1] ?? '',
    streamArn: entry.streamArn,
    batchSize: entry.records.length,
    approximateArrivalOfFirstRecord: arrival(entry.records[0]),
    approximateArrivalOfLastRecord: arrival(entry.records[entry.records.length - 1]),
    condition: entry.condition,
    approximateInvokeCount: entry.attempts,
    timestamp: entry.at,
  });
}

/**
 * The local on-failure destination (the SQS dead-letter queue in AWS): inspectable and replayable.
 * Pass `noteFailure` to the sync handler as `onRecordFailure` so every entry carries the handler's
 * reason for each record.
 */
export class LocalDeadLetterQueue {
  private readonly reasons = new Map<string, string>();
  private readonly list: LocalDeadLetter[] = [];
  private nextId = 1;

  /** Remembers the latest failure reason of a record (wire to `SyncDeps.onRecordFailure`). */
  readonly noteFailure = (sequenceNumber: string, reason: string): void => {
    this.reasons.set(sequenceNumber, reason);
  };

  /** The messages, oldest first. */
  get entries(): readonly LocalDeadLetter[] {
    return this.list;
  }

  /** Number of records held. */
  get depth(): number {
    return this.list.reduce((n, e) => n + e.records.length, 0);
  }

  /** Sequence numbers of every record held. */
  sequenceNumbers(): string[] {
    return this.list.flatMap((e) => e.records.map((r) => r.dynamodb?.SequenceNumber ?? ''));
  }

  /** The reasons noted for the given records, joined (or `fallback`). */
  reasonFor(records: readonly DynamoDBRecord[], fallback: string): string {
    const parts = records
      .map((r) => r.dynamodb?.SequenceNumber)
      .filter((s): s is string => s !== undefined && this.reasons.has(s))
      .map((s) => `${s}: ${this.reasons.get(s)}`);
    return parts.length ? parts.join('; ') : fallback;
  }

  /** Adds a message. */
  add(entry: Omit<LocalDeadLetter, 'id'>): LocalDeadLetter {
    const stored = { ...entry, id: this.nextId++ };
    this.list.push(stored);
    return stored;
  }

  /**
   * Deletes message `id` without replaying it, as an operator deletes an SQS message once every record
   * in it is waived (`waiveRecord`: audited, its key registered unresolved). Returns whether it was held.
   */
  discard(id: number): boolean {
    const i = this.list.findIndex((e) => e.id === id);
    if (i < 0) return false;
    this.list.splice(i, 1);
    return true;
  }

  /**
   * Replays every held message (or those `select` picks) with `replayEntry`, one message at a time,
   * oldest first, and removes the messages whose replay is `complete` (no record failed), as an operator
   * deletes an SQS message only after a successful replay. `LocalCdc.replayDeadLetters` passes the replay
   * of the deployed path (`replayDeadLetter` of lambdas/sync/replay.ts over `deadLetterMessage(entry)`).
   * An error of `replayEntry` (a named replay error) propagates; the message stays.
   */
  async replay<R extends { readonly complete: boolean }>(
    replayEntry: (entry: LocalDeadLetter) => Promise<R>,
    select: (entry: LocalDeadLetter) => boolean = () => true,
  ): Promise<{ replayed: number; remaining: number; reports: R[] }> {
    let replayed = 0;
    const reports: R[] = [];
    for (const entry of [...this.list]) {
      if (!select(entry)) continue;
      const report = await replayEntry(entry);
      reports.push(report);
      if (report.complete) {
        this.list.splice(this.list.indexOf(entry), 1);
        replayed++;
      }
    }
    return { replayed, remaining: this.list.length, reports };
  }
}
