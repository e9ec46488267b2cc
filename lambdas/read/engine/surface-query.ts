/**
 * The query path of a declared surface (docs/architecture.md "Query surfaces"): one page of a legacy
 * access path — the base table or a legacy GSI/LSI — served from legacy or from the surface's new path
 * (base table or a new GSI) by the routing decision, with the same modes, page tokens, shadow
 * comparison and telemetry as a base-table query. The new page is filtered by the surface (an
 * overloaded GSI holds other entity types), stripped of metadata and tombstones, and unmapped.
 *
 * GSIs are eventually consistent on both stores: bounded mode adds the index-propagation margin to
 * the bound it proves; strong mode reads both first pages and serves new only when they are equal and
 * complete; a sampled first page is shadow-compared, and a difference a GSI's propagation explains
 * is counted as `index-lag`. A page sequence stays on the store its token names: a surface's start keys
 * cannot be translated between the stores, so when that store may no longer serve the sequence the
 * answer is a 409 asking the client to restart the query.
 */
import type { QueryPageInput } from '../../../adapters/item-store';
import { NamedError } from '../../../core/common';
import {
  type AttributeValue,
  type Item,
  type QuerySurface,
  type SurfacePath,
  canonical,
  findLostAttribute,
  isTombstone,
  stripMetadata,
} from '../../../core/model';
import {
  type PageItems,
  type RouteDecision,
  type RouteInput,
  ShadowClass,
  Store,
  type SurfaceSort,
  admitRoute,
  comparePages,
  decideRoute,
  surfaceStartKeyBelongs,
  toNewSort,
  newIsSoleStore,
} from '../../../core/read';
import { BadRequestError, type QueryRequest, ReadApiError } from '../validation';
import { type ReaderParts, queryRouteInput, routeInput, surfaceRouteInput } from './decision';
import { fingerprintOf, pageToken, readToken } from './query';
import type { PageResult, RequestContext } from './types';

/** New's item could not be given back in the legacy shape (`unmapItem` refused it). */
class UnmappablePageError extends NamedError {}

interface RawPage {
  readonly items: readonly Item[];
  readonly lastKey?: Item;
}

