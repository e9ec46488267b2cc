import type { SegmentCheckpoint } from '../../../core/backfill';
import { backfillProgress, bar, duration, progressText } from '../../../cli/backfill-progress';

const T0 = 1_790_000_000_000;

function checkpoint(segment: number, scanned: number, seconds: number, done = false): SegmentCheckpoint {
  return {
    segment,
    totalSegments: 2,
    pages: 1,
    done,
    notBefore: 0,
    startedAt: T0,
    updatedAt: T0 + seconds * 1000,
    scanned,
    copied: scanned - 1,
    skippedExists: 1,
    poison: 0,
    runId: 'r1',
  };
}

describe('Function: backfillProgress', () => {
  it('gives each segment its share of the item count, its rate, and the run the slowest ETA', () => {
    // Arrange: 1000 items, 2 segments of ~500; segment 0 at 100 of 500 in 10 s, segment 1 at 250 in 10 s
    const cps = [checkpoint(1, 250, 10), checkpoint(0, 100, 10)];

    // Act
    const p = backfillProgress(cps, 1000);

    // Assess
    expect(p.segments.map((s) => [s.segment, s.fraction, s.ratePerSecond, s.etaMs])).toEqual([
      [0, 0.2, 10, 40_000],
      [1, 0.5, 25, 10_000],
    ]);
    expect(p).toMatchObject({ scanned: 350, copied: 348, skipped: 2, fraction: 0.35, ratePerSecond: 35 });
    expect(p.etaMs).toBe(40_000);
  });

  it('shows 100 % only when every segment is done, and at most 99 % past an under-counted estimate', () => {
    const over = backfillProgress([checkpoint(0, 900, 10), checkpoint(1, 10, 10, true)], 1000);
    expect(over.segments[0]).toMatchObject({ fraction: 0.99, etaMs: null });
    expect(over.fraction).toBe(0.91);
    const done = backfillProgress([checkpoint(0, 900, 10, true), checkpoint(1, 10, 10, true)], 1000);
    expect(done).toMatchObject({ fraction: 1, etaMs: null, segmentsDone: 2 });
  });

  it('says unknown (not 0 %) without an item count', () => {
    const p = backfillProgress([checkpoint(0, 10, 1)], undefined);
    expect(p).toMatchObject({ fraction: null, etaMs: null, estimatedItems: null });
    expect(progressText(p)).toContain('? %');
  });

  it('draws bars and durations', () => {
    expect(bar(0.5, 4)).toBe('██░░');
    expect(bar(null, 3)).toBe('···');
    expect([duration(null), duration(12_000), duration(185_000), duration(3_720_000)]).toEqual([
      '—',
      '12s',
      '3m 05s',
      '1h 02m',
    ]);
  });
});
