/**
 * The sync Lambda: applies a DynamoDB Streams batch of the legacy table to the new table under the
 * apply rule (core/cdc/apply-rule.ts), per record (Powertools `BatchProcessor` + partial batch responses,
 * so one bad record is retried or dead-lettered alone), then writes the batch's progress marker for
 * the frontier tracker (core/cdc/progress-marker.ts).
 *
 * Thin on purpose: conversion is in adapters/stream-records.ts, the rule in core/, the writes in
 * adapters/. Tests and local mode call `makeSyncHandler` with DynamoDB Local dependencies; the
 * deployed `index.ts` builds the same dependencies from the environment.
 */
import {
  BatchProcessor,
  EventType,
  FullBatchFailureError,
  processPartialResponse,
} from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { changeFromLambdaRecord } from '../../adapters/stream-records';
import {
  type ApplyOutcome,
  DEFAULT_ORDER_TOLERANCE_MS,
  type WritePlan,
  applyPlan,
  coalesceDelivery,
  planWrite,
  DEFAULT_TOMBSTONE_MARGIN_MS,
  type NewTableWriterPort,
  SkipReason,
  findSeqRegressions,
  tombstoneExpiry,
  appliedMarkerKey,
  buildAppliedMarker,
  type StreamChange,
} from '../../core/cdc';
import type { ControlValue, MigrationState } from '../../core/control';
import { keyNames, type Migration } from '../../core/model';
import { type BackoffSettings, fullJitterDelay } from '../../core/common';
import { Service, observabilityOf } from '../common/observability';

/** Port: the control-table operations the sync handler uses (adapters/control-store.ts). */
export interface SyncControlPort {
  getState(): Promise<MigrationState | undefined>;
  putUnversioned(sk: string, doc: Record<string, ControlValue | undefined>): Promise<void>;
}

/** Counts of one processed batch (also what the metrics carry). */
export interface SyncBatchSummary {
  readonly first: string;
  readonly last: string;
  readonly count: number;
  readonly applied: number;
  readonly tombstones: number;
  readonly skippedStale: number;
  readonly skippedDuplicate: number;
  /** Records whose key had a newer change in the same delivery (written in its place). */
  readonly superseded: number;
  readonly orderViolations: number;
  /** Write requests sent to the new table (batched inserts count once per request). */
  readonly writeRequests: number;
  readonly failed: readonly string[];
  readonly applyLatencyMs: number;
  readonly maxRecordAgeMs: number;
}

