/**
 * Fixtures of the read API tests on DynamoDB Local: uniquely named tables for a migration, items
 * written to new as CDC would write them, control state (STATE, FRONTIER) set directly, the read
 * handler over a fixture, and the users example's seeded fixture.
 */
import { TEST_TOKEN_SECRET } from './api-events';
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ControlStore } from '../../adapters/control-store';
import { toSdkItem } from '../../adapters/dynamodb';
import { CONTROL_TABLE_KEY, createTable } from '../../adapters/tables';
import {
  BackfillStatus,
  ControlKey,
  type MigrationState,
  type Phase,
  initialState,
} from '../../core/control';
import {
  metadataNames,
  padSequence,
  type Migration,
  type MigrationInput,
  defineMigration,
  keyOf,
  type AttributeValue,
  type Item,
} from '../../core/model';
import { DYNAMODB_LOCAL_CREATION_GRANULARITY_MS } from '../../core/frontier';
import { usersMigration } from '../../examples/users/migration';
import { buildFrontierTracker } from '../../lambdas/frontier/deps';
import { buildReadTarget } from '../../lambdas/read/deps';
import { type ReadDeps, type ReadHandler, makeReadHandler } from '../../lambdas/read/handler';
import { startLocalCdc } from '../../local/local-cdc';
import { testClient, testEndpoint, uniqueName } from './dynamo';
import { waitUntil } from './wait';

/** A migration with a legacy sort key whose mapping keeps the sort key (queries map onto new). */
export function ordersMigration(over: Partial<MigrationInput> = {}): Migration {
  return defineMigration({
    id: 'orders',
    legacyTable: {
      tableName: 'orders',
      key: { partitionKey: { name: 'customer', type: 'S' }, sortKey: { name: 'orderNo', type: 'N' } },
    },
    newTable: {
      tableName: 'orders-v2',
      key: { partitionKey: { name: 'PK', type: 'S' }, sortKey: { name: 'SK', type: 'N' } },
    },
    mapKey: (k) => ({ PK: { S: `C#${(k.customer as { S: string }).S}` }, SK: k.orderNo as AttributeValue }),
    mapItem: (i) => {
      const { customer, orderNo, ...rest } = i;
      return { PK: { S: `C#${(customer as { S: string }).S}` }, SK: orderNo as AttributeValue, ...rest };
    },
    unmapItem: (i) => {
      const { PK, SK, ...rest } = i;
      return { customer: { S: (PK as { S: string }).S.slice(2) }, orderNo: SK as AttributeValue, ...rest };
    },
    ...over,
  });
}

/** A migration renamed onto fresh, uniquely named tables (created here), with its control table. */
export interface ReadFixture {
  readonly migration: Migration;
  readonly controlTableName: string;
  readonly client: DynamoDBClient;
  readonly control: ControlStore;
  readonly streamArn?: string;
  putLegacy(item: Item): Promise<void>;
  /** Writes `mapItem(item)` to new with CDC metadata, as the sync Lambda would. */
  putNew(item: Item, seq?: string): Promise<void>;
  /** Writes `item` to new as is (another entity type of a single-table design). */
  putNewRaw(item: Item): Promise<void>;
  /** Writes a tombstone for the legacy key to new. */
  putTombstone(legacyKey: Item, seq?: string): Promise<void>;
  setState(phase: Phase, options?: { rolloutPercent?: number; backfillComplete?: boolean }): Promise<void>;
  setFrontier(frontier: number): Promise<void>;
  destroy(): void;
}

let seqCounter = 1000;

