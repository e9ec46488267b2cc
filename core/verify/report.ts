/**
 * The verification report (`VERIFY#<runId>` in the control table): written as RUNNING by the
 * preflight, kept current by the stage changes, and completed by the report step. The CLI and the
 * phase guardrails ("last verification clean") read it.
 */
import { type SetChecksum, checksumsEqual } from './checksum';
import { type ClassCounts, DRIFT_CLASSES, DiffClass, MAPPING_DEFECT_CLASSES, zeroCounts } from './diff';
import type { SideTotals } from './checkpoint';
import { RepairOutcome, type Suspect, SuspectStatus } from './recheck';
import { type JsonItem, itemFromDynamoJson } from '../model';
import { poisonKeyHash } from '../backfill';

/** Lifecycle of a run. */
/**
 * Lifecycle of a run. SKIPPED: the run did not judge, because the backfill was not COMPLETE
 * (`verifyGate`, core/verify/gate.ts); its report says why, and no drift or failure is counted.
 */
export const VerifyStatus = {
  RUNNING: 'RUNNING',
  COMPLETE: 'COMPLETE',
  FAILED: 'FAILED',
  SKIPPED: 'SKIPPED',
} as const;
export type VerifyStatus = (typeof VerifyStatus)[keyof typeof VerifyStatus];

/** Sample keys kept per class. */
export const MAX_SAMPLES_PER_CLASS = 100;

/** Counts of what the repair step did. */
export interface RepairCounts {
  readonly repaired: number;
  readonly alreadyFixed: number;
  readonly lostToCdc: number;
}

/** The `VERIFY#<runId>` item. */
export interface VerifyReport {
  readonly migrationId: string;
  readonly runId: string;
  readonly status: VerifyStatus;
  readonly stage: string;
  readonly repair: boolean;
  readonly totalSegments: number;
  readonly actor: string;
  readonly executionId: string;
  readonly startedAt: number;
  readonly completedAt?: number;
  readonly durationMs?: number;
  /**
   * The checksum pass over legacy: items read and the checksum of `mapItem(legacy)` (count and sum mod
   * 2^256 of SHA-256, an additive multiset hash: core/verify/checksum.ts).
   */
  readonly legacy?: { readonly scanned: number; readonly checksum: SetChecksum };
  /** The checksum pass over new: items read, tombstones, and the checksum of live items minus metadata. */
  readonly fresh?: { readonly scanned: number; readonly tombstones: number; readonly checksum: SetChecksum };
  /** The legacy lookup pass: skipped when the checksums proved the stores equal. */
  readonly lookupPass?: { readonly scanned: number; readonly skipped?: boolean };
  /** The extras pass: skipped when the checksums or the key censuses proved there is no extra. */
  readonly extrasPass?: { readonly scanned: number; readonly skipped?: boolean };
  /**
   * Both checksums equal: with no writes during the run, the stores are equal unless their difference
   * was chosen to collide (sound against accidental drift, not against adversarial items).
   */
  readonly checksumsEqual?: boolean;
  /** Classes as the first pass saw them (lag included). */
  readonly firstPass?: ClassCounts;
  /**
   * Final classes: drift classes count confirmed drift only; `unmappable`, `not-invertible` and
   * `origin-unknown` count defects of the mapping (never repaired). A not-invertible legacy item is
   * also counted by how its new item compares (usually `match`).
   */
  readonly counts?: ClassCounts;
  /** Suspects the re-check cleared (lag, not drift). */
  readonly lagResolved?: number;
  /** Suspects whose re-check could not separate lag from drift in time. */
  readonly unconfirmedLag?: number;
  /**
   * Why (when `unconfirmedLag` > 0): the reason of the first unconfirmed suspect (`lagReason`,
   * core/verify/recheck.ts): how far `F` stayed short of the re-check's legacy read, and what to do.
   */
  readonly unconfirmedReason?: string;
  /**
   * Hot keys: CDC rewrote them in every re-check round, so their first-pass difference is gone (the
   * apply rule wrote whole images after it). Not drift and not judged; see core/verify/recheck.ts.
   */
  readonly rewrittenByCdc?: number;
  /**
   * `unmappable` legacy items whose key is pinned to legacy (core/backfill/poison.ts): expected, not
   * counted against a clean run (legacy serves them, FINALIZED waits for them), each listed (up to 100)
   * with why `mapItem` refuses it. Not in `counts`.
   */
  readonly pinned?: {
    readonly count: number;
    readonly keys: ReadonlyArray<{ key: JsonItem; reason: string }>;
  };
  /** Suspects not stored because the per-segment cap was reached (the run is then not clean). */
  readonly suspectsDropped?: number;
  readonly repairs?: RepairCounts;
  /**
   * Up to 100 keys (DynamoDB JSON) per class: legacy keys, except for `origin-unknown`, whose legacy key
   * cannot be computed (new keys).
   */
  readonly samples?: Readonly<Record<string, readonly JsonItem[]>>;
  /** No confirmed drift, nothing unconfirmed, unmappable, not invertible, of unknown origin or dropped. */
  readonly clean?: boolean;
  readonly error?: string;
  /** Why a SKIPPED run did not judge (`VerifySkipReason`), and what to do. */
  readonly skipped?: { readonly reason: string; readonly message: string };
}

