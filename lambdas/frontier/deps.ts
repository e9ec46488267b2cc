/**
 * Dependencies of the frontier Lambda from its environment: CONTROL_TABLE_NAME, MIGRATION_ID,
 * NEW_TABLE_NAME, LEGACY_STREAM_ARN; optional LOOP_DURATION_MS, LOOP_INTERVAL_MS,
 * PROPAGATION_MARGIN_MS, CREATION_GRANULARITY_MS, CLOCK_SKEW_MS, ITEM_EVIDENCE_AFTER_MS,
 * TIP_EMPTY_PAGES, TIP_MIN_SPAN_MS, CHILD_LISTING_WAIT_MS. Local mode, tests and benchmarks pass
 * `endpoint` (DynamoDB Local) and explicit values instead (`DYNAMODB_LOCAL_TRACKER_SETTINGS`).
 */
import { migrations } from 'dualread-definitions';
import { ControlStore } from '../../adapters/control-store';
import { type DynamoEndpoint, makeDynamoClient } from '../../adapters/dynamodb';
import { ControlFrontierStore, FrontierEvidence } from '../../adapters/frontier-store';
import { makeStreamsClient } from '../../adapters/stream-shards';
import { StreamsReader } from '../../adapters/streams-reader';
import {
  DEFAULT_FRONTIER_CONFIG,
  DEFAULT_FRONTIER_LOOP_INTERVAL_MS,
  DEFAULT_TRACKER_SETTINGS,
  FrontierTracker,
  type TrackerConfig,
} from '../../core/frontier';
import { metadataNames, type Migration, keyNames } from '../../core/model';
import { Env, type EnvOverrides, envReader, migrationFromEnv } from '../common/env';
import type { FrontierHandlerDeps } from './handler';
import { Service, functionTracer, traced } from '../common/observability';

/** Overrides of `buildFrontierDeps`. */
export interface FrontierDepsOptions extends Pick<
  EnvOverrides,
  'env' | 'client' | 'migration' | 'controlTableName' | 'newTableName' | 'now'
> {
  /** Where DynamoDB and its streams are (a `client` is used for the tables when given). */
  readonly endpoint?: DynamoEndpoint;
  /** @default LEGACY_STREAM_ARN, else the migration's */
  readonly streamArn?: string;
  readonly config?: Partial<TrackerConfig>;
  readonly loopDurationMs?: number;
  readonly loopIntervalMs?: number;
}

/** The frontier function's variables (set by lib/frontier-tracker.ts). */
export const FRONTIER_ENV = {
  MIGRATION_ID: Env.text(),
  CONTROL_TABLE_NAME: Env.text(),
  /** @default the migration's new table */
  NEW_TABLE_NAME: Env.optionalText(),
  /** @default the migration's `legacyTable.streamArn` */
  LEGACY_STREAM_ARN: Env.optionalText(),
  LOOP_DURATION_MS: Env.nonNegativeNumber(55_000),
  LOOP_INTERVAL_MS: Env.nonNegativeNumber(DEFAULT_FRONTIER_LOOP_INTERVAL_MS),
  PROPAGATION_MARGIN_MS: Env.nonNegativeNumber(DEFAULT_FRONTIER_CONFIG.propagationMarginMs),
  CREATION_GRANULARITY_MS: Env.nonNegativeNumber(DEFAULT_FRONTIER_CONFIG.creationGranularityMs),
  /** @default the migration's `read.clockSkewMs`, else the tracker's default */
  CLOCK_SKEW_MS: Env.nonNegativeNumber(),
  ITEM_EVIDENCE_AFTER_MS: Env.nonNegativeNumber(DEFAULT_TRACKER_SETTINGS.itemEvidenceAfterMs),
  TIP_EMPTY_PAGES: Env.nonNegativeNumber(DEFAULT_TRACKER_SETTINGS.tipEmptyPages),
  TIP_MIN_SPAN_MS: Env.nonNegativeNumber(DEFAULT_TRACKER_SETTINGS.tipMinSpanMs),
  CHILD_LISTING_WAIT_MS: Env.nonNegativeNumber(DEFAULT_TRACKER_SETTINGS.childListingWaitMs),
} as const;

