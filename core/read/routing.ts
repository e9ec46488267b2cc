/**
 * The routing decision of the read path (docs/correctness.md "Read safety"): from the phase, the key's cohort
 * bucket, the consistency mode, the frontier, backfill completion, what is known about the key in the
 * new table and the new store's circuit breaker, decide which store serves a read and why.
 *
 * The decision is made in up to two steps, both by `decideRoute`:
 *
 * 1. before any read, with `newRead: 'unknown'` (and `comparison: 'unknown'`): the result says which
 *    store serves, whether that is final or must be confirmed by reading new (`confirm`), and what
 *    else to read (shadow, hedge, both);
 * 2. after reading new, with what was found (`present`, `tombstone`, `absent`, `failed`) or, in
 *    strong mode, whether the two stores agreed: the result is final.
 *
 * Read safety (invariant 5). A bounded read is served from new only when
 *   (a) the key's item or tombstone exists in new, or backfill is complete, and
 *   (b) age = now − (F − clockSkew) + controlCacheAge ≤ stalenessBudget, and
 *   (c) F − clockSkew > readAfter, when the request carries X-Read-After, and
 *   (d) the key is not pinned to legacy, nor the query one that could contain a pinned item (`pins.ts`);
 * otherwise from legacy. Every failure of new falls back to legacy, except in FINALIZED, where
 * legacy may be retired. The bound and the X-Read-After range are in `freshness.ts`; the breaker's
 * admission of a request in `admission.ts`.
 */
import { inRollout } from './cohort';
import { effectiveMode, phaseDefaultMode } from './consistency';
import { Phase } from '../control';
import { ConsistencyMode } from '../model';
import { type NewRead, provenBound, stalenessBound } from './freshness';

/** A store of the read path. */
export const Store = { LEGACY: 'legacy', NEW: 'new' } as const;
export type Store = (typeof Store)[keyof typeof Store];

