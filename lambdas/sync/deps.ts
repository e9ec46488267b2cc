/**
 * Dependencies of the sync Lambda from its environment (CONTROL_TABLE_NAME, MIGRATION_ID,
 * NEW_TABLE_NAME; optional TOMBSTONE_MARGIN_HOURS, ORDER_TOLERANCE_MS). Local mode and tests pass
 * `endpoint` (DynamoDB Local) and explicit names instead.
 */
import { migrations } from 'dualread-definitions';
import { ControlStore } from '../../adapters/control-store';
import { type DynamoEndpoint, makeDynamoClient } from '../../adapters/dynamodb';
import { NewTableWriter } from '../../adapters/new-table-writer';
import { Env, type EnvOverrides, envReader, migrationFromEnv } from '../common/env';
import type { SyncDeps } from './handler';
import { Service, functionTracer, traced } from '../common/observability';

/** Overrides of `buildSyncDeps` (local mode and tests). */
export interface SyncDepsOptions extends Pick<
  EnvOverrides,
  'env' | 'client' | 'migration' | 'controlTableName' | 'newTableName'
> {
  /** Where DynamoDB is when no `client` is given. */
  readonly endpoint?: DynamoEndpoint;
}

/** The sync function's variables (set by lib/stream-sync.ts). */
export const SYNC_ENV = {
  MIGRATION_ID: Env.text(),
  CONTROL_TABLE_NAME: Env.text(),
  /** @default the migration's new table */
  NEW_TABLE_NAME: Env.optionalText(),
  TOMBSTONE_MARGIN_HOURS: Env.nonNegativeNumber(),
  ORDER_TOLERANCE_MS: Env.nonNegativeNumber(),
} as const;

/** Builds the sync handler's dependencies. */
export function buildSyncDeps(options: SyncDepsOptions = {}): SyncDeps {
  const e = envReader(SYNC_ENV, options.env ?? process.env, { functionName: 'sync' });
  const migration = migrationFromEnv(e, migrations, options.migration);
  const client =
    options.client ?? traced(functionTracer(Service.SYNC), makeDynamoClient(options.endpoint ?? {}));
  const margin = e.get('TOMBSTONE_MARGIN_HOURS');
  const tolerance = e.get('ORDER_TOLERANCE_MS');
  return {
    migration,
    writer: new NewTableWriter(
      client,
      options.newTableName ?? e.get('NEW_TABLE_NAME') ?? migration.newTable.tableName,
    ),
    control: new ControlStore(client, options.controlTableName ?? e.get('CONTROL_TABLE_NAME'), migration.id),
    now: () => Date.now(),
    ...(margin !== undefined ? { tombstoneMarginMs: margin * 3600_000 } : {}),
    ...(tolerance !== undefined ? { orderToleranceMs: tolerance } : {}),
  };
}
