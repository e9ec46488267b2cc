/**
 * The dual-read API handler on DynamoDB Local with the new store unavailable: a dead port, and
 * injected throttling, 500s and hangs (aws-sdk-client-mock). Every read answers 200 from legacy.
 */
import { DynamoDBClient, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { makeDynamoClient } from '../../../adapters/dynamodb';
import { DynamoItemStore } from '../../../adapters/item-store';
import { Phase } from '../../../core/control';
import { usersMigration } from '../../../examples/users/migration';
import { makeReadHandler } from '../../../lambdas/read/handler';
import { NO_TELEMETRY } from '../../../lambdas/read/telemetry';
import { freePort, LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/dynamodb-local';
import { apiEvent, read, TEST_TOKEN_SECRET } from '../../helpers/api-events';
import { testEndpoint } from '../../helpers/dynamo';
import { type ReadFixture, handlerFor, readFixture, readTargetFor, user } from '../../helpers/read-fixture';

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
    for (let i = 0; i < 20; i++) results.push(await read(handler, `r-${i}`));
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
    const base = readTargetFor(f);
    const handler = makeReadHandler({
      tokenSecret: TEST_TOKEN_SECRET,
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
      const r = await read(handler, `r-${i % 20}`);
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

describe('Resilience: a slow new store when it is the only store (FINALIZED)', () => {
  let f: ReadFixture;
  beforeAll(async () => {
    f = await readFixture(usersMigration, { controlCacheMs: 0 });
    await f.putLegacy(user('s-1'));
    await f.putNew(user('s-1'));
    await f.setFrontier(Date.now() + 60_000);
  });
  afterAll(() => f.destroy());

  /** The real new store on DynamoDB Local, every get answered `delayMs` late. */
  function slowNewHandler(delayMs: number) {
    const base = readTargetFor(f);
    const fresh = base.fresh;
    const slow: typeof fresh = Object.assign(Object.create(fresh) as typeof fresh, {
      get: async (key: Parameters<typeof fresh.get>[0], signal: AbortSignal) => {
        await new Promise((r) => setTimeout(r, delayMs));
        return fresh.get(key, signal);
      },
    });
    return makeReadHandler({
      tokenSecret: TEST_TOKEN_SECRET,
      targets: [{ ...base, fresh: slow }],
      telemetry: NO_TELEMETRY,
      // No hedge: where legacy answers, it must be because new's short timeout ran out.
      options: { newTimeoutMs: 50, legacyTimeoutMs: 10_000, controlWaitMs: 30_000, hedgeAfterMs: 60_000 },
    });
  }

  it('waits for new past its short timeout in FINALIZED, where there is no legacy to fall back to', async () => {
    await f.setState(Phase.FINALIZED, { backfillComplete: true });
    const r = await read(slowNewHandler(200), 's-1');
    expect(r.statusCode).toBe(200);
    expect(r.headers?.['x-served-by']).toBe('new');
  });

  it('keeps the short timeout where legacy can answer instead (NEW_PRIMARY falls back)', async () => {
    await f.setState(Phase.NEW_PRIMARY, { backfillComplete: true });
    const r = await read(slowNewHandler(200), 's-1');
    expect(r.statusCode).toBe(200);
    expect(r.headers?.['x-served-by']).toBe('legacy');
  });
});
