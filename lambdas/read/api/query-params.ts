/**
 * The query-string form of a query page, for `GET /migrations/{id}/query?surface=<name>&…`: the same
 * request as the POST body, written as text parameters a browser, `curl` or a load balancer health
 * check can send. Values are typed by the surface's legacy key attribute: a string as it is, a number
 * as its decimal text (kept exactly, up to 38 digits), a binary as base64.
 *
 * | parameter                      | meaning                                                       |
 * | ------------------------------ | ------------------------------------------------------------- |
 * | `surface`                      | the declared query surface; `base` when absent                |
 * | `partitionKey` (required)      | the legacy partition value of that surface                    |
 * | `sortKey.<op>`                 | one sort-key condition: eq, lt, le, gt, ge, beginsWith        |
 * | `sortKey.ge` + `sortKey.le`    | together: BETWEEN, both ends included                         |
 * | `limit`                        | 1..1000 (default 100)                                         |
 * | `forward`                      | `true` (default) or `false`                                   |
 * | `nextToken`                    | the previous page's token                                     |
 * | `consistency`, `format`        | as on every route (or the `X-Consistency` header)             |
 *
 * An unknown parameter is a 400 naming it (a typo such as `sortkey.eq` must not silently drop the
 * condition and return a whole partition).
 */
import { z } from 'zod';
import type { KeyAttribute, Migration } from '../../../core/model';
import { BadRequestError, MAX_QUERY_LIMIT, type QueryRequest, parseQueryBody } from '../validation';

const SINGLE_OPS = ['eq', 'lt', 'le', 'gt', 'ge', 'beginsWith'] as const;
type SingleOp = (typeof SINGLE_OPS)[number];
const SORT_PARAMS = SINGLE_OPS.map((op) => `sortKey.${op}`);
const PLAIN_PARAMS = ['surface', 'partitionKey', 'limit', 'forward', 'nextToken', 'consistency', 'format'];
/** Every parameter `GET .../query` accepts. */
export const QUERY_PARAMS: readonly string[] = [...PLAIN_PARAMS, ...SORT_PARAMS];

const text = (name: string) =>
  z
    .string({ error: `${name} must be given once, as text` })
    .max(4096, `${name} is longer than 4096 characters`);

const paramsSchema = z.object({
  surface: text('surface').max(64, 'surface is longer than 64 characters').optional(),
  partitionKey: text('partitionKey').optional(),
  limit: z
    .string()
    .regex(/^\d{1,4}$/, `limit must be a whole number from 1 to ${MAX_QUERY_LIMIT}`)
    .optional(),
  forward: z.enum(['true', 'false'], { error: 'forward must be "true" or "false"' }).optional(),
  nextToken: text('nextToken').optional(),
  consistency: text('consistency').optional(),
  format: text('format').optional(),
  ...Object.fromEntries(SORT_PARAMS.map((p) => [p, text(p).optional()])),
});

/** A text parameter as the DynamoDB JSON value of a key attribute of type `type`. */
function typed(value: string, attr: KeyAttribute): Record<string, string> {
  return { [attr.type]: value };
}

/**
 * Turns the query-string parameters of `GET .../query` into a validated query request: the same
 * checks, limits and messages as the POST body (`parseQueryBody`), each message naming the parameter.
 *
 * @throws BadRequestError naming the parameter and what to send instead
 */
export function parseQueryParams(
  params: Readonly<Record<string, string | undefined>> | null | undefined,
  migration: Migration,
): QueryRequest {
  const given = Object.fromEntries(Object.entries(params ?? {}).filter(([, v]) => v !== undefined));
  const unknown = Object.keys(given).filter((k) => !QUERY_PARAMS.includes(k));
  if (unknown.length)
    throw new BadRequestError(
      `unknown query parameter${unknown.length > 1 ? 's' : ''} ${unknown
        .slice(0, 5)
        .map((k) => `"${k.slice(0, 40)}"`)
        .join(', ')}; GET .../query takes ${QUERY_PARAMS.join(', ')}`,
    );
  const parsed = paramsSchema.safeParse(given);
  if (!parsed.success) throw new BadRequestError(`query.${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const p = parsed.data as Record<string, string | undefined>;
  const surfaceName = p.surface ?? 'base';
  const surface = Object.hasOwn(migration.queries, surfaceName) ? migration.queries[surfaceName] : undefined;
  // An unknown surface is refused by parseQueryBody with the declared list; until then, the base key types.
  const key = surface?.legacy.key ?? migration.legacyTable.key;
  if (p.partitionKey === undefined)
    throw new BadRequestError(
      `query.partitionKey is required: the legacy "${key.partitionKey.name}" value (${key.partitionKey.type}) to query`,
    );
  const ops = SINGLE_OPS.filter((op) => p[`sortKey.${op}`] !== undefined);
  let sortKey: Record<string, unknown> | undefined;
  if (ops.length) {
    // Without a sort key there is nothing to type the values by; parseQueryBody refuses the condition.
    const attr: KeyAttribute = key.sortKey ?? { name: '?', type: 'S' };
    const v = (op: SingleOp): Record<string, string> => typed(p[`sortKey.${op}`] as string, attr);
    if (ops.length === 2 && ops.includes('ge') && ops.includes('le'))
      sortKey = { between: [v('ge'), v('le')] };
    else if (ops.length === 1) sortKey = { [ops[0] as SingleOp]: v(ops[0] as SingleOp) };
    else
      throw new BadRequestError(
        `query: sort-key conditions ${ops.map((op) => `sortKey.${op}`).join(', ')} cannot be combined; ` +
          'give one, or sortKey.ge with sortKey.le for a range (both ends included)',
      );
  }
  const body = {
    partitionKey: typed(p.partitionKey, key.partitionKey),
    ...(sortKey ? { sortKey } : {}),
    ...(p.limit !== undefined ? { limit: Number(p.limit) } : {}),
    ...(p.forward !== undefined ? { forward: p.forward === 'true' } : {}),
    ...(p.nextToken !== undefined ? { nextToken: p.nextToken } : {}),
  };
  return parseQueryBody(body, migration, surfaceName, 'query');
}
