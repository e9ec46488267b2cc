/**
 * Wiring of the read handler from the environment (deployed Lambda) or from explicit endpoints
 * (local mode, tests, benchmarks).
 */
import { ControlStore } from '../../adapters/control-store';
import { type DynamoEndpoint, makeDynamoClient } from '../../adapters/dynamodb';
import { DynamoItemStore } from '../../adapters/item-store';
import { secretsManagerSecret } from '../../adapters/secrets';
import { ShadowCounters } from '../../adapters/shadow-counters';
import type { Migration } from '../../core/model';
import { Env, envReader, migrationNamed } from '../common/env';
import type { ReadOptions, ReadTarget } from './engine';
import type { ReadDeps } from './handler';
import { PowertoolsReadTelemetry } from './telemetry';
import { Service, functionTracer, traced } from '../common/observability';

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
  const tracer = functionTracer(Service.READ);
  const client = traced(tracer, makeDynamoClient({ ...w.endpoint, maxAttempts: 1 }));
  const newClient = w.newEndpoint
    ? traced(tracer, makeDynamoClient({ ...w.newEndpoint, maxAttempts: 1 }))
    : client;
  return {
    migration: w.migration,
    legacy: new DynamoItemStore(client, w.legacyTableName ?? w.migration.legacyTable.tableName),
    fresh: new DynamoItemStore(newClient, w.newTableName ?? w.migration.newTable.tableName),
    control: new ControlStore(client, w.controlTableName, w.migration.id),
    counters: new ShadowCounters(client, w.controlTableName, w.migration.id),
  };
}

/** The read function's variables (set by lib/read-api.ts). */
export const READ_ENV = {
  CONTROL_TABLE_NAME: Env.text(),
  /** @default every migration of the definitions */
  MIGRATION_ID: Env.optionalText(),
  // Table names, used with a single migration (default: the migration's).
  LEGACY_TABLE_NAME: Env.optionalText(),
  NEW_TABLE_NAME: Env.optionalText(),
  /** The page-token secret's ARN (Secrets Manager); the secret itself is never in the environment. */
  PAGE_TOKEN_SECRET_ARN: Env.text(),
  // Tunables (default: the engine's, `ReadOptions`).
  READ_NEW_TIMEOUT_MS: Env.nonNegativeNumber(),
  READ_LEGACY_TIMEOUT_MS: Env.nonNegativeNumber(),
  READ_HEDGE_AFTER_MS: Env.nonNegativeNumber(),
  READ_DECISION_LOG_SAMPLE_RATE: Env.nonNegativeNumber(),
  READ_CONTROL_WAIT_MS: Env.nonNegativeNumber(),
  READ_CONTROL_REFRESH_TIMEOUT_MS: Env.nonNegativeNumber(),
} as const;

/**
 * Deps of the deployed read Lambda: `CONTROL_TABLE_NAME`, `MIGRATION_ID` (one of `migrations`),
 * optional `LEGACY_TABLE_NAME`/`NEW_TABLE_NAME` overrides, `PAGE_TOKEN_SECRET_ARN` (read with Powertools
 * Parameters, cached 5 minutes), and tunables
 * `READ_NEW_TIMEOUT_MS`, `READ_LEGACY_TIMEOUT_MS`, `READ_HEDGE_AFTER_MS`, `READ_DECISION_LOG_SAMPLE_RATE`,
 * `READ_CONTROL_WAIT_MS`, `READ_CONTROL_REFRESH_TIMEOUT_MS`.
 */
export function buildReadDeps(
  migrations: readonly Migration[],
  env: NodeJS.ProcessEnv = process.env,
): ReadDeps {
  const e = envReader(READ_ENV, env, { functionName: 'read' });
  const controlTableName = e.get('CONTROL_TABLE_NAME');
  const id = e.get('MIGRATION_ID');
  const selected = id === undefined ? migrations : [migrationNamed(e, migrations, id)];
  const options: Partial<ReadOptions> = {};
  const set = <K extends keyof ReadOptions>(k: K, v: ReadOptions[K] | undefined): void => {
    if (v !== undefined) (options as Record<string, unknown>)[k] = v;
  };
  set('newTimeoutMs', e.get('READ_NEW_TIMEOUT_MS'));
  set('legacyTimeoutMs', e.get('READ_LEGACY_TIMEOUT_MS'));
  set('hedgeAfterMs', e.get('READ_HEDGE_AFTER_MS'));
  set('decisionLogSampleRate', e.get('READ_DECISION_LOG_SAMPLE_RATE'));
  set('controlWaitMs', e.get('READ_CONTROL_WAIT_MS'));
  set('controlRefreshTimeoutMs', e.get('READ_CONTROL_REFRESH_TIMEOUT_MS'));
  const legacyTableName = e.get('LEGACY_TABLE_NAME');
  const newTableName = e.get('NEW_TABLE_NAME');
  return {
    targets: selected.map((migration) =>
      buildReadTarget({
        migration,
        controlTableName,
        ...(selected.length === 1 && legacyTableName ? { legacyTableName } : {}),
        ...(selected.length === 1 && newTableName ? { newTableName } : {}),
      }),
    ),
    telemetry: new PowertoolsReadTelemetry(),
    options,
    tokenSecret: secretsManagerSecret(e.get('PAGE_TOKEN_SECRET_ARN')),
  };
}
