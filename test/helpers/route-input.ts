/**
 * Routing inputs for the tests of the routing decision (core/read): a fixed clock, budget, skew and
 * control cache age, the freshness situations of the frontier and X-Read-After, and `inputOf` one
 * case (a phase, a requested mode, a freshness, what new gave, the breaker, backfill, cohort, sample).
 */
import fc from 'fast-check';
import { Phase } from '../../core/control';
import { ConsistencyMode } from '../../core/model';
import type { BreakerView, NewRead, RouteInput } from '../../core/read';

export const NOW = 1_700_000_000_000;
export const BUDGET = 5_000;
export const SKEW = 1_000;
export const CACHE_AGE = 400;

/** Freshness situations of the frontier and X-Read-After. */
export const FRESHNESS = {
  fresh: { frontier: NOW - 1_000 },
  atBudget: { frontier: NOW + SKEW + CACHE_AGE - BUDGET }, // bound exactly = budget: still fresh
  stale: { frontier: NOW + SKEW + CACHE_AGE - BUDGET - 1 }, // one ms over budget
  noFrontier: { frontier: 0 },
  readAfterAhead: { frontier: NOW - 1_000, readAfter: NOW - 1_000 - SKEW }, // F − skew == readAfter: not past
  readAfterBehind: { frontier: NOW - 1_000, readAfter: NOW - 1_000 - SKEW - 1 },
} as const;
export type Freshness = keyof typeof FRESHNESS;

export const ROLLOUT_BUCKET = 4_999; // rollout 50 %: bucket 4999 is in, 5000 is out

/** One combination of the routing table. */
export interface Case {
  readonly phase: Phase;
  readonly requested: ConsistencyMode | undefined;
  readonly freshness: Freshness;
  readonly newRead: NewRead;
  readonly breaker: BreakerView;
  readonly backfillComplete: boolean;
  readonly inCohort: boolean;
  readonly sampled: boolean;
}

/** The routing input of a case. */
export function inputOf(c: Case): RouteInput {
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

/**
 * The routing input of a default read in NEW_PRIMARY — fresh frontier, nothing read from new yet,
 * breaker closed, backfill complete, in the cohort, not sampled — with `over` changed.
 */
export function newPrimaryInput(over: Partial<Case> = {}): RouteInput {
  return inputOf({
    phase: Phase.NEW_PRIMARY,
    requested: undefined,
    freshness: 'fresh',
    newRead: 'unknown',
    breaker: 'closed',
    backfillComplete: true,
    inCohort: true,
    sampled: false,
    ...over,
  });
}

/**
 * fast-check generators of a routing input's clocks, for the routing properties: the time, the
 * published frontier, the clock-skew margin, the control cache's age and the staleness budget.
 */
export const arbRouteClocks = {
  now: fc.integer({ min: 1, max: 2e12 }),
  frontier: fc.integer({ min: 0, max: 2e12 }),
  clockSkewMs: fc.integer({ min: 0, max: 60_000 }),
  controlCacheAgeMs: fc.integer({ min: 0, max: 5_000 }),
  stalenessBudgetMs: fc.integer({ min: 0, max: 100_000 }),
};
