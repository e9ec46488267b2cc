/**
 * Request validation of the read API. Every malformed input becomes a `BadRequestError` (400) whose
 * message names the problem; nothing a client sends can produce a 5xx.
 */
import { z } from 'zod';
import { isConsistencyMode, readAfterProblem } from '../../core/read';
import { DualReadError } from '../../core/common';
import {
  BASE_SURFACE,
  type ConsistencyMode,
  type KeySchema,
  type Migration,
  keyNames,
  type AttributeValue,
  type Item,
  InvalidValueError,
  canonicalItem,
  compareScalars,
  fromDynamoJson,
  itemFromDynamoJson,
  typeOf,
} from '../../core/model';
import type { SortCondition } from '../../adapters/item-store';

/** Errors of the read API that map to an HTTP status. */
export class ReadApiError extends DualReadError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The request is malformed; the message names the problem. `detail` (for instance DynamoDB's raw
 * refusal) is logged, never returned to the client.
 */
export class BadRequestError extends ReadApiError {
  constructor(
    message: string,
    readonly detail?: string,
  ) {
    super(400, message);
  }
}

/** Largest request body accepted (a batch of 100 maximal keys fits). */
export const MAX_BODY_BYTES = 512 * 1024;
/** DynamoDB's limits on key attribute values. */
const MAX_PARTITION_BYTES = 2048;
const MAX_SORT_BYTES = 1024;
/** Most keys in one batch get. */
export const MAX_BATCH_KEYS = 100;
/** Most items in one query page. */
export const MAX_QUERY_LIMIT = 1000;

/** Response formats. */
export const Format = { PLAIN: 'plain', DYNAMODB: 'dynamodb' } as const;
export type Format = (typeof Format)[keyof typeof Format];

function zodProblem(where: string, error: z.ZodError): BadRequestError {
  const first = error.issues[0];
  const path = first && first.path.length ? `${where}.${first.path.join('.')}` : where;
  return new BadRequestError(`${path}: ${first?.message ?? 'invalid'}`);
}

function byteLength(v: AttributeValue): number {
  if ('S' in v) return Buffer.byteLength(v.S, 'utf8');
  if ('B' in v) return v.B.length;
  if ('N' in v) return v.N.length;
  return 0;
}

/**
 * Checks a key against a key schema: exactly the key attributes, of the schema's types, non-empty
 * strings and binaries, within DynamoDB's size limits.
 */
export function checkKey(key: Item, schema: KeySchema, where: string): Item {
  const names = keyNames(schema);
  const extra = Object.keys(key).filter((n) => !names.includes(n));
  if (extra.length) {
    throw new BadRequestError(
      `${where} has attribute${extra.length > 1 ? 's' : ''} ${extra.map((n) => `"${n}"`).join(', ')} that ${extra.length > 1 ? 'are' : 'is'} not part of the key (${names.join(', ')})`,
    );
  }
  for (const [attr, max] of [
    [schema.partitionKey, MAX_PARTITION_BYTES],
    [schema.sortKey, MAX_SORT_BYTES],
  ] as const) {
    if (!attr) continue;
    const v = key[attr.name];
    if (v === undefined) throw new BadRequestError(`${where} lacks key attribute "${attr.name}"`);
    checkKeyValue(v, attr.type, `${where}.${attr.name}`, max);
  }
  return key;
}

function checkKeyValue(v: AttributeValue, type: string, where: string, max: number): void {
  if (typeOf(v) !== type) throw new BadRequestError(`${where} must be of type ${type}, not ${typeOf(v)}`);
  if (('S' in v || 'B' in v) && byteLength(v) === 0) throw new BadRequestError(`${where} must not be empty`);
  if (byteLength(v) > max)
    throw new BadRequestError(`${where} is ${byteLength(v)} bytes; a key attribute holds at most ${max}`);
}

/** Parses a key given as DynamoDB JSON (text or value) and checks it against the legacy key schema. */
export function parseLegacyKey(json: unknown, migration: Migration, where: string): Item {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json) as unknown;
    } catch {
      throw new BadRequestError(
        `${where} is not valid JSON; pass a key in DynamoDB JSON, e.g. {"userId":{"S":"u-1"}}`,
      );
    }
  }
  let key: Item;
  try {
    key = itemFromDynamoJson(value, where);
  } catch (err) {
    throw new BadRequestError((err as InvalidValueError).message);
  }
  return checkKey(key, migration.legacyTable.key, where);
}

