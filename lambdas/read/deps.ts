/**
 * Wiring of the read handler from the environment (deployed Lambda) or from explicit endpoints
 * (local mode, tests, benchmarks).
 */
import { ControlStore } from '../../adapters/control-store';
import { type DynamoEndpoint, makeDynamoClient } from '../../adapters/dynamodb';
import { DynamoItemStore } from '../../adapters/item-store';
import type { Migration } from '../../core/model';
import type { ReadOptions, ReadTarget } from './engine';
import type { ReadDeps } from './handler';
import { PowertoolsReadTelemetry } from './telemetry';

/** Where each store lives. `newEndpoint` lets tests point the new table somewhere else (e.g. a dead port). */
export interface ReadWiring {
  readonly migration: Migration;
  readonly controlTableName: string;
  readonly endpoint?: DynamoEndpoint;
  readonly newEndpoint?: DynamoEndpoint;
  /** Table names (default: the migration's). */
  readonly legacyTableName?: string;
  readonly newTableName?: string;
}

/**
 * One read target with its own clients. The SDK makes a single attempt (`maxAttempts: 1`): the
 * engine owns retries (bounded by attempts, the per-store timeout and a retry budget), so a failing
 * store is seen quickly by the breaker and retries cannot multiply.
 */
export function buildReadTarget(w: ReadWiring): ReadTarget {
  const client = makeDynamoClient({ ...w.endpoint, maxAttempts: 1 });
  const newClient = w.newEndpoint ? makeDynamoClient({ ...w.newEndpoint, maxAttempts: 1 }) : client;
  return {
    migration: w.migration,
    legacy: new DynamoItemStore(client, w.legacyTableName ?? w.migration.legacyTable.tableName),
    fresh: new DynamoItemStore(newClient, w.newTableName ?? w.migration.newTable.tableName),
    control: new ControlStore(client, w.controlTableName, w.migration.id),
  };
}

function numberEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0)
    throw new Error(`environment variable ${name}="${v}" must be a non-negative number`);
  return n;
}

/**
 * Deps of the deployed read Lambda: `CONTROL_TABLE_NAME`, `MIGRATION_ID` (one of `migrations`),
 * optional `LEGACY_TABLE_NAME`/`NEW_TABLE_NAME` overrides, `PAGE_TOKEN_SECRET`, and tunables
 * `READ_NEW_TIMEOUT_MS`, `READ_LEGACY_TIMEOUT_MS`, `READ_HEDGE_AFTER_MS`, `READ_DECISION_LOG_SAMPLE_RATE`,
 * `READ_CONTROL_WAIT_MS`, `READ_CONTROL_REFRESH_TIMEOUT_MS`.
 */
export function buildReadDeps(
  migrations: readonly Migration[],
  env: NodeJS.ProcessEnv = process.env,
): ReadDeps {
  const controlTableName = env.CONTROL_TABLE_NAME;
  if (!controlTableName) throw new Error('CONTROL_TABLE_NAME is not set');
  const id = env.MIGRATION_ID;
  const selected = id ? migrations.filter((m) => m.id === id) : migrations;
  if (selected.length === 0)
    throw new Error(
      `MIGRATION_ID "${id}" is not in the definitions (${migrations.map((m) => m.id).join(', ')})`,
    );
  const options: Partial<ReadOptions> = {};
  const set = <K extends keyof ReadOptions>(k: K, v: ReadOptions[K] | undefined): void => {
    if (v !== undefined) (options as Record<string, unknown>)[k] = v;
  };
  set('newTimeoutMs', numberEnv(env, 'READ_NEW_TIMEOUT_MS'));
  set('legacyTimeoutMs', numberEnv(env, 'READ_LEGACY_TIMEOUT_MS'));
  set('hedgeAfterMs', numberEnv(env, 'READ_HEDGE_AFTER_MS'));
  set('decisionLogSampleRate', numberEnv(env, 'READ_DECISION_LOG_SAMPLE_RATE'));
  set('controlWaitMs', numberEnv(env, 'READ_CONTROL_WAIT_MS'));
  set('controlRefreshTimeoutMs', numberEnv(env, 'READ_CONTROL_REFRESH_TIMEOUT_MS'));
  set('tokenSecret', env.PAGE_TOKEN_SECRET || undefined);
  return {
    targets: selected.map((migration) =>
      buildReadTarget({
        migration,
        controlTableName,
        ...(selected.length === 1 && env.LEGACY_TABLE_NAME ? { legacyTableName: env.LEGACY_TABLE_NAME } : {}),
        ...(selected.length === 1 && env.NEW_TABLE_NAME ? { newTableName: env.NEW_TABLE_NAME } : {}),
      }),
    ),
    telemetry: new PowertoolsReadTelemetry(),
    options,
  };
}
