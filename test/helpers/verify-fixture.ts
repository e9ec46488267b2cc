/**
 * Set-up of the verification integration tests (test/integration/verify/): users-migration tables on
 * the shared DynamoDB Local, static items copied to both sides, the local CDC pipeline (optionally
 * gated), the real frontier tracker in a loop, and a verify run through the local state machine.
 */
import {
  BatchWriteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { fromSdkItem, toSdkItem, makeDynamoClient } from '../../adapters/dynamodb';
import { ControlStore } from '../../adapters/control-store';
import { StreamShardReader, makeStreamsClient } from '../../adapters/stream-shards';
import { BackfillStatus, ControlKey, initialState } from '../../core/control';
import type { VerifyReport } from '../../core/verify';
import { DYNAMODB_LOCAL_CREATION_GRANULARITY_MS } from '../../core/frontier';
import { BACKFILL_SEQ, type Migration, type Item, canonicalItem } from '../../core/model';
import { usersMigration } from '../../examples/users/migration';
import { buildFrontierTracker } from '../../lambdas/frontier/deps';
import type { KeyReadPort, VerifyDeps } from '../../lambdas/verify/contract';
import { buildSyncDeps } from '../../lambdas/sync/deps';
import { makeSyncHandler } from '../../lambdas/sync/handler';
import { LocalDeadLetterQueue, StreamPoller } from '../../local/stream-poller';
import { localVerifyDeps, startLocalVerify, verifyLambdas } from '../../local/verify';
import { VerifyFunction } from '../../stepfunctions/verify';
import { testClient, testEndpoint } from './dynamo';
import { type UsersTables, createUsersTables } from './users-tables';

export type Setup = UsersTables;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** A legacy key of the users migration. */
export const user = (id: string): Item => ({ userId: { S: id } });
/** The new-table key of legacy item `id`. */
export const newKey = (id: string): Item => usersMigration.mapKey(user(id));

/**
 * Creates `<prefix>-legacy` (with a stream), `<prefix>-new` and `<prefix>-control`, with STATE saying the
 * backfill is COMPLETE (verification judges only then: core/verify/gate.ts); `backfillComplete: false`
 * leaves STATE unwritten, as right after a deploy.
 */
export async function setupTables(
  prefix: string,
  options: { backfillComplete?: boolean } = {},
): Promise<Setup> {
  const client = testClient();
  try {
    const s = await createUsersTables(client, prefix);
    if (options.backfillComplete ?? true) {
      const now = Date.now();
      await new ControlStore(client, s.controlTableName, s.migration.id).changeState(
        undefined,
        {
          ...initialState(s.migration.id, 0, now),
          backfill: { status: BackfillStatus.COMPLETE, runId: 'fixture', completedAt: now },
        },
        {
          migrationId: s.migration.id,
          at: now,
          actor: 'test',
          action: 'backfill-complete',
          reason: 'fixture',
        },
        `fixture-${prefix}`,
      );
    }
    return s;
  } finally {
    client.destroy();
  }
}

/** Legacy item `s-<i>`, with a 38-digit number, a string set and a map. */
export function staticItem(i: number): Item {
  return {
    userId: { S: `s-${i}` },
    fullName: { S: `Static ${i}` },
    n: { N: `12345678901234567890123456789012345.${i}` },
    tags: { SS: ['a', `t${i}`] },
    address: { M: { city: { S: `City ${i}` } } },
  };
}

/** Legacy items s-0 .. s-`n-1` (`staticItem` of each). */
export const staticItems = (n: number): Item[] => Array.from({ length: n }, (_, i) => staticItem(i));

/** Puts `items` into `table`, 25 a batch. */
export async function batchPut(table: string, items: readonly Item[]): Promise<void> {
  const client = testClient();
  for (let i = 0; i < items.length; i += 25) {
    await client.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [table]: items.slice(i, i + 25).map((it) => ({ PutRequest: { Item: toSdkItem(it) } })),
        },
      }),
    );
  }
  client.destroy();
}

/** Puts `legacy` into the legacy table and `mapItem` of each, plus `metadata`, into the new table. */
export async function copyToBoth(
  migration: Migration,
  legacy: readonly Item[],
  metadata: Item = { _dr_seq: { S: BACKFILL_SEQ } },
): Promise<void> {
  await batchPut(migration.legacyTable.tableName, legacy);
  await batchPut(
    migration.newTable.tableName,
    legacy.map((l) => ({ ...migration.mapItem(l), ...metadata })),
  );
}