/**
 * The final figures of a run, from its side totals and its suspects. `pinnedKeys`: hashes of the keys
 * pinned to legacy (STATE's `pins.keys`); an unmappable item of one is `pinned`, not `unmappable`.
 */
export function summarize(
  sums: SideTotals,
  fresh: SideTotals,
  legacy: SideTotals,
  extras: SideTotals,
  suspects: readonly Suspect[],
  pinnedKeys: ReadonlySet<string> = new Set(),
): Required<
  Pick<
    VerifyReport,
    | 'legacy'
    | 'fresh'
    | 'extrasPass'
    | 'lookupPass'
    | 'checksumsEqual'
    | 'firstPass'
    | 'counts'
    | 'lagResolved'
    | 'unconfirmedLag'
    | 'rewrittenByCdc'
    | 'suspectsDropped'
    | 'repairs'
    | 'samples'
    | 'pinned'
    | 'clean'
  >
> {
  // Without a lookup pass (equal checksums) every mappable legacy item matched.
  const lookups = legacy.segmentsDone > 0;
  const firstPass = zeroCounts();
  if (lookups) {
    for (const c of Object.keys(firstPass) as DiffClass[])
      firstPass[c] = (legacy.counts[c] ?? 0) + (extras.counts[c] ?? 0);
  } else {
    firstPass[DiffClass.MATCH] = sums.scanned - (sums.counts[DiffClass.UNMAPPABLE] ?? 0);
    firstPass[DiffClass.UNMAPPABLE] = sums.counts[DiffClass.UNMAPPABLE] ?? 0;
  }
  // Only the checksum pass checks invertibility (every run makes it, over every legacy item).
  firstPass[DiffClass.NOT_INVERTIBLE] = sums.counts[DiffClass.NOT_INVERTIBLE] ?? 0;
  const counts = zeroCounts();
  counts[DiffClass.MATCH] = firstPass[DiffClass.MATCH];
  const samples: Record<string, JsonItem[]> = {};
  const sample = (cls: string, key: JsonItem) => {
    const list = (samples[cls] ??= []);
    if (list.length < MAX_SAMPLES_PER_CLASS) list.push(key);
  };
  let lagResolved = 0;
  let unconfirmedLag = 0;
  let unconfirmedReason: string | undefined;
  let rewrittenByCdc = 0;
  const repairs = { repaired: 0, alreadyFixed: 0, lostToCdc: 0 };
  let pinnedCount = 0;
  const pinnedList: Array<{ key: JsonItem; reason: string }> = [];
  const isPinnedKey = (key: JsonItem) =>
    pinnedKeys.size > 0 &&
    Object.keys(key).length > 0 &&
    pinnedKeys.has(poisonKeyHash(itemFromDynamoJson(key)));
  for (const s of suspects) {
    switch (s.status) {
      case SuspectStatus.RESOLVED:
        lagResolved++;
        if (s.firstClass !== DiffClass.EXTRA_IN_NEW) counts[DiffClass.MATCH]++;
        break;
      case SuspectStatus.CONFIRMED:
        counts[s.class]++;
        sample(s.class, s.legacyKey);
        break;
      case SuspectStatus.UNMAPPABLE:
        if (isPinnedKey(s.legacyKey)) {
          pinnedCount++;
          if (pinnedList.length < MAX_SAMPLES_PER_CLASS)
            pinnedList.push({ key: s.legacyKey, reason: s.reason ?? 'mapItem refuses it' });
          break;
        }
        counts[DiffClass.UNMAPPABLE]++;
        sample(DiffClass.UNMAPPABLE, s.legacyKey);
        break;
      case SuspectStatus.REWRITTEN_BY_CDC:
        rewrittenByCdc++;
        sample(SuspectStatus.REWRITTEN_BY_CDC, s.legacyKey);
        break;
      case SuspectStatus.MAPPING_DEFECT:
        counts[s.class]++;
        sample(s.class, Object.keys(s.legacyKey).length > 0 ? s.legacyKey : s.newKey);
        break;
      default:
        unconfirmedLag++;
        unconfirmedReason ??= s.reason;
        sample(SuspectStatus.UNCONFIRMED_LAG, s.legacyKey);
    }
    if (s.repair === RepairOutcome.REPAIRED) repairs.repaired++;
    else if (s.repair === RepairOutcome.ALREADY_FIXED) repairs.alreadyFixed++;
    else if (s.repair === RepairOutcome.LOST_TO_CDC) repairs.lostToCdc++;
  }
  const suspectsDropped =
    sums.suspectsDropped + legacy.suspectsDropped + fresh.suspectsDropped + extras.suspectsDropped;
  const drift = DRIFT_CLASSES.reduce((n, c) => n + counts[c], 0);
  return {
    legacy: { scanned: sums.scanned, checksum: sums.checksum },
    fresh: { scanned: fresh.scanned, tombstones: fresh.tombstones, checksum: fresh.checksum },
    lookupPass: lookups ? { scanned: legacy.scanned } : { scanned: 0, skipped: true },
    extrasPass: extras.segmentsDone > 0 ? { scanned: extras.scanned } : { scanned: 0, skipped: true },
    checksumsEqual: checksumsEqual(sums.checksum, fresh.checksum),
    firstPass,
    counts,
    lagResolved,
    unconfirmedLag,
    ...(unconfirmedReason === undefined ? {} : { unconfirmedReason }),
    rewrittenByCdc,
    suspectsDropped,
    repairs,
    samples,
    pinned: { count: pinnedCount, keys: pinnedList },
    clean:
      drift === 0 &&
      unconfirmedLag === 0 &&
      counts[DiffClass.UNMAPPABLE] === 0 &&
      MAPPING_DEFECT_CLASSES.every((c) => counts[c] === 0) &&
      suspectsDropped === 0,
  };
}

