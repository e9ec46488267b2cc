/**
 * The `control` function of verification (control table only, lib/verification.ts): `preflight` (the
 * verification lock, the RUNNING report, the first stage), `controls` (pause / rate / done of a segment,
 * shared with backfill through STATE), `advance` (next stage from the control table, lock renewal),
 * `report` (final report + metrics), `release` (lock) and `fail` (FAILED report, lock released).
 */
import type { Versioned } from '../../adapters/control-store';
import { releaseRunLock, renewRunLock } from '../../adapters/run-lock';
import { ControlKey, checkRunId, positiveIntInput, segmentLoopControls } from '../../core/control';
import {
  type VerifyCheckpoint,
  VerifyKey,
  type VerifyReport,
  VerifySide,
  VerifyStatus,
  VerifyAlreadyCompleteError,
  VerifyAlreadyRunningError,
  VerifyBackfillNotCompleteError,
  VerifyInputError,
  VerifyStage,
  VerifyLockLostError,
  VerifyTableMissingError,
  completedReport,
  failedReport,
  failureMessage,
  reportMetrics,
  reportSummary,
  resumedReport,
  runningReport,
  sideTotals,
  skippedReport,
  summarize,
  verifyGate,
} from '../../core/verify';
import {
  type ControlPayload,
  type ControlsResult,
  type NextStep,
  type SegmentPayload,
  type VerifyDeps,
  type VerifyRun,
  checkSegment,
} from './contract';
import { takeRunLock } from '../common/run-lock';
import { computeNext, runRecords, updateReport } from './store';

const positiveInt = (name: string, value: unknown, fallback: number, max: number) =>
  positiveIntInput(name, value, fallback, max, VerifyInputError);

/** Builds the `control` function's handler (dispatch on `op`). */
export function makeVerifyControlHandler(deps: VerifyDeps): (p: ControlPayload) => Promise<unknown> {
  const m = deps.migration;

  async function preflight(p: Extract<ControlPayload, { op: 'preflight' }>): Promise<VerifyRun> {
    const input = p.input ?? {};
    const runId = checkRunId(input.runId ?? p.executionName, VerifyInputError);
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
    const existing = await deps.store.get<Versioned<VerifyReport>>(ControlKey.verify(runId));
    if (existing?.status === VerifyStatus.COMPLETE) throw new VerifyAlreadyCompleteError(m.id, runId);
    const totalSegments =
      existing?.totalSegments ??
      positiveInt('totalSegments', input.totalSegments, m.backfill.segments, 1_000_000);
    const repair = existing?.repair ?? input.repair ?? m.verification.repair;
    const actor = existing?.actor ?? input.actor ?? `verify:${runId}`;
    const settings = {
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

    // 2b. Day-one safety: judge only once the backfill is COMPLETE (core/verify/gate.ts). Before that a
    //     new run ends at once as SKIPPED (report says why; no lock, no drift, no failure, no alarm).
    const newReport = (startedAt: number) =>
      runningReport({
        migrationId: m.id,
        runId,
        repair,
        totalSegments,
        actor,
        executionId: p.executionId,
        startedAt,
      });
    const gate = verifyGate(await deps.store.getState());
    if (!gate.judge) {
      if (existing) throw new VerifyBackfillNotCompleteError(m.id, runId, gate.message);
      const now = deps.now();
      const skipped = { reason: gate.reason, message: gate.message };
      const base = newReport(now);
      await deps.store.put(
        ControlKey.verify(runId),
        skippedReport(base, skipped, now) as unknown as Record<string, unknown>,
        0,
      );
      deps.log?.info('verification skipped: the backfill is not COMPLETE', { runId, ...skipped });
      deps.metrics?.addMetric('VerifySkipped', 'Count', 1);
      deps.metrics?.publishStoredMetrics();
      return { ...settings, next: { stage: VerifyStage.SKIPPED, segments: [] }, skipped };
    }

    // 3. The lock: runs never overlap. The versioned put makes two racing preflights serialize.
    const now = await takeRunLock(
      deps,
      ControlKey.VERIFY_LOCK,
      { runId, executionId: p.executionId },
      VerifyAlreadyRunningError,
    );

    // 4. The report, RUNNING.
    if (!existing) {
      const report = newReport(now);
      await deps.store.put(ControlKey.verify(runId), report as unknown as Record<string, unknown>, 0);
    } else {
      await updateReport(deps, runId, (r) => resumedReport(r, p.executionId));
    }
    const run = settings;
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
    return segmentLoopControls({
      done: Boolean(cp?.done),
      paused: Boolean(state?.controls.paused),
      notBefore: cp?.notBefore ?? 0,
      now: deps.now(),
      pausePollSeconds: deps.settings.pausePollSeconds,
    });
  }

  async function release(run: VerifyRun): Promise<{ released: boolean }> {
    return { released: await releaseRunLock(deps.store, ControlKey.VERIFY_LOCK, run.runId, deps.now) };
  }

  async function advance(run: VerifyRun, executionId: string): Promise<NextStep> {
    const lost = await renewRunLock(
      deps.store,
      ControlKey.VERIFY_LOCK,
      { runId: run.runId, executionId, leaseMs: deps.settings.lockLeaseMs },
      deps.now,
    );
    if (lost) throw new VerifyLockLostError(m.id, run.runId, lost.owner);
    const next = await computeNext(deps, run);
    await updateReport(deps, run.runId, (r) => ({ ...r, stage: next.stage }));
    return next;
  }

  async function report(run: VerifyRun): Promise<VerifyReport> {
    const [{ sums, fresh, legacy, extras, suspects }, state] = await Promise.all([
      runRecords(deps, run.runId),
      deps.store.getState(),
    ]);
    // Keys pinned to legacy: their unmappable items are expected (core/verify/report.ts `pinned`).
    const figures = summarize(
      sideTotals(sums),
      sideTotals(fresh),
      sideTotals(legacy),
      sideTotals(extras),
      suspects,
      new Set(state?.pins?.keys ?? []),
    );
    const now = deps.now();
    const out = await updateReport(deps, run.runId, (r) => completedReport(r, figures, now));
    if (!out) throw new VerifyInputError(`no report VERIFY#${run.runId}: was preflight run?`);
    deps.log?.info('verification report', {
      runId: run.runId,
      clean: out.clean,
      counts: out.counts,
      unconfirmedLag: out.unconfirmedLag,
      rewrittenByCdc: out.rewrittenByCdc,
      repairs: out.repairs,
      durationMs: out.durationMs,
    });
    const metrics = deps.metrics;
    if (metrics) {
      for (const metric of reportMetrics(figures, out.durationMs ?? 0))
        metrics.addMetric(metric.name, metric.unit, metric.value);
      metrics.publishStoredMetrics();
    }
    return out;
  }

  async function fail(p: Extract<ControlPayload, { op: 'fail' }>): Promise<{ failed: true }> {
    const error = failureMessage(p.error);
    const now = deps.now();
    await updateReport(deps, p.run.runId, (r) => failedReport(r, error, now));
    deps.log?.warn('verification failed', { runId: p.run.runId, error });
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
        return reportSummary(await report(p.run));
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
