/**
 * Query surfaces on DynamoDB Local: the example's legacy GSI `users-by-email` served from the new
 * table's overloaded GSI1 through the read API, in every mode, with page tokens, the surface filter
 * (another entity type shares GSI1), refusals of bad requests, and shadow comparison telling a GSI's
 * propagation delay (`index-lag`) apart from a real mismatch.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { Phase } from '../../../core/control';
import { itemFromDynamoJson, toDynamoJson } from '../../../core/model';
import type { ItemStore } from '../../../adapters/item-store';
import { usersMigration } from '../../../examples/users/migration';
import { buildReadTarget } from '../../../lambdas/read/deps';
import { makeReadHandler } from '../../../lambdas/read/handler';
import { type MismatchEvent, NO_TELEMETRY } from '../../../lambdas/read/telemetry';
import { apiEvent, body } from '../../helpers/api-events';
import { testEndpoint } from '../../helpers/dynamo';
import { type ReadFixture, handlerFor, readFixture, user } from '../../helpers/read-fixture';

const ADA = 'ada@example.com';
type Handler = (e: ReturnType<typeof apiEvent>) => Promise<APIGatewayProxyResult>;

function byEmail(
  handler: Handler,
  email: string,
  options: { consistency?: string; limit?: number; nextToken?: string; extra?: Record<string, unknown> } = {},
): Promise<APIGatewayProxyResult> {
  return handler(
    apiEvent('POST', `/migrations/users/query`, {
      query: { surface: 'by-email', format: 'dynamodb' },
      ...(options.consistency ? { headers: { 'x-consistency': options.consistency } } : {}),
      body: {
        partitionKey: { S: email },
        ...(options.limit ? { limit: options.limit } : {}),
        ...(options.nextToken ? { nextToken: options.nextToken } : {}),
        ...options.extra,
      },
    }),
  );
}

/** The read handler; the store timeouts are not under test here, so a loaded machine cannot fail a read. */
const surfacesHandler = (f: ReadFixture) => handlerFor(f, { options: { newTimeoutMs: 30_000 } });

const ids = (r: APIGatewayProxyResult): string[] =>
  (body(r).items as unknown[]).map((i) => {
    const item = itemFromDynamoJson(i);
    return 'S' in (item.userId ?? {}) ? (item.userId as { S: string }).S : '?';
  });

