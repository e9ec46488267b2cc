/**
 * What every route of the read API shares: header lookup, a request's context (consistency, X-Read-After,
 * routing key), JSON answers with the decision headers, item formats, and the telemetry record of a read.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { type Item, type Migration, itemToDynamoJson, plainJsonItem } from '../../../core/model';
import type { RouteDecision } from '../../../core/read';
import type { MigrationReader, ReadOptions, RequestContext } from '../engine';
import type { ReadTelemetry } from '../telemetry';
import { BadRequestError, Format, parseConsistency, parseReadAfter } from '../validation';

/** What the routes of one handler share: its options, telemetry, clock and randomness. */
export interface RouteEnv {
  readonly options: ReadOptions;
  readonly telemetry: ReadTelemetry;
  readonly now: () => number;
  readonly random: () => number;
}

function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(event.headers ?? {}))
    if (k.toLowerCase() === wanted && v !== undefined) return v;
  return undefined;
}

/** A JSON answer. */
export function json(
  status: number,
  body: string,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return { statusCode: status, headers: { 'content-type': 'application/json', ...headers }, body };
}

/** A JSON error answer `{"message": ...}`. */
export function problem(status: number, message: string): APIGatewayProxyResult {
  return json(status, JSON.stringify({ message }));
}

/** The headers that say how a read was served. */
export function decisionHeaders(d: RouteDecision): Record<string, string> {
  return {
    'x-served-by': d.route,
    'x-route-reason': d.reason,
    'x-staleness-bound-ms': d.stalenessBoundMs === null ? 'unbounded' : String(d.stalenessBoundMs),
    'x-consistency': d.mode,
  };
}

/** An item as JSON text in the requested format. */
export function itemText(item: Item, format: Format): string {
  return format === Format.DYNAMODB ? JSON.stringify(itemToDynamoJson(item)) : plainJsonItem(item);
}

/**
 * The request's context from its headers and query parameters (a query body may name the consistency
 * too): consistency given twice must agree, X-Read-After in its sane range, a routing key of 1 to 1024
 * characters.
 */
export function requestContext(
  env: RouteEnv,
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
  const readAfter = parseReadAfter(header(event, 'x-read-after'), env.now(), migration.read.clockSkewMs);
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

/** Records one read (a batch records each key) in telemetry; decisions are logged by sample and on 5xx. */
export function recordRead(
  env: RouteEnv,
  reader: MigrationReader,
  op: 'get' | 'batch-get' | 'query',
  r: { status: number; decision: RouteDecision; fallback: boolean; hedged?: boolean },
  started: number,
  key?: Item,
  surface?: string,
): void {
  const sampled = env.random() < env.options.decisionLogSampleRate || r.status >= 500;
  env.telemetry.read(
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
      ...(surface !== undefined ? { surface } : {}),
    },
    sampled,
  );
}