/** The final figures of a run (what `summarize` returns). */
export type RunFigures = ReturnType<typeof summarize>;

/** The report of a run that starts (preflight; a resumed run keeps its report: `resumedReport`). */
export function runningReport(run: {
  readonly migrationId: string;
  readonly runId: string;
  readonly repair: boolean;
  readonly totalSegments: number;
  readonly actor: string;
  readonly executionId: string;
  readonly startedAt: number;
}): VerifyReport {
  return {
    migrationId: run.migrationId,
    runId: run.runId,
    status: VerifyStatus.RUNNING,
    stage: 'PREFLIGHT',
    repair: run.repair,
    totalSegments: run.totalSegments,
    actor: run.actor,
    executionId: run.executionId,
    startedAt: run.startedAt,
  };
}

/** The report of a run that did not judge at `now` (the backfill is not COMPLETE): SKIPPED, with why. */
export function skippedReport(
  r: VerifyReport,
  skipped: { readonly reason: string; readonly message: string },
  now: number,
): VerifyReport {
  return {
    ...r,
    status: VerifyStatus.SKIPPED,
    stage: 'DONE',
    skipped,
    completedAt: now,
    durationMs: now - r.startedAt,
  };
}

/** The report of a run resumed by another execution: RUNNING again, the last error dropped. */
export function resumedReport(r: VerifyReport, executionId: string): VerifyReport {
  const { error: _e, ...rest } = r;
  return { ...rest, status: VerifyStatus.RUNNING, executionId };
}