describe('Integration: the by-email query surface', () => {
  let f: ReadFixture;
  beforeAll(async () => {
    f = await readFixture(usersMigration, { controlCacheMs: 0, indexPropagationMarginMs: 50 });
    for (const id of ['u-1', 'u-2', 'u-3']) {
      const u = user(id, { email: { S: id === 'u-3' ? 'grace@example.com' : ADA } });
      await f.putLegacy(u);
      await f.putNew(u);
    }
    // Another entity type sharing the overloaded GSI1 partition: the surface's filter drops it.
    await f.putNewRaw({
      PK: { S: 'ORG#acme' },
      SK: { S: 'ORG' },
      GSI1PK: { S: `EMAIL#${ADA}` },
      GSI1SK: { S: 'ORG#acme' },
    });
    await f.setState(Phase.NEW_PRIMARY, { backfillComplete: true });
    await f.setFrontier(Date.now() + 60_000);
  });
  afterAll(() => f.destroy());

  it('serves bounded reads from GSI1 with the index margin in the bound, and strong reads equal to legacy', async () => {
    const handler = surfacesHandler(f);
    const bounded = await byEmail(handler, ADA);
    expect(bounded.statusCode).toBe(200);
    expect([bounded.headers?.['x-served-by'], bounded.headers?.['x-route-reason']]).toEqual([
      'new',
      'FRESH_BACKFILL_COMPLETE',
    ]);
    expect(ids(bounded).sort()).toEqual(['u-1', 'u-2']);
    expect((body(bounded).items as unknown[]).map((i) => itemFromDynamoJson(i))).toEqual(
      expect.arrayContaining([user('u-1', { email: { S: ADA } })]),
    );
    const strong = await byEmail(handler, ADA, { consistency: 'strong' });
    expect(strong.headers?.['x-route-reason']).toBe('STRONG_EQUAL');
    expect(ids(strong).sort()).toEqual(['u-1', 'u-2']);
    const legacy = await byEmail(handler, ADA, { consistency: 'legacy' });
    expect(legacy.headers?.['x-served-by']).toBe('legacy');
    expect(ids(legacy).sort()).toEqual(['u-1', 'u-2']);
  });

  it('pages with tokens pinned to the store, without repeating or skipping', async () => {
    const handler = surfacesHandler(f);
    for (const consistency of ['bounded', 'legacy']) {
      const seen: string[] = [];
      let token: string | undefined;
      do {
        const r = await byEmail(handler, ADA, {
          consistency,
          limit: 1,
          ...(token ? { nextToken: token } : {}),
        });
        expect(r.statusCode).toBe(200);
        expect(r.headers?.['x-served-by']).toBe(consistency === 'bounded' ? 'new' : 'legacy');
        seen.push(...ids(r));
        token = body(r).nextToken as string | undefined;
      } while (token);
      expect(seen.sort()).toEqual(['u-1', 'u-2']);
    }
  });

  it('refuses an unknown surface, a sort condition on an unordered surface and a token of another query', async () => {
    const handler = surfacesHandler(f);
    const unknown = await handler(
      apiEvent('POST', '/migrations/users/query', {
        query: { surface: 'by-name' },
        body: { partitionKey: { S: 'x' } },
      }),
    );
    expect(unknown.statusCode).toBe(400);
    expect(body(unknown).message).toBe(
      'unknown query surface "by-name"; this migration declares "base", "by-email"',
    );
    const sorted = await byEmail(handler, ADA, { extra: { sortKey: { eq: { S: 'x' } } } });
    expect(sorted.statusCode).toBe(400);
    expect(body(sorted).message).toMatch(
      /legacy index "users-by-email" of surface "by-email" has no sort key/,
    );
    const first = await byEmail(handler, ADA, { limit: 1 });
    const other = await byEmail(handler, 'grace@example.com', { nextToken: body(first).nextToken as string });
    expect(other.statusCode).toBe(400);
  });

  it('answers 409 when the store a page sequence is pinned to may no longer serve it', async () => {
    const handler = surfacesHandler(f);
    const first = await byEmail(handler, ADA, { limit: 1 });
    expect(first.headers?.['x-served-by']).toBe('new');
    await f.setState(Phase.SHADOW, { backfillComplete: true });
    try {
      const next = await byEmail(handler, ADA, { limit: 1, nextToken: body(first).nextToken as string });
      expect(next.statusCode).toBe(409);
      expect(body(next).message).toMatch(/restart the query without nextToken/);
    } finally {
      await f.setState(Phase.NEW_PRIMARY, { backfillComplete: true });
    }
  });

  it('shadow-compares a first page and counts GSI propagation as index-lag, a lasting difference as a mismatch', async () => {
    // New's GSI1 "lags": its first `lagging` index queries miss u-2, as an index not yet updated would.
    let lagging = 0;
    const seen: MismatchEvent[] = [];
    const target = buildReadTarget({
      migration: f.migration,
      controlTableName: f.controlTableName,
      endpoint: testEndpoint(),
    });
    const fresh: ItemStore = {
      tableName: target.fresh.tableName,
      get: (k, s) => target.fresh.get(k, s),
      query: async (input, s) => {
        const page = await target.fresh.query(input, s);
        if (input.indexName !== 'GSI1' || lagging <= 0) return page;
        lagging--;
        return { ...page, items: page.items.filter((i) => i.PK && 'S' in i.PK && i.PK.S !== 'USER#u-2') };
      },
    };
    const handler = makeReadHandler({
      targets: [{ ...target, fresh }],
      telemetry: { ...NO_TELEMETRY, comparison: (e) => seen.push(e) },
      options: { controlWaitMs: 30_000, newTimeoutMs: 30_000 },
    });
    await f.setState(Phase.SHADOW, { backfillComplete: true });
    try {
      // The first read and the frontier re-check see the lag; the read after the margin does not.
      lagging = 2;
      const r = await byEmail(handler, ADA, { consistency: 'shadow' });
      expect(r.headers?.['x-served-by']).toBe('legacy');
      await handler.drain();
      // Lagging for good: a mismatch.
      lagging = 1_000;
      await byEmail(handler, ADA, { consistency: 'shadow' });
      await handler.drain();
      lagging = 0;
      await byEmail(handler, ADA, { consistency: 'shadow' });
      await handler.drain();
    } finally {
      await f.setState(Phase.NEW_PRIMARY, { backfillComplete: true });
    }
    expect(seen.map((e) => [e.surface, e.first, e.class])).toEqual([
      ['by-email', 'missing', 'index-lag'],
      ['by-email', 'missing', 'missing'],
      ['by-email', 'match', 'match'],
    ]);
    expect(seen[0]?.key).toEqual({ email: toDynamoJson({ S: ADA }) });
  });
});