/** Why a read went where it went. Every response carries one of these in `X-Route-Reason`. */
export const RouteReason = {
  /** No STATE item could be read (never initialized, or the control table is unreachable). */
  CONTROL_UNAVAILABLE: 'CONTROL_UNAVAILABLE',
  /** LEGACY_ONLY: the new table is not in play yet. */
  PHASE_LEGACY_ONLY: 'PHASE_LEGACY_ONLY',
  /** FINALIZED: new only (legacy may be retired). */
  FINALIZED_NEW_ONLY: 'FINALIZED_NEW_ONLY',
  /** FINALIZED and the new table failed: nothing else may answer. */
  FINALIZED_NEW_FAILED: 'FINALIZED_NEW_FAILED',
  /** Mode `legacy`. */
  MODE_LEGACY: 'MODE_LEGACY',
  /** Mode `shadow`: legacy serves, new may be read to compare. */
  MODE_SHADOW: 'MODE_SHADOW',
  /** DUAL_READ and the routing key's bucket is outside `rolloutPercent`. */
  NOT_IN_ROLLOUT: 'NOT_IN_ROLLOUT',
  /** The new store's circuit breaker is open. */
  NEW_UNAVAILABLE: 'NEW_UNAVAILABLE',
  /** X-Read-After is not yet covered by the frontier. */
  READ_AFTER_NOT_REACHED: 'READ_AFTER_NOT_REACHED',
  /** No frontier has been published yet. */
  NO_FRONTIER: 'NO_FRONTIER',
  /** now − (F − skew) + cache age exceeds the staleness budget. */
  FRONTIER_TOO_OLD: 'FRONTIER_TOO_OLD',
  /** Fresh, and backfill is complete: new holds every key's state (or its absence). */
  FRESH_BACKFILL_COMPLETE: 'FRESH_BACKFILL_COMPLETE',
  /** Fresh, backfill incomplete: new serves if it holds the key (item or tombstone); to be confirmed. */
  FRESH_IF_PRESENT: 'FRESH_IF_PRESENT',
  /** Fresh and the key's item is in new. */
  FRESH_ITEM_IN_NEW: 'FRESH_ITEM_IN_NEW',
  /** Fresh and the key's tombstone is in new (served as not found). */
  FRESH_TOMBSTONE_IN_NEW: 'FRESH_TOMBSTONE_IN_NEW',
  /** The key is absent from new and backfill is incomplete: absence proves nothing. */
  ABSENT_IN_NEW_BACKFILL_INCOMPLETE: 'ABSENT_IN_NEW_BACKFILL_INCOMPLETE',
  /** The new store failed or timed out; legacy answered. */
  NEW_FAILED_FALLBACK: 'NEW_FAILED_FALLBACK',
  /** The hedged legacy read answered first. */
  HEDGED_TO_LEGACY: 'HEDGED_TO_LEGACY',
  /** A query cannot prove per-key presence: new serves queries only after backfill completes. */
  QUERY_NEEDS_BACKFILL_COMPLETE: 'QUERY_NEEDS_BACKFILL_COMPLETE',
  /** The key mapping does not let a legacy query run on the new table. */
  QUERY_NOT_MAPPABLE: 'QUERY_NOT_MAPPABLE',
  /** Strong query: served from legacy (legacy is authoritative; a page cannot be proven equal). */
  STRONG_QUERY_FROM_LEGACY: 'STRONG_QUERY_FROM_LEGACY',
  /** Strong: both are being read; to be decided on comparison. */
  STRONG_PENDING: 'STRONG_PENDING',
  /** Strong: both agreed; served from new. */
  STRONG_EQUAL: 'STRONG_EQUAL',
  /** Strong: they differ; legacy is authoritative. */
  STRONG_DIFFERENT: 'STRONG_DIFFERENT',
  /** Mode `new` before FINALIZED: new serves with no freshness bound. */
  MODE_NEW: 'MODE_NEW',
  /** A query page continues on the store its token names. */
  PAGE_PINNED: 'PAGE_PINNED',
  /** A query page moved to legacy because new may no longer serve (announced, never silent). */
  PAGE_SWITCHED_TO_LEGACY: 'PAGE_SWITCHED_TO_LEGACY',
  /** A query page moved to new because the migration is FINALIZED. */
  PAGE_SWITCHED_TO_NEW: 'PAGE_SWITCHED_TO_NEW',
  /**
   * The key is pinned to legacy (an operator's audited decision, core/read/pins.ts), or a query could
   * contain a pinned item: new does not hold it, so only legacy may answer.
   */
  PINNED_TO_LEGACY: 'PINNED_TO_LEGACY',
} as const;
export type RouteReason = (typeof RouteReason)[keyof typeof RouteReason];

/** State of the new store's circuit breaker as seen by this request (see `core/read/breaker.ts`). */
export type BreakerView = 'closed' | 'open' | 'half-open';

