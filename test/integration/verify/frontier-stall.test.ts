/**
 * Verification while the frontier stalls (the tracker published once, then stopped: a loaded machine, a
 * CDC incident, DynamoDB Local's minute-truncated creation times): CDC catches up with the writes the
 * first pass saw in flight, so those suspects resolve on the re-check's first reads without waiting for
 * F (core/verify/recheck.ts, step 2b); real drift still differs, so it is never called clean, and its
 * `unconfirmed-lag` says how far F was short.
 */
import { ControlKey } from '../../../core/control';
import type { Suspect } from '../../../core/verify';
import { localVerifyDeps } from '../../../local/verify';
import { ControlStore } from '../../../adapters/control-store';
import { testClient } from '../../helpers/dynamo';
import {
  afterBatchGet,
  batchPut,
  getNew,
  junkNewItem,
  lambdasBeforeRecheck,
  legacyIds,
  newKey,
  releaseCdcAtFirstRecheck,
  runVerify,
  setupTables,
  startGatedCdc,
  staticItems,
  updateLegacy,
  waitForNew,
  waitForNewSequence,
} from '../../helpers/verify-fixture';

jest.setTimeout(90_000);

/** Tables, CDC running (gated), 12 keys copied, and F published once, before the writes to come. */
async function stalled(prefix: string, settings = { maxLagWaitMs: 1_500, budgetMs: 1_000 }) {
  const s = await setupTables(prefix);
  const m = s.migration;
  const cdc = await startGatedCdc(s);
  const client = testClient();
  const store = new ControlStore(client, s.controlTableName, m.id);
  await batchPut(m.legacyTable.tableName, staticItems(12));
  await waitForNew(m, newKey('s-11'), (i) => i !== undefined);
  const stalledAt = Date.now() - 5_000;
  await store.put(
    ControlKey.FRONTIER,
    { migrationId: m.id, frontier: stalledAt, computedAt: stalledAt, shards: [] },
    0,
  );
  const deps = localVerifyDeps({
    client,
    migration: m,
    controlTableName: s.controlTableName,
    settings,
  });
  return { s, m, cdc, client, store, deps };
}

describe('Integration: verification under live writes with a stalled frontier', () => {
  it('resolves the suspects CDC has caught up with, and reports real drift unconfirmed with how far F was short', async () => {
    // Prepare: F stalled; CDC held, so the first pass sees s-3 and s-5 differ (lag); s-7 is drifted
    const { m, cdc, client, store, deps } = await stalled('vf-stall');
    cdc.hold();
    await updateLegacy(client, m, 's-3', 'fullName', 'written in flight');
    await updateLegacy(client, m, 's-5', 'fullName', 'written in flight too');
    await junkNewItem(client, m, 's-7');
    const before = { s3: await getNew(m, newKey('s-3')), s5: await getNew(m, newKey('s-5')) };

    // CDC catches up between the first pass and the re-check; F stays stalled.
    const lambdas = releaseCdcAtFirstRecheck(deps, cdc, async () => {
      await waitForNewSequence(m, newKey('s-3'), before.s3);
      await waitForNewSequence(m, newKey('s-5'), before.s5);
    });

    // Act
    const report = await runVerify(deps, { repair: false, runId: 'stall-1' }, lambdas);
    const suspects = await store.list<Suspect>('VERIFY_SUSPECT#stall-1#');
    await cdc.close();
    client.destroy();

    // Assess: the caught-up keys resolved; the drift is not clean, never repaired, and says why.
    expect(report).toMatchObject({ clean: false, unconfirmedLag: 1, lagResolved: 2 });
    expect(report.firstPass?.['content-differs']).toBe(3);
    expect(legacyIds(report, 'unconfirmed-lag')).toEqual(['s-7']);
    const drifted = suspects.find((x) => x.status === 'unconfirmed-lag');
    expect(drifted?.reason).toMatch(
      /^the frontier minus the 1000 ms clock-skew margin stayed \d+ ms short of the re-check's legacy read within the 1500 ms wait bound \(round 1\), and the stores still differed/,
    );
    expect(report.unconfirmedReason).toBe(drifted?.reason);
    expect((await getNew(m, newKey('s-7')))?.displayName).toEqual({ S: 'junk' });
  });

  it('resolves a key CDC catches up with during the frontier wait: the next round reads both stores first', async () => {
    // Prepare: F stalled; CDC held through the re-check's first reads, released during its frontier wait;
    // the wait bound runs out inside one invocation (budget above the bound)
    const { m, cdc, client, deps } = await stalled('vf-stall-late', { maxLagWaitMs: 1_000, budgetMs: 3_000 });
    cdc.hold();
    await updateLegacy(client, m, 's-4', 'fullName', 'applied during the wait');
    await junkNewItem(client, m, 's-8');
    const before = await getNew(m, newKey('s-4'));
    let rechecking = false;
    let released = false;
    const lateDeps = afterBatchGet(deps, 'fresh', async () => {
      if (rechecking && !released) {
        // The first new read of the re-check has returned (s-4 still stale): CDC catches up now, and
        // takes longer than the wait bound, as it can on a loaded machine. The reads were made within
        // the bound, so s-4 is read again before anything is called unconfirmed.
        released = true;
        cdc.release();
        await waitForNewSequence(m, newKey('s-4'), before);
        await new Promise((r) => setTimeout(r, 1_500));
      }
    });
    const lambdas = lambdasBeforeRecheck(lateDeps, () => {
      rechecking = true;
    });

    // Act
    const report = await runVerify(lateDeps, { repair: false, runId: 'stall-late-1' }, lambdas);
    await cdc.close();
    client.destroy();

    // Assess
    expect(released).toBe(true);
    expect(report).toMatchObject({ clean: false, unconfirmedLag: 1, lagResolved: 1 });
    expect(legacyIds(report, 'unconfirmed-lag')).toEqual(['s-8']);
  });

  it("confirms and repairs drift while F trails by more than one invocation's budget: it waits on the earlier read of the same legacy content", async () => {
    // Prepare: F published every 100 ms, 4 s behind the clock (5 s with the skew margin); each re-check
    // invocation may wait 1 s, and the bound is 30 s. s-6 is drifted; its legacy item never changes.
    const { m, cdc, client, store, deps } = await stalled('vf-trail', {
      maxLagWaitMs: 30_000,
      budgetMs: 1_000,
    });
    await junkNewItem(client, m, 's-6');
    let publishing = true;
    const publisher = (async () => {
      for (let version = 1; publishing; version += 1) {
        const at = Date.now() - 4_000;
        await store.put(
          ControlKey.FRONTIER,
          { migrationId: m.id, frontier: at, computedAt: at, shards: [] },
          version,
        );
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    // Act
    const report = await runVerify(deps, { repair: true, runId: 'trail-1' }, undefined);
    publishing = false;
    await publisher;
    const suspects = await store.list<Suspect>('VERIFY_SUSPECT#trail-1#');
    await cdc.close();
    client.destroy();

    // Assess: confirmed drift (not lag), repaired; it waited across invocations on its first read
    expect(report).toMatchObject({ unconfirmedLag: 0, repairs: expect.objectContaining({ repaired: 1 }) });
    expect(report.counts?.['content-differs']).toBe(1);
    expect(suspects).toEqual([expect.objectContaining({ status: 'confirmed', repair: 'repaired' })]);
    const [s6] = suspects;
    expect(s6?.waitReadAt).toBeLessThan((s6?.settledAt ?? 0) - 1_000);
    expect((await getNew(m, newKey('s-6')))?.displayName).not.toEqual({ S: 'junk' });
  });
});
