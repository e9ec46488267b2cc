/**
 * Verification run control on DynamoDB Local, without CDC: the run lock, pausing with the backfill
 * controls, the bound on waiting for lag, the round bound (continuing as a new execution), and day-one
 * safety (no judgement before the backfill is COMPLETE).
 */
import { ControlKey } from '../../../core/control';
import { VerifyAlreadyRunningError, type VerifyReport } from '../../../core/verify';
import { localVerifyDeps, startLocalVerify, verifyLambdas } from '../../../local/verify';
import { VerifyFunction } from '../../../stepfunctions/verify';
import { testClient } from '../../helpers/dynamo';
import {
  batchPut,
  depsWithMetrics,
  getNew,
  junkNewItem,
  legacyIds,
  migratedTables,
  newKey,
  runVerify,
  setupTables,
  staticItem,
} from '../../helpers/verify-fixture';

jest.setTimeout(90_000);

describe('Integration: verification run control (lock, pause, lag bound, history bound)', () => {
  it('never lets two runs overlap, and pauses with the backfill controls', async () => {
    // Prepare
    const s = await migratedTables('vf-lock', 20);
    const client = testClient();
    const deps = localVerifyDeps({ client, migration: s.migration, controlTableName: s.controlTableName });
    const control = verifyLambdas(deps)[VerifyFunction.CONTROL] as (p: unknown) => Promise<unknown>;
    const scan = verifyLambdas(deps)[VerifyFunction.SCAN] as (p: unknown) => Promise<{ status: string }>;
    const first = (await control({
      op: 'preflight',
      input: { runId: 'run-a', totalSegments: 1 },
      executionId: 'exec-a',
      executionName: 'run-a',
    })) as { runId: string };
    const before = await deps.store.getState();
    if (!before) throw new Error('the fixture writes STATE');
    await deps.store.changeState(
      before,
      { ...before, controls: { paused: true, rateLimitPerSecond: 0 } },
      { migrationId: s.migration.id, at: Date.now(), actor: 'test', action: 'pause', reason: 'test' },
      'pause-1',
    );

    // Act
    const second = control({
      op: 'preflight',
      input: { runId: 'run-b' },
      executionId: 'exec-b',
      executionName: 'run-b',
    });
    const viaMachine = startLocalVerify(deps, { runId: 'run-c' }, { name: 'run-c' });
    const paused = await scan({ runId: 'run-a', side: 'legacy', segment: 0, totalSegments: 1 });
    const controls = await control({
      op: 'controls',
      runId: 'run-a',
      side: 'legacy',
      segment: 0,
      totalSegments: 1,
    });

    // Assess
    expect(first.runId).toBe('run-a');
    await expect(second).rejects.toThrow(VerifyAlreadyRunningError);
    await expect(viaMachine.result).resolves.toBeDefined();
    expect(await deps.store.get(ControlKey.verify('run-c'))).toBeUndefined();
    expect(paused.status).toBe('PAUSED');
    expect(controls).toEqual({ done: false, paused: true, waitSeconds: expect.any(Number) });
    client.destroy();
  });

  it('reports drift the frontier never covers as unconfirmed-lag, within the wait bound, and does not repair it', async () => {
    // Prepare: no CDC and no frontier tracker, junk in one new item
    const s = await migratedTables('vf-nolag', 10);
    const client = testClient();
    await junkNewItem(client, s.migration, 's-3');
    const deps = localVerifyDeps({
      client,
      migration: s.migration,
      controlTableName: s.controlTableName,
      settings: { maxLagWaitMs: 1_000, budgetMs: 600 },
    });

    // Act
    const report = await runVerify(deps, { repair: true, runId: 'nolag-1', totalSegments: 2 });
    client.destroy();

    // Assess
    expect(report).toMatchObject({
      clean: false,
      unconfirmedLag: 1,
      counts: { 'content-differs': 0 },
      repairs: { repaired: 0 },
      firstPass: { 'content-differs': 1 },
    });
    expect(legacyIds(report, 'unconfirmed-lag')).toEqual(['s-3']);
    const untouched = await getNew(s.migration, newKey('s-3'));
    expect(untouched?.displayName).toEqual({ S: 'junk' });
  });

  it('yields segments after maxIterationsPerRound and continues as a new execution of the same run', async () => {
    // Prepare: one page per invocation, one iteration per round, one round per execution
    const s = await migratedTables('vf-rounds', 60);
    const client = testClient();
    const deps = localVerifyDeps({
      client,
      migration: s.migration,
      controlTableName: s.controlTableName,
      settings: { pageSize: 20, budgetMs: 1 },
    });

    // Act
    const run = startLocalVerify(
      deps,
      {
        runId: 'rounds-1',
        totalSegments: 2,
        maxIterationsPerRound: 1,
        maxRoundsPerExecution: 2,
        repair: false,
      },
      { name: 'rounds-1' },
    );
    await run.result;
    await run.settled();
    const report = await deps.store.get<VerifyReport>(ControlKey.verify('rounds-1'));
    client.destroy();

    // Assess
    expect(run.executions.length).toBeGreaterThan(1);
    expect(report).toMatchObject({
      status: 'COMPLETE',
      clean: true,
      checksumsEqual: true,
      legacy: { scanned: 60 },
      counts: { match: 60 },
    });
  });

  it('judges nothing before the backfill is COMPLETE: the scheduled run ends SKIPPED, not failed, no drift', async () => {
    // Prepare: right after a deploy — legacy holds items, new holds nothing, STATE was never written
    const s = await setupTables('vf-day-one', { backfillComplete: false });
    await batchPut(s.migration.legacyTable.tableName, [staticItem(1), staticItem(2)]);
    const client = testClient();
    const { deps, metrics } = depsWithMetrics(s, s.migration, client);

    // Act: what the schedule starts
    const run = startLocalVerify(deps, { repair: true }, { name: 'tick-1' });
    const output = (await run.result) as { skipped?: { reason: string } };
    await run.settled();
    const report = await deps.store.get<VerifyReport>(ControlKey.verify('tick-1'));
    const lock = await deps.store.get(ControlKey.VERIFY_LOCK);
    client.destroy();

    // Assess: the execution succeeded at Skipped, said why, and counted nothing alarming
    expect(output.skipped?.reason).toBe('BACKFILL_NOT_STARTED');
    expect(report).toMatchObject({ status: 'SKIPPED', skipped: { reason: 'BACKFILL_NOT_STARTED' } });
    expect(report?.counts).toBeUndefined();
    expect(lock).toBeUndefined();
    expect(metrics).toEqual({ VerifySkipped: 1 });
  });
});