/** Parses a request consistency value. */
export function parseConsistency(value: string | undefined, where: string): ConsistencyMode | undefined {
  if (value === undefined || value === '') return undefined;
  if (!isConsistencyMode(value)) {
    throw new BadRequestError(
      `unknown consistency value "${value.slice(0, 40)}" in ${where}; expected one of legacy, shadow, bounded, strong, new`,
    );
  }
  return value;
}

/**
 * Parses X-Read-After: epoch milliseconds, or an ISO-8601 date-time, in the sane range of
 * `readAfterProblem` (core/read/freshness.ts) for this reader's clock `now`.
 */
export function parseReadAfter(
  value: string | undefined,
  now: number,
  clockSkewMs: number,
): number | undefined {
  if (value === undefined || value === '') return undefined;
  let t: number | undefined;
  if (/^\d{1,16}$/.test(value)) t = Number(value);
  else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    const parsed = Date.parse(value);
    if (Number.isFinite(parsed)) t = parsed;
  }
  if (t === undefined) {
    throw new BadRequestError(
      `X-Read-After "${value.slice(0, 40)}" must be epoch milliseconds or an ISO-8601 date-time with zone`,
    );
  }
  const problem = readAfterProblem(t, now, clockSkewMs);
  if (problem) throw new BadRequestError(`X-Read-After "${value.slice(0, 40)}" ${problem}`);
  return t;
}

/** Parses the response format. */
export function parseFormat(value: string | undefined): Format {
  if (value === undefined || value === '' || value === Format.PLAIN) return Format.PLAIN;
  if (value === Format.DYNAMODB) return Format.DYNAMODB;
  throw new BadRequestError(`unknown format "${value.slice(0, 40)}"; expected plain or dynamodb`);
}

/** Parses a JSON request body. */
export function parseBody(body: string | null | undefined, isBase64: boolean): unknown {
  if (body === null || body === undefined || body === '')
    throw new BadRequestError('request body is missing; send a JSON object');
  const text = isBase64 ? Buffer.from(body, 'base64').toString('utf8') : body;
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) {
    throw new BadRequestError(
      `request body is ${Buffer.byteLength(text)} bytes; at most ${MAX_BODY_BYTES} are accepted`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new BadRequestError(`request body is not valid JSON: ${(err as Error).message.slice(0, 120)}`);
  }
}

const batchSchema = z.strictObject({
  keys: z
    .array(z.unknown())
    .min(1, 'at least one key is required')
    .max(MAX_BATCH_KEYS, `at most ${MAX_BATCH_KEYS} keys per batch`),
});

/**
 * Parses a batch-get body: `{ "keys": [<key>, ...] }` (1..100 distinct keys). Keys are compared as
 * DynamoDB compares them (the parsed key, canonically: a key given as an object and as a JSON string,
 * or a number written two ways, is one key); a repeated key is a 400, as in BatchGetItem.
 */
export function parseBatchBody(body: unknown, migration: Migration): Item[] {
  const parsed = batchSchema.safeParse(body);
  if (!parsed.success) throw zodProblem('body', parsed.error);
  const seen = new Map<string, number>();
  return parsed.data.keys.map((k, i) => {
    const key = parseLegacyKey(k, migration, `body.keys[${i}]`);
    const id = canonicalItem(key);
    const first = seen.get(id);
    if (first !== undefined)
      throw new BadRequestError(
        `body.keys[${i}] repeats body.keys[${first}]; keys in a batch must be distinct`,
      );
    seen.set(id, i);
    return key;
  });
}

const sortOps = ['eq', 'lt', 'le', 'gt', 'ge', 'beginsWith', 'between'] as const;
const querySchema = z.strictObject({
  partitionKey: z
    .unknown()
    .refine((v) => v !== undefined, 'is required (a DynamoDB JSON value, e.g. {"S":"u-1"})'),
  sortKey: z
    .record(z.string(), z.unknown())
    .refine(
      (o) => Object.keys(o).length === 1 && sortOps.includes(Object.keys(o)[0] as (typeof sortOps)[number]),
      {
        message: `must have exactly one of ${sortOps.join(', ')}`,
      },
    )
    .optional(),
  limit: z.number().int().min(1).max(MAX_QUERY_LIMIT).optional(),
  forward: z.boolean().optional(),
  nextToken: z.string().min(1).max(4096).optional(),
  consistency: z.string().optional(),
  format: z.string().optional(),
  surface: z.string().max(64).optional(),
});

