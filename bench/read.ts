import { randomBytes } from 'node:crypto';
/**
 * `npm run bench -- read`: in-process latency of the read handler per consistency mode against
 * DynamoDB Local, side by side with a direct GetItem in the same run (each round runs every mode once,
 * in a seeded random order, so all see the same machine noise).
 *
 * - direct:  GetItem on the new table (the baseline);
 * - bounded: NEW_PRIMARY, fresh frontier, backfill complete: served from new;
 * - shadow:  SHADOW phase, every read shadow-compared (`X-Consistency: shadow`): legacy answers, new
 *            is read in the background;
 * - shadowSampled: SHADOW phase default, compared at the migration's default sample rate (5 %);
 * - strong:  both read and compared before answering;
 * - legacy:  LEGACY_ONLY.
 *
 * Result `ratio` = bounded p99 ÷ direct p99 (target ≤ 1.15), the median over 5 consecutive chunks of
 * the run (load on the shared machine drifts); details add p50 ratios and shadow's
 * (target ≤ 1.3). The handler runs with Powertools telemetry, output disabled (the EMF/log writes to
 * stdout are the Lambda runtime's cost, not the handler's).
 *
 * Cost of dual reads: every handler's DynamoDB client counts the item reads it sends to the legacy and
 * new tables (GetItem, Query, and each key of a BatchGetItem; control-table reads apart), and the
 * details report `<mode>_extra_reads_per_api_read` = item reads per API read − 1 (the one read an
 * application reading one table would make) over the timed rounds: shadow at the default sample rate
 * (`shadowSampled`) and always compared (`shadow`), strong, and bounded with its hedged legacy read
 * (`hedged`: the bounded handler hedges after new's p95, so about 5 % of its reads add a legacy read).
 * `dualread plan --extra-reads` takes the figure of the mode a migration will run.
 *
 * Env: `BENCH_READ_ROUNDS` (default 2000), `BENCH_READ_HEDGE_MS` (fixed hedge delay; default: new's p95).
 */
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { makeDynamoClient, toSdkItem } from '../adapters/dynamodb';
import { ControlStore } from '../adapters/control-store';
import { CONTROL_TABLE_KEY, createTable } from '../adapters/tables';
import { BackfillStatus, ControlKey, Phase, initialState } from '../core/control';
import { metadataNames, padSequence, type Migration } from '../core/model';
import { usersMigration } from '../examples/users/migration';
import { DynamoItemStore } from '../adapters/item-store';
import { makeReadHandler } from '../lambdas/read/handler';
import { PowertoolsReadTelemetry } from '../lambdas/read/telemetry';
import { seededRandom } from '../local/seeded-random';
import { type Benchmark, percentile } from './harness';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';

const KEYS = 200;
const ROUNDS = Number(process.env.BENCH_READ_ROUNDS ?? 2000);
/** The run is cut into this many consecutive chunks; ratios are the median of the chunks' ratios. */
const CHUNKS = 5;
const WARMUP = 200;

/** Item reads a handler's client sent to the legacy and new tables (control reads apart). */
interface ReadCount {
  items: number;
  control: number;
}

/** A DynamoDB client that counts the item reads it sends into `count`. */
function countingClient(endpoint: Parameters<typeof makeDynamoClient>[0], control: string, count: ReadCount) {
  const client = makeDynamoClient({ ...endpoint, maxAttempts: 1 });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as {
        TableName?: string;
        RequestItems?: Record<string, { Keys?: unknown[] }>;
      };
      const op = context.commandName;
      if (op === 'GetItemCommand' || op === 'QueryCommand') {
        if (input.TableName === control) count.control++;
        else count.items++;
      } else if (op === 'BatchGetItemCommand') {
        for (const [table, req] of Object.entries(input.RequestItems ?? {})) {
          if (table === control) count.control += req.Keys?.length ?? 0;
          else count.items += req.Keys?.length ?? 0;
        }
      }
      return next(args);
    },
    { step: 'initialize', name: 'benchReadCounter' },
  );
  return client;
}

type Mode = 'direct' | 'bounded' | 'shadow' | 'shadowSampled' | 'strong' | 'legacy';