/** Inputs of `decideRoute`. */
export interface RouteInput {
  /** Phase from STATE; undefined when no STATE could be read. */
  readonly phase: Phase | undefined;
  readonly rolloutPercent: number;
  /** Cohort bucket of the routing key (`cohortBucket`). */
  readonly bucket: number;
  /** The migration's `read.defaultConsistency`. */
  readonly migrationDefault: ConsistencyMode;
  /** Mode named by the request, if any. */
  readonly requested?: ConsistencyMode;
  /** Decision time, epoch ms. */
  readonly now: number;
  /** Frontier F, epoch ms (0 = none published). */
  readonly frontier: number;
  readonly clockSkewMs: number;
  /** Age of the cached control state (STATE and FRONTIER), counted in the staleness bound. */
  readonly controlCacheAgeMs: number;
  /** Reads of a GSI: the index-propagation margin, counted in the staleness bound. @default 0 */
  readonly indexMarginMs?: number;
  readonly stalenessBudgetMs: number;
  /** X-Read-After, epoch ms. */
  readonly readAfter?: number;
  readonly backfillComplete: boolean;
  /** What reading new found; `unknown` before reading it. */
  readonly newRead: NewRead;
  /** Strong mode: whether both stores agreed (`unknown` before both were read). */
  readonly comparison?: 'unknown' | 'equal' | 'different';
  /**
   * Breaker view: `half-open` only when the breaker admitted this request as a probe; a request it
   * did not admit sees `open`.
   */
  readonly breaker: BreakerView;
  /** Uniform random number in [0, 1) drawn for this request (shadow sampling). */
  readonly sample: number;
  /** Share of default-mode reads shadow-compared in BACKFILLING and SHADOW. */
  readonly shadowSampleRate: number;
  /** `query` for a query page: presence per key cannot be proven. @default 'get' */
  readonly kind?: 'get' | 'query';
  /** Queries: whether the key mapping lets a legacy query run on new. @default true */
  readonly queryMappable?: boolean;
  /** Queries: the store a page token pins the sequence to. */
  readonly pinned?: Store;
  /**
   * Queries of a declared surface: the page can be compared between the stores (a first page), so
   * strong mode reads both and shadow mode samples it, as for single keys. @default false
   */
  readonly pageComparable?: boolean;
  /**
   * The key is pinned to legacy, or the query could contain a pinned item (`isKeyPinned`,
   * `isQueryPinned`): legacy serves in every phase before FINALIZED. @default false
   */
  readonly keyPinned?: boolean;
}

/** The routing decision. */
export interface RouteDecision {
  /** Effective consistency mode. */
  readonly mode: ConsistencyMode;
  /** True if the request asked for a looser mode than the phase default and got the default. */
  readonly clamped: boolean;
  /** Store that serves the answer. */
  readonly route: Store;
  readonly reason: RouteReason;
  /**
   * Upper bound of the age of the served state, ms: 0 when legacy (or, strong, content equal to
   * legacy's) serves; in mode `new` and FINALIZED only a bound the frontier and the key's state in new
   * prove (`provenBound`), else null: unbounded.
   */
  readonly stalenessBoundMs: number | null;
  /** `route` is `new` but must be confirmed: decide again with what reading new found. */
  readonly confirm: boolean;
  /** Read new too, without waiting for it, and compare (legacy serves). */
  readonly shadow: boolean;
  /** A hedged read to legacy after the hedge delay is allowed (its answer is acceptable). */
  readonly hedge: boolean;
  /** Read both and wait for both (strong). */
  readonly readBoth: boolean;
  /** The new store is read at all for this request (for the breaker and metrics). */
  readonly touchesNew: boolean;
}

const NEW_PHASES: readonly Phase[] = [Phase.DUAL_READ, Phase.NEW_PRIMARY];

function legacy(
  mode: ConsistencyMode,
  clamped: boolean,
  reason: RouteReason,
  extra: Partial<Pick<RouteDecision, 'shadow'>> = {},
): RouteDecision {
  const shadow = extra.shadow ?? false;
  return {
    mode,
    clamped,
    route: Store.LEGACY,
    reason,
    stalenessBoundMs: 0,
    confirm: false,
    shadow,
    hedge: false,
    readBoth: false,
    touchesNew: shadow,
  };
}

/**
 * Decides which store serves a read and why. Pure and deterministic: identical inputs give identical
 * decisions (the only randomness, shadow sampling, comes in as `sample`).
 */
export function decideRoute(input: RouteInput): RouteDecision {
  const decision = withPin(input, decideUnpinned(input));
  // Query pages are not shadow-compared (page boundaries differ between the stores once tombstones
  // or lag are involved); verification compares whole stores instead. A declared surface's first
  // page is: it is compared only when both stores return it complete.
  if (input.kind === 'query' && decision.shadow && !input.pageComparable)
    return { ...decision, shadow: false, touchesNew: decision.route === Store.NEW || decision.readBoth };
  return decision;
}

