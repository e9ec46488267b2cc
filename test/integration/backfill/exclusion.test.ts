/**
 * The backfill on DynamoDB Local refuses what would break it: a second concurrent start (the lock), a
 * second runner on the same segment (the checkpoint's condition), a start while CDC is not consuming.
 */
import { BackfillStatus } from '../../../core';
import { makePageHandler } from '../../../lambdas/backfill/page';
import { startLocalBackfill } from '../../../local/backfill';
import { LocalExecutionFailedError } from '../../../local/state-machine-runner';
import { countItems } from '../../helpers/dynamo';
import { backfillSuite, checkpoints, depsFor, expectConverged } from '../../helpers/backfill-fixture';

backfillSuite(({ client, runs, scenario }) => {
  it('refuses the second of two concurrent starts with BackfillAlreadyRunningError', async () => {
    // Prepare
    const env = await scenario('bf-lock', 1_500);
    const deps = depsFor(client, env);

    // Act
    const a = startLocalBackfill(deps, { runId: 'first', totalSegments: 2 });
    const b = startLocalBackfill(deps, { runId: 'second', totalSegments: 2 });
    runs.push(a, b);
    const outcomes = await Promise.allSettled([a.result, b.result]);

    // Assess
    const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect(failures).toHaveLength(1);
    const error = failures[0]?.reason as LocalExecutionFailedError;
    expect(error).toBeInstanceOf(LocalExecutionFailedError);
    expect(error.error).toBe('BackfillAlreadyRunningError');
    expect(error.cause).toMatch(/holds the backfill lock/);
    await expectConverged(client, env);
  });

  it('lets only one of two runners on the same segment advance its checkpoint; the other stops with CheckpointConflictError', async () => {
    // Prepare: no state machine, two page workers on segment 0 of 1 at once
    const env = await scenario('bf-conflict', 2_000, false);
    const deps = depsFor(client, env, { pageBudgetMs: 60_000 });
    const page = makePageHandler(deps);
    const payload = { runId: 'twin', segment: 0, totalSegments: 1 };

    // Act
    const outcomes = await Promise.allSettled([page(payload), page(payload)]);
    const rerun = await page(payload); // whoever lost: a new invocation continues from the checkpoint

    // Assess
    const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(rejected.length).toBeGreaterThanOrEqual(1);
    for (const r of rejected) expect((r.reason as Error).name).toBe('CheckpointConflictError');
    expect(rerun.done).toBe(true);
    const [cp] = await checkpoints(env.store);
    expect(cp?.done).toBe(true);
    // The loser's writes of its last page are real copies the checkpoint never counted; the winner
    // counted the same keys as already present.
    expect((cp?.copied ?? 0) + (cp?.skippedExists ?? 0)).toBe(cp?.scanned);
    expect(cp?.scanned).toBe(2_000);
    expect(await countItems(client, env.migration.newTable.tableName)).toBe(2_000);
  });

  it('refuses to start when CDC is not consuming the stream (no local poller)', async () => {
    // Prepare
    const env = await scenario('bf-nocdc', 10, false);

    // Act
    const run = startLocalBackfill(depsFor(client, env), { runId: 'nocdc', totalSegments: 1 });
    runs.push(run);

    // Assess
    await expect(run.result).rejects.toMatchObject({ error: 'CdcNotConsumingError' });
    expect(await countItems(client, env.migration.newTable.tableName)).toBe(0);
    expect((await env.store.getState())?.backfill.status ?? BackfillStatus.NOT_STARTED).toBe(
      BackfillStatus.NOT_STARTED,
    );
  });
});
