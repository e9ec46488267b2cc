/**
 * Fault matrix, outages: the new table and the control table down (every call 503) for 6 s from the
 * first DUAL_READ, and slow reads of new for the whole walk. The read path's breaker opens and reads fall
 * back to legacy, no read is answered with an error (legacy is healthy), CDC's failures are dead-lettered
 * with their reason and replayed, the frontier holds at them until then, and every invariant holds.
 *
 * In the same walk, `stream-trim` (the stream's outage, in SHADOW): the consumer paused past the
 * retention, records trimmed unread; the tracker opens a stream gap, the advance is refused, the
 * recovery repairs and closes it, and only then does the walk go on.
 */
import type { RehearsalReport } from '../../../local/rehearsal/recorder';
import { failedChecks, faultRehearsal } from '../../helpers/fault-rehearsal';

jest.setTimeout(300_000);

describe('Fault matrix: outages and slow reads', () => {
  let report: RehearsalReport;

  beforeAll(async () => {
    report = await faultRehearsal(
      { names: ['new-outage', 'control-outage', 'slow-new', 'stream-trim'], rate: 0.05 },
      13,
    );
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

  it('trimmed records unread, opened a stream gap that held an advance, and recovered before going on', () => {
    const g = report.faults?.answers.streamGap;
    expect(g?.trim.recordsAtOrBefore).toBeGreaterThan(0);
    expect((g?.trim.trimmedAnswers ?? 0) + (g?.trim.trimHorizonMoves ?? 0)).toBeGreaterThan(0);
    expect(g?.opened?.openedAt).toBeGreaterThan(g?.trim.trimmedAt ?? Infinity);
    expect(g?.advanceRefused).toBe(true);
    expect(g?.closedAt).toBeGreaterThan(g?.opened?.openedAt ?? Infinity);
    expect(g?.recoveryRuns.at(-1)).toMatchObject({ runId: g?.closedByRun, clean: true });
    expect(report.checks.find((c) => c.name === 'stream-gap-recovered')?.passed).toBe(true);
  });

  it('passed every invariant, with nothing left dead-lettered', () => {
    expect(failedChecks(report)).toEqual([]);
    expect(report.passed).toBe(true);
    expect(report.faults?.answers.stillDeadLettered).toBe(0);
  });
});
