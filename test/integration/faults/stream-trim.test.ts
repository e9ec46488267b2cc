/**
 * Fault matrix, the stream's own outage: in SHADOW the consumer (CDC poller and frontier tracker) is
 * paused past the stream's retention while the workload writes on, so records are trimmed unread. The
 * tracker opens a stream gap (F frozen), the advance is refused, the recovery (verification with repair
 * until clean, started after the gap opened) closes it, and only then does the walk go on; every
 * invariant holds, with the trimmed writes counted as applied only when the gap closed.
 */
import type { RehearsalReport } from '../../../local/rehearsal/recorder';
import { failedChecks, faultRehearsal } from '../../helpers/fault-rehearsal';

jest.setTimeout(420_000);

describe('Fault matrix: stream records trimmed unread', () => {
  let report: RehearsalReport;

  beforeAll(async () => {
    report = await faultRehearsal({ names: ['stream-trim'] }, 13);
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

  it('passed every invariant, answered no read with an error, and left nothing dead-lettered', () => {
    expect(failedChecks(report)).toEqual([]);
    expect(report.passed).toBe(true);
    const a = report.faults?.answers;
    expect({ errors: a?.readErrors, samples: a?.readErrorSamples }).toEqual({ errors: 0, samples: [] });
    expect(a?.stillDeadLettered).toBe(0);
  });
});
