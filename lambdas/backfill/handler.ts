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
import { createHash, randomUUID } from 'node:crypto';
import type { ControlStore, Versioned } from '../../adapters/control-store';
import { ControlConflictError } from '../../adapters/control-store';
import type { IfAbsentWriter, ScanPage } from '../../adapters/backfill-io';
import {
  BackfillAlreadyCompleteError,
  BackfillAlreadyRunningError,
  BackfillInputError,
  CdcNotConsumingError,
  CheckpointConflictError,
  NewTableMissingError,
  SegmentLayoutMismatchError,
} from '../../core/backfill-errors';
import {
  type SegmentCheckpoint,
  advanceCheckpoint,
  checkpointLayout,
  initialCheckpoint,
  pendingSegments,
  totals,
} from '../../core/backfill-checkpoint';
import { type BackfillLock, lockFor } from '../../core/backfill-lock';
import { acquireRunLock } from '../../adapters/run-lock';
import { delayUntil, nextNotBefore, pageLimit, segmentShare } from '../../core/backfill-rate';
import type { CdcStatusPort } from '../../core/cdc-status';
import { BackfillStatus, ControlKey, type MigrationState, initialState } from '../../core/control';
import { BACKFILL_SEQ, Source, metadataNames } from '../../core/metadata';
import { type Migration, keyOf } from '../../core/migration';
import {
  type AttributeValue,
  type Item,
  canonicalItem,
  findLostAttribute,
  itemFromDynamoJson,
  itemToDynamoJson,
} from '../../core/values';

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
  readonly complete: boolean;
  readonly segments: number[];
  readonly copied: number;
  readonly skippedExists: number;
  readonly poison: number;
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
}

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
};

/** Everything the handlers need. */
export interface BackfillDeps {
  readonly migration: Migration;
  readonly store: ControlStore;
  readonly cdcStatus: CdcStatusPort;
  /** Whether the new table exists and is ACTIVE. */
  readonly newTableStatus: () => Promise<{ usable: boolean; detail: string }>;
  /** Reads one page of a legacy Scan segment. */
  readonly scanPage: (args: {
    segment: number;
    totalSegments: number;
    limit: number;
    exclusiveStartKey?: Item;
  }) => Promise<ScanPage>;
  readonly writer: Pick<IfAbsentWriter, 'writeAll'>;
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
  change: (current: MigrationState) => Omit<MigrationState, 'version'> | undefined,
  audit: (current: MigrationState) => {
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
    const next = change(current);
    if (!next) return;
    const a = audit(current);
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

/** A short stable id of a legacy key (for the poison item's sort key). */
function keyHash(key: Item): string {
  return createHash('sha256').update(canonicalItem(key)).digest('hex').slice(0, 32);
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
    if (state?.backfill.status === BackfillStatus.COMPLETE) throw new BackfillAlreadyCompleteError(m.id);

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
    const continuation = input.AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID !== undefined;
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
              },
            },
      () => ({
        action: resumed ? 'backfill-resume' : 'backfill-start',
        actor,
        reason:
          input.reason ??
          `backfill ${resumed ? 'resumed' : 'started'} by execution ${payload.executionId}; ${cdc.reason}`,
        detail: { runId, totalSegments, executionId: payload.executionId },
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
  const names = metadataNames(m.metadataPrefix);

  /** Maps one legacy item; a throwing mapItem or reserved attributes make it poison. */
  function mapOne(legacy: Item, scanTime: number): { item: Item } | { reason: string } {
    // A value lost on the way (by an SDK, or by a mapping that assigned "__proto__") is poison, never
    // copied without it (core/values.ts, findLostAttribute).
    const lostIn = findLostAttribute(legacy, 'legacy item');
    if (lostIn) return { reason: `${lostIn.name}: ${lostIn.message}` };
    let mapped: Item;
    try {
      mapped = m.mapItem(legacy);
    } catch (err) {
      return { reason: `mapItem threw ${(err as Error).name}: ${(err as Error).message}` };
    }
    const lostOut = findLostAttribute(mapped, 'mapItem result');
    if (lostOut) return { reason: `${lostOut.name}: ${lostOut.message}` };
    const reserved = Object.keys(mapped).filter((n) => n.startsWith(names.prefix));
    if (reserved.length)
      return { reason: `mapItem wrote reserved metadata attributes ${reserved.join(', ')}` };
    const meta: Record<string, AttributeValue> = {
      [names.seq]: { S: BACKFILL_SEQ },
      [names.src]: { S: Source.BACKFILL },
      [names.ts]: { N: String(Math.trunc(scanTime)) },
    };
    return { item: { ...mapped, ...meta } };
  }

  /**
   * Records a poison item once: a rescan after a crash meets the same item again and must not count
   * it twice. Returns 1 when this call recorded it, 0 when it was already recorded.
   */
  async function recordPoison(segment: number, runId: string, legacy: Item, reason: string): Promise<number> {
    const key = keyOf(legacy, m.legacyTable.key);
    try {
      await deps.store.put(
        ControlKey.backfillPoison(segment, keyHash(key)),
        { segment, runId, key: itemToDynamoJson(key), reason: reason.slice(0, 2000), at: deps.now() },
        0,
      );
      return 1;
    } catch (err) {
      if (err instanceof ControlConflictError) return 0;
      throw err;
    }
  }

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
    const tally = { pages: 0, scanned: 0, copied: 0, skippedExists: 0, poison: 0 };
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

      // Map, then write only where nothing exists (rule 3); poison is recorded, never dropped.
      const toWrite: Item[] = [];
      const sources: Item[] = [];
      let copied = 0;
      let skippedExists = 0;
      let poison = 0;
      for (const legacy of page.items) {
        const mapped = mapOne(legacy, pageStartedAt);
        if ('reason' in mapped) {
          poison += await recordPoison(p.segment, p.runId, legacy, mapped.reason);
        } else {
          toWrite.push(mapped.item);
          sources.push(legacy);
        }
      }
      const outcomes = await deps.writer.writeAll(toWrite);
      for (const [i, o] of outcomes.entries()) {
        if (o.kind === 'copied') copied++;
        else if (o.kind === 'exists') skippedExists++;
        else
          poison += await recordPoison(p.segment, p.runId, sources[i] as Item, `write refused: ${o.reason}`);
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
    const counts = { copied: t.copied, skippedExists: t.skippedExists, poison: t.poison, scanned: t.scanned };
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
    const now = deps.now();
    await updateState(
      deps,
      (current) =>
        current.backfill.status === BackfillStatus.COMPLETE
          ? undefined
          : {
              ...stripVersion(current),
              backfill: {
                ...current.backfill,
                status: BackfillStatus.COMPLETE,
                completedAt: now,
                runId: p.runId,
                copied: t.copied,
                skipped: t.skippedExists,
                poison: t.poison,
              },
            },
      () => ({
        action: 'backfill-complete',
        actor: p.actor,
        reason: `all ${t.segments} segments copied: ${t.copied} copied, ${t.skippedExists} already present, ${t.poison} poison`,
        detail,
      }),
    );
    await releaseLock(p.runId);
    return { complete: true, segments: [], ...counts };
  };
}
