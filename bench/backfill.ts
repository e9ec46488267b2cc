/**
 * Backfill throughput on DynamoDB Local against the put-if-absent limit of the same store, measured in
 * the same run.
 *
 * - candidate: the real backfill — the deployed definition run locally (preflight, Map over
 *   segments, controls + page worker loop, finish), writing only where nothing exists (rule 3).
 * - baseline ("put-if-absent limit"): the same parallel Scan (same segments, same page size) and the
 *   same mapped items written through the backfill's own conditional writer (same write mode, same
 *   concurrency) without the state machine, checkpoints or controls: the fastest a CORRECT backfill can
 *   copy on this store. The headline ratio is candidate ÷ this limit (target ≥ 0.9): it measures the
 *   backfill's own overhead.
 * - raw copy (information only): unconditional BatchWriteItem of the same items. It is not a correct
 *   backfill — it would overwrite what CDC wrote — so it is no target; `rawCopyRatio` (candidate ÷ raw)
 *   stays in the output to show what DynamoDB Local charges for conditional writes. On AWS a conditional
 *   write costs the same capacity as an unconditional one (docs/backfill.md "Throughput on AWS").
 *
 * For 1, 2, 4 and 8 segments it copies the same legacy table (20,000 items, `BENCH_BACKFILL_ITEMS`) into
 * fresh tables each way, in `BENCH_BACKFILL_ROUNDS` (3) rounds of alternating order, and prints items/s
 * of each and the ratios; each figure is the median over the rounds (one copy of a few seconds swings
 * by a tenth either way on this machine), with the rounds' range. Every side, the backfill included,
 * is run once before the measurements, so none is measured cold. The final JSON line's `ratio` is the
 * geometric mean over the segment counts of candidate ÷ put-if-absent limit; `rawCopyRatio` the
 * geometric mean of candidate ÷ raw copy.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IfAbsentWriter, WriteMode } from '../adapters/backfill-io';
import { CONTROL_TABLE_KEY, createTable } from '../adapters/tables';
import { ForeignItems } from '../core/control';
import { BACKFILL_SEQ, Source, metadataNames, type Migration, keyNames, type Item } from '../core/model';
import { usersMigration } from '../examples/users/migration';
import { localBackfillDeps, startLocalBackfill } from '../local/backfill';
import { LegacyWorkload } from '../local/workload';
import { type Benchmark, type BenchContext, batchPutAll, percentile, scanAllSegments } from './harness';

const ITEMS = Number(process.env.BENCH_BACKFILL_ITEMS ?? 20_000);
/** Rounds per segment count; each figure is the median over them. */
const ROUNDS = Number(process.env.BENCH_BACKFILL_ROUNDS ?? 3);
const SEGMENTS = [1, 2, 4, 8];
const WRITE_CONCURRENCY = Number(process.env.BENCH_BACKFILL_WRITE_CONCURRENCY ?? 8);
const WRITE_MODE = (process.env.BENCH_BACKFILL_WRITE_MODE ?? WriteMode.PARTIQL) as WriteMode;
/** Other write modes whose full backfill is measured in the same run, as details (comma-separated; '' = none). */
const OTHER_MODES = (process.env.BENCH_BACKFILL_OTHER_MODES ?? WriteMode.TRANSACT)
  .split(',')
  .map((x) => x.trim())
  .filter((x) => x && x !== WRITE_MODE) as WriteMode[];

let tableCounter = 0;
async function freshTable(client: DynamoDBClient, m: Migration, tag: string): Promise<string> {
  const name = `bench-${tag}-${++tableCounter}`;
  await createTable(client, name, m.newTable.key);
  return name;
}

/**
 * The same parallel Scan as the backfill (its segments, its page size) with each page's mapped items,
 * stamped with the metadata of a backfill copy, handed to `write`; returns the sum of what it copied.
 */
async function copyPages(
  client: DynamoDBClient,
  m: Migration,
  legacy: string,
  segments: number,
  write: (items: Item[]) => Promise<number>,
): Promise<number> {
  const names = metadataNames(m.metadataPrefix);
  let copied = 0;
  await scanAllSegments(
    client,
    legacy,
    { totalSegments: segments, limit: m.backfill.pageSize },
    async (page) => {
      const now = Date.now();
      // Not `copied += await ...`: that reads `copied` before the await and loses other segments' counts.
      const n = await write(
        page.map((i) => ({
          ...m.mapItem(i),
          [names.seq]: { S: BACKFILL_SEQ },
          [names.src]: { S: Source.BACKFILL },
          [names.ts]: { N: String(now) },
        })),
      );
      copied += n;
    },
  );
  return copied;
}

