/**
 * The backfill's Lambda handlers (one folder, four handlers; each is deployed as its own function
 * with its own least-privilege role, see lib/backfill.ts):
 *
 * - `preflight`: checks CDC consumes from TRIM_HORIZON, the new table exists, takes the backfill
 *   lock, records the start in STATE (with audit) and lists the segments still to copy.
 * - `controls`: reads the operator controls (pause, rate) and the segment's checkpoint, and says
 *   whether the segment loop should stop (done), wait (paused / rate) or copy.
 * - `page`: the page worker. Copies pages of one Scan segment for a bounded time, advancing the
 *   segment checkpoint after each page on a condition on its previous version.
 * - `finish`: after each round of the Map: marks the backfill COMPLETE (counts, time, audit,
 *   lock released) when every segment is done, else lists the pending segments and renews the
 *   lease; in `failed` mode records FAILED and releases the lock.
 *
 * Handlers are built by factories over injected dependencies so tests and local mode run them on
 * DynamoDB Local; `index.ts` wires the deployed ones from the environment.
 */
import { randomUUID } from 'node:crypto';
import { type ControlStore, type Versioned, ControlConflictError } from '../../adapters/control-store';
import type { ForeignItemSearch, IfAbsentWriter, ScanPage } from '../../adapters/backfill-io';
import type { PoisonRegistry, StoredPoison } from '../../adapters/poison-registry';
import {
  BackfillAlreadyCompleteError,
  BackfillAlreadyRunningError,
  BackfillInputError,
  CdcNotConsumingError,
  CheckpointConflictError,
  ForeignItemCheckIncompleteError,
  ForeignItemsError,
  NewTableMissingError,
  SegmentLayoutMismatchError,
  type SegmentCheckpoint,
  advanceCheckpoint,
  checkpointLayout,
  initialCheckpoint,
  pendingSegments,
  totals,
  foreignRefusedReason,
  parseForeignItems,
  mapForBackfill,
  PoisonOrigin,
  PoisonResolution,
  completionStatus,
  isScanFinished,
  poisonKeyHash,
} from '../../core/backfill';
import {
  type BackfillLock,
  lockFor,
  delayUntil,
  nextNotBefore,
  pageLimit,
  segmentShare,
  BackfillStatus,
  ControlKey,
  type MigrationState,
  initialState,
  ForeignItems,
} from '../../core/control';
import { acquireRunLock } from '../../adapters/run-lock';
import type { CdcStatusPort } from '../../core/cdc';
import {
  type KeySchema,
  type Migration,
  keyNames,
  keyOf,
  compareSequence,
  metadataNames,
  sequenceOf,
  type Item,
  type JsonItem,
  assertItem,
  canonicalItem,
  itemFromDynamoJson,
  itemToDynamoJson,
} from '../../core/model';

// ---------------------------------------------------------------------------------------------
// Payloads (what the state machine passes; see stepfunctions/backfill.ts)
// ---------------------------------------------------------------------------------------------

/** The execution input an operator gives (every field optional). */
export interface BackfillStartInput {
  /** Lock owner; re-use it to resume a run. @default the execution name */
  readonly runId?: string;
  /** Parallel Scan segments. @default migration.backfill.segments */
  readonly totalSegments?: number;
  /** Segments copied at the same time. @default totalSegments */
  readonly maxConcurrency?: number;
  /** Loop iterations of a segment per Map round (bounds each child execution's history). */
  readonly maxIterationsPerRound?: number;
  /** Map rounds per execution before it continues as a new execution (bounds the parent's history). */
  readonly maxRoundsPerExecution?: number;
  /** Who started it (audit). @default `backfill:<runId>` */
  readonly actor?: string;
  readonly reason?: string;
  /**
   * How to treat items of the new table dualread did not write (core/backfill/foreign.ts). Kept in
   * STATE for the run and its resumes. @default the run's earlier choice, else `refuse`
   */
  readonly foreignItems?: ForeignItems;
  /** Set by `ContinueAsNew` (and by Step Functions' console for child executions): a continuation, not a new start. */
  readonly AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID?: string;
}

/** Input of `preflight`. */
export interface PreflightPayload {
  readonly input: BackfillStartInput;
  readonly executionId: string;
  readonly executionName: string;
}

/** The run's settings, resolved by `preflight`; the state machine carries them as `$.run`. */
export interface BackfillRun {
  readonly runId: string;
  readonly totalSegments: number;
  readonly maxConcurrency: number;
  readonly maxIterationsPerRound: number;
  readonly maxRoundsPerExecution: number;
  readonly actor: string;
  /** Segments still to copy, in order. */
  readonly segments: number[];
}

/** Input of `controls` and `page`. */
export interface SegmentPayload {
  readonly runId: string;
  readonly segment: number;
  readonly totalSegments: number;
}