/** Creates the tables of `base` under unique names. `read` overrides the migration's read settings. */
export async function readFixture(
  base: Migration,
  read: Partial<Migration['read']> = {},
  options: { stream?: boolean } = {},
): Promise<ReadFixture> {
  const client = testClient();
  const migration: Migration = {
    ...base,
    legacyTable: { ...base.legacyTable, tableName: uniqueName(`${base.id}-legacy`) },
    newTable: { ...base.newTable, tableName: uniqueName(`${base.id}-new`) },
    read: { ...base.read, ...read },
  };
  const controlTableName = uniqueName(`${base.id}-control`);
  const names = metadataNames(migration.metadataPrefix);
  const [{ streamArn }] = await Promise.all([
    createTable(client, migration.legacyTable.tableName, migration.legacyTable.key, {
      stream: options.stream ?? false,
      indexes: migration.legacyTable.indexes ?? [],
    }),
    createTable(client, migration.newTable.tableName, migration.newTable.key, {
      indexes: migration.newTable.indexes,
    }),
    createTable(client, controlTableName, CONTROL_TABLE_KEY),
  ]);
  const control = new ControlStore(client, controlTableName, migration.id);
  let state: MigrationState | undefined;
  const put = async (table: string, item: Item): Promise<void> => {
    await client.send(new PutItemCommand({ TableName: table, Item: toSdkItem(item) }));
  };
  const meta = (seq: string | undefined): Item => ({
    [names.seq]: { S: padSequence(seq ?? String(seqCounter++)) },
    [names.src]: { S: 'cdc' },
    [names.ts]: { N: String(Date.now()) },
  });
  return {
    migration,
    controlTableName,
    client,
    control,
    ...(streamArn ? { streamArn } : {}),
    putLegacy: (item) => put(migration.legacyTable.tableName, item),
    putNew: (item, seq) => put(migration.newTable.tableName, { ...migration.mapItem(item), ...meta(seq) }),
    putNewRaw: (item) => put(migration.newTable.tableName, item),
    putTombstone: (legacyKey, seq) =>
      put(migration.newTable.tableName, {
        ...migration.mapKey(keyOf(legacyKey, migration.legacyTable.key)),
        ...meta(seq),
        [names.del]: { BOOL: true },
      }),
    async setState(phase, o = {}) {
      const next = {
        ...(state ?? initialState(migration.id, 0, Date.now())),
        phase,
        rolloutPercent: o.rolloutPercent ?? 100,
        backfill: { status: o.backfillComplete ? BackfillStatus.COMPLETE : BackfillStatus.RUNNING },
        updatedAt: Date.now(),
        updatedBy: 'test',
      };
      const { version: _v, ...rest } = next;
      state = await control.changeState(
        state,
        rest,
        { migrationId: migration.id, at: Date.now(), actor: 'test', action: 'set', reason: 'test setup' },
        `${Date.now()}-${Math.random().toString(36).slice(2)}`,
      );
    },
    async setFrontier(frontier) {
      await control.putUnversioned(ControlKey.FRONTIER, {
        migrationId: migration.id,
        frontier,
        computedAt: Date.now(),
        shards: [],
        version: 1,
      });
    },
    destroy: () => client.destroy(),
  };
}

/** The read target (stores, control, counters) over a fixture's tables; `newEndpoint` as in `handlerFor`. */
export function readTargetFor(
  f: ReadFixture,
  newEndpoint?: Parameters<typeof buildReadTarget>[0]['newEndpoint'],
): ReturnType<typeof buildReadTarget> {
  return buildReadTarget({
    migration: f.migration,
    controlTableName: f.controlTableName,
    endpoint: testEndpoint(),
    ...(newEndpoint ? { newEndpoint } : {}),
  });
}

/** The read handler over a fixture's tables; `newEndpoint` points the new table elsewhere (a dead port). */
export function handlerFor(
  f: ReadFixture,
  over: Partial<ReadDeps> = {},
  newEndpoint?: Parameters<typeof buildReadTarget>[0]['newEndpoint'],
): ReadHandler {
  return makeReadHandler({
    tokenSecret: TEST_TOKEN_SECRET,
    targets: [readTargetFor(f, newEndpoint)],
    ...over,
    // Tests that set control state and read at once wait for the control read however slow DynamoDB
    // Local is (the bounded wait itself is tested in test/unit/read/control-cache.test.ts).
    options: { controlWaitMs: 30_000, ...over.options },
  });
}

