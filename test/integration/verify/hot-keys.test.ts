/**
 * A hot key under verification: the application writes it again during every re-check round, so the
 * frontier-and-token check (core/verify/recheck.ts, steps 1-5) can never hold it still. CDC rewrites it
 * with whole images each time, so the run reports it as `rewritten-by-cdc`, not as unconfirmed lag,
 * and stays clean; a key that holds still still resolves by the exact check.
 */
import { localVerifyDeps } from '../../../local/verify';
import type { Item } from '../../../core/model';
import {
  afterBatchGet,
  getNew,
  legacyIds,
  liveSetup,
  newKey,
  releaseCdcAtFirstRecheck,
  runVerify,
  updateLegacy,
  waitForNewSequence,
} from '../../helpers/verify-fixture';

jest.setTimeout(90_000);

const idOf = (k: Item) => (k.userId as { S: string } | undefined)?.S;

describe('Integration: verification of a key written during every re-check round', () => {
  it('reports it rewritten-by-cdc (not unconfirmed lag) and the run clean', async () => {
    // Prepare: CDC and the frontier tracker running; 20 static keys copied by CDC
    const { s, cdc, tracker, client, m } = await liveSetup('vf-hot', 20);
    // CDC held: the first pass sees s-3 (hot) and s-5 (written once) differ.
    cdc.hold();
    await updateLegacy(client, m, 's-3', 'fullName', 'hot 0');
    await updateLegacy(client, m, 's-5', 'fullName', 'written once');

    // The application writes s-3 again right after each consistent legacy read of the re-check, and
    // CDC applies it before the re-check reads new: every round sees a newer CDC image.
    const deps = localVerifyDeps({ client, migration: m, controlTableName: s.controlTableName });
    let rechecking = false;
    let hotWrites = 0;
    const hotDeps = afterBatchGet(deps, 'legacy', async (keys) => {
      if (rechecking && keys.some((k) => idOf(k) === 's-3')) {
        const before = await getNew(m, newKey('s-3'));
        await updateLegacy(client, m, 's-3', 'fullName', `hot ${++hotWrites}`);
        await waitForNewSequence(m, newKey('s-3'), before);
      }
    });
    const lambdas = releaseCdcAtFirstRecheck(hotDeps, cdc, () => {
      rechecking = true;
    });

    // Act
    const report = await runVerify(hotDeps, { repair: false, runId: 'hot-1' }, lambdas);
    await tracker.stop();
    await cdc.close();

    // Assess
    expect(hotWrites).toBeGreaterThanOrEqual(deps.settings.maxRecheckRounds);
    expect(legacyIds(report, 'rewritten-by-cdc')).toEqual(['s-3']);
    expect(report).toMatchObject({ clean: true, unconfirmedLag: 0, rewrittenByCdc: 1 });
    expect(report.lagResolved).toBeGreaterThanOrEqual(1);
    expect(report.firstPass?.['content-differs']).toBeGreaterThanOrEqual(2);
  });
});