/** One way to copy the legacy table into `target` with `segments` segments; returns the items copied. */
type Copy = (
  client: DynamoDBClient,
  m: Migration,
  legacy: string,
  target: string,
  segments: number,
) => Promise<number>;

/** The raw-copy limit: parallel Scan + unconditional BatchWriteItem of the same mapped items. */
const rawCopy: Copy = (client, m, legacy, target, segments) =>
  copyPages(client, m, legacy, segments, (items) => batchPutAll(client, target, items, WRITE_CONCURRENCY));

/**
 * The put-if-absent limit (the baseline): the same parallel Scan, writing through the backfill's own
 * `IfAbsentWriter` (rule 3) without the state machine, checkpoints or controls.
 */
const conditionalCopy: Copy = (client, m, legacy, target, segments) => {
  const writer = new IfAbsentWriter(client, target, {
    seqAttribute: metadataNames(m.metadataPrefix).seq,
    mode: WRITE_MODE,
    concurrency: WRITE_CONCURRENCY,
    transactionSize: 100,
    keyNames: keyNames(m.newTable.key),
  });
  return copyPages(client, m, legacy, segments, async (items) => {
    const outcomes = await writer.writeAll(items, ForeignItems.REFUSE);
    return outcomes.filter((o) => o.kind === 'copied').length;
  });
};

/** The real backfill through the local state machine runner. */
async function backfill(
  client: DynamoDBClient,
  m: Migration,
  legacy: string,
  target: string,
  segments: number,
  mode: WriteMode = WRITE_MODE,
): Promise<number> {
  const control = await freshTable(
    client,
    { ...m, newTable: { ...m.newTable, key: CONTROL_TABLE_KEY } },
    'control',
  );
  const migration: Migration = {
    ...m,
    legacyTable: { ...m.legacyTable, tableName: legacy },
    newTable: { ...m.newTable, tableName: target },
    // The bench measures copying as fast as the store allows: no ceiling from capacity (which on an
    // on-demand table is a stated 1,000 items/s); the rate still halves on throttling.
    backfill: { ...m.backfill, maxRatePerSecond: 0 },
  };
  const deps = localBackfillDeps({
    client,
    migration,
    controlTableName: control,
    // The bench measures copying: its legacy table has no stream and no CDC runs, so the preflight's
    // CDC check is answered here rather than faked in the control table.
    cdcStatus: { check: async () => ({ consuming: true, reason: 'bench: no CDC, nothing changes legacy' }) },
    writeMode: mode,
    writeConcurrency: WRITE_CONCURRENCY,
  });
  const run = startLocalBackfill(deps, { runId: `bench-${segments}`, totalSegments: segments });
  const out = (await run.result) as { finish: { value: { copied: number } } };
  return out.finish.value.copied;
}

async function timed(fn: () => Promise<number>): Promise<{ items: number; perSecond: number }> {
  const t0 = performance.now();
  const items = await fn();
  const seconds = (performance.now() - t0) / 1000;
  return { items, perSecond: items / seconds };
}

