/**
 * The backfill on DynamoDB Local: a legacy item the mapping refuses is recorded as poison with its
 * reason and counted in STATE and in the segment checkpoints, instead of being lost.
 */
import { startLocalBackfill } from '../../../local/backfill';
import { backfillSuite, checkpoints, depsFor } from '../../helpers/backfill-fixture';

backfillSuite(({ client, runs, scenario }) => {
  it('records a poison item with its reason and counts it instead of losing it', async () => {
    // Prepare: one legacy item the example mapping refuses (it reserves "profile"), from before the
    // stream (so CDC never sees it and stays healthy: the preflight checks that)
    const poison = { userId: { S: 'poison-1' }, profile: { S: 'taken' } };
    const env = await scenario('bf-poison', 300, true, 100, [poison]);

    // Act
    const run = startLocalBackfill(depsFor(client, env), { runId: 'poison', totalSegments: 2 });
    runs.push(run);
    await run.result;

    // Assess
    const records = await env.store.list<{ reason: string; key: unknown }>('BACKFILL_POISON#');
    expect(records).toHaveLength(1);
    expect(records[0]?.reason).toMatch(/profile/);
    expect(records[0]?.key).toEqual({ userId: { S: 'poison-1' } });
    expect((await env.store.getState())?.backfill.poison).toBe(1);
    expect((await checkpoints(env.store)).reduce((a, c) => a + c.poison, 0)).toBe(1);
  });
});
