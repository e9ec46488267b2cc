/**
 * `npm run bench -- verify`: items verified per second by a full verification run (the deployed state
 * machine definition run locally with the real handlers: lock, legacy pass with BatchGetItem of the
 * mapped keys and checksums, new pass with checksums and key census, report), side by side with a raw
 * parallel Scan of both tables at the same concurrency (same segments, same page size), on the same
 * migrated tables of DynamoDB Local, rounds interleaved. Ratio = verified items/s ÷ raw scanned
 * items/s (medians); target ≥ 0.5. On these clean tables the checksums are equal, so the run reads each
 * table once and looks nothing up; the slow path (checksums differ: a second legacy scan with
 * BatchGetItem of every mapped key) is measured once afterwards and printed for information.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CONTROL_TABLE_KEY, createTable } from '../adapters/tables';
import { BACKFILL_SEQ, type Migration, type Item } from '../core/model';
import type { VerifyReport } from '../core/verify';
import { BackfillStatus, ControlKey, initialState } from '../core/control';
import { usersMigration } from '../examples/users/migration';
import { localVerifyDeps, startLocalVerify } from '../local/verify';
import { type Benchmark, batchPutAll, scanAllSegments } from './harness';

const ITEMS = Number(process.env.VERIFY_BENCH_ITEMS ?? 20_000);
const SEGMENTS = 4;
const PAGE = 500;
const ROUNDS = 5;

function legacyItem(i: number): Item {
  return {
    userId: { S: `u-${i}` },
    fullName: { S: `User number ${i}` },
    n: { N: `${i}123456789012345678901234567890.5` },
    address: { M: { city: { S: `City ${i % 97}` }, zip: { N: String(10000 + (i % 89999)) } } },
    tags: { SS: ['a', `t${i % 13}`] },
  };
}

async function load(client: DynamoDBClient, table: string, items: readonly Item[]): Promise<void> {
  await batchPutAll(client, table, items, 4);
}

/** Raw parallel scan of one table: every segment read to its end. */
async function rawScan(client: DynamoDBClient, table: string): Promise<number> {
  let n = 0;
  await scanAllSegments(client, table, { totalSegments: SEGMENTS, limit: PAGE }, (page) => {
    n += page.length;
  });
  return n;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export const benchmark: Benchmark = {
  name: 'verify',
  description: `verification items/s vs raw parallel scan of both tables (${ITEMS} items per table, ${SEGMENTS} segments)`,
  async run(ctx) {
    const migration: Migration = {
      ...usersMigration,
      legacyTable: { ...usersMigration.legacyTable, tableName: 'bench-verify-legacy' },
      newTable: { ...usersMigration.newTable, tableName: 'bench-verify-new' },
    };
    await createTable(ctx.client, migration.legacyTable.tableName, migration.legacyTable.key, {
      stream: true,
    });
    await createTable(ctx.client, migration.newTable.tableName, migration.newTable.key);
    await createTable(ctx.client, 'bench-verify-control', CONTROL_TABLE_KEY);
    const legacy = Array.from({ length: ITEMS }, (_, i) => legacyItem(i));
    ctx.log(`loading ${ITEMS} items into each table`);
    await load(ctx.client, migration.legacyTable.tableName, legacy);
    await load(
      ctx.client,
      migration.newTable.tableName,
      legacy.map((l) => ({
        ...migration.mapItem(l),
        _dr_seq: { S: BACKFILL_SEQ },
        _dr_src: { S: 'backfill' },
        _dr_ts: { N: '1' },
      })),
    );
    const deps = localVerifyDeps({
      client: ctx.client,
      migration,
      controlTableName: 'bench-verify-control',
      settings: { pageSize: PAGE, budgetMs: 60_000 },
    });
    // Verification judges only once the backfill is COMPLETE (core/verify/gate.ts): say so in STATE.
    const now = Date.now();
    await deps.store.changeState(
      undefined,
      {
        ...initialState(migration.id, 0, now),
        backfill: { status: BackfillStatus.COMPLETE, completedAt: now },
      },
      {
        migrationId: migration.id,
        at: now,
        actor: 'bench',
        action: 'backfill-complete',
        reason: 'bench set-up',
      },
      'bench-verify-complete',
    );

    // Warm-up (JIT, connections), not measured.
    await rawScan(ctx.client, migration.legacyTable.tableName);
    const raw: number[] = [];
    const verified: number[] = [];
    let last: VerifyReport | undefined;
    for (let round = 0; round < ROUNDS + 1; round++) {
      let t = performance.now();
      const scanned =
        (await rawScan(ctx.client, migration.legacyTable.tableName)) +
        (await rawScan(ctx.client, migration.newTable.tableName));
      const rawRate = scanned / ((performance.now() - t) / 1000);

      t = performance.now();
      const runId = `bench-${round}`;
      const run = startLocalVerify(deps, { runId, totalSegments: SEGMENTS, repair: false }, { name: runId });
      await run.result;
      const seconds = (performance.now() - t) / 1000;
      last = await deps.store.get<VerifyReport>(ControlKey.verify(runId));
      const items = (last?.legacy?.scanned ?? 0) + (last?.fresh?.scanned ?? 0);
      if (round === 0) {
        ctx.log(
          `warm-up round: raw ${rawRate.toFixed(0)} items/s, verify ${(items / seconds).toFixed(0)} items/s`,
        );
        continue;
      }
      raw.push(rawRate);
      verified.push(items / seconds);
      ctx.log(
        `round ${round}: raw scan ${rawRate.toFixed(0)} items/s, verification ${(items / seconds).toFixed(0)} items/s`,
      );
    }
    // The slow path, for information: 1 % of the new items changed, so the checksums differ and every
    // legacy item is compared with its new item by BatchGetItem (no frontier here: suspects end as
    // unconfirmed-lag after a 1 ms wait bound instead of waiting).
    const drifted = legacy.filter((_, i) => i % 100 === 0);
    await load(
      ctx.client,
      migration.newTable.tableName,
      drifted.map((l) => ({
        ...migration.mapItem(l),
        displayName: { S: 'drift' },
        _dr_seq: { S: BACKFILL_SEQ },
      })),
    );
    const slowDeps = { ...deps, settings: { ...deps.settings, maxLagWaitMs: 1 } };
    const slowStart = performance.now();
    const slow = startLocalVerify(
      slowDeps,
      { runId: 'bench-slow', totalSegments: SEGMENTS },
      { name: 'bench-slow' },
    );
    await slow.result;
    const slowSeconds = (performance.now() - slowStart) / 1000;
    const slowReport = await deps.store.get<VerifyReport>(ControlKey.verify('bench-slow'));
    const slowItems =
      (slowReport?.legacy?.scanned ?? 0) +
      (slowReport?.fresh?.scanned ?? 0) +
      (slowReport?.lookupPass?.scanned ?? 0);
    ctx.log(
      `slow path (1 % drift): ${slowSeconds.toFixed(1)} s, ${slowReport?.firstPass?.['content-differs']} suspects, ` +
        `${(((slowReport?.legacy?.scanned ?? 0) + (slowReport?.fresh?.scanned ?? 0)) / slowSeconds).toFixed(0)} items/s`,
    );

    const ratio = median(verified) / median(raw);
    return {
      ratio,
      target: 0.5,
      pass: ratio >= 0.5,
      details: {
        itemsPerTable: ITEMS,
        segments: SEGMENTS,
        rawScanItemsPerSecond: Math.round(median(raw)),
        verifiedItemsPerSecond: Math.round(median(verified)),
        clean: String(last?.clean),
        checksumsEqual: String(last?.checksumsEqual),
        lookupPass: last?.lookupPass?.skipped ? 'skipped (checksums equal)' : 'ran',
        slowPathSeconds: Number(slowSeconds.toFixed(2)),
        slowPathItemsPerSecond: Math.round(
          ((slowReport?.legacy?.scanned ?? 0) + (slowReport?.fresh?.scanned ?? 0)) / slowSeconds,
        ),
        slowPathReadsPerSecond: Math.round(slowItems / slowSeconds),
        slowPathSuspects: slowReport?.firstPass?.['content-differs'] ?? 0,
      },
    };
  },
};
