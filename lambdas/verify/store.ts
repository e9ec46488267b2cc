/**
 * The control items the verification steps share, for one run: suspects (`VERIFY_SUSPECT#`), segment
 * checkpoints (`VERIFY_SEGMENT#`) and the report (`VERIFY#<runId>`). What they hold and the decisions on
 * them are core/verify; this is their reads and writes.
 */
import {
  ControlConflictError,
  type ControlStore,
  type Versioned,
  stripVersion,
} from '../../adapters/control-store';
import { ControlKey } from '../../core/control';
import {
  type Suspect,
  type VerifyCheckpoint,
  VerifyKey,
  type VerifyReport,
  VerifySide,
  type VerifyStage,
  awaitsRepair,
  isPendingSuspect,
  nextStage,
  suspectId,
  workingItemExpiresAt,
} from '../../core/verify';
import type { VerifyDeps, VerifyRun } from './contract';

/** Epoch seconds at which a working item written now expires (control table TTL; the report stays). */
export function expiresAt(deps: VerifyDeps): number {
  return workingItemExpiresAt(deps.now(), deps.settings.workingItemTtlDays);
}

/** Every suspect of the run. */
export async function listSuspects(deps: VerifyDeps, runId: string): Promise<Suspect[]> {
  return deps.store.list<Suspect>(VerifyKey.suspectPrefix(runId));
}

/** Stores a suspect under its id (an idempotent put: storing the same suspect twice is harmless). */
export async function saveSuspect(deps: VerifyDeps, s: Suspect & { sk?: string }): Promise<void> {
  const { sk: _sk, ...doc } = s;
  await deps.store.putUnversioned(
    VerifyKey.suspect(doc.runId, suspectId(doc)),
    doc as unknown as Parameters<ControlStore['putUnversioned']>[1],
  );
}

async function checkpoints(deps: VerifyDeps, runId: string, side: VerifySide): Promise<VerifyCheckpoint[]> {
  return deps.store.list<VerifyCheckpoint>(VerifyKey.segmentPrefix(runId, side));
}

/** What the control table holds of a run: the checkpoints of each pass, and the suspects. */
export async function runRecords(deps: VerifyDeps, runId: string) {
  const [sums, fresh, legacy, extras, suspects] = await Promise.all([
    checkpoints(deps, runId, VerifySide.SUMS),
    checkpoints(deps, runId, VerifySide.NEW),
    checkpoints(deps, runId, VerifySide.LEGACY),
    checkpoints(deps, runId, VerifySide.EXTRAS),
    listSuspects(deps, runId),
  ]);
  return { sums, fresh, legacy, extras, suspects };
}

/** The run's next stage, from the control table (core/verify/checkpoint.ts, `nextStage`). */
export async function computeNext(
  deps: VerifyDeps,
  run: Pick<VerifyRun, 'runId' | 'totalSegments' | 'repair'>,
): Promise<{ stage: VerifyStage; segments: number[] }> {
  const { sums, fresh, legacy, extras, suspects } = await runRecords(deps, run.runId);
  return nextStage({
    totalSegments: run.totalSegments,
    sums,
    legacy,
    fresh,
    extras,
    pendingSuspects: suspects.filter(isPendingSuspect).length,
    unrepaired: suspects.filter(awaitsRepair).length,
    repair: run.repair,
  });
}

/** Reads, changes and writes the report (single writer per run: the lock holder). */
export async function updateReport(
  deps: VerifyDeps,
  runId: string,
  change: (r: VerifyReport) => VerifyReport,
): Promise<VerifyReport | undefined> {
  for (let attempt = 0; ; attempt++) {
    const current = await deps.store.get<Versioned<VerifyReport>>(ControlKey.verify(runId));
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
