import type { BackfillDeps } from '../../../lambdas/backfill/context';
import type { PoisonPayload } from '../../../core/backfill';
import { makePoisonHandler } from '../../../lambdas/backfill/poison';
import { usersMigration } from '../../../examples/users/migration';

describe('Function: makePoisonHandler (input)', () => {
  // Refused before any store is touched: only the migration is needed.
  const handler = makePoisonHandler({ migration: usersMigration } as unknown as BackfillDeps);

  it.each<[string, unknown, RegExp]>([
    [
      'an unknown operation',
      { operation: 'delete' },
      /operation must be 'list', 'retry', 'waive' or 'pin', not "delete"/,
    ],
    ['a retry without an actor', { operation: 'retry' }, /retry needs an actor/],
    [
      'a retry with an unknown foreignItems',
      { operation: 'retry', actor: 'a', foreignItems: 'x' },
      /foreignItems must be/,
    ],
    [
      'a waiver without a reason',
      { operation: 'waive', actor: 'a', keys: [{ userId: { S: 'u' } }] },
      /waive needs a reason/,
    ],
    ['a waiver without keys', { operation: 'waive', actor: 'a', reason: 'r', keys: [] }, /waive needs keys/],
    [
      'a waiver of a key with other attributes',
      { operation: 'waive', actor: 'a', reason: 'r', keys: [{ userId: { S: 'u' }, x: { S: '1' } }] },
      /is not a legacy key: it must have exactly the attributes userId/,
    ],
    [
      'a waiver of a key without the key attribute',
      { operation: 'waive', actor: 'a', reason: 'r', keys: [{ id: { S: 'u' } }] },
      /is not a legacy key/,
    ],
  ])('refuses %s with BackfillInputError', async (_case, payload, message) => {
    // Act
    const out = handler(payload as PoisonPayload);

    // Assess
    await expect(out).rejects.toMatchObject({
      name: 'BackfillInputError',
      message: expect.stringMatching(message),
    });
  });
});
