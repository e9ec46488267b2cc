/**
 * Verification's Lambda handlers (issue 5). Four deployed functions, each with its own least-privilege
 * role (lib/verification.ts):
 *
 * - `control` (control table only): `preflight` (the verification lock, the RUNNING report, the first
 *   stage), `controls` (pause / rate / done of a segment, shared with backfill through STATE),
 *   `advance` (next stage from the control table, lock renewal), `report` (final report + metrics),
 *   `release` (lock) and `fail` (FAILED report, lock released).
 * - `scan`: one segment of one pass for a bounded time (core/verify/checkpoint.ts, `VerifySide`):
 *   `sums` (checksum of `mapItem(legacy)`), `new` (checksum and key census of live new items), and
 *   only when the checksums differ `legacy` (classify every legacy item against the new item at its
 *   mapped key, BatchGetItem) and `extras` (look up live new items' legacy origins). Mismatches are
 *   stored as suspects; counts and checksums move with the checkpoint.
 * - `recheck`: the lag-aware re-check of suspects (core/verify/recheck.ts).
 * - `repair`: the conditional repair of confirmed drift, one AUDIT item per repair (core/verify/repair.ts).
 *
 * Handlers are built over injected dependencies, so tests and local mode run them on DynamoDB Local.
 */
import { randomUUID } from 'node:crypto';
import { type ScanPage, runPool } from '../../adapters/backfill-io';
import { ControlConflictError, type ControlStore, type Versioned } from '../../adapters/control-store';
import {
  type BackfillLock,
  lockFor,
  delayUntil,
  nextNotBefore,
  pageLimit,
  segmentShare,
  ControlKey,
} from '../../core/control';
import { acquireRunLock } from '../../adapters/run-lock';
import {
  ChecksumAccumulator,
  itemHash,
  DiffClass,
  MAPPING_DEFECT_CLASSES,
  classifyLegacy,
  classifyPair,
  expectedNewItem,
  inverseProblem,
  originOf,
  zeroCounts,
  type RepairWrite,
  planRepair,
  repairAudit,
  type VerifyCheckpoint,
  VerifyKey,
  VerifySide,
  type VerifyStage,
  advanceVerifyCheckpoint,
  initialVerifyCheckpoint,
  nextStage,
  sideTotals,
  VerifyAlreadyCompleteError,
  VerifyAlreadyRunningError,
  VerifyCheckpointConflictError,
  VerifyInputError,
  VerifyLockLostError,
  VerifyTableMissingError,
  RepairOutcome,
  type Suspect,
  SuspectStatus,
  decideRecheck,
  frontierCovers,
  lagWaitExpired,
  sequenceToken,
  type VerifyReport,
  VerifyStatus,
  summarize,
} from '../../core/verify';
import {
  isTombstone,
  metadataNames,
  stripMetadata,
  type Migration,
  keyOf,
  type Item,
  itemFromDynamoJson,
  itemToDynamoJson,
} from '../../core/model';
import { keyId } from '../../adapters/verify-io';

// ---------------------------------------------------------------------------------------------
// Payloads (what the state machine passes; see stepfunctions/verify.ts)
// ---------------------------------------------------------------------------------------------

/** The execution input (every field optional; the schedule passes `{ repair }`). */
export interface VerifyStartInput {
  /** Run id; re-use it to resume a run. @default the execution name */
  readonly runId?: string;
  /** Repair confirmed drift. @default migration.verification.repair */
  readonly repair?: boolean;
  /** Parallel Scan segments per side. @default migration.backfill.segments */
  readonly totalSegments?: number;
  /** Segments verified at the same time. @default totalSegments */
  readonly maxConcurrency?: number;
  /** Loop iterations of a segment per Map round (bounds each child execution's history). */
  readonly maxIterationsPerRound?: number;
  /** Rounds per execution before it continues as a new execution (bounds the parent's history). */
  readonly maxRoundsPerExecution?: number;
  /** Who started it (audit). @default `verify:<runId>` */
  readonly actor?: string;
}

/** The run's settings, resolved by `preflight`; the state machine carries them as `$.run`. */
export interface VerifyRun {
  readonly runId: string;
  readonly repair: boolean;
  readonly totalSegments: number;
  readonly maxConcurrency: number;
  readonly maxIterationsPerRound: number;
  readonly maxRoundsPerExecution: number;
  readonly actor: string;
  readonly next: NextStep;
}

/** The next stage (and for the scan stages the segments still to do). */
export interface NextStep {
  readonly stage: VerifyStage;
  readonly segments: number[];
}

/** Payload of the `control` function. */
export type ControlPayload =
  | {
      readonly op: 'preflight';
      readonly input?: VerifyStartInput;
      executionId: string;
      executionName: string;
    }
  | ({ readonly op: 'controls' } & SegmentPayload)
  | { readonly op: 'advance' | 'report' | 'release'; readonly run: VerifyRun; readonly executionId: string }
  | {
      readonly op: 'fail';
      readonly run: VerifyRun;
      readonly executionId: string;
      readonly error?: { readonly Error?: string; readonly Cause?: string };
    };

/** Payload of `scan` and `controls`. */
export interface SegmentPayload {
  readonly runId: string;
  readonly side: VerifySide;
  readonly segment: number;
  readonly totalSegments: number;
}

/** Output of `controls`. */
export interface ControlsResult {
  readonly done: boolean;
  readonly paused: boolean;
  readonly waitSeconds: number;
}

