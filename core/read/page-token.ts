/**
 * Query pagination tokens of the read API. A token records the store that served the page and the
 * key to continue from, bound to the query it belongs to, and is authenticated with HMAC-SHA256 so a
 * client can neither forge a start key nor move a token to another query or store:
 *
 *   base64url(JSON payload) "." base64url(HMAC(secret, payload))
 *
 * payload = { v: 1, m: migration id, s: 'legacy'|'new', q: query fingerprint, k: start key (DynamoDB JSON) }
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { NamedError } from '../common';
import type { Store } from './routing';
import { type Item, type JsonItem, InvalidValueError, itemFromDynamoJson, itemToDynamoJson } from '../model';

/** A token is not one this API issued for this query. The message says why. */
export class PageTokenError extends NamedError {}

/** What a token carries. */
export interface PageToken {
  readonly migrationId: string;
  readonly store: Store;
  /** Fingerprint of the query (`queryFingerprint`). */
  readonly query: string;
  /** ExclusiveStartKey in the served store's key space. */
  readonly startKey: Item;
}

const b64url = (b: Buffer): string => b.toString('base64url');

/** A stable fingerprint of a query's identity (partition, sort condition, direction): a token works only for it. */
export function queryFingerprint(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 22);
}

/** Encodes and signs a token. */
export function encodePageToken(token: PageToken, secret: string): string {
  const payload: { v: 1; m: string; s: Store; q: string; k: JsonItem } = {
    v: 1,
    m: token.migrationId,
    s: token.store,
    q: token.query,
    k: itemToDynamoJson(token.startKey),
  };
  const body = Buffer.from(JSON.stringify(payload));
  return `${b64url(body)}.${b64url(createHmac('sha256', secret).update(body).digest())}`;
}

/**
 * Verifies and decodes a token for `migrationId` and the query `fingerprint`.
 *
 * @throws PageTokenError if it is malformed, its signature does not verify, or it belongs to another
 *   migration or query
 */
export function decodePageToken(
  text: string,
  secret: string,
  migrationId: string,
  fingerprint: string,
): PageToken {
  const parts = text.split('.');
  if (
    parts.length !== 2 ||
    !/^[A-Za-z0-9_-]+$/.test(parts[0] ?? '') ||
    !/^[A-Za-z0-9_-]+$/.test(parts[1] ?? '')
  ) {
    throw new PageTokenError('nextToken is malformed; pass the nextToken of the previous page unchanged');
  }
  const body = Buffer.from(parts[0] as string, 'base64url');
  const mac = Buffer.from(parts[1] as string, 'base64url');
  const expected = createHmac('sha256', secret).update(body).digest();
  if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) {
    throw new PageTokenError('nextToken does not verify (altered, or issued by another deployment)');
  }
  let payload: { v?: unknown; m?: unknown; s?: unknown; q?: unknown; k?: unknown };
  try {
    payload = JSON.parse(body.toString('utf8')) as typeof payload;
  } catch {
    throw new PageTokenError('nextToken is malformed');
  }
  if (payload.v !== 1 || (payload.s !== 'legacy' && payload.s !== 'new') || typeof payload.q !== 'string') {
    throw new PageTokenError('nextToken has an unknown version or store');
  }
  if (payload.m !== migrationId)
    throw new PageTokenError(`nextToken belongs to migration "${String(payload.m)}"`);
  if (payload.q !== fingerprint) {
    throw new PageTokenError(
      'nextToken belongs to a different query (partition key, sort-key condition or direction changed)',
    );
  }
  try {
    return {
      migrationId,
      store: payload.s,
      query: payload.q,
      startKey: itemFromDynamoJson(payload.k, 'nextToken.k'),
    };
  } catch (err) {
    throw new PageTokenError(`nextToken start key is invalid: ${(err as InvalidValueError).message}`);
  }
}
