/**
 * The rehearsal's set-up: the tables of a migration on DynamoDB Local (legacy, new, control), the seed
 * of legacy (synthetic items, or a team's own items from DynamoDB JSON lines) written BEFORE legacy's
 * stream exists — as in a real migration, where only the backfill sees the existing items — then the
 * stream.
 */
import { readFileSync } from 'node:fs';
import { type DynamoDBClient, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { CONTROL_TABLE_KEY, createTable } from '../../adapters/tables';
import {
  type Item,
  type Migration,
  InvalidValueError,
  canonicalItem,
  itemFromDynamoJson,
  keyOf,
  metadataNames,
} from '../../core/model';
import { DualReadError } from '../../core/common';

/** A `--data` file that cannot be used; the message names the line and what to fix. */
export class RehearsalDataError extends DualReadError {}

/**
 * Reads DynamoDB JSON lines, the line format of DynamoDB's export to S3 (`{"Item": {...}}` per line;
 * a bare item is accepted too). Every item must carry the legacy key; keys must be distinct.
 */
export function loadDynamoJsonLines(path: string, migration: Migration): Item[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RehearsalDataError(`cannot read --data file ${path}: ${(err as Error).message}`);
  }
  const items: Item[] = [];
  const seen = new Map<string, number>();
  const key = migration.legacyTable.key;
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    const where = `${path}:${i + 1}`;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (err) {
      throw new RehearsalDataError(
        `${where}: not JSON (${(err as Error).message}); each line must be {"Item": {...}}`,
      );
    }
    const raw =
      parsed && typeof parsed === 'object' && 'Item' in parsed ? (parsed as { Item: unknown }).Item : parsed;
    let item: Item;
    try {
      item = itemFromDynamoJson(raw, `${where} Item`);
    } catch (err) {
      if (err instanceof InvalidValueError) throw new RehearsalDataError(`${where}: ${err.message}`);
      throw err;
    }
    const parts = [key.partitionKey, ...(key.sortKey ? [key.sortKey] : [])];
    const missing = parts.find((k) => {
      const v = Object.hasOwn(item, k.name) ? item[k.name] : undefined;
      return v === undefined || !(k.type in v);
    });
    if (missing)
      throw new RehearsalDataError(
        `${where}: the item lacks the legacy key (${parts.map((k) => `${k.name}: ${k.type}`).join(', ')}) ` +
          `of migration "${migration.id}"; "${missing.name}" is missing or not of type ${missing.type}`,
      );
    const id = canonicalItem(keyOf(item, key));
    const first = seen.get(id);
    if (first !== undefined)
      throw new RehearsalDataError(`${where}: key ${id} repeats line ${first}; keys must be distinct`);
    seen.set(id, i + 1);
    items.push(item);
  });
  if (!items.length) throw new RehearsalDataError(`${path} holds no item; give one {"Item": {...}} per line`);
  return items;
}

/** The migration with its tables renamed by `prefix` (tests share one DynamoDB Local). */
export function withTablePrefix(migration: Migration, prefix: string | undefined): Migration {
  if (!prefix) return migration;
  return {
    ...migration,
    legacyTable: { ...migration.legacyTable, tableName: `${prefix}${migration.legacyTable.tableName}` },
    newTable: { ...migration.newTable, tableName: `${prefix}${migration.newTable.tableName}` },
  };
}

/** Creates legacy (no stream yet), new (tombstone TTL) and control. */
export async function createRehearsalTables(
  client: DynamoDBClient,
  migration: Migration,
  controlTableName: string,
): Promise<void> {
  await Promise.all([
    // With the declared indexes: the query surfaces read them (local/rehearsal/surface-reads.ts).
    createTable(client, migration.legacyTable.tableName, migration.legacyTable.key, {
      indexes: migration.legacyTable.indexes ?? [],
    }),
    createTable(client, migration.newTable.tableName, migration.newTable.key, {
      indexes: migration.newTable.indexes,
      ttlAttribute: metadataNames(migration.metadataPrefix).ttl,
    }),
    createTable(client, controlTableName, CONTROL_TABLE_KEY),
  ]);
}

/** Enables legacy's NEW_AND_OLD_IMAGES stream and returns its ARN. */
export async function enableLegacyStream(client: DynamoDBClient, tableName: string): Promise<string> {
  const out = await client.send(
    new UpdateTableCommand({
      TableName: tableName,
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  const arn = out.TableDescription?.LatestStreamArn;
  if (!arn) throw new DualReadError(`DynamoDB Local returned no stream ARN for ${tableName}`);
  return arn;
}
