import { fullJitterDelay } from '../../../core/common';

describe('Function: fullJitterDelay', () => {
  const settings = { baseMs: 50, capMs: 1_000, maxAttempts: 5 };

  it.each([
    [0, 1, 50],
    [1, 1, 100],
    [3, 1, 400],
    [10, 1, 1_000],
    [3, 0, 0],
    [3, 0.5, 200],
  ])('waits at most base*2^n capped (retry %p, random %p → %p ms)', (retry, random, expected) => {
    expect(fullJitterDelay(retry, settings, random)).toBe(expected);
  });
});
