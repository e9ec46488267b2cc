/**
 * Keys pinned to legacy end to end on DynamoDB Local (core/backfill/poison.ts): an operator pins
 * unresolved keys (a backfill poison item, a waived dead-lettered record's key); the backfill is then
 * COMPLETE with STATE's pins and `backfill.pinned` honest, every read of a pinned key is served by
 * legacy, each pin is audited with actor and reason; a retry settles a pin once its item is removed
 * from legacy (absent-in-legacy) or the mapping is fixed (copied), and a waiver settles it too.
 *
 * Real parts: the backfill state machine and handlers, the local CDC pipeline, the read handler. The
 * frontier is set in the control table (what it would publish).
 */
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { ControlStore } from '../../../adapters/control-store';
import { PoisonRegistry, type StoredPoison } from '../../../adapters/poison-registry';
import { toSdkItem } from '../../../adapters/dynamodb';
import { waiveRecord } from '../../../adapters/frontier-store';
import {
  BackfillStatus,
  ControlKey,
  type Item,
  type Migration,
  Phase,
  type PoisonPayload,
  MAX_PINS,
  initialState,
  poisonKeyHash,
} from '../../../core';
import { usersMigration } from '../../../examples/users/migration';
import type { PoisonResult } from '../../../lambdas/backfill/poison';
import { buildReadTarget } from '../../../lambdas/read/deps';
import { makeReadHandler } from '../../../lambdas/read/handler';
import { localBackfillDeps, runLocalPoisonOperation, startLocalBackfill } from '../../../local/backfill';
import type { LocalCdc } from '../../../local/local-cdc';
import { getItemEvent, TEST_TOKEN_SECRET } from '../../helpers/api-events';
import { createBackfillTables } from '../../helpers/backfill-tables';
import { enableStream, putItem, testClient, testEndpoint } from '../../helpers/dynamo';
import { startUsersCdc } from '../../helpers/users-tables';

