/**
 * The backfill on DynamoDB Local under the operator controls: pausing stops copying within one page
 * and resuming continues; a rate limit changed while running changes the copy rate.
 */
import type { BackfillDeps, SegmentPayload } from '../../../lambdas/backfill/context';
import type { ControlsResult } from '../../../lambdas/backfill/controls';
import { backfillLambdas, startLocalBackfill } from '../../../local/backfill';
import { BackfillFunction } from '../../../stepfunctions/backfill';
import { countItems } from '../../helpers/dynamo';
import {
  backfillSuite,
  checkpoints,
  depsFor,
  expectConverged,
  setControls,
  waitFor,
} from '../../helpers/backfill-fixture';

backfillSuite(({ client, runs, scenario }) => {
  it('stops copying within one page when paused and continues when resumed', async () => {
    // Prepare: a page worker that would copy its whole segment in one invocation unless it notices
    // the pause; the pause is set while the first page is being written (a hook, not a timer).
    const env = await scenario('bf-pause', 3_000);
    const segments = 2;
    const pageSize = env.migration.backfill.pageSize;
    const base = depsFor(client, env, { pageBudgetMs: 60_000 });
    let atPause: number | undefined;
    const deps: BackfillDeps = {
      ...base,
      writer: {
        writeAll: async (...args: Parameters<BackfillDeps['writer']['writeAll']>) => {
          if (atPause === undefined) {
            atPause = -1;
            await setControls(env.store, { paused: true }); // Act (1): pause mid-page
            atPause = await countItems(client, env.migration.newTable.tableName);
          }
          return base.writer.writeAll(...args);
        },
      },
    };
    // Every answer of ReadControls, per segment: a "paused" answer means that segment's loop waits.
    const pausedAnswers = new Map<number, number>();
    const lambdas = backfillLambdas(deps);
    const controls = lambdas[BackfillFunction.CONTROLS] as (p: SegmentPayload) => Promise<ControlsResult>;
    lambdas[BackfillFunction.CONTROLS] = (async (p: SegmentPayload) => {
      const r = await controls(p);
      if (r.paused) pausedAnswers.set(p.segment, (pausedAnswers.get(p.segment) ?? 0) + 1);
      return r;
    }) as (p: never) => Promise<unknown>;
    const run = startLocalBackfill(deps, { runId: 'pause', totalSegments: segments }, { lambdas });
    runs.push(run);
    const target = env.migration.newTable.tableName;
    const waiting = async () => {
      const done = new Set((await checkpoints(env.store)).filter((c) => c.done).map((c) => c.segment));
      return [...Array(segments).keys()].filter((s) => !done.has(s));
    };

    // Act (2): wait until every unfinished segment's loop has answered "paused" (it is waiting),
    // then until each has polled twice more while paused
    await waitFor('the pause to be set', async () => (atPause ?? -1) >= 0);
    await waitFor('every unfinished segment to wait paused', async () =>
      (await waiting()).every((s) => (pausedAnswers.get(s) ?? 0) >= 1),
    );
    const settled = await countItems(client, target);
    const waitingSegments = await waiting();
    const marks = new Map(waitingSegments.map((s) => [s, pausedAnswers.get(s) ?? 0]));
    await waitFor('two more pause polls of every waiting segment', async () =>
      waitingSegments.every((s) => (pausedAnswers.get(s) ?? 0) >= (marks.get(s) ?? 0) + 2),
    );
    const later = await countItems(client, target);
    await setControls(env.store, { paused: false });
    await run.result;

    // Assess: at most the page each segment had in flight was written after the pause; nothing while paused
    expect(waitingSegments.length).toBeGreaterThan(0);
    expect(atPause as number).toBeLessThan(3_000);
    expect(settled - (atPause as number)).toBeLessThanOrEqual(segments * pageSize);
    expect(later).toBe(settled);
    const pausedEvents = run.executions[0]?.events.filter(
      (e) => e.type === 'StateEntered' && (e.state as { name: string }).name === 'WaitWhilePaused',
    ).length;
    expect(pausedEvents).toBeGreaterThan(0);
    await env.cdc?.poller.drain();
    await expectConverged(client, env);
  });

  it("changes the copy rate when the rate limit is changed while running (measured on the backfill's own clock)", async () => {
    // Prepare: one segment on a virtual clock. Sleeps and Wait states advance it; I/O takes no
    // virtual time, so the pacing alone decides the rate and machine load cannot change it.
    const env = await scenario('bf-rate', 5_000, true, 500);
    await setControls(env.store, { rateLimitPerSecond: 100 });
    const clock = { t: Date.now() };
    // The operator's cap alone: no ceiling from capacity (DynamoDB Local is on-demand: 1,000 items/s).
    env.migration = { ...env.migration, backfill: { ...env.migration.backfill, maxRatePerSecond: 0 } };
    const base = depsFor(client, env, { pageBudgetMs: 2_000 });
    const pages: Array<{ at: number; items: number }> = [];
    const deps: BackfillDeps = {
      ...base,
      now: () => clock.t,
      sleep: async (ms) => {
        clock.t += ms;
        await new Promise((r) => setImmediate(r));
      },
      // The worker writes a page right after its start (pageStartedAt): the page log is on that clock.
      writer: {
        writeAll: async (...args: Parameters<BackfillDeps['writer']['writeAll']>) => {
          pages.push({ at: clock.t, items: args[0].length });
          return base.writer.writeAll(...args);
        },
      },
    };
    const lambdas = backfillLambdas(deps);
    const controls = lambdas[BackfillFunction.CONTROLS] as (p: SegmentPayload) => Promise<ControlsResult>;
    lambdas[BackfillFunction.CONTROLS] = (async (p: SegmentPayload) => {
      const r = await controls(p);
      clock.t += r.waitSeconds * 1000; // the Wait state that follows
      return r;
    }) as (p: never) => Promise<unknown>;
    const run = startLocalBackfill(deps, { runId: 'rate', totalSegments: 1 }, { lambdas });
    runs.push(run);

    // Act: 10 pages at 100 items/s, then 2,000 items/s until 5 more pages were written
    await waitFor('10 pages at the slow rate', async () => pages.length >= 10);
    await setControls(env.store, { rateLimitPerSecond: 2_000 });
    const changedAt = pages.length;
    await waitFor('5 pages after the change', async () => pages.length >= changedAt + 6);
    await setControls(env.store, { rateLimitPerSecond: 0 });
    await run.result;

    // Assess: items per second of the backfill's clock over whole pages, before and after
    const rate = (from: number, to: number) => {
      const span = pages.slice(from, to + 1);
      const items = span.slice(0, -1).reduce((a, p) => a + p.items, 0);
      return (items * 1000) / ((span.at(-1)?.at ?? 0) - (span[0]?.at ?? 0));
    };
    const slow = rate(0, changedAt - 1);
    const fast = rate(changedAt + 1, changedAt + 5); // the page in flight at the change may be slow
    expect(slow).toBeLessThanOrEqual(100);
    expect(slow).toBeGreaterThan(90);
    expect(fast).toBeLessThanOrEqual(2_000);
    expect(fast).toBeGreaterThan(10 * slow);
    await env.cdc?.poller.drain();
    await expectConverged(client, env);
  });
});
