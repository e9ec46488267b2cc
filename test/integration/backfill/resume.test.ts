/**
 * The backfill on DynamoDB Local, crash and resume: an execution killed mid-run is re-run from the
 * segment checkpoints, without rescanning finished segments.
 */
import { type Item, canonicalItem, itemFromDynamoJson } from '../../../core';
import type { BackfillDeps } from '../../../lambdas/backfill/context';
import { startLocalBackfill } from '../../../local/backfill';
import {
  backfillSuite,
  checkpoints,
  depsFor,
  expectConverged,
  waitFor,
} from '../../helpers/backfill-fixture';

backfillSuite(({ client, runs, scenario }) => {
  it('resumes from checkpoints after the execution is killed, without rescanning finished segments', async () => {
    // Prepare: segments 0 and 1 run first (MaxConcurrency 2), so some finish while others have not started
    const env = await scenario('bf-resume', 4_000);
    const deps = depsFor(client, env);
    const first = startLocalBackfill(deps, { runId: 'resume', totalSegments: 4, maxConcurrency: 2 });
    runs.push(first);
    first.result.catch(() => undefined);
    await waitFor('a finished segment', async () => (await checkpoints(env.store)).some((c) => c.done));

    // Act: kill it, let its in-flight Lambda invocations end (as they would in AWS), then re-run
    first.abort();
    await expect(first.result).rejects.toThrow();
    await first.settled();
    const before = await checkpoints(env.store);
    const scans = new Map<number, Array<Item | undefined>>();
    const counting: BackfillDeps = {
      ...deps,
      scanPage: async (args) => {
        scans.set(args.segment, [...(scans.get(args.segment) ?? []), args.exclusiveStartKey]);
        return deps.scanPage(args);
      },
    };
    const second = startLocalBackfill(counting, { runId: 'resume', totalSegments: 4, maxConcurrency: 2 });
    runs.push(second);
    await second.result;

    // Assess
    const finishedBefore = before.filter((c) => c.done).map((c) => c.segment);
    expect(finishedBefore.length).toBeGreaterThan(0);
    expect(finishedBefore.length).toBeLessThan(4);
    for (const s of finishedBefore) expect(scans.get(s)).toBeUndefined();
    for (const c of before.filter((x) => !x.done)) {
      // The first page of the resumed run starts exactly at the stored checkpoint.
      const firstStart = scans.get(c.segment)?.[0];
      expect(firstStart ? canonicalItem(firstStart) : undefined).toEqual(
        c.lastEvaluatedKey ? canonicalItem(itemFromDynamoJson(c.lastEvaluatedKey)) : undefined,
      );
    }
    const after = await checkpoints(env.store);
    expect(after.every((c) => c.done)).toBe(true);
    expect(after.reduce((a, c) => a + c.copied, 0)).toBe(4_000);
    await env.cdc?.poller.drain();
    await expectConverged(client, env);
    const audit = (await env.store.listAudit()).map((a) => a.action);
    expect(audit).toEqual(['backfill-start', 'backfill-resume', 'backfill-complete']);
  });
});