/** The reader of the frontier function's variables in `env`. */
function frontierEnv(env: NodeJS.ProcessEnv) {
  return envReader(FRONTIER_ENV, env, { functionName: 'frontier' });
}

/** Builds the tracker over DynamoDB (AWS or Local). */
export function buildFrontierTracker(options: FrontierDepsOptions = {}): {
  tracker: FrontierTracker;
  migration: Migration;
  config: TrackerConfig;
  control: ControlStore;
} {
  const e = frontierEnv(options.env ?? process.env);
  const migration = migrationFromEnv(e, migrations, options.migration);
  const tracer = functionTracer(Service.FRONTIER);
  const client = options.client ?? traced(tracer, makeDynamoClient(options.endpoint ?? {}));
  const control = new ControlStore(
    client,
    options.controlTableName ?? e.get('CONTROL_TABLE_NAME'),
    migration.id,
  );
  const streamArn = options.streamArn ?? e.get('LEGACY_STREAM_ARN') ?? migration.legacyTable.streamArn;
  if (!streamArn) throw e.missing('LEGACY_STREAM_ARN', 'and the migration names no stream ARN');
  const config: TrackerConfig = {
    propagationMarginMs: e.get('PROPAGATION_MARGIN_MS'),
    creationGranularityMs: e.get('CREATION_GRANULARITY_MS'),
    clockSkewMs: e.get('CLOCK_SKEW_MS') ?? migration.read.clockSkewMs ?? DEFAULT_TRACKER_SETTINGS.clockSkewMs,
    itemEvidenceAfterMs: e.get('ITEM_EVIDENCE_AFTER_MS'),
    itemEvidencePerShard: DEFAULT_TRACKER_SETTINGS.itemEvidencePerShard,
    maxPagesPerShard: DEFAULT_TRACKER_SETTINGS.maxPagesPerShard,
    tipEmptyPages: e.get('TIP_EMPTY_PAGES'),
    tipMinSpanMs: e.get('TIP_MIN_SPAN_MS'),
    childListingWaitMs: e.get('CHILD_LISTING_WAIT_MS'),
    persistIntervalMs: DEFAULT_TRACKER_SETTINGS.persistIntervalMs,
    ...options.config,
  };
  const tracker = new FrontierTracker({
    migrationId: migration.id,
    streams: new StreamsReader(traced(tracer, makeStreamsClient(options.endpoint ?? {})), streamArn, {
      // An endpoint is DynamoDB Local's (AWS is reached without one): mind its empty-shard iterators.
      dynamoDbLocal: options.endpoint?.endpoint !== undefined,
    }),
    evidence: new FrontierEvidence(
      control,
      client,
      options.newTableName ?? e.get('NEW_TABLE_NAME') ?? migration.newTable.tableName,
      keyNames(migration.newTable.key),
      metadataNames(migration.metadataPrefix).seq,
    ),
    store: new ControlFrontierStore(control),
    mapKey: migration.mapKey,
    config,
    now: options.now ?? (() => Date.now()),
  });
  return { tracker, migration, config, control };
}

/** Builds the frontier handler's dependencies. */
export function buildFrontierDeps(options: FrontierDepsOptions = {}): FrontierHandlerDeps {
  const e = frontierEnv(options.env ?? process.env);
  const { tracker, migration, control } = buildFrontierTracker(options);
  return {
    migrationId: migration.id,
    tracker,
    readState: () => control.getState(),
    loopDurationMs: options.loopDurationMs ?? e.get('LOOP_DURATION_MS'),
    loopIntervalMs: options.loopIntervalMs ?? e.get('LOOP_INTERVAL_MS'),
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
