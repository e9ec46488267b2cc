/**
 * Verification on DynamoDB Local: the deployed state machine definition run locally with the real
 * handlers, next to the real CDC pipeline (local event source + sync handler) and the real frontier
 * tracker, with a live workload while drift is injected.
 */
import {
  BatchWriteItemCommand,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { fromSdkItem, toSdkItem, makeDynamoClient } from '../../../adapters/dynamodb';
import { CONTROL_TABLE_KEY, createTable } from '../../../adapters/tables';
import { type AuditRecord, ControlKey, initialState } from '../../../core/control';
import { RepairTransactionError, VerifyAlreadyRunningError, type VerifyReport } from '../../../core/verify';
import { DYNAMODB_LOCAL_CREATION_GRANULARITY_MS } from '../../../core/frontier';
import { BACKFILL_SEQ, metadataNames, type Migration, type Item, canonicalItem } from '../../../core/model';
import { usersMigration } from '../../../examples/users/migration';
import { buildFrontierTracker } from '../../../lambdas/frontier/deps';
import type { VerifyDeps } from '../../../lambdas/verify/contract';
import { makeVerifyRepairHandler } from '../../../lambdas/verify/repair';
import { ControlStore } from '../../../adapters/control-store';
import { StreamShardReader, makeStreamsClient } from '../../../adapters/stream-shards';
import { buildSyncDeps } from '../../../lambdas/sync/deps';
import { makeSyncHandler } from '../../../lambdas/sync/handler';
import { startLocalCdc } from '../../../local/local-cdc';
import { LocalDeadLetterQueue, StreamPoller } from '../../../local/stream-poller';
import { localVerifyDeps, startLocalVerify, verifyLambdas } from '../../../local/verify';
import { VerifyFunction } from '../../../stepfunctions/verify';
import { LegacyWorkload } from '../../../local/workload';
import { testClient, testEndpoint, uniqueName } from '../../helpers/dynamo';

jest.setTimeout(90_000);

const names = metadataNames('_dr_');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const user = (id: string): Item => ({ userId: { S: id } });
const newKey = (id: string): Item => usersMigration.mapKey(user(id));

interface Setup {
  migration: Migration;
  streamArn: string;
  controlTableName: string;
}

async function setupTables(prefix: string): Promise<Setup> {
  const client = testClient();
  const migration: Migration = {
    ...usersMigration,
    legacyTable: { ...usersMigration.legacyTable, tableName: uniqueName(`${prefix}-legacy`) },
    newTable: { ...usersMigration.newTable, tableName: uniqueName(`${prefix}-new`) },
  };
  const { streamArn } = await createTable(
    client,
    migration.legacyTable.tableName,
    migration.legacyTable.key,
    {
      stream: true,
    },
  );
  await createTable(client, migration.newTable.tableName, migration.newTable.key);
  const controlTableName = uniqueName(`${prefix}-control`);
  await createTable(client, controlTableName, CONTROL_TABLE_KEY);
  client.destroy();
  if (!streamArn) throw new Error('no stream');
  return { migration, streamArn, controlTableName };
}

function staticItem(i: number): Item {
  return {
    userId: { S: `s-${i}` },
    fullName: { S: `Static ${i}` },
    n: { N: `12345678901234567890123456789012345.${i}` },
    tags: { SS: ['a', `t${i}`] },
    address: { M: { city: { S: `City ${i}` } } },
  };
}

async function batchPut(table: string, items: readonly Item[]): Promise<void> {
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

async function getNew(migration: Migration, key: Item): Promise<Item | undefined> {
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

/**
 * The local CDC pipeline (as `startLocalCdc` wires it: real sync handler, local event source) with a
 * gate in front of the handler: while held, batches wait undelivered, so CDC lags deterministically.
 */
async function startGatedCdc(s: Setup) {
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
function runTracker(s: Setup): { stop: () => Promise<void> } {
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
async function waitForNew(migration: Migration, key: Item, predicate: (i: Item | undefined) => boolean) {
  for (let i = 0; i < 200; i++) {
    if (predicate(await getNew(migration, key))) return;
    await sleep(50);
  }
  throw new Error(`new item ${canonicalItem(key)} never reached the expected state`);
}

async function runVerify(
  deps: VerifyDeps,
  input: { repair: boolean; runId: string; totalSegments?: number },
  lambdas?: Record<string, (p: never) => Promise<unknown>>,
) {
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

const legacyIds = (report: VerifyReport, cls: string) =>
  (report.samples?.[cls] ?? []).map((k) => (k.userId as { S: string } | undefined)?.S).sort();

describe('Integration: verification state machine with the real handlers', () => {
  it('reports a clean migrated table as clean with equal checksums on both sides', async () => {
    // Prepare: 300 legacy items, and the new table holding mapItem of each plus metadata
    const s = await setupTables('vf-clean');
    const legacy = Array.from({ length: 300 }, (_, i) => staticItem(i));
    await batchPut(s.migration.legacyTable.tableName, legacy);
    await batchPut(
      s.migration.newTable.tableName,
      legacy.map((l) => ({
        ...s.migration.mapItem(l),
        _dr_seq: { S: BACKFILL_SEQ },
        _dr_src: { S: 'backfill' },
        _dr_ts: { N: '1' },
      })),
    );
    // a tombstone of a deleted legacy item is not an extra
    await batchPut(s.migration.newTable.tableName, [
      { ...newKey('gone'), _dr_seq: { S: '9'.padStart(40, '0') }, _dr_del: { BOOL: true } },
    ]);
    const client = testClient();
    const metrics: Record<string, number> = {};
    const deps: VerifyDeps = {
      ...localVerifyDeps({ client, migration: s.migration, controlTableName: s.controlTableName }),
      metrics: {
        addMetric: (name, _unit, value) => (metrics[name] = value),
        publishStoredMetrics: () => undefined,
      },
    };

    // Act
    const report = await runVerify(deps, { repair: false, runId: 'clean-1' });
    client.destroy();

    // Assess
    expect(report).toMatchObject({
      status: 'COMPLETE',
      clean: true,
      checksumsEqual: true,
      unconfirmedLag: 0,
      legacy: { scanned: 300 },
      fresh: { scanned: 301, tombstones: 1 },
      counts: { match: 300, 'missing-in-new': 0, 'content-differs': 0, 'extra-in-new': 0 },
    });
    expect(report.legacy?.checksum).toEqual(report.fresh?.checksum);
    expect(report.lookupPass).toEqual({ scanned: 0, skipped: true });
    expect(report.extrasPass).toEqual({ scanned: 0, skipped: true });
    expect(metrics).toMatchObject({
      VerifyMatch: 300,
      VerifyConfirmedDrift: 0,
      VerifyUnconfirmedLag: 0,
      VerifyClean: 1,
    });
    expect(report.durationMs).toBeGreaterThanOrEqual(0);
    const lock = await deps.store.get<{ released: boolean }>(ControlKey.VERIFY_LOCK);
    expect(lock?.released).toBe(true);
  });

  it('reports exactly the injected drift under a live CDC workload, repairs it, and the next run is clean', async () => {
    // Prepare: CDC and the frontier tracker running; 60 static keys copied by CDC
    const s = await setupTables('vf-live');
    const cdc = await startGatedCdc(s);
    const tracker = runTracker(s);
    const client = testClient();
    const m = s.migration;
    await batchPut(
      m.legacyTable.tableName,
      Array.from({ length: 60 }, (_, i) => staticItem(i)),
    );
    await client.send(
      new DeleteItemCommand({ TableName: m.legacyTable.tableName, Key: toSdkItem(user('s-6')) }),
    );
    await waitForNew(m, newKey('s-6'), (i) => i?._dr_del !== undefined);
    await waitForNew(m, newKey('s-59'), (i) => i !== undefined);

    const workload = new LegacyWorkload({
      client,
      tableName: m.legacyTable.tableName,
      key: m.legacyTable.key,
      keyCount: 200,
      seed: 11,
      concurrency: 4,
    });
    const live = workload.run({ durationMs: 6_000, ratePerSecond: 150 });
    await sleep(500);

    // Inject drift on static keys (the workload writes only k-* keys) while the workload runs.
    const newTable = m.newTable.tableName;
    for (const id of ['s-1', 's-2', 's-3']) {
      await client.send(
        new UpdateItemCommand({
          TableName: newTable,
          Key: toSdkItem(newKey(id)),
          UpdateExpression: 'SET displayName = :junk',
          ExpressionAttributeValues: { ':junk': { S: 'junk' } },
        }),
      );
    }
    for (const id of ['s-4', 's-5'])
      await client.send(new DeleteItemCommand({ TableName: newTable, Key: toSdkItem(newKey(id)) }));
    await client.send(
      new PutItemCommand({
        TableName: newTable,
        Item: toSdkItem({ ...m.mapItem(staticItem(900)), _dr_seq: { S: BACKFILL_SEQ } }),
      }),
    );
    const tomb = await getNew(m, newKey('s-6'));
    await client.send(
      new PutItemCommand({
        TableName: newTable,
        Item: toSdkItem({
          ...m.mapItem(staticItem(6)),
          _dr_seq: tomb?._dr_seq as never,
          _dr_src: { S: 'cdc' },
        }),
      }),
    );
    await client.send(
      new PutItemCommand({
        TableName: newTable,
        Item: toSdkItem({ ...newKey('s-7'), _dr_seq: { S: '1'.padStart(40, '0') }, _dr_del: { BOOL: true } }),
      }),
    );
    const deps = localVerifyDeps({ client, migration: m, controlTableName: s.controlTableName });
    // Deterministic lag: CDC is held while s-20..s-24 change in legacy, and released only when the
    // re-check starts, so the first pass certainly sees them differ; the re-check must clear them.
    cdc.hold();
    for (let i = 20; i < 25; i++) {
      await client.send(
        new UpdateItemCommand({
          TableName: m.legacyTable.tableName,
          Key: toSdkItem(user(`s-${i}`)),
          UpdateExpression: 'SET fullName = :f',
          ExpressionAttributeValues: { ':f': { S: 'changed while CDC lags' } },
        }),
      );
    }
    const lambdas = verifyLambdas(deps);
    const recheck = lambdas[VerifyFunction.RECHECK] as (p: unknown) => Promise<unknown>;
    let released = false;
    lambdas[VerifyFunction.RECHECK] = (async (p: unknown) => {
      if (!released) {
        released = true;
        cdc.release();
      }
      return recheck(p);
    }) as never;

    // Act: a run with repair while the workload is still writing, then a second run after it stopped
    const first = await runVerify(deps, { repair: true, runId: 'live-1' }, lambdas);
    const ran = await live;
    await waitForNew(m, newKey('s-1'), () => true);
    await sleep(1500);
    const second = await runVerify(deps, { repair: false, runId: 'live-2' });
    const audits = (await deps.store.listAudit()).filter(
      (a: AuditRecord) => a.action === 'verify-repair' && a.detail?.runId === 'live-1',
    );
    await tracker.stop();
    await cdc.close();

    // Assess: exactly the injected keys, by class; lag on k-* keys never reported as drift
    expect(ran.failed).toBe(0);
    expect(first.firstPass?.match).toBeGreaterThan(50);
    expect(first.firstPass?.['content-differs']).toBeGreaterThanOrEqual(3 + 5);
    expect(first.lagResolved).toBeGreaterThanOrEqual(5);
    expect(first.lookupPass?.skipped).toBeUndefined();
    expect(first.extrasPass?.skipped).toBeUndefined();
    expect(legacyIds(first, 'content-differs')).toEqual(['s-1', 's-2', 's-3']);
    expect(legacyIds(first, 'missing-in-new')).toEqual(['s-4', 's-5']);
    expect(legacyIds(first, 'extra-in-new')).toEqual(['s-6', 's-900']);
    expect(legacyIds(first, 'tombstoned-in-new')).toEqual(['s-7']);
    expect(first).toMatchObject({
      clean: false,
      unconfirmedLag: 0,
      counts: { 'content-differs': 3, 'missing-in-new': 2, 'extra-in-new': 2, 'tombstoned-in-new': 1 },
      repairs: { repaired: 8, lostToCdc: 0 },
    });
    expect(audits).toHaveLength(8);
    expect(audits[0]?.detail).toEqual(
      expect.objectContaining({
        beforeHash: expect.any(String),
        afterHash: expect.any(String),
        class: expect.any(String),
      }),
    );
    expect(second).toMatchObject({
      clean: true,
      unconfirmedLag: 0,
      checksumsEqual: true,
      repairs: { repaired: 0 },
    });
    const fixed = await getNew(m, newKey('s-1'));
    const { _dr_seq: _s, _dr_src: _r, _dr_ts: _t, ...fixedPlain } = fixed ?? {};
    expect(canonicalItem(fixedPlain)).toBe(canonicalItem(m.mapItem(staticItem(1))));
    expect(fixed?._dr_src).toEqual({ S: 'repair' });
    expect((await getNew(m, newKey('s-6')))?._dr_del).toEqual({ BOOL: true });
    client.destroy();
  });

  it('lets a CDC write win over a repair that races it on the same key', async () => {
    // Prepare: CDC and tracker running; s-1 copied, then junk written to its new item
    const s = await setupTables('vf-race');
    const cdc = await startLocalCdc({
      endpoint: testEndpoint(),
      migration: s.migration,
      streamArn: s.streamArn,
      controlTableName: s.controlTableName,
      poller: { batchSize: 50, pollIntervalMs: 50 },
    });
    const tracker = runTracker(s);
    const client = testClient();
    const m = s.migration;
    await batchPut(m.legacyTable.tableName, [staticItem(1), staticItem(2)]);
    await waitForNew(m, newKey('s-1'), (i) => i !== undefined);
    await waitForNew(m, newKey('s-2'), (i) => i !== undefined);
    await client.send(
      new UpdateItemCommand({
        TableName: m.newTable.tableName,
        Key: toSdkItem(newKey('s-1')),
        UpdateExpression: 'SET displayName = :junk',
        ExpressionAttributeValues: { ':junk': { S: 'junk' } },
      }),
    );
    let raced = 0;
    const deps: VerifyDeps = {
      ...localVerifyDeps({ client, migration: m, controlTableName: s.controlTableName }),
      // Between the repair's reads and its write: a legacy update, applied by CDC before the write.
      beforeRepairWrite: async (key) => {
        raced++;
        const before = await getNew(m, key);
        await client.send(
          new UpdateItemCommand({
            TableName: m.legacyTable.tableName,
            Key: toSdkItem(user('s-1')),
            UpdateExpression: 'SET v = :v',
            ExpressionAttributeValues: { ':v': { S: 'cdc-wins' } },
          }),
        );
        await waitForNew(
          m,
          key,
          (i) =>
            canonicalItem({ s: i?._dr_seq ?? { NULL: true } }) !==
            canonicalItem({ s: before?._dr_seq ?? { NULL: true } }),
        );
      },
    };

    // Act
    const report = await runVerify(deps, { repair: true, runId: 'race-1', totalSegments: 1 });
    await tracker.stop();
    await cdc.close();

    // Assess: the repair lost; the new item is mapItem of the updated legacy item, written by CDC
    const legacyNow = fromSdkItem(
      (
        await client.send(
          new GetItemCommand({
            TableName: m.legacyTable.tableName,
            Key: toSdkItem(user('s-1')),
            ConsistentRead: true,
          }),
        )
      ).Item ?? {},
    );
    const stored = await getNew(m, newKey('s-1'));
    client.destroy();
    expect(raced).toBe(1);
    expect(report).toMatchObject({
      counts: { 'content-differs': 1 },
      repairs: { repaired: 0, lostToCdc: 1 },
    });
    expect(stored?._dr_src).toEqual({ S: 'cdc' });
    expect(stored?.v).toEqual({ S: 'cdc-wins' });
    const { _dr_seq, _dr_src, _dr_ts, ...plain } = stored ?? {};
    expect(canonicalItem(plain)).toBe(canonicalItem(m.mapItem(legacyNow)));
    expect(names.seq).toBe('_dr_seq');
  });

  it("stores no older content under a newer sequence when CDC writes between the repair's reads of new and legacy", async () => {
    // Prepare: CDC and tracker running; s-1 copied by CDC, then junk written to its new item
    const s = await setupTables('vf-reads');
    const cdc = await startLocalCdc({
      endpoint: testEndpoint(),
      migration: s.migration,
      streamArn: s.streamArn,
      controlTableName: s.controlTableName,
      poller: { batchSize: 50, pollIntervalMs: 50 },
    });
    const tracker = runTracker(s);
    const client = testClient();
    const m = s.migration;
    await batchPut(m.legacyTable.tableName, [staticItem(1), staticItem(2)]);
    await waitForNew(m, newKey('s-1'), (i) => i !== undefined);
    await waitForNew(m, newKey('s-2'), (i) => i !== undefined);
    await client.send(
      new UpdateItemCommand({
        TableName: m.newTable.tableName,
        Key: toSdkItem(newKey('s-1')),
        UpdateExpression: 'SET displayName = :junk',
        ExpressionAttributeValues: { ':junk': { S: 'junk' } },
      }),
    );
    let raced = 0;
    let cdcSeq: unknown;
    const deps: VerifyDeps = {
      ...localVerifyDeps({ client, migration: m, controlTableName: s.controlTableName }),
      // 1. the repair has read new (junk, _dr_seq = found); 2. a legacy update is applied by CDC
      // (_dr_seq = s > found); 3. only then does the repair read legacy, which reflects the update.
      betweenRepairReads: async (key) => {
        raced++;
        const before = await getNew(m, key);
        await client.send(
          new UpdateItemCommand({
            TableName: m.legacyTable.tableName,
            Key: toSdkItem(user('s-1')),
            UpdateExpression: 'SET v = :v',
            ExpressionAttributeValues: { ':v': { S: 'between-reads' } },
          }),
        );
        await waitForNew(
          m,
          key,
          (i) =>
            canonicalItem({ s: i?._dr_seq ?? { NULL: true } }) !==
            canonicalItem({ s: before?._dr_seq ?? { NULL: true } }),
        );
        cdcSeq = (await getNew(m, key))?._dr_seq;
      },
    };

    // Act
    const report = await runVerify(deps, { repair: true, runId: 'reads-1', totalSegments: 1 });
    await tracker.stop();
    await cdc.close();

    // Assess: the repair's condition on the _dr_seq it found failed (lost-to-cdc); the CDC write stands
    const legacyNow = fromSdkItem(
      (
        await client.send(
          new GetItemCommand({
            TableName: m.legacyTable.tableName,
            Key: toSdkItem(user('s-1')),
            ConsistentRead: true,
          }),
        )
      ).Item ?? {},
    );
    const stored = await getNew(m, newKey('s-1'));
    const audits = (await deps.store.listAudit()).filter((a) => a.detail?.runId === 'reads-1');
    client.destroy();
    expect(raced).toBe(1);
    expect(report).toMatchObject({ repairs: { repaired: 0, lostToCdc: 1 } });
    expect(audits).toEqual([]);
    expect(stored?._dr_src).toEqual({ S: 'cdc' });
    expect(stored?._dr_seq).toEqual(cdcSeq);
    expect(stored?.v).toEqual({ S: 'between-reads' });
    const { _dr_seq, _dr_src, _dr_ts, ...plain } = stored ?? {};
    expect(canonicalItem(plain)).toBe(canonicalItem(m.mapItem(legacyNow)));
  });
});

describe('Integration: verification run control (lock, pause, lag bound, history bound)', () => {
  /** Tables holding `n` legacy items and their exact copies in new, without CDC. */
  async function migrated(prefix: string, n: number): Promise<Setup> {
    const s = await setupTables(prefix);
    const legacy = Array.from({ length: n }, (_, i) => staticItem(i));
    await batchPut(s.migration.legacyTable.tableName, legacy);
    await batchPut(
      s.migration.newTable.tableName,
      legacy.map((l) => ({ ...s.migration.mapItem(l), _dr_seq: { S: BACKFILL_SEQ } })),
    );
    return s;
  }

  it('never lets two runs overlap, and pauses with the backfill controls', async () => {
    // Prepare
    const s = await migrated('vf-lock', 20);
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
    await deps.store.changeState(
      undefined,
      { ...initialState(s.migration.id, 0, Date.now()), controls: { paused: true, rateLimitPerSecond: 0 } },
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
    const s = await migrated('vf-nolag', 10);
    const client = testClient();
    await client.send(
      new UpdateItemCommand({
        TableName: s.migration.newTable.tableName,
        Key: toSdkItem(newKey('s-3')),
        UpdateExpression: 'SET displayName = :junk',
        ExpressionAttributeValues: { ':junk': { S: 'junk' } },
      }),
    );
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
    const s = await migrated('vf-rounds', 60);
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
});

describe('Integration: mapping defects are reported, never repaired', () => {
  /**
   * A faulty inverse (what a user's mapping may look like): `unmapItem` throws on items with `vip`, and
   * gives items with `moved` back under another key. Their new items are valid copies of legacy items.
   */
  function faultyInverse(s: Setup): Migration {
    return {
      ...s.migration,
      unmapItem: (item) => {
        if (item.vip !== undefined) throw new TypeError('this unmapItem cannot handle vip');
        const back = usersMigration.unmapItem(item);
        const id = (back.userId as { S: string }).S;
        return item.moved !== undefined ? { ...back, userId: { S: `${id}-elsewhere` } } : back;
      },
    };
  }

  /** Legacy items s-0..s-9 and two the faulty inverse cannot give back, all copied exactly to new. */
  async function copied(prefix: string, m: (s: Setup) => Migration) {
    const s = await setupTables(prefix);
    const migration = m(s);
    const legacy = [
      ...Array.from({ length: 10 }, (_, i) => staticItem(i)),
      { ...staticItem(50), userId: { S: 'd-1' }, vip: { BOOL: true } },
      { ...staticItem(51), userId: { S: 'd-2' }, moved: { S: 'yes' } },
    ];
    await batchPut(migration.legacyTable.tableName, legacy);
    await batchPut(
      migration.newTable.tableName,
      legacy.map((l) => ({
        ...migration.mapItem(l),
        _dr_seq: { S: BACKFILL_SEQ },
        _dr_src: { S: 'backfill' },
      })),
    );
    return { s, migration };
  }

  function depsWithMetrics(s: Setup, migration: Migration, client: ReturnType<typeof testClient>) {
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

  const newIds = (report: VerifyReport, cls: string) =>
    (report.samples?.[cls] ?? []).map((k) => (k.PK as { S: string } | undefined)?.S).sort();

  it('never tombstones a valid item whose legacy origin unmapItem cannot compute, and names the defect', async () => {
    // Prepare: the two items above, and one genuine extra (so the extras pass runs); no CDC, and a
    // published frontier past every write, so the re-check can confirm.
    const { s, migration } = await copied('vf-origin', faultyInverse);
    await batchPut(migration.newTable.tableName, [
      { ...migration.mapItem(staticItem(900)), _dr_seq: { S: BACKFILL_SEQ }, _dr_src: { S: 'backfill' } },
    ]);
    const client = testClient();
    const { deps, metrics } = depsWithMetrics(s, migration, client);
    await deps.store.put(
      ControlKey.FRONTIER,
      { migrationId: migration.id, frontier: Date.now() + 3_600_000, computedAt: Date.now(), shards: [] },
      0,
    );

    // Act
    const report = await runVerify(deps, { repair: true, runId: 'origin-1', totalSegments: 2 });
    const d1 = await getNew(migration, newKey('d-1'));
    const d2 = await getNew(migration, newKey('d-2'));
    const extra = await getNew(migration, newKey('s-900'));
    client.destroy();

    // Assess: the valid items are untouched; the genuine extra is tombstoned
    expect(d1?._dr_del).toBeUndefined();
    expect(d1?._dr_src).toEqual({ S: 'backfill' });
    expect(d2?._dr_del).toBeUndefined();
    expect(d2?._dr_src).toEqual({ S: 'backfill' });
    expect(extra?._dr_del).toEqual({ BOOL: true });
    expect(report).toMatchObject({
      clean: false,
      counts: { 'extra-in-new': 1, 'origin-unknown': 2, 'not-invertible': 2 },
      repairs: { repaired: 1, lostToCdc: 0 },
    });
    expect(legacyIds(report, 'extra-in-new')).toEqual(['s-900']);
    expect(newIds(report, 'origin-unknown')).toEqual(['USER#d-1', 'USER#d-2']);
    expect(legacyIds(report, 'not-invertible')).toEqual(['d-1', 'd-2']);
    expect(metrics).toMatchObject({
      VerifyOriginUnknown: 2,
      VerifyNotInvertible: 2,
      VerifyConfirmedDrift: 1,
    });
  });

  it('reports legacy items the mapping does not give back even when the checksums are equal', async () => {
    // Prepare: the stores are equal, so no lookup pass runs
    const { s, migration } = await copied('vf-invert', faultyInverse);
    const client = testClient();
    const { deps, metrics } = depsWithMetrics(s, migration, client);

    // Act
    const report = await runVerify(deps, { repair: true, runId: 'invert-1', totalSegments: 2 });
    client.destroy();

    // Assess
    expect(report).toMatchObject({
      checksumsEqual: true,
      lookupPass: { skipped: true },
      clean: false,
      counts: { match: 12, 'not-invertible': 2, 'origin-unknown': 0 },
      firstPass: { 'not-invertible': 2 },
      repairs: { repaired: 0 },
    });
    expect(legacyIds(report, 'not-invertible')).toEqual(['d-1', 'd-2']);
    expect(metrics).toMatchObject({ VerifyNotInvertible: 2, VerifyClean: 0 });
  });
});

describe('Integration: a repair and its audit record are written together or not at all', () => {
  /** s-0..s-4 copied, junk in s-1's new item, confirmed as drift by a run without repair. */
  async function confirmedDrift(prefix: string, runId: string) {
    const s = await setupTables(prefix);
    const m = s.migration;
    const legacy = Array.from({ length: 5 }, (_, i) => staticItem(i));
    await batchPut(m.legacyTable.tableName, legacy);
    await batchPut(
      m.newTable.tableName,
      legacy.map((l) => ({ ...m.mapItem(l), _dr_seq: { S: BACKFILL_SEQ }, _dr_src: { S: 'backfill' } })),
    );
    const client = testClient();
    await client.send(
      new UpdateItemCommand({
        TableName: m.newTable.tableName,
        Key: toSdkItem(newKey('s-1')),
        UpdateExpression: 'SET displayName = :junk',
        ExpressionAttributeValues: { ':junk': { S: 'junk' } },
      }),
    );
    const deps = localVerifyDeps({ client, migration: m, controlTableName: s.controlTableName });
    await deps.store.put(
      ControlKey.FRONTIER,
      { migrationId: m.id, frontier: Date.now() + 3_600_000, computedAt: Date.now(), shards: [] },
      0,
    );
    const report = await runVerify(deps, { repair: false, runId, totalSegments: 1 });
    expect(report.counts?.['content-differs']).toBe(1);
    client.destroy();
    return s;
  }

  const repairAudits = async (store: ControlStore, runId: string) =>
    (await store.listAudit()).filter((a) => a.action === 'verify-repair' && a.detail?.runId === runId);

  it('leaves no repair when its audit record cannot be written, and repairs it with its audit on the next try', async () => {
    // Prepare: a client that refuses every write of an AUDIT# item (as a missing permission would)
    const s = await confirmedDrift('vf-audit', 'audit-1');
    const m = s.migration;
    const refusing = testClient();
    const isAudit = (item: unknown) =>
      ((item as { sk?: { S?: string } } | undefined)?.sk?.S ?? '').startsWith('AUDIT#');
    refusing.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as {
          Item?: unknown;
          TransactItems?: Array<{ Put?: { Item?: unknown } }>;
        };
        if (isAudit(input.Item) || (input.TransactItems ?? []).some((t) => isAudit(t.Put?.Item)))
          throw Object.assign(
            new Error(`${context.commandName}: not authorized to write the audit (injected)`),
            {
              name: 'AccessDeniedException',
              $metadata: { httpStatusCode: 400 },
            },
          );
        return next(args);
      },
      { step: 'initialize', name: 'refuseAuditWrites' },
    );
    const failing = localVerifyDeps({ client: refusing, migration: m, controlTableName: s.controlTableName });
    const client = testClient();
    const working = localVerifyDeps({ client, migration: m, controlTableName: s.controlTableName });

    // Act
    const refused = makeVerifyRepairHandler(failing)({ runId: 'audit-1' });
    await expect(refused).rejects.toThrow(/not authorized to write the audit/);
    const afterRefusal = await getNew(m, newKey('s-1'));
    const auditsAfterRefusal = await repairAudits(working.store, 'audit-1');
    const retried = await makeVerifyRepairHandler(working)({ runId: 'audit-1' });
    const afterRetry = await getNew(m, newKey('s-1'));
    const auditsAfterRetry = await repairAudits(working.store, 'audit-1');
    refusing.destroy();
    client.destroy();

    // Assess: no repair without its audit; the retried step repairs and audits it
    expect(afterRefusal?.displayName).toEqual({ S: 'junk' });
    expect(afterRefusal?._dr_src).toEqual({ S: 'backfill' });
    expect(auditsAfterRefusal).toEqual([]);
    expect(retried).toMatchObject({ done: true, processed: 1 });
    expect(afterRetry?.displayName).toEqual({ S: 'Static 1' });
    expect(afterRetry?._dr_src).toEqual({ S: 'repair' });
    expect(auditsAfterRetry).toHaveLength(1);
  });

  it('writes nothing when DynamoDB cancels the transaction for the audit record, and says so by name', async () => {
    // Prepare: an audit record already holds the key the repair's record would get
    const s = await confirmedDrift('vf-auditkey', 'auditkey-1');
    const m = s.migration;
    const client = testClient();
    const at = Date.UTC(2030, 0, 1);
    const deps: VerifyDeps = {
      ...localVerifyDeps({ client, migration: m, controlTableName: s.controlTableName, now: () => at }),
      newAuditId: () => 'taken',
    };
    const sk = ControlKey.audit(new Date(at).toISOString(), 'taken');
    await deps.store.putUnversioned(sk, {
      migrationId: m.id,
      at,
      actor: 'someone',
      action: 'earlier',
      reason: 'was here first',
    });

    // Act
    const refused = makeVerifyRepairHandler(deps)({ runId: 'auditkey-1' });

    // Assess: the repair's condition held, the audit's did not: neither is written, and it is no lost-to-cdc
    await expect(refused).rejects.toThrow(RepairTransactionError);
    await expect(refused).rejects.toThrow(/reasons: repair None, audit ConditionalCheckFailed/);
    expect((await getNew(m, newKey('s-1')))?.displayName).toEqual({ S: 'junk' });
    expect(await deps.store.get(sk)).toMatchObject({ action: 'earlier', actor: 'someone' });
    const suspects = await deps.store.list<{ repair?: string }>('VERIFY_SUSPECT#auditkey-1#');
    expect(suspects.map((x) => x.repair)).toEqual([undefined]);
    client.destroy();
  });
});