/** Output of `controls`. */
export interface ControlsResult {
  readonly done: boolean;
  readonly paused: boolean;
  /** Seconds the loop waits before re-checking (pause poll or rate pacing); 0 = copy now. */
  readonly waitSeconds: number;
  readonly rateLimitPerSecond: number;
}

/** How a `page` invocation ended. */
export const PageStatus = {
  /** The segment's Scan is exhausted. */
  DONE: 'DONE',
  /** The time budget ran out; more pages remain. */
  MORE: 'MORE',
  /** The operator paused the backfill. */
  PAUSED: 'PAUSED',
  /** Rate pacing asks for a wait longer than the time left. */
  WAIT: 'WAIT',
} as const;
export type PageStatus = (typeof PageStatus)[keyof typeof PageStatus];

/** Output of `page`. */
export interface PageResult {
  readonly status: PageStatus;
  readonly done: boolean;
  readonly pages: number;
  readonly scanned: number;
  readonly copied: number;
  readonly skippedExists: number;
  readonly poison: number;
  readonly keptForeign: number;
}

/** Input of `finish`. */
export interface FinishPayload {
  readonly runId: string;
  readonly totalSegments: number;
  readonly actor: string;
  readonly executionId: string;
  /** `round`: after a Map round; `failed`: the Map failed (error attached). */
  readonly mode: 'round' | 'failed';
  readonly error?: { readonly Error?: string; readonly Cause?: string };
}

/** Output of `finish`. */
export interface FinishResult {
  /** Every segment is scanned (the execution ends); STATE says COMPLETE or COMPLETE_WITH_POISON. */
  readonly complete: boolean;
  /** Keys not in new when the scan finished (poison items, waived dead-lettered records). */
  readonly unresolved?: number;
  readonly segments: number[];
  readonly copied: number;
  readonly skippedExists: number;
  readonly poison: number;
  readonly keptForeign: number;
  readonly scanned: number;
}

// ---------------------------------------------------------------------------------------------
// Dependencies
// ---------------------------------------------------------------------------------------------

/** Settings shared by the handlers. */
export interface BackfillSettingsDeps {
  /** How long one `page` invocation works before it returns (it finishes its current page). */
  readonly pageBudgetMs: number;
  /** Wait between checks while paused. */
  readonly pausePollSeconds: number;
  /** Lease of the backfill lock, renewed after every Map round. */
  readonly lockLeaseMs: number;
  /** Defaults of the round bounds (see docs/backfill.md for the arithmetic). */
  readonly maxIterationsPerRound: number;
  readonly maxRoundsPerExecution: number;
  /** How long the preflight may search the new table for items dualread did not write. */
  readonly foreignCheckBudgetMs: number;
}

/** Keys of foreign items a refusal names. */
export const FOREIGN_SAMPLE_KEYS = 5;

/**
 * Upper bounds that keep every execution far below Step Functions' 25,000-event history limit
 * (docs/backfill.md): a segment-loop iteration writes at most 18 events, a parent round 15.
 */
export const MAX_ITERATIONS_PER_ROUND = 1_200;
export const MAX_ROUNDS_PER_EXECUTION = 1_500;
/** The pending-segment list travels in the state (256 KiB payload limit): at most 10,000 segments. */
export const MAX_SEGMENTS = 10_000;

/** Defaults for AWS (docs/backfill.md). */
export const DEFAULT_BACKFILL_SETTINGS: BackfillSettingsDeps = {
  pageBudgetMs: 60_000,
  pausePollSeconds: 15,
  lockLeaseMs: 24 * 3600 * 1000,
  maxIterationsPerRound: 1_000,
  maxRoundsPerExecution: 500,
  // The preflight function's timeout is 5 minutes (lib/backfill.ts).
  foreignCheckBudgetMs: 4 * 60_000,
};

/** Everything the handlers need. */
export interface BackfillDeps {
  readonly migration: Migration;
  readonly store: ControlStore;
  readonly cdcStatus: CdcStatusPort;
  /** Whether the new table exists and is ACTIVE. */
  readonly newTableStatus: () => Promise<{ usable: boolean; detail: string }>;
  /** Searches the new table for items dualread did not write (`findForeignItems`). */
  readonly findForeignItems: (limit: number, budgetMs: number) => Promise<ForeignItemSearch>;
  /** Reads one page of a legacy Scan segment. */
  readonly scanPage: (args: {
    segment: number;
    totalSegments: number;
    limit: number;
    exclusiveStartKey?: Item;
  }) => Promise<ScanPage>;
  readonly writer: Pick<IfAbsentWriter, 'writeAll'>;
  /** The registry of keys not (yet) in new: poison items and waived dead-lettered records. */
  readonly poison: PoisonRegistry;
  /** Strongly consistent reads by key of the legacy table and of the new table (the poison retry). */
  readonly readLegacy: (legacyKey: Item) => Promise<Item | undefined>;
  readonly readNew: (newKey: Item) => Promise<Item | undefined>;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly settings: BackfillSettingsDeps;
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

type StoredCheckpoint = Versioned<SegmentCheckpoint>;

function positiveInt(name: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new BackfillInputError(`${name} must be an integer from 1 to ${max}, not ${JSON.stringify(value)}`);
  }
  return value;
}

