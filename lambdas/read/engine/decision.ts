/**
 * The routing decision call of the read engine: what every path shares to decide a request — the
 * migration's parts (stores, control cache, shadow comparisons, clock) and the `RouteInput` built
 * from the control snapshot, the migration's read settings and the request's context. The decision
 * itself is `decideRoute`, with the breaker's admission `admitRoute` (core/read).
 */
import type { ConsistencyMode, Item, Migration, ReadSettings } from '../../../core/model';
import {
  type PinnedQuery,
  type RouteInput,
  cohortBucket,
  isKeyPinned,
  isQueryPinned,
  surfaceRolloutPercent,
} from '../../../core/read';
import { ControlCache, type ControlSnapshot } from '../control-cache';
import type { ShadowCompare } from './shadow';
import type { ReadStores } from './stores';
import type { ReadOptions, ReadTarget, RequestContext } from './types';

/** One migration's reader, as the read paths see it. */
export interface ReaderParts {
  readonly target: ReadTarget;
  readonly options: ReadOptions;
  readonly now: () => number;
  readonly random: () => number;
  readonly cache: ControlCache;
  readonly stores: ReadStores;
  readonly shadow: ShadowCompare;
}

/**
 * A request's routing input before any read (`newRead: 'unknown'`). The breaker view is `closed`
 * here; `admitRoute` sets the one the decision is made under.
 */
export function routeInput(
  migration: Migration,
  snap: ControlSnapshot,
  ctx: RequestContext,
  routingKey: string,
  sample: number,
  now: number,
): RouteInput {
  // The operator's overrides (`dualread settings`) apply within the control cache interval.
  const read = { ...migration.read, ...definedOverrides(snap) };
  return {
    phase: snap.state?.phase,
    rolloutPercent: snap.state?.rolloutPercent ?? 0,
    bucket: cohortBucket(read.cohortSalt, ctx.routingKey ?? routingKey),
    migrationDefault: read.defaultConsistency as ConsistencyMode,
    ...(ctx.requested ? { requested: ctx.requested } : {}),
    now,
    frontier: snap.frontier,
    clockSkewMs: read.clockSkewMs,
    controlCacheAgeMs: ControlCache.ageOf(snap, now),
    stalenessBudgetMs: read.stalenessBudgetMs,
    ...(ctx.readAfter !== undefined ? { readAfter: ctx.readAfter } : {}),
    backfillComplete: snap.backfillComplete,
    newRead: 'unknown',
    breaker: 'closed',
    sample,
    shadowSampleRate: read.shadowSampleRate,
  };
}

/** `input` for a single-key read of `legacyKey`: pinned to legacy when the key is (core/read/pins.ts). */
export function keyRouteInput(input: RouteInput, snap: ControlSnapshot, legacyKey: Item): RouteInput {
  return isKeyPinned(snap.pins, legacyKey) ? { ...input, keyPinned: true } : input;
}

/** `input` for a query: pinned to legacy when it could contain a pinned item (core/read/pins.ts). */
export function queryRouteInput(input: RouteInput, snap: ControlSnapshot, q: PinnedQuery): RouteInput {
  return isQueryPinned(snap.pins, q) ? { ...input, keyPinned: true } : input;
}

/** The routing input of a query of `surface`: its rollout limited by the surface's own (`settings.surfaces`). */
export function surfaceRouteInput(input: RouteInput, snap: ControlSnapshot, surface: string): RouteInput {
  const limit = snap.state?.settings?.surfaces?.[surface]?.rollout;
  return limit === undefined
    ? input
    : { ...input, rolloutPercent: surfaceRolloutPercent(input.rolloutPercent, limit) };
}

/** The read settings an operator overrode in STATE (`settings`), without the unset ones. */
function definedOverrides(snap: ControlSnapshot): Partial<ReadSettings> {
  const o = snap.state?.settings;
  if (!o) return {};
  return {
    ...(o.stalenessBudgetMs !== undefined ? { stalenessBudgetMs: o.stalenessBudgetMs } : {}),
    ...(o.shadowSampleRate !== undefined ? { shadowSampleRate: o.shadowSampleRate } : {}),
    ...(o.defaultConsistency !== undefined
      ? { defaultConsistency: o.defaultConsistency as ConsistencyMode }
      : {}),
  };
}
