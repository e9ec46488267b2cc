/**
 * `dualread plan`: how long each phase of a migration takes and what it costs, from the legacy table's
 * size and write rate, before anything starts. Pure arithmetic over the inputs and `PlanPrices`; every
 * figure is one of the formulas below, so a plan can be checked by hand (test/unit/plan/plan.test.ts
 * does, case by case). docs/runbook.md "Planning" explains the model and its limits.
 */
import { DualReadError } from '../common';
import { DEFAULT_FRONTIER_LOOP_INTERVAL_MS } from '../frontier';
import { DEFAULT_PLAN_PRICES, type PlanPrices } from './prices';

/** The inputs of a plan are out of range; the message names the input and the accepted range. */
export class PlanInputError extends DualReadError {}

/** DynamoDB billing mode of the tables. */
export type CapacityMode = 'on-demand' | 'provisioned';

/** What a plan is computed from. */
export interface PlanInput {
  /** Items in the legacy table (1 million to 10 billion). */
  readonly items: number;
  /** Average item size in bytes (DynamoDB's size: names and values). */
  readonly itemSizeBytes: number;
  readonly capacityMode: CapacityMode;
  /** Legacy writes per second while the migration runs (each is one stream record). */
  readonly writesPerSecond: number;
  /** Backfill copy rate, items per second in total. @default 1000 */
  readonly backfillItemsPerSecond?: number;
  /** Backfill and verification segments (parallel workers). @default 64 */
  readonly segments?: number;
  /** Verification scan rate, items per second of each table. @default the backfill rate */
  readonly verifyItemsPerSecond?: number;
  /**
   * Days CDC and the frontier run in all. @default backfill and verification wall time, rounded up to
   * whole days, plus 7 days of dual reads
   */
  readonly migrationDays?: number;
  /** API reads per second served through the dual-read API during that time. @default 0 */
  readonly apiReadsPerSecond?: number;
  /** Extra DynamoDB reads per API read of the chosen mode (`npm run bench -- read`). @default 1 */
  readonly extraReadsPerApiRead?: number;
}

/** One row of the plan. */
export interface PhaseEstimate {
  readonly phase: string;
  /** Wall time of the phase in seconds (0 for what runs all along, see `runsAllAlong`). */
  readonly seconds: number;
  /** US dollars. */
  readonly cost: number;
  /** How the figure was computed, in words and numbers. */
  readonly detail: string;
  readonly runsAllAlong?: boolean;
}

/** Step Functions budget of one execution of a copy (backfill or verification) segment. */
export interface ExecutionBudget {
  /** Items one page-worker invocation handles in its 60 s budget. */
  readonly itemsPerInvocation: number;
  /** Iterations (invocations) per segment. */
  readonly iterationsPerSegment: number;
  /** Child executions (rounds) per segment. */
  readonly roundsPerSegment: number;
  /** History events of the largest child execution (the limit is 25,000). */
  readonly eventsPerChildExecution: number;
  /** Largest state payload in bytes (the limit is 262,144): the pending-segment list. */
  readonly payloadBytes: number;
  readonly withinLimits: boolean;
}

/** A plan. */
export interface MigrationPlan {
  readonly input: Required<PlanInput>;
  readonly prices: PlanPrices;
  readonly phases: readonly PhaseEstimate[];
  readonly budget: ExecutionBudget;
  /** Backfill plus verification wall time, seconds. */
  readonly criticalPathSeconds: number;
  readonly totalCost: number;
}