/** Reads one page of a declared surface. */
export async function readSurfacePage(
  r: ReaderParts,
  q: QueryRequest,
  ctx: RequestContext,
): Promise<PageResult> {
  const { migration } = r.target;
  const surface = migration.queries[q.surface] as QuerySurface;
  const fingerprint = fingerprintOf(q, surface.name);
  const { pinned, startKey, secret } = await readToken(r, q, fingerprint);
  // A transform that throws on this value cannot map the query: legacy serves it (QUERY_NOT_MAPPABLE).
  let mapped: { partition: AttributeValue; sort?: SurfaceSort } | undefined;
  try {
    mapped = {
      partition: surface.partition(q.partitionValue),
      ...(q.sort ? { sort: toNewSort(surface, q.sort) } : {}),
    };
  } catch {
    mapped = undefined;
  }
  const snap = await r.cache.get();
  const base: RouteInput = {
    ...queryRouteInput(
      surfaceRouteInput(
        routeInput(migration, snap, ctx, canonical(q.partitionValue), r.random(), r.now()),
        snap,
        surface.name,
      ),
      snap,
      surface.legacy.index === undefined
        ? {
            on: 'base',
            partitionKeyName: surface.legacy.key.partitionKey.name,
            partitionValue: q.partitionValue,
          }
        : { on: 'index' },
    ),
    kind: 'query',
    queryMappable: mapped !== undefined,
    pageComparable: startKey === undefined,
    indexMarginMs: surface.fresh.eventual ? migration.read.indexPropagationMarginMs : 0,
    ...(pinned ? { pinned } : {}),
  };
  const { decision, admission, input } = admitRoute(base, r.stores.breaker);
  if (startKey) {
    const belongs =
      pinned === Store.LEGACY
        ? surfaceStartKeyBelongs(startKey, surface.legacy.key, migration.legacyTable.key, q.partitionValue)
        : mapped !== undefined &&
          surfaceStartKeyBelongs(startKey, surface.fresh.key, migration.newTable.key, mapped.partition);
    if (!belongs) throw new BadRequestError('bad nextToken: its start key does not belong to this query');
  }
  if (pinned !== undefined && decision.route !== pinned) return restart(decision, pinned);

  const legacyInput = (start?: Item): QueryPageInput =>
    pathQueryInput(surface.legacy, q.partitionValue, q.sort, q, start);
  const readLegacy = (start?: Item): Promise<RawPage> =>
    r.stores.withRetry(Store.LEGACY, (s) => r.target.legacy.query(legacyInput(start), s));
  const readNew = async (start?: Item): Promise<RawPage> => {
    const m = mapped as NonNullable<typeof mapped>;
    const page = await r.stores.withRetry(
      Store.NEW,
      (s) => r.target.fresh.query(pathQueryInput(surface.fresh, m.partition, m.sort, q, start), s),
      newIsSoleStore(decision),
    );
    return {
      items: toLegacyShape(r, surface, page.items),
      ...(page.lastKey ? { lastKey: page.lastKey } : {}),
    };
  };
  const served = (store: Store, page: RawPage, d: RouteDecision, fallback: boolean): PageResult => ({
    status: 200,
    items: page.items,
    ...pageToken(r, store, page, fingerprint, secret),
    decision: d,
    fallback,
  });

  if (decision.readBoth) return strongPage(r, surface, input, admission, readLegacy, readNew, served);

  if (decision.route === Store.NEW) {
    try {
      const page = await readNew(startKey);
      r.stores.newSucceeded(admission);
      return served(Store.NEW, page, decision, false);
    } catch (err) {
      const message = newFailure(r, err, admission);
      const after = decideRoute({ ...input, newRead: 'failed' });
      if (after.route === Store.NEW)
        return { status: 503, items: [], decision: after, fallback: false, message };
      // A sequence on new cannot continue on legacy (its start key has no legacy equivalent): the client
      // restarts the query, whose first page legacy serves. Legacy is healthy, so this is no 5xx.
      if (startKey) return restart(after, Store.NEW);
      return legacyServed(r, () => readLegacy(), after, true, served);
    }
  }

  const legacyReadAt = r.now();
  const result = await legacyServed(r, () => readLegacy(startKey), decision, false, served);
  if (decision.shadow && result.status === 200 && mapped) {
    const legacyPage: PageItems = { items: result.items, complete: result.nextToken === undefined };
    const asItems = (p: RawPage): PageItems => ({ items: p.items, complete: p.lastKey === undefined });
    const readBoth = async (): Promise<[PageItems, PageItems] | undefined> => {
      const again = r.stores.breaker.admit();
      if (again === 'open') return undefined;
      try {
        const [l, n] = await Promise.all([readLegacy(), readNew()]);
        r.stores.newSucceeded(again);
        return [asItems(l), asItems(n)];
      } catch {
        return undefined;
      }
    };
    const freshP = new Promise<PageItems | 'unmappable' | undefined>((resolve) =>
      setImmediate(() => {
        readNew().then(
          (p) => {
            r.stores.newSucceeded(admission);
            resolve(asItems(p));
          },
          (err: unknown) => {
            if (!(err instanceof UnmappablePageError)) newFailureQuiet(r, err, admission);
            resolve(err instanceof UnmappablePageError ? 'unmappable' : undefined);
          },
        );
      }),
    );
    r.shadow.comparePage(surface, q.partitionValue, legacyReadAt, legacyPage, freshP, readBoth);
  }
  return result;
}

