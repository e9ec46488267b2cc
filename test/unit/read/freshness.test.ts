/** Freshness terms of the read path (core/read/freshness.ts): the sane range of X-Read-After. */
import { READ_AFTER_FUTURE_SLACK_MS, READ_AFTER_MIN_MS, readAfterProblem } from '../../../core/read';
import { NOW, SKEW } from '../../helpers/route-input';

describe('Function: readAfterProblem', () => {
  it.each<[string, number, RegExp | undefined]>([
    ['a minute ago', NOW - 60_000, undefined],
    ['now', NOW, undefined],
    ['the far edge: now + skew + slack', NOW + SKEW + READ_AFTER_FUTURE_SLACK_MS, undefined],
    [
      '1 ms past the far edge',
      NOW + SKEW + READ_AFTER_FUTURE_SLACK_MS + 1,
      /2001 ms after this server's clock/,
    ],
    ['2000-01-01', READ_AFTER_MIN_MS, undefined],
    ['1 ms before 2000', READ_AFTER_MIN_MS - 1, /before 2000-01-01; it looks like epoch seconds/],
    ['now in epoch seconds', NOW / 1000, /as epoch seconds it would be 2023-11-14T22:13:20.000Z/],
    ['zero', 0, /before 2000-01-01/],
    ['NaN', Number.NaN, /is not a time/],
  ])('%s → %p', (_name, value, expected) => {
    const problem = readAfterProblem(value, NOW, SKEW);
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(expected);
  });
});