/** A validated query request. */
export interface QueryRequest {
  /** The declared query surface (`base`: the base table). */
  readonly surface: string;
  readonly partitionValue: AttributeValue;
  readonly sort?: SortCondition;
  readonly limit: number;
  readonly forward: boolean;
  readonly nextToken?: string;
  readonly consistency?: string;
  readonly format?: string;
}

function parseValue(json: unknown, where: string): AttributeValue {
  try {
    return fromDynamoJson(json, where);
  } catch (err) {
    throw new BadRequestError((err as InvalidValueError).message);
  }
}

/**
 * Parses a query body (see docs/architecture.md, "Dual-read API"). `source` names where the request
 * came from in messages: `body` for `POST .../query`, `query` for the parameters of `GET .../query`
 * (which `parseQueryParams`, api/query-params.ts, turns into this shape first).
 */
export function parseQueryBody(
  body: unknown,
  migration: Migration,
  surfaceParam?: string,
  source: 'body' | 'query' = 'body',
): QueryRequest {
  const parsed = querySchema.safeParse(body);
  if (!parsed.success) throw zodProblem(source, parsed.error);
  const q = parsed.data;
  if (surfaceParam !== undefined && q.surface !== undefined && surfaceParam !== q.surface)
    throw new BadRequestError(
      `the surface is named twice, differently (?surface=${surfaceParam}, body.surface ${q.surface}); name it once`,
    );
  const surfaceName = surfaceParam ?? q.surface ?? BASE_SURFACE;
  const surface = Object.hasOwn(migration.queries, surfaceName) ? migration.queries[surfaceName] : undefined;
  if (!surface)
    throw new BadRequestError(
      `unknown query surface "${surfaceName.slice(0, 64)}"; this migration declares ${Object.keys(
        migration.queries,
      )
        .map((n) => `"${n}"`)
        .join(', ')}`,
    );
  const { partitionKey: pk, sortKey: skSchema } = surface.legacy.key;
  const partitionValue = parseValue(q.partitionKey, `${source}.partitionKey`);
  checkKeyValue(partitionValue, pk.type, `${source}.partitionKey (${pk.name})`, MAX_PARTITION_BYTES);
  let sort: SortCondition | undefined;
  if (q.sortKey) {
    if (!skSchema)
      throw new BadRequestError(
        surface.legacy.index
          ? `${source}.sortKey: the legacy index "${surface.legacy.index}" of surface "${surface.name}" has no sort key; query by partition key only`
          : `${source}.sortKey: the legacy table has no sort key; query by partition key only`,
      );
    if (!surface.orderPreserved)
      throw new BadRequestError(
        `${source}.sortKey: surface "${surface.name}" does not preserve sort order, so a sort-key condition cannot be served on it`,
      );
    const [op, raw] = Object.entries(q.sortKey)[0] as [(typeof sortOps)[number], unknown];
    const where = `${source}.sortKey.${op}`;
    if (op === 'between') {
      if (!Array.isArray(raw) || raw.length !== 2)
        throw new BadRequestError(`${where} must be an array of two values [from, to]`);
      const from = parseValue(raw[0], `${where}[0]`);
      const to = parseValue(raw[1], `${where}[1]`);
      checkKeyValue(from, skSchema.type, `${where}[0]`, MAX_SORT_BYTES);
      checkKeyValue(to, skSchema.type, `${where}[1]`, MAX_SORT_BYTES);
      if ((compareScalars(from, to) ?? 0) > 0)
        throw new BadRequestError(`${where}: from must not be greater than to`);
      sort = { op, value: from, to };
    } else {
      const value = parseValue(raw, where);
      if (op === 'beginsWith' && skSchema.type === 'N')
        throw new BadRequestError(`${where}: beginsWith needs a string or binary sort key`);
      checkKeyValue(value, skSchema.type, where, MAX_SORT_BYTES);
      sort = { op, value };
    }
  }
  return {
    surface: surface.name,
    partitionValue,
    ...(sort ? { sort } : {}),
    limit: q.limit ?? 100,
    forward: q.forward ?? true,
    ...(q.nextToken ? { nextToken: q.nextToken } : {}),
    ...(q.consistency !== undefined ? { consistency: q.consistency } : {}),
    ...(q.format !== undefined ? { format: q.format } : {}),
  };
}
