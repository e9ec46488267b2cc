/**
 * Table creation for local mode, examples and tests (deployed stacks create tables with CDK).
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ScanCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  type IndexDefinition,
  type Item,
  type KeyAttribute,
  type KeySchema,
  type Migration,
  keyNames,
} from '../core/model';
import { fromSdkItem } from './dynamodb';

/** Options of `createTable`. */
export interface CreateTableOptions {
  /** Enable a NEW_AND_OLD_IMAGES stream (legacy tables). @default false */
  readonly stream?: boolean;
  /** TTL attribute to enable (new tables: the tombstone expiry). */
  readonly ttlAttribute?: string;
  /** Succeed if the table already exists. @default false */
  readonly ifNotExists?: boolean;
  /** Secondary indexes (projection all), e.g. a migration's `newTable.indexes`. @default none */
  readonly indexes?: readonly IndexDefinition[];
}

function keySchemaElements(key: KeySchema): Array<{ AttributeName: string; KeyType: 'HASH' | 'RANGE' }> {
  return keyNames(key).map((name, i) => ({ AttributeName: name, KeyType: i === 0 ? 'HASH' : 'RANGE' }));
}

/** Creates an on-demand table with `key` and waits until it is active. Returns the stream ARN, if any. */
export async function createTable(
  client: DynamoDBClient,
  tableName: string,
  key: KeySchema,
  options: CreateTableOptions = {},
): Promise<{ streamArn?: string }> {
  const indexes = options.indexes ?? [];
  const attrs = new Map<string, KeyAttribute>();
  for (const k of [key, ...indexes.map((i) => i.key)])
    for (const a of [k.partitionKey, ...(k.sortKey ? [k.sortKey] : [])]) attrs.set(a.name, a);
  const projected = (ix: IndexDefinition) => ({
    IndexName: ix.name,
    KeySchema: keySchemaElements(ix.key),
    Projection: { ProjectionType: 'ALL' as const },
  });
  const globals = indexes.filter((i) => i.kind !== 'local').map(projected);
  const locals = indexes.filter((i) => i.kind === 'local').map(projected);
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [...attrs.values()].map((a) => ({
          AttributeName: a.name,
          AttributeType: a.type,
        })),
        KeySchema: keySchemaElements(key),
        ...(globals.length ? { GlobalSecondaryIndexes: globals } : {}),
        ...(locals.length ? { LocalSecondaryIndexes: locals } : {}),
        ...(options.stream
          ? { StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } }
          : {}),
      }),
    );
  } catch (err) {
    if (!(options.ifNotExists && err instanceof ResourceInUseException)) throw err;
  }
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName: tableName });
  if (options.ttlAttribute) {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: options.ttlAttribute, Enabled: true },
      }),
    );
  }
  const described = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const streamArn = described.Table?.LatestStreamArn;
  return streamArn ? { streamArn } : {};
}

/**
 * Creates a migration's two tables as local mode needs them: legacy with its stream and declared
 * indexes, new with its GSIs (the query surfaces read them) and the tombstone TTL attribute.
 */
export async function createMigrationTables(
  client: DynamoDBClient,
  migration: Pick<Migration, 'legacyTable' | 'newTable'>,
  options: { readonly ttlAttribute?: string; readonly ifNotExists?: boolean } = {},
): Promise<{ streamArn?: string }> {
  const [legacy] = await Promise.all([
    createTable(client, migration.legacyTable.tableName, migration.legacyTable.key, {
      stream: true,
      indexes: migration.legacyTable.indexes ?? [],
      ...(options.ifNotExists ? { ifNotExists: true } : {}),
    }),
    createTable(client, migration.newTable.tableName, migration.newTable.key, {
      indexes: migration.newTable.indexes,
      ...options,
    }),
  ]);
  return legacy;
}

/** The key schema of a control table: `pk` and `sk`, both strings (docs/design.md §3). */
export const CONTROL_TABLE_KEY: KeySchema = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
};

/** Every item of a table (all Scan pages): local mode's and the tests' view of a whole small table. */
export async function scanTable(client: DynamoDBClient, table: string): Promise<Item[]> {
  const out: Item[] = [];
  let start: Record<string, never> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    out.push(...(page.Items ?? []).map(fromSdkItem));
    start = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start);
  return out;
}
