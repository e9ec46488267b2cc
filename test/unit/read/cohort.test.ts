/** Rollout cohorts (core/read/cohort.ts): the share of keys in a cohort, stability, the pinned hash. */
import fc from 'fast-check';
import { COHORT_BUCKETS, cohortBucket, inRollout } from '../../../core/read';

describe('Function: cohortBucket', () => {
  const keys = Array.from({ length: 100_000 }, (_, i) => `user-${i}`);

  it('puts p % of 100k keys within ±1 point of p % in the cohort, for any salt and p', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 12 }),
        fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 5, maxLength: 5 }),
        (salt, ps) => {
          const buckets = keys.map((k) => cohortBucket(salt, k));
          for (const p of ps) {
            const share = (buckets.filter((b) => inRollout(b, p)).length / keys.length) * 100;
            expect(Math.abs(share - p)).toBeLessThanOrEqual(1);
          }
        },
      ),
      { numRuns: 4 },
    );
  });

  it('is stable: same salt and key, same bucket; cohorts only grow with the percentage', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 100 }),
        (salt, key, p1, p2) => {
          const b = cohortBucket(salt, key);
          expect(cohortBucket(salt, key)).toBe(b);
          expect(b).toBeGreaterThanOrEqual(0);
          expect(b).toBeLessThan(COHORT_BUCKETS);
          if (p1 <= p2 && inRollout(b, p1)) expect(inRollout(b, p2)).toBe(true);
        },
      ),
    );
  });

  it('is the documented SHA-256 bucket (pinned, so a code change cannot reshuffle cohorts)', () => {
    expect(cohortBucket('users', 'u-1')).toBe(cohortBucket('users', 'u-1'));
    expect([cohortBucket('users', 'u-1'), cohortBucket('users', 'u-2'), cohortBucket('other', 'u-1')])
      .toMatchInlineSnapshot(`
     [
       6861,
       9722,
       7172,
     ]
    `);
  });
});