/** The report of a run that completed at `now` with `figures`. */
export function completedReport(r: VerifyReport, figures: RunFigures, now: number): VerifyReport {
  return {
    ...r,
    ...figures,
    status: VerifyStatus.COMPLETE,
    stage: 'DONE',
    completedAt: now,
    durationMs: now - r.startedAt,
  };
}

/** The report of a run that failed at `now` with `error` (`failureMessage`). */
export function failedReport(r: VerifyReport, error: string, now: number): VerifyReport {
  return { ...r, status: VerifyStatus.FAILED, error, completedAt: now, durationMs: now - r.startedAt };
}

/** The error a failed run reports, from the state machine's caught error (the cause cut to 1,000 characters). */
export function failureMessage(error?: { readonly Error?: string; readonly Cause?: string }): string {
  return `${error?.Error ?? 'unknown error'}: ${(error?.Cause ?? '').slice(0, 1000)}`;
}

/** One metric the report step publishes. */
export interface ReportMetric {
  readonly name: string;
  readonly unit: 'Count' | 'Milliseconds';
  readonly value: number;
}

/**
 * The metrics of a completed run, in publishing order (namespace `dualread`, service `dualread-verify`):
 * items scanned, per class, confirmed drift (the drift classes summed), lag, repairs, clean, duration.
 */
export function reportMetrics(figures: RunFigures, durationMs: number): ReportMetric[] {
  const c = figures.counts;
  const count = (name: string, value: number): ReportMetric => ({ name, unit: 'Count', value });
  return [
    count('VerifyItemsScanned', figures.legacy.scanned + figures.fresh.scanned),
    count('VerifyMatch', c[DiffClass.MATCH]),
    count('VerifyMissingInNew', c[DiffClass.MISSING_IN_NEW]),
    count('VerifyContentDiffers', c[DiffClass.CONTENT_DIFFERS]),
    count('VerifyTombstonedInNew', c[DiffClass.TOMBSTONED_IN_NEW]),
    count('VerifyExtraInNew', c[DiffClass.EXTRA_IN_NEW]),
    count('VerifyUnmappable', c[DiffClass.UNMAPPABLE]),
    count('VerifyNotInvertible', c[DiffClass.NOT_INVERTIBLE]),
    count('VerifyOriginUnknown', c[DiffClass.ORIGIN_UNKNOWN]),
    count(
      'VerifyConfirmedDrift',
      c[DiffClass.MISSING_IN_NEW] +
        c[DiffClass.CONTENT_DIFFERS] +
        c[DiffClass.TOMBSTONED_IN_NEW] +
        c[DiffClass.EXTRA_IN_NEW],
    ),
    count('VerifyUnconfirmedLag', figures.unconfirmedLag),
    count('VerifyLagResolved', figures.lagResolved),
    count('VerifyRewrittenByCdc', figures.rewrittenByCdc),
    count('VerifyRepaired', figures.repairs.repaired),
    count('VerifyRepairLostToCdc', figures.repairs.lostToCdc),
    count('VerifyClean', figures.clean ? 1 : 0),
    { name: 'VerifyDuration', unit: 'Milliseconds', value: durationMs },
  ];
}

/** What the report step returns to the state machine (the full report is in the control table). */
export function reportSummary(r: VerifyReport) {
  return {
    runId: r.runId,
    clean: r.clean ?? false,
    counts: r.counts ?? zeroCounts(),
    unconfirmedLag: r.unconfirmedLag ?? 0,
    rewrittenByCdc: r.rewrittenByCdc ?? 0,
    repairs: r.repairs ?? { repaired: 0, alreadyFixed: 0, lostToCdc: 0 },
    checksumsEqual: r.checksumsEqual ?? false,
    durationMs: r.durationMs ?? 0,
  };
}