// How dualread works, as the arithmetic needs it (each with where it is decided).
/** Write request unit size (DynamoDB): a put of `s` bytes costs ceil(s / 1 KB) units. */
export const WRITE_UNIT_BYTES = 1024;
/** Read request unit size (DynamoDB): a strongly consistent read costs ceil(s / 4 KB) units. */
export const READ_UNIT_BYTES = 4096;
/** A page worker's budget (lib/backfill.ts `pageBudget`) and its unthrottled rate (docs/backfill.md). */
export const PAGE_BUDGET_SECONDS = 60;
export const UNTHROTTLED_ITEMS_PER_WORKER_SECOND = 1000;
/** Per copy iteration: state transitions and history events (docs/backfill.md "History arithmetic"). */
export const TRANSITIONS_PER_ITERATION = 6;
export const EVENTS_PER_ITERATION = 18;
export const EVENTS_PER_CHILD_OVERHEAD = 11;
export const ITERATIONS_PER_ROUND = 1000;
export const HISTORY_EVENT_LIMIT = 25_000;
export const PAYLOAD_LIMIT_BYTES = 262_144;
/** Lambda polls a stream shard about 4 times a second; at most `SYNC_BATCH` records per invocation. */
export const SYNC_POLLS_PER_SECOND = 4;
export const SYNC_BATCH = 100;
/** A shard takes about 1,000 writes/s (DynamoDB partition write limit). */
export const WRITES_PER_SHARD = 1000;
/** Sync Lambda: 512 MB, about 40 ms per invocation plus 4 ms per record (measured order, not a promise). */
export const SYNC_MEMORY_GB = 0.5;
export const SYNC_MS_PER_INVOCATION = 40;
export const SYNC_MS_PER_RECORD = 4;
/** Frontier tracker Lambda: 256 MB, running all the time. */
export const TRACKER_MEMORY_GB = 0.25;
/** Page workers (backfill, verification): 1 GB. */
export const WORKER_MEMORY_GB = 1;

const SECONDS_PER_DAY = 86_400;
/** Days of dual reads after verification, in the default migration window. */
export const DUAL_READ_DAYS = 7;
const HOURS = 3600;
const MONTH_DAYS = 30;

function check(name: string, v: number, min: number, max: number): void {
  if (!Number.isFinite(v) || v < min || v > max) {
    throw new PlanInputError(`${name} must be a number from ${min} to ${max}, not ${v}`);
  }
}

/** Units a write of `bytes` consumes (a conditional write that fails consumes the same). */
export function writeUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / WRITE_UNIT_BYTES));
}

/** Units a strongly consistent read of `bytes` consumes (eventually consistent: half). */
export function readUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / READ_UNIT_BYTES));
}

/** Cost of `writes` write units spread over `seconds` (provisioned: the capacity for that rate). */
function writeCost(units: number, seconds: number, mode: CapacityMode, p: PlanPrices): number {
  if (mode === 'on-demand') return (units / 1e6) * p.onDemandWriteRequestUnitPerMillion;
  return seconds <= 0 ? 0 : (units / seconds) * (seconds / HOURS) * p.provisionedWcuHour;
}

function readCost(units: number, seconds: number, mode: CapacityMode, p: PlanPrices): number {
  if (mode === 'on-demand') return (units / 1e6) * p.onDemandReadRequestUnitPerMillion;
  return seconds <= 0 ? 0 : (units / seconds) * (seconds / HOURS) * p.provisionedRcuHour;
}

/** The Step Functions budget of one copy segment at `itemsPerSecond` in total over `segments`. */
export function executionBudget(items: number, itemsPerSecond: number, segments: number): ExecutionBudget {
  const perWorker = Math.min(itemsPerSecond / segments, UNTHROTTLED_ITEMS_PER_WORKER_SECOND);
  const itemsPerInvocation = Math.max(1, Math.floor(perWorker * PAGE_BUDGET_SECONDS));
  const iterationsPerSegment = Math.ceil(items / segments / itemsPerInvocation);
  const roundsPerSegment = Math.ceil(iterationsPerSegment / ITERATIONS_PER_ROUND);
  const eventsPerChildExecution =
    EVENTS_PER_ITERATION * Math.min(iterationsPerSegment, ITERATIONS_PER_ROUND) + EVENTS_PER_CHILD_OVERHEAD;
  // The pending list is a JSON array of segment numbers: at most 6 bytes each ("9999,"), plus the rest
  // of the state (a few hundred bytes).
  const payloadBytes = segments * (String(segments - 1).length + 1) + 512;
  return {
    itemsPerInvocation,
    iterationsPerSegment,
    roundsPerSegment,
    eventsPerChildExecution,
    payloadBytes,
    withinLimits: eventsPerChildExecution <= HISTORY_EVENT_LIMIT && payloadBytes <= PAYLOAD_LIMIT_BYTES,
  };
}

