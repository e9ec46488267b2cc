/**
 * The dual-read API handler (API Gateway REST, proxy integration). Routes, in the legacy key space:
 *
 * - `GET  /migrations/{id}/items?key=<DynamoDB JSON key>[&consistency=..][&format=plain|dynamodb]`
 * - `POST /migrations/{id}/batch-get`  body `{ "keys": [<key>, ...] }` (1..100 distinct keys)
 * - `POST /migrations/{id}/query`      body `{ "partitionKey": <value>, "sortKey"?: { "<op>": <value> },
 *                                             "limit"?: 1..1000, "forward"?: bool, "nextToken"?: str }`
 *
 * Headers in: `X-Consistency` (or `?consistency=`), `X-Read-After` (epoch ms or ISO-8601), the
 * migration's routing-key header (default `X-Routing-Key`). Headers out: `X-Served-By`,
 * `X-Route-Reason`, `X-Staleness-Bound-Ms`, `X-Consistency`. See docs/architecture.md.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { type Migration, plainJsonItem, type Item, itemToDynamoJson } from '../../core/model';
import type { RouteDecision } from '../../core/read';
import {
  DEFAULT_READ_OPTIONS,
  type KeyResult,
  MigrationReader,
  type ReadOptions,
  type ReadTarget,
  type RequestContext,
} from './engine';
import { NO_TELEMETRY, type ReadTelemetry } from './telemetry';
import {
  BadRequestError,
  Format,
  ReadApiError,
  parseBatchBody,
  parseBody,
  parseConsistency,
  parseFormat,
  parseLegacyKey,
  parseQueryBody,
  parseReadAfter,
} from './validation';

/** Dependencies of the read handler. */
export interface ReadDeps {
  readonly targets: readonly ReadTarget[];
  readonly telemetry?: ReadTelemetry;
  readonly options?: Partial<ReadOptions>;
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

const ROUTE = /^\/migrations\/([^/]+)\/(items|batch-get|query)\/?$/;

function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(event.headers ?? {}))
    if (k.toLowerCase() === wanted && v !== undefined) return v;
  return undefined;
}

function json(status: number, body: string, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode: status, headers: { 'content-type': 'application/json', ...headers }, body };
}

function problem(status: number, message: string): APIGatewayProxyResult {
  return json(status, JSON.stringify({ message }));
}

function decisionHeaders(d: RouteDecision): Record<string, string> {
  return {
    'x-served-by': d.route,
    'x-route-reason': d.reason,
    'x-staleness-bound-ms': d.stalenessBoundMs === null ? 'unbounded' : String(d.stalenessBoundMs),
    'x-consistency': d.mode,
  };
}

function itemText(item: Item, format: Format): string {
  return format === Format.DYNAMODB ? JSON.stringify(itemToDynamoJson(item)) : plainJsonItem(item);
}

