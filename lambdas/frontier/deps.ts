/**
 * Dependencies of the frontier Lambda from its environment: CONTROL_TABLE_NAME, MIGRATION_ID,
 * NEW_TABLE_NAME, LEGACY_STREAM_ARN; optional LOOP_DURATION_MS, LOOP_INTERVAL_MS,
 * PROPAGATION_MARGIN_MS, CREATION_GRANULARITY_MS, CLOCK_SKEW_MS, ITEM_EVIDENCE_AFTER_MS,
 * TIP_EMPTY_PAGES, TIP_MIN_SPAN_MS, CHILD_LISTING_WAIT_MS. Local mode, tests and benchmarks pass
 * `endpoint` (DynamoDB Local) and explicit values instead (`DYNAMODB_LOCAL_TRACKER_SETTINGS`).
 */
import { migrations } from 'dualread-definitions';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ControlStore } from '../../adapters/control-store';
import { type DynamoEndpoint, makeDynamoClient } from '../../adapters/dynamodb';
import { ControlFrontierStore, FrontierEvidence } from '../../adapters/frontier-store';
import { makeStreamsClient } from '../../adapters/stream-shards';
import { StreamsReader } from '../../adapters/streams-reader';
import {
  DEFAULT_FRONTIER_CONFIG,
  DEFAULT_TRACKER_SETTINGS,
  FrontierTracker,
  type TrackerConfig,
} from '../../core/frontier';
import { metadataNames, type Migration, keyNames } from '../../core/model';
import type { FrontierHandlerDeps } from './handler';

/** Overrides of `buildFrontierDeps`. */
export interface FrontierDepsOptions {
  readonly endpoint?: DynamoEndpoint;
  readonly client?: DynamoDBClient;
  readonly migration?: Migration;
  readonly controlTableName?: string;
  readonly newTableName?: string;
  readonly streamArn?: string;
  readonly config?: Partial<TrackerConfig>;
  readonly loopDurationMs?: number;
  readonly loopIntervalMs?: number;
  readonly now?: () => number;
  readonly env?: NodeJS.ProcessEnv;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (!v)
    throw new Error(`environment variable ${name} is not set; the stack sets it on the frontier function`);
  return v;
}

function num(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0)
    throw new Error(`environment variable ${name}="${v}" is not a non-negative number`);
  return n;
}

/** Builds the tracker over DynamoDB (AWS or Local). */
export function buildFrontierTracker(options: FrontierDepsOptions = {}): {
  tracker: FrontierTracker;
  migration: Migration;
  config: TrackerConfig;
} {
  const env = options.env ?? process.env;
  const migrationId = options.migration?.id ?? required(env, 'MIGRATION_ID');
  const migration =
    options.migration ?? (migrations as readonly Migration[]).find((m) => m.id === migrationId);
  if (!migration) {
    throw new Error(`migration "${migrationId}" is not in the bundled definitions file; redeploy with it`);
  }
  const client = options.client ?? makeDynamoClient(options.endpoint ?? {});
  const control = new ControlStore(
    client,
    options.controlTableName ?? required(env, 'CONTROL_TABLE_NAME'),
    migration.id,
  );
  const streamArn = options.streamArn ?? env.LEGACY_STREAM_ARN ?? migration.legacyTable.streamArn;
  if (!streamArn) throw new Error('LEGACY_STREAM_ARN is not set and the migration names no stream ARN');
  const config: TrackerConfig = {
    propagationMarginMs: num(env, 'PROPAGATION_MARGIN_MS') ?? DEFAULT_FRONTIER_CONFIG.propagationMarginMs,
    creationGranularityMs:
      num(env, 'CREATION_GRANULARITY_MS') ?? DEFAULT_FRONTIER_CONFIG.creationGranularityMs,
    clockSkewMs:
      num(env, 'CLOCK_SKEW_MS') ?? migration.read.clockSkewMs ?? DEFAULT_TRACKER_SETTINGS.clockSkewMs,
    itemEvidenceAfterMs: num(env, 'ITEM_EVIDENCE_AFTER_MS') ?? DEFAULT_TRACKER_SETTINGS.itemEvidenceAfterMs,
    itemEvidencePerShard: DEFAULT_TRACKER_SETTINGS.itemEvidencePerShard,
    maxPagesPerShard: DEFAULT_TRACKER_SETTINGS.maxPagesPerShard,
    tipEmptyPages: num(env, 'TIP_EMPTY_PAGES') ?? DEFAULT_TRACKER_SETTINGS.tipEmptyPages,
    tipMinSpanMs: num(env, 'TIP_MIN_SPAN_MS') ?? DEFAULT_TRACKER_SETTINGS.tipMinSpanMs,
    childListingWaitMs: num(env, 'CHILD_LISTING_WAIT_MS') ?? DEFAULT_TRACKER_SETTINGS.childListingWaitMs,
    ...options.config,
  };
  const tracker = new FrontierTracker({
    migrationId: migration.id,
    streams: new StreamsReader(makeStreamsClient(options.endpoint ?? {}), streamArn),
    evidence: new FrontierEvidence(
      control,
      client,
      options.newTableName ?? env.NEW_TABLE_NAME ?? migration.newTable.tableName,
      keyNames(migration.newTable.key),
      metadataNames(migration.metadataPrefix).seq,
    ),
    store: new ControlFrontierStore(control),
    mapKey: migration.mapKey,
    config,
    now: options.now ?? (() => Date.now()),
  });
  return { tracker, migration, config };
}

/** Builds the frontier handler's dependencies. */
export function buildFrontierDeps(options: FrontierDepsOptions = {}): FrontierHandlerDeps {
  const env = options.env ?? process.env;
  const { tracker, migration } = buildFrontierTracker(options);
  return {
    migrationId: migration.id,
    tracker,
    loopDurationMs: options.loopDurationMs ?? num(env, 'LOOP_DURATION_MS') ?? 55_000,
    loopIntervalMs: options.loopIntervalMs ?? num(env, 'LOOP_INTERVAL_MS') ?? 2_000,
  };
}

/**
 * One tracker step against DynamoDB Local or AWS, for benchmarks and the CLI: builds a tracker (or
 * reuses `tracker`), runs one step and returns its result and the tracker for the next call.
 */
export async function runTrackerOnce(
  options: FrontierDepsOptions & { tracker?: FrontierTracker } = {},
): Promise<{ tracker: FrontierTracker; result: Awaited<ReturnType<FrontierTracker['step']>> }> {
  const tracker = options.tracker ?? buildFrontierTracker(options).tracker;
  return { tracker, result: await tracker.step() };
}