/** Fills the defaults and checks the ranges. */
export function planInput(input: PlanInput): Required<PlanInput> {
  const full: { -readonly [K in keyof PlanInput]-?: PlanInput[K] } = {
    backfillItemsPerSecond: 1000,
    segments: 64,
    apiReadsPerSecond: 0,
    extraReadsPerApiRead: 1,
    ...input,
    verifyItemsPerSecond: input.verifyItemsPerSecond ?? input.backfillItemsPerSecond ?? 1000,
    migrationDays: input.migrationDays ?? 0,
  };
  if (input.migrationDays === undefined) {
    const copySeconds = full.items / full.backfillItemsPerSecond + full.items / full.verifyItemsPerSecond;
    full.migrationDays = Math.ceil(copySeconds / SECONDS_PER_DAY) + DUAL_READ_DAYS;
  }
  check('items', full.items, 1, 1e11);
  check('itemSizeBytes', full.itemSizeBytes, 1, 400 * 1024);
  check('writesPerSecond', full.writesPerSecond, 0, 1e7);
  check('backfillItemsPerSecond', full.backfillItemsPerSecond, 1, 1e7);
  check('verifyItemsPerSecond', full.verifyItemsPerSecond, 1, 1e7);
  check('segments', full.segments, 1, 10_000);
  if (!Number.isInteger(full.segments))
    throw new PlanInputError(`segments must be a whole number, not ${full.segments}`);
  check('migrationDays', full.migrationDays, 0, 3650);
  check('apiReadsPerSecond', full.apiReadsPerSecond, 0, 1e7);
  check('extraReadsPerApiRead', full.extraReadsPerApiRead, 0, 10);
  if (full.capacityMode !== 'on-demand' && full.capacityMode !== 'provisioned') {
    throw new PlanInputError(
      `capacityMode must be "on-demand" or "provisioned", not "${String(full.capacityMode)}"`,
    );
  }
  return full;
}

/**
 * The plan: backfill, verification, CDC (stream and sync Lambda), frontier tracker, Step Functions,
 * control table, dual reads and the new table's storage.
 *
 * @throws PlanInputError naming the first input out of range
 */
