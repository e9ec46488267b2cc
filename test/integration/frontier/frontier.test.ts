/**
 * The frontier tracker on DynamoDB Local, against ground truth: a recorded legacy workload, the real
 * stream, the local event source with the real sync handler (part A's `startLocalCdc`), and the real
 * tracker loop (`makeFrontierHandler` over `buildFrontierTracker`) running at the same time.
 */
import { PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { ControlStore } from '../../../adapters/control-store';
import { fromSdkItem } from '../../../adapters/dynamodb';
import { AlreadyWaivedError, waiveRecord } from '../../../adapters/frontier-store';
import { StreamShardReader, makeStreamsClient } from '../../../adapters/stream-shards';
import {
  DYNAMODB_LOCAL_CREATION_GRANULARITY_MS,
  DYNAMODB_LOCAL_TRACKER_SETTINGS,
  FrontierViolation,
  type FrontierTracker,
  type StepResult,
} from '../../../core/frontier';
import {
  isTombstone,
  metadataNames,
  stripMetadata,
  type Migration,
  type Item,
  canonicalItem,
  itemsEqual,
} from '../../../core/model';
import { buildFrontierTracker } from '../../../lambdas/frontier/deps';
import { type FrontierRunSummary, makeFrontierHandler } from '../../../lambdas/frontier/handler';
import type { LocalCdc } from '../../../local/local-cdc';
import type { LegacyHistory } from '../../../local/history';
import { LegacyWorkload } from '../../../local/workload';
import { testClient, testEndpoint } from '../../helpers/dynamo';
import { quietMetrics, silentLogger } from '../../helpers/quiet';
import { type UsersTables, createUsersTables, startUsersCdc } from '../../helpers/users-tables';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Steps the tracker until `done` holds for a step's result. Waits on the condition, not on a window of
 * wall-clock time; `timeoutMs` is only a bound for a broken build (generous for a loaded machine).
 */
async function stepUntil(
  tracker: FrontierTracker,
  done: (r: StepResult) => boolean,
  timeoutMs = 45_000,
): Promise<StepResult> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await tracker.step();
    if (done(r)) return r;
    if (Date.now() > deadline)
      throw new Error(`tracker condition not reached in ${timeoutMs} ms; last step ${JSON.stringify(r)}`);
    await sleep(200);
  }
}
/** Fresh users tables (legacy with its stream, new, control) on DynamoDB Local. */
async function setupTables(): Promise<UsersTables> {
  const client = testClient();
  try {
    return await createUsersTables(client, 'fr');
  } finally {
    client.destroy();
  }
}

/** The real tracker (`buildFrontierTracker`) over the tables, with DynamoDB Local's granularity. */
function localTracker(t: UsersTables, itemEvidenceAfterMs: number): FrontierTracker {
  return buildFrontierTracker({
    endpoint: testEndpoint(),
    migration: t.migration,
    controlTableName: t.controlTableName,
    streamArn: t.streamArn,
    env: {},
    // SHARD# items saved every step (the deployed 5 s would let a cold start miss what the last steps
    // learned, and the restart test judge a save's timing instead of what a resume restores).
    config: {
      creationGranularityMs: DYNAMODB_LOCAL_CREATION_GRANULARITY_MS,
      itemEvidenceAfterMs,
      persistIntervalMs: 0,
    },
  }).tracker;
}

