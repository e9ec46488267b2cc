/**
 * Runs the cutover protocol (core/control/cutover.ts, docs/cutover.md): reads the `CUTOVER` item and
 * the facts, asks `decideCutover` for the next action, carries it out (record the fence and open the
 * legacy stream watch, start the verification, switch CDC off, advance to FINALIZED through the
 * control plane, or abort), stores the progress and asks again, until FINALIZED, a refusal, an abort
 * or the timeout. The progress is a versioned control item: two cutovers at once conflict
 * (`ControlConflictError`), and a cutover stopped for any reason resumes where it stood.
 *
 * The fence, the CDC switch and an abort are audited (AUDIT records with the fence time); the phase
 * change is `ControlPlane.advance`, whose audit reason carries T.
 */
import { randomUUID } from 'node:crypto';
import {
  CUTOVER_KEY,
  type CutoverAction,
  type CutoverProgress,
  CutoverStep,
  type FenceWatch,
  type Guardrail,
  Phase,
  type VerificationFact,
  decideCutover,
} from '../core/control';
import type { CdcSwitch } from './cdc-switch';
import type { ControlPlane } from './control-plane';
import type { ControlStore } from './control-store';
import type { VerificationRun, VerificationRunner } from './verify-runs';

/** The legacy stream watch as the runner uses it (adapters/fence-watch.ts). */
export interface FenceWatcher {
  start(): Promise<void>;
  poll(): Promise<FenceWatch>;
  positions(): Record<string, string>;
  readonly gaps: readonly string[];
}

/** What a cutover needs. */
export interface CutoverDeps {
  readonly plane: ControlPlane;
  readonly store: ControlStore;
  readonly cdc: CdcSwitch;
  /** A watch from the fence on (`positions` when resuming). */
  readonly watch: (fenceAt: number, positions?: Readonly<Record<string, string>>) => FenceWatcher;
  readonly verifications: VerificationRunner;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Told of each step reached and each new reason to wait. */
  readonly onEvent?: (event: CutoverEvent) => void;
}

/** One line of the cutover's story. */
export interface CutoverEvent {
  readonly at: number;
  readonly kind: CutoverAction['kind'] | 'resume' | 'gap';
  readonly step?: CutoverStep;
  readonly message: string;
}

/** Options of `runCutover`. */
export interface CutoverOptions {
  /** The operator confirms legacy writes are stopped: record the fence now. */
  readonly fenceNow?: boolean;
  /** How long the legacy stream must stay quiet after the fence. @default 30 s */
  readonly quietWindowMs?: number;
  /** Give up waiting after this long (the progress stays: run again to resume). @default 10 min */
  readonly timeoutMs?: number;
  /** Pause between looks while waiting. @default 1 s */
  readonly pollMs?: number;
}

/** How a cutover run ended. */
export interface CutoverOutcome {
  readonly result: 'finalized' | 'refused' | 'aborted' | 'timeout' | 'done';
  readonly reason: string;
  readonly progress?: CutoverProgress;
  readonly guardrails?: readonly Guardrail[];
  /** Keys written to legacy after the fence (an abort because of them). */
  readonly keys?: readonly string[];
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Reads the `CUTOVER` item (undefined before the first fence). */
export function readCutover(store: ControlStore): Promise<CutoverProgress | undefined> {
  return store.get<CutoverProgress>(CUTOVER_KEY);
}

/** Runs (or resumes) the cutover; see the module comment. */
export async function runCutover(deps: CutoverDeps, options: CutoverOptions = {}): Promise<CutoverOutcome> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const emit = (e: Omit<CutoverEvent, 'at'>): void => deps.onEvent?.({ at: now(), ...e });
  const settings = deps.plane.migration.guardrails;
  const deadline = now() + (options.timeoutMs ?? 600_000);
  let progress = await readCutover(deps.store);
  let watch: FenceWatcher | undefined;
  let run: VerificationRun | undefined;
  let runEnd: { status: string; error?: string } | undefined;
  let lastWait = '';

  const save = async (patch: Partial<CutoverProgress>): Promise<CutoverProgress> => {
    const base = progress as CutoverProgress;
    const { version, ...rest } = { ...base, ...patch };
    const doc = {
      ...rest,
      updatedAt: now(),
      ...(watch ? { watchPositions: watch.positions() } : {}),
    };
    progress = await deps.store.put(CUTOVER_KEY, doc, version ?? 0);
    return progress;
  };