/**
 * Tables as `setupTables(prefix)` makes them, holding s-0 .. s-`n-1` in legacy and their exact copies,
 * plus `metadata`, in new (as a finished backfill leaves them; no CDC).
 */
export async function migratedTables(prefix: string, n: number, metadata?: Item): Promise<Setup> {
  const s = await setupTables(prefix);
  await copyToBoth(s.migration, staticItems(n), metadata);
  return s;
}

/** The new item under `key` (consistent read). */
export async function getNew(migration: Migration, key: Item): Promise<Item | undefined> {
  const client = testClient();
  const out = await client.send(
    new GetItemCommand({
      TableName: migration.newTable.tableName,
      Key: toSdkItem(key),
      ConsistentRead: true,
    }),
  );
  client.destroy();
  return out.Item ? fromSdkItem(out.Item) : undefined;
}

/** The legacy item `id` (consistent read; `{}` when absent). */
export async function getLegacy(client: DynamoDBClient, migration: Migration, id: string): Promise<Item> {
  const out = await client.send(
    new GetItemCommand({
      TableName: migration.legacyTable.tableName,
      Key: toSdkItem(user(id)),
      ConsistentRead: true,
    }),
  );
  return fromSdkItem(out.Item ?? {});
}

/** Sets `attribute = value` on legacy item `id` (an application write). */
export async function updateLegacy(
  client: DynamoDBClient,
  migration: Migration,
  id: string,
  attribute: string,
  value: string,
): Promise<void> {
  await client.send(
    new UpdateItemCommand({
      TableName: migration.legacyTable.tableName,
      Key: toSdkItem(user(id)),
      UpdateExpression: `SET ${attribute} = :v`,
      ExpressionAttributeValues: { ':v': { S: value } },
    }),
  );
}

/** Writes `displayName = junk` into the new item of legacy item `id` (drift no one else wrote). */
export async function junkNewItem(client: DynamoDBClient, migration: Migration, id: string): Promise<void> {
  await client.send(
    new UpdateItemCommand({
      TableName: migration.newTable.tableName,
      Key: toSdkItem(newKey(id)),
      UpdateExpression: 'SET displayName = :junk',
      ExpressionAttributeValues: { ':junk': { S: 'junk' } },
    }),
  );
}

/** Publishes a frontier an hour ahead, past every write, so the re-check can confirm drift. */
export async function publishFrontierPastEveryWrite(store: ControlStore, migrationId: string): Promise<void> {
  await store.put(
    ControlKey.FRONTIER,
    { migrationId, frontier: Date.now() + 3_600_000, computedAt: Date.now(), shards: [] },
    0,
  );
}

/** `localVerifyDeps` with a metrics sink that keeps the last value of each metric. */
export function depsWithMetrics(
  s: Setup,
  migration: Migration,
  client: DynamoDBClient,
): { deps: VerifyDeps; metrics: Record<string, number> } {
  const metrics: Record<string, number> = {};
  const deps: VerifyDeps = {
    ...localVerifyDeps({ client, migration, controlTableName: s.controlTableName }),
    metrics: {
      addMetric: (name, _unit, value) => (metrics[name] = value),
      publishStoredMetrics: () => undefined,
    },
  };
  return { deps, metrics };
}

/** A gated local CDC pipeline: `hold` keeps batches undelivered until `release`. */
export interface GatedCdc {
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

/**
 * The local CDC pipeline (as `startLocalCdc` wires it: real sync handler, local event source) with a
 * gate in front of the handler: while held, batches wait undelivered, so CDC lags deterministically.
 */
export async function startGatedCdc(s: Setup): Promise<GatedCdc> {
  const client = makeDynamoClient(testEndpoint());
  const streams = makeStreamsClient(testEndpoint());
  const real = makeSyncHandler(
    buildSyncDeps({
      client,
      migration: s.migration,
      controlTableName: s.controlTableName,
      newTableName: s.migration.newTable.tableName,
      env: {},
    }),
  );
  let gate: Promise<void> = Promise.resolve();
  let open: () => void = () => undefined;
  const poller = new StreamPoller({
    reader: new StreamShardReader(streams, s.streamArn),
    handler: async (event) => {
      await gate;
      return real(event);
    },
    deadLetters: new LocalDeadLetterQueue(),
    control: new ControlStore(client, s.controlTableName, s.migration.id),
    batchSize: 50,
    pollIntervalMs: 50,
  });
  await poller.start();
  return {
    hold: () => {
      gate = new Promise<void>((r) => (open = r));
    },
    release: () => open(),
    close: async () => {
      open();
      await poller.stop();
      client.destroy();
      streams.destroy();
    },
  };
}

/** Runs the real frontier tracker in a loop until stopped. */
export function runTracker(s: Setup): { stop: () => Promise<void> } {
  const { tracker } = buildFrontierTracker({
    endpoint: testEndpoint(),
    migration: s.migration,
    controlTableName: s.controlTableName,
    streamArn: s.streamArn,
    env: {},
    config: { creationGranularityMs: DYNAMODB_LOCAL_CREATION_GRANULARITY_MS, itemEvidenceAfterMs: 1000 },
  });
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        await tracker.step();
      } catch {
        // a failed step is retried by the next one, as in the Lambda loop
      }
      await sleep(150);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** Waits until the new table holds `predicate` for the key (CDC applied something). */
export async function waitForNew(
  migration: Migration,
  key: Item,
  predicate: (i: Item | undefined) => boolean,
): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (predicate(await getNew(migration, key))) return;
    await sleep(50);
  }
  throw new Error(`new item ${canonicalItem(key)} never reached the expected state`);
}