/** Builds the read handler. */
export function makeReadHandler(deps: ReadDeps): ReadHandler {
  const options: ReadOptions = { ...DEFAULT_READ_OPTIONS, ...deps.options };
  const telemetry = deps.telemetry ?? NO_TELEMETRY;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const readers = new Map<string, MigrationReader>(
    deps.targets.map((t) => [t.migration.id, new MigrationReader(t, options, telemetry, now, random)]),
  );

  function context(
    event: APIGatewayProxyEvent,
    migration: Migration,
    bodyConsistency?: string,
  ): RequestContext {
    const fromHeader = parseConsistency(header(event, 'x-consistency'), 'X-Consistency');
    const fromQuery = parseConsistency(
      event.queryStringParameters?.consistency ?? bodyConsistency,
      'consistency',
    );
    if (fromHeader && fromQuery && fromHeader !== fromQuery) {
      throw new BadRequestError(
        `X-Consistency "${fromHeader}" and consistency "${fromQuery}" disagree; give one`,
      );
    }
    const requested = fromHeader ?? fromQuery;
    const readAfter = parseReadAfter(header(event, 'x-read-after'), now(), migration.read.clockSkewMs);
    const routingKey = header(event, migration.read.routingKeyHeader);
    if (routingKey !== undefined && (routingKey.length === 0 || routingKey.length > 1024)) {
      throw new BadRequestError(`${migration.read.routingKeyHeader} must be 1 to 1024 characters`);
    }
    return {
      ...(requested ? { requested } : {}),
      ...(readAfter !== undefined ? { readAfter } : {}),
      ...(routingKey !== undefined ? { routingKey } : {}),
    };
  }

  function record(
    reader: MigrationReader,
    op: 'get' | 'batch-get' | 'query',
    r: { status: number; decision: RouteDecision; fallback: boolean; hedged?: boolean },
    started: number,
    key?: Item,
  ): void {
    const sampled = random() < options.decisionLogSampleRate || r.status >= 500;
    telemetry.read(
      {
        migrationId: reader.target.migration.id,
        op,
        mode: r.decision.mode,
        route: r.decision.route,
        reason: r.decision.reason,
        status: r.status,
        latencyMs: performance.now() - started,
        stalenessBoundMs: r.decision.stalenessBoundMs,
        fallback: r.fallback,
        hedged: r.hedged ?? false,
        shadow: r.decision.shadow,
        clamped: r.decision.clamped,
        breaker: reader.breakerState(),
        ...(sampled && key ? { key: itemToDynamoJson(key) } : {}),
      },
      sampled,
    );
  }

  async function getItem(
    event: APIGatewayProxyEvent,
    reader: MigrationReader,
  ): Promise<APIGatewayProxyResult> {
    const { migration } = reader.target;
    const params = event.queryStringParameters ?? {};
    const unknown = Object.keys(params).filter((k) => !['key', 'consistency', 'format'].includes(k));
    if (unknown.length)
      throw new BadRequestError(`unknown query parameter "${unknown[0]}"; expected key, consistency, format`);
    if (params.key === undefined)
      throw new BadRequestError('query parameter "key" is required: the legacy key in DynamoDB JSON');
    const format = parseFormat(params.format);
    const key = parseLegacyKey(params.key, migration, 'key');
    const ctx = context(event, migration);
    const started = performance.now();
    const r = await reader.get(key, ctx);
    record(reader, 'get', r, started, key);
    const headers = decisionHeaders(r.decision);
    if (r.status === 200) return json(200, `{"item":${itemText(r.item as Item, format)}}`, headers);
    if (r.status === 404) return json(404, JSON.stringify({ message: 'item not found' }), headers);
    return json(503, JSON.stringify({ message: r.message ?? 'unavailable' }), headers);
  }

  async function batchGet(
    event: APIGatewayProxyEvent,
    reader: MigrationReader,
  ): Promise<APIGatewayProxyResult> {
    const { migration } = reader.target;
    const format = parseFormat(event.queryStringParameters?.format);
    const keys = parseBatchBody(parseBody(event.body, event.isBase64Encoded), migration);
    const ctx = context(event, migration);
    const started = performance.now();
    const results: KeyResult[] = new Array<KeyResult>(keys.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < keys.length; i = next++) results[i] = await reader.get(keys[i] as Item, ctx);
    };
    await Promise.all(Array.from({ length: Math.min(options.batchConcurrency, keys.length) }, worker));
    const parts = results.map((r, i) => {
      const key = JSON.stringify(itemToDynamoJson(keys[i] as Item));
      const meta = `"status":${r.status},"servedBy":"${r.decision.route}","reason":"${r.decision.reason}","stalenessBoundMs":${r.decision.stalenessBoundMs === null ? 'null' : r.decision.stalenessBoundMs}`;
      const item = r.status === 200 ? `,"item":${itemText(r.item as Item, format)}` : '';
      const message = r.message ? `,"message":${JSON.stringify(r.message)}` : '';
      return `{"key":${key},${meta}${item}${message}}`;
    });
    // Per key: served-from counts and reasons; the latency recorded is the whole batch's.
    for (const [i, r] of results.entries()) record(reader, 'batch-get', r, started, keys[i]);
    const routes = new Set(results.map((r) => r.decision.route));
    const reasons = new Set(results.map((r) => r.decision.reason));
    const bounds = results.map((r) => r.decision.stalenessBoundMs);
    const worst = bounds.includes(null) ? 'unbounded' : String(Math.max(...(bounds as number[])));
    return json(200, `{"results":[${parts.join(',')}]}`, {
      'x-served-by': routes.size === 1 ? ([...routes][0] as string) : 'mixed',
      'x-route-reason': reasons.size === 1 ? ([...reasons][0] as string) : 'PER_KEY',
      'x-staleness-bound-ms': worst,
    });
  }

  async function query(event: APIGatewayProxyEvent, reader: MigrationReader): Promise<APIGatewayProxyResult> {
    const { migration } = reader.target;
    const q = parseQueryBody(parseBody(event.body, event.isBase64Encoded), migration);
    const format = parseFormat(event.queryStringParameters?.format ?? q.format);
    const ctx = context(event, migration, q.consistency);
    const started = performance.now();
    const r = await reader.query(q, ctx);
    record(reader, 'query', r, started);
    const headers = decisionHeaders(r.decision);
    if (r.status === 503) return json(503, JSON.stringify({ message: r.message ?? 'unavailable' }), headers);
    const items = r.items.map((i) => itemText(i, format)).join(',');
    const token = r.nextToken ? `,"nextToken":${JSON.stringify(r.nextToken)}` : '';
    return json(
      200,
      `{"items":[${items}],"count":${r.items.length}${token},"servedBy":"${r.decision.route}"}`,
      headers,
    );
  }

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
        return await getItem(event, reader);
      }
      if (method !== 'POST') {
        telemetry.rejected(405);
        return problem(405, `${resource} takes POST`);
      }
      return resource === 'batch-get' ? await batchGet(event, reader) : await query(event, reader);
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
