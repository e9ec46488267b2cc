/**
 * Exact attribute values at the SDK boundary.
 *
 * DynamoDB stores attributes under any name, including JavaScript prototype members. The AWS SDK's
 * deserializers do not keep all of them (found on DynamoDB Local, @aws-sdk/client-dynamodb 3.1169 and
 * client-dynamodb-streams 3.1141; pinned by test/integration/model/prototype-names.test.ts):
 *
 * 1. a top-level attribute named `__proto__` comes back with the value `undefined` (GetItem, Scan,
 *    Query, BatchGetItem, ExecuteStatement): the map reader redefines the key before reading it;
 * 2. the streams client drops a nested `__proto__` (inside M, also inside L) without a trace;
 * 3. a ConditionalCheckFailedException with `ReturnValuesOnConditionCheckFailure: ALL_OLD` whose item
 *    holds such a nested map fails to parse at all (a TypeError instead of the exception);
 * 4. every map comes back as a plain object, so a missing `toString` reads as Object.prototype's.
 *
 * So dualread reads attribute values from the raw JSON itself. Two middlewares around the SDK's
 * deserializer, for the operations that return items (`ITEM_PATHS`) and for error bodies:
 *
 * - inside it (raw response): read the body, decode every attribute map of the known paths into
 *   prototype-free objects (`decodeWireItem`: exact, binary base64-decoded, numbers as text), and hand
 *   the SDK the same JSON with those maps replaced by `{}`, so it has nothing to lose or choke on;
 * - outside it (parsed output or thrown error): put the exact maps back at the same paths.
 *
 * The write direction needs nothing: the SDK's serializer keeps own `__proto__` keys, including in
 * prototype-free objects (the same test writes through PutItem and PartiQL parameters and reads back).
 */

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';

/** A path in an output or error body: member names, `*` for every element of an array or map. */
type Path = readonly string[];

const ITEMS = [['Items', '*'], ['LastEvaluatedKey']] as const;
const COLLECTION_KEY = ['ItemCollectionMetrics', 'ItemCollectionKey'] as const;
const COLLECTION_KEYS = ['ItemCollectionMetrics', '*', '*', 'ItemCollectionKey'] as const;

/** Where each operation's output holds attribute maps (items and keys). */
export const ITEM_PATHS: Readonly<Record<string, readonly Path[]>> = {
  GetItemCommand: [['Item']],
  PutItemCommand: [['Attributes'], COLLECTION_KEY],
  UpdateItemCommand: [['Attributes'], COLLECTION_KEY],
  DeleteItemCommand: [['Attributes'], COLLECTION_KEY],
  QueryCommand: ITEMS,
  ScanCommand: ITEMS,
  ExecuteStatementCommand: ITEMS,
  BatchGetItemCommand: [
    ['Responses', '*', '*'],
    ['UnprocessedKeys', '*', 'Keys', '*'],
  ],
  BatchWriteItemCommand: [
    ['UnprocessedItems', '*', '*', 'PutRequest', 'Item'],
    ['UnprocessedItems', '*', '*', 'DeleteRequest', 'Key'],
    COLLECTION_KEYS,
  ],
  BatchExecuteStatementCommand: [
    ['Responses', '*', 'Item'],
    ['Responses', '*', 'Error', 'Item'],
  ],
  TransactGetItemsCommand: [['Responses', '*', 'Item']],
  TransactWriteItemsCommand: [COLLECTION_KEYS],
  ExecuteTransactionCommand: [['Responses', '*', 'Item']],
  GetRecordsCommand: [
    ['Records', '*', 'dynamodb', 'Keys'],
    ['Records', '*', 'dynamodb', 'NewImage'],
    ['Records', '*', 'dynamodb', 'OldImage'],
  ],
};