function checkSegmentPayload(p: SegmentPayload): void {
  if (
    !p ||
    typeof p.runId !== 'string' ||
    !Number.isInteger(p.segment) ||
    !Number.isInteger(p.totalSegments) ||
    p.segment < 0 ||
    p.segment >= p.totalSegments
  ) {
    throw new BackfillInputError(
      `invalid segment payload ${JSON.stringify(p)}: need runId, segment < totalSegments`,
    );
  }
}

async function listCheckpoints(store: ControlStore): Promise<SegmentCheckpoint[]> {
  return store.list<SegmentCheckpoint>('SEGMENT#');
}

/** Reads STATE, then writes `change(state)` with an audit record; retried on concurrent STATE changes. */
async function updateState(
  deps: BackfillDeps,
  change: (
    current: MigrationState,
  ) => Omit<MigrationState, 'version'> | undefined | Promise<Omit<MigrationState, 'version'> | undefined>,
  audit: (
    current: MigrationState,
    next: Omit<MigrationState, 'version'>,
  ) => {
    action: string;
    reason: string;
    actor: string;
    detail?: Record<string, string | number | boolean>;
  },
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const stored = await deps.store.getState();
    const now = deps.now();
    const current = stored ?? {
      ...initialState(deps.migration.id, deps.migration.backfill.rateLimitPerSecond, now),
    };
    const next = await change(current);
    if (!next) return;
    const a = audit(current, next);
    try {
      await deps.store.changeState(
        stored,
        { ...next, updatedAt: now, updatedBy: a.actor },
        {
          migrationId: deps.migration.id,
          at: now,
          actor: a.actor,
          action: a.action,
          reason: a.reason,
          from: current.backfill.status,
          to: next.backfill.status,
          ...(a.detail ? { detail: a.detail } : {}),
        },
        randomUUID(),
      );
      return;
    } catch (err) {
      if (!(err instanceof ControlConflictError) || attempt >= 10) throw err;
    }
  }
}

function stripVersion<T extends { version: number }>(v: T): Omit<T, 'version'> {
  const { version: _v, ...rest } = v;
  return rest;
}

// ---------------------------------------------------------------------------------------------
// preflight
// ---------------------------------------------------------------------------------------------

