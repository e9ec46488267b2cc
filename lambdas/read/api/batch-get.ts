/**
 * `POST /migrations/{id}/batch-get` body `{"keys": [<key>, ...]}` (1..100 distinct keys): one result
 * per key in request order, each routed on its own; the headers summarize (`mixed`, `PER_KEY`, the
 * largest staleness bound).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { type Item, itemToDynamoJson } from '../../../core/model';
import type { MigrationReader } from '../engine';
import { parseBatchBody, parseBody, parseFormat } from '../validation';
import { type RouteEnv, itemText, json, recordRead, requestContext } from './http';

/** Answers a batch get. */
export async function batchGet(
  env: RouteEnv,
  event: APIGatewayProxyEvent,
  reader: MigrationReader,
): Promise<APIGatewayProxyResult> {
  const { migration } = reader.target;
  const format = parseFormat(event.queryStringParameters?.format);
  const keys = parseBatchBody(parseBody(event.body, event.isBase64Encoded), migration);
  const ctx = requestContext(env, event, migration);
  const started = performance.now();
  const results = await reader.getMany(keys, ctx);
  const parts = results.map((r, i) => {
    const key = JSON.stringify(itemToDynamoJson(keys[i] as Item));
    const meta = `"status":${r.status},"servedBy":"${r.decision.route}","reason":"${r.decision.reason}","stalenessBoundMs":${r.decision.stalenessBoundMs === null ? 'null' : r.decision.stalenessBoundMs}`;
    const item = r.status === 200 ? `,"item":${itemText(r.item as Item, format)}` : '';
    const message = r.message ? `,"message":${JSON.stringify(r.message)}` : '';
    return `{"key":${key},${meta}${item}${message}}`;
  });
  // Per key: served-from counts and reasons; the latency recorded is the whole batch's.
  for (const [i, r] of results.entries()) recordRead(env, reader, 'batch-get', r, started, keys[i]);
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