function withPin(input: RouteInput, decision: RouteDecision): RouteDecision {
  if (input.kind !== 'query' || input.pinned === undefined || input.pinned === decision.route)
    return decision;
  // A query page token pins the sequence to one store. Staying on legacy is always safe (except in
  // FINALIZED, where legacy may be retired); leaving new is required when new may no longer serve.
  // Either way a switch is announced in the reason, never silent.
  if (input.pinned === Store.LEGACY && decision.route === Store.NEW) {
    if (input.phase === Phase.FINALIZED) return { ...decision, reason: RouteReason.PAGE_SWITCHED_TO_NEW };
    return legacy(decision.mode, decision.clamped, RouteReason.PAGE_PINNED);
  }
  return legacy(decision.mode, decision.clamped, RouteReason.PAGE_SWITCHED_TO_LEGACY);
}

function decideUnpinned(input: RouteInput): RouteDecision {
  const kind = input.kind ?? 'get';
  const comparison = input.comparison ?? 'unknown';
  if (input.phase === undefined) {
    return legacy(input.requested ?? ConsistencyMode.LEGACY, false, RouteReason.CONTROL_UNAVAILABLE);
  }
  const phaseDefault = phaseDefaultMode(input.phase, input.migrationDefault);
  const { mode, clamped, explicit } = effectiveMode(phaseDefault, input.requested);

  if (input.phase === Phase.LEGACY_ONLY) return legacy(mode, clamped, RouteReason.PHASE_LEGACY_ONLY);
  // New does not hold a pinned key's item: whatever new answers for it (absent, an older state) is
  // wrong, so legacy serves every read of it, in every mode, with no shadow read (it would only count
  // a known difference). FINALIZED is never entered while a key is pinned (its guardrail).
  if (input.keyPinned && input.phase !== Phase.FINALIZED)
    return legacy(mode, clamped, RouteReason.PINNED_TO_LEGACY);

  if (input.phase === Phase.FINALIZED) {
    const failed = input.newRead === 'failed';
    return {
      mode: ConsistencyMode.NEW,
      clamped,
      route: Store.NEW,
      reason: failed ? RouteReason.FINALIZED_NEW_FAILED : RouteReason.FINALIZED_NEW_ONLY,
      // New is served by definition here, not because it was proven fresh: claim only a proven bound.
      stalenessBoundMs: provenBound(input),
      confirm: false,
      shadow: false,
      hedge: false,
      readBoth: false,
      touchesNew: true,
    };
  }

  const newUsable = input.breaker !== 'open';
  const sampled = input.sample < input.shadowSampleRate;

  if (mode === ConsistencyMode.LEGACY) {
    // BACKFILLING's default: legacy, shadow-sampled. An explicit `legacy` never touches new.
    const shadow = !explicit && input.phase === Phase.BACKFILLING && sampled && input.breaker === 'closed';
    return legacy(mode, clamped, RouteReason.MODE_LEGACY, { shadow });
  }
  if (mode === ConsistencyMode.SHADOW) {
    const shadow = input.breaker === 'closed' && (explicit || sampled);
    return legacy(mode, clamped, RouteReason.MODE_SHADOW, { shadow });
  }

  // bounded, strong, new: only in DUAL_READ (cohort) and NEW_PRIMARY (every key).
  if (!NEW_PHASES.includes(input.phase)) return legacy(mode, clamped, RouteReason.MODE_LEGACY);
  if (kind === 'query' && input.queryMappable === false)
    return legacy(mode, clamped, RouteReason.QUERY_NOT_MAPPABLE);
  if (input.phase === Phase.DUAL_READ && !inRollout(input.bucket, input.rolloutPercent)) {
    return legacy(mode, clamped, RouteReason.NOT_IN_ROLLOUT);
  }
  if (!newUsable) return legacy(mode, clamped, RouteReason.NEW_UNAVAILABLE);

  if (mode === ConsistencyMode.STRONG) {
    if (kind === 'query' && !input.pageComparable)
      return legacy(mode, clamped, RouteReason.STRONG_QUERY_FROM_LEGACY);
    const base = {
      mode,
      clamped,
      confirm: false,
      shadow: false,
      hedge: false,
      readBoth: true,
      touchesNew: true,
    };
    if (input.newRead === 'failed')
      return { ...base, route: Store.LEGACY, reason: RouteReason.NEW_FAILED_FALLBACK, stalenessBoundMs: 0 };
    if (comparison === 'equal')
      return { ...base, route: Store.NEW, reason: RouteReason.STRONG_EQUAL, stalenessBoundMs: 0 };
    if (comparison === 'different')
      return { ...base, route: Store.LEGACY, reason: RouteReason.STRONG_DIFFERENT, stalenessBoundMs: 0 };
    return { ...base, route: Store.LEGACY, reason: RouteReason.STRONG_PENDING, stalenessBoundMs: 0 };
  }

  const bound = input.frontier > 0 ? stalenessBound(input) : null;
  const serveNew = (
    reason: RouteReason,
    confirm: boolean,
    stalenessBoundMs: number | null,
  ): RouteDecision => ({
    mode,
    clamped,
    route: Store.NEW,
    reason,
    stalenessBoundMs,
    confirm,
    shadow: false,
    // Legacy's answer is always acceptable in bounded and new modes; a page sequence never hedges
    // (it would mix stores).
    hedge: kind === 'get',
    readBoth: false,
    touchesNew: true,
  });

  if (mode === ConsistencyMode.NEW) {
    if (input.newRead === 'failed') return legacy(mode, clamped, RouteReason.NEW_FAILED_FALLBACK);
    return serveNew(RouteReason.MODE_NEW, false, provenBound(input));
  }

  // bounded
  if (input.readAfter !== undefined && !(input.frontier - input.clockSkewMs > input.readAfter)) {
    return legacy(mode, clamped, RouteReason.READ_AFTER_NOT_REACHED);
  }
  if (bound === null) return legacy(mode, clamped, RouteReason.NO_FRONTIER);
  if (bound > input.stalenessBudgetMs) return legacy(mode, clamped, RouteReason.FRONTIER_TOO_OLD);
  if (input.newRead === 'failed') return legacy(mode, clamped, RouteReason.NEW_FAILED_FALLBACK);
  if (input.backfillComplete) return serveNew(RouteReason.FRESH_BACKFILL_COMPLETE, false, bound);
  if (kind === 'query') return legacy(mode, clamped, RouteReason.QUERY_NEEDS_BACKFILL_COMPLETE);
  switch (input.newRead) {
    case 'present':
      return serveNew(RouteReason.FRESH_ITEM_IN_NEW, false, bound);
    case 'tombstone':
      return serveNew(RouteReason.FRESH_TOMBSTONE_IN_NEW, false, bound);
    case 'absent':
      return legacy(mode, clamped, RouteReason.ABSENT_IN_NEW_BACKFILL_INCOMPLETE);
    default:
      return serveNew(RouteReason.FRESH_IF_PRESENT, true, bound);
  }
}

/** The decision after a hedged legacy read answered before new: legacy serves, bound 0. */
/**
 * New is the only store this decision may answer from (FINALIZED): a read of new then has nothing to
 * fall back to, so it waits as long as a read of legacy would (the short new-store timeout exists to
 * hand a slow read to legacy early, which is not possible here).
 */
export function newIsSoleStore(decision: RouteDecision): boolean {
  return (
    decision.reason === RouteReason.FINALIZED_NEW_ONLY || decision.reason === RouteReason.FINALIZED_NEW_FAILED
  );
}

export function hedgedToLegacy(decision: RouteDecision): RouteDecision {
  return {
    ...decision,
    route: Store.LEGACY,
    reason: RouteReason.HEDGED_TO_LEGACY,
    stalenessBoundMs: 0,
    confirm: false,
  };
}