export function planMigration(input: PlanInput, prices: PlanPrices = DEFAULT_PLAN_PRICES): MigrationPlan {
  const i = planInput(input);
  const p = prices;
  const mode = i.capacityMode;
  const wru = writeUnits(i.itemSizeBytes);
  const phases: PhaseEstimate[] = [];

  // Backfill: a Scan of legacy (eventually consistent: half a unit per 4 KB read) and one put-if-absent
  // per item in new (a failed condition costs the same units as a write).
  const backfillSeconds = i.items / i.backfillItemsPerSecond;
  const backfillWrites = i.items * wru;
  const scanUnits = Math.ceil((i.items * i.itemSizeBytes) / READ_UNIT_BYTES) / 2;
  const backfillBudget = executionBudget(i.items, i.backfillItemsPerSecond, i.segments);
  const workerGbSeconds = backfillSeconds * i.segments * WORKER_MEMORY_GB;
  phases.push({
    phase: 'backfill',
    seconds: backfillSeconds,
    cost:
      writeCost(backfillWrites, backfillSeconds, mode, p) +
      readCost(scanUnits, backfillSeconds, mode, p) +
      workerGbSeconds * p.lambdaGbSecond,
    detail:
      `${fmt(i.items)} items at ${fmt(i.backfillItemsPerSecond)}/s; ${fmt(backfillWrites)} write units ` +
      `(${wru} per item), ${fmt(scanUnits)} scan read units, ${fmt(workerGbSeconds)} Lambda GB-s`,
  });

  // Verification: a Scan of both tables (checksums first; per-item lookups only where they differ).
  const verifySeconds = i.items / i.verifyItemsPerSecond;
  const verifyUnits = 2 * scanUnits;
  const verifyGbSeconds = verifySeconds * i.segments * WORKER_MEMORY_GB;
  phases.push({
    phase: 'verification',
    seconds: verifySeconds,
    cost: readCost(verifyUnits, verifySeconds, mode, p) + verifyGbSeconds * p.lambdaGbSecond,
    detail: `both tables scanned at ${fmt(i.verifyItemsPerSecond)}/s: ${fmt(verifyUnits)} read units, ${fmt(verifyGbSeconds)} Lambda GB-s`,
  });

  // Step Functions: 6 transitions per page-worker iteration, backfill and verification alike.
  const verifyBudget = executionBudget(i.items, i.verifyItemsPerSecond, i.segments);
  const transitions =
    TRANSITIONS_PER_ITERATION *
    i.segments *
    (backfillBudget.iterationsPerSegment + verifyBudget.iterationsPerSegment);
  phases.push({
    phase: 'step functions',
    seconds: 0,
    cost: (transitions / 1000) * p.stepFunctionsTransitionsPer1000,
    detail: `${fmt(transitions)} state transitions (${TRANSITIONS_PER_ITERATION} per page-worker iteration)`,
  });

  // CDC: every legacy write is one stream record, one conditional put in new, over the whole window.
  const windowSeconds = i.migrationDays * SECONDS_PER_DAY;
  const records = i.writesPerSecond * windowSeconds;
  const shards = Math.max(1, Math.ceil(i.writesPerSecond / WRITES_PER_SHARD));
  const perInvocation = Math.min(SYNC_BATCH, Math.max(1, i.writesPerSecond / shards / SYNC_POLLS_PER_SECOND));
  const invocations = records === 0 ? 0 : Math.ceil(records / perInvocation);
  const syncGbSeconds =
    ((invocations * SYNC_MS_PER_INVOCATION + records * SYNC_MS_PER_RECORD) / 1000) * SYNC_MEMORY_GB;
  phases.push({
    phase: 'cdc (stream + sync Lambda)',
    seconds: 0,
    runsAllAlong: true,
    cost:
      writeCost(records * wru, windowSeconds, mode, p) +
      syncGbSeconds * p.lambdaGbSecond +
      (invocations / 1e6) * p.lambdaRequestsPerMillion,
    detail:
      `${fmt(records)} records over ${i.migrationDays} days on ~${shards} shard(s); ${fmt(invocations)} ` +
      `invocations of ~${fmt(perInvocation)} records, ${fmt(syncGbSeconds)} GB-s; stream reads by Lambda are free`,
  });

  // Frontier tracker: one step per interval, all along: a GetRecords per shard, a marker query and a
  // FRONTIER put (control table), a SHARD# save per shard every 5 s; one marker put per sync batch.
  const steps = windowSeconds / (DEFAULT_FRONTIER_LOOP_INTERVAL_MS / 1000);
  const getRecords = steps * shards;
  const trackerGbSeconds = windowSeconds * TRACKER_MEMORY_GB;
  phases.push({
    phase: 'frontier tracker',
    seconds: 0,
    runsAllAlong: true,
    cost:
      (getRecords / 1e5) * p.streamsReadRequestsPer100k +
      trackerGbSeconds * p.lambdaGbSecond +
      (windowSeconds / 60 / 1e6) * p.lambdaRequestsPerMillion,
    detail: `${fmt(steps)} steps (one per ${DEFAULT_FRONTIER_LOOP_INTERVAL_MS} ms), ${fmt(getRecords)} GetRecords, ${fmt(trackerGbSeconds)} GB-s`,
  });

  const controlWrites = steps + (windowSeconds / 5) * shards + invocations;
  const controlReads = steps * 2;
  phases.push({
    phase: 'control table',
    seconds: 0,
    runsAllAlong: true,
    cost:
      (controlWrites / 1e6) * p.onDemandWriteRequestUnitPerMillion +
      (controlReads / 1e6) * p.onDemandReadRequestUnitPerMillion,
    detail: `on-demand: ${fmt(controlWrites)} writes (FRONTIER, SHARD#, a marker per sync batch), ${fmt(controlReads)} reads`,
  });

  const apiReads = i.apiReadsPerSecond * windowSeconds;
  const extraUnits = apiReads * i.extraReadsPerApiRead * readUnits(i.itemSizeBytes);
  phases.push({
    phase: 'dual reads',
    seconds: 0,
    runsAllAlong: true,
    cost: readCost(extraUnits, windowSeconds, mode, p),
    detail: `${fmt(apiReads)} API reads × ${i.extraReadsPerApiRead} extra DynamoDB reads × ${readUnits(i.itemSizeBytes)} units`,
  });

  const storageGb = (i.items * i.itemSizeBytes) / 1e9;
  phases.push({
    phase: 'new table storage',
    seconds: 0,
    runsAllAlong: true,
    cost: storageGb * p.storageGbMonth * (i.migrationDays / MONTH_DAYS),
    detail: `${fmt(storageGb)} GB for ${i.migrationDays} days`,
  });

  return {
    input: i,
    prices: p,
    phases,
    budget: backfillBudget,
    criticalPathSeconds: backfillSeconds + verifySeconds,
    totalCost: phases.reduce((a, ph) => a + ph.cost, 0),
  };
}

/** A number for the detail column: thousands separated, at most 2 decimals. */
function fmt(n: number): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: 2 });
}
