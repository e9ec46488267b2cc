/**
 * The routing decision (core/read/routing.ts): the routing table checked for every combination of its
 * inputs, its invariants over the table, the cases the table leaves out (strong comparison, mode new,
 * no STATE, a hedge won by legacy, query pages), and properties over arbitrary inputs.
 */
import fc from 'fast-check';
import {
  COHORT_BUCKETS,
  MODES_BY_STRICTNESS,
  STRICTNESS,
  phaseDefaultMode,
  type BreakerView,
  type NewRead,
  type RouteDecision,
  type RouteInput,
  RouteReason,
  decideRoute,
  hedgedToLegacy,
} from '../../../core/read';
import { PHASE_ORDER, Phase } from '../../../core/control';
import { ConsistencyMode } from '../../../core/model';
import {
  BUDGET,
  arbRouteClocks,
  CACHE_AGE,
  type Case,
  FRESHNESS,
  type Freshness,
  NOW,
  SKEW,
  inputOf,
  newPrimaryInput,
} from '../../helpers/route-input';

const REQUESTS: ReadonlyArray<ConsistencyMode | undefined> = [undefined, ...MODES_BY_STRICTNESS];
const NEW_READS: readonly NewRead[] = ['unknown', 'present', 'tombstone', 'absent', 'failed'];
const BREAKERS: readonly BreakerView[] = ['closed', 'half-open', 'open'];

function* allCases(): Generator<Case> {
  for (const phase of PHASE_ORDER)
    for (const requested of REQUESTS)
      for (const freshness of Object.keys(FRESHNESS) as Freshness[])
        for (const newRead of NEW_READS)
          for (const breaker of BREAKERS)
            for (const backfillComplete of [false, true])
              for (const inCohort of [false, true])
                for (const sampled of [false, true])
                  yield {
                    phase,
                    requested,
                    freshness,
                    newRead,
                    breaker,
                    backfillComplete,
                    inCohort,
                    sampled,
                  };
}

/**
 * The routing table, written as the table of docs/architecture.md ("Routing") reads, one rule per line in priority order. It is
 * the specification the implementation is checked against for every combination.
 */
function expectedReason(c: Case): RouteReason {
  const def = phaseDefaultMode(c.phase, ConsistencyMode.BOUNDED);
  const mode = c.requested && STRICTNESS[c.requested] >= STRICTNESS[def] ? c.requested : def;
  const fresh = FRESHNESS[c.freshness];
  if (c.phase === Phase.LEGACY_ONLY) return RouteReason.PHASE_LEGACY_ONLY;
  if (c.phase === Phase.FINALIZED)
    return c.newRead === 'failed' ? RouteReason.FINALIZED_NEW_FAILED : RouteReason.FINALIZED_NEW_ONLY;
  if (mode === 'legacy') return RouteReason.MODE_LEGACY;
  if (mode === 'shadow') return RouteReason.MODE_SHADOW;
  if (c.phase === Phase.DUAL_READ && !c.inCohort) return RouteReason.NOT_IN_ROLLOUT;
  if (c.breaker === 'open') return RouteReason.NEW_UNAVAILABLE;
  if (mode === 'strong')
    return c.newRead === 'failed' ? RouteReason.NEW_FAILED_FALLBACK : RouteReason.STRONG_PENDING;
  if (mode === 'new') return c.newRead === 'failed' ? RouteReason.NEW_FAILED_FALLBACK : RouteReason.MODE_NEW;
  if ('readAfter' in fresh && fresh.frontier - SKEW <= fresh.readAfter)
    return RouteReason.READ_AFTER_NOT_REACHED;
  if (fresh.frontier === 0) return RouteReason.NO_FRONTIER;
  if (NOW - (fresh.frontier - SKEW) + CACHE_AGE > BUDGET) return RouteReason.FRONTIER_TOO_OLD;
  if (c.newRead === 'failed') return RouteReason.NEW_FAILED_FALLBACK;
  if (c.backfillComplete) return RouteReason.FRESH_BACKFILL_COMPLETE;
  return {
    unknown: RouteReason.FRESH_IF_PRESENT,
    present: RouteReason.FRESH_ITEM_IN_NEW,
    tombstone: RouteReason.FRESH_TOMBSTONE_IN_NEW,
    absent: RouteReason.ABSENT_IN_NEW_BACKFILL_INCOMPLETE,
    failed: RouteReason.NEW_FAILED_FALLBACK,
  }[c.newRead];
}

const SERVES_NEW: readonly RouteReason[] = [
  RouteReason.FINALIZED_NEW_ONLY,
  RouteReason.FINALIZED_NEW_FAILED,
  RouteReason.MODE_NEW,
  RouteReason.FRESH_BACKFILL_COMPLETE,
  RouteReason.FRESH_IF_PRESENT,
  RouteReason.FRESH_ITEM_IN_NEW,
  RouteReason.FRESH_TOMBSTONE_IN_NEW,
];

