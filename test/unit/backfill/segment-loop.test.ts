import { type RunControls, controlsOf, nextPage, segmentControls } from '../../../core';

const running: RunControls = { paused: false, rateLimitPerSecond: 100 };

describe('Function: controlsOf', () => {
  it("is STATE's controls, or unpaused at the migration's rate before STATE exists", () => {
    expect(controlsOf(undefined, 50)).toEqual({ paused: false, rateLimitPerSecond: 50 });
    expect(controlsOf({ controls: { paused: true, rateLimitPerSecond: 7 } } as never, 50)).toEqual({
      paused: true,
      rateLimitPerSecond: 7,
    });
  });
});

describe('Function: segmentControls', () => {
  it.each<[string, RunControls, { done: boolean; notBefore: number } | undefined, object]>([
    [
      'a done segment, even paused',
      { ...running, paused: true },
      { done: true, notBefore: 0 },
      { done: true, paused: false, waitSeconds: 0 },
    ],
    [
      'a paused backfill',
      { ...running, paused: true },
      undefined,
      { done: false, paused: true, waitSeconds: 15 },
    ],
    ['a segment not started', running, undefined, { done: false, paused: false, waitSeconds: 0 }],
    [
      'a rate wait of 2.5 s',
      running,
      { done: false, notBefore: 3_500 },
      { done: false, paused: false, waitSeconds: 2 },
    ],
    [
      'a rate wait under a second (the page worker sleeps it)',
      running,
      { done: false, notBefore: 1_999 },
      { waitSeconds: 0 },
    ],
  ])('answers %s', (_case, controls, checkpoint, expected) => {
    expect(segmentControls(controls, checkpoint, 1_000, 15)).toMatchObject({
      ...expected,
      rateLimitPerSecond: 100,
    });
  });
});

describe('Function: nextPage', () => {
  const run = { totalSegments: 4, notBefore: 0, startedAt: 1_000, budgetMs: 5_000 };

  it.each<[string, RunControls, number, number, object]>([
    ['stops when paused', { ...running, paused: true }, 0, 1_000, { stop: 'PAUSED' }],
    ['copies at once without a wait, at the segment share', running, 0, 1_000, { share: 25, waitMs: 0 }],
    ['sleeps a wait that fits the budget', running, 3_000, 2_000, { share: 25, waitMs: 1_000 }],
    ['leaves a wait past the budget to the state machine', running, 7_000, 2_000, { stop: 'WAIT' }],
    [
      'copies at once, unlimited, at rate 0',
      { paused: false, rateLimitPerSecond: 0 },
      0,
      9_000,
      { share: Infinity, waitMs: 0 },
    ],
  ])('%s', (_case, controls, notBefore, now, expected) => {
    expect(nextPage(controls, { ...run, notBefore }, now)).toEqual(expected);
  });
});
