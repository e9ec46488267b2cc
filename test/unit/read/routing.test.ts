import fc from 'fast-check';
import {
  COHORT_BUCKETS,
  cohortBucket,
  inRollout,
  MODES_BY_STRICTNESS,
  STRICTNESS,
  effectiveMode,
  phaseDefaultMode,
  type BreakerView,
  type NewRead,
  type RouteDecision,
  type RouteInput,
  READ_AFTER_FUTURE_SLACK_MS,
  READ_AFTER_MIN_MS,
  RouteReason,
  decideRoute,
  hedgedToLegacy,
  readAfterProblem,
} from '../../../core/read';
import { PHASE_ORDER, Phase } from '../../../core/control';
import { ConsistencyMode } from '../../../core/model';

const NOW = 1_700_000_000_000;
const BUDGET = 5_000;
const SKEW = 1_000;
const CACHE_AGE = 400;

/** Freshness situations of the frontier and X-Read-After. */
const FRESHNESS = {
  fresh: { frontier: NOW - 1_000 },
  atBudget: { frontier: NOW + SKEW + CACHE_AGE - BUDGET }, // bound exactly = budget: still fresh
  stale: { frontier: NOW + SKEW + CACHE_AGE - BUDGET - 1 }, // one ms over budget
  noFrontier: { frontier: 0 },
  readAfterAhead: { frontier: NOW - 1_000, readAfter: NOW - 1_000 - SKEW }, // F − skew == readAfter: not past
  readAfterBehind: { frontier: NOW - 1_000, readAfter: NOW - 1_000 - SKEW - 1 },
} as const;
type Freshness = keyof typeof FRESHNESS;

const REQUESTS: ReadonlyArray<ConsistencyMode | undefined> = [undefined, ...MODES_BY_STRICTNESS];
const NEW_READS: readonly NewRead[] = ['unknown', 'present', 'tombstone', 'absent', 'failed'];
const BREAKERS: readonly BreakerView[] = ['closed', 'half-open', 'open'];
const ROLLOUT_BUCKET = 4_999; // rollout 50 %: bucket 4999 is in, 5000 is out

interface Case {
  readonly phase: Phase;
  readonly requested: ConsistencyMode | undefined;
  readonly freshness: Freshness;
  readonly newRead: NewRead;
  readonly breaker: BreakerView;
  readonly backfillComplete: boolean;
  readonly inCohort: boolean;
  readonly sampled: boolean;
}

function inputOf(c: Case): RouteInput {
  return {
    phase: c.phase,
    rolloutPercent: 50,
    bucket: c.inCohort ? ROLLOUT_BUCKET : ROLLOUT_BUCKET + 1,
    migrationDefault: ConsistencyMode.BOUNDED,
    ...(c.requested ? { requested: c.requested } : {}),
    now: NOW,
    clockSkewMs: SKEW,
    controlCacheAgeMs: CACHE_AGE,
    stalenessBudgetMs: BUDGET,
    backfillComplete: c.backfillComplete,
    newRead: c.newRead,
    breaker: c.breaker,
    sample: c.sampled ? 0.01 : 0.99,
    shadowSampleRate: 0.05,
    ...FRESHNESS[c.freshness],
  };
}

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
    const base = inputOf({
      phase: Phase.NEW_PRIMARY,
      requested: 'strong',
      freshness: 'stale',
      newRead: 'present',
      breaker: 'closed',
      backfillComplete: false,
      inCohort: true,
      sampled: false,
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
      ...inputOf({
        phase: Phase.NEW_PRIMARY,
        requested: undefined,
        freshness: 'stale',
        newRead: 'absent',
        breaker: 'closed',
        backfillComplete: false,
        inCohort: true,
        sampled: false,
      }),
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
    const d = decideRoute(
      inputOf({
        phase: Phase.NEW_PRIMARY,
        requested: undefined,
        freshness: 'fresh',
        newRead: 'unknown',
        breaker: 'closed',
        backfillComplete: true,
        inCohort: true,
        sampled: false,
      }),
    );
    expect(hedgedToLegacy(d)).toMatchObject({
      route: 'legacy',
      reason: 'HEDGED_TO_LEGACY',
      stalenessBoundMs: 0,
    });
  });

  describe('queries', () => {
    const q = (over: Partial<RouteInput>): RouteDecision =>
      decideRoute({
        ...inputOf({
          phase: Phase.NEW_PRIMARY,
          requested: undefined,
          freshness: 'fresh',
          newRead: 'unknown',
          breaker: 'closed',
          backfillComplete: true,
          inCohort: true,
          sampled: false,
        }),
        kind: 'query',
        ...over,
      });

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

describe('Function: effectiveMode', () => {
  it('grants a stricter mode and clamps a looser one to the default', () => {
    expect(effectiveMode('bounded', 'strong')).toEqual({ mode: 'strong', clamped: false, explicit: true });
    expect(effectiveMode('shadow', 'bounded')).toEqual({ mode: 'shadow', clamped: true, explicit: false });
    expect(effectiveMode('legacy', undefined)).toEqual({ mode: 'legacy', clamped: false, explicit: false });
  });
});

const arbInput: fc.Arbitrary<RouteInput> = fc.record(
  {
    phase: fc.option(fc.constantFrom(...PHASE_ORDER), { nil: undefined }),
    rolloutPercent: fc.integer({ min: 0, max: 100 }),
    bucket: fc.integer({ min: 0, max: COHORT_BUCKETS - 1 }),
    migrationDefault: fc.constantFrom(...MODES_BY_STRICTNESS),
    requested: fc.option(fc.constantFrom(...MODES_BY_STRICTNESS), { nil: undefined }),
    now: fc.integer({ min: 1, max: 2e12 }),
    frontier: fc.integer({ min: 0, max: 2e12 }),
    clockSkewMs: fc.integer({ min: 0, max: 60_000 }),
    controlCacheAgeMs: fc.integer({ min: 0, max: 5_000 }),
    stalenessBudgetMs: fc.integer({ min: 0, max: 100_000 }),
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
});

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
