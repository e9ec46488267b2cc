import { type SegmentRef, isSegmentRef } from '../../../core/control';

describe('Function: isSegmentRef', () => {
  it.each<[string, unknown, boolean]>([
    ['a run and a segment below totalSegments', { runId: 'r1', segment: 0, totalSegments: 4 }, true],
    ['the last segment', { runId: 'r1', segment: 3, totalSegments: 4 }, true],
    ['no payload', undefined, false],
    ['null', null, false],
    ['no runId', { segment: 0, totalSegments: 4 }, false],
    ['a runId that is not a string', { runId: 7, segment: 0, totalSegments: 4 }, false],
    ['a segment that is not an integer', { runId: 'r1', segment: 1.5, totalSegments: 4 }, false],
    ['a totalSegments that is not an integer', { runId: 'r1', segment: 0, totalSegments: '4' }, false],
    ['a negative segment', { runId: 'r1', segment: -1, totalSegments: 4 }, false],
    ['segment equal to totalSegments', { runId: 'r1', segment: 4, totalSegments: 4 }, false],
  ])('%s: %p', (_name, payload, expected) => {
    expect(isSegmentRef(payload as SegmentRef | undefined)).toBe(expected);
  });
});
