/**
 * The dual-read API handler on DynamoDB Local, with control state and new-table contents set
 * directly (the CDC-driven test is read-cdc.test.ts): routes, headers, formats, validation,
 * pagination, strong and shadow reads, and new-store outages (dead port, injected errors).
 */
import { DynamoDBClient, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { makeDynamoClient } from '../../../adapters/dynamodb';
import { DynamoItemStore } from '../../../adapters/item-store';
import { Phase } from '../../../core/control';
import { type Item, itemFromDynamoJson, itemsEqual } from '../../../core/model';
import { usersMigration } from '../../../examples/users/migration';
import { buildReadTarget } from '../../../lambdas/read/deps';
import { type ReadDeps, type ReadHandler, makeReadHandler } from '../../../lambdas/read/handler';
import { type MismatchEvent, NO_TELEMETRY } from '../../../lambdas/read/telemetry';
import { freePort, LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/dynamodb-local';
import { apiEvent, getItemEvent } from '../../helpers/api-events';
import { testEndpoint } from '../../helpers/dynamo';
import { type ReadFixture, ordersMigration, readFixture } from '../../helpers/read-fixture';

const BIG = '12345678901234567890123456789012345678';

function handlerFor(
  f: ReadFixture,
  over: Partial<ReadDeps> = {},
  newEndpoint?: Parameters<typeof buildReadTarget>[0]['newEndpoint'],
): ReadHandler {
  return makeReadHandler({
    targets: [
      buildReadTarget({
        migration: f.migration,
        controlTableName: f.controlTableName,
        endpoint: testEndpoint(),
        ...(newEndpoint ? { newEndpoint } : {}),
      }),
    ],
    ...over,
    // Tests that set control state and read at once wait for the control read however slow DynamoDB
    // Local is (the bounded wait itself is tested in test/unit/read/control-cache.test.ts).
    options: { controlWaitMs: 30_000, ...over.options },
  });
}

function body(r: APIGatewayProxyResult): Record<string, unknown> {
  return JSON.parse(r.body) as Record<string, unknown>;
}

const user = (id: string, extra: Item = {}): Item => ({
  userId: { S: id },
  fullName: { S: `User ${id}` },
  big: { N: BIG },
  ...extra,
});

describe('Function: makeReadHandler (users)', () => {
  let f: ReadFixture;
  let handler: ReadHandler;

  beforeAll(async () => {
    f = await readFixture(usersMigration, { controlCacheMs: 0 });
    handler = handlerFor(f);
    await f.putLegacy(user('u-1'));
    await f.putNew(user('u-1', { marker: { S: 'from-new' } }));
    await f.putLegacy(user('u-2'));
    await f.putTombstone({ userId: { S: 'u-3' } });
    await f.putLegacy(user('u-4'));
  });
  afterAll(() => f.destroy());

  it('serves legacy in LEGACY_ONLY with explaining headers and full-precision numbers', async () => {
    // Prepare
    await f.setState(Phase.LEGACY_ONLY);

    // Act
    const plain = await handler(getItemEvent('users', { userId: { S: 'u-1' } }));
    const dynamo = await handler(
      getItemEvent('users', { userId: { S: 'u-1' } }, { query: { format: 'dynamodb' } }),
    );

    // Assess
    expect(plain.statusCode).toBe(200);
    expect(plain.headers).toMatchObject({
      'x-served-by': 'legacy',
      'x-route-reason': 'PHASE_LEGACY_ONLY',
      'x-staleness-bound-ms': '0',
    });
    expect(plain.body).toContain(`"big":${BIG}`);
    expect(plain.body).not.toContain('from-new');
    const item = itemFromDynamoJson((body(dynamo) as { item: unknown }).item);
    expect(itemsEqual(item, user('u-1'))).toBe(true);
  });

  it('serves new when fresh and backfill is complete, with a staleness bound within the budget', async () => {
    await f.setState(Phase.NEW_PRIMARY, { backfillComplete: true });
    await f.setFrontier(Date.now());

    const r = await handler(getItemEvent('users', { userId: { S: 'u-1' } }));

    expect(r.statusCode).toBe(200);
    expect(r.headers).toMatchObject({
      'x-served-by': 'new',
      'x-route-reason': 'FRESH_BACKFILL_COMPLETE',
      'x-consistency': 'bounded',
    });
    expect(Number(r.headers?.['x-staleness-bound-ms'])).toBeLessThanOrEqual(
      usersMigration.read.stalenessBudgetMs,
    );
    expect(r.body).toContain('from-new');
    expect(r.body).toContain(`"big":${BIG}`);
  });

  it('answers 404 for a tombstone in new and for a key nowhere', async () => {
    await f.setState(Phase.NEW_PRIMARY, { backfillComplete: false });
    await f.setFrontier(Date.now());

    const tomb = await handler(getItemEvent('users', { userId: { S: 'u-3' } }));
    const none = await handler(getItemEvent('users', { userId: { S: 'nobody' } }));

    expect(tomb.statusCode).toBe(404);
    expect(tomb.headers).toMatchObject({ 'x-served-by': 'new', 'x-route-reason': 'FRESH_TOMBSTONE_IN_NEW' });
    expect(none.statusCode).toBe(404);
    expect(none.headers).toMatchObject({
      'x-served-by': 'legacy',
      'x-route-reason': 'ABSENT_IN_NEW_BACKFILL_INCOMPLETE',
    });
  });

  it('serves legacy when a key is absent from new before backfill completes, and when the frontier is too old', async () => {
    await f.setState(Phase.NEW_PRIMARY, { backfillComplete: false });
    await f.setFrontier(Date.now());
    const absent = await handler(getItemEvent('users', { userId: { S: 'u-2' } }));
    await f.setFrontier(Date.now() - 60_000);
    const stale = await handler(getItemEvent('users', { userId: { S: 'u-1' } }));

    expect(absent.statusCode).toBe(200);
    expect(absent.headers).toMatchObject({
      'x-served-by': 'legacy',
      'x-route-reason': 'ABSENT_IN_NEW_BACKFILL_INCOMPLETE',
    });
    expect(stale.headers).toMatchObject({ 'x-served-by': 'legacy', 'x-route-reason': 'FRONTIER_TOO_OLD' });
    expect(stale.body).not.toContain('from-new');
  });

  it('honors X-Read-After: new serves only once F − skew has passed it', async () => {
    await f.setState(Phase.NEW_PRIMARY, { backfillComplete: true });
    const F = Date.now();
    await f.setFrontier(F);
    const skew = usersMigration.read.clockSkewMs;

    const ahead = await handler(
      getItemEvent('users', { userId: { S: 'u-1' } }, { headers: { 'X-Read-After': String(F - skew) } }),
    );
    const behind = await handler(
      getItemEvent(
        'users',
        { userId: { S: 'u-1' } },
        { headers: { 'X-Read-After': new Date(F - skew - 1).toISOString() } },
      ),
    );

    expect(ahead.headers).toMatchObject({
      'x-served-by': 'legacy',
      'x-route-reason': 'READ_AFTER_NOT_REACHED',
    });
    expect(behind.headers).toMatchObject({ 'x-served-by': 'new' });
  });

  it('answers strong reads with legacy content: from new only when both agree', async () => {
    await f.setState(Phase.DUAL_READ, { backfillComplete: true, rolloutPercent: 100 });
    await f.setFrontier(Date.now());
    await f.putLegacy(user('u-5'));
    await f.putNew(user('u-5'));

    const equal = await handler(
      getItemEvent('users', { userId: { S: 'u-5' } }, { headers: { 'X-Consistency': 'strong' } }),
    );
    const different = await handler(
      getItemEvent('users', { userId: { S: 'u-1' } }, { headers: { 'X-Consistency': 'strong' } }),
    );

    expect(equal.headers).toMatchObject({
      'x-served-by': 'new',
      'x-route-reason': 'STRONG_EQUAL',
      'x-consistency': 'strong',
    });
    expect(different.headers).toMatchObject({
      'x-served-by': 'legacy',
      'x-route-reason': 'STRONG_DIFFERENT',
    });
    expect(different.body).not.toContain('from-new');
  });

  it('clamps a looser requested mode to the phase default', async () => {
    await f.setState(Phase.SHADOW, { backfillComplete: true });

    const r = await handler(
      getItemEvent('users', { userId: { S: 'u-1' } }, { headers: { 'X-Consistency': 'new' } }),
    );

    expect(r.headers).toMatchObject({
      'x-served-by': 'legacy',
      'x-consistency': 'shadow',
      'x-route-reason': 'MODE_SHADOW',
    });
  });

  it('answers a batch with one result per key, in request order', async () => {
    await f.setState(Phase.NEW_PRIMARY, { backfillComplete: false });
    await f.setFrontier(Date.now());

    const r = await handler(
      apiEvent('POST', '/migrations/users/batch-get', {
        body: {
          keys: [
            { userId: { S: 'u-1' } },
            { userId: { S: 'u-2' } },
            { userId: { S: 'u-3' } },
            { userId: { S: 'zz' } },
          ],
        },
      }),
    );

    expect(r.statusCode).toBe(200);
    expect(r.headers).toMatchObject({ 'x-served-by': 'mixed', 'x-route-reason': 'PER_KEY' });
    const results = (body(r) as { results: Array<{ status: number; servedBy: string; reason: string }> })
      .results;
    expect(results.map((x) => [x.status, x.servedBy, x.reason])).toEqual([
      [200, 'new', 'FRESH_ITEM_IN_NEW'],
      [200, 'legacy', 'ABSENT_IN_NEW_BACKFILL_INCOMPLETE'],
      [404, 'new', 'FRESH_TOMBSTONE_IN_NEW'],
      [404, 'legacy', 'ABSENT_IN_NEW_BACKFILL_INCOMPLETE'],
    ]);
  });

  it.each([
    ['unknown migration', getItemEvent('nope', { userId: { S: 'u' } }), /unknown migration "nope"/],
    [
      'missing key attribute',
      getItemEvent('users', { other: { S: 'u' } }),
      /not part of the key|lacks key attribute "userId"/,
    ],
    [
      'extra key attribute',
      getItemEvent('users', { userId: { S: 'u' }, x: { S: 'y' } }),
      /"x" that is not part of the key/,
    ],
    ['wrong type', getItemEvent('users', { userId: { N: '1' } }), /must be of type S, not N/],
    [
      'bad JSON key',
      apiEvent('GET', '/migrations/users/items', { query: { key: '{nope' } }),
      /not valid JSON/,
    ],
    ['missing key', apiEvent('GET', '/migrations/users/items'), /"key" is required/],
    [
      'unknown consistency',
      getItemEvent('users', { userId: { S: 'u' } }, { headers: { 'x-consistency': 'eventual' } }),
      /unknown consistency value "eventual"/,
    ],
    [
      'bad read-after',
      getItemEvent('users', { userId: { S: 'u' } }, { headers: { 'x-read-after': 'yesterday' } }),
      /X-Read-After/,
    ],
    ['oversized key', getItemEvent('users', { userId: { S: 'x'.repeat(3000) } }), /at most 2048/],
    [
      'bad batch JSON',
      apiEvent('POST', '/migrations/users/batch-get', { body: '{"keys":[', rawBody: true }),
      /not valid JSON/,
    ],
    [
      'too many keys',
      apiEvent('POST', '/migrations/users/batch-get', {
        body: { keys: Array.from({ length: 101 }, (_, i) => ({ userId: { S: `k${i}` } })) },
      }),
      /at most 100/,
    ],
    [
      'duplicate keys',
      apiEvent('POST', '/migrations/users/batch-get', {
        body: { keys: [{ userId: { S: 'a' } }, { userId: { S: 'a' } }] },
      }),
      /repeats/,
    ],
    [
      'extra body field',
      apiEvent('POST', '/migrations/users/batch-get', { body: { keys: [{ userId: { S: 'a' } }], more: 1 } }),
      /body/,
    ],
    [
      'bad format',
      getItemEvent('users', { userId: { S: 'u' } }, { query: { format: 'xml' } }),
      /unknown format/,
    ],
  ])('answers 400 naming the problem for %s', async (_name, event, message) => {
    const r = await handler(event);
    expect(r.statusCode).toBe(400);
    expect((body(r) as { message: string }).message).toMatch(message);
  });

  it('answers only 4xx (never 5xx) to malformed requests (fuzz)', async () => {
    await f.setState(Phase.NEW_PRIMARY, { backfillComplete: true });
    await f.setFrontier(Date.now());
    const jsonish = fc.oneof(
      fc.jsonValue(),
      fc.string(),
      fc.constant({ userId: { S: '' } }),
      fc.record({
        userId: fc.oneof(
          fc.jsonValue(),
          fc.record({ S: fc.jsonValue() }),
          fc.record({ N: fc.string() }),
          fc.record({ B: fc.string() }),
        ),
      }),
    );
    const event = fc.oneof(
      fc.record({
        method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
        path: fc.oneof(
          fc.string(),
          fc.constantFrom(
            '/migrations/users/items',
            '/migrations/users/batch-get',
            '/migrations/users/query',
            '/migrations/%E0%A4%A/items',
          ),
        ),
        key: fc.option(
          fc.oneof(
            fc.string(),
            jsonish.map((j) => JSON.stringify(j)),
          ),
        ),
        consistency: fc.option(fc.string()),
        readAfter: fc.option(fc.string()),
        format: fc.option(fc.string()),
        body: fc.option(
          fc.oneof(
            fc.string(),
            jsonish.map((j) => JSON.stringify(j)),
          ),
        ),
      }),
      fc.record({
        method: fc.constant('POST'),
        path: fc.constant('/migrations/users/batch-get'),
        key: fc.constant(null),
        consistency: fc.constant(null),
        readAfter: fc.constant(null),
        format: fc.constant(null),
        body: fc.record({ keys: fc.array(jsonish, { maxLength: 5 }) }).map((b) => JSON.stringify(b)),
      }),
      fc.record({
        method: fc.constant('POST'),
        path: fc.constant('/migrations/users/query'),
        key: fc.constant(null),
        consistency: fc.constant(null),
        readAfter: fc.constant(null),
        format: fc.constant(null),
        body: fc
          .record({
            partitionKey: jsonish,
            sortKey: fc.option(fc.dictionary(fc.string(), jsonish, { maxKeys: 2 })),
            limit: fc.option(fc.jsonValue()),
            nextToken: fc.option(fc.string()),
          })
          .map((b) => JSON.stringify(b)),
      }),
    );
    await fc.assert(
      fc.asyncProperty(event, async (e) => {
        const r = await handler(
          apiEvent(e.method, e.path, {
            query: Object.fromEntries(
              Object.entries({ key: e.key, consistency: e.consistency, format: e.format }).filter(
                ([, v]) => v !== null,
              ),
            ) as Record<string, string>,
            headers: e.readAfter !== null ? { 'x-read-after': e.readAfter } : {},
            ...(e.body !== null ? { body: e.body, rawBody: true } : {}),
          }),
        );
        if (r.statusCode >= 500) throw new Error(`${r.statusCode} ${r.body} for ${JSON.stringify(e)}`);
      }),
      { numRuns: 400 },
    );
  });
});

describe('Function: makeReadHandler (queries)', () => {
  let f: ReadFixture;
  let handler: ReadHandler;
  const order = (n: number, extra: Item = {}): Item => ({
    customer: { S: 'c1' },
    orderNo: { N: String(n) },
    total: { N: '10.50' },
    ...extra,
  });

  beforeAll(async () => {
    f = await readFixture(ordersMigration(), { controlCacheMs: 0 });
    handler = handlerFor(f);
    for (let n = 1; n <= 7; n++) {
      await f.putLegacy(order(n));
      if (n !== 4) await f.putNew(order(n, { src: { S: 'new' } }));
    }
    await f.putTombstone({ customer: { S: 'c1' }, orderNo: { N: '4' } });
    await f.putLegacy(order(4)); // legacy still has 4 (new: tombstone) – visible in which store served
  });
  afterAll(() => f.destroy());

  const queryEvent = (extra: Record<string, unknown> = {}): ReturnType<typeof apiEvent> =>
    apiEvent('POST', '/migrations/orders/query', { body: { partitionKey: { S: 'c1' }, limit: 2, ...extra } });

  it('pages through new with tokens that pin the store, and switches to legacy (announced) when new may no longer serve', async () => {
    // Prepare
    await f.setState(Phase.NEW_PRIMARY, { backfillComplete: true });
    await f.setFrontier(Date.now());

    // Act
    const p1 = await handler(queryEvent());
    const t1 = (body(p1) as { nextToken: string }).nextToken;
    const p2 = await handler(queryEvent({ nextToken: t1 }));
    await f.setState(Phase.SHADOW, { backfillComplete: true });
    const p3 = await handler(queryEvent({ nextToken: (body(p2) as { nextToken: string }).nextToken }));
    const p4 = await handler(queryEvent({ nextToken: (body(p3) as { nextToken: string }).nextToken }));

    // Assess
    expect([p1, p2, p3, p4].map((p) => [p.headers?.['x-served-by'], p.headers?.['x-route-reason']])).toEqual([
      ['new', 'FRESH_BACKFILL_COMPLETE'],
      ['new', 'FRESH_BACKFILL_COMPLETE'],
      ['legacy', 'PAGE_SWITCHED_TO_LEGACY'],
      ['legacy', 'MODE_SHADOW'],
    ]);
    const numbers = [p1, p2, p3, p4].flatMap((p) =>
      (body(p) as { items: Array<{ orderNo: number }> }).items.map((i) => i.orderNo),
    );
    // 4 is a tombstone in new (filtered), present in legacy; no key twice, none skipped after the switch.
    expect(numbers).toEqual([1, 2, 3, 5, 6, 7]);
    expect(p1.body).toContain('"total":10.5');
  });

  it('keeps a legacy page sequence on legacy when new becomes allowed', async () => {
    await f.setState(Phase.SHADOW, { backfillComplete: true });
    const p1 = await handler(queryEvent({ sortKey: { between: [{ N: '2' }, { N: '6' }] } }));
    await f.setState(Phase.NEW_PRIMARY, { backfillComplete: true });
    await f.setFrontier(Date.now());
    const p2 = await handler(
      queryEvent({
        sortKey: { between: [{ N: '2' }, { N: '6' }] },
        nextToken: (body(p1) as { nextToken: string }).nextToken,
      }),
    );

    expect(p2.headers).toMatchObject({ 'x-served-by': 'legacy', 'x-route-reason': 'PAGE_PINNED' });
    expect((body(p2) as { items: Array<{ orderNo: number }> }).items.map((i) => i.orderNo)).toEqual([4, 5]);
  });

  it('refuses altered tokens and tokens of another query with 400', async () => {
    await f.setState(Phase.SHADOW, { backfillComplete: true });
    const p1 = await handler(queryEvent());
    const token = (body(p1) as { nextToken: string }).nextToken;

    const other = await handler(queryEvent({ nextToken: token, forward: false }));
    const altered = await handler(queryEvent({ nextToken: `${token.slice(0, -2)}AA` }));
    const badSort = await handler(queryEvent({ sortKey: { between: [{ N: '6' }, { N: '2' }] } }));
    const wrongOp = await handler(queryEvent({ sortKey: { contains: { N: '6' } } }));

    expect([other.statusCode, altered.statusCode, badSort.statusCode, wrongOp.statusCode]).toEqual([
      400, 400, 400, 400,
    ]);
    expect((body(other) as { message: string }).message).toMatch(/different query/);
  });
});

describe('Resilience: the new store unavailable', () => {
  let f: ReadFixture;
  beforeAll(async () => {
    f = await readFixture(usersMigration, { controlCacheMs: 0 });
    for (let i = 0; i < 20; i++) {
      await f.putLegacy(user(`r-${i}`));
      await f.putNew(user(`r-${i}`));
    }
    await f.setState(Phase.NEW_PRIMARY, { backfillComplete: true });
  });
  afterAll(() => f.destroy());

  it('answers every read from legacy when new is a dead port, and opens the breaker', async () => {
    // Prepare
    const dead = await freePort();
    const handler = handlerFor(
      f,
      {},
      { endpoint: `http://127.0.0.1:${dead}`, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS },
    );
    await f.setFrontier(Date.now() + 60_000);

    // Act
    const results: APIGatewayProxyResult[] = [];
    for (let i = 0; i < 20; i++)
      results.push(await handler(getItemEvent('users', { userId: { S: `r-${i}` } })));
    results.push(
      await handler(
        apiEvent('POST', '/migrations/users/batch-get', {
          body: { keys: [{ userId: { S: 'r-1' } }, { userId: { S: 'r-2' } }] },
        }),
      ),
    );
    results.push(
      await handler(apiEvent('POST', '/migrations/users/query', { body: { partitionKey: { S: 'r-3' } } })),
    );

    // Assess
    expect(results.map((r) => r.statusCode)).toEqual(results.map(() => 200));
    expect(results.every((r) => r.headers?.['x-served-by'] === 'legacy')).toBe(true);
    const reasons = new Set(results.map((r) => r.headers?.['x-route-reason']));
    // Connection refused is fast, so the hedge rarely fires; once the breaker opens new is not tried.
    for (const reason of reasons)
      expect(['NEW_FAILED_FALLBACK', 'NEW_UNAVAILABLE', 'HEDGED_TO_LEGACY']).toContain(reason);
    expect(reasons).toContain('NEW_UNAVAILABLE');
    expect(handler.readers.get('users')?.breakerState()).toBe('open');
  });

  it('answers every read when new fails with injected errors or hangs (aws-sdk-client-mock)', async () => {
    // Prepare: the new store's client always throttles, errors or hangs past the timeout.
    const newClient = new DynamoDBClient({
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      endpoint: 'http://127.0.0.1:9',
    });
    const mock = mockClient(newClient);
    let call = 0;
    const hang = () => new Promise<never>(() => undefined);
    mock.on(GetItemCommand).callsFake(() => {
      call++;
      if (call % 3 === 0) return hang();
      throw Object.assign(new Error(call % 3 === 1 ? 'throttled' : 'boom'), {
        name: call % 3 === 1 ? 'ProvisionedThroughputExceededException' : 'InternalServerError',
        $metadata: { httpStatusCode: call % 3 === 1 ? 400 : 500 },
      });
    });
    mock
      .on(QueryCommand)
      .rejects(
        Object.assign(new Error('boom'), { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } }),
      );
    const legacyClient = makeDynamoClient({ ...testEndpoint(), maxAttempts: 1 });
    const base = buildReadTarget({
      migration: f.migration,
      controlTableName: f.controlTableName,
      endpoint: testEndpoint(),
    });
    const handler = makeReadHandler({
      targets: [
        {
          ...base,
          legacy: new DynamoItemStore(legacyClient, f.migration.legacyTable.tableName),
          fresh: new DynamoItemStore(newClient, f.migration.newTable.tableName),
        },
      ],
      telemetry: NO_TELEMETRY,
      options: {
        newTimeoutMs: 100,
        breaker: { consecutiveFailures: 1000, minCalls: 1000 },
        controlWaitMs: 30_000,
      },
    });
    await f.setFrontier(Date.now() + 60_000);

    // Act
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const r = await handler(getItemEvent('users', { userId: { S: `r-${i % 20}` } }));
      statuses.push(r.statusCode);
      expect(r.headers?.['x-served-by']).toBe('legacy');
    }

    // Assess
    expect(statuses).toEqual(statuses.map(() => 200));
    expect(call).toBeGreaterThanOrEqual(30);
    mock.restore();
    legacyClient.destroy();
  });
});