  const active = progress && progress.step !== CutoverStep.ABORTED && progress.step !== CutoverStep.FINALIZED;
  if (progress && active) {
    emit({
      kind: 'resume',
      step: progress.step,
      message: `resuming the cutover at ${progress.step} (fence ${iso(progress.fenceAt)})`,
    });
    watch = deps.watch(progress.fenceAt, progress.watchPositions ?? {});
    await watch.start();
    for (const shard of watch.gaps)
      emit({
        kind: 'gap',
        message: `shard ${shard} had no stored position: legacy writes to it while no cutover ran are not seen (the verification after the fence still compares the stores)`,
      });
    if (progress.step === CutoverStep.VERIFYING && progress.verificationRunId)
      run = await deps.verifications.attach?.(progress.verificationRunId);
  }

  for (;;) {
    const status = await deps.plane.status();
    const watching = progress && progress.step !== CutoverStep.ABORTED && watch;
    const fence: FenceWatch = watching ? await watch!.poll() : { writes: [], readToTipAt: 0 };
    if (run && !runEnd) runEnd = await Promise.race([run.finished, Promise.resolve(undefined)]);
    const verification = verificationFact(status.facts.verifications, progress, runEnd);
    const action = decideCutover(
      progress,
      { migration: status.facts, watch: fence, ...(verification ? { verification } : {}) },
      settings,
      { fenceNow: options.fenceNow === true },
    );
    switch (action.kind) {
      case 'refuse':
        emit({ kind: 'refuse', message: action.reason });
        return { result: 'refused', reason: action.reason, guardrails: action.guardrails };
      case 'done':
        return { result: 'done', reason: action.reason, ...(progress ? { progress } : {}) };
      case 'fence': {
        const T = now();
        watch = deps.watch(T);
        await watch.start();
        const { version: v } = progress ?? { version: 0 };
        progress = {
          migrationId: deps.plane.migration.id,
          step: CutoverStep.FENCED,
          fenceAt: T,
          quietWindowMs: options.quietWindowMs ?? 30_000,
          actor: deps.plane.actor,
          startedAt: T,
          updatedAt: T,
          version: v ?? 0,
        };
        await save({});
        await audit(deps, 'cutover-fence', `legacy writes fenced at ${iso(T)}`, { fenceAt: T });
        run = undefined;
        runEnd = undefined;
        emit({
          kind: 'fence',
          step: CutoverStep.FENCED,
          message: `fence recorded: T = ${iso(T)} (${T}); watching the legacy stream, quiet window ${progress.quietWindowMs} ms`,
        });
        break;
      }
      case 'wait':
        if (action.reason !== lastWait) emit({ kind: 'wait', step: action.step, message: action.reason });
        lastWait = action.reason;
        if (now() >= deadline) {
          if (progress) await save({});
          return {
            result: 'timeout',
            reason: `timed out: ${action.reason}; run \`dualread cutover\` again to resume`,
            ...(progress ? { progress } : {}),
          };
        }
        await sleep(options.pollMs ?? 1000);
        break;
      case 'mark-quiet':
        await save({ step: CutoverStep.QUIET });
        emit({ kind: 'mark-quiet', step: CutoverStep.QUIET, message: action.reason });
        break;
      case 'start-verification': {
        const runId = `cutover-${progress!.fenceAt}-${randomUUID().slice(0, 8)}`;
        run = await deps.verifications.start(runId);
        runEnd = undefined;
        await save({ step: CutoverStep.VERIFYING, verificationRunId: runId });
        emit({
          kind: 'start-verification',
          step: CutoverStep.VERIFYING,
          message: `verification ${runId} started after the fence`,
        });
        break;
      }
      case 'disable-cdc':
        await deps.cdc.disable(`cutover: ${action.reason}`);
        await save({ step: CutoverStep.CDC_DISABLED, cdcDisabledAt: now() });
        await audit(deps, 'cutover-cdc-disabled', action.reason, { fenceAt: progress!.fenceAt });
        emit({
          kind: 'disable-cdc',
          step: CutoverStep.CDC_DISABLED,
          message: `${action.reason}: CDC disabled`,
        });
        break;
      case 'finalize': {
        const r = await deps.plane.advance({ to: Phase.FINALIZED, reason: action.reason });
        await save({ step: CutoverStep.FINALIZED, finalizedAt: r.audit.at });
        emit({ kind: 'finalize', step: CutoverStep.FINALIZED, message: `FINALIZED: ${action.reason}` });
        return {
          result: 'finalized',
          reason: action.reason,
          progress: progress!,
          ...(r.guardrails ? { guardrails: r.guardrails } : {}),
        };
      }
      case 'abort':
        return abort(deps, progress!, action.reason, action.keys, action.reenableCdc, save, emit);
    }
  }
}

