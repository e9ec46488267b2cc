/**
 * Local CDC in one call: the real sync handler (`makeSyncHandler`) over DynamoDB Local, fed by the
 * local event source (`StreamPoller`) with a local dead-letter queue, whose messages are replayed by the
 * deployed path (`replayDeadLetter`). Used by integration tests, benchmarks and local mode; nothing calls
 * the apply logic by a shortcut.
 */
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { ControlStore } from '../adapters/control-store';
import { type DynamoEndpoint, makeDynamoClient } from '../adapters/dynamodb';
import { StreamShardReader, makeStreamsClient } from '../adapters/stream-shards';
import type { ReplayReport } from '../core/cdc';
import type { Migration } from '../core/model';
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
   * With `restarts`, told only of invocations the handler lived through, with the time the invocation
   * started: a batch handed to a Lambda that was killed under it has not reached a handler that applies it.
   */
  readonly onDeliver?: (event: DynamoDBStreamEvent, at: number) => void;
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
  let live = environment();
  const handler: SyncHandler = options.restarts
    ? async (event, context) => {
        const env = live;
        const out = await env.handler(event, context).catch((err: unknown) => ({ err }));
        if (env.life?.dead) {
          if (live === env) {
            live = environment();
            options.restarts?.restarted();
          }
          // A crashed invocation returns no batch response: the event source sees a function error.
          throw new ProcessKilledError('sync', env.life.number);
        }
        if ('err' in out) throw out.err;
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
          const out = await handler(event);
          if (options.restarts) options.onDeliver?.(event, at);
          return out;
        }
      : handler,
    deadLetters,
    control: new ControlStore(client, options.controlTableName, options.migration.id),
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