/** Dependencies of the sync handler. */
export interface SyncDeps {
  readonly migration: Migration;
  readonly writer: NewTableWriterPort;
  readonly control: SyncControlPort;
  /** Clock, epoch ms. */
  readonly now: () => number;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  /** Margin after backfill completion before tombstones may expire. @default 7 days */
  readonly tombstoneMarginMs?: number;
  /** Slack of the order-violation check. @default 1000 ms */
  readonly orderToleranceMs?: number;
  /** How long the STATE item (backfill status, for tombstone TTL) is cached. @default 30000 ms */
  readonly stateCacheMs?: number;
  /**
   * Told the reason of every record that fails (local mode: the local dead-letter queue keeps it with
   * the record; in AWS the reason is in the structured log next to the sequence number).
   */
  readonly onRecordFailure?: (sequenceNumber: string, reason: string) => void;
  /** Told the outcome of every record applied or skipped (the dead-letter replay reports it per record). */
  readonly onRecordOutcome?: (sequenceNumber: string, outcome: ApplyOutcome) => void;
  /** Told the summary of every batch (local mode, benchmarks). */
  readonly onBatch?: (summary: SyncBatchSummary) => void;
  /** Waits between progress-marker write attempts (tests pass a no-op). @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Statements per BatchExecuteStatement request of the put-if-absent fast path. */
const MAX_INSERTS_PER_REQUEST = 25;

/** Attempts and backoff of the progress-marker write (a control-table write after the batch). */
const MARKER_BACKOFF: BackoffSettings = { baseMs: 50, capMs: 500, maxAttempts: 4 };

/** The Lambda handler type this factory returns. */
export type SyncHandler = (event: DynamoDBStreamEvent, context?: Context) => Promise<DynamoDBBatchResponse>;

/** Builds the sync handler over its dependencies. */
export function makeSyncHandler(deps: SyncDeps): SyncHandler {
  const { migration, now } = deps;
  const { logger, metrics } = observabilityOf(deps, Service.SYNC, migration.id);
  const legacyKeyNames = keyNames(migration.legacyTable.key);
  const stateCacheMs = deps.stateCacheMs ?? 30_000;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let cachedState: { at: number; state: MigrationState | undefined } | undefined;

  /**
   * The tombstone TTL for this batch, from STATE (backfill status). Applying records must not depend
   * on the control table: if STATE cannot be read, the last known state is used, and with none the
   * tombstones get no TTL, which is always safe (a tombstone that never expires only costs storage;
   * one that expired too early could let the backfill resurrect a deleted item). The next batch
   * tries again.
   */
  async function currentTombstoneTtl(): Promise<{ ttl: number | undefined; stateReadFailed: boolean }> {
    const t = now();
    let stateReadFailed = false;
    if (!cachedState || t - cachedState.at > stateCacheMs) {
      try {
        cachedState = { at: t, state: await deps.control.getState() };
      } catch (err) {
        stateReadFailed = true;
        logger.warn('STATE not readable: applying with the last known state (none: tombstones without TTL)', {
          error: err as Error,
          lastKnownAt: cachedState?.at,
        });
      }
    }
    const backfill = cachedState?.state?.backfill;
    const ttl = backfill
      ? tombstoneExpiry(backfill, t, deps.tombstoneMarginMs ?? DEFAULT_TOMBSTONE_MARGIN_MS)
      : undefined;
    return { ttl, stateReadFailed };
  }

  /**
   * Writes the batch's progress marker, retrying a few times. It returns false instead of failing the
   * invocation when the control table stays unavailable: the records are applied, and failing would
   * make the event source redeliver them and finally dead-letter good records with no reason. Without
   * the marker the frontier tracker proves these records applied from the new items' `_dr_seq`
   * (its item evidence), and failed records are retried by the event source anyway.
   */
  async function writeMarker(sk: string, doc: Record<string, ControlValue | undefined>): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await deps.control.putUnversioned(sk, doc);
        return true;
      } catch (err) {
        if (attempt + 1 >= MARKER_BACKOFF.maxAttempts) {
          logger.error('progress marker not written: the frontier tracker will use item evidence', {
            marker: sk,
            error: err as Error,
          });
          return false;
        }
        await sleep(fullJitterDelay(attempt, MARKER_BACKOFF, Math.random()));
      }
    }
  }

  return async function syncHandler(event, context) {
    const records = event.Records ?? [];
    if (records.length === 0) return { batchItemFailures: [] };
    const started = now();
    const seqs = records.map((r) => r.dynamodb?.SequenceNumber ?? '');
    const { ttl: tombstoneTtl, stateReadFailed } = await currentTombstoneTtl();

    // Convert up front so the whole delivery can be checked for per-item order; a record that does not
    // convert fails alone inside the batch processor below.
    const changes = new Map<DynamoDBRecord, StreamChange | Error>();
    for (const r of records) {
      try {
        changes.set(r, changeFromLambdaRecord(r));
      } catch (err) {
        changes.set(r, err as Error);
      }
    }
    const regressions = findSeqRegressions(
      [...changes.values()].filter((c): c is StreamChange => !(c instanceof Error)),
      legacyKeyNames,
    );
    for (const seq of regressions) {
      logger.error(
        'per-item order violated within a stream batch: sequence number regressed for the same key',
        {
          sequenceNumber: seq,
        },
      );
    }

    // Plan every change, coalesce the delivery per key (core/cdc/coalesce.ts) and try the winners of
    // INSERT records as one batched put-if-absent; everything else is written per record below.
    const ctx = {
      migration,
      writer: deps.writer,
      tombstoneTtl,
      orderToleranceMs: deps.orderToleranceMs ?? DEFAULT_ORDER_TOLERANCE_MS,
    };
    const position = new Map<DynamoDBRecord, number>(records.map((r, i) => [r, i]));
    const planned: Array<StreamChange | undefined> = [];
    const plans: Array<WritePlan | undefined> = [];
    const planErrors = new Map<number, unknown>();
    records.forEach((r, i) => {
      const change = changes.get(r);
      if (change === undefined || change instanceof Error) return;
      try {
        plans[i] = planWrite(change, migration, { tombstoneTtl });
        planned[i] = change;
      } catch (err) {
        planErrors.set(i, err);
      }
    });
    const delivery = coalesceDelivery(planned, plans);
    const inserted = new Set<number>();
    let writeRequests = 0;
    if (deps.writer.insertIfAbsent && delivery.insertCandidates.length > 0) {
      writeRequests += Math.ceil(delivery.insertCandidates.length / MAX_INSERTS_PER_REQUEST);
      try {
        const done = await deps.writer.insertIfAbsent(
          delivery.insertCandidates.map((i) => plans[i] as WritePlan),
        );
        delivery.insertCandidates.forEach((i, k) => done[k] && inserted.add(i));
      } catch (err) {
        logger.warn('batched put-if-absent failed: every record is written with the conditional put', {
          error: err as Error,
        });
      }
    }
    const winnerWrites = new Map<number, Promise<ApplyOutcome>>();
    const writeWinner = (i: number): Promise<ApplyOutcome> => {
      let write = winnerWrites.get(i);
      if (!write) {
        const plan = plans[i] as WritePlan;
        if (inserted.has(i)) write = Promise.resolve({ result: 'applied', kind: plan.kind, seq: plan.seq });
        else {
          writeRequests++;
          write = applyPlan(planned[i] as StreamChange, plan, ctx);
        }
        winnerWrites.set(i, write);
      }
      return write;
    };

    const outcomes: ApplyOutcome[] = [];
    let maxAge = 0;
    const recordHandler = async (record: DynamoDBRecord): Promise<void> => {
      const seq = record.dynamodb?.SequenceNumber ?? '';
      const change = changes.get(record);
      const i = position.get(record) ?? -1;
      try {
        if (change === undefined || i < 0) throw new Error('record was not part of the event');
        if (change instanceof Error) throw change;
        if (planErrors.has(i)) throw planErrors.get(i);
        maxAge = Math.max(maxAge, now() - change.approximateCreationTime);
        const winner = delivery.winnerOf[i] as number;
        const winnerOutcome = await writeWinner(winner);
        const plan = plans[i] as WritePlan;
        const outcome: ApplyOutcome =
          winner === i
            ? winnerOutcome
            : { result: 'skipped', kind: plan.kind, seq: plan.seq, reason: SkipReason.SUPERSEDED };
        outcomes.push(outcome);
        deps.onRecordOutcome?.(seq, outcome);
        if (outcome.result === 'skipped' && outcome.reason === SkipReason.ORDER_VIOLATION) {
          logger.error(
            'per-item order violated: a change newer than the stored one has a smaller sequence number',
            {
              sequenceNumber: seq,
              storedSequence: outcome.storedSeq,
            },
          );
        }
      } catch (err) {
        const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        logger.error('record not applied', { sequenceNumber: seq, reason });
        deps.onRecordFailure?.(seq, reason);
        throw err;
      }
    };

    let response: DynamoDBBatchResponse;
    let fullFailure: unknown;
    try {
      // A processor per invocation: BatchProcessor keeps per-batch state, and local mode may run
      // invocations concurrently (one per shard), as Lambda does across execution environments.
      const processor = new BatchProcessor(EventType.DynamoDBStreams);
      response = await processPartialResponse(event, recordHandler, processor, {
        context: context as Context,
      });
    } catch (err) {
      if (!(err instanceof FullBatchFailureError)) throw err;
      fullFailure = err;
      response = { batchItemFailures: seqs.map((itemIdentifier) => ({ itemIdentifier })) };
    }

    const failed = response.batchItemFailures.map((f) => f.itemIdentifier);
    // The marker says which records are durably applied: every write above has been acknowledged.
    const marker = buildAppliedMarker(seqs, failed, now());
    const markerWritten = await writeMarker(appliedMarkerKey(seqs[0] as string), {
      ...marker,
      failed: [...marker.failed],
    });

    const summary: SyncBatchSummary = {
      first: marker.first,
      last: marker.last,
      count: records.length,
      applied: outcomes.filter((o) => o.result === 'applied').length,
      tombstones: outcomes.filter((o) => o.result === 'applied' && o.kind === 'tombstone').length,
      skippedStale: outcomes.filter(
        (o) =>
          o.result === 'skipped' && o.reason !== SkipReason.DUPLICATE && o.reason !== SkipReason.SUPERSEDED,
      ).length,
      skippedDuplicate: outcomes.filter((o) => o.result === 'skipped' && o.reason === SkipReason.DUPLICATE)
        .length,
      superseded: outcomes.filter((o) => o.result === 'skipped' && o.reason === SkipReason.SUPERSEDED).length,
      writeRequests,
      orderViolations:
        regressions.length +
        outcomes.filter((o) => o.result === 'skipped' && o.reason === SkipReason.ORDER_VIOLATION).length,
      failed,
      applyLatencyMs: now() - started,
      maxRecordAgeMs: maxAge,
    };
    metrics.addMetric('Applied', MetricUnit.Count, summary.applied);
    metrics.addMetric('Tombstones', MetricUnit.Count, summary.tombstones);
    metrics.addMetric('SkippedStale', MetricUnit.Count, summary.skippedStale + summary.skippedDuplicate);
    metrics.addMetric('Superseded', MetricUnit.Count, summary.superseded);
    metrics.addMetric('WriteRequests', MetricUnit.Count, summary.writeRequests);
    metrics.addMetric('Failures', MetricUnit.Count, failed.length);
    metrics.addMetric('OrderViolations', MetricUnit.Count, summary.orderViolations);
    metrics.addMetric('ApplyLatency', MetricUnit.Milliseconds, summary.applyLatencyMs);
    metrics.addMetric('RecordAgeMs', MetricUnit.Milliseconds, summary.maxRecordAgeMs);
    metrics.addMetric('StateReadFailures', MetricUnit.Count, stateReadFailed ? 1 : 0);
    metrics.addMetric('MarkerWriteFailures', MetricUnit.Count, markerWritten ? 0 : 1);
    metrics.publishStoredMetrics();
    logger.info('batch processed', { ...summary, failed: summary.failed.length });
    deps.onBatch?.(summary);

    // Every record failed: fail the invocation, so the event source retries (and bisects) it.
    if (fullFailure) throw fullFailure;
    return response;
  };
}
