/**
 * Per-surface rollout (issue 16, item 4): a surface's queries route under the lower of the rollout and
 * the surface's own limit. Property-tested over every routing input of DUAL_READ: a surface at 0 % is
 * never served from new (nor read both, nor hedged), and new serves a key only inside both rollouts.
 */
import fc from 'fast-check';
import { InvalidControlRequestError, Phase, initialState, planSurfaceRollout } from '../../../core/control';
import { ConsistencyMode } from '../../../core/model';
import {
  COHORT_BUCKETS,
  MODES_BY_STRICTNESS,
  type RouteInput,
  Store,
  decideRoute,
  inRollout,
  surfaceRolloutPercent,
} from '../../../core/read';
import { arbRouteClocks } from '../../helpers/route-input';

const dualRead: fc.Arbitrary<RouteInput> = fc.record({
  phase: fc.constant(Phase.DUAL_READ),
  rolloutPercent: fc.integer({ min: 0, max: 100 }),
  bucket: fc.integer({ min: 0, max: COHORT_BUCKETS - 1 }),
  migrationDefault: fc.constantFrom(ConsistencyMode.BOUNDED, ConsistencyMode.STRONG),
  requested: fc.option(fc.constantFrom(...MODES_BY_STRICTNESS), { nil: undefined }),
  ...arbRouteClocks,
  backfillComplete: fc.boolean(),
  newRead: fc.constantFrom('unknown' as const, 'present' as const, 'absent' as const, 'failed' as const),
  comparison: fc.constantFrom('unknown' as const, 'equal' as const, 'different' as const),
  breaker: fc.constantFrom('closed' as const, 'half-open' as const, 'open' as const),
  sample: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
  shadowSampleRate: fc.double({ min: 0, max: 1, noNaN: true }),
  kind: fc.constant('query' as const),
  queryMappable: fc.boolean(),
  pageComparable: fc.boolean(),
  indexMarginMs: fc.integer({ min: 0, max: 2_000 }),
});

describe('Function: surfaceRolloutPercent with decideRoute (property)', () => {
  it('never serves new to a surface at 0 %, whatever the rollout, mode, freshness or breaker', () => {
    fc.assert(
      fc.property(dualRead, (input) => {
        const d = decideRoute({ ...input, rolloutPercent: surfaceRolloutPercent(input.rolloutPercent, 0) });
        expect([d.route, d.readBoth, d.hedge, d.confirm]).toEqual([Store.LEGACY, false, false, false]);
      }),
    );
  });

  it('serves new only to a key inside both the rollout and the surface limit; no limit changes nothing', () => {
    fc.assert(
      fc.property(dualRead, fc.integer({ min: 0, max: 100 }), (input, limit) => {
        const limited = decideRoute({
          ...input,
          rolloutPercent: surfaceRolloutPercent(input.rolloutPercent, limit),
        });
        if (limited.route === Store.NEW) {
          expect(inRollout(input.bucket, input.rolloutPercent)).toBe(true);
          expect(inRollout(input.bucket, limit)).toBe(true);
        }
        expect(
          decideRoute({ ...input, rolloutPercent: surfaceRolloutPercent(input.rolloutPercent, undefined) }),
        ).toEqual(decideRoute(input));
      }),
    );
  });
});

describe('Function: planSurfaceRollout', () => {
  const state = { ...initialState('users', 0, 1), phase: Phase.DUAL_READ, rolloutPercent: 50, version: 3 };
  const ctx = { now: 1_000, actor: 'alice@host' };

  it('writes the limit under settings.surfaces, keeping the other overrides, audited as a rollout of that surface', () => {
    const change = planSurfaceRollout(
      { ...state, settings: { stalenessBudgetMs: 9000 } },
      'by-email',
      0,
      'GSI1 backfill of a new attribute',
      ctx,
      ['base', 'by-email'],
    );
    expect(change.state.settings).toEqual({
      stalenessBudgetMs: 9000,
      surfaces: { 'by-email': { rollout: 0 } },
    });
    expect(change.state.rolloutPercent).toBe(50);
    expect(change.audit).toMatchObject({
      action: 'rollout',
      from: 'unlimited',
      to: '0',
      detail: { surface: 'by-email' },
      reason: 'GSI1 backfill of a new attribute',
      actor: 'alice@host',
    });
  });

  it('refuses an undeclared surface and a percent outside 0..100', () => {
    expect(() => planSurfaceRollout(state, 'by-name', 0, '', ctx, ['base', 'by-email'])).toThrow(
      new InvalidControlRequestError(
        'unknown query surface "by-name"; this migration declares "base", "by-email"',
      ),
    );
    expect(() => planSurfaceRollout(state, 'by-email', 101, '', ctx, ['by-email'])).toThrow(
      /integer from 0 to 100, not 101/,
    );
  });
});
