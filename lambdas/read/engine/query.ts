/**
 * The query path of the read engine: one page of a legacy-keyed query. A legacy table without a sort
 * key is queried as a single-key read. Otherwise the page is served from new when the routing decision
 * allows it and the key mapping carries the query over (`queryMapping`, core/read), else from legacy.
 * The page token (HMAC-signed) pins a page sequence to its store; a move to the other store is
 * announced by the decision and its start key translated, so nothing is skipped or repeated.
 */
import type { QueryPage } from '../../../adapters/item-store';
import { type Item, canonical, isTombstone, stripMetadata } from '../../../core/model';
import {
  PageTokenError,
  type RouteDecision,
  Store,
  admitRoute,
  decideRoute,
  decodePageToken,
  encodePageToken,
  queryFingerprint,
  queryMapping,
  startKeyBelongs,
  toLegacyStartKey,
  toNewStartKey,
  newIsSoleStore,
} from '../../../core/read';
import { BadRequestError, type QueryRequest, ReadApiError } from '../validation';
import { type ReaderParts, queryRouteInput, routeInput, surfaceRouteInput } from './decision';
import { readKey } from './get';
import { readSurfacePage } from './surface-query';
import type { PageResult, RequestContext } from './types';

/** Reads one query page. A legacy table without a sort key is queried as a single-key read. */
export async function readPage(r: ReaderParts, q: QueryRequest, ctx: RequestContext): Promise<PageResult> {
  const { migration } = r.target;
  // A declared surface (a legacy index, or an explicit base-table mapping) has its own path.
  if (migration.queries[q.surface]?.inferred === false) return readSurfacePage(r, q, ctx);
  const lk = migration.legacyTable.key;
  if (!lk.sortKey) {
    if (q.nextToken)
      throw new BadRequestError('nextToken: a query of a table without sort key has a single page');
    const k = await readKey(r, { [lk.partitionKey.name]: q.partitionValue }, ctx);
    if (k.status === 503)
      return {
        status: 503,
        items: [],
        decision: k.decision,
        fallback: k.fallback,
        ...(k.message ? { message: k.message } : {}),
      };
    return { status: 200, items: k.item ? [k.item] : [], decision: k.decision, fallback: k.fallback };
  }
  const fingerprint = fingerprintOf(q);
  const { pinned, startKey, secret } = await readToken(r, q, fingerprint);
  const mapping = queryMapping(migration, q.partitionValue);
  const snap = await r.cache.get();
  const base = {
    ...queryRouteInput(
      surfaceRouteInput(
        routeInput(migration, snap, ctx, canonical(q.partitionValue), r.random(), r.now()),
        snap,
        q.surface,
      ),
      snap,
      { on: 'base', partitionKeyName: lk.partitionKey.name, partitionValue: q.partitionValue },
    ),
    kind: 'query' as const,
    queryMappable: mapping !== undefined,
    ...(pinned ? { pinned } : {}),
  };
  const { decision, admission, input } = admitRoute(base, r.stores.breaker);
  if (
    startKey &&
    !startKeyBelongs(migration, startKey, pinned as Store, q.partitionValue, mapping?.newPartition)
  )
    throw new BadRequestError('bad nextToken: its start key does not belong to this query');

  if (decision.route === Store.NEW && mapping) {
    const start =
      startKey && pinned === Store.LEGACY
        ? toNewStartKey(migration, startKey, mapping.newPartition)
        : startKey;
    try {
      const page = await r.stores.withRetry(
        Store.NEW,
        (s) =>
          r.target.fresh.query(
            {
              partitionName: migration.newTable.key.partitionKey.name,
              partitionValue: mapping.newPartition,
              sortName: migration.newTable.key.sortKey?.name as string,
              ...(q.sort ? { sort: q.sort } : {}),
              limit: q.limit,
              forward: q.forward,
              ...(start ? { startKey: start } : {}),
            },
            s,
          ),
        newIsSoleStore(decision),
      );
      r.stores.newSucceeded(admission);
      const { names } = r.stores;
      const items = page.items
        .filter((i) => !isTombstone(i, names))
        .map((i) => migration.unmapItem(stripMetadata(i, names)));
      return {
        status: 200,
        items,
        ...pageToken(r, Store.NEW, page, fingerprint, secret),
        decision,
        fallback: false,
      };
    } catch (err) {
      if (err instanceof ReadApiError) throw err;
      const message = r.stores.newFailed(err, admission);
      const after = decideRoute({ ...input, newRead: 'failed' });
      if (after.route === Store.NEW)
        return { status: 503, items: [], decision: after, fallback: false, message };
      const legacyStart = start ? toLegacyStartKey(migration, start, q.partitionValue) : undefined;
      return legacyPage(r, q, legacyStart, fingerprint, after, true, secret);
    }
  }
  const legacyStart =
    startKey && pinned === Store.NEW ? toLegacyStartKey(migration, startKey, q.partitionValue) : startKey;
  return legacyPage(r, q, legacyStart, fingerprint, decision, false, secret);
}

