/**
 * Issue 3, CDC on DynamoDB Local with the real stream: the local event source (with duplicated and
 * replayed batches) invoking the real sync handler. After a random workload the new table must equal
 * mapItem(legacy) plus metadata, deleted keys must be tombstones, and nothing may lack a legacy origin;
 * a poison record must land in the local dead-letter queue with its reason while the rest is applied.
 */
import { ControlStore } from '../../../adapters/control-store';
import { type Item, canonicalItem, isTombstone, metadataNames, stripMetadata } from '../../../core';
import { CDC_CONSUMER_SK } from '../../../local/stream-poller';
import type { LocalCdcOptions } from '../../../local/local-cdc';
import type { WorkloadOptions } from '../../../local/workload';
import { scanAll } from '../../helpers/dynamo';
import { cdcPipelines, createUsersTables, legacyWorkload, startUsersCdc } from '../../helpers/users-tables';

jest.setTimeout(120_000);

const names = metadataNames();

/** The S of a string attribute, or undefined. */
function str(item: Item, name: string): string | undefined {
  const v = item[name];
  return v !== undefined && 'S' in v ? v.S : undefined;
}

describe('Integration: CDC through the local event source and the real sync handler', () => {
  const { client, pipelines } = cdcPipelines();

  /**
   * Users tables (tombstones with a TTL), the CDC pipeline over them with `poller`, and a workload of
   * the keys `<keyPrefix>-<i>`.
   */
  async function scenario(
    tag: string,
    poller: LocalCdcOptions['poller'],
    keyPrefix: string,
    workload: Omit<WorkloadOptions, 'client' | 'tableName' | 'key' | 'makeKey'>,
  ) {
    const t = await createUsersTables(client, tag, { tombstoneTtl: true });
    const cdc = await startUsersCdc(t, { poller });
    pipelines.push(cdc);
    const makeKey = (i: number) => ({ userId: { S: `${keyPrefix}-${i}` } });
    return { t, cdc, workload: legacyWorkload(client, t.migration, { makeKey, ...workload }) };
  }

  it('converges to mapItem(legacy) with tombstones when batches are duplicated and replayed', async () => {
    // Prepare
    const { t, cdc, workload } = await scenario(
      'cdc-conv',
      {
        batchSize: 50,
        pollIntervalMs: 20,
        chaos: { seed: 7, duplicateProbability: 0.15, replayProbability: 0.15 },
      },
      'user',
      { keyCount: 500, seed: 42, concurrency: 16, fidelityProbability: 0.05 },
    );

    // Act: every key once, then a random mix of puts, updates, deletes and re-creates
    await workload.populate();
    const run = await workload.run({ operations: 600 });
    await cdc.poller.drain();
    await cdc.poller.replayDelivered(0); // an old batch again, after everything newer was applied
    await cdc.poller.drain();

    // Assess
    expect(run.failed).toBe(0);
    expect(cdc.poller.stats.duplicatedDeliveries).toBeGreaterThan(0);
    expect(cdc.poller.stats.replayedDeliveries).toBeGreaterThan(0);
    expect(cdc.deadLetters.depth).toBe(0);
    const stored = await scanAll(client, t.migration.newTable.tableName);
    const byKey = new Map(stored.map((i) => [canonicalItem({ PK: i.PK!, SK: i.SK! }), i]));
    const finals = workload.history.finalStates();
    let live = 0;
    let deleted = 0;
    const problems: string[] = [];
    for (const f of finals) {
      const newKey = canonicalItem(t.migration.mapKey(f.key));
      const got = byKey.get(newKey);
      if (f.item) {
        live++;
        if (!got) problems.push(`${newKey}: missing`);
        else if (isTombstone(got, names)) problems.push(`${newKey}: tombstone, legacy has it`);
        else if (canonicalItem(stripMetadata(got, names)) !== canonicalItem(t.migration.mapItem(f.item)))
          problems.push(`${newKey}: differs from mapItem(legacy)`);
        else if (str(got, names.src) !== 'cdc' || !/^\d{40}$/.test(str(got, names.seq) ?? ''))
          problems.push(`${newKey}: bad metadata`);
      } else {
        deleted++;
        // Every key was populated first, so a deleted key had a REMOVE record: it must be a tombstone.
        if (!got) problems.push(`${newKey}: deleted in legacy, no tombstone in new`);
        else if (!isTombstone(got, names)) problems.push(`${newKey}: deleted in legacy, live in new`);
        if (
          got &&
          Object.keys(got).some(
            (n) =>
              ![
                ...Object.keys(t.migration.mapKey(f.key)),
                names.seq,
                names.src,
                names.ts,
                names.del,
              ].includes(n),
          )
        )
          problems.push(`${newKey}: tombstone carries data`);
      }
    }
    const origins = new Set(finals.map((f) => canonicalItem(t.migration.mapKey(f.key))));
    const orphans = stored.filter((i) => !origins.has(canonicalItem({ PK: i.PK!, SK: i.SK! })));
    expect(problems).toEqual([]);
    expect(orphans).toEqual([]);
    expect(live).toBeGreaterThan(150);
    expect(deleted).toBeGreaterThan(25);
    // Replays and duplicates were skipped as stale/duplicate, never as order violations.
    const totals = cdc.batches.reduce(
      (a, b) => ({
        dup: a.dup + b.skippedDuplicate,
        viol: a.viol + b.orderViolations,
        failed: a.failed + b.failed.length,
      }),
      { dup: 0, viol: 0, failed: 0 },
    );
    expect(totals.dup).toBeGreaterThan(0);
    expect(totals.viol).toBe(0);
    expect(totals.failed).toBe(0);
    // The fidelity corpus went through (the workload puts it on some items).
    expect(
      stored.some((i) => JSON.stringify(i.big) === '{"N":"12345678901234567890123456789012345678"}'),
    ).toBe(true);
    // Registered as the CDC consumer from TRIM_HORIZON; progress markers written.
    const control = new ControlStore(client, t.controlTableName, t.migration.id);
    const consumer = await control.get<{ state: string; startingPosition: string; streamArn: string }>(
      CDC_CONSUMER_SK,
    );
    expect(consumer).toMatchObject({
      state: 'Enabled',
      startingPosition: 'TRIM_HORIZON',
      streamArn: t.streamArn,
    });
    const markers = await control.list<{ first: string; count: number; failed: string[] }>('APPLIED#');
    expect(markers.length).toBeGreaterThan(0);
    expect(markers.every((m) => m.sk === `APPLIED#${m.first}` && m.failed.length === 0)).toBe(true);
  });

  it('dead-letters a poison record with its reason and applies the rest of its batch', async () => {
    // Prepare
    const { t, cdc, workload } = await scenario(
      'cdc-poison',
      { batchSize: 10, pollIntervalMs: 20, maxRetryAttempts: 1, maxBatchingWindowMs: 300 },
      'p',
      { keyCount: 20, concurrency: 1, fidelityProbability: 0 },
    );

    // Act: 10 good items around one the mapping refuses ("profile" is reserved by the example mapping)
    for (let i = 0; i < 5; i++) await workload.put({ userId: { S: `p-${i}` }, v: { N: String(i) } });
    const poison = await workload.put({ userId: { S: 'p-poison' }, profile: { S: 'not allowed' } });
    for (let i = 5; i < 10; i++) await workload.put({ userId: { S: `p-${i}` }, v: { N: String(i) } });
    await cdc.poller.drain();

    // Assess
    const dlq = cdc.deadLetters.entries;
    expect(dlq).toHaveLength(1);
    expect(dlq[0]!.records.map((r) => r.dynamodb?.NewImage?.userId?.S)).toEqual(['p-poison']);
    expect(dlq[0]!.condition).toBe('RetryAttemptsExhausted');
    expect(dlq[0]!.reason).toMatch(/mapItem failed: TypeError: legacy item has a "profile" attribute/);
    const stored = await scanAll(client, t.migration.newTable.tableName);
    expect(stored.map((i) => str(i, 'PK')).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `USER#p-${i}`).sort(),
    );
    expect(poison.after?.profile).toBeDefined();
    // The poison record is named as failed in its batch's progress marker.
    const control = new ControlStore(client, t.controlTableName, t.migration.id);
    const markers = await control.list<{ failed: string[] }>('APPLIED#');
    const poisonSeq = dlq[0]!.records[0]!.dynamodb!.SequenceNumber!.padStart(40, '0');
    expect(markers.some((m) => m.failed.includes(poisonSeq))).toBe(true);
  });
});
