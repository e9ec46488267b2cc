/**
 * Day-one safety: the verification `control` handler refuses to judge before the backfill is COMPLETE.
 * Its preflight then ends the run as SKIPPED (report with the reason, no lock, no failure, no drift
 * metric) so the first scheduled run after a deploy cannot report uncopied items as drift.
 */
import { ControlConflictError, type ControlStore } from '../../../adapters/control-store';
import { BackfillStatus, ControlKey, type MigrationState, initialState } from '../../../core/control';
import {
  VerifySkipReason,
  VerifyStage,
  VerifyStatus,
  type VerifyReport,
  verifyGate,
  VerifyBackfillNotCompleteError,
} from '../../../core/verify';
import { usersMigration } from '../../../examples/users/migration';
import { DEFAULT_VERIFY_SETTINGS, type VerifyDeps, type VerifyRun } from '../../../lambdas/verify/contract';
import { makeVerifyControlHandler } from '../../../lambdas/verify/control';

/** An in-memory control store with the real one's versioned-put contract (conflict on a stale version). */
function memoryStore(): ControlStore & { docs: Map<string, Record<string, unknown>> } {
  const docs = new Map<string, Record<string, unknown>>();
  const store = {
    docs,
    get: async (sk: string) => structuredClone(docs.get(sk)),
    getState: async () => structuredClone(docs.get(ControlKey.STATE)),
    put: async (sk: string, doc: object, expected: number) => {
      const version = (docs.get(sk)?.version as number | undefined) ?? 0;
      if (version !== expected) throw new ControlConflictError('users', sk);
      const next = { ...doc, version: expected + 1 };
      docs.set(sk, structuredClone(next));
      return next;
    },
    putUnversioned: async (sk: string, doc: Record<string, unknown>) => void docs.set(sk, { ...doc }),
    list: async (prefix: string) =>
      [...docs.entries()]
        .filter(([sk]) => sk.startsWith(prefix))
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([sk, d]) => ({ ...structuredClone(d), sk })),
  };
  return store as unknown as ControlStore & { docs: Map<string, Record<string, unknown>> };
}

function setup(backfill: MigrationState['backfill'] | undefined) {
  const store = memoryStore();
  if (backfill) store.docs.set(ControlKey.STATE, { ...initialState('users', 0, 1), backfill, version: 1 });
  const metrics: string[] = [];
  const logs: string[] = [];
  const deps = {
    migration: usersMigration,
    store,
    tableStatus: async () => ({ usable: true, detail: 'ACTIVE' }),
    now: () => 1_000,
    sleep: async () => undefined,
    settings: DEFAULT_VERIFY_SETTINGS,
    metrics: { addMetric: (name: string) => metrics.push(name), publishStoredMetrics: () => undefined },
    log: { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m) },
  } as unknown as VerifyDeps;
  const handler = makeVerifyControlHandler(deps);
  const preflight = (runId: string) =>
    handler({
      op: 'preflight',
      input: { runId },
      executionId: `exec-${runId}`,
      executionName: runId,
    }) as Promise<VerifyRun>;
  return { store, metrics, logs, preflight };
}

describe('verification before the backfill is COMPLETE', () => {
  it.each([
    ['no STATE at all (first tick after a deploy)', undefined, VerifySkipReason.BACKFILL_NOT_STARTED],
    ['NOT_STARTED', { status: BackfillStatus.NOT_STARTED }, VerifySkipReason.BACKFILL_NOT_STARTED],
    ['RUNNING', { status: BackfillStatus.RUNNING, runId: 'b1' }, VerifySkipReason.BACKFILL_RUNNING],
    ['FAILED', { status: BackfillStatus.FAILED, runId: 'b1' }, VerifySkipReason.BACKFILL_FAILED],
    [
      'COMPLETE_WITH_POISON',
      { status: BackfillStatus.COMPLETE_WITH_POISON, unresolved: 3 },
      VerifySkipReason.BACKFILL_UNRESOLVED_KEYS,
    ],
  ] as const)(
    'backfill %s: the run is SKIPPED, says why, takes no lock and counts no drift',
    async (_, backfill, reason) => {
      // Prepare
      const { store, metrics, logs, preflight } = setup(backfill);

      // Act
      const run = await preflight('nightly-1');

      // Assess: the state machine ends at the Skipped state; the report says why; nothing alarming
      expect(run.next).toEqual({ stage: VerifyStage.SKIPPED, segments: [] });
      expect(run.skipped?.reason).toBe(reason);
      const report = store.docs.get(ControlKey.verify('nightly-1')) as unknown as VerifyReport;
      expect(report.status).toBe(VerifyStatus.SKIPPED);
      expect(report.skipped).toEqual(run.skipped);
      expect(report.counts).toBeUndefined();
      expect(report.clean).toBeUndefined();
      expect(store.docs.has(ControlKey.VERIFY_LOCK)).toBe(false);
      expect(metrics).toEqual(['VerifySkipped']);
      expect(logs).toEqual(['verification skipped: the backfill is not COMPLETE']);
    },
  );

  it('judges once the backfill is COMPLETE: takes the lock and starts the checksum pass', async () => {
    // Prepare
    const { store, metrics, preflight } = setup({ status: BackfillStatus.COMPLETE, runId: 'b1' });

    // Act
    const run = await preflight('nightly-2');

    // Assess
    expect(run.skipped).toBeUndefined();
    expect(run.next.stage).toBe(VerifyStage.SUMS);
    expect(store.docs.has(ControlKey.VERIFY_LOCK)).toBe(true);
    expect((store.docs.get(ControlKey.verify('nightly-2')) as unknown as VerifyReport).status).toBe(
      VerifyStatus.RUNNING,
    );
    expect(metrics).toEqual([]);
  });

  it('refuses to resume a started run while the backfill is not COMPLETE (named error, report kept)', async () => {
    // Prepare: a run that started, then STATE shows a backfill that is not complete
    const { store, preflight } = setup({ status: BackfillStatus.COMPLETE });
    await preflight('r1');
    store.docs.set(ControlKey.STATE, {
      ...(store.docs.get(ControlKey.STATE) as object),
      backfill: { status: BackfillStatus.RUNNING, runId: 'b2' },
    });

    // Act / Assess
    await expect(preflight('r1')).rejects.toThrow(VerifyBackfillNotCompleteError);
    expect((store.docs.get(ControlKey.verify('r1')) as unknown as VerifyReport).status).toBe(
      VerifyStatus.RUNNING,
    );
  });

  it('verifyGate judges only on COMPLETE', () => {
    for (const status of Object.values(BackfillStatus))
      expect(verifyGate({ backfill: { status } }).judge).toBe(status === BackfillStatus.COMPLETE);
    expect(verifyGate(undefined).judge).toBe(false);
  });
});
