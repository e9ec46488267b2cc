/**
 * Wiring of the deployed backfill handlers from the environment (local mode and tests build
 * `BackfillDeps` themselves, pointing at DynamoDB Local).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
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
import type { Migration } from '../../core/model';
import { type BackfillDeps, type BackfillSettingsDeps, DEFAULT_BACKFILL_SETTINGS } from './context';
import { backfillIo } from './io';

/** Environment variables the backfill functions read (set by lib/backfill.ts). */
export const BackfillEnv = {
  CONTROL_TABLE_NAME: 'CONTROL_TABLE_NAME',
  MIGRATION_ID: 'MIGRATION_ID',
  LEGACY_TABLE_NAME: 'LEGACY_TABLE_NAME',
  NEW_TABLE_NAME: 'NEW_TABLE_NAME',
  LEGACY_STREAM_ARN: 'LEGACY_STREAM_ARN',
  SYNC_FUNCTION_NAME: 'SYNC_FUNCTION_NAME',
  PAGE_BUDGET_MS: 'BACKFILL_PAGE_BUDGET_MS',
  WRITE_MODE: 'BACKFILL_WRITE_MODE',
  WRITE_CONCURRENCY: 'BACKFILL_WRITE_CONCURRENCY',
} as const;

/** Options of `buildBackfillDeps` (everything else comes from the environment). */
export interface BuildBackfillOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly client?: DynamoDBClient;
  readonly migration?: Migration;
  readonly cdcStatus?: CdcStatusPort;
  readonly settings?: Partial<BackfillSettingsDeps>;
  readonly writeMode?: WriteMode;
  readonly writeConcurrency?: number;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (!v)
    throw new BackfillInputError(
      `environment variable ${name} is not set; the backfill function is misconfigured`,
    );
  return v;
}

/** The migration named by MIGRATION_ID in the bundled definitions. */
export function migrationFromEnv(env: NodeJS.ProcessEnv, all: readonly Migration[] = migrations): Migration {
  const id = required(env, BackfillEnv.MIGRATION_ID);
  const m = all.find((x) => x.id === id);
  if (!m)
    throw new BackfillInputError(
      `migration "${id}" is not in the bundled definitions (${all.map((x) => x.id).join(', ')})`,
    );
  return m;
}

/** Builds the deployed handlers' dependencies. */
export function buildBackfillDeps(options: BuildBackfillOptions = {}): BackfillDeps {
  const env = options.env ?? process.env;
  const migration = options.migration ?? migrationFromEnv(env);
  const client = options.client ?? makeDynamoClient();
  const legacyTable = env[BackfillEnv.LEGACY_TABLE_NAME] ?? migration.legacyTable.tableName;
  const newTable = env[BackfillEnv.NEW_TABLE_NAME] ?? migration.newTable.tableName;
  const store = new ControlStore(client, required(env, BackfillEnv.CONTROL_TABLE_NAME), migration.id);
  const now = () => Date.now();
  // Only the preflight function checks CDC; the others need neither the variables nor the client.
  const cdcStatus: CdcStatusPort = options.cdcStatus ?? {
    check: () =>
      new EventSourceMappingCdcStatus({
        lambda: makeLambdaClient(),
        dynamo: client,
        syncFunctionName: required(env, BackfillEnv.SYNC_FUNCTION_NAME),
        legacyTableName: legacyTable,
        streamArn: required(env, BackfillEnv.LEGACY_STREAM_ARN),
        iteratorAge: frontierIteratorAge(store, now),
      }).check(),
  };
  const mode = (options.writeMode ?? env[BackfillEnv.WRITE_MODE] ?? 'partiql') as WriteMode;
  if (mode !== 'partiql' && mode !== 'put' && mode !== 'transact')
    throw new BackfillInputError(`${BackfillEnv.WRITE_MODE} must be partiql, put or transact, not ${mode}`);
  const budget = Number(env[BackfillEnv.PAGE_BUDGET_MS] ?? DEFAULT_BACKFILL_SETTINGS.pageBudgetMs);
  return {
    migration,
    store,
    cdcStatus,
    ...backfillIo({
      client,
      migration,
      legacyTableName: legacyTable,
      newTableName: newTable,
      controlTableName: required(env, BackfillEnv.CONTROL_TABLE_NAME),
      writeMode: mode,
      writeConcurrency: options.writeConcurrency ?? Number(env[BackfillEnv.WRITE_CONCURRENCY] ?? 16),
      now,
    }),
    now,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    settings: { ...DEFAULT_BACKFILL_SETTINGS, pageBudgetMs: budget, ...options.settings },
  };
}
