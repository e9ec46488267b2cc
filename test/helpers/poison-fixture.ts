/**
 * What the poison integration tests share: the users mapping refusing some user ids (the "bug" a fix
 * removes), and a read handler over DynamoDB Local whose bounded GET of a user answers
 * `<status> <served-by> <route-reason>`, with a fresh frontier set in the control table before each read.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ControlStore } from '../../adapters/control-store';
import {
  ControlKey,
  type Item,
  type Migration,
  type MigrationState,
  type Phase,
  type PoisonPayload,
  initialState,
} from '../../core';
import type { PoisonResult } from '../../lambdas/backfill/poison';
import { waiveRecord } from '../../adapters/frontier-store';
import { localBackfillDeps, runLocalPoisonOperation, startLocalBackfill } from '../../local/backfill';
import type { LocalCdc } from '../../local/local-cdc';
import { createBackfillTables } from './backfill-tables';
import { enableStream, putItem, testClient, testEndpoint } from './dynamo';
import { startUsersCdc } from './users-tables';
import { usersMigration } from '../../examples/users/migration';
import { buildReadTarget } from '../../lambdas/read/deps';
import { makeReadHandler } from '../../lambdas/read/handler';
import { getItemEvent, TEST_TOKEN_SECRET } from './api-events';

/** The users mapping over `legacy`/`target`, refusing the user ids in `refused`. */
export function refusingMigration(legacy: string, target: string, refused: Set<string>): Migration {
  return {
    ...usersMigration,
    legacyTable: { ...usersMigration.legacyTable, tableName: legacy },
    newTable: { ...usersMigration.newTable, tableName: target },
    mapItem: (item) => {
      const id = (item.userId as { S: string }).S;
      if (refused.has(id)) throw new TypeError(`the mapping cannot handle user ${id} yet`);
      return usersMigration.mapItem(item);
    },
  };
}

/** A bounded GET of user `id`, answered as `<status> <served-by> <route-reason>`. */
export function boundedRoute(
  migration: Migration,
  control: string,
  store: ControlStore,
): (id: string) => Promise<string> {
  const read = makeReadHandler({
    tokenSecret: TEST_TOKEN_SECRET,
    targets: [
      buildReadTarget({
        migration: { ...migration, read: { ...migration.read, controlCacheMs: 0 } },
        controlTableName: control,
        endpoint: testEndpoint(),
      }),
    ],
    // Wait for the control read however loaded the machine is: these tests are about routing, not
    // about the 50 ms answer-from-legacy budget of an unloaded read path (CONTROL_UNAVAILABLE under load).
    options: { controlWaitMs: 30_000 },
  });
  return async (id) => {
    await store.putUnversioned(ControlKey.FRONTIER, {
      migrationId: migration.id,
      frontier: Date.now(),
      computedAt: Date.now(),
      shards: [],
      version: 1,
    });
    const r = await read(
      getItemEvent(migration.id, { userId: { S: id } }, { headers: { 'X-Consistency': 'bounded' } }),
    );
    return `${r.statusCode} ${String(r.headers?.['x-served-by'])} ${String(r.headers?.['x-route-reason'])}`;
  };
}

/** A poison scenario on DynamoDB Local: the tables, `users` users and the refused ones before the stream, CDC. */
export async function poisonScenario(
  client: DynamoDBClient,
  tag: string,
  o: { readonly users: number; readonly seeded: readonly string[]; readonly refused: Set<string> },
) {
  const { migration, legacy, control } = await createBackfillTables(client, tag, {
    migration: (l, t) => refusingMigration(l, t, o.refused),
    tombstoneTtl: true,
  });
  const user = (id: string): Item => ({ userId: { S: id }, fullName: { S: `User ${id}` } });
  for (let i = 0; i < o.users; i++) await putItem(client, legacy, user(`u${i}`));
  for (const id of o.seeded) await putItem(client, legacy, user(id));
  const cdc = await startUsersCdc(
    { migration, streamArn: await enableStream(client, legacy), controlTableName: control },
    { poller: { heartbeatMs: 200, pollIntervalMs: 20, maxRetryAttempts: 0 } },
  );
  const store = new ControlStore(client, control, migration.id);
  const deps = localBackfillDeps({ client, migration, controlTableName: control });
  const poisonOp = async (input: PoisonPayload) =>
    (await runLocalPoisonOperation(deps, input)) as PoisonResult;
  /** Runs the backfill to its end, then sets `phase` at 100 % rollout; STATE as the backfill left it. */
  const backfillThen = async (runId: string, phase: Phase): Promise<MigrationState | undefined> => {
    await startLocalBackfill(deps, { runId, totalSegments: 2 }).result;
    const after = await store.getState();
    const { version: _v, ...state } = after ?? initialState(migration.id, 0, Date.now());
    await store.changeState(
      after,
      { ...state, phase, rolloutPercent: 100, updatedAt: Date.now(), updatedBy: 'test' },
      { migrationId: migration.id, at: Date.now(), actor: 'test', action: 'set-phase', reason: 'test' },
      'phase',
    );
    return after;
  };
  /**
   * Writes user `id` to legacy (the mapping refuses it, so CDC dead-letters its INSERT) and waives the
   * dead-lettered record by `waiver`, naming the user's key, so the frontier can pass it.
   */
  const waiveRefusedWrite = async (id: string, waiver: { actor: string; reason: string }): Promise<void> => {
    await putItem(client, legacy, user(id));
    await cdc.poller.drain();
    const [seq] = cdc.deadLetters.sequenceNumbers();
    if (seq === undefined) throw new Error(`CDC dead-lettered no record of ${id}`);
    await waiveRecord(
      client,
      control,
      migration.id,
      seq,
      { ...waiver, at: Date.now() },
      { userId: { S: id } },
    );
  };
  return {
    migration,
    legacy,
    control,
    cdc,
    store,
    deps,
    user,
    poisonOp,
    backfillThen,
    waiveRefusedWrite,
    get: boundedRoute(migration, control, store),
  };
}

/**
 * One client for a describe block and the poison scenarios its tests set up: after all its tests, their
 * CDC pipelines are closed and the client destroyed.
 */
export function poisonScenarios(): {
  client: DynamoDBClient;
  scenario(
    ...args: Parameters<typeof poisonScenario> extends [DynamoDBClient, ...infer R] ? R : never
  ): ReturnType<typeof poisonScenario>;
} {
  const client = testClient();
  const pipelines: LocalCdc[] = [];
  afterAll(async () => {
    await Promise.all(pipelines.map((c) => c.close()));
    client.destroy();
  });
  return {
    client,
    async scenario(tag, o) {
      const sc = await poisonScenario(client, tag, o);
      pipelines.push(sc.cdc);
      return sc;
    },
  };
}
