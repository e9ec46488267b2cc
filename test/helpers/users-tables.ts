/**
 * Fresh tables of the example users migration on the shared DynamoDB Local, as the CDC and frontier
 * integration tests use them: a legacy table with its stream, a new table and a control table, each
 * uniquely named, and the migration pointed at them; and the local CDC pipeline over them.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CONTROL_TABLE_KEY, createTable } from '../../adapters/tables';
import { type Migration, metadataNames } from '../../core/model';
import { usersMigration } from '../../examples/users/migration';
import { type LocalCdc, type LocalCdcOptions, startLocalCdc } from '../../local/local-cdc';
import { LegacyWorkload, type WorkloadOptions } from '../../local/workload';
import { testClient, testEndpoint, uniqueName } from './dynamo';

/** The tables of one test and the migration over them. */
export interface UsersTables {
  readonly migration: Migration;
  readonly streamArn: string;
  readonly controlTableName: string;
}

/** Options of `createUsersTables`. */
export interface UsersTablesOptions {
  /** The new table expires tombstones by `_dr_ttl`. @default false */
  readonly tombstoneTtl?: boolean;
  /** Replaces the example's transforms (a mapping that refuses some items, say). */
  readonly mapItem?: Migration['mapItem'];
}

/** Creates `<tag>-legacy` (with a stream), `<tag>-new` and `<tag>-control`, uniquely named. */
export async function createUsersTables(
  client: DynamoDBClient,
  tag: string,
  options: UsersTablesOptions = {},
): Promise<UsersTables> {
  const migration: Migration = {
    ...usersMigration,
    legacyTable: { ...usersMigration.legacyTable, tableName: uniqueName(`${tag}-legacy`) },
    newTable: { ...usersMigration.newTable, tableName: uniqueName(`${tag}-new`) },
    ...(options.mapItem ? { mapItem: options.mapItem } : {}),
  };
  const controlTableName = uniqueName(`${tag}-control`);
  const { streamArn } = await createTable(
    client,
    migration.legacyTable.tableName,
    migration.legacyTable.key,
    { stream: true, indexes: migration.legacyTable.indexes ?? [] },
  );
  await createTable(client, migration.newTable.tableName, migration.newTable.key, {
    indexes: migration.newTable.indexes,
    ...(options.tombstoneTtl ? { ttlAttribute: metadataNames(migration.metadataPrefix).ttl } : {}),
  });
  await createTable(client, controlTableName, CONTROL_TABLE_KEY);
  if (!streamArn) throw new Error('no stream');
  return { migration, streamArn, controlTableName };
}

/** The local CDC pipeline (`startLocalCdc`: the local event source and the real sync handler) over `t`. */
export function startUsersCdc(
  t: UsersTables,
  options: Omit<LocalCdcOptions, 'endpoint' | 'migration' | 'streamArn' | 'controlTableName'> = {},
): Promise<LocalCdc> {
  return startLocalCdc({
    endpoint: testEndpoint(),
    migration: t.migration,
    streamArn: t.streamArn,
    controlTableName: t.controlTableName,
    ...options,
  });
}

/**
 * One client for a describe block and the CDC pipelines its tests start: after all its tests, the
 * pipelines are closed and the client destroyed.
 */
export function cdcPipelines(): { client: DynamoDBClient; pipelines: LocalCdc[] } {
  const client = testClient();
  const pipelines: LocalCdc[] = [];
  afterAll(async () => {
    await Promise.all(pipelines.map((c) => c.close()));
    client.destroy();
  });
  return { client, pipelines };
}

/** A recorded workload of application writes on `migration`'s legacy table, through `client`. */
export function legacyWorkload(
  client: DynamoDBClient,
  migration: Migration,
  options: Omit<WorkloadOptions, 'client' | 'tableName' | 'key'>,
): LegacyWorkload {
  return new LegacyWorkload({
    client,
    tableName: migration.legacyTable.tableName,
    key: migration.legacyTable.key,
    ...options,
  });
}
