/**
 * Replaying CDC dead letters on DynamoDB Local, with the real stream: a mapping refuses some items (a flag
 * the test flips once "the fix is deployed"), the local event source dead-letters their records, and the
 * replay path re-reads each dead-lettered range (shard, start, end: the on-failure message Lambda would
 * send) from the stream and applies it through the real sync handler. The new table must then equal
 * mapItem(legacy), a record superseded meanwhile must be skipped, never re-applied, and the frontier
 * tracker must pass the replayed records.
 */
import { DeleteItemCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { fromSdkItem, toSdkItem } from '../../../adapters/dynamodb';
import { StreamShardReader, makeStreamsClient } from '../../../adapters/stream-shards';
import { createTable } from '../../../adapters/tables';
import {
  type Item,
  type ReplayReport,
  canonicalItem,
  isTombstone,
  metadataNames,
  parseStreamDeadLetter,
  stripMetadata,
} from '../../../core';
import {
  DYNAMODB_LOCAL_TRACKER_SETTINGS,
  type FrontierTracker,
  type StepResult,
} from '../../../core/frontier';
import { usersMigration } from '../../../examples/users/migration';
import { buildFrontierTracker } from '../../../lambdas/frontier/deps';
import { replayDeadLetter } from '../../../lambdas/sync/replay';
import type { LocalCdc } from '../../../local/local-cdc';
import { deadLetterMessage } from '../../../local/dead-letter-queue';
import { repairEmptyMaps } from '../../../local/record-conversion';
import { testClient, testEndpoint, uniqueName } from '../../helpers/dynamo';
import { quietMetrics, silentLogger } from '../../helpers/quiet';
import { createUsersTables, startUsersCdc } from '../../helpers/users-tables';
import { waitUntil } from '../../helpers/wait';

jest.setTimeout(120_000);

const names = metadataNames();
const quiet = { logger: silentLogger, metrics: quietMetrics };

/** Steps the tracker until `done` holds (a condition, not a number of steps). */
async function stepUntil(tracker: FrontierTracker, what: string, done: (r: StepResult) => boolean) {
  let last: StepResult | undefined;
  await waitUntil(
    what,
    async () => {
      last = await tracker.step();
      return done(last);
    },
    { intervalMs: 200, detail: () => JSON.stringify(last && { ...last, shards: undefined }) },
  );
  return last as StepResult;
}

describe('Integration: replaying CDC dead letters from the stream', () => {
  const client = testClient();
  const streams = makeStreamsClient(testEndpoint());
  const open: LocalCdc[] = [];
  afterAll(async () => {
    await Promise.all(open.map((c) => c.close()));
    client.destroy();
    streams.destroy();
  });

  it('fails a dead-lettered range again while the mapping refuses it, applies it once fixed, skips what was superseded, and lets F pass', async () => {
    // Prepare: a mapping that refuses items carrying "hold" until the test flips `fixed`
    let fixed = false;
    const t = await createUsersTables(client, 'rp', {
      tombstoneTtl: true,
      mapItem: (item) => {
        if (!fixed && item.hold !== undefined) throw new TypeError('"hold" items are refused until the fix');
        return usersMigration.mapItem(item);
      },
    });
    const { migration, streamArn, controlTableName } = t;
    const legacyTable = migration.legacyTable.tableName;
    const cdc = await startUsersCdc(t, {
      // No bisection: a failed part is dead-lettered from its first failed record to the batch's end,
      // so ranges also hold records that were applied (as Lambda's can).
      poller: { batchSize: 20, pollIntervalMs: 20, maxRetryAttempts: 1, bisectBatchOnError: false },
      sync: quiet as never,
    });
    open.push(cdc);
    const { tracker } = buildFrontierTracker({
      endpoint: testEndpoint(),
      migration,
      controlTableName,
      streamArn,
      env: {},
      config: { ...DYNAMODB_LOCAL_TRACKER_SETTINGS, itemEvidenceAfterMs: 500 },
    });
    const put = (item: Item) =>
      client.send(new PutItemCommand({ TableName: legacyTable, Item: toSdkItem(item) }));
    const key = (id: string): Item => ({ userId: { S: id } });

    // Act 1: writes, three of them refused; then h-2 is superseded by a good write and h-3 deleted
    await put({ userId: { S: 'u-1' }, v: { N: '1' } });
    const heldSince = Date.now();
    await put({
      userId: { S: 'h-1' },
      hold: { BOOL: true },
      big: { N: '12345678901234567890123456789012345678' },
      bin: { B: new Uint8Array([0, 1, 255]) },
      set: { NS: ['1', '0.000000000000000000000000000000000001'] },
      none: { NULL: true },
      nested: { M: { empty: { S: '' }, list: { L: [{ M: {} }] } } },
    });
    await put({ userId: { S: 'u-2' }, v: { N: '2' } });
    await put({ userId: { S: 'h-2' }, hold: { BOOL: true } });
    await put({ userId: { S: 'h-3' }, hold: { BOOL: true }, bin: { B: new Uint8Array([0, 1, 255]) } });
    await put({ userId: { S: 'u-3' }, v: { N: '3' } });
    await cdc.poller.drain();
    await put({ userId: { S: 'h-2' }, v: { N: '22' } });
    await client.send(new DeleteItemCommand({ TableName: legacyTable, Key: toSdkItem(key('h-3')) }));
    const lastAck = Date.now();
    await cdc.poller.drain();
    const held = await stepUntil(
      tracker,
      'F held by the dead-lettered record',
      (r) => r.deadLettered === 1 && r.pending === 1,
    );
    const entries = [...cdc.deadLetters.entries];
    const messages = entries.map(deadLetterMessage);
    const [shard] = await new StreamShardReader(streams, streamArn as string).listShards();
    const replayAws = (message: string) =>
      replayDeadLetter({
        message,
        migration,
        controlTableName,
        dynamo: client,
        streams,
        prepareRecord: repairEmptyMaps,
        sync: quiet as never,
      });

    // Act 2: replay before the fix, by both paths: everything refused fails again
    const localBefore = await cdc.replayDeadLetters();
    const before: ReplayReport[] = [];
    for (const m of messages) before.push(await replayAws(m));

    // Act 3: the fix is deployed; replay every message (the SQS path), then the local queue
    fixed = true;
    const after: ReplayReport[] = [];
    for (const m of messages) after.push(await replayAws(m));
    const stillFailed = after.flatMap((r) => r.records).filter((r) => r.result === 'failed');
    if (stillFailed.length) throw new Error(`replay after the fix failed: ${JSON.stringify(stillFailed)}`);
    const released = await stepUntil(
      tracker,
      'F past the last write once the replay applied the dead-lettered records',
      (r) => r.deadLettered === 0 && r.pending === 0 && r.published > lastAck,
    );
    const localAfter = await cdc.replayDeadLetters();

    // Assess: the messages name the real shard and the dead-lettered records' range
    expect(entries.length).toBeGreaterThan(0);
    for (const [i, m] of messages.entries()) {
      const info = parseStreamDeadLetter(m);
      const seqs = entries[i]!.records.map((r) => r.dynamodb?.SequenceNumber);
      expect(info).toMatchObject({
        shardId: shard?.shardId,
        streamArn,
        startSequenceNumber: seqs[0],
        endSequenceNumber: seqs[seqs.length - 1],
        batchSize: seqs.length,
      });
    }
    const byKey = (reports: readonly ReplayReport[]) => {
      const out: Record<string, string[]> = {};
      for (const r of reports.flatMap((x) => x.records)) {
        const id = (r.keys?.userId as { S: string } | undefined)?.S ?? '?';
        (out[id] ??= []).push(r.result);
      }
      return out;
    };
    // Before the fix: the refused records fail again with the mapping's reason, nothing is complete.
    expect(byKey(before)).toMatchObject({ 'h-1': ['failed'], 'h-2': ['failed'], 'h-3': ['failed'] });
    expect(before.flatMap((r) => r.records).filter((r) => r.result === 'failed')).toHaveLength(3);
    for (const r of before.flatMap((x) => x.records).filter((x) => x.result === 'failed'))
      expect(r.reason).toMatch(
        /UnappliableChangeError: .*mapItem failed: TypeError: "hold" items are refused/,
      );
    expect(before.every((r) => !r.complete)).toBe(true);
    expect(localBefore.replayed).toBe(0);
    expect(localBefore.remaining).toBe(entries.length);
    // After the fix: h-1 applied; h-2 and h-3 superseded meanwhile (a newer put, a delete): skipped;
    // records of the ranges that had been applied: skipped as duplicates.
    const results = byKey(after);
    expect(results['h-1']).toEqual(['applied']);
    expect(results['h-2']).toEqual(['skipped']);
    expect(results['h-3']).toEqual(['skipped']);
    for (const r of after.flatMap((x) => x.records)) {
      const id = (r.keys?.userId as { S: string }).S;
      if (id.startsWith('u-'))
        expect([r.result, r.reason]).toEqual(['skipped', expect.stringMatching(/duplicate/)]);
      if (id !== 'h-1' && id.startsWith('h-')) expect(r.reason).toMatch(/stale: the new item holds .* newer/);
    }
    expect(after.every((r) => r.complete && r.failed === 0)).toBe(true);
    // The new table equals mapItem(legacy) for every key; the deleted key is a tombstone.
    for (const id of ['u-1', 'u-2', 'u-3', 'h-1', 'h-2', 'h-3']) {
      const legacy = await client.send(
        new GetItemCommand({ TableName: legacyTable, Key: toSdkItem(key(id)), ConsistentRead: true }),
      );
      const stored = await client.send(
        new GetItemCommand({
          TableName: migration.newTable.tableName,
          Key: toSdkItem(migration.mapKey(key(id))),
          ConsistentRead: true,
        }),
      );
      const item = stored.Item ? fromSdkItem(stored.Item) : undefined;
      if (legacy.Item) {
        expect(item && !isTombstone(item, names)).toBe(true);
        expect(canonicalItem(stripMetadata(item as Item, names))).toBe(
          canonicalItem(migration.mapItem(fromSdkItem(legacy.Item))),
        );
      } else {
        expect(id).toBe('h-3');
        expect(item && isTombstone(item, names)).toBe(true);
      }
    }
    // F was held before the replay, and passes every write after it.
    expect(held.published).toBeLessThanOrEqual(heldSince);
    expect(released.published).toBeGreaterThan(lastAck);
    expect(released.violations).toEqual({});
    // The local queue shares the replay: its entries are now all applied or superseded, and removed.
    expect(localAfter).toMatchObject({ replayed: entries.length, remaining: 0 });
    expect(localAfter.reports.every((r) => r.complete && r.applied === 0)).toBe(true);
    expect(cdc.deadLetters.depth).toBe(0);
  });

  it('shows why touching the legacy item was no replay: a write that changes nothing emits no stream record', async () => {
    // Prepare
    const table = uniqueName('rp-touch');
    const { streamArn } = await createTable(client, table, usersMigration.legacyTable.key, { stream: true });
    const reader = new StreamShardReader(streams, streamArn as string);
    const item = { userId: { S: 'h-1' }, v: { N: '1' } };
    const put = (i: Item) => client.send(new PutItemCommand({ TableName: table, Item: toSdkItem(i) }));
    const recordsOf = async () => {
      const out: string[] = [];
      for (const shard of await reader.listShards()) {
        let it = await reader.iterator(shard.shardId);
        while (it) {
          const page = await reader.read(it);
          out.push(...page.records.map((r) => `${r.eventName} ${r.dynamodb?.Keys?.userId?.S}`));
          if (page.records.length === 0) break;
          it = page.nextIterator;
        }
      }
      return out;
    };

    // Act: the write, the "touch" (the same item again), then a sentinel write to wait for
    await put(item);
    await put(item);
    await put({ userId: { S: 'sentinel' } });
    let seen: string[] = [];
    await waitUntil('the sentinel record in the stream', async () => {
      seen = await recordsOf();
      return seen.includes('INSERT sentinel');
    });

    // Assess: one record for h-1; the touch produced none that could supersede a dead-lettered one
    expect(seen).toEqual(['INSERT h-1', 'INSERT sentinel']);
  });
});
