/**
 * Wiring of the deployed verification handlers from the environment (local mode and tests build
 * `VerifyDeps` with `localVerifyDeps`, pointing at DynamoDB Local).
 */
import { migrations } from 'dualread-definitions';
import { type RetryTiming, realRetryTiming, scanSegmentPage, tableStatus } from '../../adapters/backfill-io';
import { ControlStore } from '../../adapters/control-store';
import { makeDynamoClient } from '../../adapters/dynamodb';
import { KeyReader, transactRepair } from '../../adapters/verify-io';
import { keyNames } from '../../core/model';
import { VerifySide, VerifyInputError } from '../../core/verify';
import { Env, MIGRATION_TABLES_ENV, envReader, migrationFromEnv } from '../common/env';
import type { EnvOverrides, MigrationTables } from '../common/env';
import { Service, functionTracer, lambdaObservability, traced } from '../common/observability';
import {
  DEFAULT_VERIFY_SETTINGS,
  type VerifyDeps,
  type VerifyLogPort,
  type VerifyMetricsPort,
  type VerifySettingsDeps,
} from './contract';

/** The verification functions' variables (set by lib/verification.ts). */
export const VERIFY_ENV = {
  ...MIGRATION_TABLES_ENV,
  VERIFY_BUDGET_MS: Env.nonNegativeNumber(DEFAULT_VERIFY_SETTINGS.budgetMs),
  VERIFY_MAX_LAG_WAIT_MS: Env.nonNegativeNumber(DEFAULT_VERIFY_SETTINGS.maxLagWaitMs),
} as const;

/** Options of `buildVerifyDeps` / `verifyDepsFor`. */
export interface BuildVerifyOptions extends EnvOverrides {
  readonly settings?: Partial<VerifySettingsDeps>;
  readonly metrics?: VerifyMetricsPort;
  readonly log?: VerifyLogPort;
  readonly timing?: RetryTiming;
  /** BatchGetItem requests in flight per page. @default 4 */
  readonly lookupConcurrency?: number;
  /**
   * Client of the table I/O (Scan, key reads, repair), which retries throttling itself
   * (adapters/retry.ts): deployed with SDK `maxAttempts: 1`, so a throttled request makes at most 8
   * attempts instead of 3 × 8. @default client
   */
  readonly dataClient?: MigrationTables['client'];
}

/** Dependencies over explicit tables and client (deployed, local mode and tests). */
export function verifyDepsFor(o: BuildVerifyOptions & MigrationTables): VerifyDeps {
  const m = o.migration;
  const legacyTable = o.legacyTableName ?? m.legacyTable.tableName;
  const newTable = o.newTableName ?? m.newTable.tableName;
  const timing = o.timing ?? realRetryTiming;
  const concurrency = o.lookupConcurrency ?? 4;
  const store = new ControlStore(o.client, o.controlTableName, m.id);
  const data = o.dataClient ?? o.client;
  return {
    migration: m,
    store,
    scanLegacy: (args) => scanSegmentPage(data, legacyTable, args, timing),
    scanNew: (args) => scanSegmentPage(data, newTable, args, timing),
    legacy: new KeyReader(data, legacyTable, keyNames(m.legacyTable.key), { timing, concurrency }),
    fresh: new KeyReader(data, newTable, keyNames(m.newTable.key), { timing, concurrency }),
    repairNew: (write) => transactRepair(data, newTable, store, write, timing),
    tableStatus: (side) => tableStatus(o.client, side === VerifySide.LEGACY ? legacyTable : newTable),
    now: o.now ?? (() => Date.now()),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    settings: { ...DEFAULT_VERIFY_SETTINGS, ...o.settings },
    ...(o.metrics ? { metrics: o.metrics } : {}),
    ...(o.log ? { log: o.log } : {}),
  };
}

/** Builds the deployed handlers' dependencies from the environment. */
export function buildVerifyDeps(options: BuildVerifyOptions = {}): VerifyDeps {
  const e = envReader(VERIFY_ENV, options.env ?? process.env, {
    functionName: 'verification',
    error: (message) => new VerifyInputError(message),
  });
  const migration = migrationFromEnv(e, migrations, options.migration);
  const own = lambdaObservability(Service.VERIFY, migration.id);
  const tracer = functionTracer(Service.VERIFY);
  return verifyDepsFor({
    ...options,
    ...(options.client ? {} : { dataClient: traced(tracer, makeDynamoClient({ maxAttempts: 1 })) }),
    migration,
    client: options.client ?? traced(tracer, makeDynamoClient()),
    controlTableName: options.controlTableName ?? e.get('CONTROL_TABLE_NAME'),
    legacyTableName: options.legacyTableName ?? e.get('LEGACY_TABLE_NAME') ?? migration.legacyTable.tableName,
    newTableName: options.newTableName ?? e.get('NEW_TABLE_NAME') ?? migration.newTable.tableName,
    settings: {
      budgetMs: e.get('VERIFY_BUDGET_MS'),
      maxLagWaitMs: e.get('VERIFY_MAX_LAG_WAIT_MS'),
      ...options.settings,
    },
    metrics: options.metrics ?? (own.metrics as unknown as VerifyMetricsPort),
    log: options.log ?? own.logger,
  });
}
