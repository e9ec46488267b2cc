/**
 * Fault matrix, outages: the new table and the control table down (every call 503) for 6 s from the
 * first DUAL_READ, and slow reads of new for the whole walk. The read path's breaker opens and reads fall
 * back to legacy, no read is answered with an error (legacy is healthy), CDC's failures are dead-lettered
 * with their reason and replayed, the frontier holds at them until then, and every invariant holds.
 */
import type { RehearsalReport } from '../../../local/rehearsal/recorder';
import { failedChecks, faultRehearsal } from '../../helpers/fault-rehearsal';

jest.setTimeout(300_000);

describe('Fault matrix: outages and slow reads', () => {
  let report: RehearsalReport;

  beforeAll(async () => {
    report = await faultRehearsal({ names: ['new-outage', 'control-outage', 'slow-new'], rate: 0.05 }, 13);
  });

  it('opened both outage windows in DUAL_READ and injected every fault', () => {
    expect(report.faults?.answers.windows.map((w) => w.fault)).toEqual(['new-outage', 'control-outage']);
    for (const row of report.faults?.faults ?? []) expect(row.injected).toBeGreaterThan(0);
    expect(report.faults?.voided).toEqual([]);
  });

  it('opened the breaker and served reads from legacy instead of failing them', () => {
    const a = report.faults?.answers;
    expect(a?.breakerOpenings).toBeGreaterThanOrEqual(1);
    expect((a?.fallbacksToLegacy ?? 0) + (a?.routedAroundNew ?? 0)).toBeGreaterThan(0);
    expect({ errors: a?.readErrors, samples: a?.readErrorSamples }).toEqual({ errors: 0, samples: [] });
  });

  it('passed every invariant, with nothing left dead-lettered', () => {
    expect(failedChecks(report)).toEqual([]);
    expect(report.passed).toBe(true);
    expect(report.faults?.answers.stillDeadLettered).toBe(0);
  });
});
