import { delayUntil, nextNotBefore, pageLimit, segmentShare } from '../../../core/control';

/** Runs the worker's pacing loop against a fake clock: pages of `pageLimit` items, sleeping until `notBefore`. */
function simulate(rates: Array<{ untilMs: number; rate: number }>, totalSegments: number, pageSize: number) {
  let now = 0;
  let notBefore = 0;
  const pages: Array<{ at: number; items: number; rate: number }> = [];
  for (const phase of rates) {
    while (now < phase.untilMs) {
      const share = segmentShare(phase.rate, totalSegments);
      now += delayUntil(notBefore, now);
      const items = pageLimit(share, pageSize);
      pages.push({ at: now, items, rate: phase.rate });
      notBefore = nextNotBefore(notBefore, now, items, share);
      now += 5; // the page itself takes 5 ms
    }
  }
  return pages;
}

function measuredRate(pages: Array<{ at: number; items: number }>, fromMs: number, toMs: number): number {
  const items = pages.filter((p) => p.at >= fromMs && p.at < toMs).reduce((a, p) => a + p.items, 0);
  return (items * 1000) / (toMs - fromMs);
}

describe('Function: segmentShare', () => {
  it.each([
    [0, 4, Number.POSITIVE_INFINITY],
    [-1, 4, Number.POSITIVE_INFINITY],
    [100, 4, 25],
    [100, 1, 100],
    [10, 8, 1.25],
  ])('gives rate %p over %p segments a share of %p items/s', (rate, segments, share) => {
    expect(segmentShare(rate, segments)).toBe(share);
  });
});

describe('Function: pageLimit', () => {
  it.each([
    [Number.POSITIVE_INFINITY, 100, 100],
    [1000, 100, 100],
    [25, 100, 25],
    [0.2, 100, 1],
    [37.9, 100, 37],
  ])('cuts a page for share %p and page size %p to %p items', (share, size, limit) => {
    expect(pageLimit(share, size)).toBe(limit);
  });
});

describe('Function: nextNotBefore', () => {
  it('does not pace when unlimited', () => {
    expect(nextNotBefore(123, 1000, 100, Number.POSITIVE_INFINITY)).toBe(0);
  });

  it('adds the page time at the share to the later of the debt clock and the page start', () => {
    expect(nextNotBefore(0, 1000, 50, 25)).toBe(3000);
    expect(nextNotBefore(5000, 1000, 50, 25)).toBe(7000);
  });

  it('does not bank credit across a long pause (no burst after resuming)', () => {
    expect(nextNotBefore(1000, 60_000, 10, 10)).toBe(61_000);
  });
});

describe('Function: delayUntil', () => {
  it('is never negative', () => {
    expect(delayUntil(100, 50)).toBe(50);
    expect(delayUntil(100, 500)).toBe(0);
  });
});

describe('Pacing with a fake clock', () => {
  it('holds each segment to its share of the rate', () => {
    // Prepare / Act
    const pages = simulate([{ untilMs: 60_000, rate: 200 }], 4, 100);

    // Assess: 200 items/s over 4 segments = 50 items/s for this segment
    expect(measuredRate(pages, 10_000, 60_000)).toBeCloseTo(50, 0);
  });

  it('applies a rate change from the next page on', () => {
    // Prepare / Act: 40 items/s for 30 s, then 400 items/s, on 2 segments (shares 20 and 200)
    const pages = simulate(
      [
        { untilMs: 30_000, rate: 40 },
        { untilMs: 60_000, rate: 400 },
      ],
      2,
      100,
    );

    // Assess
    expect(measuredRate(pages, 5_000, 30_000)).toBeCloseTo(20, 0);
    expect(measuredRate(pages, 32_000, 60_000)).toBeGreaterThan(180);
    const firstFast = pages.findIndex((p) => p.rate === 400);
    const gap = (pages[firstFast + 1]?.at ?? 0) - (pages[firstFast]?.at ?? 0);
    expect(gap).toBeLessThanOrEqual(1005); // the first page at the new rate already follows the new pacing
  });
});
