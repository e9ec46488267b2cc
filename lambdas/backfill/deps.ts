/**
 * Wiring of the backfill handlers: `backfillDepsFor` over explicit tables and client (deployed and local
 * mode), and `buildBackfillDeps`, the deployed functions' dependencies from the environment (local mode
 * and tests use `localBackfillDeps` in local/backfill.ts, pointing at DynamoDB Local).
 */
import { migrations } from 'dualread-definitions';
import type { WriteMode } from '../../adapters/backfill-io';
import {
  EventSourceMappingCdcStatus,
  frontierIteratorAge,
  makeLambdaClient,
} from '../../adapters/cdc-status';
import { ControlStore } from '../../adapters/control-store';
import { makeDynamoClient } from '../../adapters/dynamodb';
import { BackfillInputError } from '../../core/backfill';
import type { CdcStatusPort } from '../../core/cdc';
import { Env, MIGRATION_TABLES_ENV, envReader, migrationFromEnv } from '../common/env';
import type { EnvOverrides, MigrationTables } from '../common/env';
import { Service, functionTracer, lambdaObservability, traced } from '../common/observability';
import {
  type BackfillDeps,
  type BackfillLogPort,
  type BackfillMetricsPort,
  type BackfillSettingsDeps,
  DEFAULT_BACKFILL_SETTINGS,
} from './context';
import { backfillIo } from './io';

/** The backfill functions' variables (set by lib/backfill.ts). */
export const BACKFILL_ENV = {
  ...MIGRATION_TABLES_ENV,
  /** Read by the preflight only (its CDC check). */
  LEGACY_STREAM_ARN: Env.text(),
  SYNC_FUNCTION_NAME: Env.text(),
  BACKFILL_PAGE_BUDGET_MS: Env.nonNegativeNumber(DEFAULT_BACKFILL_SETTINGS.pageBudgetMs),
  BACKFILL_WRITE_MODE: Env.oneOf(['partiql', 'put', 'transact'], 'partiql'),
  BACKFILL_WRITE_CONCURRENCY: Env.wholeNumber(16),
} as const;

/** What `backfillDepsFor` wires the handlers to. */
export interface BackfillWiring extends MigrationTables {
  /** How the preflight checks CDC, given the control store, the clock and the legacy table's name. */
  readonly cdcStatus: (wired: {
    readonly store: ControlStore;
    readonly now: () => number;
    readonly legacyTableName: string;
  }) => CdcStatusPort;
  readonly settings: BackfillSettingsDeps;
  readonly writeMode: WriteMode;
  readonly writeConcurrency: number;
  readonly now?: () => number;
  readonly log?: BackfillLogPort;
  readonly metrics?: BackfillMetricsPort;
  /**
   * Client of the table I/O (Scan, writes, key reads), which retries throttling itself
   * (adapters/retry.ts, counted for the adaptive rate): deployed with SDK `maxAttempts: 1`, so a throttled
   * request makes at most 8 attempts instead of 3 × 8. @default client
   */
  readonly dataClient?: MigrationTables['client'];
}

/** The handlers' dependencies over explicit tables and client (deployed and local mode). */
export function backfillDepsFor(o: BackfillWiring): BackfillDeps {
  const now = o.now ?? (() => Date.now());
  const store = new ControlStore(o.client, o.controlTableName, o.migration.id);
  const legacyTableName = o.legacyTableName ?? o.migration.legacyTable.tableName;
  return {
    migration: o.migration,
    store,
    cdcStatus: o.cdcStatus({ store, now, legacyTableName }),
    ...backfillIo({
      client: o.dataClient ?? o.client,
      migration: o.migration,
      legacyTableName,
      newTableName: o.newTableName ?? o.migration.newTable.tableName,
      controlTableName: o.controlTableName,
      writeMode: o.writeMode,
      writeConcurrency: o.writeConcurrency,
      now,
    }),
    now,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    settings: o.settings,
    ...(o.log ? { log: o.log } : {}),
    ...(o.metrics ? { metrics: o.metrics } : {}),
  };
}

/** Options of `buildBackfillDeps` (everything else comes from the environment). */
export interface BuildBackfillOptions extends Pick<EnvOverrides, 'env' | 'client' | 'migration'> {
  readonly cdcStatus?: CdcStatusPort;
  readonly settings?: Partial<BackfillSettingsDeps>;
  readonly writeMode?: WriteMode;
  readonly writeConcurrency?: number;
}

/** Builds the deployed handlers' dependencies from the environment. */
export function buildBackfillDeps(options: BuildBackfillOptions = {}): BackfillDeps {
  const e = envReader(BACKFILL_ENV, options.env ?? process.env, {
    functionName: 'backfill',
    error: (message) => new BackfillInputError(message),
  });
  const migration = migrationFromEnv(e, migrations, options.migration);
  const tracer = functionTracer(Service.BACKFILL);
  const client = options.client ?? traced(tracer, makeDynamoClient());
  const { logger, metrics } = lambdaObservability(Service.BACKFILL, migration.id);
  return backfillDepsFor({
    // The table I/O retries throttling itself (and counts it for the adaptive rate): one SDK attempt.
    ...(options.client ? {} : { dataClient: traced(tracer, makeDynamoClient({ maxAttempts: 1 })) }),
    log: logger,
    metrics: metrics as unknown as BackfillMetricsPort,
    client,
    migration,
    controlTableName: e.get('CONTROL_TABLE_NAME'),
    legacyTableName: e.get('LEGACY_TABLE_NAME'),
    newTableName: e.get('NEW_TABLE_NAME'),
    // Only the preflight function checks CDC; the others need neither the variables nor the client.
    cdcStatus: ({ store, now, legacyTableName }) =>
      options.cdcStatus ?? {
        check: () =>
          new EventSourceMappingCdcStatus({
            lambda: traced(tracer, makeLambdaClient()),
            dynamo: client,
            syncFunctionName: e.get('SYNC_FUNCTION_NAME'),
            legacyTableName,
            streamArn: e.get('LEGACY_STREAM_ARN'),
            iteratorAge: frontierIteratorAge(store, now),
          }).check(),
      },
    writeMode: options.writeMode ?? e.get('BACKFILL_WRITE_MODE'),
    writeConcurrency: options.writeConcurrency ?? e.get('BACKFILL_WRITE_CONCURRENCY'),
    settings: {
      ...DEFAULT_BACKFILL_SETTINGS,
      pageBudgetMs: e.get('BACKFILL_PAGE_BUDGET_MS'),
      ...options.settings,
    },
  });
}
