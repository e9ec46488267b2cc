import { type WriteOutcome, countWrite } from '../../../core';

const key = { PK: { S: 'USER#u' }, SK: { S: 'PROFILE' } };

describe('Function: countWrite', () => {
  it.each<[WriteOutcome, 'refuse' | 'overwrite' | 'keep', object]>([
    [{ kind: 'copied' }, 'refuse', { count: 'copied' }],
    [{ kind: 'exists' }, 'refuse', { count: 'skippedExists' }],
    [{ kind: 'foreign' }, 'keep', { count: 'keptForeign' }],
    [
      { kind: 'foreign' },
      'refuse',
      { poison: expect.stringMatching(/did not write.*USER#u.*foreignItems is 'refuse'/) },
    ],
    [
      { kind: 'failed', reason: 'ValidationError: too big' },
      'overwrite',
      { poison: 'write refused: ValidationError: too big' },
    ],
  ])('counts %p under %s as %p', (outcome, policy, expected) => {
    expect(countWrite(outcome, policy, key)).toEqual(expected);
  });
});
