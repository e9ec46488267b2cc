/**
 * The backfill on DynamoDB Local: the deployed definition run by the local interpreter with every Task
 * bound to the real handlers, racing the real CDC pipeline (local event source + sync handler) and a
 * live workload, converges with the stores equal.
 */
import { BackfillStatus, ControlKey } from '../../../core';
import { startLocalBackfill } from '../../../local/backfill';
import { backfillSuite, depsFor, expectConverged } from '../../helpers/backfill-fixture';

// 3,000 items through the whole pipeline: a minute on a loaded two-core machine (a limit, not a window).
backfillSuite(({ client, runs, scenario }) => {
  it('converges with the stores equal when 3,000 items are backfilled while a workload races the scan through CDC', async () => {
    // Prepare
    const env = await scenario('bf-race', 3_000, true, 125); // 6 pages per segment, raced all along
    const deps = depsFor(client, env);

    // Act: backfill and a workload of updates, deletes and re-creates at the same time
    const run = startLocalBackfill(deps, { runId: 'race', totalSegments: 4 });
    runs.push(run);
    let finished = false;
    const output = run.result.finally(() => {
      finished = true;
    });
    const workload = (async () => {
      let ops = 0;
      while (!finished) {
        ops += (await env.workload.run({ operations: 50, ratePerSecond: 250 })).acknowledged;
      }
      return ops;
    })();
    const out = (await output) as {
      finish: { value: { copied: number; skippedExists: number; poison: number; scanned: number } };
    };
    const ops = await workload;
    await env.cdc?.poller.drain();

    // Assess
    const totals = out.finish.value;
    expect(ops).toBeGreaterThan(0);
    expect(totals.poison).toBe(0);
    expect(totals.copied + totals.skippedExists).toBe(totals.scanned);
    expect(totals.skippedExists).toBeGreaterThan(0); // CDC got to some keys first: the race happened
    expect(env.cdc?.deadLetters.depth).toBe(0);
    await expectConverged(client, env);
    const state = await env.store.getState();
    expect(state?.backfill.status).toBe(BackfillStatus.COMPLETE);
    expect(state?.backfill.copied).toBe(totals.copied);
    expect((await env.store.get(ControlKey.BACKFILL_LOCK))?.['released' as never]).toBe(true);
    const audit = (await env.store.listAudit()).map((a) => a.action);
    expect(audit).toEqual(['backfill-start', 'backfill-complete']);
  });
}, 600_000);
