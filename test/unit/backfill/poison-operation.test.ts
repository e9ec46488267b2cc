import {
  PoisonResolution,
  type WriteOutcome,
  padSequence,
  settleRetryWrite,
  settleWaivedRecord,
} from '../../../core';

const key = { PK: { S: 'USER#u' }, SK: { S: 'PROFILE' } };

describe('Function: settleWaivedRecord', () => {
  const waived = padSequence('200');

  it.each<[string, string | undefined, object | undefined]>([
    ['nothing in new (the retry copies)', undefined, undefined],
    [
      'the record itself applied',
      padSequence('200'),
      { resolution: PoisonResolution.PRESENT_IN_NEW, count: 'presentInNew' },
    ],
    [
      'a later change applied',
      padSequence('300'),
      { resolution: PoisonResolution.PRESENT_IN_NEW, count: 'presentInNew' },
    ],
    [
      'an older state',
      padSequence('100'),
      { stillPoison: expect.stringMatching(/older state .* verification with repair/) },
    ],
  ])('settles a waived record with %s', (_case, stored, expected) => {
    expect(settleWaivedRecord(stored, waived)).toEqual(expected);
  });
});

describe('Function: settleRetryWrite', () => {
  it.each<[string, WriteOutcome | undefined, 'refuse' | 'keep', boolean, object]>([
    ['a copy', { kind: 'copied' }, 'refuse', false, { resolution: PoisonResolution.COPIED, count: 'copied' }],
    [
      'an item dualread wrote',
      { kind: 'exists' },
      'refuse',
      false,
      { resolution: PoisonResolution.PRESENT_IN_NEW, count: 'presentInNew' },
    ],
    [
      'an item dualread wrote, for a waived record',
      { kind: 'exists' },
      'refuse',
      true,
      { stillPoison: expect.stringMatching(/reached the new table during the retry/) },
    ],
    [
      'a foreign item kept',
      { kind: 'foreign' },
      'keep',
      false,
      { resolution: PoisonResolution.KEPT_FOREIGN, count: 'keptForeign' },
    ],
    [
      'a foreign item refused',
      { kind: 'foreign' },
      'refuse',
      false,
      { stillPoison: expect.stringMatching(/foreignItems is 'refuse'/) },
    ],
    [
      'a refused write',
      { kind: 'failed', reason: 'too big' },
      'refuse',
      false,
      { stillPoison: 'write refused: too big' },
    ],
    ['no outcome', undefined, 'refuse', false, { stillPoison: 'write refused: no outcome' }],
  ])('settles %s', (_case, outcome, policy, waived, expected) => {
    expect(settleRetryWrite(outcome, policy, key, waived)).toEqual(expected);
  });
});