/** Where error bodies hold items (ConditionalCheckFailed with ALL_OLD, TransactionCanceled reasons). */
const ERROR_PATHS: readonly Path[] = [['Item'], ['CancellationReasons', '*', 'Item']];

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function hasOwn(o: object, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

function base64(text: unknown): unknown {
  if (typeof text !== 'string') return text;
  const b = Buffer.from(text, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Decodes one attribute value of trusted wire JSON exactly: maps become prototype-free objects,
 * binary is decoded, numbers stay text. Shapes it does not know (DynamoDB Local writes an empty map
 * as `{}` in stream records) are passed on as they are, for the consumer's validation to name.
 */
function decodeWireValue(value: unknown): unknown {
  if (!isObject(value)) return value;
  const tags = Object.keys(value);
  if (tags.length !== 1) return value;
  const tag = tags[0] as string;
  const inner = value[tag];
  switch (tag) {
    case 'B':
      return { B: base64(inner) };
    case 'BS':
      return Array.isArray(inner) ? { BS: inner.map(base64) } : value;
    case 'L':
      return Array.isArray(inner) ? { L: inner.map(decodeWireValue) } : value;
    case 'M':
      return isObject(inner) ? { M: decodeWireItem(inner) } : value;
    default:
      return value;
  }
}

/** Decodes an attribute map of trusted wire JSON into a prototype-free object (see decodeWireValue). */
export function decodeWireItem(json: Json): Json {
  const out = Object.create(null) as Json;
  for (const name of Object.keys(json)) out[name] = decodeWireValue(json[name]);
  return out;
}

/** An exact attribute map and where it belongs. */
interface Extracted {
  readonly at: readonly (string | number)[];
  readonly value: Json;
}

/** Takes the attribute maps at `path` out of `node` (replacing each with `{}`), decoded exactly. */
function extract(node: unknown, path: Path, at: readonly (string | number)[], out: Extracted[]): void {
  if (typeof node !== 'object' || node === null) return;
  const [head, ...rest] = path as [string, ...string[]];
  const container = node as Record<string | number, unknown>;
  const keys: Array<string | number> =
    head !== '*' ? [head] : Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
  for (const k of keys) {
    if (!Array.isArray(node) && !hasOwn(node, String(k))) continue;
    const child = container[k];
    if (rest.length > 0) {
      extract(child, rest, [...at, k], out);
    } else if (isObject(child)) {
      out.push({ at: [...at, k], value: decodeWireItem(child) });
      container[k] = {};
    }
  }
}

/** Puts an exact map back at its path in the SDK's output (or error), creating containers it lacks. */
function plant(target: unknown, e: Extracted): void {
  let node = target as Record<string | number, unknown>;
  for (let i = 0; i < e.at.length - 1; i++) {
    const k = e.at[i] as string | number;
    let next = hasOwn(node, String(k)) ? node[k] : undefined;
    if (typeof next !== 'object' || next === null) {
      next = typeof e.at[i + 1] === 'number' ? [] : {};
      Object.defineProperty(node, k, { value: next, writable: true, enumerable: true, configurable: true });
    }
    node = next as Record<string | number, unknown>;
  }
  Object.defineProperty(node, e.at[e.at.length - 1] as string | number, {
    value: e.value,
    writable: true,
    enumerable: true,
    configurable: true,
  });
}

async function readBody(body: unknown): Promise<Uint8Array | undefined> {
  if (body instanceof Uint8Array) return body;
  if (typeof body !== 'object' || body === null || !(Symbol.asyncIterator in body)) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

const EXTRACTED = Symbol('dualread.exactAttributeValues');

/** The structural slice of the SDK's middleware API used here (so no @smithy types are imported). */
interface HandlerResult {
  readonly output?: unknown;
  readonly response?: unknown;
}
type Handler = (args: unknown) => Promise<HandlerResult>;
type Context = { commandName?: string; [EXTRACTED]?: Extracted[] };
type Middleware = (next: Handler, context: Context) => Handler;
interface StackLike {
  add(
    middleware: Middleware,
    options: { step: 'deserialize'; priority: 'high' | 'low'; name: string; override: boolean },
  ): void;
}

/**
 * Installs the two middlewares on a DynamoDB or DynamoDB Streams client (`makeDynamoClient` and
 * `makeStreamsClient` do it for every client dualread builds).
 */
export function keepExactAttributeValues(client: DynamoDBClient | DynamoDBStreamsClient): void {
  // The stack's `add` is overloaded per step and generic per client; this is its deserialize form.
  const stack = client.middlewareStack as unknown as StackLike;
  // Inside the deserializer: sees the raw HTTP response of each attempt.
  stack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const response = result.response as { statusCode?: number; body?: unknown } | undefined;
      const status = response?.statusCode ?? 200;
      const paths = status >= 300 ? ERROR_PATHS : ITEM_PATHS[context.commandName ?? ''];
      if (!response || !paths) return result;
      const bytes = await readBody(response.body);
      if (bytes === undefined) return result;
      response.body = bytes;
      let json: unknown;
      try {
        json = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
      } catch {
        return result; // not JSON (a proxy's error page): the SDK reports it
      }
      const extracted: Extracted[] = [];
      for (const path of paths) extract(json, path, [], extracted);
      if (extracted.length > 0) {
        response.body = Buffer.from(JSON.stringify(json), 'utf8');
        context[EXTRACTED] = extracted;
      }
      return result;
    },
    { step: 'deserialize', priority: 'low', name: 'dualreadRawAttributeValues', override: true },
  );
  // Outside the deserializer: puts the exact maps into the parsed output, or into the thrown error.
  stack.add(
    (next, context) => async (args) => {
      delete context[EXTRACTED];
      let result: HandlerResult;
      try {
        result = await next(args);
      } catch (err) {
        for (const e of context[EXTRACTED] ?? []) plant(err, e);
        throw err;
      }
      for (const e of context[EXTRACTED] ?? []) plant(result.output, e);
      return result;
    },
    { step: 'deserialize', priority: 'high', name: 'dualreadExactAttributeValues', override: true },
  );
}
