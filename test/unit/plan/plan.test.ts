/**
 * `planMigration` against cases worked out by hand (the arithmetic is written next to each figure), and
 * the `dualread plan` command's flags and table.
 */
import { Command } from 'commander';
import { planFromOptions, pricesFrom, register, renderPlan } from '../../../cli/commands/plan';
import {
  DEFAULT_PLAN_PRICES,
  type PlanInput,
  PlanInputError,
  executionBudget,
  planMigration,
  readUnits,
  writeUnits,
} from '../../../core/plan';

const phase = (plan: ReturnType<typeof planMigration>, name: string) => {
  const p = plan.phases.find((x) => x.phase === name);
  if (!p) throw new Error(`no phase ${name}`);
  return p;
};

/** What every case starts from: 1 million items of 1 KB, on demand, no writes; each says what it changes. */
const base: PlanInput = {
  items: 1_000_000,
  itemSizeBytes: 1024,
  capacityMode: 'on-demand',
  writesPerSecond: 0,
};

describe('Function: planMigration', () => {
  it('prices 1 million 1 KB items on demand by hand', () => {
    // Act
    const plan = planMigration({
      ...base,
      writesPerSecond: 10,
      backfillItemsPerSecond: 1000,
      segments: 4,
      migrationDays: 10,
    });

    // Assess
    // backfill: 1e6 / 1000 = 1000 s; 1e6 WRU × $0.625/M = $0.625; scan 1e6 × 1024 / 4096 / 2 = 125,000
    // RRU × $0.125/M = $0.015625; Lambda 1000 s × 4 workers × 1 GB × $0.0000133334 = $0.0533336
    const backfill = phase(plan, 'backfill');
    expect(backfill.seconds).toBe(1000);
    expect(backfill.cost).toBeCloseTo(0.625 + 0.015625 + 0.0533336, 6);
    // verification: the same scan on both tables, 250,000 RRU = $0.03125, plus the same Lambda time
    expect(phase(plan, 'verification').cost).toBeCloseTo(0.03125 + 0.0533336, 6);
    // step functions: 250 items/s per worker × 60 s = 15,000 per invocation; 250,000 per segment →
    // 17 iterations; 6 × 4 × (17 + 17) = 816 transitions × $0.025/1000 = $0.0204
    expect(phase(plan, 'step functions').cost).toBeCloseTo(0.0204, 6);
    // cdc: 10/s × 864,000 s = 8,640,000 records = 8.64 M WRU × $0.625 = $5.40; one shard, 10 / 4 = 2.5
    // records per invocation → 3,456,000 invocations × $0.2/M = $0.6912; GB-s (3,456,000 × 40 ms +
    // 8,640,000 × 4 ms) / 1000 × 0.5 = (138,240 + 34,560) × 0.5 = 86,400 GB-s × $0.0000133334 = $1.1520058
    expect(phase(plan, 'cdc (stream + sync Lambda)').cost).toBeCloseTo(5.4 + 0.6912 + 1.1520058, 5);
    // storage: 1e6 × 1024 B = 1.024 GB × $0.25 × 10/30 months = $0.0853333
    expect(phase(plan, 'new table storage').cost).toBeCloseTo(0.0853333, 6);
    expect(plan.criticalPathSeconds).toBe(2000);
  });

  it('prices provisioned capacity as the capacity the rate needs for the phase', () => {
    // Act: 2 KB items: 2 WCU per write
    const plan = planMigration({
      ...base,
      items: 3_600_000,
      itemSizeBytes: 2048,
      capacityMode: 'provisioned',
      backfillItemsPerSecond: 1000,
      segments: 1,
      migrationDays: 0,
    });

    // Assess: 3,600 s at 2,000 WCU = 2,000 WCU-hours × $0.00065 = $1.30; scan 3.6e6 × 2048 / 4096 / 2
    // = 900,000 RCU-seconds over 3,600 s = 250 RCU for 1 h × $0.00013 = $0.0325; Lambda 3,600 GB-s
    expect(phase(plan, 'backfill').cost).toBeCloseTo(1.3 + 0.0325 + 3600 * 0.0000133334, 6);
  });

  it('defaults the window to backfill and verification plus a week of dual reads', () => {
    // 1e9 items at 1000/s: 1e6 s each = 2e6 s = 23.15 days → 24 + 7
    const plan = planMigration({ ...base, items: 1e9 });
    expect(plan.input.migrationDays).toBe(31);
  });

  it('prices the dual-read path from the extra reads per API read', () => {
    // 100 reads/s × 86,400 s × 2 extra × ceil(5000 / 4096) = 2 units = 34,560,000 RRU × $0.125/M = $4.32
    const plan = planMigration({
      ...base,
      itemSizeBytes: 5000,
      migrationDays: 1,
      apiReadsPerSecond: 100,
      extraReadsPerApiRead: 2,
    });
    expect(phase(plan, 'dual reads').cost).toBeCloseTo(4.32, 6);
  });

  it('refuses inputs out of range with a named error', () => {
    expect(() => planMigration({ ...base, items: -1 })).toThrow(PlanInputError);
    expect(() => planMigration({ ...base, itemSizeBytes: 500 * 1024 })).toThrow(/itemSizeBytes must be/);
    expect(() => planMigration({ ...base, segments: 2.5 })).toThrow(/segments must be a whole number/);
    expect(() => planMigration({ ...base, backfillItemsPerSecond: 0 })).toThrow(/backfillItemsPerSecond/);
  });
});