export const benchmark: Benchmark = {
  name: 'backfill',
  description: `backfill vs the put-if-absent limit (same Scan, same conditional writer, no state machine), raw copy as information, ${ITEMS} items, write mode ${WRITE_MODE} (also measured: ${OTHER_MODES.join(', ') || 'none'}), write concurrency ${WRITE_CONCURRENCY}`,
  async run(ctx: BenchContext) {
    const { client } = ctx;
    const m = usersMigration;
    const legacy = 'bench-legacy';
    await createTable(client, legacy, m.legacyTable.key);
    const workload = new LegacyWorkload({
      client,
      tableName: legacy,
      key: m.legacyTable.key,
      keyCount: ITEMS,
      concurrency: 8,
      fidelityProbability: 0.02,
    });
    const seeded = await workload.populate();
    ctx.log(`seeded ${seeded.acknowledged} legacy items in ${seeded.durationMs} ms`);

    // Warm the JVM (and its table code paths) and this process's code of every side, so the first
    // measurement of none of them is a cold one (the backfill's was, and 1 segment measured it first).
    await rawCopy(client, m, legacy, await freshTable(client, m, 'warmup'), 4);
    await conditionalCopy(client, m, legacy, await freshTable(client, m, 'warmup'), 4);
    await backfill(client, m, legacy, await freshTable(client, m, 'warmup'), 4);

    const details: Record<string, number | string> = {};
    const ratios: number[] = [];
    const rawRatios: number[] = [];
    for (const [i, segments] of SEGMENTS.entries()) {
      type Which = 'raw' | 'conditional' | 'backfill' | `backfill-${WriteMode}`;
      const run = async (which: Which) => {
        const target = await freshTable(client, m, which.replace('backfill-', 'bf-'));
        if (which.startsWith('backfill-')) {
          const mode = which.slice('backfill-'.length) as WriteMode;
          return timed(() => backfill(client, m, legacy, target, segments, mode));
        }
        const copy = which === 'raw' ? rawCopy : which === 'conditional' ? conditionalCopy : backfill;
        return timed(() => copy(client, m, legacy, target, segments));
      };
      // Rounds alternate the order, so drift of the shared machine does not favour one side, and each
      // figure is the median over rounds (one copy of a few seconds swings by a tenth either way).
      const others = OTHER_MODES.map((mode): Which => `backfill-${mode}`);
      type Rates = { raw: number; cond: number; cand: number; ratio: number; rawRatio: number };
      const rounds: Rates[] = [];
      const measured = new Map<Which, { items: number; perSecond: number }>();
      for (let round = 0; round < ROUNDS; round++) {
        const sides: Which[] = ['raw', 'conditional', 'backfill', ...(round === 0 ? others : [])];
        const order = (i + round) % 2 === 0 ? sides : [...sides].reverse();
        for (const which of order) measured.set(which, await run(which));
        const raw = measured.get('raw') as { items: number; perSecond: number };
        const cond = measured.get('conditional') as { items: number; perSecond: number };
        const cand = measured.get('backfill') as { items: number; perSecond: number };
        if (raw.items !== ITEMS || cand.items !== ITEMS || cond.items !== ITEMS) {
          throw new Error(
            `copied ${cand.items} (backfill), ${cond.items} (conditional) and ${raw.items} (raw) of ${ITEMS} items`,
          );
        }
        rounds.push({
          raw: raw.perSecond,
          cond: cond.perSecond,
          cand: cand.perSecond,
          ratio: cand.perSecond / cond.perSecond,
          rawRatio: cand.perSecond / raw.perSecond,
        });
        ctx.log(
          `segments=${segments} round ${round + 1}: backfill ${Math.round(cand.perSecond)} items/s, put-if-absent ` +
            `limit ${Math.round(cond.perSecond)} items/s, ratio ${(cand.perSecond / cond.perSecond).toFixed(3)}`,
        );
      }
      const med = (k: keyof Rates) =>
        percentile(
          rounds.map((r) => r[k]),
          50,
        );
      const ratio = med('ratio');
      const rawRatio = med('rawRatio');
      ratios.push(ratio);
      rawRatios.push(rawRatio);
      details[`segments${segments}_backfill_items_per_s`] = Math.round(med('cand'));
      details[`segments${segments}_put_if_absent_limit_items_per_s`] = Math.round(med('cond'));
      details[`segments${segments}_ratio`] = Number(ratio.toFixed(3));
      details[`segments${segments}_ratio_range`] =
        `${Math.min(...rounds.map((r) => r.ratio)).toFixed(3)}-${Math.max(...rounds.map((r) => r.ratio)).toFixed(3)}`;
      details[`segments${segments}_raw_copy_items_per_s`] = Math.round(med('raw'));
      details[`segments${segments}_raw_copy_ratio`] = Number(rawRatio.toFixed(3));
      for (const other of others) {
        const o = measured.get(other) as { items: number; perSecond: number };
        if (o.items !== ITEMS) throw new Error(`copied ${o.items} (${other}) of ${ITEMS} items`);
        const mode = other.slice('backfill-'.length);
        const limit = (rounds[0] as Rates).cond;
        details[`segments${segments}_backfill_${mode}_items_per_s`] = Math.round(o.perSecond);
        details[`segments${segments}_backfill_${mode}_vs_limit`] = Number((o.perSecond / limit).toFixed(3));
        ctx.log(
          `segments=${segments}: backfill in ${mode} mode ${Math.round(o.perSecond)} items/s, ` +
            `${(o.perSecond / limit).toFixed(3)} of the ${WRITE_MODE} put-if-absent limit (round 1)`,
        );
      }
      ctx.log(
        `segments=${segments}: median over ${ROUNDS} rounds: backfill ${Math.round(med('cand'))} items/s, ` +
          `put-if-absent limit ${Math.round(med('cond'))} items/s, ratio ${ratio.toFixed(3)}; raw copy (not a ` +
          `correct backfill) ${Math.round(med('raw'))} items/s (backfill/raw ${rawRatio.toFixed(3)})`,
      );
    }
    const geomean = (xs: number[]) => Math.exp(xs.reduce((s, r) => s + Math.log(r), 0) / xs.length);
    const ratio = geomean(ratios);
    details.rawCopyRatio = Number(geomean(rawRatios).toFixed(4));
    details.write_mode = WRITE_MODE;
    details.items = ITEMS;
    details.rounds = ROUNDS;
    return { ratio, target: 0.9, pass: ratio >= 0.9 && ratios.every((r) => r >= 0.9), details };
  },
};