/** Output of `scan`. */
export interface ScanResult {
  readonly done: boolean;
  readonly status: 'DONE' | 'MORE' | 'PAUSED' | 'WAIT';
  readonly pages: number;
  readonly scanned: number;
}

/** Payload of `recheck` and `repair`. */
export interface RunPayload {
  readonly runId: string;
  readonly actor?: string;
}

/** Output of `recheck` and `repair`. */
export interface StepResult {
  readonly done: boolean;
  readonly processed: number;
  readonly pending: number;
}

// ---------------------------------------------------------------------------------------------
// Dependencies
// ---------------------------------------------------------------------------------------------

/** Settings of the handlers. */
export interface VerifySettingsDeps {
  /** How long one `scan`, `recheck` or `repair` invocation works before it returns. */
  readonly budgetMs: number;
  /** Scan page size (cut further by the rate limit). */
  readonly pageSize: number;
  readonly pausePollSeconds: number;
  /** Lease of the verification lock, renewed at every stage change. */
  readonly lockLeaseMs: number;
  readonly maxIterationsPerRound: number;
  readonly maxRoundsPerExecution: number;
  /** Suspects stored per segment; more are counted as dropped (the run is then not clean). */
  readonly maxSuspectsPerSegment: number;
  /** Suspects re-checked together. */
  readonly recheckBatch: number;
  /** Re-check rounds of a key CDC keeps changing before it is `unconfirmed-lag`. */
  readonly maxRecheckRounds: number;
  /** How long a suspect may wait for the frontier before it is `unconfirmed-lag`. */
  readonly maxLagWaitMs: number;
  /** Poll interval of the FRONTIER item while waiting. */
  readonly frontierPollMs: number;
  /** Clock-skew margin subtracted from F. @default migration.read.clockSkewMs */
  readonly clockSkewMs?: number;
  /** Lifetime of suspects and checkpoints (control table TTL). */
  readonly workingItemTtlDays: number;
}

/** Defaults for AWS (docs/architecture.md, "Verification"). */
export const DEFAULT_VERIFY_SETTINGS: VerifySettingsDeps = {
  budgetMs: 60_000,
  pageSize: 500,
  pausePollSeconds: 15,
  lockLeaseMs: 6 * 3600 * 1000,
  maxIterationsPerRound: 1_000,
  maxRoundsPerExecution: 500,
  maxSuspectsPerSegment: 10_000,
  recheckBatch: 500,
  maxRecheckRounds: 3,
  maxLagWaitMs: 15 * 60 * 1000,
  frontierPollMs: 1_000,
  workingItemTtlDays: 30,
};

/** Key reads of one table. */
export interface KeyReadPort {
  batchGet(keys: readonly Item[], consistent: boolean): Promise<Map<string, Item>>;
  get(key: Item, consistent: boolean): Promise<Item | undefined>;
}

/** Metrics sink (Powertools `Metrics` fits). */
export interface VerifyMetricsPort {
  addMetric(name: string, unit: 'Count' | 'Milliseconds', value: number): void;
  publishStoredMetrics(): void;
}

/** Everything the handlers need. */
export interface VerifyDeps {
  readonly migration: Migration;
  readonly store: ControlStore;
  readonly scanLegacy: (args: ScanArgs) => Promise<ScanPage>;
  readonly scanNew: (args: ScanArgs) => Promise<ScanPage>;
  readonly legacy: KeyReadPort;
  readonly fresh: KeyReadPort;
  /**
   * The repair's conditional put on the new table and its audit record, in one transaction: `lost` when
   * the condition failed (a CDC write got there first; then nothing, not even the audit, is written).
   */
  readonly repairNew: (write: RepairWrite) => Promise<'written' | 'lost'>;
  /** Ids of audit records. @default randomUUID */
  readonly newAuditId?: () => string;
  readonly tableStatus: (which: VerifySide) => Promise<{ usable: boolean; detail: string }>;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly settings: VerifySettingsDeps;
  readonly metrics?: VerifyMetricsPort;
  /** Test seam: runs between the repair's read of new and its read of legacy (to force a race). */
  readonly betweenRepairReads?: (newKey: Item, legacyKey: Item) => Promise<void>;
  /** Test seam: runs between the repair's reads and its write (to force a race deterministically). */
  readonly beforeRepairWrite?: (newKey: Item, legacyKey: Item) => Promise<void>;
}

/** Checksums a page adds to: content (`checksum`) and key census (`keyCensus`). */
interface Accumulators {
  readonly content: ChecksumAccumulator;
  readonly census: ChecksumAccumulator;
}

/** One Scan page request. */
export interface ScanArgs {
  readonly segment: number;
  readonly totalSegments: number;
  readonly limit: number;
  readonly exclusiveStartKey?: Item;
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

type Stored<T> = Versioned<T>;

function stripVersion<T extends { version: number }>(v: T): Omit<T, 'version'> {
  const { version: _v, ...rest } = v;
  return rest;
}

function positiveInt(name: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max)
    throw new VerifyInputError(`${name} must be an integer from 1 to ${max}, not ${JSON.stringify(value)}`);
  return value;
}

function checkSegment(p: SegmentPayload): void {
  if (
    !p ||
    typeof p.runId !== 'string' ||
    !Object.values(VerifySide).includes(p.side) ||
    !Number.isInteger(p.segment) ||
    !Number.isInteger(p.totalSegments) ||
    p.segment < 0 ||
    p.segment >= p.totalSegments
  ) {
    throw new VerifyInputError(
      `invalid segment payload ${JSON.stringify(p)}: need runId, side legacy|new|extras, segment < totalSegments`,
    );
  }
}

