/**
 * Local CDC in one call: the real sync handler (`makeSyncHandler`) over DynamoDB Local, fed by the
 * local event source (`StreamPoller`) with a local dead-letter queue, whose messages are replayed by the
 * deployed path (`replayDeadLetter`). Used by integration tests, benchmarks and local mode; nothing calls
 * the apply logic by a shortcut.
 */
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { ControlStore } from '../adapters/control-store';
import { FrontierEvidence } from '../adapters/frontier-store';
import { type DynamoEndpoint, makeDynamoClient } from '../adapters/dynamodb';
import { StreamShardReader, makeStreamsClient } from '../adapters/stream-shards';
import type { ReplayReport } from '../core/cdc';
import { type Migration, compareSequence, itemFromDynamoJson, metadataNames } from '../core/model';
import { buildSyncDeps } from '../lambdas/sync/deps';
import {
  type SyncBatchSummary,
  type SyncDeps,
  type SyncHandler,
  makeSyncHandler,
} from '../lambdas/sync/handler';
import { replayDeadLetter } from '../lambdas/sync/replay';
import { type LocalDeadLetter, LocalDeadLetterQueue, deadLetterMessage } from './dead-letter-queue';
import { type Incarnation, ProcessKilledError } from './faults/processes';
import { repairEmptyMaps } from './record-conversion';
import { StreamPoller, type StreamPollerOptions } from './stream-poller';

/** Options of `startLocalCdc`. */
export interface LocalCdcOptions {
  readonly endpoint: DynamoEndpoint;
  readonly migration: Migration;
  /** The legacy table's stream ARN (from `createTable(..., { stream: true })`). */
  readonly streamArn: string;
  readonly controlTableName: string;
  /** @default migration.newTable.tableName */
  readonly newTableName?: string;
  /** Poller settings (batch size, retries, chaos, ...). */
  readonly poller?: Omit<StreamPollerOptions, 'reader' | 'handler' | 'deadLetters' | 'control'>;
  /** Overrides of the handler's dependencies (clock, tolerance, observers). */
  readonly sync?: Partial<Omit<SyncDeps, 'migration' | 'writer' | 'control' | 'onRecordFailure'>>;
  /** Start the poller right away. @default true */
  readonly start?: boolean;
  /**
   * Told of every batch the event source hands to the sync handler, just before it does (the rehearsal).
   * With `restarts`, told after the invocation, with the time it started: of the whole batch when the
   * handler lived through it; when it was killed under it, of only the records new shows applied, read
   * right after the kill with the frontier tracker's item evidence (`_dr_seq` at or past the record's: an
   * apply write landed before the kill, whoever sent it), with `killed: true`. The rest of the batch has
   * not reached a handler that applies it until the event source's retry does.
   */
  readonly onDeliver?: (event: DynamoDBStreamEvent, at: number, how?: { readonly killed: boolean }) => void;
  /**
   * Kills of the sync Lambda (local/faults/processes.ts, `--faults kill-sync`): each handler instance is
   * built on an incarnation's endpoint; an invocation during which the incarnation died ends as a crashed
   * Lambda's does (a function error: the event source retries the batch) and the next invocation gets
   * a new handler built from scratch, as a new Lambda environment would.
   */
  readonly restarts?: SyncRestarts;
}

/** The slice of `KillableProcess` the local CDC uses to restart a killed sync Lambda. */
export interface SyncRestarts {
  incarnation(base: DynamoEndpoint): Incarnation;
  restarted(): void;
  killedBatch(
    incarnation: number,
    batch: { first: string; last: string; records: number; appliedBeforeKill: number },
  ): void;
  retried(incarnation: number, by: number): void;
}

/**
 * How a sync invocation killed by the fault layer ends: a function error for the event source, carrying
 * the records new shows applied all the same (the rehearsal counts them applied).
 */
export class SyncInvocationKilledError extends ProcessKilledError {
  constructor(
    incarnation: number,
    readonly applied: readonly DynamoDBRecord[],
  ) {
    super('sync', incarnation);
  }
}

/** A running local CDC pipeline. */
export interface LocalCdc {
  readonly poller: StreamPoller;
  readonly handler: SyncHandler;
  readonly deadLetters: LocalDeadLetterQueue;
  /** Batch summaries the handler reported, in order. */
  readonly batches: SyncBatchSummary[];
  /**
   * Replays the dead-letter queue's messages (or those `select` picks) as an operator replays the SQS
   * queue: each entry's range is read again from the stream and applied through the sync handler
   * (`replayDeadLetter`); entries whose replay is complete are removed.
   */
  replayDeadLetters(
    select?: (entry: LocalDeadLetter) => boolean,
  ): Promise<{ replayed: number; remaining: number; reports: ReplayReport[] }>;
  /** Stops the poller and closes the clients. */
  close(): Promise<void>;
}

