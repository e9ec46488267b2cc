/**
 * Dependencies of the sync Lambda from its environment (CONTROL_TABLE_NAME, MIGRATION_ID,
 * NEW_TABLE_NAME; optional TOMBSTONE_MARGIN_HOURS, ORDER_TOLERANCE_MS). Local mode and tests pass
 * `endpoint` (DynamoDB Local) and explicit names instead.
 */
import { migrations } from 'dualread-definitions';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ControlStore } from '../../adapters/control-store';
import { type DynamoEndpoint, makeDynamoClient } from '../../adapters/dynamodb';
import { NewTableWriter } from '../../adapters/new-table-writer';
import type { Migration } from '../../core/model';
import type { SyncDeps } from './handler';

/** Overrides of `buildSyncDeps` (local mode and tests). */
export interface SyncDepsOptions {
  readonly endpoint?: DynamoEndpoint;
  /** A client to use (the caller owns it); otherwise one is built for `endpoint`. */
  readonly client?: DynamoDBClient;
  readonly migration?: Migration;
  readonly controlTableName?: string;
  readonly newTableName?: string;
  readonly env?: NodeJS.ProcessEnv;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (!v) throw new Error(`environment variable ${name} is not set; the stack sets it on the sync function`);
  return v;
}

function optionalNumber(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    throw new Error(
      `environment variable ${name} must be a non-negative number, not "${v}"; fix the stack's setting`,
    );
  }
  return n;
}

/** Builds the sync handler's dependencies. */
export function buildSyncDeps(options: SyncDepsOptions = {}): SyncDeps {
  const env = options.env ?? process.env;
  const migrationId = options.migration?.id ?? required(env, 'MIGRATION_ID');
  const migration =
    options.migration ?? (migrations as readonly Migration[]).find((m) => m.id === migrationId);
  if (!migration) {
    throw new Error(`migration "${migrationId}" is not in the bundled definitions file; redeploy with it`);
  }
  const client = options.client ?? makeDynamoClient(options.endpoint ?? {});
  const margin = optionalNumber(env, 'TOMBSTONE_MARGIN_HOURS');
  const tolerance = optionalNumber(env, 'ORDER_TOLERANCE_MS');
  return {
    migration,
    writer: new NewTableWriter(
      client,
      options.newTableName ?? env.NEW_TABLE_NAME ?? migration.newTable.tableName,
    ),
    control: new ControlStore(
      client,
      options.controlTableName ?? required(env, 'CONTROL_TABLE_NAME'),
      migration.id,
    ),
    now: () => Date.now(),
    ...(margin !== undefined ? { tombstoneMarginMs: margin * 3600_000 } : {}),
    ...(tolerance !== undefined ? { orderToleranceMs: tolerance } : {}),
  };
}