/** The identity of a query a page token is bound to; `surface` is part of it for a declared surface. */
export function fingerprintOf(q: QueryRequest, surface?: string): string {
  return queryFingerprint({
    ...(surface !== undefined ? { q: surface } : {}),
    p: canonical(q.partitionValue),
    s: q.sort ? [q.sort.op, canonical(q.sort.value), 'to' in q.sort ? canonical(q.sort.to) : null] : null,
    f: q.forward,
  });
}

/**
 * The page-token secret in force and the store and start key of the request's page token (none on a
 * first page); a bad token is a 400.
 */
export async function readToken(
  r: ReaderParts,
  q: QueryRequest,
  fingerprint: string,
): Promise<{ secret: string; pinned?: Store; startKey?: Item }> {
  const secret = await pageTokenSecret(r.options);
  if (!q.nextToken) return { secret };
  try {
    const token = decodePageToken(q.nextToken, secret, r.target.migration.id, fingerprint);
    return { secret, pinned: token.store, startKey: token.startKey };
  } catch (err) {
    if (err instanceof PageTokenError) throw new BadRequestError(`bad nextToken: ${err.message}`);
    throw err;
  }
}

/** One page from legacy (served, or the fallback of a failed page of new). */
async function legacyPage(
  r: ReaderParts,
  q: QueryRequest,
  startKey: Item | undefined,
  fingerprint: string,
  decision: RouteDecision,
  fallback: boolean,
  secret: string,
): Promise<PageResult> {
  const lk = r.target.migration.legacyTable.key;
  try {
    const page = await r.stores.withRetry(Store.LEGACY, (s) =>
      r.target.legacy.query(
        {
          partitionName: lk.partitionKey.name,
          partitionValue: q.partitionValue,
          sortName: lk.sortKey?.name as string,
          ...(q.sort ? { sort: q.sort } : {}),
          limit: q.limit,
          forward: q.forward,
          ...(startKey ? { startKey } : {}),
        },
        s,
      ),
    );
    return {
      status: 200,
      items: page.items,
      ...pageToken(r, Store.LEGACY, page, fingerprint, secret),
      decision,
      fallback,
    };
  } catch (err) {
    return { status: 503, items: [], decision, fallback, message: r.stores.legacyFailed(err) };
  }
}

/** The token of the next page, if there is one: pinned to the store that served this page. */
export function pageToken(
  r: ReaderParts,
  store: Store,
  page: Pick<QueryPage, 'lastKey'>,
  query: string,
  secret: string,
): { nextToken?: string } {
  if (!page.lastKey) return {};
  return {
    nextToken: encodePageToken(
      { migrationId: r.target.migration.id, store, query, startKey: page.lastKey },
      secret,
    ),
  };
}

/** The page-token secret in force: given, or read (and cached) by its source (Secrets Manager when deployed). */
async function pageTokenSecret(options: ReaderParts['options']): Promise<string> {
  const s = options.tokenSecret;
  return typeof s === 'string' ? s : s();
}
