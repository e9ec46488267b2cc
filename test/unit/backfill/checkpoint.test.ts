import {
  type SegmentCheckpoint,
  advanceCheckpoint,
  checkpointLayout,
  initialCheckpoint,
  pendingSegments,
  totals,
} from '../../../core/backfill';

const page = (over: Partial<Parameters<typeof advanceCheckpoint>[1]> = {}) => ({
  lastEvaluatedKey: { userId: { S: 'u-9' } },
  scanned: 10,
  copied: 7,
  skippedExists: 2,
  poison: 1,
  keptForeign: 0,
  notBefore: 500,
  ...over,
});

describe('Function: advanceCheckpoint', () => {
  it('moves the key forward and adds the counts when the page has a LastEvaluatedKey', () => {
    // Prepare
    const start = initialCheckpoint(3, 8, 'run-a', 100);

    // Act
    const next = advanceCheckpoint(start, page(), 'run-a', 200);

    // Assess
    expect(next).toEqual({
      ...start,
      lastEvaluatedKey: { userId: { S: 'u-9' } },
      scanned: 10,
      copied: 7,
      skippedExists: 2,
      poison: 1,
      pages: 1,
      done: false,
      notBefore: 500,
      updatedAt: 200,
    });
  });

  it('marks the segment done and drops the key when the page has no LastEvaluatedKey', () => {
    // Prepare
    const mid = advanceCheckpoint(initialCheckpoint(0, 2, 'r', 0), page(), 'r', 10);

    // Act
    const done = advanceCheckpoint(mid, page({ lastEvaluatedKey: undefined }), 'r2', 20);

    // Assess
    expect(done.done).toBe(true);
    expect(done.lastEvaluatedKey).toBeUndefined();
    expect(done.completedAt).toBe(20);
    expect(done.runId).toBe('r2');
    expect([done.scanned, done.copied, done.pages]).toEqual([20, 14, 2]);
  });

  it('refuses to advance a segment that is done', () => {
    const done = advanceCheckpoint(
      initialCheckpoint(0, 1, 'r', 0),
      page({ lastEvaluatedKey: undefined }),
      'r',
      1,
    );
    expect(() => advanceCheckpoint(done, page(), 'r', 2)).toThrow(RangeError);
  });
});

describe('Function: pendingSegments', () => {
  it.each<[string, Array<Pick<SegmentCheckpoint, 'segment' | 'done'>>, number, number[]]>([
    ['no checkpoints', [], 3, [0, 1, 2]],
    ['one done', [{ segment: 1, done: true }], 3, [0, 2]],
    ['started but not done', [{ segment: 0, done: false }], 2, [0, 1]],
    [
      'all done',
      [
        { segment: 0, done: true },
        { segment: 1, done: true },
      ],
      2,
      [],
    ],
  ])('lists the segments to copy when %s', (_case, cps, total, expected) => {
    expect(pendingSegments(cps as SegmentCheckpoint[], total)).toEqual(expected);
  });
});

describe('Function: totals', () => {
  it('sums the checkpoints', () => {
    const a = advanceCheckpoint(initialCheckpoint(0, 2, 'r', 0), page(), 'r', 1);
    const b = advanceCheckpoint(
      initialCheckpoint(1, 2, 'r', 0),
      page({ lastEvaluatedKey: undefined, copied: 6, keptForeign: 1 }),
      'r',
      1,
    );
    // A checkpoint stored before keptForeign existed counts as 0.
    const { keptForeign: _k, ...old } = a;
    expect(totals([old, b], 2)).toEqual({
      scanned: 20,
      copied: 13,
      skippedExists: 4,
      poison: 2,
      keptForeign: 1,
      segmentsDone: 1,
      segments: 2,
    });
  });
});

describe('Function: checkpointLayout', () => {
  it('is undefined without checkpoints, the shared total otherwise, and throws on disagreement', () => {
    expect(checkpointLayout([])).toBeUndefined();
    expect(checkpointLayout([initialCheckpoint(0, 4, 'r', 0), initialCheckpoint(1, 4, 'r', 0)])).toBe(4);
    expect(() =>
      checkpointLayout([initialCheckpoint(0, 4, 'r', 0), initialCheckpoint(1, 2, 'r', 0)]),
    ).toThrow(RangeError);
  });
});
