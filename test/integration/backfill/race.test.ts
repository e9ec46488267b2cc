/**
 * The backfill/CDC race of docs/correctness.md ("Backfill and CDC race", steps 1-5), both orders,
 * made deterministic with hooks instead of timing: the real page worker scans `k = v1`; the
 * application then changes `k` (record `s2`); and either
 *
 *   4a. CDC applies `s2` first (the test waits until the new item carries `_dr_seq = s2`) and the
 *       backfill's put of `v1` is then skipped (`skippedExists`), or
 *   4b. the backfill's put of `v1` lands first (CDC is held: the local event source is stopped, its
 *       positions kept) and CDC, started again, overwrites it with `s2` (rule 2: zeros < s2).
 *
 * Each order is run for an update and a delete (tombstone), and in every write mode.
 */
import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { WriteMode } from '../../../adapters/backfill-io';
import { toSdkItem } from '../../../adapters/dynamodb';
import {
  BACKFILL_SEQ,
  type Item,
  canonicalItem,
  isTombstone,
  metadataNames,
  sequenceOf,
  stripMetadata,
} from '../../../core';
import type { BackfillDeps } from '../../../lambdas/backfill/context';
import { makePageHandler } from '../../../lambdas/backfill/page';
import { localBackfillDeps } from '../../../local/backfill';
import { createBackfillTables } from '../../helpers/backfill-tables';
import { enableStream, getItem } from '../../helpers/dynamo';
import { cdcPipelines, startUsersCdc } from '../../helpers/users-tables';

const names = metadataNames();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `read` until `done` holds for its value (a condition, not a time window). */
async function until<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

type Order = '4a: CDC first' | '4b: backfill first';
type Change = 'update' | 'delete';

const CASES: Array<[Order, Change, WriteMode]> = [];
for (const mode of [WriteMode.PARTIQL, WriteMode.PUT, WriteMode.TRANSACT])
  for (const order of ['4a: CDC first', '4b: backfill first'] as const)
    for (const change of ['update', 'delete'] as const) CASES.push([order, change, mode]);

describe('Integration: the backfill/CDC race on DynamoDB Local, both orders', () => {
  const { client, pipelines } = cdcPipelines();

  it.each(CASES)("%s, after the application's %s, in %s mode", async (order, change, mode) => {
    // Prepare: k = v1 exists before the stream (only the backfill can copy it); then the stream and CDC.
    const { migration, legacy, target, control } = await createBackfillTables(client, 'bfr');
    const k: Item = { userId: { S: 'k' } };
    const v1: Item = { ...k, fullName: { S: 'v1' }, n: { N: '12345678901234567890123456789012345678' } };
    const v2: Item = { ...k, fullName: { S: 'v2' }, n: { N: '2' } };
    const newKey = migration.mapKey(k);
    await client.send(new PutItemCommand({ TableName: legacy, Item: toSdkItem(v1) }));
    const cdc = await startUsersCdc(
      { migration, streamArn: await enableStream(client, legacy), controlTableName: control },
      { poller: { pollIntervalMs: 20 } },
    );
    pipelines.push(cdc);
    if (order === '4b: backfill first') await cdc.poller.stop(); // CDC held; its position is kept

    // The application's change of k, made after the backfill's Scan read v1 (step 3).
    const applicationChange = async () => {
      if (change === 'update')
        await client.send(new PutItemCommand({ TableName: legacy, Item: toSdkItem(v2) }));
      else await client.send(new DeleteItemCommand({ TableName: legacy, Key: toSdkItem(k) }));
    };
    const seen: Item[] = [];
    const base = localBackfillDeps({ client, migration, controlTableName: control, writeMode: mode });
    const deps: BackfillDeps = {
      ...base,
      scanPage: async (args) => {
        const page = await base.scanPage(args); // step 2: the Scan reads k = v1
        seen.push(...page.items);
        await applicationChange(); // step 3
        if (order === '4a: CDC first') {
          // step 4a: CDC applies s2 before the backfill writes
          await until(
            'CDC to apply s2',
            () => getItem(client, target, newKey),
            (i) => i !== undefined && sequenceOf(i, names) !== BACKFILL_SEQ,
          );
        }
        return page;
      },
    };

    // Act: the backfill writes what it scanned
    const result = await makePageHandler(deps)({ runId: 'race', segment: 0, totalSegments: 1 });
    const afterBackfill = await getItem(client, target, newKey);
    if (order === '4b: backfill first') await cdc.poller.start(); // step 4b: CDC applies s2 now
    await cdc.poller.drain();
    const final = (await getItem(client, target, newKey)) as Item;

    // Assess
    expect(seen.map(canonicalItem)).toEqual([canonicalItem(v1)]);
    if (order === '4a: CDC first') {
      expect(result).toMatchObject({ scanned: 1, copied: 0, skippedExists: 1, poison: 0 });
      expect(afterBackfill && sequenceOf(afterBackfill, names)).not.toBe(BACKFILL_SEQ);
    } else {
      expect(result).toMatchObject({ scanned: 1, copied: 1, skippedExists: 0, poison: 0 });
      expect(afterBackfill && sequenceOf(afterBackfill, names)).toBe(BACKFILL_SEQ);
      expect(canonicalItem(stripMetadata(afterBackfill as Item, names))).toBe(
        canonicalItem(migration.mapItem(v1)),
      );
    }
    // Either way the final item is s2's: v2, or a tombstone, with a stream sequence number.
    expect(sequenceOf(final, names)).not.toBe(BACKFILL_SEQ);
    if (change === 'update') {
      expect(isTombstone(final, names)).toBe(false);
      expect(canonicalItem(stripMetadata(final, names))).toBe(canonicalItem(migration.mapItem(v2)));
    } else {
      expect(isTombstone(final, names)).toBe(true);
    }
    expect(cdc.deadLetters.depth).toBe(0);
  });
});