describe('Shadow compare', () => {
  let f: ReadFixture;
  beforeAll(async () => {
    f = await readFixture(usersMigration, { controlCacheMs: 0 });
    await f.putLegacy(user('s-1'));
    await f.putNew(user('s-1', { marker: { S: 'drift' } }));
    await f.putLegacy(user('s-2'));
    await f.putNew(user('s-2'));
    await f.putLegacy(user('s-3'));
    await f.setState(Phase.SHADOW, { backfillComplete: true });
  });
  afterAll(() => f.destroy());

  it('classifies differences after the re-check: drift as content or missing, agreement as match, unresolved as within-lag', async () => {
    // Prepare
    const seen: MismatchEvent[] = [];
    const handler = handlerFor(f, {
      telemetry: { ...NO_TELEMETRY, comparison: (e) => seen.push(e) },
      options: { recheckMaxWaitMs: 300, recheckPollMs: 50 },
    });

    // Act: with F far ahead, a difference re-checks at once and is drift.
    await f.setFrontier(Date.now() + 60_000);
    for (const id of ['s-1', 's-2', 's-3']) {
      const r = await handler(
        getItemEvent('users', { userId: { S: id } }, { headers: { 'x-consistency': 'shadow' } }),
      );
      expect(r.headers).toMatchObject({ 'x-served-by': 'legacy', 'x-route-reason': 'MODE_SHADOW' });
      expect(r.body).not.toContain('drift');
    }
    await handler.drain();
    // With F behind the read, the re-check gives up: within-lag.
    await f.setFrontier(Date.now() - 60_000);
    await handler(
      getItemEvent('users', { userId: { S: 's-1' } }, { headers: { 'x-consistency': 'shadow' } }),
    );
    await handler.drain();

    // Assess
    const classes = seen.map((e) => [(e.key as { userId: { S: string } }).userId.S, e.class]);
    // The first three complete in any order (a difference waits for its re-check).
    expect(classes.slice(0, 3).sort()).toEqual([
      ['s-1', 'content'],
      ['s-2', 'match'],
      ['s-3', 'missing'],
    ]);
    expect(classes[3]).toEqual(['s-1', 'within-lag']);
  });
});