/** Waits until the new item under `key` carries another `_dr_seq` than `before` (CDC applied a write). */
export async function waitForNewSequence(migration: Migration, key: Item, before: Item | undefined) {
  await waitForNew(
    migration,
    key,
    (i) =>
      canonicalItem({ s: i?._dr_seq ?? { NULL: true } }) !==
      canonicalItem({ s: before?._dr_seq ?? { NULL: true } }),
  );
}

/** The verify Lambdas of `deps`, with `hook` run before each invocation of the re-check. */
export function lambdasBeforeRecheck(
  deps: VerifyDeps,
  hook: () => Promise<void> | void,
): Record<string, (p: never) => Promise<unknown>> {
  const lambdas = verifyLambdas(deps);
  const recheck = lambdas[VerifyFunction.RECHECK] as (p: unknown) => Promise<unknown>;
  lambdas[VerifyFunction.RECHECK] = (async (p: unknown) => {
    await hook();
    return recheck(p);
  }) as never;
  return lambdas;
}

/**
 * The verify Lambdas of `deps`, releasing the held `cdc` when the re-check first starts (then running
 * `then`, once): the first pass certainly saw the writes CDC held differ, and the re-check must clear them.
 */
export function releaseCdcAtFirstRecheck(
  deps: VerifyDeps,
  cdc: GatedCdc,
  then: () => Promise<void> | void = () => undefined,
): Record<string, (p: never) => Promise<unknown>> {
  let released = false;
  return lambdasBeforeRecheck(deps, async () => {
    if (released) return;
    released = true;
    cdc.release();
    await then();
  });
}

/** `deps` whose `side` store runs `hook` with the keys after each batch read, before answering it. */
export function afterBatchGet(
  deps: VerifyDeps,
  side: 'legacy' | 'fresh',
  hook: (keys: readonly Item[]) => Promise<void>,
): VerifyDeps {
  const store = deps[side];
  const hooked: KeyReadPort = {
    get: (key, consistent) => store.get(key, consistent),
    batchGet: async (keys, consistent) => {
      const out = await store.batchGet(keys, consistent);
      await hook(keys);
      return out;
    },
  };
  return { ...deps, [side]: hooked };
}

/** Runs verify through the local state machine to its end and returns the stored report. */
export async function runVerify(
  deps: VerifyDeps,
  input: { repair: boolean; runId: string; totalSegments?: number },
  lambdas?: Record<string, (p: never) => Promise<unknown>>,
): Promise<VerifyReport> {
  const run = startLocalVerify(
    deps,
    { totalSegments: 3, ...input },
    { name: input.runId, ...(lambdas ? { lambdas } : {}) },
  );
  await run.result;
  await run.settled();
  const report = await deps.store.get<VerifyReport>(ControlKey.verify(input.runId));
  if (!report) throw new Error('no report');
  return report;
}

/** The legacy `userId`s a report samples for `cls`, sorted. */
export const legacyIds = (report: VerifyReport, cls: string) =>
  (report.samples?.[cls] ?? []).map((k) => (k.userId as { S: string } | undefined)?.S).sort();

/** A live verification set-up: tables, CDC (gated) and the frontier tracker running, `n` static keys copied by CDC. */
export async function liveSetup(prefix: string, n: number) {
  const s = await setupTables(prefix);
  const cdc = await startGatedCdc(s);
  const tracker = runTracker(s);
  const client = testClient();
  await batchPut(s.migration.legacyTable.tableName, staticItems(n));
  await waitForNew(s.migration, newKey(`s-${n - 1}`), (i) => i !== undefined);
  return { s, cdc, tracker, client, m: s.migration };
}