/** Builds the `preflight` handler. */
export function makePreflightHandler(deps: BackfillDeps): (p: PreflightPayload) => Promise<BackfillRun> {
  return async (payload) => {
    const input = payload?.input ?? {};
    const runId = input.runId ?? payload.executionName;
    if (typeof runId !== 'string' || !/^[A-Za-z0-9_.:-]{1,80}$/.test(runId)) {
      throw new BackfillInputError(
        `runId must be 1-80 letters, digits or _.:- characters, not ${JSON.stringify(runId)}`,
      );
    }
    const totalSegments = positiveInt(
      'totalSegments',
      input.totalSegments,
      deps.migration.backfill.segments,
      MAX_SEGMENTS,
    );
    const maxConcurrency = positiveInt('maxConcurrency', input.maxConcurrency, totalSegments, 10_000);
    const maxIterationsPerRound = positiveInt(
      'maxIterationsPerRound',
      input.maxIterationsPerRound,
      deps.settings.maxIterationsPerRound,
      MAX_ITERATIONS_PER_ROUND,
    );
    const maxRoundsPerExecution = positiveInt(
      'maxRoundsPerExecution',
      input.maxRoundsPerExecution,
      deps.settings.maxRoundsPerExecution,
      MAX_ROUNDS_PER_EXECUTION,
    );
    const actor = input.actor ?? `backfill:${runId}`;
    const m = deps.migration;

    // 1. Nothing to do once complete.
    const state = await deps.store.getState();
    if (state && isScanFinished(state.backfill.status))
      throw new BackfillAlreadyCompleteError(m.id, state.backfill.unresolved ?? 0);
    const foreignItems = parseForeignItems(
      input.foreignItems,
      state?.backfill.foreignItems ?? ForeignItems.REFUSE,
    );

    // 2. CDC must already consume from TRIM_HORIZON (invariant 3): checked, not assumed.
    const cdc = await deps.cdcStatus.check();
    if (!cdc.consuming) throw new CdcNotConsumingError(m.id, cdc.reason);

    // 3. The new table must exist.
    const table = await deps.newTableStatus();
    if (!table.usable) throw new NewTableMissingError(m.id, m.newTable.tableName, table.detail);

    // 4. Checkpoints of an earlier run must have the same segment layout.
    const checkpoints = await listCheckpoints(deps.store);
    const layout = checkpointLayout(checkpoints);
    if (layout !== undefined && layout !== totalSegments)
      throw new SegmentLayoutMismatchError(m.id, totalSegments, layout);

    // 4b. A fresh start under `refuse` searches the new table for items dualread did not write. (A
    //     resume does not scan the half-copied table again: a write that meets one refuses it as poison.)
    const continuation = input.AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID !== undefined;
    if (foreignItems === ForeignItems.REFUSE && checkpoints.length === 0 && !continuation) {
      const search = await deps.findForeignItems(FOREIGN_SAMPLE_KEYS, deps.settings.foreignCheckBudgetMs);
      if (search.keys.length > 0)
        throw new ForeignItemsError(m.id, m.newTable.tableName, search.keys.map(canonicalItem));
      if (!search.complete)
        throw new ForeignItemCheckIncompleteError(
          m.id,
          m.newTable.tableName,
          search.scanned,
          deps.settings.foreignCheckBudgetMs,
        );
    }

    // 5. The lock: one backfill per migration. The versioned put makes two racing preflights serialize.
    const now = deps.now();
    const holder = await acquireRunLock(deps.store, ControlKey.BACKFILL_LOCK, {
      runId,
      executionId: payload.executionId,
      now,
      leaseMs: deps.settings.lockLeaseMs,
    });
    if (holder) throw new BackfillAlreadyRunningError(m.id, holder.owner, holder.leaseUntil);

    // 6. Record the start (or the resume after a crash or failure) in STATE, with audit. The
    //    continuation of the same run as a new execution (ContinueAsNew) changes nothing.
    const resumed = checkpoints.length > 0;
    await updateState(
      deps,
      (current) =>
        continuation && current.backfill.status === BackfillStatus.RUNNING && current.backfill.runId === runId
          ? undefined
          : {
              ...stripVersion(current),
              backfill: {
                ...current.backfill,
                status: BackfillStatus.RUNNING,
                startedAt: current.backfill.startedAt ?? now,
                runId,
                foreignItems,
              },
            },
      () => ({
        action: resumed ? 'backfill-resume' : 'backfill-start',
        actor,
        reason:
          input.reason ??
          `backfill ${resumed ? 'resumed' : 'started'} by execution ${payload.executionId}; ${cdc.reason}`,
        detail: { runId, totalSegments, executionId: payload.executionId, foreignItems },
      }),
    );

    return {
      runId,
      totalSegments,
      maxConcurrency,
      maxIterationsPerRound,
      maxRoundsPerExecution,
      actor,
      segments: pendingSegments(checkpoints, totalSegments),
    };
  };
}

// ---------------------------------------------------------------------------------------------
// controls
// ---------------------------------------------------------------------------------------------

/** Builds the `controls` handler. */
export function makeControlsHandler(deps: BackfillDeps): (p: SegmentPayload) => Promise<ControlsResult> {
  return async (p) => {
    checkSegmentPayload(p);
    const [state, checkpoint] = await Promise.all([
      deps.store.getState(),
      deps.store.get<SegmentCheckpoint>(ControlKey.segment(p.segment)),
    ]);
    const controls = state?.controls ?? {
      paused: false,
      rateLimitPerSecond: deps.migration.backfill.rateLimitPerSecond,
    };
    if (checkpoint?.done)
      return { done: true, paused: false, waitSeconds: 0, rateLimitPerSecond: controls.rateLimitPerSecond };
    if (controls.paused) {
      return {
        done: false,
        paused: true,
        waitSeconds: deps.settings.pausePollSeconds,
        rateLimitPerSecond: controls.rateLimitPerSecond,
      };
    }
    // Waits under a second are slept by the page worker itself.
    const delay = delayUntil(checkpoint?.notBefore ?? 0, deps.now());
    return {
      done: false,
      paused: false,
      waitSeconds: delay >= 1000 ? Math.floor(delay / 1000) : 0,
      rateLimitPerSecond: controls.rateLimitPerSecond,
    };
  };
}

// ---------------------------------------------------------------------------------------------
// page worker
// ---------------------------------------------------------------------------------------------

