/**
 * Fresh tables of one backfill integration test on the shared DynamoDB Local: a legacy table WITHOUT
 * a stream (the test writes the items only the backfill can copy, then enables it: `enableStream`), a
 * new table and a control table, each uniquely named, and the migration pointed at them.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CONTROL_TABLE_KEY, createTable } from '../../adapters/tables';
import { type Migration, metadataNames } from '../../core/model';
import { usersMigration } from '../../examples/users/migration';
import { uniqueName } from './dynamo';

/** The tables of one test and the migration over them. */
export interface BackfillTables {
  readonly migration: Migration;
  readonly legacy: string;
  readonly target: string;
  readonly control: string;
}

/** Options of `createBackfillTables`. */
export interface BackfillTablesOptions {
  /** The migration over the two tables. @default the example users migration */
  readonly migration?: (legacy: string, target: string) => Migration;
  /** The new table expires tombstones by `_dr_ttl`. @default false */
  readonly tombstoneTtl?: boolean;
}

/** The example users migration over `legacy` and `target`. */
export function usersMigrationOver(legacy: string, target: string): Migration {
  return {
    ...usersMigration,
    legacyTable: { ...usersMigration.legacyTable, tableName: legacy },
    newTable: { ...usersMigration.newTable, tableName: target },
  };
}

/** Creates `<tag>-legacy` (no stream yet), `<tag>-new` and `<tag>-control`, uniquely named. */
export async function createBackfillTables(
  client: DynamoDBClient,
  tag: string,
  options: BackfillTablesOptions = {},
): Promise<BackfillTables> {
  const legacy = uniqueName(`${tag}-legacy`);
  const target = uniqueName(`${tag}-new`);
  const control = uniqueName(`${tag}-control`);
  const migration = (options.migration ?? usersMigrationOver)(legacy, target);
  await createTable(client, legacy, migration.legacyTable.key);
  await createTable(
    client,
    target,
    migration.newTable.key,
    options.tombstoneTtl ? { ttlAttribute: metadataNames(migration.metadataPrefix).ttl } : {},
  );
  await createTable(client, control, CONTROL_TABLE_KEY);
  return { migration, legacy, target, control };
}
