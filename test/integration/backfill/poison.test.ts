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
import { BackfillStatus, Phase } from '../../../core';
import { startLocalBackfill } from '../../../local/backfill';
import { poisonScenarios } from '../../helpers/poison-fixture';

describe('Integration: poisoned keys are read from legacy until fixed-and-retried or waived', () => {
  const { scenario } = poisonScenarios();

  it('keeps the backfill from COMPLETE and routes the keys to legacy, in DUAL_READ bounded mode', async () => {
    // Prepare: 40 users and two the mapping refuses, all from before the stream; then CDC.
    const refused = new Set(['p1', 'p2', 'p3']);
    const sc = await scenario('bfp', { users: 40, seeded: ['p1', 'p2'], refused });
    const { store, deps, poisonOp, get } = sc;
    /** The mapping is fixed for `id`, and alice retries the poisoned keys. */
    const fixAndRetry = async (id: string, reason: string) => {
      refused.delete(id);
      return poisonOp({ operation: 'retry', actor: 'alice', reason });
    };

    // Act (1): the backfill
    // The read API in DUAL_READ at 100 %, with a frontier set fresh before every read.
    const afterBackfill = await sc.backfillThen('poison', Phase.DUAL_READ);

    // Assess (1): the poisoned keys are answered from legacy, the others from new
    expect(await get('p1')).toBe('200 legacy ABSENT_IN_NEW_BACKFILL_INCOMPLETE');
    expect(await get('p2')).toBe('200 legacy ABSENT_IN_NEW_BACKFILL_INCOMPLETE');
    expect(await get('u7')).toBe('200 new FRESH_ITEM_IN_NEW');
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
    const listed = await poisonOp({ operation: 'list' });
    expect(listed.unresolved.map((p) => p.key)).toEqual(
      expect.arrayContaining([{ userId: { S: 'p1' } }, { userId: { S: 'p2' } }]),
    );

    // Act (2): the mapping is fixed for p1 and the poisoned keys are retried
    const retried = await fixAndRetry('p1', 'mapping fixed');

    // Assess (2): p1 copied (read from new now), p2 still poison: still not COMPLETE
    expect(retried).toMatchObject({ copied: 1, stillPoison: 1, status: BackfillStatus.COMPLETE_WITH_POISON });
    expect(await get('p1')).toBe('200 new FRESH_ITEM_IN_NEW');
    expect(await get('p2')).toBe('200 legacy ABSENT_IN_NEW_BACKFILL_INCOMPLETE');
    expect((await store.getState())?.backfill).toMatchObject({ unresolved: 1 });

    // Act (3): an operator waives p2 (it is not to be migrated)
    const waived = await poisonOp({
      operation: 'waive',
      actor: 'bob',
      reason: 'test account, not migrated',
      keys: [{ userId: { S: 'p2' } }],
    });

    // Assess (3): COMPLETE; p2 is now, by that decision, absent from new; audited with actor and reason
    expect(waived).toMatchObject({ waived: 1, status: BackfillStatus.COMPLETE });
    expect((await store.getState())?.backfill).toMatchObject({
      status: BackfillStatus.COMPLETE,
      unresolved: 0,
    });
    expect(await get('p2')).toBe('404 new FRESH_BACKFILL_COMPLETE');
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
    await sc.waiveRefusedWrite('p3', { actor: 'carol', reason: 'frontier held by a mapping bug' });

    // Assess (4): the key is registered: not 404 from new although the backfill was COMPLETE
    expect(await get('p3')).toBe('200 legacy ABSENT_IN_NEW_BACKFILL_INCOMPLETE');
    expect((await store.getState())?.backfill).toMatchObject({
      status: BackfillStatus.COMPLETE_WITH_POISON,
      unresolved: 1,
    });

    // Act (5): fixed and retried
    const again = await fixAndRetry('p3', 'p3 fixed');

    // Assess (5)
    expect(again).toMatchObject({ copied: 1, stillPoison: 0, status: BackfillStatus.COMPLETE });
    expect(await get('p3')).toBe('200 new FRESH_BACKFILL_COMPLETE');
    expect(await get('nobody')).toBe('404 new FRESH_BACKFILL_COMPLETE');
  });
});