/** CDC and the frontier tracker running over a fixture's tables, until `stop`. */
export interface LiveCdc {
  /** Stops the tracker loop (after its current step) and closes CDC. */
  stop(): Promise<void>;
}

/**
 * The local CDC pipeline over a fixture made `{ stream: true }` (the real sync handler, from the
 * stream's start) and the real frontier tracker stepping every 300 ms until `stop` (not for a fixed
 * time; a failed step is retried by the next one), so F is published as CDC applies.
 */
export async function startLiveCdc(f: ReadFixture): Promise<LiveCdc> {
  const endpoint = testEndpoint();
  const streamArn = f.streamArn as string;
  const cdc = await startLocalCdc({
    endpoint,
    migration: f.migration,
    streamArn,
    controlTableName: f.controlTableName,
    poller: { batchSize: 25, pollIntervalMs: 50 },
  });
  const { tracker } = buildFrontierTracker({
    endpoint,
    migration: f.migration,
    controlTableName: f.controlTableName,
    streamArn,
    env: {},
    config: { creationGranularityMs: DYNAMODB_LOCAL_CREATION_GRANULARITY_MS, itemEvidenceAfterMs: 2000 },
  });
  let tracking = true;
  const trackerLoop = (async () => {
    while (tracking) {
      await tracker.step().catch(() => undefined);
      await new Promise<void>((r) => setTimeout(r, 300));
    }
  })();
  return {
    async stop() {
      tracking = false;
      await trackerLoop;
      await cdc.close();
    },
  };
}

/**
 * Waits until the frontier published for a fixture, minus the clock-skew margin, is past `t` (the ack
 * time of the last write, say), so bounded reads may be served by new; `detail` says where the test
 * stands if the 90 s guard runs out.
 */
export async function waitFrontierPast(f: ReadFixture, t: number, detail?: () => string): Promise<void> {
  await waitUntil(
    'F − skew past the last write',
    async () => ((await f.control.getFrontier())?.frontier ?? 0) - f.migration.read.clockSkewMs > t,
    { timeoutMs: 90_000, intervalMs: 200, ...(detail ? { detail } : {}) },
  );
}

/** A number of 38 digits: no JS number holds it. */
export const BIG = '12345678901234567890123456789012345678';

/** A user of the users example, with a full-precision number. */
export const user = (id: string, extra: Item = {}): Item => ({
  userId: { S: id },
  fullName: { S: `User ${id}` },
  big: { N: BIG },
  ...extra,
});

/**
 * The users example on fresh tables, control cache off, holding: u-1 in legacy and in new (new's
 * copy marked `from-new`), u-2 in legacy only, a tombstone of u-3 in new, u-4 in legacy only.
 */
export async function usersFixture(): Promise<ReadFixture> {
  const f = await readFixture(usersMigration, { controlCacheMs: 0 });
  await f.putLegacy(user('u-1'));
  await f.putNew(user('u-1', { marker: { S: 'from-new' } }));
  await f.putLegacy(user('u-2'));
  await f.putTombstone({ userId: { S: 'u-3' } });
  await f.putLegacy(user('u-4'));
  return f;
}

/** The users fixture and a read handler over it, for the tests of one `describe`. */
export interface UsersApi {
  readonly f: ReadFixture;
  readonly handler: ReadHandler;
}

/**
 * Sets up `usersFixture` and its handler before the enclosing describe's tests and destroys it after
 * them; the members are there once its tests run.
 */
export function usersApi(over: Partial<ReadDeps> = {}): UsersApi {
  const api = {} as { f: ReadFixture; handler: ReadHandler };
  beforeAll(async () => {
    api.f = await usersFixture();
    api.handler = handlerFor(api.f, over);
  });
  afterAll(() => api.f.destroy());
  return api;
}
