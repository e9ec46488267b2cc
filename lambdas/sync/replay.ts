/**
 * Replaying dead-lettered CDC records (docs/runbook.md "CDC dead letters"). One path for the SQS
 * dead-letter queue of a deployed stack (the `dualread dlq replay` command of the control plane, and
 * until then a one-line `npx tsx -e`) and for local mode's queue (`LocalCdc.replayDeadLetters`):
 *
 * 1. `parseStreamDeadLetter` reads the on-failure message; it names the stream, the shard and the
 *    sequence range, not the records (core/cdc/dead-letter.ts).
 * 2. `readStreamRange` reads exactly that range again from the stream (adapters/stream-range.ts); a range
 *    past the 24 h retention is a `RecordsTrimmedError` that says what to do instead.
 * 3. `replayRecords` applies the records through the real sync handler (`makeSyncHandler` over
 *    `buildSyncDeps`): the apply rule, the progress marker and the failure reporting are the pipeline's.
 *    Each record comes out applied, skipped (its change, or a later one of its item, is already in the new
 *    table: the apply rule's condition refused it) or failed again, with the reason.
 *
 * Nothing here reads the environment: the caller passes clients, table names and the migration.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { type RangeRecord, type ReadRangeOptions, readStreamRange } from '../../adapters/stream-range';
import { StreamShardReader, type StreamsClient } from '../../adapters/stream-shards';
import {
  type ApplyOutcome,
  SkipReason,
  ForeignStreamError,
  type ReplayReport,
  ReplayResult,
  type ReplayedRecord,
  replayReport,
  parseStreamDeadLetter,
  streamTableName,
} from '../../core/cdc';
import { type Migration, type JsonItem, itemFromDynamoJson, itemToDynamoJson } from '../../core/model';
import { buildSyncDeps } from './deps';
import { type SyncDeps, makeSyncHandler } from './handler';

/** Why a record was skipped, in words for the report. */
function skipReason(outcome: Extract<ApplyOutcome, { result: 'skipped' }>): string {
  const stored = outcome.storedSeq === undefined ? '' : ` (stored sequence ${outcome.storedSeq})`;
  switch (outcome.reason) {
    case SkipReason.DUPLICATE:
      return 'duplicate: the new item already holds this change';
    case SkipReason.ORDER_VIOLATION:
      return (
        `order-violation: the new item holds a change with a larger sequence number created before this one${stored}; ` +
        'counted as OrderViolations (runbook "CDC order violation")'
      );
    default:
      return `stale: the new item holds a newer change of the item${stored}`;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** The legacy key of a Lambda-shaped record as DynamoDB JSON, if it is a valid item. */
function keysOf(record: DynamoDBRecord): JsonItem | undefined {
  try {
    return record.dynamodb?.Keys
      ? itemToDynamoJson(itemFromDynamoJson(record.dynamodb.Keys, 'Keys'))
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Applies `records` (one shard-ordered, contiguous run, as a Lambda batch is) through the sync handler
 * built from `deps`, as one invocation with Lambda's JSON transport, and reports each record's outcome.
 * The handler writes the run's progress marker and reports failures as in the pipeline
 * (`deps.onRecordFailure` is told them too).
 */
export async function replayRecords(
  deps: SyncDeps,
  records: readonly DynamoDBRecord[],
): Promise<ReplayedRecord[]> {
  if (records.length === 0) return [];
  const outcomes = new Map<string, ApplyOutcome>();
  const failures = new Map<string, string>();
  const handler = makeSyncHandler({
    ...deps,
    onRecordOutcome: (seq, outcome) => {
      outcomes.set(seq, outcome);
      deps.onRecordOutcome?.(seq, outcome);
    },
    onRecordFailure: (seq, reason) => {
      failures.set(seq, reason);
      deps.onRecordFailure?.(seq, reason);
    },
  });
  let thrown: unknown;
  let reported = new Set<string>();
  try {
    const event = JSON.parse(JSON.stringify({ Records: records })) as DynamoDBStreamEvent;
    reported = new Set((await handler(event)).batchItemFailures.map((f) => f.itemIdentifier));
  } catch (err) {
    thrown = err; // every record failed (FullBatchFailureError) or the handler itself failed
  }
  return records.map((record): ReplayedRecord => {
    const sequenceNumber = record.dynamodb?.SequenceNumber ?? '';
    const keys = keysOf(record);
    const base = {
      sequenceNumber,
      ...(record.eventName ? { eventName: record.eventName } : {}),
      ...(keys ? { keys } : {}),
    };
    const failure = failures.get(sequenceNumber);
    if (failure !== undefined) return { ...base, result: ReplayResult.FAILED, reason: failure };
    const outcome = outcomes.get(sequenceNumber);
    if (outcome?.result === 'applied') return { ...base, result: ReplayResult.APPLIED };
    if (outcome?.result === 'skipped')
      return { ...base, result: ReplayResult.SKIPPED, reason: skipReason(outcome) };
    const reason =
      thrown !== undefined
        ? describe(thrown)
        : reported.has(sequenceNumber)
          ? 'reported as failed by the sync handler'
          : 'the sync handler reported no outcome for it';
    return { ...base, result: ReplayResult.FAILED, reason };
  });
}

/** Dependencies of `replayDeadLetter`. */
export interface ReplayDeadLetterOptions extends ReadRangeOptions {
  /** The dead-letter message's body: Lambda's on-failure record (`DDBStreamBatchInfo`). */
  readonly message: string;
  /** The migration whose sync function dead-lettered the records. */
  readonly migration: Migration;
  readonly controlTableName: string;
  /** @default migration.newTable.tableName */
  readonly newTableName?: string;
  /** For the new table and the control table. */
  readonly dynamo: DynamoDBClient;
  /** For the legacy table's stream, in the stream's region (`makeStreamsClient`). */
  readonly streams: StreamsClient;
  /** Overrides of the sync handler's dependencies (clock, logger, metrics, observers). */
  readonly sync?: Partial<Omit<SyncDeps, 'migration' | 'writer' | 'control'>>;
}

/**
 * Replays one dead-letter message: reads its range from the stream and applies it through the sync
 * handler. Delete the message only when the report is `complete` (no record failed).
 *
 * @throws DeadLetterMessageError if the body is not an on-failure record of a DynamoDB stream
 * @throws ForeignStreamError if it names the stream of another table than the migration's legacy table
 * @throws RecordsTrimmedError if the range is past the stream's 24 h retention (nothing applied)
 * @throws ReplayRangeError if the shard does not hold the range (nothing applied)
 */
export async function replayDeadLetter(options: ReplayDeadLetterOptions): Promise<ReplayReport> {
  const { migration } = options;
  const deadLetter = parseStreamDeadLetter(options.message);
  const table = streamTableName(deadLetter.streamArn);
  if (table !== migration.legacyTable.tableName)
    throw new ForeignStreamError(deadLetter.streamArn, table, migration.id, migration.legacyTable.tableName);
  const range = await readStreamRange(
    new StreamShardReader(options.streams, deadLetter.streamArn),
    deadLetter,
    options,
  );
  const deps: SyncDeps = {
    ...buildSyncDeps({
      client: options.dynamo,
      migration,
      controlTableName: options.controlTableName,
      newTableName: options.newTableName ?? migration.newTable.tableName,
      env: {},
    }),
    ...options.sync,
  };
  // Runs of records split at a record that does not convert, as the local event source batches them: a
  // progress marker covers a contiguous run of the shard (the frontier tracker checks its count).
  const out: ReplayedRecord[] = [];
  let run: DynamoDBRecord[] = [];
  const flush = async () => {
    out.push(...(await replayRecords(deps, run)));
    run = [];
  };
  for (const r of range as readonly RangeRecord[]) {
    if ('record' in r) {
      run.push(r.record);
      continue;
    }
    await flush();
    out.push({
      sequenceNumber: r.sequenceNumber,
      ...(r.eventName ? { eventName: r.eventName } : {}),
      ...(r.keys ? { keys: r.keys } : {}),
      result: ReplayResult.FAILED,
      reason: r.notConvertible,
    });
  }
  await flush();
  return replayReport(deadLetter, out);
}