/**
 * Id of a suspect: a hash of its legacy key (new-side items with no legacy key use their new key). A
 * mapping defect has its own prefix, so it never replaces the drift suspect of the same key.
 */
function suspectId(s: Suspect): string {
  const legacyKey = itemFromDynamoJson(s.legacyKey);
  const byLegacy = Object.keys(legacyKey).length > 0;
  const hash = itemHash(byLegacy ? legacyKey : itemFromDynamoJson(s.newKey)).slice(0, 40);
  if (s.firstClass === DiffClass.NOT_INVERTIBLE) return `i${hash}`;
  if (s.firstClass === DiffClass.ORIGIN_UNKNOWN) return `o${hash}`;
  return `${byLegacy ? '' : 'n'}${hash}`;
}

function expiresAt(deps: VerifyDeps): number {
  return Math.floor(deps.now() / 1000) + deps.settings.workingItemTtlDays * 86_400;
}

async function listSuspects(deps: VerifyDeps, runId: string): Promise<Suspect[]> {
  return deps.store.list<Suspect>(VerifyKey.suspectPrefix(runId));
}

async function saveSuspect(deps: VerifyDeps, s: Suspect & { sk?: string }): Promise<void> {
  const { sk: _sk, ...doc } = s;
  await deps.store.putUnversioned(
    VerifyKey.suspect(doc.runId, suspectId(doc)),
    doc as unknown as Parameters<ControlStore['putUnversioned']>[1],
  );
}

async function checkpoints(deps: VerifyDeps, runId: string, side: VerifySide): Promise<VerifyCheckpoint[]> {
  return deps.store.list<VerifyCheckpoint>(VerifyKey.segmentPrefix(runId, side));
}

async function computeNext(deps: VerifyDeps, run: Pick<VerifyRun, 'runId' | 'totalSegments' | 'repair'>) {
  const [sums, fresh, legacy, extras, suspects] = await Promise.all([
    checkpoints(deps, run.runId, VerifySide.SUMS),
    checkpoints(deps, run.runId, VerifySide.NEW),
    checkpoints(deps, run.runId, VerifySide.LEGACY),
    checkpoints(deps, run.runId, VerifySide.EXTRAS),
    listSuspects(deps, run.runId),
  ]);
  return nextStage({
    totalSegments: run.totalSegments,
    sums,
    legacy,
    fresh,
    extras,
    pendingSuspects: suspects.filter((s) => s.status === SuspectStatus.PENDING).length,
    unrepaired: suspects.filter((s) => s.status === SuspectStatus.CONFIRMED && s.repair === undefined).length,
    repair: run.repair,
  });
}

