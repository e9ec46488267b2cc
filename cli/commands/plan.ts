/**
 * `dualread plan`: the time and cost of each phase of a migration, and the Step Functions budget of one
 * execution, before anything starts. The arithmetic is `core/plan`; this module reads the flags, or on
 * AWS the table's size and write rate (`--table`, adapters/table-stats.ts), and prints the table.
 */
import Table from 'cli-table3';
import type { Command } from 'commander';
import { type TableStats, readTableStats } from '../../adapters/table-stats';
import {
  type CapacityMode,
  DEFAULT_PLAN_PRICES,
  type MigrationPlan,
  PlanInputError,
  type PlanPrices,
  planMigration,
} from '../../core/plan';

/** What `plan` needs of the CLI's context (the CLI's `CliContext` has it). */
export interface PlanCommandContext {
  action<A extends unknown[]>(
    body: (cmd: Command, ...args: A) => Promise<number | void>,
  ): (...args: unknown[]) => Promise<void>;
  output(cmd: Command): { result(value: unknown, human: () => string): void };
}

interface PlanOptions {
  table?: string;
  region?: string;
  items?: string;
  itemSize?: string;
  capacity?: string;
  writeRate?: string;
  backfillRate?: string;
  verifyRate?: string;
  segments?: string;
  days?: string;
  apiReads?: string;
  extraReads?: string;
  price?: string[];
}

/** Reads a numeric flag, or undefined when absent. */
function num(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v.replace(/_/g, ''));
  if (v.trim() === '' || !Number.isFinite(n)) {
    throw new PlanInputError(`--${flag} must be a number, not "${v}"`);
  }
  return n;
}

/** `--price name=value` flags over the default prices. */
export function pricesFrom(flags: readonly string[] = []): PlanPrices {
  const prices: Record<string, number | string> = { ...DEFAULT_PLAN_PRICES };
  for (const f of flags) {
    const [name, value] = f.split('=');
    if (!name || value === undefined || !(name in prices) || name === 'source') {
      const known = Object.keys(DEFAULT_PLAN_PRICES).filter((k) => k !== 'source');
      throw new PlanInputError(`--price "${f}": expected name=value with name one of ${known.join(', ')}`);
    }
    prices[name] = num(`price ${name}`, value) as number;
    prices.source = `${DEFAULT_PLAN_PRICES.source}, overridden: ${flags.join(', ')}`;
  }
  return prices as unknown as PlanPrices;
}

/** The plan from the flags, with the table's own figures (`stats`) where a flag is absent. */
export function planFromOptions(o: PlanOptions, stats?: TableStats): MigrationPlan {
  const items = num('items', o.items) ?? stats?.itemCount;
  const itemSizeBytes = num('item-size', o.itemSize) ?? stats?.averageItemBytes;
  if (items === undefined || itemSizeBytes === undefined) {
    throw new PlanInputError('give --items and --item-size, or --table to read them from DynamoDB');
  }
  const capacity = o.capacity ?? stats?.capacityMode ?? 'on-demand';
  if (capacity !== 'on-demand' && capacity !== 'provisioned') {
    throw new PlanInputError(`--capacity must be on-demand or provisioned, not "${capacity}"`);
  }
  const optional = {
    backfillItemsPerSecond: num('backfill-rate', o.backfillRate),
    verifyItemsPerSecond: num('verify-rate', o.verifyRate),
    segments: num('segments', o.segments),
    migrationDays: num('days', o.days),
    apiReadsPerSecond: num('api-reads', o.apiReads),
    extraReadsPerApiRead: num('extra-reads', o.extraReads),
  };
  return planMigration(
    {
      items,
      itemSizeBytes,
      capacityMode: capacity as CapacityMode,
      writesPerSecond: num('write-rate', o.writeRate) ?? stats?.writesPerSecond ?? 0,
      ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
    },
    pricesFrom(o.price),
  );
}

/** A duration in the largest fitting unit. */
export function duration(seconds: number): string {
  if (seconds <= 0) return '—';
  if (seconds < 120) return `${seconds.toFixed(0)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  if (seconds < 2 * 86_400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} days`;
}

/** The plan as a table. */
export function renderPlan(plan: MigrationPlan): string {
  const t = new Table({
    head: ['phase', 'time', 'cost (USD)', 'how'],
    wordWrap: true,
    colWidths: [28, 12, 12, 70],
    style: { head: [], border: [] },
  });
  for (const ph of plan.phases) {
    t.push([
      ph.phase,
      ph.runsAllAlong ? 'all along' : duration(ph.seconds),
      `$${ph.cost.toFixed(2)}`,
      ph.detail,
    ]);
  }
  t.push([
    'total',
    duration(plan.criticalPathSeconds),
    `$${plan.totalCost.toFixed(2)}`,
    'backfill + verification wall time',
  ]);
  const b = plan.budget;
  return [
    `dualread plan: ${plan.input.items.toLocaleString('en-US')} items of ${plan.input.itemSizeBytes} B, ${plan.input.capacityMode}, ` +
      `${plan.input.writesPerSecond} legacy writes/s, ${plan.input.migrationDays} days`,
    t.toString(),
    `Step Functions, per backfill segment: ${b.itemsPerInvocation.toLocaleString('en-US')} items per invocation, ` +
      `${b.iterationsPerSegment.toLocaleString('en-US')} iterations, ${b.roundsPerSegment} round(s); ` +
      `largest child execution ${b.eventsPerChildExecution.toLocaleString('en-US')} of 25,000 history events; ` +
      `state payload ${b.payloadBytes.toLocaleString('en-US')} of 262,144 bytes${b.withinLimits ? '' : ' — OVER A LIMIT'}`,
    `prices: ${plan.prices.source}`,
  ].join('\n');
}

/** Registers `dualread plan`. */
export function register(program: Command, context: PlanCommandContext): void {
  program
    .command('plan')
    .description('time and cost of each migration phase, and the Step Functions budget, before starting')
    .option('--table <name>', 'read item count, size, capacity mode and write rate from this table (AWS)')
    .option('--region <region>', 'AWS Region of --table')
    .option('--items <n>', 'items in the legacy table')
    .option('--item-size <bytes>', 'average item size in bytes')
    .option('--capacity <mode>', 'on-demand or provisioned (default: the table, else on-demand)')
    .option('--write-rate <n>', 'legacy writes per second (default: CloudWatch, else 0)')
    .option('--backfill-rate <n>', 'backfill items per second in total', '1000')
    .option('--verify-rate <n>', 'verification items per second (default: the backfill rate)')
    .option('--segments <n>', 'backfill and verification segments', '64')
    .option('--days <n>', 'days CDC and the frontier run in all (default: backfill + verification + 7)')
    .option('--api-reads <n>', 'dual-read API reads per second', '0')
    .option('--extra-reads <n>', 'extra DynamoDB reads per API read (npm run bench -- read)', '1')
    .option('--price <name=value...>', 'override a default price (see core/plan/prices.ts)')
    .action(
      context.action(async (cmd: Command) => {
        // --region is also a global option of `dualread`: commander hands it to the program.
        const o = cmd.optsWithGlobals<PlanOptions>();
        const stats = o.table ? await readTableStats(o.table, o.region) : undefined;
        const plan = planFromOptions(o, stats);
        context.output(cmd).result(plan, () => renderPlan(plan));
      }),
    );
}
