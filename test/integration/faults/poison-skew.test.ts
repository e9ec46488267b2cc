/**
 * Fault matrix, data and clock: `poison` (legacy items the example mapping's `mapItem` refuses: one
 * present at seed time, three written live) in one short rehearsal. Each live item's record is
 * dead-lettered with the mapping's reason, the seed item is registered as poison by the backfill (which
 * ends COMPLETE_WITH_POISON); the operator pins the four keys to legacy and the migration goes on with
 * them through DUAL_READ and NEW_PRIMARY: verification lists them as pinned (and is clean), every read
 * of a pinned key — gets, batch gets, queries of its partition — is served by legacy. Before FINALIZED
 * the application removes them from legacy and a retry settles the pins; every invariant holds. In the same run the read API's clock runs 500 ms ahead (half the example's 1000 ms clock-skew
 * margin): every bounded read, judged against true time, stays within its budget. (Beyond the margin is
 * a unit test of the verdict: test/unit/faults/skew.test.ts.)
 */
import type { RehearsalReport } from '../../../local/rehearsal/recorder';
import { failedChecks, faultRehearsal } from '../../helpers/fault-rehearsal';

jest.setTimeout(300_000);

describe('Fault matrix: poison items, and the read API clock skewed within the margin', () => {
  let report: RehearsalReport;

  beforeAll(async () => {
    report = await faultRehearsal({ names: ['poison', 'clock-skew'] }, 23);
  });

  it('dead-lettered each live poison record and registered the seed item as poison, each with its reason', () => {
    const poison = report.faults?.answers.poison ?? [];
    expect(poison.map((p) => p.when).sort()).toEqual(['live', 'live', 'live', 'seed']);
    for (const p of poison) {
      expect(p.refusal).toMatch(/reserves for the new shape/);
      if (p.when === 'live') expect(p.deadLettered).toMatch(/reserves for the new shape/);
      else expect(p.registered).toMatch(/reserves for the new shape/);
      expect(p.ended).toMatch(/removed from legacy/);
    }
    const injected = Object.fromEntries((report.faults?.faults ?? []).map((f) => [f.name, f.injected]));
    expect(injected.poison).toBe(4);
    expect(injected['clock-skew']).toBeGreaterThan(0);
    const marks = report.timeline.filter((t) => t.action === 'poison').map((t) => t.detail);
    expect(marks).toEqual([expect.stringContaining('backfill ended COMPLETE_WITH_POISON')]);
  });

  it('pinned the four keys to legacy, listed them as pinned in verification, and served every read of them from legacy', () => {
    const poison = report.faults?.answers.poison ?? [];
    for (const p of poison) {
      expect(p.pinned).toMatch(/pinned to legacy by rehearsal@local/);
      expect(p.pinnedReads?.new).toBe(0);
      expect(p.pinnedReads?.other).toBe(0);
      expect(p.probes?.map((x) => [x.kind, x.servedBy, x.reason])).toEqual([
        ['batch-get', 'legacy', 'PINNED_TO_LEGACY'],
        ['query', 'legacy', 'PINNED_TO_LEGACY'],
      ]);
      expect(p.probes?.every((x) => x.phase === 'NEW_PRIMARY')).toBe(true);
    }
    const check = report.checks.find((c) => c.name === 'pinned-reads-from-legacy');
    expect(check).toMatchObject({ passed: true, failures: 0 });
    expect(check?.checked).toBeGreaterThanOrEqual(8);
    const clean = report.verifications.filter((v) => v.clean);
    expect(clean.length).toBeGreaterThan(0);
    expect(clean[0]?.pinned).toBe(4);
    expect(clean[0]?.counts.unmappable ?? 0).toBe(0);
  });

  it('served every read of a poison key from legacy while legacy held it', () => {
    const poison = report.faults?.answers.poison ?? [];
    const reads = poison.reduce((n, p) => n + p.reads.legacy, 0);
    expect(reads).toBeGreaterThan(0);
    for (const p of poison)
      expect({ key: p.key, new: p.reads.new, other: p.reads.other }).toEqual({
        key: p.key,
        new: 0,
        other: 0,
      });
  });

  it("skewed the read API's clock by half the margin, and every bounded read stayed within budget", () => {
    expect(report.faults?.answers.clockSkew).toEqual({ skewMs: 500, marginMs: 1000, withinMargin: true });
    const bounded = report.checks.find((c) => c.name === 'bounded-within-budget');
    expect(bounded?.checked).toBeGreaterThan(0);
    expect(bounded?.passed).toBe(true);
  });

  it('lost nothing: every invariant passed, nothing left dead-lettered', () => {
    expect(failedChecks(report)).toEqual([]);
    expect(report.passed).toBe(true);
    expect(report.faults?.answers.stillDeadLettered).toBe(0);
    expect(report.faults?.voided).toEqual([]);
  });
});
