/**
 * `POST /migrations/{id}/query` body `{"partitionKey": <value>, "sortKey"?: {"<op>": <value>},
 * "limit"?: 1..1000, "forward"?: bool, "nextToken"?: str}`: one page,
 * `200 {"items": [...], "count", "nextToken"?, "servedBy"}`, `409` (a page sequence of a surface
 * whose store may no longer serve it: restart the query) or `503`, with the decision headers. The
 * body's `"surface"` (or `?surface=`) names a declared query surface; `base` when absent.
 * `GET /migrations/{id}/query?surface=<name>&partitionKey=…` is the same request in query-string
 * parameters (`parseQueryParams`, query-params.ts), answered by the same engine.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { MigrationReader } from '../engine';
import { parseBody, parseFormat, parseQueryBody } from '../validation';
import { type RouteEnv, decisionHeaders, itemText, json, recordRead, requestContext } from './http';
import { parseQueryParams } from './query-params';

/** Answers a query page. */
export async function query(
  env: RouteEnv,
  event: APIGatewayProxyEvent,
  reader: MigrationReader,
): Promise<APIGatewayProxyResult> {
  const { migration } = reader.target;
  const q =
    event.httpMethod === 'GET'
      ? parseQueryParams(event.queryStringParameters, migration)
      : parseQueryBody(
          parseBody(event.body, event.isBase64Encoded),
          migration,
          event.queryStringParameters?.surface ?? undefined,
        );
  const format = parseFormat(event.queryStringParameters?.format ?? q.format);
  const ctx = requestContext(env, event, migration, q.consistency);
  const started = performance.now();
  const r = await reader.query(q, ctx);
  recordRead(env, reader, 'query', r, started, undefined, q.surface);
  // The surface's served pages, for the per-surface facts (`dualread surfaces`); fire and forget.
  if (r.status === 200) reader.target.counters?.served?.(q.surface, r.decision.route, env.now());
  const headers = decisionHeaders(r.decision);
  if (r.status !== 200)
    return json(r.status, JSON.stringify({ message: r.message ?? 'unavailable' }), headers);
  const items = r.items.map((i) => itemText(i, format)).join(',');
  const token = r.nextToken ? `,"nextToken":${JSON.stringify(r.nextToken)}` : '';
  return json(
    200,
    `{"items":[${items}],"count":${r.items.length}${token},"servedBy":"${r.decision.route}"}`,
    headers,
  );
}
