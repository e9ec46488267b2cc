/**
 * Issue 4, the backfill on DynamoDB Local: the deployed definition run by the local interpreter with
 * every Task bound to the real handlers, racing the real CDC pipeline (local event source + sync
 * handler) and a live workload; crash-and-resume, pause, rate change, the lock, poison items and the
 * continuation as a new execution.
 */
import { type DynamoDBClient, ScanCommand, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { ControlConflictError, ControlStore } from '../../../adapters/control-store';
import { fromSdkItem } from '../../../adapters/dynamodb';
import { CONTROL_TABLE_KEY, createTable } from '../../../adapters/tables';
import {
  BackfillStatus,
  ControlKey,
  type Item,
  type Migration,
  type MigrationState,
  type SegmentCheckpoint,
  canonicalItem,
  initialState,
  itemFromDynamoJson,
  isTombstone,
  itemsEqual,
  keyOf,
  metadataNames,
  sequenceOf,
  stripMetadata,
} from '../../../core';
import { usersMigration } from '../../../examples/users/migration';
import {
  type LocalBackfill,
  backfillLambdas,
  localBackfillDeps,
  startLocalBackfill,
} from '../../../local/backfill';
import { type LocalCdc, startLocalCdc } from '../../../local/local-cdc';
import { LocalExecutionFailedError } from '../../../local/state-machine-runner';
import { LegacyWorkload } from '../../../local/workload';
import type { BackfillDeps, SegmentPayload } from '../../../lambdas/backfill/context';
import type { ControlsResult } from '../../../lambdas/backfill/controls';
import { makePageHandler } from '../../../lambdas/backfill/page';
import { withInlineMaps } from '../../../stepfunctions/asl';
import { BackfillFunction, backfillDefinition } from '../../../stepfunctions/backfill';
import { testClient, testEndpoint, uniqueName } from '../../helpers/dynamo';

jest.setTimeout(180_000);

const names = metadataNames();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Env {
  migration: Migration;
  control: string;
  store: ControlStore;
  workload: LegacyWorkload;
  streamArn?: string;
  cdc?: LocalCdc;
}

async function scanAll(client: DynamoDBClient, table: string): Promise<Item[]> {
  const out: Item[] = [];
  let start: Record<string, never> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    out.push(...(page.Items ?? []).map(fromSdkItem));
    start = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start);
  return out;
}

async function countItems(client: DynamoDBClient, table: string): Promise<number> {
  let n = 0;
  let start: Record<string, never> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: table, Select: 'COUNT', ExclusiveStartKey: start }),
    );
    n += page.Count ?? 0;
    start = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start);
  return n;
}

/**
 * Tables of one scenario: a legacy table populated with `items` items BEFORE its stream is enabled
 * (so, as in a real migration, the existing items are not in the stream and only the backfill can
 * copy them), then the stream, then (optionally) CDC consuming it from TRIM_HORIZON.
 */
