/**
 * The short rehearsal (`npm start` at a small scale) on the shared DynamoDB Local: the whole walk to
 * FINALIZED with a refused premature advance and an alarm rollback, every invariant checked against the
 * recorded history and passed, and the report's data present for every chart.
 */
import '../../../local/promise-polyfill';
import { Phase } from '../../../core/control';
import { usersMigration } from '../../../examples/users/migration';
import type { RehearsalReport } from '../../../local/rehearsal/recorder';
import { rehearse } from '../../../local/rehearsal/rehearse';
import { withTablePrefix } from '../../../local/rehearsal/setup';
import { testEndpoint, uniqueName } from '../../helpers/dynamo';

jest.setTimeout(300_000);

describe('Integration: rehearsal (short variant)', () => {
  let report: RehearsalReport;

  beforeAll(async () => {
    const prefix = `${uniqueName('reh')}-`;
    report = await rehearse({
      migration: withTablePrefix(usersMigration, prefix),
      endpoint: testEndpoint(),
      controlTableName: `${prefix}control`,
      items: 1500,
      writeRate: 40,
      readRate: 40,
      dwellMs: 1500,
      seed: 7,
    });
  });

  it('walks every phase to FINALIZED through the control plane, with a refused premature advance, an alarm rollback and the cutover', () => {
    const entered = report.timeline.filter((e) => e.kind === 'phase').map((e) => e.phase);
    expect(entered).toEqual([
      Phase.LEGACY_ONLY,
      Phase.BACKFILLING,
      Phase.SHADOW,
      Phase.DUAL_READ,
      Phase.SHADOW, // the alarm's rollback
      Phase.DUAL_READ,
      Phase.NEW_PRIMARY,
      Phase.FINALIZED,
    ]);
    const refused = report.timeline.filter((e) => e.kind === 'refused');
    expect(refused[0]).toMatchObject({ phase: Phase.SHADOW });
    expect(refused[0]?.guardrails?.find((g) => g.name === 'backfill-complete')?.met).toBe(false);
    expect(report.timeline.find((e) => e.action === 'rollback')?.detail).toContain('alarm FrontierLagHigh');
    // The rollback came through the control Lambda's handler, audited as the alarm's.
    expect(
      report.audit.some((a) => a.startsWith('auto-rollback DUAL_READ→SHADOW alarm FrontierLagHigh')),
    ).toBe(true);
    // FINALIZED through the cutover protocol: the fence, CDC switched off, the advance audited with T.
    expect(report.audit.some((a) => a.startsWith('cutover-fence'))).toBe(true);
    expect(report.audit.some((a) => a.startsWith('cutover-cdc-disabled'))).toBe(true);
    expect(report.audit.some((a) => /^advance NEW_PRIMARY→FINALIZED cutover: .*T=\d+/.test(a))).toBe(true);
  });

  it('passes every invariant, each judged on real cases', () => {
    const failures = report.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.examples.join('\n')}`);
    expect(failures).toEqual([]);
    for (const c of report.checks)
      expect({ name: c.name, checked: c.checked > 0 }).toEqual({ name: c.name, checked: true });
    expect(report.passed).toBe(true);
  });

  it('records data for every part of the report', () => {
    expect(report.backfill.scanned).toBeGreaterThan(0);
    expect(Object.keys(report.backfill.segments).length).toBe(usersMigration.backfill.segments);
    expect(report.frontierLagMs.length).toBeGreaterThan(0);
    expect(report.cdcLagMs.length).toBeGreaterThan(0);
    expect(report.reads.byPhase[Phase.DUAL_READ]?.new).toBeGreaterThan(0);
    expect(report.reads.latency.some((r) => r.store === 'new')).toBe(true);
    expect(report.verifications.filter((v) => v.clean).length).toBeGreaterThanOrEqual(2);
    // Legacy writes went on during every verification before the fence: nothing held them.
    const live = report.verifications.filter((v) => v.runId.startsWith('rehearsal-'));
    expect(live.length).toBeGreaterThan(0);
    for (const v of live)
      expect({ runId: v.runId, writes: v.writesDuring }).toEqual({
        runId: v.runId,
        writes: expect.any(Number),
      });
    expect(live.every((v) => (v.writesDuring ?? 0) > 0)).toBe(true);
    expect(report.timeline.some((e) => e.action === 'writes-held')).toBe(false);
    // A verification that is not clean is shown with its reason and run again, never hidden.
    for (const v of live.filter((x) => !x.clean)) expect(v.reason).toEqual(expect.any(String));
    expect(report.timeline.filter((e) => e.action === 'verify-again').length).toBe(
      live.filter((v) => !v.clean).length,
    );
    expect(report.writes.acknowledged).toBeGreaterThan(0);
    expect(report.memory.nodePeakRssBytes).toBeGreaterThan(0);
    // The by-email surface, queried in every mode (local/rehearsal/surface-reads.ts), without a mismatch.
    for (const mode of ['legacy', 'shadow', 'bounded', 'strong'])
      expect([mode, report.extra[`surface.by-email.reads.${mode}`]]).toEqual([mode, expect.any(Number)]);
    expect(report.extra['surface.by-email.served.new']).toBeGreaterThan(0);
    expect(report.extra['surface.by-email.mismatches']).toBe(0);
  });
});