/** Builds the page worker. */
export function makePageHandler(deps: BackfillDeps): (p: SegmentPayload) => Promise<PageResult> {
  const m = deps.migration;

  /** Records a poison item once (a page rescanned after a crash meets it again): 1 if this call did. */
  const recordPoison = (segment: number, runId: string, legacy: Item, reason: string): Promise<number> =>
    deps.poison.record(segment, runId, keyOf(legacy, m.legacyTable.key), reason, deps.now());

  async function loadCheckpoint(p: SegmentPayload): Promise<StoredCheckpoint> {
    const sk = ControlKey.segment(p.segment);
    const existing = await deps.store.get<StoredCheckpoint>(sk);
    if (existing) return existing;
    try {
      return await deps.store.put(sk, initialCheckpoint(p.segment, p.totalSegments, p.runId, deps.now()), 0);
    } catch (err) {
      if (!(err instanceof ControlConflictError)) throw err;
      const winner = await deps.store.get<StoredCheckpoint>(sk);
      if (!winner) throw err;
      return winner;
    }
  }

  return async (p) => {
    checkSegmentPayload(p);
    const started = deps.now();
    let cp = await loadCheckpoint(p);
    if (cp.totalSegments !== p.totalSegments)
      throw new SegmentLayoutMismatchError(m.id, p.totalSegments, cp.totalSegments);
    const tally = { pages: 0, scanned: 0, copied: 0, skippedExists: 0, poison: 0, keptForeign: 0 };
    const result = (status: PageStatus): PageResult => ({
      status,
      done: status === PageStatus.DONE,
      ...tally,
    });
    if (cp.done) return result(PageStatus.DONE);

    // The next page is read while the current one is written (prefetch): the Scan's latency hides
    // behind the writes. A prefetched page is only ever the one right after the stored checkpoint.
    const scanFrom = (startKey: SegmentCheckpoint['lastEvaluatedKey'], limit: number) =>
      deps.scanPage({
        segment: p.segment,
        totalSegments: p.totalSegments,
        limit,
        ...(startKey ? { exclusiveStartKey: itemFromDynamoJson(startKey) } : {}),
      });
    let ahead: Promise<ScanPage> | undefined;
    // Controls are re-read before every page (the read for the next page runs alongside the
    // checkpoint write of the previous one, after its items were written): a pause or a new rate
    // set while a page is being written takes effect at the next page.
    let nextState: Promise<MigrationState | undefined> = deps.store.getState();
    for (;;) {
      const current = ahead;
      ahead = undefined;
      const state = await nextState;
      const controls = state?.controls ?? {
        paused: false,
        rateLimitPerSecond: m.backfill.rateLimitPerSecond,
      };
      if (controls.paused) {
        current?.catch(() => undefined);
        return result(PageStatus.PAUSED);
      }
      const share = segmentShare(controls.rateLimitPerSecond, p.totalSegments);
      const wait = delayUntil(cp.notBefore, deps.now());
      // A wait that would outlast the budget is done by the state machine (Wait state), not here;
      // without a wait, every invocation copies at least one page.
      if (wait > 0 && deps.now() + wait - started > deps.settings.pageBudgetMs) {
        current?.catch(() => undefined);
        return result(PageStatus.WAIT);
      }
      const pageRead = current ?? scanFrom(cp.lastEvaluatedKey, pageLimit(share, m.backfill.pageSize));
      if (wait > 0) await deps.sleep(wait);

      const pageStartedAt = deps.now();
      const page = await pageRead;
      const timeLeft = deps.settings.pageBudgetMs - (deps.now() - started);
      if (page.lastEvaluatedKey && timeLeft > 0) {
        ahead = scanFrom(itemToDynamoJson(page.lastEvaluatedKey), pageLimit(share, m.backfill.pageSize));
        ahead.catch(() => undefined);
      }

      // Map (checking the key did not move), then write only where nothing exists (rule 3); poison
      // is recorded, never dropped.
      // A foreign item (not written by dualread) holding a key is treated as the run was started to.
      const foreignItems = parseForeignItems(state?.backfill.foreignItems, ForeignItems.REFUSE);
      const toWrite: Array<{ item: Item; key: Item; legacy: Item }> = [];
      let copied = 0;
      let skippedExists = 0;
      let poison = 0;
      let keptForeign = 0;
      for (const legacy of page.items) {
        const mapped = mapForBackfill(m, legacy, pageStartedAt);
        if ('reason' in mapped) poison += await recordPoison(p.segment, p.runId, legacy, mapped.reason);
        else toWrite.push({ ...mapped, legacy });
      }
      const outcomes = await deps.writer.writeAll(
        toWrite.map((w) => w.item),
        foreignItems,
      );
      for (const [i, o] of outcomes.entries()) {
        const w = toWrite[i] as { item: Item; key: Item; legacy: Item };
        if (o.kind === 'copied') copied++;
        else if (o.kind === 'exists') skippedExists++;
        else if (o.kind === 'foreign' && foreignItems === ForeignItems.KEEP) keptForeign++;
        else if (o.kind === 'foreign')
          poison += await recordPoison(
            p.segment,
            p.runId,
            w.legacy,
            foreignRefusedReason(canonicalItem(w.key)),
          );
        else poison += await recordPoison(p.segment, p.runId, w.legacy, `write refused: ${o.reason}`);
      }

      // Advance the checkpoint only after the page is settled, on the version it started from.
      const next = advanceCheckpoint(
        stripVersion(cp),
        {
          ...(page.lastEvaluatedKey ? { lastEvaluatedKey: itemToDynamoJson(page.lastEvaluatedKey) } : {}),
          scanned: page.items.length,
          copied,
          skippedExists,
          poison,
          keptForeign,
          notBefore: nextNotBefore(cp.notBefore, pageStartedAt, page.items.length, share),
        },
        p.runId,
        deps.now(),
      );
      nextState = deps.store.getState();
      nextState.catch(() => undefined);
      try {
        cp = await deps.store.put(ControlKey.segment(p.segment), next, cp.version);
      } catch (err) {
        if (err instanceof ControlConflictError)
          throw new CheckpointConflictError(m.id, p.segment, cp.version);
        throw err;
      }
      tally.pages++;
      tally.scanned += page.items.length;
      tally.copied += copied;
      tally.skippedExists += skippedExists;
      tally.poison += poison;
      tally.keptForeign += keptForeign;
      if (cp.done) return result(PageStatus.DONE);
      if (deps.now() - started >= deps.settings.pageBudgetMs) {
        ahead?.catch(() => undefined);
        return result(PageStatus.MORE);
      }
    }
  };
}

