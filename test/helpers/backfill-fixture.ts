/**
 * Set-up of the backfill state machine integration tests (test/integration/backfill/): tables with a
 * populated legacy table from before its stream, CDC over that stream, the local backfill's deps, the
 * operator controls, and the exact convergence check (invariant 1).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ControlConflictError, ControlStore } from '../../adapters/control-store';
import {
  type Item,
  type Migration,
  type MigrationState,
  type SegmentCheckpoint,
  canonicalItem,
  initialState,
  isTombstone,
  itemsEqual,
  keyOf,
  metadataNames,
  stripMetadata,
} from '../../core';
import { usersMigration } from '../../examples/users/migration';
import type { BackfillDeps } from '../../lambdas/backfill/context';
import { type LocalBackfill, localBackfillDeps } from '../../local/backfill';
import { type LocalCdc } from '../../local/local-cdc';
import { LegacyWorkload } from '../../local/workload';
import { createBackfillTables, usersMigrationOver } from './backfill-tables';
import { enableStream, scanAll, testClient } from './dynamo';
import { startUsersCdc } from './users-tables';
import { waitUntil } from './wait';

const names = metadataNames();

/** The tables of one scenario, its workload and (optionally) CDC. */
export interface Env {
  migration: Migration;
  control: string;
  store: ControlStore;
  workload: LegacyWorkload;
  streamArn?: string;
  cdc?: LocalCdc;
}

/**
 * Tables of one scenario: a legacy table populated with `items` items BEFORE its stream is enabled
 * (so, as in a real migration, the existing items are not in the stream and only the backfill can
 * copy them), then the stream, then (optionally) CDC consuming it from TRIM_HORIZON.
 */
export async function setUp(
  client: DynamoDBClient,
  tag: string,
  items: number,
  withCdc = true,
  pageSize = 100,
  /** More legacy items written before the stream exists (only the backfill sees them). */
  extra: readonly Item[] = [],
): Promise<Env> {
  const { migration, legacy, control } = await createBackfillTables(client, tag, {
    tombstoneTtl: true,
    migration: (l, t) => ({
      ...usersMigrationOver(l, t),
      backfill: { ...usersMigration.backfill, pageSize },
    }),
  });
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
  const streamArn = await enableStream(client, legacy);
  env.streamArn = streamArn;
  env.cdc = await startUsersCdc(
    { migration, streamArn, controlTableName: control },
    { poller: { heartbeatMs: 1000 } },
  );
  return env;
}

/** One describe block's client, the runs its tests started, and its scenarios' set-up. */
export interface BackfillScenarios {
  readonly client: DynamoDBClient;
  readonly runs: LocalBackfill[];
  /** `setUp` with the block's client, the scenario kept for the clean-up after all its tests. */
  scenario(...args: SetUpArgs): Promise<Env>;
}

/** The arguments of `setUp` after the client. */
type SetUpArgs = Parameters<typeof setUp> extends [DynamoDBClient, ...infer Rest] ? Rest : never;

/**
 * One client for a describe block, and the scenarios and runs it started: after all its tests, the
 * runs are aborted and settled, CDC closed and the client destroyed.
 */
export function backfillScenarios(): BackfillScenarios {
  const client = testClient();
  const envs: Env[] = [];
  const runs: LocalBackfill[] = [];
  afterAll(async () => {
    for (const r of runs) r.abort();
    await Promise.all(runs.map((r) => r.settled()));
    await Promise.all(envs.map((e) => e.cdc?.close()));
    client.destroy();
  });
  return {
    client,
    runs,
    async scenario(...args) {
      const env = await setUp(client, ...args);
      envs.push(env);
      return env;
    },
  };
}

/**
 * The suite of the backfill state machine on DynamoDB Local: `tests` declares its tests over one
 * `backfillScenarios()`; each test may take `timeoutMs`.
 */
export function backfillSuite(tests: (s: BackfillScenarios) => void, timeoutMs = 180_000): void {
  jest.setTimeout(timeoutMs);
  describe('Integration: backfill state machine on DynamoDB Local', () => tests(backfillScenarios()));
}

/** The local backfill's deps for `env` (pages of 400 ms unless `settings` say otherwise). */
export function depsFor(
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
export async function setControls(
  store: ControlStore,
  patch: Partial<MigrationState['controls']>,
): Promise<void> {
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
export async function expectConverged(client: DynamoDBClient, env: Env): Promise<void> {
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

/** Every segment checkpoint of the run. */
export async function checkpoints(store: ControlStore): Promise<SegmentCheckpoint[]> {
  return store.list<SegmentCheckpoint>('SEGMENT#');
}

/** Polls `predicate` every 50 ms until it holds (guard: `timeoutMs`). */
export async function waitFor(
  what: string,
  predicate: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  await waitUntil(what, predicate, { timeoutMs, intervalMs: 50 });
}
