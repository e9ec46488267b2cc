/**
 * A hot key under verification: the application writes it again during every re-check round, so the
 * frontier-and-token check (core/verify/recheck.ts, steps 1-5) can never hold it still. CDC rewrites it
 * with whole images each time, so the run reports it as `rewritten-by-cdc`, not as unconfirmed lag,
 * and stays clean; a key that holds still still resolves by the exact check.
 */
import { localVerifyDeps, verifyLambdas } from '../../../local/verify';
import { VerifyFunction } from '../../../stepfunctions/verify';
import type { Item } from '../../../core/model';
import {
  getNew,
  legacyIds,
  liveSetup,
  newKey,
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
    const hotDeps = {
      ...deps,
      legacy: {
        get: (key: Item, consistent: boolean) => deps.legacy.get(key, consistent),
        batchGet: async (keys: readonly Item[], consistent: boolean) => {
          const out = await deps.legacy.batchGet(keys, consistent);
          if (rechecking && keys.some((k) => idOf(k) === 's-3')) {
            const before = await getNew(m, newKey('s-3'));
            await updateLegacy(client, m, 's-3', 'fullName', `hot ${++hotWrites}`);
            await waitForNewSequence(m, newKey('s-3'), before);
          }
          return out;
        },
      },
    };
    const lambdas = verifyLambdas(hotDeps);
    const recheck = lambdas[VerifyFunction.RECHECK] as (p: unknown) => Promise<unknown>;
    lambdas[VerifyFunction.RECHECK] = (async (p: unknown) => {
      if (!rechecking) {
        rechecking = true;
        cdc.release();
      }
      return recheck(p);
    }) as never;

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
