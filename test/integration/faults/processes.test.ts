/**
 * Fault matrix, processes: the sync Lambda and the frontier tracker killed mid-batch and restarted, on a
 * seeded schedule; the backfill worker killed with a page half written and the verification worker
 * killed mid-scan, each run restarted with the same run id. Nothing is lost, `F` is never ahead of an
 * unapplied write across the restarts (a record counts applied once its apply write landed, whoever sent
 * it: docs/correctness.md, "Faults", row `kill-sync`), both runs resume where their checkpoints say (not
 * from zero), and every invariant holds.
 */
import type { RehearsalReport } from '../../../local/rehearsal/recorder';
import { failedChecks, faultRehearsal } from '../../helpers/fault-rehearsal';

jest.setTimeout(300_000);

describe('Fault matrix: processes killed and restarted', () => {
  let report: RehearsalReport;

  beforeAll(async () => {
    report = await faultRehearsal(
      { names: ['kill-sync', 'kill-tracker', 'kill-backfill', 'kill-verify'] },
      17,
    );
  });

  it('killed every process and restarted each kill', () => {
    const processes = report.faults?.answers.processes ?? [];
    expect(processes.map((p) => p.process).sort()).toEqual(['backfill', 'sync', 'tracker', 'verify']);
    for (const p of processes) {
      expect(p.kills).toBeGreaterThan(0);
      expect(p.restarts).toBe(p.kills);
    }
    for (const row of report.faults?.faults ?? []) expect(row.injected).toBeGreaterThan(0);
    expect(report.faults?.voided).toEqual([]);
  });

  it('retried every killed sync batch on a fresh instance, which lived through it', () => {
    const sync = report.faults?.answers.processes.find((p) => p.process === 'sync');
    expect(sync?.events.length).toBeGreaterThan(0);
    for (const e of sync?.events ?? []) {
      expect(e.call).toMatch(/^new /);
      // The batch of the killed invocation, the records applied before the kill, the retry's incarnation.
      expect(e.batch).toBeDefined();
      expect(e.batch?.appliedBeforeKill).toBeLessThan(e.batch?.records ?? 0);
      expect(e.batch?.retriedBy).toBeGreaterThan(e.incarnation);
    }
  });

  it('resumed the backfill and the verification where their checkpoints stopped', () => {
    const resumes = report.faults?.answers.resumes ?? [];
    expect(resumes.map((r) => r.process).sort()).toEqual(['backfill', 'verify']);
    for (const r of resumes) {
      expect(r).toMatchObject({ problems: [], resumedWhereStopped: true });
      // Not from zero: something was checkpointed before the kill, and the restart scanned less.
      expect(r.atKill.some((p) => p.scanned > 0)).toBe(true);
    }
  });

  it('lost nothing: every invariant passed (convergence, frontier never ahead), nothing dead-lettered', () => {
    expect(failedChecks(report)).toEqual([]);
    expect(report.passed).toBe(true);
    expect(report.faults?.answers.stillDeadLettered).toBe(0);
    const a = report.faults?.answers;
    expect({ errors: a?.readErrors, samples: a?.readErrorSamples }).toEqual({ errors: 0, samples: [] });
  });
});