// ---------------------------------------------------------------------------------------------
// finish
// ---------------------------------------------------------------------------------------------

/** Builds the `finish` handler. */
export function makeFinishHandler(deps: BackfillDeps): (p: FinishPayload) => Promise<FinishResult> {
  const m = deps.migration;

  async function releaseLock(runId: string): Promise<void> {
    const lock = await deps.store.get<Versioned<BackfillLock>>(ControlKey.BACKFILL_LOCK);
    if (!lock || lock.owner !== runId || lock.released) return;
    try {
      await deps.store.put(
        ControlKey.BACKFILL_LOCK,
        { ...stripVersion(lock), released: true, leaseUntil: deps.now() },
        lock.version,
      );
    } catch (err) {
      if (!(err instanceof ControlConflictError)) throw err;
    }
  }

  async function renewLock(runId: string, executionId: string): Promise<void> {
    const lock = await deps.store.get<Versioned<BackfillLock>>(ControlKey.BACKFILL_LOCK);
    const now = deps.now();
    if (!lock || lock.owner !== runId || lock.released) {
      // Someone else took the lock (our lease ran out): stop rather than run two backfills.
      throw new BackfillAlreadyRunningError(m.id, lock?.owner ?? '?', lock?.leaseUntil ?? now);
    }
    await deps.store.put(
      ControlKey.BACKFILL_LOCK,
      lockFor(runId, executionId, now, deps.settings.lockLeaseMs, lock.acquiredAt),
      lock.version,
    );
  }

  return async (p) => {
    const checkpoints = (await listCheckpoints(deps.store)).filter(
      (c) => c.totalSegments === p.totalSegments,
    );
    const t = totals(checkpoints, p.totalSegments);
    const counts = {
      copied: t.copied,
      skippedExists: t.skippedExists,
      poison: t.poison,
      keptForeign: t.keptForeign,
      scanned: t.scanned,
    };
    const detail = {
      runId: p.runId,
      executionId: p.executionId,
      ...counts,
      segmentsDone: t.segmentsDone,
      segments: t.segments,
    };

    if (p.mode === 'failed') {
      const error = `${p.error?.Error ?? 'unknown error'}: ${(p.error?.Cause ?? '').slice(0, 500)}`;
      await updateState(
        deps,
        (current) => ({
          ...stripVersion(current),
          backfill: {
            ...current.backfill,
            status: BackfillStatus.FAILED,
            runId: p.runId,
            copied: t.copied,
            skipped: t.skippedExists,
            poison: t.poison,
            keptForeign: t.keptForeign,
          },
        }),
        () => ({ action: 'backfill-failed', actor: p.actor, reason: `backfill failed: ${error}`, detail }),
      );
      await releaseLock(p.runId);
      return { complete: false, segments: pendingSegments(checkpoints, p.totalSegments), ...counts };
    }

    const pending = pendingSegments(checkpoints, p.totalSegments);
    if (pending.length > 0) {
      await renewLock(p.runId, p.executionId);
      return { complete: false, segments: pending, ...counts };
    }
    // Every segment is scanned. COMPLETE only if no key is unresolved (poison not yet retried or
    // waived, a waived dead-lettered record's key): the read path takes COMPLETE as proof that a key
    // absent from new does not exist. The registry is listed after STATE is read and STATE is written
    // on its version, so a key registered meanwhile is counted (core/backfill/poison.ts).
    const now = deps.now();
    let unresolved = 0;
    await updateState(
      deps,
      async (current) => {
        if (isScanFinished(current.backfill.status)) {
          unresolved = current.backfill.unresolved ?? 0;
          return undefined;
        }
        unresolved = (await deps.poison.unresolved()).length;
        return {
          ...stripVersion(current),
          backfill: {
            ...current.backfill,
            status: completionStatus(unresolved),
            completedAt: now,
            runId: p.runId,
            copied: t.copied,
            skipped: t.skippedExists,
            poison: t.poison,
            keptForeign: t.keptForeign,
            unresolved,
          },
        };
      },
      (_current, next) => ({
        action:
          next.backfill.status === BackfillStatus.COMPLETE
            ? 'backfill-complete'
            : 'backfill-complete-with-poison',
        actor: p.actor,
        reason:
          `all ${t.segments} segments scanned: ${t.copied} copied, ${t.skippedExists} already present, ${t.poison} poison, ` +
          `${t.keptForeign} kept foreign; ${unresolved} keys unresolved` +
          (unresolved > 0 ? ' (retry them after a fix, or waive them: docs/runbook.md "Backfill")' : ''),
        detail: { ...detail, unresolved },
      }),
    );
    await releaseLock(p.runId);
    return { complete: true, segments: [], ...counts, unresolved };
  };
}

