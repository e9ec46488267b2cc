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
import { toSdkItem } from '../../../adapters/dynamodb';
import { PoisonRegistry, type StoredPoison } from '../../../adapters/poison-registry';
import { BackfillStatus, MAX_PINS, Phase, poisonKeyHash } from '../../../core';
import { createBackfillTables } from '../../helpers/backfill-tables';
import { poisonScenarios } from '../../helpers/poison-fixture';

describe('Integration: keys pinned to legacy', () => {
  const { client, scenario } = poisonScenarios();

  it('completes the backfill with the keys pinned, serves them from legacy, and settles each pin by retry or waiver', async () => {
    // Prepare: 20 users and two the mapping refuses, before the stream; then CDC.
    const refused = new Set(['p1', 'p2', 'p3']);
    const sc = await scenario('bfpin', { users: 20, seeded: ['p1', 'p2'], refused });
    const { legacy, store, poisonOp, get } = sc;
    const pinsOfState = async () => {
      const s = await store.getState();
      return { backfill: s?.backfill, keys: s?.pins?.keys ?? [] };
    };
    const hash = (id: string) => poisonKeyHash({ userId: { S: id } });

    const afterBackfill = await sc.backfillThen('pin', Phase.NEW_PRIMARY);
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
    await sc.waiveRefusedWrite('p3', { actor: 'carol', reason: 'pinned to legacy: mapping fix scheduled' });
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