function refusingMigration(legacy: string, target: string, refused: Set<string>): Migration {
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

describe('Integration: keys pinned to legacy', () => {
  const client = testClient();
  let cdc: LocalCdc | undefined;
  afterAll(async () => {
    await cdc?.close();
    client.destroy();
  });

  it('completes the backfill with the keys pinned, serves them from legacy, and settles each pin by retry or waiver', async () => {
    // Prepare: 20 users and two the mapping refuses, before the stream; then CDC.
    const refused = new Set(['p1', 'p2', 'p3']);
    const { migration, legacy, control } = await createBackfillTables(client, 'bfpin', {
      migration: (l, t) => refusingMigration(l, t, refused),
      tombstoneTtl: true,
    });
    const user = (id: string): Item => ({ userId: { S: id }, fullName: { S: `User ${id}` } });
    for (let i = 0; i < 20; i++) await putItem(client, legacy, user(`u${i}`));
    for (const id of ['p1', 'p2']) await putItem(client, legacy, user(id));
    cdc = await startUsersCdc(
      { migration, streamArn: await enableStream(client, legacy), controlTableName: control },
      { poller: { heartbeatMs: 200, pollIntervalMs: 20, maxRetryAttempts: 0 } },
    );
    const store = new ControlStore(client, control, migration.id);
    const deps = localBackfillDeps({ client, migration, controlTableName: control });
    const poisonOp = async (input: PoisonPayload) =>
      (await runLocalPoisonOperation(deps, input)) as PoisonResult;
    const read = makeReadHandler({
      tokenSecret: TEST_TOKEN_SECRET,
      targets: [
        buildReadTarget({
          migration: { ...migration, read: { ...migration.read, controlCacheMs: 0 } },
          controlTableName: control,
          endpoint: testEndpoint(),
        }),
      ],
      options: { controlWaitMs: 30_000 },
    });
    const get = async (id: string): Promise<string> => {
      await store.putUnversioned(ControlKey.FRONTIER, {
        migrationId: migration.id,
        frontier: Date.now(),
        computedAt: Date.now(),
        shards: [],
        version: 1,
      });
      const r: APIGatewayProxyResult = await read(
        getItemEvent(migration.id, { userId: { S: id } }, { headers: { 'X-Consistency': 'bounded' } }),
      );
      return `${r.statusCode} ${String(r.headers?.['x-served-by'])} ${String(r.headers?.['x-route-reason'])}`;
    };
    const pinsOfState = async () => {
      const s = await store.getState();
      return { backfill: s?.backfill, keys: s?.pins?.keys ?? [] };
    };
    const hash = (id: string) => poisonKeyHash({ userId: { S: id } });

    await startLocalBackfill(deps, { runId: 'pin', totalSegments: 2 }).result;
    const afterBackfill = await store.getState();
    const { version: _v, ...state } = afterBackfill ?? initialState(migration.id, 0, Date.now());
    await store.changeState(
      afterBackfill,
      { ...state, phase: Phase.NEW_PRIMARY, rolloutPercent: 100, updatedAt: Date.now(), updatedBy: 'test' },
      { migrationId: migration.id, at: Date.now(), actor: 'test', action: 'set-phase', reason: 'test' },
      'phase',
    );
    expect(afterBackfill?.backfill).toMatchObject({
      status: BackfillStatus.COMPLETE_WITH_POISON,
      unresolved: 2,
    });

    // Act (1): bob pins p1, then every unresolved key
    const one = await poisonOp({
      operation: 'pin',
      actor: 'bob',
      reason: 'mapping fix scheduled',
      keys: [{ userId: { S: 'p1' } }],
    });
    const afterOne = await pinsOfState();
    const all = await poisonOp({
      operation: 'pin',
      actor: 'bob',
      reason: 'mapping fix scheduled',
      keys: 'all',
    });

    // Assess (1): one pinned, still COMPLETE_WITH_POISON (p2 unresolved); then COMPLETE, both pinned
    expect(one).toMatchObject({ pinned: 1, unresolvedCount: 1, pinnedCount: 1 });
    expect(afterOne.backfill).toMatchObject({
      status: BackfillStatus.COMPLETE_WITH_POISON,
      unresolved: 1,
      pinned: 1,
    });
    expect(afterOne.keys).toEqual([hash('p1')]);
    expect(all).toMatchObject({
      pinned: 1,
      unresolvedCount: 0,
      pinnedCount: 2,
      status: BackfillStatus.COMPLETE,
    });
    expect(all.pinnedKeys.map((k) => [k.key, k.pinReason, k.pinnedBy])).toEqual(
      expect.arrayContaining([
        [{ userId: { S: 'p1' } }, 'mapping fix scheduled', 'bob'],
        [{ userId: { S: 'p2' } }, 'mapping fix scheduled', 'bob'],
      ]),
    );
    expect((await pinsOfState()).backfill).toMatchObject({
      status: BackfillStatus.COMPLETE,
      unresolved: 0,
      pinned: 2,
    });
    expect(await get('p1')).toBe('200 legacy PINNED_TO_LEGACY');
    expect(await get('p2')).toBe('200 legacy PINNED_TO_LEGACY');
    expect(await get('u3')).toBe('200 new FRESH_BACKFILL_COMPLETE');
    expect(await get('nobody')).toBe('404 new FRESH_BACKFILL_COMPLETE');
    const pinAudits = (await store.listAudit()).filter((a) => a.action === 'backfill-poison-pin');
    expect(pinAudits).toHaveLength(2);
    expect(pinAudits[0]).toMatchObject({ actor: 'bob', reason: 'mapping fix scheduled' });

    // Act (2): a live user the mapping refuses is dead-lettered; carol waives the record and pins its key
    await putItem(client, legacy, user('p3'));
    await cdc.poller.drain();
    const [seq] = cdc.deadLetters.sequenceNumbers();
    await waiveRecord(
      client,
      control,
      migration.id,
      seq as string,
      { actor: 'carol', reason: 'pinned to legacy: mapping fix scheduled', at: Date.now() },
      { userId: { S: 'p3' } },
    );
    const p3 = await poisonOp({
      operation: 'pin',
      actor: 'carol',
      reason: 'fix scheduled',
      keys: [{ userId: { S: 'p3' } }],
    });

    // Assess (2)
    expect(p3).toMatchObject({
      pinned: 1,
      pinnedCount: 3,
      unresolvedCount: 0,
      status: BackfillStatus.COMPLETE,
    });
    expect(await get('p3')).toBe('200 legacy PINNED_TO_LEGACY');

    // Act (3): the remedies: p1 removed from legacy, p3's mapping fixed, a retry; p2 waived
    await client.send(new DeleteItemCommand({ TableName: legacy, Key: toSdkItem({ userId: { S: 'p1' } }) }));
    refused.delete('p3');
    const retried = await poisonOp({ operation: 'retry', actor: 'alice', reason: 'remedies applied' });
    const afterRetry = await pinsOfState();
    const p2WhilePinned = await get('p2');
    const waived = await poisonOp({
      operation: 'waive',
      actor: 'dave',
      reason: 'test account, not migrated',
      keys: [{ userId: { S: 'p2' } }],
    });

    // Assess (3): p1 absent-in-legacy, p3 copied, p2 still pinned (still refused) until waived
    expect(retried).toMatchObject({ absentInLegacy: 1, copied: 1, stillPoison: 1, pinnedCount: 1 });
    expect(afterRetry.keys).toEqual([hash('p2')]);
    expect(afterRetry.backfill).toMatchObject({ status: BackfillStatus.COMPLETE, pinned: 1 });
    expect(await get('p1')).toBe('404 new FRESH_BACKFILL_COMPLETE');
    expect(await get('p3')).toBe('200 new FRESH_BACKFILL_COMPLETE');
    expect(p2WhilePinned).toBe('200 legacy PINNED_TO_LEGACY');
    expect(waived).toMatchObject({ waived: 1, pinnedCount: 0, status: BackfillStatus.COMPLETE });
    expect(await pinsOfState()).toMatchObject({ keys: [], backfill: { pinned: 0, unresolved: 0 } });
    expect(await get('p2')).toBe('404 new FRESH_BACKFILL_COMPLETE');
  });

  it('refuses to pin past MAX_PINS with TooManyPinsError, writing nothing', async () => {
    const { control } = await createBackfillTables(client, 'bfpinmax', {});
    const registry = new PoisonRegistry(client, control, 'users');
    await registry.record(0, 'run', { userId: { S: 'x' } }, 'mapItem refused it', Date.now());
    const [record] = await registry.unresolved();
    const full = Object.assign(Object.create(registry) as PoisonRegistry, {
      pinned: async () => Array.from({ length: MAX_PINS }, () => record as StoredPoison),
    });
    await expect(
      full.pin([record as StoredPoison], { actor: 'bob', reason: 'r', at: Date.now() }, 'userId'),
    ).rejects.toMatchObject({
      name: 'TooManyPinsError',
      message: expect.stringMatching(/fix the mapping instead/),
    });
    expect(await registry.pinned()).toEqual([]);
    expect(await registry.unresolved()).toHaveLength(1);
  });
});