/** A shuffled copy (Fisher–Yates). */
function shuffled<T>(list: readonly T[], random: () => number): T[] {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

export const benchmark: Benchmark = {
  name: 'read',
  description: `read handler latency per mode vs direct GetItem, ${ROUNDS} interleaved rounds over ${KEYS} keys`,
  async run(ctx) {
    // The direct baseline uses the SDK's default retries, as an application would (DynamoDB Local may
    // reset an idle keep-alive connection); setup and the frontier refresher share it.
    const client = makeDynamoClient({ ...ctx.endpoint, maxAttempts: 3 });
    const names = metadataNames('_dr_');
    // One migration (tables) per phase, so each mode's handler sees a fixed phase.
    const phases: Record<Exclude<Mode, 'direct'>, Phase> = {
      bounded: Phase.NEW_PRIMARY,
      shadow: Phase.SHADOW,
      shadowSampled: Phase.SHADOW,
      strong: Phase.NEW_PRIMARY,
      legacy: Phase.LEGACY_ONLY,
    };
    const migration: Migration = {
      ...usersMigration,
      legacyTable: { ...usersMigration.legacyTable, tableName: 'bench-legacy' },
      newTable: { ...usersMigration.newTable, tableName: 'bench-new' },
    };
    await createTable(client, 'bench-legacy', migration.legacyTable.key);
    await createTable(client, 'bench-new', migration.newTable.key);
    const control: Record<string, string> = {};
    for (const mode of Object.keys(phases) as Array<keyof typeof phases>) {
      control[mode] = `bench-control-${mode}`;
      await createTable(client, control[mode], CONTROL_TABLE_KEY);
      const store = new ControlStore(client, control[mode], migration.id);
      const { version: _v, ...state } = {
        ...initialState(migration.id, 0, Date.now()),
        phase: phases[mode],
        rolloutPercent: 100,
        backfill: { status: BackfillStatus.COMPLETE },
      };
      await store.changeState(
        undefined,
        state,
        { migrationId: migration.id, at: Date.now(), actor: 'bench', action: 'set', reason: 'bench' },
        mode,
      );
    }
    const keys = Array.from({ length: KEYS }, (_, i) => ({ userId: { S: `user-${i}` } }));
    for (const [i, key] of keys.entries()) {
      const legacy = {
        ...key,
        fullName: { S: `User ${i}` },
        balance: { N: '12345678901234567890.123456789' },
        tags: { SS: ['a', 'b'] },
      };
      await client.send(new PutItemCommand({ TableName: 'bench-legacy', Item: toSdkItem(legacy) }));
      await client.send(
        new PutItemCommand({
          TableName: 'bench-new',
          Item: toSdkItem({
            ...migration.mapItem(legacy),
            [names.seq]: { S: padSequence(String(i + 1)) },
            [names.src]: { S: 'cdc' },
          }),
        }),
      );
    }
    // Keep the frontier fresh for the whole run (the tracker's job in a deployment).
    const refreshFrontier = async (): Promise<void> => {
      for (const mode of Object.keys(phases)) {
        await new ControlStore(client, control[mode] as string, migration.id).putUnversioned(
          ControlKey.FRONTIER,
          {
            migrationId: migration.id,
            frontier: Date.now(),
            computedAt: Date.now(),
            shards: [],
            version: 1,
          },
        );
      }
    };
    await refreshFrontier();
    const frontierTimer = setInterval(() => {
      refreshFrontier().catch((err: unknown) => ctx.log(`  frontier refresh failed: ${String(err)}`));
    }, 500);

    const reads = Object.fromEntries(
      Object.keys(phases).map((mode) => [mode, { items: 0, control: 0 }]),
    ) as Record<keyof typeof phases, ReadCount>;
    const handlers = Object.fromEntries(
      (Object.keys(phases) as Array<keyof typeof phases>).map((mode) => {
        // As buildReadTarget wires it (one client, single attempt), with the client counting reads.
        const counted = countingClient(ctx.endpoint, control[mode] as string, reads[mode]);
        // Explicit shadow reads are always compared; the phase default samples at the rate.
        const m =
          mode === 'shadowSampled'
            ? migration
            : { ...migration, read: { ...migration.read, shadowSampleRate: 1 } };
        return [
          mode,
          makeReadHandler({
            tokenSecret: randomBytes(32).toString('hex'),
            targets: [
              {
                migration: m,
                legacy: new DynamoItemStore(counted, m.legacyTable.tableName),
                fresh: new DynamoItemStore(counted, m.newTable.tableName),
                control: new ControlStore(counted, control[mode] as string, m.id),
              },
            ],
            telemetry: new PowertoolsReadTelemetry(),
            ...(process.env.BENCH_READ_HEDGE_MS
              ? { options: { hedgeAfterMs: Number(process.env.BENCH_READ_HEDGE_MS) } }
              : {}),
          }),
        ];
      }),
    );
    const event = (key: (typeof keys)[number], mode: Mode) => ({
      httpMethod: 'GET',
      path: `/migrations/${migration.id}/items`,
      headers:
        mode === 'strong'
          ? { 'x-consistency': 'strong' }
          : mode === 'shadow'
            ? { 'x-consistency': 'shadow' }
            : {},
      queryStringParameters: { key: JSON.stringify(key) },
      body: null,
      isBase64Encoded: false,
    });
    const newKeys = keys.map((k) => toSdkItem(migration.mapKey(k)));
    const served: Record<Mode, number> = {
      direct: 0,
      bounded: 0,
      shadow: 0,
      shadowSampled: 0,
      strong: 0,
      legacy: 0,
    };
    const once = async (mode: Mode, i: number): Promise<number> => {
      const k = i % KEYS;
      const t0 = performance.now();
      if (mode === 'direct') {
        await client.send(
          new GetItemCommand({ TableName: 'bench-new', Key: newKeys[k], ConsistentRead: true }),
        );
      } else {
        const r = await (handlers[mode] as ReturnType<typeof makeReadHandler>)(
          event(keys[k] as (typeof keys)[number], mode) as never,
        );
        if (r.statusCode !== 200) throw new Error(`${mode}: ${r.statusCode} ${r.body}`);
        const expected = {
          bounded: 'new',
          shadow: 'legacy',
          shadowSampled: 'legacy',
          strong: 'new',
          legacy: 'legacy',
        }[mode];
        // Hedges and fallbacks are legitimate; count how often the expected store answered.
        if (r.headers?.['x-served-by'] === expected) served[mode]++;
      }
      return performance.now() - t0;
    };
    const modes: Mode[] = ['direct', 'bounded', 'shadow', 'shadowSampled', 'strong', 'legacy'];
    const samples: Record<Mode, number[]> = {
      direct: [],
      bounded: [],
      shadow: [],
      shadowSampled: [],
      strong: [],
      legacy: [],
    };
    const random = seededRandom(42);
    for (let i = 0; i < WARMUP; i++) for (const m of modes) await once(m, i);
    for (const m of Object.keys(reads)) await handlers[m as keyof typeof handlers]?.drain();
    for (const c of Object.values(reads)) Object.assign(c, { items: 0, control: 0 });
    for (let i = 0; i < ROUNDS; i++) {
      // A new random order each round (seeded), so no mode always follows another; a shadow read's
      // background comparison is awaited outside the timed region, so it does not load the next
      // mode's request (its own cost to its own answer is what is measured).
      for (const m of shuffled(modes, random)) {
        samples[m].push(await once(m, i));
        await (
          handlers[m as keyof typeof handlers] as ReturnType<typeof makeReadHandler> | undefined
        )?.drain();
      }
      if (i % 500 === 0) ctx.log(`  round ${i}/${ROUNDS}`);
    }
    clearInterval(frontierTimer);
    for (const h of Object.values(handlers)) await h.drain();
    client.destroy();

    const p = (m: Mode, q: number): number => percentile(samples[m], q);
    // Load on the shared machine drifts during a run; both sides of a ratio come from the same chunk
    // of interleaved rounds, and the median over chunks is reported (whole-run ratios alongside).
    const size = Math.floor(ROUNDS / CHUNKS);
    const chunkRatio = (m: Mode, q: number): number => {
      const ratios = Array.from({ length: CHUNKS }, (_, c) => {
        const part = (x: Mode): number[] => samples[x].slice(c * size, (c + 1) * size);
        return percentile(part(m), q) / percentile(part('direct'), q);
      });
      return percentile(ratios, 50);
    };
    const details: Record<string, number | string> = {};
    for (const m of modes) {
      details[`${m}_p50_ms`] = Number(p(m, 50).toFixed(3));
      details[`${m}_p99_ms`] = Number(p(m, 99).toFixed(3));
    }
    for (const m of modes.slice(1)) {
      details[`${m}_p50_ratio`] = Number(chunkRatio(m, 50).toFixed(3));
      details[`${m}_p99_ratio`] = Number(chunkRatio(m, 99).toFixed(3));
      details[`${m}_p99_ratio_whole_run`] = Number((p(m, 99) / p('direct', 99)).toFixed(3));
    }
    for (const m of modes.slice(1))
      details[`${m}_served_as_expected`] = Number((served[m] / (ROUNDS + WARMUP)).toFixed(4));
    // Extra DynamoDB item reads per API read (beyond the one read of a single-table application).
    for (const [m, c] of Object.entries(reads)) {
      const label = m === 'bounded' ? 'hedged' : m;
      details[`${label}_extra_reads_per_api_read`] = Number((c.items / ROUNDS - 1).toFixed(4));
      details[`${label}_control_reads_per_api_read`] = Number((c.control / ROUNDS).toFixed(4));
    }
    details.shadow_target = 1.3;
    details.shadow_pass = String(chunkRatio('shadow', 99) <= 1.3 && chunkRatio('shadow', 50) <= 1.3);
    details.shadowSampled_pass = String(
      chunkRatio('shadowSampled', 99) <= 1.3 && chunkRatio('shadowSampled', 50) <= 1.3,
    );
    details.bounded_p50_pass = String(chunkRatio('bounded', 50) <= 1.15);
    const ratio = chunkRatio('bounded', 99);
    return { ratio, target: 1.15, pass: ratio <= 1.15, details };
  },
};