async function setUp(
  client: DynamoDBClient,
  tag: string,
  items: number,
  withCdc = true,
  pageSize = 100,
  /** More legacy items written before the stream exists (only the backfill sees them). */
  extra: readonly Item[] = [],
): Promise<Env> {
  const legacy = uniqueName(`${tag}-legacy`);
  const target = uniqueName(`${tag}-new`);
  const control = uniqueName(`${tag}-control`);
  const migration: Migration = {
    ...usersMigration,
    legacyTable: { ...usersMigration.legacyTable, tableName: legacy },
    newTable: { ...usersMigration.newTable, tableName: target },
    backfill: { ...usersMigration.backfill, pageSize },
  };
  await createTable(client, legacy, migration.legacyTable.key);
  await createTable(client, target, migration.newTable.key, { ttlAttribute: names.ttl });
  await createTable(client, control, CONTROL_TABLE_KEY);
  const workload = new LegacyWorkload({
    client,
    tableName: legacy,
    key: migration.legacyTable.key,
    keyCount: items,
    concurrency: 8,
    seed: items,
    fidelityProbability: 0.02,
  });
  await workload.populate();
  for (const item of extra) await workload.put(item);
  const store = new ControlStore(client, control, migration.id);
  const env: Env = { migration, control, store, workload };
  if (!withCdc) return env;
  const updated = await client.send(
    new UpdateTableCommand({
      TableName: legacy,
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  env.streamArn = updated.TableDescription?.LatestStreamArn as string;
  env.cdc = await startLocalCdc({
    endpoint: testEndpoint(),
    migration,
    streamArn: env.streamArn,
    controlTableName: control,
    poller: { heartbeatMs: 1000 },
  });
  return env;
}

function depsFor(
  client: DynamoDBClient,
  env: Env,
  settings: Partial<BackfillDeps['settings']> = {},
): BackfillDeps {
  return localBackfillDeps({
    client,
    migration: env.migration,
    controlTableName: env.control,
    ...(env.streamArn ? { streamArn: env.streamArn } : {}),
    settings: { pageBudgetMs: 400, ...settings },
  });
}

/** Changes the operator controls in STATE (with audit), as the CLI will. */
async function setControls(store: ControlStore, patch: Partial<MigrationState['controls']>): Promise<void> {
  for (;;) {
    const current = await store.getState();
    const base = current ?? { ...initialState(store.migrationId, 0, Date.now()) };
    const { version: _v, ...rest } = base;
    try {
      await store.changeState(
        current,
        {
          ...rest,
          controls: { ...base.controls, ...patch },
          updatedAt: Date.now(),
          updatedBy: 'test-operator',
        },
        {
          migrationId: store.migrationId,
          at: Date.now(),
          actor: 'test-operator',
          action: 'controls',
          reason: JSON.stringify(patch),
        },
        `${Date.now()}-${Math.random()}`,
      );
      return;
    } catch (err) {
      if (!(err instanceof ControlConflictError)) throw err;
    }
  }
}

/**
 * Convergence (invariant 1) checked exactly: every legacy item is in new as mapItem(legacy) plus
 * metadata; every key the workload deleted is a tombstone; nothing in new lacks a legacy origin.
 */
async function expectConverged(client: DynamoDBClient, env: Env): Promise<void> {
  const m = env.migration;
  const legacyItems = await scanAll(client, m.legacyTable.tableName);
  const newItems = await scanAll(client, m.newTable.tableName);
  const byKey = new Map(newItems.map((i) => [canonicalItem(keyOf(i, m.newTable.key)), i]));
  const mismatches: string[] = [];
  for (const legacy of legacyItems) {
    const id = canonicalItem(m.mapKey(keyOf(legacy, m.legacyTable.key)));
    const stored = byKey.get(id);
    byKey.delete(id);
    if (
      !stored ||
      isTombstone(stored, names) ||
      !itemsEqual(stripMetadata(stored, names), m.mapItem(legacy))
    ) {
      mismatches.push(
        `${id}: legacy ${canonicalItem(legacy)} new ${stored ? canonicalItem(stored) : 'absent'}`,
      );
    }
  }
  const deleted = new Set(
    env.workload.history
      .finalStates()
      .filter((f) => f.item === undefined)
      .map((f) => canonicalItem(m.mapKey(f.key))),
  );
  for (const id of deleted) {
    const stored = byKey.get(id);
    byKey.delete(id);
    if (!stored || !isTombstone(stored, names))
      mismatches.push(`${id}: deleted in legacy, no tombstone in new`);
  }
  for (const [id, stored] of byKey)
    mismatches.push(`${id}: in new without a legacy origin: ${canonicalItem(stored)}`);
  expect(mismatches.slice(0, 5)).toEqual([]);
  expect(mismatches).toHaveLength(0);
}

async function checkpoints(store: ControlStore): Promise<SegmentCheckpoint[]> {
  return store.list<SegmentCheckpoint>('SEGMENT#');
}

async function waitFor(what: string, predicate: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('Integration: backfill state machine on DynamoDB Local', () => {
  const client = testClient();
  const envs: Env[] = [];
  const runs: LocalBackfill[] = [];

  afterAll(async () => {
    for (const r of runs) r.abort();
    await Promise.all(runs.map((r) => r.settled()));
    await Promise.all(envs.map((e) => e.cdc?.close()));
    client.destroy();
  });

  it('converges with the stores equal when 20,000 items are backfilled while a workload races the scan through CDC', async () => {
    // Prepare
    const env = await setUp(client, 'bf-race', 20_000, true, 500); // larger pages: fewer requests per item
    envs.push(env);
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

  it('resumes from checkpoints after the execution is killed, without rescanning finished segments', async () => {
    // Prepare: segments 0 and 1 run first (MaxConcurrency 2), so some finish while others have not started
    const env = await setUp(client, 'bf-resume', 4_000);
    envs.push(env);
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

  it('stops copying within one page when paused and continues when resumed', async () => {
    // Prepare: a page worker that would copy its whole segment in one invocation unless it notices
    // the pause; the pause is set while the first page is being written (a hook, not a timer).
    const env = await setUp(client, 'bf-pause', 3_000);
    envs.push(env);
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
    const env = await setUp(client, 'bf-rate', 5_000, true, 500);
    envs.push(env);
    await setControls(env.store, { rateLimitPerSecond: 100 });
    const clock = { t: Date.now() };
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

  it('refuses the second of two concurrent starts with BackfillAlreadyRunningError', async () => {
    // Prepare
    const env = await setUp(client, 'bf-lock', 1_500);
    envs.push(env);
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
    const env = await setUp(client, 'bf-conflict', 2_000, false);
    envs.push(env);
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
    const env = await setUp(client, 'bf-nocdc', 10, false);
    envs.push(env);

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

  it('records a poison item with its reason and counts it instead of losing it', async () => {
    // Prepare: one legacy item the example mapping refuses (it reserves "profile"), from before the
    // stream (so CDC never sees it and stays healthy: the preflight checks that)
    const poison = { userId: { S: 'poison-1' }, profile: { S: 'taken' } };
    const env = await setUp(client, 'bf-poison', 300, true, 100, [poison]);
    envs.push(env);

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

  it('continues as new executions when the round bounds are reached, and runs the same with inline Maps', async () => {
    // Prepare
    const env = await setUp(client, 'bf-chain', 1_200);
    envs.push(env);
    const deps = depsFor(client, env, { pageBudgetMs: 1 });
    const definition = backfillDefinition();
    const map = definition.States.CopySegments as { ItemProcessor: { ProcessorConfig?: { Mode: string } } };
    expect(map.ItemProcessor.ProcessorConfig?.Mode).toBe('DISTRIBUTED');

    // Act: 2 iterations per segment per round, 2 rounds per execution
    const chained = startLocalBackfill(deps, {
      runId: 'chain',
      totalSegments: 2,
      maxIterationsPerRound: 2,
      maxRoundsPerExecution: 2,
    });
    runs.push(chained);
    await chained.result;

    // Assess
    expect(chained.executions.length).toBeGreaterThan(1);
    const transitions = chained.executions.map(
      (e) => e.events.filter((ev) => ev.type === 'StateEntered').length,
    );
    // Per execution: 2 rounds x 2 segments x 2 iterations x at most 6 states + the outer states.
    for (const n of transitions) expect(n).toBeLessThanOrEqual(2 * 2 * 2 * 6 + 2 * 6 + 10);
    await expectConverged(client, env);
    expect(new Set(chained.executions.map((e) => e.name)).size).toBe(chained.executions.length);

    // Act: the same backfill with every Map INLINE, on fresh tables
    const inlineEnv = await setUp(client, 'bf-inline', 600);
    envs.push(inlineEnv);
    const inline = startLocalBackfill(
      depsFor(client, inlineEnv),
      { runId: 'inline', totalSegments: 3 },
      {
        definition: withInlineMaps(definition),
        lambdas: backfillLambdas(depsFor(client, inlineEnv)),
      },
    );
    runs.push(inline);
    await inline.result;
    await expectConverged(client, inlineEnv);
    const seqs = (await scanAll(client, inlineEnv.migration.newTable.tableName)).map((i) =>
      sequenceOf(i, names),
    );
    expect(new Set(seqs)).toEqual(new Set(['0'.repeat(40)]));
  });
});