/** Wires and (by default) starts the local CDC pipeline. */
export async function startLocalCdc(options: LocalCdcOptions): Promise<LocalCdc> {
  const deadLetters = new LocalDeadLetterQueue();
  const batches: SyncBatchSummary[] = [];
  const client = makeDynamoClient(options.endpoint);
  const userOnBatch = options.sync?.onBatch;
  const observers = {
    onRecordFailure: deadLetters.noteFailure,
    onBatch: (summary: SyncBatchSummary) => {
      batches.push(summary);
      userOnBatch?.(summary);
    },
  };
  /** One sync Lambda environment: its client (a kill's incarnation, if any) and its handler. */
  const environment = () => {
    const life = options.restarts?.incarnation(options.endpoint);
    const own = life ? makeDynamoClient(life.endpoint) : client;
    const base = buildSyncDeps({
      client: own,
      migration: options.migration,
      controlTableName: options.controlTableName,
      newTableName: options.newTableName ?? options.migration.newTable.tableName,
      env: {},
    });
    return { life, handler: makeSyncHandler({ ...base, ...options.sync, ...observers }) };
  };
  const m = options.migration;
  const control = new ControlStore(client, options.controlTableName, m.id);
  // The frontier tracker's own item evidence (adapters/frontier-store.ts), read with a live client.
  const evidence = new FrontierEvidence(
    control,
    client,
    options.newTableName ?? m.newTable.tableName,
    [m.newTable.key.partitionKey.name, ...(m.newTable.key.sortKey ? [m.newTable.key.sortKey.name] : [])],
    metadataNames(m.metadataPrefix).seq,
  );
  /**
   * The records of a killed invocation that are applied all the same: new's item carries their sequence
   * number or a later one (a write landed before the kill, whoever sent it) — what the tracker accepts.
   */
  const appliedDespiteKill = async (records: readonly DynamoDBRecord[]): Promise<DynamoDBRecord[]> => {
    const keyed = records.flatMap((r) => {
      try {
        return [{ r, key: m.mapKey(itemFromDynamoJson(r.dynamodb?.Keys ?? {})) }];
      } catch {
        return []; // mapKey refused the key: no item can prove the record applied.
      }
    });
    const seqs = await evidence.newItemSequences(keyed.map((k) => k.key));
    return keyed
      .filter(({ r }, i) => {
        const stored = seqs[i];
        return stored !== undefined && compareSequence(stored, r.dynamodb?.SequenceNumber ?? '') >= 0;
      })
      .map(({ r }) => r);
  };
  let live = environment();
  /** First record of a killed invocation's batch → the incarnations killed under it (a retry may die too). */
  const awaitingRetry = new Map<string, number[]>();
  const handler: SyncHandler = options.restarts
    ? async (event, context) => {
        const env = live;
        const out = await env.handler(event, context).catch((err: unknown) => ({ err }));
        if (env.life?.dead) {
          const applied = await appliedDespiteKill(event.Records);
          const first = event.Records[0]?.dynamodb?.SequenceNumber ?? '';
          options.restarts?.killedBatch(env.life.number, {
            first,
            last: event.Records.at(-1)?.dynamodb?.SequenceNumber ?? '',
            records: event.Records.length,
            appliedBeforeKill: applied.length,
          });
          awaitingRetry.set(first, [...(awaitingRetry.get(first) ?? []), env.life.number]);
          if (live === env) {
            live = environment();
            options.restarts?.restarted();
          }
          // A crashed invocation returns no batch response: the event source sees a function error.
          throw new SyncInvocationKilledError(env.life.number, applied);
        }
        if ('err' in out) throw out.err;
        // The event source retries a failed batch from its first record (bisected or not).
        const first = event.Records[0]?.dynamodb?.SequenceNumber;
        const killed = first === undefined ? undefined : awaitingRetry.get(first);
        if (first !== undefined && killed !== undefined && env.life) {
          awaitingRetry.delete(first);
          for (const k of killed) options.restarts?.retried(k, env.life.number);
        }
        return out;
      }
    : live.handler;
  const streams = makeStreamsClient(options.endpoint);
  const poller = new StreamPoller({
    ...options.poller,
    reader: new StreamShardReader(streams, options.streamArn),
    handler: options.onDeliver
      ? async (event) => {
          const at = Date.now();
          if (!options.restarts) options.onDeliver?.(event, at);
          try {
            const out = await handler(event);
            if (options.restarts) options.onDeliver?.(event, at);
            return out;
          } catch (err) {
            // Records whose apply write landed before the kill are applied (item evidence), whoever sent it.
            if (err instanceof SyncInvocationKilledError && err.applied.length > 0)
              options.onDeliver?.({ Records: [...err.applied] }, at, { killed: true });
            throw err;
          }
        }
      : handler,
    deadLetters,
    control,
  });
  if (options.start ?? true) await poller.start();
  return {
    poller,
    handler,
    deadLetters,
    batches,
    replayDeadLetters: (select) =>
      deadLetters.replay(async (entry) => {
        const at = Date.now();
        const report = await replayDeadLetter({
          message: deadLetterMessage(entry),
          migration: options.migration,
          controlTableName: options.controlTableName,
          newTableName: options.newTableName ?? options.migration.newTable.tableName,
          dynamo: client,
          streams,
          prepareRecord: repairEmptyMaps,
          sync: { ...options.sync, ...observers },
        });
        // A replayed entry's records reached a handler that applied them: told like a delivery (with
        // `restarts` a record is told only once applied, and a dead-lettered one only here).
        if (report.complete) options.onDeliver?.({ Records: [...entry.records] }, at);
        return report;
      }, select),
    async close() {
      await poller.stop();
      client.destroy();
      streams.destroy();
    },
  };
}
