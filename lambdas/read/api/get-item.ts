/**
 * `GET /migrations/{id}/items?key=<DynamoDB JSON key>[&consistency=..][&format=plain|dynamodb]`:
 * one key, `200 {"item": ...}`, `404` or `503`, with the decision headers.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { Item } from '../../../core/model';
import type { MigrationReader } from '../engine';
import { BadRequestError, parseFormat, parseLegacyKey } from '../validation';
import { type RouteEnv, decisionHeaders, itemText, json, recordRead, requestContext } from './http';

/** Answers a GET of one item. */
export async function getItem(
  env: RouteEnv,
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
  const ctx = requestContext(env, event, migration);
  const started = performance.now();
  const r = await reader.get(key, ctx);
  recordRead(env, reader, 'get', r, started, key);
  const headers = decisionHeaders(r.decision);
  if (r.status === 200) return json(200, `{"item":${itemText(r.item as Item, format)}}`, headers);
  if (r.status === 404) return json(404, JSON.stringify({ message: 'item not found' }), headers);
  return json(503, JSON.stringify({ message: r.message ?? 'unavailable' }), headers);
}
