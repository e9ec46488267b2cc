/**
 * Issue 9 item 2 end to end on DynamoDB Local: the backfill does not reach COMPLETE while legacy
 * items failed to copy, and a bounded read in DUAL_READ answers such a key from legacy (not 404 from
 * new) until it is fixed and retried, or waived by an operator. The same holds for a key whose
 * dead-lettered INSERT was waived so the frontier could pass it.
 *
 * Real parts: the backfill state machine and handlers, the local CDC pipeline (event source, sync
 * handler, dead-letter queue), the read handler. The frontier is set in the control table (what it
 * would publish), since the frontier is not under test here.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { ControlStore } from '../../../adapters/control-store';
import { waiveRecord } from '../../../adapters/frontier-store';
import {
  BackfillStatus,
  ControlKey,
  type Item,
  type Migration,
  Phase,
  type PoisonPayload,
  initialState,
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

/** The users mapping, refusing the user ids in `refused` (the "bug" a fix removes). */
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

describe('Integration: poisoned keys are read from legacy until fixed-and-retried or waived', () => {
  const client = testClient();
  let cdc: LocalCdc | undefined;
  afterAll(async () => {
    await cdc?.close();
    client.destroy();
  });

  it('keeps the backfill from COMPLETE and routes the keys to legacy, in DUAL_READ bounded mode', async () => {
    // Prepare: 40 users and two the mapping refuses, all from before the stream; then CDC.
    const refused = new Set(['p1', 'p2', 'p3']);
    const { migration, legacy, control } = await createBackfillTables(client, 'bfp', {
      migration: (l, t) => refusingMigration(l, t, refused),
      tombstoneTtl: true,
    });
    const user = (id: string): Item => ({ userId: { S: id }, fullName: { S: `User ${id}` } });
    for (let i = 0; i < 40; i++) await putItem(client, legacy, user(`u${i}`));
    for (const id of ['p1', 'p2']) await putItem(client, legacy, user(id));
    cdc = await startUsersCdc(
      { migration, streamArn: await enableStream(client, legacy), controlTableName: control },
      { poller: { heartbeatMs: 200, pollIntervalMs: 20, maxRetryAttempts: 0 } },
    );
    const store = new ControlStore(client, control, migration.id);
    const deps = localBackfillDeps({ client, migration, controlTableName: control });
    const poisonOp = (input: PoisonPayload) => runLocalPoisonOperation(deps, input);
    /** The mapping is fixed for `id`, and alice retries the poisoned keys. */
    const fixAndRetry = async (id: string, reason: string) => {
      refused.delete(id);
      return (await poisonOp({ operation: 'retry', actor: 'alice', reason })) as PoisonResult;
    };

    // The read API in DUAL_READ at 100 %, with a frontier set fresh before every read.
    const read = makeReadHandler({
      tokenSecret: TEST_TOKEN_SECRET,
      targets: [
        buildReadTarget({
          migration: { ...migration, read: { ...migration.read, controlCacheMs: 0 } },
          controlTableName: control,
          endpoint: testEndpoint(),
        }),
      ],
      // Wait for the control read however loaded the machine is: this test is about routing, not about
      // the 50 ms answer-from-legacy budget of an unloaded read path (CONTROL_UNAVAILABLE under load).
      options: { controlWaitMs: 30_000 },
    });
    const get = async (id: string): Promise<APIGatewayProxyResult> => {
      await store.putUnversioned(ControlKey.FRONTIER, {
        migrationId: migration.id,
        frontier: Date.now(),
        computedAt: Date.now(),
        shards: [],
        version: 1,
      });
      return read(
        getItemEvent(migration.id, { userId: { S: id } }, { headers: { 'X-Consistency': 'bounded' } }),
      );
    };
    const route = (r: APIGatewayProxyResult) =>
      `${r.statusCode} ${String(r.headers?.['x-served-by'])} ${String(r.headers?.['x-route-reason'])}`;

    // Act (1): the backfill
    await startLocalBackfill(deps, { runId: 'poison', totalSegments: 2 }).result;
    const afterBackfill = await store.getState();
    const { version: _v, ...state } = afterBackfill ?? initialState(migration.id, 0, Date.now());
    await store.changeState(
      afterBackfill,
      { ...state, phase: Phase.DUAL_READ, rolloutPercent: 100, updatedAt: Date.now(), updatedBy: 'test' },
      { migrationId: migration.id, at: Date.now(), actor: 'test', action: 'set-phase', reason: 'test' },
      'phase',
    );

    // Assess (1): the poisoned keys are answered from legacy, the others from new
    expect(route(await get('p1'))).toBe('200 legacy ABSENT_IN_NEW_BACKFILL_INCOMPLETE');
    expect(route(await get('p2'))).toBe('200 legacy ABSENT_IN_NEW_BACKFILL_INCOMPLETE');
    expect(route(await get('u7'))).toBe('200 new FRESH_ITEM_IN_NEW');
    expect(afterBackfill?.backfill).toMatchObject({
      status: BackfillStatus.COMPLETE_WITH_POISON,
      poison: 2,
      unresolved: 2,
    });
    // ... and a second backfill is refused: it would not copy them
    const second = startLocalBackfill(deps, { runId: 'again', totalSegments: 2 }).result;
    await expect(second).rejects.toMatchObject({
      error: 'BackfillAlreadyCompleteError',
      cause: expect.stringMatching(/2 unresolved keys \(COMPLETE_WITH_POISON\).*retry/),
    });
    const listed = (await poisonOp({ operation: 'list' })) as PoisonResult;
    expect(listed.unresolved.map((p) => p.key)).toEqual(
      expect.arrayContaining([{ userId: { S: 'p1' } }, { userId: { S: 'p2' } }]),
    );

    // Act (2): the mapping is fixed for p1 and the poisoned keys are retried
    const retried = await fixAndRetry('p1', 'mapping fixed');

    // Assess (2): p1 copied (read from new now), p2 still poison: still not COMPLETE
    expect(retried).toMatchObject({ copied: 1, stillPoison: 1, status: BackfillStatus.COMPLETE_WITH_POISON });
    expect(route(await get('p1'))).toBe('200 new FRESH_ITEM_IN_NEW');
    expect(route(await get('p2'))).toBe('200 legacy ABSENT_IN_NEW_BACKFILL_INCOMPLETE');
    expect((await store.getState())?.backfill).toMatchObject({ unresolved: 1 });

    // Act (3): an operator waives p2 (it is not to be migrated)
    const waived = (await poisonOp({
      operation: 'waive',
      actor: 'bob',
      reason: 'test account, not migrated',
      keys: [{ userId: { S: 'p2' } }],
    })) as PoisonResult;

    // Assess (3): COMPLETE; p2 is now, by that decision, absent from new; audited with actor and reason
    expect(waived).toMatchObject({ waived: 1, status: BackfillStatus.COMPLETE });
    expect((await store.getState())?.backfill).toMatchObject({
      status: BackfillStatus.COMPLETE,
      unresolved: 0,
    });
    expect(route(await get('p2'))).toBe('404 new FRESH_BACKFILL_COMPLETE');
    const audit = await store.listAudit();
    expect(audit).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          action: 'backfill-poison-waive',
          actor: 'bob',
          reason: 'test account, not migrated',
        }),
        expect.objectContaining({ action: 'backfill-poison-retry', actor: 'alice' }),
      ]),
    );

    // Act (4): a new user the mapping refuses is dead-lettered by CDC; the record is waived so the
    // frontier can pass it, naming the record's key
    await putItem(client, legacy, user('p3'));
    await cdc.poller.drain();
    const [seq] = cdc.deadLetters.sequenceNumbers();
    expect(seq).toBeDefined();
    await waiveRecord(
      client,
      control,
      migration.id,
      seq as string,
      { actor: 'carol', reason: 'frontier held by a mapping bug', at: Date.now() },
      { userId: { S: 'p3' } },
    );

    // Assess (4): the key is registered: not 404 from new although the backfill was COMPLETE
    expect(route(await get('p3'))).toBe('200 legacy ABSENT_IN_NEW_BACKFILL_INCOMPLETE');
    expect((await store.getState())?.backfill).toMatchObject({
      status: BackfillStatus.COMPLETE_WITH_POISON,
      unresolved: 1,
    });

    // Act (5): fixed and retried
    const again = await fixAndRetry('p3', 'p3 fixed');

    // Assess (5)
    expect(again).toMatchObject({ copied: 1, stillPoison: 0, status: BackfillStatus.COMPLETE });
    expect(route(await get('p3'))).toBe('200 new FRESH_BACKFILL_COMPLETE');
    expect(route(await get('nobody'))).toBe('404 new FRESH_BACKFILL_COMPLETE');
  });
});
