/**
 * Wiring of the deployed verification handlers from the environment (local mode and tests build
 * `VerifyDeps` with `localVerifyDeps`, pointing at DynamoDB Local).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { migrations } from 'dualread-definitions';
import { type RetryTiming, realRetryTiming, scanSegmentPage, tableStatus } from '../../adapters/backfill-io';
import { ControlStore } from '../../adapters/control-store';
import { makeDynamoClient } from '../../adapters/dynamodb';
import { KeyReader, transactRepair } from '../../adapters/verify-io';
import { keyNames, type Migration } from '../../core/model';
import { VerifySide, VerifyInputError } from '../../core/verify';
import {
  DEFAULT_VERIFY_SETTINGS,
  type VerifyDeps,
  type VerifyMetricsPort,
  type VerifySettingsDeps,
} from './contract';

/** Environment variables the verification functions read (set by lib/verification.ts). */
export const VerifyEnv = {
  CONTROL_TABLE_NAME: 'CONTROL_TABLE_NAME',
  MIGRATION_ID: 'MIGRATION_ID',
  LEGACY_TABLE_NAME: 'LEGACY_TABLE_NAME',
  NEW_TABLE_NAME: 'NEW_TABLE_NAME',
  BUDGET_MS: 'VERIFY_BUDGET_MS',
  MAX_LAG_WAIT_MS: 'VERIFY_MAX_LAG_WAIT_MS',
} as const;

/** Options of `buildVerifyDeps` / `verifyDepsFor`. */
export interface BuildVerifyOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly client?: DynamoDBClient;
  readonly migration?: Migration;
  readonly controlTableName?: string;
  readonly legacyTableName?: string;
  readonly newTableName?: string;
  readonly settings?: Partial<VerifySettingsDeps>;
  readonly metrics?: VerifyMetricsPort;
  readonly timing?: RetryTiming;
  readonly now?: () => number;
  /** BatchGetItem requests in flight per page. @default 4 */
  readonly lookupConcurrency?: number;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (!v)
    throw new VerifyInputError(
      `environment variable ${name} is not set; the verification function is misconfigured`,
    );
  return v;
}

/** Dependencies over explicit tables and client (deployed, local mode and tests). */
export function verifyDepsFor(
  o: BuildVerifyOptions & { client: DynamoDBClient; migration: Migration; controlTableName: string },
): VerifyDeps {
  const m = o.migration;
  const legacyTable = o.legacyTableName ?? m.legacyTable.tableName;
  const newTable = o.newTableName ?? m.newTable.tableName;
  const timing = o.timing ?? realRetryTiming;
  const concurrency = o.lookupConcurrency ?? 4;
  const store = new ControlStore(o.client, o.controlTableName, m.id);
  return {
    migration: m,
    store,
    scanLegacy: (args) => scanSegmentPage(o.client, legacyTable, args, timing),
    scanNew: (args) => scanSegmentPage(o.client, newTable, args, timing),
    legacy: new KeyReader(o.client, legacyTable, keyNames(m.legacyTable.key), { timing, concurrency }),
    fresh: new KeyReader(o.client, newTable, keyNames(m.newTable.key), { timing, concurrency }),
    repairNew: (write) => transactRepair(o.client, newTable, store, write, timing),
    tableStatus: (side) => tableStatus(o.client, side === VerifySide.LEGACY ? legacyTable : newTable),
    now: o.now ?? (() => Date.now()),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    settings: { ...DEFAULT_VERIFY_SETTINGS, ...o.settings },
    ...(o.metrics ? { metrics: o.metrics } : {}),
  };
}

/** Builds the deployed handlers' dependencies from the environment. */
export function buildVerifyDeps(options: BuildVerifyOptions = {}): VerifyDeps {
  const env = options.env ?? process.env;
  const id = required(env, VerifyEnv.MIGRATION_ID);
  const migration = options.migration ?? (migrations as readonly Migration[]).find((x) => x.id === id);
  if (!migration)
    throw new VerifyInputError(`migration "${id}" is not in the bundled definitions file; redeploy with it`);
  const budget = env[VerifyEnv.BUDGET_MS];
  const lagWait = env[VerifyEnv.MAX_LAG_WAIT_MS];
  return verifyDepsFor({
    ...options,
    migration,
    client: options.client ?? makeDynamoClient(),
    controlTableName: options.controlTableName ?? required(env, VerifyEnv.CONTROL_TABLE_NAME),
    legacyTableName:
      options.legacyTableName ?? env[VerifyEnv.LEGACY_TABLE_NAME] ?? migration.legacyTable.tableName,
    newTableName: options.newTableName ?? env[VerifyEnv.NEW_TABLE_NAME] ?? migration.newTable.tableName,
    settings: {
      ...(budget ? { budgetMs: Number(budget) } : {}),
      ...(lagWait ? { maxLagWaitMs: Number(lagWait) } : {}),
      ...options.settings,
    },
    metrics:
      options.metrics ??
      (new Metrics({
        namespace: 'dualread',
        serviceName: 'dualread-verify',
        defaultDimensions: { migrationId: migration.id },
      }) as unknown as VerifyMetricsPort),
  });
}
