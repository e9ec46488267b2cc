/**
 * The dual-read API handler (API Gateway REST, proxy integration). Routes, in the legacy key space:
 *
 * - `GET  /migrations/{id}/items?key=<DynamoDB JSON key>[&consistency=..][&format=plain|dynamodb]`
 * - `POST /migrations/{id}/batch-get`  body `{ "keys": [<key>, ...] }` (1..100 distinct keys)
 * - `POST /migrations/{id}/query`      body `{ "partitionKey": <value>, "sortKey"?: { "<op>": <value> },
 *                                             "limit"?: 1..1000, "forward"?: bool, "nextToken"?: str }`
 * - `GET  /migrations/{id}/query?surface=<name>&partitionKey=<value>[&sortKey.<op>=..][&limit=..]…`
 *                                       the same query in query-string parameters (api/query-params.ts)
 *
 * Headers in: `X-Consistency` (or `?consistency=`), `X-Read-After` (epoch ms or ISO-8601), the
 * migration's routing-key header (default `X-Routing-Key`). Headers out: `X-Served-By`,
 * `X-Route-Reason`, `X-Staleness-Bound-Ms`, `X-Consistency`. See docs/architecture.md.
 *
 * This module is the wiring: one reader per migration (`engine/`), each URL to its route (`api/`,
 * one module per route), errors to statuses (400 names the problem, 500 only for a bug).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { DualReadError } from '../../core/common';
import { batchGet } from './api/batch-get';
import { getItem } from './api/get-item';
import { type RouteEnv, problem } from './api/http';
import { query } from './api/query';
import { DEFAULT_READ_OPTIONS, MigrationReader, type ReadOptions, type ReadTarget } from './engine';
import { NO_TELEMETRY, type ReadTelemetry } from './telemetry';
import { BadRequestError, ReadApiError } from './validation';

/** Dependencies of the read handler. */
export interface ReadDeps {
  readonly targets: readonly ReadTarget[];
  readonly telemetry?: ReadTelemetry;
  readonly options?: Partial<Omit<ReadOptions, 'tokenSecret'>>;
  /**
   * The page-token secret (at least 16 characters), or its source: deployed, `secretsManagerSecret`
   * (adapters/secrets.ts) over `PAGE_TOKEN_SECRET_ARN`; local mode and tests pass one explicitly.
   */
  readonly tokenSecret: ReadOptions['tokenSecret'];
  /** @default Date.now */
  readonly now?: () => number;
  /** @default Math.random */
  readonly random?: () => number;
}

/** The handler, with access to its per-migration readers (tests, local server). */
export type ReadHandler = ((event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>) & {
  readonly readers: ReadonlyMap<string, MigrationReader>;
  /** Waits until every pending shadow comparison has been recorded. */
  drain(): Promise<void>;
};

/** Shortest page-token secret accepted. */
export const MIN_TOKEN_SECRET_LENGTH = 16;

/** The page-token secret is missing or too weak. */
export class PageTokenSecretError extends DualReadError {}

const ROUTE = /^\/migrations\/([^/]+)\/(items|batch-get|query)\/?$/;

/** Builds the read handler. */
export function makeReadHandler(deps: ReadDeps): ReadHandler {
  if (typeof deps.tokenSecret === 'string' && deps.tokenSecret.length < MIN_TOKEN_SECRET_LENGTH)
    throw new PageTokenSecretError(
      `the page-token secret must have at least ${MIN_TOKEN_SECRET_LENGTH} characters, not ${deps.tokenSecret.length}; ` +
        'pass a random one (local mode) or PAGE_TOKEN_SECRET_ARN (deployed)',
    );
  const options: ReadOptions = { ...DEFAULT_READ_OPTIONS, ...deps.options, tokenSecret: deps.tokenSecret };
  const telemetry = deps.telemetry ?? NO_TELEMETRY;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const readers = new Map<string, MigrationReader>(
    deps.targets.map((t) => [t.migration.id, new MigrationReader(t, options, telemetry, now, random)]),
  );
  const env: RouteEnv = { options, telemetry, now, random };

  const handler = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    try {
      const match = ROUTE.exec(event.path ?? '');
      if (!match) {
        telemetry.rejected(404);
        return problem(
          404,
          `no such resource ${String(event.path).slice(0, 100)}; see /migrations/{id}/items, /batch-get, /query`,
        );
      }
      const [, rawId, resource] = match as unknown as [string, string, string];
      let id: string;
      try {
        id = decodeURIComponent(rawId);
      } catch {
        throw new BadRequestError('migration id in the path is not valid URL encoding');
      }
      const reader = readers.get(id);
      if (!reader)
        throw new BadRequestError(
          `unknown migration "${id.slice(0, 60)}"; known: ${[...readers.keys()].join(', ')}`,
        );
      const method = event.httpMethod;
      if (resource === 'items') {
        if (method !== 'GET') {
          telemetry.rejected(405);
          return problem(405, `${resource} takes GET`);
        }
        return await getItem(env, event, reader);
      }
      if (resource === 'query' && method === 'GET') return await query(env, event, reader);
      if (method !== 'POST') {
        telemetry.rejected(405);
        return problem(405, `${resource} takes ${resource === 'query' ? 'GET or POST' : 'POST'}`);
      }
      return resource === 'batch-get' ? await batchGet(env, event, reader) : await query(env, event, reader);
    } catch (err) {
      if (err instanceof ReadApiError) {
        telemetry.rejected(err.status, err instanceof BadRequestError ? err.detail : undefined);
        return problem(err.status, err.message);
      }
      // Anything else is a bug; answer 500 without internals, log it with its stack.
      telemetry.internalError(err);
      return problem(500, 'internal error');
    } finally {
      telemetry.flush();
    }
  };
  return Object.assign(handler, {
    readers,
    drain: async () => {
      await Promise.all([...readers.values()].map((r) => r.drain()));
    },
  });
}