/** New's items in the legacy shape: tombstones and other entity types dropped, metadata stripped, unmapped. */
function toLegacyShape(r: ReaderParts, surface: QuerySurface, items: readonly Item[]): Item[] {
  const { names } = r.stores;
  const out: Item[] = [];
  for (const raw of items) {
    if (isTombstone(raw, names)) continue;
    const stripped = stripMetadata(raw, names);
    if (!surface.filter(stripped)) continue;
    let item: Item;
    try {
      item = r.target.migration.unmapItem(stripped);
      const lost = findLostAttribute(item, 'unmapItem result');
      if (lost) throw lost;
    } catch (err) {
      throw new UnmappablePageError(`unmapItem failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    out.push(item);
  }
  return out;
}

/** A failed read of new: recorded in the breaker (an unmappable item is the data's fault, not the store's). */
function newFailure(
  r: ReaderParts,
  err: unknown,
  admission: ReturnType<typeof admitRoute>['admission'],
): string {
  if (err instanceof ReadApiError) throw err;
  if (err instanceof UnmappablePageError) {
    r.stores.newSucceeded(admission);
    return 'new store unavailable: its item cannot be read back (unmapItem)';
  }
  return r.stores.newFailed(err, admission);
}

/** A failed shadow read of new: recorded, never thrown (legacy has answered already). */
function newFailureQuiet(
  r: ReaderParts,
  err: unknown,
  admission: ReturnType<typeof admitRoute>['admission'],
): void {
  try {
    r.stores.newFailed(err, admission);
  } catch {
    // A request DynamoDB refused as invalid: legacy answered it, nothing to tell the client.
  }
}

/** The page from legacy, or a 503 when legacy cannot answer. */
async function legacyServed(
  r: ReaderParts,
  read: () => Promise<RawPage>,
  decision: RouteDecision,
  fallback: boolean,
  served: (store: Store, page: RawPage, d: RouteDecision, fallback: boolean) => PageResult,
): Promise<PageResult> {
  try {
    return served(Store.LEGACY, await read(), decision, fallback);
  } catch (err) {
    return { status: 503, items: [], decision, fallback, message: r.stores.legacyFailed(err) };
  }
}

/** Strong mode on a first page: both stores read; new serves only a complete page equal to legacy's. */
async function strongPage(
  r: ReaderParts,
  surface: QuerySurface,
  input: RouteInput,
  admission: ReturnType<typeof admitRoute>['admission'],
  readLegacy: () => Promise<RawPage>,
  readNew: () => Promise<RawPage>,
  served: (store: Store, page: RawPage, d: RouteDecision, fallback: boolean) => PageResult,
): Promise<PageResult> {
  const [l, n] = await Promise.allSettled([readLegacy(), readNew()]);
  if (l.status === 'rejected') {
    if (n.status === 'fulfilled') r.stores.newSucceeded(admission);
    else newFailureQuiet(r, n.reason, admission);
    const d = decideRoute({ ...input, newRead: 'failed' });
    return { status: 503, items: [], decision: d, fallback: false, message: r.stores.legacyFailed(l.reason) };
  }
  if (n.status === 'rejected') {
    newFailure(r, n.reason, admission);
    return served(Store.LEGACY, l.value, decideRoute({ ...input, newRead: 'failed' }), true);
  }
  r.stores.newSucceeded(admission);
  const cls = comparePages(
    { items: l.value.items, complete: l.value.lastKey === undefined },
    { items: n.value.items, complete: n.value.lastKey === undefined },
    surface.orderPreserved,
  );
  const after =
    cls === undefined
      ? decideRoute({ ...input, pageComparable: false })
      : decideRoute({
          ...input,
          newRead: 'present',
          comparison: cls === ShadowClass.MATCH ? 'equal' : 'different',
        });
  return after.route === Store.NEW
    ? served(Store.NEW, n.value, after, false)
    : served(Store.LEGACY, l.value, after, false);
}

/** A page sequence whose store may no longer serve it: the client restarts the query. */
function restart(decision: RouteDecision, pinned: Store): PageResult {
  return {
    status: 409,
    items: [],
    decision,
    fallback: false,
    message:
      `this page sequence was served by the ${pinned} store, which may no longer serve it (${decision.reason}); ` +
      "a query surface's pages cannot move between stores: restart the query without nextToken",
  };
}

/**
 * The input of one page of `path` (a surface's legacy or new access path) in `partition`, under `sort`:
 * its index if it has one, consistent reads unless the path is eventually consistent (a GSI).
 */
function pathQueryInput(
  path: SurfacePath,
  partition: AttributeValue,
  sort: QueryPageInput['sort'],
  page: { readonly limit: number; readonly forward: boolean },
  start?: Item,
): QueryPageInput {
  return {
    partitionName: path.key.partitionKey.name,
    partitionValue: partition,
    ...(path.key.sortKey ? { sortName: path.key.sortKey.name } : {}),
    ...(sort ? { sort } : {}),
    limit: page.limit,
    forward: page.forward,
    ...(start ? { startKey: start } : {}),
    ...(path.index ? { indexName: path.index } : {}),
    consistent: !path.eventual,
  };
}