/** Reads, changes and writes the report (single writer per run: the lock holder). */
async function updateReport(
  deps: VerifyDeps,
  runId: string,
  change: (r: VerifyReport) => VerifyReport,
): Promise<VerifyReport | undefined> {
  for (let attempt = 0; ; attempt++) {
    const current = await deps.store.get<Stored<VerifyReport>>(ControlKey.verify(runId));
    if (!current) return undefined;
    const next = change(stripVersion(current) as VerifyReport);
    try {
      await deps.store.put(
        ControlKey.verify(runId),
        next as unknown as Record<string, unknown>,
        current.version,
      );
      return next;
    } catch (err) {
      if (!(err instanceof ControlConflictError) || attempt >= 5) throw err;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// control: preflight, controls, advance, report, release, fail
// ---------------------------------------------------------------------------------------------

/** Builds the `control` function's handler (dispatch on `op`). */
export function makeVerifyControlHandler(deps: VerifyDeps): (p: ControlPayload) => Promise<unknown> {
  const m = deps.migration;

  async function preflight(p: Extract<ControlPayload, { op: 'preflight' }>): Promise<VerifyRun> {
    const input = p.input ?? {};
    const runId = input.runId ?? p.executionName;
    if (typeof runId !== 'string' || !/^[A-Za-z0-9_.:-]{1,80}$/.test(runId))
      throw new VerifyInputError(
        `runId must be 1-80 letters, digits or _.:- characters, not ${JSON.stringify(runId)}`,
      );
    if (input.repair !== undefined && typeof input.repair !== 'boolean')
      throw new VerifyInputError(`repair must be true or false, not ${JSON.stringify(input.repair)}`);

    // 1. Both tables must be there.
    for (const side of [VerifySide.LEGACY, VerifySide.NEW]) {
      const status = await deps.tableStatus(side);
      if (!status.usable)
        throw new VerifyTableMissingError(
          m.id,
          side === VerifySide.LEGACY ? m.legacyTable.tableName : m.newTable.tableName,
          status.detail,
        );
    }

    // 2. A resumed run keeps its settings (segment layout, repair flag).
    const existing = await deps.store.get<Stored<VerifyReport>>(ControlKey.verify(runId));
    if (existing?.status === VerifyStatus.COMPLETE) throw new VerifyAlreadyCompleteError(m.id, runId);
    const totalSegments =
      existing?.totalSegments ??
      positiveInt('totalSegments', input.totalSegments, m.backfill.segments, 1_000_000);
    const repair = existing?.repair ?? input.repair ?? m.verification.repair;
    const actor = existing?.actor ?? input.actor ?? `verify:${runId}`;

    // 3. The lock: runs never overlap. The versioned put makes two racing preflights serialize.
    const now = deps.now();
    const holder = await acquireRunLock(deps.store, ControlKey.VERIFY_LOCK, {
      runId,
      executionId: p.executionId,
      now,
      leaseMs: deps.settings.lockLeaseMs,
    });
    if (holder) throw new VerifyAlreadyRunningError(m.id, holder.owner, holder.leaseUntil);

    // 4. The report, RUNNING.
    if (!existing) {
      const report: VerifyReport = {
        migrationId: m.id,
        runId,
        status: VerifyStatus.RUNNING,
        stage: 'PREFLIGHT',
        repair,
        totalSegments,
        actor,
        executionId: p.executionId,
        startedAt: now,
      };
      await deps.store.put(ControlKey.verify(runId), report as unknown as Record<string, unknown>, 0);
    } else {
      await updateReport(deps, runId, (r) => {
        const { error: _e, ...rest } = r;
        return { ...rest, status: VerifyStatus.RUNNING, executionId: p.executionId };
      });
    }
    const run = {
      runId,
      repair,
      totalSegments,
      maxConcurrency: positiveInt('maxConcurrency', input.maxConcurrency, totalSegments, 10_000),
      maxIterationsPerRound: positiveInt(
        'maxIterationsPerRound',
        input.maxIterationsPerRound,
        deps.settings.maxIterationsPerRound,
        1_400,
      ),
      maxRoundsPerExecution: positiveInt(
        'maxRoundsPerExecution',
        input.maxRoundsPerExecution,
        deps.settings.maxRoundsPerExecution,
        2_000,
      ),
      actor,
    };
    const next = await computeNext(deps, run);
    await updateReport(deps, runId, (r) => ({ ...r, stage: next.stage }));
    return { ...run, next };
  }

  async function controls(p: SegmentPayload): Promise<ControlsResult> {
    checkSegment(p);
    const [state, cp] = await Promise.all([
      deps.store.getState(),
      deps.store.get<VerifyCheckpoint>(VerifyKey.segment(p.runId, p.side, p.segment)),
    ]);
    if (cp?.done) return { done: true, paused: false, waitSeconds: 0 };
    if (state?.controls.paused)
      return { done: false, paused: true, waitSeconds: deps.settings.pausePollSeconds };
    const delay = delayUntil(cp?.notBefore ?? 0, deps.now());
    return { done: false, paused: false, waitSeconds: delay >= 1000 ? Math.floor(delay / 1000) : 0 };
  }

  async function renewLock(run: VerifyRun, executionId: string): Promise<void> {
    const lock = await deps.store.get<Stored<BackfillLock>>(ControlKey.VERIFY_LOCK);
    if (!lock || lock.owner !== run.runId || lock.released)
      throw new VerifyLockLostError(m.id, run.runId, lock?.owner ?? '?');
    await deps.store.put(
      ControlKey.VERIFY_LOCK,
      lockFor(run.runId, executionId, deps.now(), deps.settings.lockLeaseMs, lock.acquiredAt),
      lock.version,
    );
  }

  async function release(run: VerifyRun): Promise<{ released: boolean }> {
    const lock = await deps.store.get<Stored<BackfillLock>>(ControlKey.VERIFY_LOCK);
    if (!lock || lock.owner !== run.runId || lock.released) return { released: false };
    try {
      await deps.store.put(
        ControlKey.VERIFY_LOCK,
        { ...stripVersion(lock), released: true, leaseUntil: deps.now() },
        lock.version,
      );
    } catch (err) {
      if (!(err instanceof ControlConflictError)) throw err;
      return { released: false };
    }
    return { released: true };
  }

  async function advance(run: VerifyRun, executionId: string): Promise<NextStep> {
    await renewLock(run, executionId);
    const next = await computeNext(deps, run);
    await updateReport(deps, run.runId, (r) => ({ ...r, stage: next.stage }));
    return next;
  }

  async function report(run: VerifyRun): Promise<VerifyReport> {
    const [sums, fresh, legacy, extras, suspects] = await Promise.all([
      checkpoints(deps, run.runId, VerifySide.SUMS),
      checkpoints(deps, run.runId, VerifySide.NEW),
      checkpoints(deps, run.runId, VerifySide.LEGACY),
      checkpoints(deps, run.runId, VerifySide.EXTRAS),
      listSuspects(deps, run.runId),
    ]);
    const figures = summarize(
      sideTotals(sums),
      sideTotals(fresh),
      sideTotals(legacy),
      sideTotals(extras),
      suspects,
    );
    const now = deps.now();
    const out = await updateReport(deps, run.runId, (r) => ({
      ...r,
      ...figures,
      status: VerifyStatus.COMPLETE,
      stage: 'DONE',
      completedAt: now,
      durationMs: now - r.startedAt,
    }));
    if (!out) throw new VerifyInputError(`no report VERIFY#${run.runId}: was preflight run?`);
    const metrics = deps.metrics;
    if (metrics) {
      const c = figures.counts;
      metrics.addMetric('VerifyItemsScanned', 'Count', figures.legacy.scanned + figures.fresh.scanned);
      metrics.addMetric('VerifyMatch', 'Count', c[DiffClass.MATCH]);
      metrics.addMetric('VerifyMissingInNew', 'Count', c[DiffClass.MISSING_IN_NEW]);
      metrics.addMetric('VerifyContentDiffers', 'Count', c[DiffClass.CONTENT_DIFFERS]);
      metrics.addMetric('VerifyTombstonedInNew', 'Count', c[DiffClass.TOMBSTONED_IN_NEW]);
      metrics.addMetric('VerifyExtraInNew', 'Count', c[DiffClass.EXTRA_IN_NEW]);
      metrics.addMetric('VerifyUnmappable', 'Count', c[DiffClass.UNMAPPABLE]);
      metrics.addMetric('VerifyNotInvertible', 'Count', c[DiffClass.NOT_INVERTIBLE]);
      metrics.addMetric('VerifyOriginUnknown', 'Count', c[DiffClass.ORIGIN_UNKNOWN]);
      metrics.addMetric(
        'VerifyConfirmedDrift',
        'Count',
        c[DiffClass.MISSING_IN_NEW] +
          c[DiffClass.CONTENT_DIFFERS] +
          c[DiffClass.TOMBSTONED_IN_NEW] +
          c[DiffClass.EXTRA_IN_NEW],
      );
      metrics.addMetric('VerifyUnconfirmedLag', 'Count', figures.unconfirmedLag);
      metrics.addMetric('VerifyLagResolved', 'Count', figures.lagResolved);
      metrics.addMetric('VerifyRepaired', 'Count', figures.repairs.repaired);
      metrics.addMetric('VerifyRepairLostToCdc', 'Count', figures.repairs.lostToCdc);
      metrics.addMetric('VerifyClean', 'Count', figures.clean ? 1 : 0);
      metrics.addMetric('VerifyDuration', 'Milliseconds', out.durationMs ?? 0);
      metrics.publishStoredMetrics();
    }
    return out;
  }

  async function fail(p: Extract<ControlPayload, { op: 'fail' }>): Promise<{ failed: true }> {
    const error = `${p.error?.Error ?? 'unknown error'}: ${(p.error?.Cause ?? '').slice(0, 1000)}`;
    const now = deps.now();
    await updateReport(deps, p.run.runId, (r) => ({
      ...r,
      status: VerifyStatus.FAILED,
      error,
      completedAt: now,
      durationMs: now - r.startedAt,
    }));
    deps.metrics?.addMetric('VerifyFailed', 'Count', 1);
    deps.metrics?.publishStoredMetrics();
    await release(p.run);
    return { failed: true };
  }

  return async (p) => {
    switch (p?.op) {
      case 'preflight':
        return preflight(p);
      case 'controls':
        return controls(p);
      case 'advance':
        return advance(p.run, p.executionId);
      case 'report':
        return summaryOf(await report(p.run));
      case 'release':
        return release(p.run);
      case 'fail':
        return fail(p);
      default:
        throw new VerifyInputError(
          `unknown op ${JSON.stringify((p as { op?: unknown })?.op)}; expected preflight, controls, advance, report, release or fail`,
        );
    }
  };
}

/** What the report step returns to the state machine (the full report is in the control table). */
function summaryOf(r: VerifyReport) {
  return {
    runId: r.runId,
    clean: r.clean ?? false,
    counts: r.counts ?? zeroCounts(),
    unconfirmedLag: r.unconfirmedLag ?? 0,
    repairs: r.repairs ?? { repaired: 0, alreadyFixed: 0, lostToCdc: 0 },
    checksumsEqual: r.checksumsEqual ?? false,
    durationMs: r.durationMs ?? 0,
  };
}

// ---------------------------------------------------------------------------------------------
// scan: one segment of one side
// ---------------------------------------------------------------------------------------------

/** Builds the segment worker. */
export function makeVerifyScanHandler(deps: VerifyDeps): (p: SegmentPayload) => Promise<ScanResult> {
  const m = deps.migration;
  const names = metadataNames(m.metadataPrefix);

  async function loadCheckpoint(p: SegmentPayload): Promise<Stored<VerifyCheckpoint>> {
    const sk = VerifyKey.segment(p.runId, p.side, p.segment);
    const existing = await deps.store.get<Stored<VerifyCheckpoint>>(sk);
    if (existing) return existing;
    try {
      return await deps.store.put(
        sk,
        initialVerifyCheckpoint(p.runId, p.side, p.segment, p.totalSegments, deps.now()),
        0,
      );
    } catch (err) {
      if (!(err instanceof ControlConflictError)) throw err;
      const winner = await deps.store.get<Stored<VerifyCheckpoint>>(sk);
      if (!winner) throw err;
      return winner;
    }
  }

  /** Legacy side: classify each legacy item against the new item at its mapped key. */
  async function legacyPage(items: readonly Item[], acc: Accumulators, runId: string) {
    const counts = zeroCounts();
    const suspects: Suspect[] = [];
    const rows: Array<{ legacyKey: Item; newKey: Item; expected: Item }> = [];
    const seenAt = deps.now();
    for (const legacy of items) {
      const legacyKey = keyOf(legacy, m.legacyTable.key);
      const expected = expectedNewItem(m, legacy, names);
      let newKey: Item | undefined;
      let reason = 'unmappable' in expected ? expected.unmappable : '';
      if ('item' in expected) {
        try {
          newKey = m.mapKey(legacyKey);
        } catch (err) {
          reason = `mapKey threw ${(err as Error)?.name}: ${(err as Error)?.message}`;
        }
      }
      if (!('item' in expected) || newKey === undefined) {
        counts[DiffClass.UNMAPPABLE]++;
        suspects.push(suspectOf(runId, legacyKey, {}, DiffClass.UNMAPPABLE, 'absent', seenAt, reason));
        continue;
      }
      acc.content.add(expected.item);
      rows.push({ legacyKey, newKey, expected: expected.item });
    }
    const found = await deps.fresh.batchGet(
      rows.map((r) => r.newKey),
      true,
    );
    for (const r of rows) {
      const actual = found.get(keyId(r.newKey));
      const cls = classifyPair(r.expected, actual, names);
      counts[cls]++;
      if (cls === DiffClass.MATCH || cls === DiffClass.CONTENT_DIFFERS) acc.census.add(r.newKey);
      if (cls !== DiffClass.MATCH)
        suspects.push(suspectOf(runId, r.legacyKey, r.newKey, cls, sequenceToken(actual, names), seenAt));
    }
    return { counts, suspects, tombstones: 0 };
  }

  /**
   * Sums pass: checksum of `mapItem(legacy)`; unmappable items are counted and kept as suspects. It is
   * the one pass every run makes over every legacy item, and it has `mapItem(x)` at hand, so it also
   * checks `unmapItem(mapItem(x)) = x` on every item (`not-invertible`): CPU only, no reads.
   */
  function sumsPage(items: readonly Item[], acc: Accumulators, runId: string) {
    const counts = zeroCounts();
    const suspects: Suspect[] = [];
    const seenAt = deps.now();
    for (const legacy of items) {
      const legacyKey = keyOf(legacy, m.legacyTable.key);
      const expected = expectedNewItem(m, legacy, names);
      if ('unmappable' in expected) {
        counts[DiffClass.UNMAPPABLE]++;
        suspects.push(
          suspectOf(runId, legacyKey, {}, DiffClass.UNMAPPABLE, 'absent', seenAt, expected.unmappable),
        );
        continue;
      }
      acc.content.add(expected.item);
      const problem = inverseProblem(m, legacy, expected.item);
      if (problem === undefined) continue;
      counts[DiffClass.NOT_INVERTIBLE]++;
      suspects.push(suspectOf(runId, legacyKey, {}, DiffClass.NOT_INVERTIBLE, 'absent', seenAt, problem));
    }
    return { counts, suspects, tombstones: 0 };
  }

  /** New side: hash live items (content checksum and key census); no lookups. */
  function censusPage(items: readonly Item[], acc: Accumulators) {
    let tombstones = 0;
    for (const item of items) {
      if (isTombstone(item, names)) {
        tombstones++;
        continue;
      }
      acc.content.add(stripMetadata(item, names));
      acc.census.add(keyOf(item, m.newTable.key));
    }
    return { counts: zeroCounts(), suspects: [] as Suspect[], tombstones };
  }

  /** Extras side: look up the legacy origin of every live new item. */
  async function extrasPage(items: readonly Item[], runId: string) {
    const counts = zeroCounts();
    const suspects: Suspect[] = [];
    const rows: Array<{ item: Item; legacyKey: Item; newKey: Item }> = [];
    const seenAt = deps.now();
    for (const item of items) {
      if (isTombstone(item, names)) continue;
      const newKey = keyOf(item, m.newTable.key);
      // Without a computable origin (one that maps back to this very key) nothing says whether the item
      // is an extra: a mapping defect, reported by its new key and never repaired.
      const origin = originOf(m, item, names);
      if ('unknown' in origin) {
        counts[DiffClass.ORIGIN_UNKNOWN]++;
        suspects.push(
          suspectOf(
            runId,
            {},
            newKey,
            DiffClass.ORIGIN_UNKNOWN,
            sequenceToken(item, names),
            seenAt,
            origin.unknown,
          ),
        );
        continue;
      }
      rows.push({ item, legacyKey: origin.key, newKey });
    }
    const origins = await deps.legacy.batchGet(
      rows.map((r) => r.legacyKey),
      false,
    );
    for (const r of rows) {
      if (origins.has(keyId(r.legacyKey))) continue;
      counts[DiffClass.EXTRA_IN_NEW]++;
      suspects.push(
        suspectOf(runId, r.legacyKey, r.newKey, DiffClass.EXTRA_IN_NEW, sequenceToken(r.item, names), seenAt),
      );
    }
    return { counts, suspects, tombstones: 0 };
  }

  function suspectOf(
    runId: string,
    legacyKey: Item,
    newKey: Item,
    cls: DiffClass,
    seenToken: string,
    seenAt: number,
    reason?: string,
  ): Suspect {
    return {
      runId,
      legacyKey: itemToDynamoJson(legacyKey),
      newKey: itemToDynamoJson(newKey),
      firstClass: cls,
      class: cls,
      seenToken,
      seenAt,
      status:
        cls === DiffClass.UNMAPPABLE
          ? SuspectStatus.UNMAPPABLE
          : MAPPING_DEFECT_CLASSES.includes(cls)
            ? SuspectStatus.MAPPING_DEFECT
            : SuspectStatus.PENDING,
      rounds: 0,
      ...(reason !== undefined ? { reason } : {}),
      expiresAt: expiresAt(deps),
    };
  }

  return async (p) => {
    checkSegment(p);
    const started = deps.now();
    let cp = await loadCheckpoint(p);
    const tally = { pages: 0, scanned: 0 };
    const result = (status: ScanResult['status']): ScanResult => ({
      status,
      done: status === 'DONE',
      ...tally,
    });
    if (cp.done) return result('DONE');
    const scan = p.side === VerifySide.LEGACY || p.side === VerifySide.SUMS ? deps.scanLegacy : deps.scanNew;
    // Read-ahead: while a page is classified, the next page is already being scanned (unlimited
    // rate only; a paced segment reads page by page). The checkpoint still moves page by page.
    let ahead: { from: string; page: Promise<ScanPage> } | undefined;
    const dropAhead = () => {
      ahead?.page.catch(() => undefined);
      ahead = undefined;
    };

    for (;;) {
      // Controls shared with backfill (STATE.controls), re-read before every page.
      const state = await deps.store.getState();
      const controls = state?.controls ?? {
        paused: false,
        rateLimitPerSecond: m.backfill.rateLimitPerSecond,
      };
      if (controls.paused) {
        dropAhead();
        return result('PAUSED');
      }
      const share = segmentShare(controls.rateLimitPerSecond, p.totalSegments);
      const wait = delayUntil(cp.notBefore, deps.now());
      // A pacing wait that does not fit in the budget is left to the state machine's Wait state; with no
      // wait, every invocation reads at least one page, so a loop always progresses.
      if (wait > 0 && deps.now() + wait - started > deps.settings.budgetMs) {
        dropAhead();
        return result('WAIT');
      }
      if (wait > 0) await deps.sleep(wait);

      const pageStartedAt = deps.now();
      const limit = pageLimit(share, deps.settings.pageSize);
      const from = JSON.stringify(cp.lastEvaluatedKey ?? null);
      const page = await (ahead && ahead.from === from
        ? ahead.page
        : scan({
            segment: p.segment,
            totalSegments: p.totalSegments,
            limit,
            ...(cp.lastEvaluatedKey ? { exclusiveStartKey: itemFromDynamoJson(cp.lastEvaluatedKey) } : {}),
          }));
      ahead = undefined;
      if (page.lastEvaluatedKey && !Number.isFinite(share) && deps.now() - started < deps.settings.budgetMs) {
        const next = page.lastEvaluatedKey;
        ahead = {
          from: JSON.stringify(itemToDynamoJson(next)),
          page: scan({ segment: p.segment, totalSegments: p.totalSegments, limit, exclusiveStartKey: next }),
        };
        ahead.page.catch(() => undefined);
      }
      const acc = { content: new ChecksumAccumulator(), census: new ChecksumAccumulator() };
      const outcome =
        p.side === VerifySide.SUMS
          ? sumsPage(page.items, acc, p.runId)
          : p.side === VerifySide.LEGACY
            ? await legacyPage(page.items, acc, p.runId)
            : p.side === VerifySide.NEW
              ? censusPage(page.items, acc)
              : await extrasPage(page.items, p.runId);

      // Suspects first (idempotent puts keyed by legacy key), then the checkpoint.
      const room = Math.max(0, deps.settings.maxSuspectsPerSegment - cp.suspects);
      const kept = outcome.suspects.slice(0, room);
      await runPool(kept, 16, (s) => saveSuspect(deps, s));
      const next = advanceVerifyCheckpoint(
        stripVersion(cp),
        {
          ...(page.lastEvaluatedKey ? { lastEvaluatedKey: itemToDynamoJson(page.lastEvaluatedKey) } : {}),
          scanned: page.items.length,
          counts: outcome.counts,
          tombstones: outcome.tombstones,
          checksum: acc.content.value(),
          keyCensus: acc.census.value(),
          suspects: kept.length,
          suspectsDropped: outcome.suspects.length - kept.length,
          notBefore: nextNotBefore(cp.notBefore, pageStartedAt, page.items.length, share),
        },
        deps.now(),
      );
      try {
        // Working items expire with the suspects (control table TTL); the report stays.
        cp = await deps.store.put(
          VerifyKey.segment(p.runId, p.side, p.segment),
          { ...next, expiresAt: expiresAt(deps) },
          cp.version,
        );
      } catch (err) {
        dropAhead();
        if (err instanceof ControlConflictError)
          throw new VerifyCheckpointConflictError(m.id, VerifyKey.segment(p.runId, p.side, p.segment));
        throw err;
      }
      tally.pages++;
      tally.scanned += page.items.length;
      if (cp.done) return result('DONE');
      if (deps.now() - started >= deps.settings.budgetMs) {
        dropAhead();
        return result('MORE');
      }
    }
  };
}

// ---------------------------------------------------------------------------------------------
// recheck: lag-aware re-check of suspects
// ---------------------------------------------------------------------------------------------

/** Builds the re-check handler (core/verify/recheck.ts has the argument). */
export function makeVerifyRecheckHandler(deps: VerifyDeps): (p: RunPayload) => Promise<StepResult> {
  const m = deps.migration;
  const names = metadataNames(m.metadataPrefix);
  const skew = deps.settings.clockSkewMs ?? m.read.clockSkewMs;

  /** Polls FRONTIER until it covers `readAt` or the deadline passes. */
  async function waitForFrontier(readAt: number, deadline: number): Promise<boolean> {
    for (;;) {
      const f = await deps.store.getFrontier();
      if (f && frontierCovers(f.frontier, skew, readAt)) return true;
      if (deps.now() + deps.settings.frontierPollMs > deadline) return false;
      await deps.sleep(deps.settings.frontierPollMs);
    }
  }

  return async (p) => {
    if (!p || typeof p.runId !== 'string') throw new VerifyInputError('recheck needs { runId }');
    const started = deps.now();
    const deadline = started + deps.settings.budgetMs;
    let processed = 0;
    for (;;) {
      const pending = (await listSuspects(deps, p.runId)).filter((s) => s.status === SuspectStatus.PENDING);
      if (pending.length === 0) return { done: true, processed, pending: 0 };
      if (processed > 0 && deps.now() >= deadline) return { done: false, processed, pending: pending.length };
      const batch = pending.slice(0, deps.settings.recheckBatch);

      // 2. Consistent legacy reads; t1 = when they returned.
      const legacyKeys = batch.map((s) => itemFromDynamoJson(s.legacyKey));
      const legacy = await deps.legacy.batchGet(
        legacyKeys.filter((k) => Object.keys(k).length > 0),
        true,
      );
      const t1 = deps.now();

      // 3. Wait for the frontier to pass t1: no longer than the budget, nor than the lag bound of the
      //    suspect that has waited longest.
      const waitUntil = Math.min(
        deadline,
        ...batch.map((x) => (x.waitingSince ?? started) + deps.settings.maxLagWaitMs + 1),
      );
      if (!(await waitForFrontier(t1, waitUntil))) {
        const now = deps.now();
        await Promise.all(
          batch.map((s) => {
            const waitingSince = s.waitingSince ?? started;
            if (lagWaitExpired(waitingSince, now, deps.settings.maxLagWaitMs))
              return saveSuspect(deps, { ...s, status: SuspectStatus.UNCONFIRMED_LAG, settledAt: now });
            return s.waitingSince === undefined ? saveSuspect(deps, { ...s, waitingSince }) : undefined;
          }),
        );
        const left = batch.filter(
          (s) => !lagWaitExpired(s.waitingSince ?? started, now, deps.settings.maxLagWaitMs),
        );
        return {
          done: left.length === 0 && pending.length === batch.length,
          processed,
          pending: left.length,
        };
      }

      // 4-6. Consistent new reads; classify; settle or go another round.
      const newKeys = batch.map((s) => itemFromDynamoJson(s.newKey));
      const fresh = await deps.fresh.batchGet(
        newKeys.filter((k) => Object.keys(k).length > 0),
        true,
      );
      const now = deps.now();
      await Promise.all(
        batch.map((s, i) => {
          const lk = legacyKeys[i] as Item;
          const nk = newKeys[i] as Item;
          const l = Object.keys(lk).length ? legacy.get(keyId(lk)) : undefined;
          const n = Object.keys(nk).length ? fresh.get(keyId(nk)) : undefined;
          const cls = classifyLegacy(m, l, n, names);
          const d = decideRecheck({
            cls,
            seenToken: s.seenToken,
            nowToken: sequenceToken(n, names),
            rounds: s.rounds,
            maxRounds: deps.settings.maxRecheckRounds,
          });
          return saveSuspect(deps, {
            ...s,
            class: d.cls === DiffClass.MATCH ? s.class : d.cls,
            status: d.status,
            seenToken: d.seenToken,
            seenAt: now,
            rounds: d.rounds,
            ...(d.status === SuspectStatus.PENDING ? {} : { settledAt: now }),
          });
        }),
      );
      processed += batch.length;
    }
  };
}

// ---------------------------------------------------------------------------------------------
// repair
// ---------------------------------------------------------------------------------------------

/** Builds the repair handler (core/verify/repair.ts has the argument against racing CDC). */
export function makeVerifyRepairHandler(deps: VerifyDeps): (p: RunPayload) => Promise<StepResult> {
  const m = deps.migration;
  const names = metadataNames(m.metadataPrefix);

  return async (p) => {
    if (!p || typeof p.runId !== 'string') throw new VerifyInputError('repair needs { runId }');
    const started = deps.now();
    const actor = p.actor ?? `verify:${p.runId}`;
    const todo = (await listSuspects(deps, p.runId)).filter(
      (s) => s.status === SuspectStatus.CONFIRMED && s.repair === undefined,
    );
    let processed = 0;
    for (const s of todo) {
      if (processed > 0 && deps.now() - started >= deps.settings.budgetMs)
        return { done: false, processed, pending: todo.length - processed };
      const legacyKey = itemFromDynamoJson(s.legacyKey);
      let newKey = itemFromDynamoJson(s.newKey);
      if (Object.keys(newKey).length === 0) newKey = m.mapKey(legacyKey);
      // New first, then legacy (core/verify/repair.ts, "Reading new before legacy matters").
      const current = await deps.fresh.get(newKey, true);
      await deps.betweenRepairReads?.(newKey, legacyKey);
      const legacy = Object.keys(legacyKey).length ? await deps.legacy.get(legacyKey, true) : undefined;
      const now = deps.now();
      const plan = planRepair(m, names, { newKey, legacyKey, legacy, current }, now);
      let outcome: RepairOutcome;
      if (plan.kind === 'none' && plan.cls === DiffClass.ORIGIN_UNKNOWN) {
        // The item's origin cannot be computed now: a mapping defect, not an extra to tombstone.
        await saveSuspect(deps, {
          ...s,
          class: plan.cls,
          status: SuspectStatus.MAPPING_DEFECT,
          repair: RepairOutcome.SKIPPED,
          ...(plan.reason !== undefined ? { reason: plan.reason } : {}),
        });
        processed++;
        continue;
      }
      if (plan.kind === 'none') {
        outcome = plan.cls === DiffClass.UNMAPPABLE ? RepairOutcome.SKIPPED : RepairOutcome.ALREADY_FIXED;
      } else {
        await deps.beforeRepairWrite?.(newKey, legacyKey);
        const audit = repairAudit(
          plan,
          { migrationId: m.id, runId: p.runId, actor, legacyKey: s.legacyKey, newKey },
          now,
        );
        const auditId = deps.newAuditId?.() ?? randomUUID();
        const written = await deps.repairNew({ item: plan.item, condition: plan.condition, audit, auditId });
        outcome = written === 'written' ? RepairOutcome.REPAIRED : RepairOutcome.LOST_TO_CDC;
      }
      await saveSuspect(deps, { ...s, repair: outcome });
      processed++;
    }
    return { done: true, processed, pending: 0 };
  };
}