/** Cancels a cutover in progress (`dualread cutover --abort`): CDC on again if it was switched off. */
export async function abortCutover(deps: CutoverDeps, reason: string): Promise<CutoverOutcome> {
  const now = deps.now ?? Date.now;
  let progress = await readCutover(deps.store);
  if (!progress || progress.step === CutoverStep.ABORTED || progress.step === CutoverStep.FINALIZED)
    return {
      result: 'done',
      reason: progress
        ? `no cutover in progress (the last one is ${progress.step})`
        : 'no cutover in progress',
    };
  const save = async (patch: Partial<CutoverProgress>): Promise<CutoverProgress> => {
    const { version, ...rest } = { ...(progress as CutoverProgress), ...patch, updatedAt: now() };
    progress = await deps.store.put(CUTOVER_KEY, rest, version ?? 0);
    return progress;
  };
  return abort(deps, progress, reason, [], progress.step === CutoverStep.CDC_DISABLED, save, (e) =>
    deps.onEvent?.({ at: now(), ...e }),
  );
}

async function abort(
  deps: CutoverDeps,
  progress: CutoverProgress,
  reason: string,
  keys: readonly string[],
  reenableCdc: boolean,
  save: (patch: Partial<CutoverProgress>) => Promise<CutoverProgress>,
  emit: (e: Omit<CutoverEvent, 'at'>) => void,
): Promise<CutoverOutcome> {
  const now = deps.now ?? Date.now;
  if (reenableCdc) await deps.cdc.enable(`cutover aborted: ${reason}`);
  const saved = await save({
    step: CutoverStep.ABORTED,
    abortedAt: now(),
    abortReason: reason,
    ...(keys.length ? { keysAfterFence: keys } : {}),
  });
  await audit(deps, 'cutover-abort', reason, {
    fenceAt: progress.fenceAt,
    cdcReenabled: reenableCdc,
    ...(keys.length ? { keys: keys.join(' ') } : {}),
  });
  emit({
    kind: 'abort',
    step: CutoverStep.ABORTED,
    message: `cutover aborted, the migration stays in NEW_PRIMARY${reenableCdc ? ' and CDC is enabled again' : ''}: ${reason}`,
  });
  return { result: 'aborted', reason, progress: saved, ...(keys.length ? { keys } : {}) };
}

/** The cutover's verification as a fact: its report, or FAILED when the execution failed without one. */
function verificationFact(
  reports: readonly VerificationFact[],
  progress: CutoverProgress | undefined,
  end: { status: string; error?: string } | undefined,
): VerificationFact | undefined {
  const runId = progress?.verificationRunId;
  if (!runId) return undefined;
  const report = reports.find((r) => r.runId === runId);
  if (report && report.status !== 'RUNNING') return report;
  if (end?.status === 'FAILED')
    return { runId, status: 'FAILED', startedAt: report?.startedAt ?? progress.fenceAt + 1, clean: false };
  return report;
}

/** An AUDIT record of a cutover step, written with an unchanged STATE (one transaction, versioned). */
async function audit(
  deps: CutoverDeps,
  action: string,
  reason: string,
  detail: Readonly<Record<string, string | number | boolean>>,
): Promise<void> {
  const now = (deps.now ?? Date.now)();
  for (let attempt = 1; ; attempt += 1) {
    const state = await deps.store.getState();
    if (!state) return;
    const { version: _v, ...rest } = state;
    try {
      await deps.store.changeState(
        state,
        { ...rest, updatedAt: now, updatedBy: deps.plane.actor },
        { migrationId: state.migrationId, at: now, actor: deps.plane.actor, action, reason, detail },
        randomUUID(),
      );
      return;
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}