// ---------------------------------------------------------------------------------------------
// poison: the operator's operations on keys not in new (invoked directly, not by the state machine)
// ---------------------------------------------------------------------------------------------

/** Input of the `poison` function. */
export type PoisonPayload =
  | { readonly operation: 'list' }
  | {
      readonly operation: 'retry';
      /** Who retries (recorded on each resolved key and in the audit record). */
      readonly actor: string;
      readonly reason?: string;
      /** @default the run's `foreignItems` in STATE, else `refuse` */
      readonly foreignItems?: ForeignItems;
    }
  | {
      readonly operation: 'waive';
      readonly actor: string;
      /** Why these keys need not be in new (the audit record). */
      readonly reason: string;
      /** Legacy keys, DynamoDB JSON. */
      readonly keys: readonly JsonItem[];
    };

/** An unresolved key as the operations report it. */
export interface UnresolvedKey {
  readonly key: JsonItem;
  readonly reason: string;
  readonly origin: string;
  readonly sequenceNumber?: string;
}

/** Output of the `poison` function. */
export interface PoisonResult {
  readonly operation: PoisonPayload['operation'];
  /** Unresolved keys the operation looked at. */
  readonly examined: number;
  readonly copied: number;
  readonly presentInNew: number;
  readonly absentInLegacy: number;
  readonly keptForeign: number;
  /** Retried and still not copyable (the latest reason is on the key). */
  readonly stillPoison: number;
  readonly waived: number;
  /** Keys given to `waive` without an unresolved entry. */
  readonly notFound: number;
  /** The retry stopped at its time budget with keys left: invoke it again. */
  readonly more: boolean;
  /** STATE's backfill status after the operation. */
  readonly status?: string;
  readonly unresolvedCount: number;
  /** Up to 100 of the keys still unresolved. */
  readonly unresolved: readonly UnresolvedKey[];
}

/** Most unresolved keys a result lists. */
export const MAX_LISTED_KEYS = 100;

function checkPoisonPayload(p: PoisonPayload, legacyKey: KeySchema): void {
  const op = (p as { operation?: unknown })?.operation;
  if (op !== 'list' && op !== 'retry' && op !== 'waive')
    throw new BackfillInputError(`operation must be 'list', 'retry' or 'waive', not ${JSON.stringify(op)}`);
  if (p.operation === 'list') return;
  if (typeof p.actor !== 'string' || p.actor.trim() === '')
    throw new BackfillInputError(`${p.operation} needs an actor (who does it: the audit record names them)`);
  if (p.operation === 'retry') {
    parseForeignItems(p.foreignItems, ForeignItems.REFUSE);
    return;
  }
  if (typeof p.reason !== 'string' || p.reason.trim() === '')
    throw new BackfillInputError('waive needs a reason (why these keys need not be in the new table)');
  if (!Array.isArray(p.keys) || p.keys.length === 0 || p.keys.length > 1000)
    throw new BackfillInputError('waive needs keys: 1 to 1000 legacy keys in DynamoDB JSON');
  for (const k of p.keys) {
    const item = itemFromDynamoJson(k);
    if (
      canonicalItem(keyOf(item, legacyKey)) !== canonicalItem(item) ||
      Object.keys(item).length !== keyNames(legacyKey).length
    )
      throw new BackfillInputError(
        `${JSON.stringify(k)} is not a legacy key: it must have exactly the attributes ${keyNames(legacyKey).join(', ')}`,
      );
  }
}

/**
 * Builds the `poison` handler: `list` the unresolved keys; `retry` them after a fix (each legacy item
 * read consistently, mapped with the key check, written under rule 3 with the run's foreign-item
 * policy; a waived stream record's key counts as present only when new holds a state at least as new
 * as the record); `waive` keys an operator decides not to migrate (each with its AUDIT item in one
 * transaction). Then STATE's unresolved count and completion status are recomputed (audited).
 */