describe('Function: decideRoute', () => {
  const cases = [...allCases()];

  it('covers every phase × mode × freshness × presence × breaker × backfill × cohort × sample combination', () => {
    expect(cases.length).toBe(6 * 6 * 6 * 5 * 3 * 2 * 2 * 2);
  });

  it('gives the reason and route of the routing table for every combination', () => {
    const wrong: string[] = [];
    const counts: Record<string, number> = {};
    for (const c of cases) {
      const d = decideRoute(inputOf(c));
      const reason = expectedReason(c);
      const route = SERVES_NEW.includes(reason) ? 'new' : 'legacy';
      counts[reason] = (counts[reason] ?? 0) + 1;
      if (d.reason !== reason || d.route !== route)
        wrong.push(`${JSON.stringify(c)} → ${d.route}/${d.reason}, expected ${route}/${reason}`);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    // Every reason a single-key read can produce occurs in the table.
    expect(Object.keys(counts).sort()).toEqual(
      [
        'ABSENT_IN_NEW_BACKFILL_INCOMPLETE',
        'FINALIZED_NEW_FAILED',
        'FINALIZED_NEW_ONLY',
        'FRESH_BACKFILL_COMPLETE',
        'FRESH_IF_PRESENT',
        'FRESH_ITEM_IN_NEW',
        'FRESH_TOMBSTONE_IN_NEW',
        'FRONTIER_TOO_OLD',
        'MODE_LEGACY',
        'MODE_SHADOW',
        'NEW_FAILED_FALLBACK',
        'NEW_UNAVAILABLE',
        'NOT_IN_ROLLOUT',
        'NO_FRONTIER',
        'PHASE_LEGACY_ONLY',
        'READ_AFTER_NOT_REACHED',
        'STRONG_PENDING',
      ].sort(),
    );
  });

  it('serves a bounded read from new only when fresh, in the cohort, past read-after and the key is proven (invariant 5)', () => {
    for (const c of cases) {
      const d = decideRoute(inputOf(c));
      if (d.route !== 'new' || d.mode !== 'bounded') continue;
      expect(d.stalenessBoundMs).not.toBeNull();
      expect(d.stalenessBoundMs as number).toBeLessThanOrEqual(BUDGET);
      expect(c.breaker).not.toBe('open');
      expect(['fresh', 'atBudget', 'readAfterBehind']).toContain(c.freshness);
      expect(c.backfillComplete || ['present', 'tombstone'].includes(c.newRead) || d.confirm).toBe(true);
      expect(c.newRead).not.toBe('failed');
      if (c.phase === Phase.DUAL_READ) expect(c.inCohort).toBe(true);
    }
  });

  it('claims a staleness bound in FINALIZED and mode new only when the frontier and the key in new prove it', () => {
    // Unproven (no frontier; or backfill incomplete and the key not found in new): "unbounded", never 0.
    const claims: string[] = [];
    for (const c of cases) {
      const d = decideRoute(inputOf(c));
      if (d.route !== 'new' || (c.phase !== Phase.FINALIZED && d.mode !== 'new')) continue;
      const { frontier } = FRESHNESS[c.freshness];
      const proven =
        frontier > 0 &&
        c.newRead !== 'failed' &&
        (c.backfillComplete || c.newRead === 'present' || c.newRead === 'tombstone');
      const expected = proven ? NOW - (frontier - SKEW) + CACHE_AGE : null;
      if (d.stalenessBoundMs !== expected)
        claims.push(`${JSON.stringify(c)} → ${d.stalenessBoundMs}, expected ${expected}`);
    }
    expect(claims.slice(0, 5)).toEqual([]);
  });

  it('never touches new when the breaker is open or in LEGACY_ONLY (except FINALIZED, where new is all there is)', () => {
    for (const c of cases) {
      const d = decideRoute(inputOf(c));
      if (c.phase === Phase.FINALIZED) continue;
      if (c.breaker === 'open' || c.phase === Phase.LEGACY_ONLY) {
        expect(d.touchesNew).toBe(false);
        expect(d.route).toBe('legacy');
      }
    }
  });

  it('answers from legacy whenever new failed, outside FINALIZED', () => {
    for (const c of cases) {
      if (c.newRead !== 'failed' || c.phase === Phase.FINALIZED) continue;
      expect(decideRoute(inputOf(c)).route).toBe('legacy');
    }
  });

  it('never gives a request a looser mode than the phase default', () => {
    for (const c of cases) {
      const d = decideRoute(inputOf(c));
      if (c.phase === Phase.FINALIZED) {
        expect(d.mode).toBe('new');
        continue;
      }
      const def = phaseDefaultMode(c.phase, ConsistencyMode.BOUNDED);
      expect(STRICTNESS[d.mode]).toBeGreaterThanOrEqual(STRICTNESS[def]);
      expect(d.clamped).toBe(c.requested !== undefined && STRICTNESS[c.requested] < STRICTNESS[def]);
    }
  });

  it('shadow-compares explicit shadow reads always and default reads of BACKFILLING and SHADOW by sample, only with a closed breaker', () => {
    for (const c of cases) {
      const d = decideRoute(inputOf(c));
      const explicitShadow = c.requested === 'shadow' && d.mode === 'shadow';
      const defaultSampled =
        (c.requested === undefined || d.clamped) &&
        (c.phase === Phase.BACKFILLING || c.phase === Phase.SHADOW) &&
        c.sampled;
      const expected =
        c.phase !== Phase.LEGACY_ONLY &&
        c.phase !== Phase.FINALIZED &&
        c.breaker === 'closed' &&
        (explicitShadow || defaultSampled);
      expect(d.shadow).toBe(expected);
    }
  });

  it('allows a hedge to legacy exactly when new serves a bounded or new-mode read before FINALIZED', () => {
    for (const c of cases) {
      const d = decideRoute(inputOf(c));
      expect(d.hedge).toBe(
        d.route === 'new' && (d.mode === 'bounded' || d.mode === 'new') && c.phase !== Phase.FINALIZED,
      );
    }
  });

  it('serves a strong read from new only when both stores agreed', () => {
    const base = newPrimaryInput({
      requested: 'strong',
      freshness: 'stale',
      newRead: 'present',
      backfillComplete: false,
    });
    expect(decideRoute({ ...base, comparison: 'equal' })).toMatchObject({
      route: 'new',
      reason: 'STRONG_EQUAL',
      stalenessBoundMs: 0,
    });
    expect(decideRoute({ ...base, comparison: 'different' })).toMatchObject({
      route: 'legacy',
      reason: 'STRONG_DIFFERENT',
    });
    expect(decideRoute({ ...base, comparison: 'unknown' })).toMatchObject({
      route: 'legacy',
      readBoth: true,
    });
  });

  it('serves mode new (a default defineMigration refuses; decideRoute stays honest) with no freshness check and no unproven bound, and falls back when new fails', () => {
    const base = {
      ...newPrimaryInput({ freshness: 'stale', newRead: 'absent', backfillComplete: false }),
      migrationDefault: ConsistencyMode.NEW,
    };
    expect(decideRoute(base)).toMatchObject({
      route: 'new',
      reason: 'MODE_NEW',
      hedge: true,
      stalenessBoundMs: null,
    });
    expect(decideRoute({ ...base, newRead: 'present' })).toMatchObject({
      route: 'new',
      stalenessBoundMs: BUDGET + 1,
    });
    expect(decideRoute({ ...base, newRead: 'present', frontier: 0 })).toMatchObject({
      route: 'new',
      stalenessBoundMs: null,
    });
    expect(decideRoute({ ...base, newRead: 'failed' })).toMatchObject({
      route: 'legacy',
      reason: 'NEW_FAILED_FALLBACK',
    });
  });

  it('routes to legacy with CONTROL_UNAVAILABLE when no STATE could be read', () => {
    const d = decideRoute({ ...inputOf(cases[0] as Case), phase: undefined });
    expect(d).toMatchObject({ route: 'legacy', reason: 'CONTROL_UNAVAILABLE', touchesNew: false });
  });

  it('reports a hedge won by legacy with bound 0', () => {
    const d = decideRoute(newPrimaryInput());
    expect(hedgedToLegacy(d)).toMatchObject({
      route: 'legacy',
      reason: 'HEDGED_TO_LEGACY',
      stalenessBoundMs: 0,
    });
  });

  describe('queries', () => {
    const q = (over: Partial<RouteInput>): RouteDecision =>
      decideRoute({ ...newPrimaryInput(), kind: 'query', ...over });

    it('serves a query from new only after backfill completes, and never hedges it', () => {
      expect(q({})).toMatchObject({ route: 'new', reason: 'FRESH_BACKFILL_COMPLETE', hedge: false });
      expect(q({ backfillComplete: false })).toMatchObject({
        route: 'legacy',
        reason: 'QUERY_NEEDS_BACKFILL_COMPLETE',
      });
      expect(q({ queryMappable: false })).toMatchObject({ route: 'legacy', reason: 'QUERY_NOT_MAPPABLE' });
      expect(q({ requested: 'strong' })).toMatchObject({
        route: 'legacy',
        reason: 'STRONG_QUERY_FROM_LEGACY',
        shadow: false,
      });
    });

    it('keeps a page sequence on its store, and announces every switch', () => {
      expect(q({ pinned: 'legacy' })).toMatchObject({ route: 'legacy', reason: 'PAGE_PINNED' });
      expect(q({ pinned: 'new' })).toMatchObject({ route: 'new', reason: 'FRESH_BACKFILL_COMPLETE' });
      expect(q({ pinned: 'new', frontier: 0 })).toMatchObject({
        route: 'legacy',
        reason: 'PAGE_SWITCHED_TO_LEGACY',
      });
      expect(q({ pinned: 'new', phase: Phase.SHADOW })).toMatchObject({
        route: 'legacy',
        reason: 'PAGE_SWITCHED_TO_LEGACY',
      });
      expect(q({ pinned: 'legacy', phase: Phase.FINALIZED })).toMatchObject({
        route: 'new',
        reason: 'PAGE_SWITCHED_TO_NEW',
      });
    });
  });
});

const arbInput: fc.Arbitrary<RouteInput> = fc.record(
  {
    phase: fc.option(fc.constantFrom(...PHASE_ORDER), { nil: undefined }),
    rolloutPercent: fc.integer({ min: 0, max: 100 }),
    bucket: fc.integer({ min: 0, max: COHORT_BUCKETS - 1 }),
    migrationDefault: fc.constantFrom(...MODES_BY_STRICTNESS),
    requested: fc.option(fc.constantFrom(...MODES_BY_STRICTNESS), { nil: undefined }),
    ...arbRouteClocks,
    readAfter: fc.option(fc.integer({ min: 0, max: 2e12 }), { nil: undefined }),
    backfillComplete: fc.boolean(),
    newRead: fc.constantFrom(...NEW_READS),
    comparison: fc.constantFrom('unknown' as const, 'equal' as const, 'different' as const),
    breaker: fc.constantFrom(...BREAKERS),
    sample: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    shadowSampleRate: fc.double({ min: 0, max: 1, noNaN: true }),
    kind: fc.constantFrom('get' as const, 'query' as const),
    queryMappable: fc.boolean(),
    pinned: fc.option(fc.constantFrom('legacy' as const, 'new' as const), { nil: undefined }),
    keyPinned: fc.boolean(),
  },
  {
    requiredKeys: [
      'phase',
      'rolloutPercent',
      'bucket',
      'migrationDefault',
      'now',
      'frontier',
      'clockSkewMs',
      'controlCacheAgeMs',
      'stalenessBudgetMs',
      'backfillComplete',
      'newRead',
      'breaker',
      'sample',
      'shadowSampleRate',
    ],
  },
);

describe('Property: routing', () => {
  it('gives identical decisions for identical inputs', () => {
    fc.assert(
      fc.property(arbInput, (input) => {
        expect(decideRoute(structuredClone(input))).toEqual(decideRoute(input));
      }),
      { numRuns: 2_000 },
    );
  });

  it('never serves a bounded read from new older than the budget or before read-after', () => {
    fc.assert(
      fc.property(arbInput, (input) => {
        const d = decideRoute(input);
        if (d.route === 'new' && d.mode === 'bounded' && input.phase !== Phase.FINALIZED) {
          expect(input.frontier).toBeGreaterThan(0);
          expect(
            input.now - (input.frontier - input.clockSkewMs) + input.controlCacheAgeMs,
          ).toBeLessThanOrEqual(input.stalenessBudgetMs);
          if (input.readAfter !== undefined)
            expect(input.frontier - input.clockSkewMs).toBeGreaterThan(input.readAfter);
        }
      }),
      { numRuns: 5_000 },
    );
  });

  it('serves a key pinned to legacy from legacy in every phase before FINALIZED, never reading new', () => {
    fc.assert(
      fc.property(arbInput, fc.constantFrom(...NEW_READS), (input, after) => {
        const pinnedInput = { ...input, keyPinned: true };
        for (const d of [decideRoute(pinnedInput), decideRoute({ ...pinnedInput, newRead: after })]) {
          if (input.phase === Phase.FINALIZED) {
            expect(d.route).toBe('new');
            continue;
          }
          expect(d.route).toBe('legacy');
          expect(d.touchesNew || d.readBoth || d.confirm || d.shadow).toBe(false);
          // A page sequence on new moves to legacy, announced as a switch.
          if (input.phase !== undefined && input.phase !== Phase.LEGACY_ONLY)
            expect([
              RouteReason.PINNED_TO_LEGACY,
              RouteReason.PAGE_PINNED,
              RouteReason.PAGE_SWITCHED_TO_LEGACY,
            ]).toContain(d.reason);
        }
      }),
      { numRuns: 3_000 },
    );
  });
});