describe('Function: executionBudget', () => {
  it('keeps 1 billion items within the Step Functions limits (docs/backfill.md cases)', () => {
    // unthrottled, 64 segments: 15,625,000 per segment / 60,000 per invocation = 261 iterations, 1 round,
    // 18 × 261 + 11 = 4,709 events
    const fast = executionBudget(1e9, 64_000, 64);
    expect(fast).toMatchObject({
      itemsPerInvocation: 60_000,
      iterationsPerSegment: 261,
      roundsPerSegment: 1,
    });
    expect(fast.eventsPerChildExecution).toBe(4709);
    // 5,000 items/s: 78.125 × 60 = 4,687 per invocation; 3,334 iterations → 4 rounds of at most 1,000
    const slow = executionBudget(1e9, 5000, 64);
    expect(slow).toMatchObject({ itemsPerInvocation: 4687, iterationsPerSegment: 3334, roundsPerSegment: 4 });
    expect(slow.eventsPerChildExecution).toBe(18_011);
    expect(slow.withinLimits).toBe(true);
  });

  it('counts units as DynamoDB does', () => {
    expect([writeUnits(1), writeUnits(1024), writeUnits(1025)]).toEqual([1, 1, 2]);
    expect([readUnits(4096), readUnits(4097)]).toEqual([1, 2]);
  });
});

describe('Command: dualread plan', () => {
  it('prints a phase-by-phase table for 1 billion items of 1 KB', async () => {
    // Prepare
    const printed: string[] = [];
    const program = new Command().exitOverride();
    register(program, {
      action:
        (body) =>
        async (...args: unknown[]) => {
          await (body as unknown as (c: Command) => Promise<void>)(args[args.length - 1] as Command);
        },
      output: () => ({ result: (_v, human) => printed.push(human()) }),
    });

    // Act
    await program.parseAsync(['plan', '--items', '1000000000', '--item-size', '1024'], { from: 'user' });

    // Assess
    const out = printed.join('\n');
    for (const name of [
      'backfill',
      'verification',
      'step functions',
      'cdc',
      'frontier tracker',
      'control table',
    ]) {
      expect(out).toContain(name);
    }
    expect(out).toMatch(/18,011 of 25,000 history events/);
    expect(out).toContain(DEFAULT_PLAN_PRICES.source);
  });

  it('says what is missing or wrong in the flags', () => {
    expect(() => planFromOptions({ items: '10' })).toThrow(/give --items and --item-size, or --table/);
    expect(() => planFromOptions({ items: 'ten', itemSize: '1' })).toThrow(
      /--items must be a number, not "ten"/,
    );
    expect(() => planFromOptions({ items: '10', itemSize: '1', capacity: 'free' })).toThrow(/--capacity/);
    expect(() => pricesFrom(['lambdaGbSecond'])).toThrow(/expected name=value/);
    expect(pricesFrom(['lambdaGbSecond=1']).lambdaGbSecond).toBe(1);
    expect(renderPlan(planFromOptions({ items: '1000000', itemSize: '100' }))).toContain('1,000,000 items');
  });
});