export function makePoisonHandler(deps: BackfillDeps): (p: PoisonPayload) => Promise<PoisonResult> {
  const m = deps.migration;
  const names = metadataNames(m.metadataPrefix);
  type Outcome = 'copied' | 'presentInNew' | 'absentInLegacy' | 'keptForeign' | 'stillPoison' | 'raced';

  async function retryOne(rec: StoredPoison, policy: ForeignItems, actor: string): Promise<Outcome> {
    const by = { actor, at: deps.now() };
    const settle = async (resolution: PoisonResolution, outcome: Outcome): Promise<Outcome> =>
      (await deps.poison.resolve(rec, resolution, by)) ? outcome : 'raced';
    const still = async (reason: string): Promise<Outcome> =>
      (await deps.poison.stillPoison(rec, reason)) ? 'stillPoison' : 'raced';
    const legacyKey = itemFromDynamoJson(rec.key);
    const waivedSeq = rec.origin === PoisonOrigin.CDC_WAIVER ? rec.sequenceNumber : undefined;
    if (waivedSeq) {
      // A waived record's change may be missing while an older state of the key is in new: only a
      // state at least as new as the record (the record, or a later change, applied) settles it.
      let newKey: Item;
      try {
        newKey = assertItem(m.mapKey(legacyKey), 'mapKey result');
      } catch (err) {
        return still(`mapKey failed: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
      }
      const stored = await deps.readNew(newKey);
      const seq = stored && sequenceOf(stored, names);
      if (seq !== undefined && compareSequence(seq, waivedSeq) >= 0)
        return settle(PoisonResolution.PRESENT_IN_NEW, 'presentInNew');
      if (seq !== undefined)
        return still(
          `the new table holds an older state of the key (_dr_seq ${seq}) than the waived record ${waivedSeq}: ` +
            'run verification with repair for it, then retry or waive the key',
        );
    }
    const legacy = await deps.readLegacy(legacyKey);
    if (!legacy) return settle(PoisonResolution.ABSENT_IN_LEGACY, 'absentInLegacy');
    const mapped = mapForBackfill(m, legacy, by.at);
    if ('reason' in mapped) return still(mapped.reason);
    const [o] = await deps.writer.writeAll([mapped.item], policy);
    if (o?.kind === 'copied') return settle(PoisonResolution.COPIED, 'copied');
    if (o?.kind === 'exists' && !waivedSeq) return settle(PoisonResolution.PRESENT_IN_NEW, 'presentInNew');
    if (o?.kind === 'exists')
      return still('a change of the key reached the new table during the retry; retry again');
    if (o?.kind === 'foreign' && policy === ForeignItems.KEEP)
      return settle(PoisonResolution.KEPT_FOREIGN, 'keptForeign');
    if (o?.kind === 'foreign') return still(foreignRefusedReason(canonicalItem(mapped.key)));
    return still(`write refused: ${o?.kind === 'failed' ? o.reason : 'no outcome'}`);
  }

  return async (p) => {
    checkPoisonPayload(p, m.legacyTable.key);
    const started = deps.now();
    const tally = {
      examined: 0,
      copied: 0,
      presentInNew: 0,
      absentInLegacy: 0,
      keptForeign: 0,
      stillPoison: 0,
      waived: 0,
      notFound: 0,
    };
    let more = false;
    let state: MigrationState | undefined;
    if (p.operation === 'retry') {
      const current = await deps.store.getState();
      const policy = parseForeignItems(p.foreignItems, current?.backfill.foreignItems ?? ForeignItems.REFUSE);
      const pending = await deps.poison.unresolved();
      for (const rec of pending) {
        if (deps.now() - started >= deps.settings.pageBudgetMs) {
          more = true;
          break;
        }
        tally.examined++;
        const outcome = await retryOne(rec, policy, p.actor);
        if (outcome !== 'raced') tally[outcome]++;
      }
      state = await deps.poison.recount(
        {
          actor: p.actor,
          action: 'backfill-poison-retry',
          reason: p.reason ?? 'retry of the unresolved keys',
          detail: { ...tally, more },
        },
        deps.now,
        true,
      );
    } else if (p.operation === 'waive') {
      const pending = await deps.poison.unresolved();
      for (const key of p.keys) {
        const hash = poisonKeyHash(itemFromDynamoJson(key));
        const records = pending.filter((r) => r.sk.endsWith(`#${hash}`));
        if (records.length === 0) tally.notFound++;
        for (const rec of records) {
          tally.examined++;
          if (await deps.poison.waive(rec, { actor: p.actor, reason: p.reason, at: deps.now() }))
            tally.waived++;
        }
      }
      state = await deps.poison.recount(
        { actor: p.actor, action: 'backfill-poison-recount', reason: `after waiving: ${p.reason}` },
        deps.now,
      );
    } else {
      state = await deps.store.getState();
    }
    const left = await deps.poison.unresolved();
    return {
      operation: p.operation,
      ...tally,
      more,
      ...(state ? { status: state.backfill.status } : {}),
      unresolvedCount: left.length,
      unresolved: left.slice(0, MAX_LISTED_KEYS).map((r) => ({
        key: r.key,
        reason: r.reason,
        origin: r.origin ?? PoisonOrigin.BACKFILL,
        ...(r.sequenceNumber ? { sequenceNumber: r.sequenceNumber } : {}),
      })),
    };
  };
}