/** The legacy-shaped state of every key in the new table (undefined = tombstone). */
async function newTableState(migration: Migration): Promise<Map<string, Item | undefined>> {
  const client = testClient();
  const names = metadataNames(migration.metadataPrefix);
  const out = new Map<string, Item | undefined>();
  let start: Record<string, never> | undefined;
  try {
    do {
      const page = await client.send(
        new ScanCommand({
          TableName: migration.newTable.tableName,
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const raw of page.Items ?? []) {
        const item = fromSdkItem(raw);
        const legacy = migration.unmapItem(stripMetadata(item, names));
        const keyId = canonicalItem({ userId: legacy.userId as Item[string] });
        out.set(keyId, isTombstone(item, names) ? undefined : legacy);
      }
      start = page.LastEvaluatedKey as Record<string, never> | undefined;
    } while (start);
  } finally {
    client.destroy();
  }
  return out;
}

/**
 * Writes that started before `frontier` but are not reflected in `state`: for each key, the last write
 * that started before F must be the write whose result the new table shows, or an earlier one must not
 * be (the latest write whose result matches the state is taken as the applied one).
 */
function unappliedBefore(history: LegacyHistory, state: Map<string, Item | undefined>, frontier: number) {
  const late: Array<{ key: string; startedAt: number; index: number }> = [];
  for (const key of history.keys()) {
    const writes = history.writesOf(key);
    const keyId = history.keyId(key);
    const before = writes.filter((w) => w.startedAt < frontier);
    const last = before[before.length - 1];
    if (!last) continue;
    const shown = state.get(keyId);
    let applied = -1;
    for (let i = writes.length - 1; i >= 0; i--) {
      const after = writes[i]?.after;
      const match =
        after === undefined ? shown === undefined : shown !== undefined && itemsEqual(after, shown);
      if (match) {
        applied = i;
        break;
      }
    }
    if (applied < writes.indexOf(last))
      late.push({ key: keyId, startedAt: last.startedAt, index: last.index });
  }
  return late;
}

describe('Integration: frontier tracker with the local event source and the real sync handler', () => {
  it('never publishes F later than the start of a write not yet applied, and catches up once writes stop', async () => {
    // Prepare
    const t = await setupTables();
    const { migration, controlTableName } = t;
    const cdc: LocalCdc = await startUsersCdc(t, {
      // A batching window longer than the propagation margin keeps records pending for seconds, so a
      // tracker that ignored pending records would publish an F the history check catches.
      poller: { batchSize: 500, pollIntervalMs: 50, maxBatchingWindowMs: 2_000 },
    });
    const tracker = localTracker(t, 2000);
    const client = testClient();
    const workload = new LegacyWorkload({
      client,
      tableName: migration.legacyTable.tableName,
      key: migration.legacyTable.key,
      keyCount: 150,
      seed: 7,
      concurrency: 4,
    });
    const samples: Array<Promise<{ step: StepResult; state: Map<string, Item | undefined> }>> = [];
    // Like EventBridge: the handler is invoked again and again, each run looping a few seconds.
    const handler = makeFrontierHandler({
      migrationId: migration.id,
      tracker,
      loopDurationMs: 3_000,
      loopIntervalMs: 300,
      logger: silentLogger as never,
      metrics: quietMetrics as never,
      onStep: (step) => {
        // Sample the new table right after F was published: every write that started before F must show.
        if (step.didPublish) samples.push(newTableState(migration).then((state) => ({ step, state })));
      },
    });

    // Act
    let writing = true;
    const run = workload.run({ operations: 700, ratePerSecond: 100 }).finally(() => (writing = false));
    const runs: FrontierRunSummary[] = [];
    while (writing) runs.push(await handler());
    const result = await run;
    const lastAck = Math.max(...workload.history.writes().map((w) => w.ackedAt));
    // Writes stopped: run on until F passes the last acknowledged write and enough publishes were
    // sampled (conditions, not a number of runs: CDC drains at whatever speed the machine allows).
    const deadline = Date.now() + 60_000;
    while (
      ((runs[runs.length - 1]?.frontier ?? 0) <= lastAck || samples.length < 4) &&
      Date.now() < deadline
    ) {
      runs.push(await handler());
    }
    const sampled = await Promise.all(samples);
    await cdc.close();
    client.destroy();

    // Assess
    expect(result).toEqual(expect.objectContaining({ acknowledged: 700, failed: 0 }));
    // At least 4 published values judged against the history (while CDC drains the last batching
    // windows, and after), so the check cannot pass on too few samples.
    expect(sampled.length).toBeGreaterThanOrEqual(4);
    for (const { step, state } of sampled) {
      expect(unappliedBefore(workload.history, state, step.published)).toEqual([]);
    }
    const published = sampled.map((s) => s.step.published);
    expect(published).toEqual([...published].sort((a, b) => a - b));
    const summary = runs[runs.length - 1] as FrontierRunSummary;
    expect(runs.map((r) => r.violations)).toEqual(runs.map(() => ({})));
    expect(runs.map((r) => r.failedSteps)).toEqual(runs.map(() => 0));
    expect(summary.frontier).toBeGreaterThan(lastAck);
    const stored = await new ControlStore(testClient(), controlTableName, migration.id).getFrontier();
    expect(stored?.frontier).toBe(summary.frontier);
  }, 120_000);

  it('reads on when DynamoDB Local refuses an iterator opened on an empty shard: no stream gap', async () => {
    // Prepare: the legacy stream is empty when the tracker first reads it (it keeps the empty page's
    // iterator); another table's stream then takes the server's next sequence number before this
    // shard's first record, so DynamoDB Local refuses that iterator with TrimmedDataAccessException.
    const t = await setupTables();
    const other = await setupTables();
    const cdc = await startUsersCdc(t);
    const tracker = localTracker(t, 2000);
    const client = testClient();
    try {
      await tracker.step();
      const put = (table: string, userId: string) =>
        client.send(new PutItemCommand({ TableName: table, Item: { userId: { S: userId }, v: { S: 'a' } } }));
      await put(other.migration.legacyTable.tableName, 'u-other');
      const startedAt = Date.now();
      await put(t.migration.legacyTable.tableName, 'u-1');

      // Act: step until F covers the write, or the refusal is taken for a trim.
      const trimmedUnread = (r: StepResult) => r.violations[FrontierViolation.TRIMMED_UNREAD] ?? 0;
      const r = await stepUntil(tracker, (step) => step.published > startedAt || trimmedUnread(step) > 0);

      // Assess
      expect(trimmedUnread(r)).toBe(0);
      expect(r.published).toBeGreaterThan(startedAt);
      const stored = await new ControlStore(client, t.controlTableName, t.migration.id).getFrontier();
      expect(stored?.gap).toBeUndefined();
    } finally {
      await cdc.close();
      client.destroy();
    }
  });

  it('holds F behind a dead-lettered record until an operator waives it', async () => {
    // Prepare: u-1, then a record mapItem refuses (a poison record), then u-2
    const t = await setupTables();
    const { migration, controlTableName } = t;
    const cdc = await startUsersCdc(t, {
      poller: { batchSize: 10, pollIntervalMs: 50, maxRetryAttempts: 1 },
    });
    const tracker = localTracker(t, 500);
    const client = testClient();
    const put = (item: Item) =>
      client.send(new PutItemCommand({ TableName: migration.legacyTable.tableName, Item: item as never }));
    await put({ userId: { S: 'u-1' }, v: { S: 'a' } });
    const poisonStartedAt = Date.now();
    await put({ userId: { S: 'u-poison' }, profile: { S: 'reserved by the mapping' } });
    await put({ userId: { S: 'u-2' }, v: { S: 'b' } });
    const lastAck = Date.now();

    // Act: step until the poller has dead-lettered the record and the tracker has seen its marker
    const held = await stepUntil(tracker, (r) => r.deadLettered === 1 && r.pending === 1);
    const heldLater: StepResult[] = [];
    for (let i = 0; i < 4; i++) {
      await sleep(300);
      heldLater.push(await tracker.step());
    }
    // A cold start: a new tracker resumes from the SHARD# item (position and waiting records).
    const restarted = localTracker(t, 500);
    const afterRestart = await restarted.step();
    const control = new ControlStore(client, controlTableName, migration.id);
    const frontierItem = await control.getFrontier();
    const holding = frontierItem?.shards[0]?.firstUnapplied;
    const waiver = { actor: 'test', reason: 'the poison record is dropped on purpose', at: Date.now() };
    const key = { userId: { S: 'u-poison' } };
    await waiveRecord(client, controlTableName, migration.id, holding ?? '0', waiver, key);
    const again = waiveRecord(client, controlTableName, migration.id, holding ?? '0', waiver, key);
    await expect(again).rejects.toBeInstanceOf(AlreadyWaivedError);
    const audit = await control.listAudit();
    const released = await stepUntil(restarted, (r) => r.deadLettered === 0 && r.published > lastAck);
    await cdc.close();
    client.destroy();

    // Assess
    expect(cdc.deadLetters.depth).toBe(1);
    expect(held?.deadLettered).toBe(1);
    expect(held?.pending).toBe(1);
    for (const r of [held, ...heldLater, afterRestart]) {
      expect(r.published).toBeLessThanOrEqual(poisonStartedAt);
    }
    expect(afterRestart.deadLettered).toBe(1);
    expect(cdc.deadLetters.sequenceNumbers().map((s) => s.padStart(40, '0'))).toEqual([holding]);
    expect(released.deadLettered).toBe(0);
    expect(released.published).toBeGreaterThan(lastAck);
    expect(released.violations).toEqual({});
    expect(audit).toEqual([
      expect.objectContaining({ action: 'waive-record', actor: 'test', detail: { sequenceNumber: holding } }),
    ]);
  }, 120_000);

  it('reads DynamoDB Local as its tip rules assume: no empty page before visible records, no short page before the last', async () => {
    // Prepare: 300 writes in three bursts, then wait until a reader sees all of them
    const { migration, streamArn } = await setupTables();
    const client = testClient();
    const streams = makeStreamsClient(testEndpoint());
    const reader = new StreamShardReader(streams, streamArn);
    for (let burst = 0; burst < 3; burst++) {
      for (let i = 0; i < 100; i++) {
        await client.send(
          new PutItemCommand({
            TableName: migration.legacyTable.tableName,
            Item: { userId: { S: `u-${burst}-${i}` }, v: { N: String(i) } },
          }),
        );
      }
      await sleep(300);
    }
    const [shard] = await reader.listShards();
    const readAll = async (after?: string, limit = 40) => {
      const pages: number[] = [];
      const seqs: string[] = [];
      let it = await reader.iterator(shard?.shardId as string, after);
      while (it) {
        const page = await reader.read(it, limit);
        pages.push(page.records.length);
        for (const r of page.records) seqs.push(r.dynamodb?.SequenceNumber as string);
        if (page.records.length === 0) break; // the first empty page: the tip, if the rule holds
        it = page.nextIterator;
      }
      return { pages, seqs };
    };
    const deadline = Date.now() + 30_000;
    while ((await readAll()).seqs.length < 300 && Date.now() < deadline) await sleep(100);

    // Act
    const fromStart = await readAll();
    const fromMiddle = await readAll(fromStart.seqs[149]);
    const fromNearEnd = await readAll(fromStart.seqs[289], 5);
    streams.destroy();
    client.destroy();

    // Assess: no page before the first empty one is empty, and the first empty
    // page comes only after every record written (so one empty page is the tip on DynamoDB Local);
    // every page is full until the one that reaches the last record (so a page short of the page
    // size is the tip there too: `StreamsReader` marks it)
    const shortOnlyAtTheEnd = (pages: number[], limit: number) =>
      pages.findIndex((n) => n < limit) >= pages.length - 2;
    expect(shortOnlyAtTheEnd(fromStart.pages, 40)).toBe(true);
    expect(shortOnlyAtTheEnd(fromMiddle.pages, 40)).toBe(true);
    expect(shortOnlyAtTheEnd(fromNearEnd.pages, 5)).toBe(true);
    expect(fromStart.pages).toEqual([40, 40, 40, 40, 40, 40, 40, 20, 0]);
    expect(fromStart.seqs).toHaveLength(300);
    expect(fromStart.pages.slice(0, -1).every((n) => n > 0)).toBe(true);
    expect(fromStart.pages[fromStart.pages.length - 1]).toBe(0);
    expect(fromMiddle.seqs).toEqual(fromStart.seqs.slice(150));
    expect(fromNearEnd.seqs).toEqual(fromStart.seqs.slice(290));
    expect(DYNAMODB_LOCAL_TRACKER_SETTINGS.tipEmptyPages).toBe(1);
  }, 60_000);
});
