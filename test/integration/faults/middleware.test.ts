/**
 * The fault layer on DynamoDB Local: each injected fault reaches the caller the way the real one does
 * (parsed by the SDK's own deserializer into its service error, or thrown as the Node HTTP handler's
 * error), the SDK retries it where it retries the real one, counts are exact, and an outage window hits
 * only its table.
 */
import { DescribeStreamCommand } from '@aws-sdk/client-dynamodb-streams';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { makeDynamoClient } from '../../../adapters/dynamodb';
import { makeStreamsClient } from '../../../adapters/stream-shards';
import { CONTROL_TABLE_KEY, createTable } from '../../../adapters/tables';
import { FaultKind, FaultLayer, FaultPlan, type FaultRule, FaultRole } from '../../../local/faults';
import { testClient, testEndpoint, uniqueName } from '../../helpers/dynamo';

const KEY = { partitionKey: { name: 'id', type: 'S' as const } };
const legacy = uniqueName('faults-legacy');
const fresh = uniqueName('faults-new');
const control = uniqueName('faults-control');
let streamArn: string;

beforeAll(async () => {
  const client = testClient();
  ({ streamArn = '' } = await createTable(client, legacy, KEY, { stream: true }));
  await createTable(client, fresh, KEY);
  await createTable(client, control, CONTROL_TABLE_KEY);
  client.destroy();
});

/** A layer over `rules` (armed) and a DynamoDB client carrying it. */
function layered(rules: FaultRule[], maxAttempts: number, now: () => number = Date.now) {
  const plan = new FaultPlan(rules, 1, now);
  const layer = new FaultLayer(plan, { legacy, new: fresh, control });
  const client = makeDynamoClient({
    ...testEndpoint(),
    maxAttempts,
    instrument: (c, kind) => layer.instrument(c, kind),
  });
  plan.arm();
  return { plan, layer, client };
}

const put = (table: string, id: string) =>
  new PutItemCommand({ TableName: table, Item: { id: { S: id }, v: { N: '1' } } });

describe('Class: FaultLayer (DynamoDB Local)', () => {
  it.each([
    [FaultKind.provisionedThroughputExceeded, 'ProvisionedThroughputExceededException', 400],
    [FaultKind.throttling, 'ThrottlingException', 400],
    [FaultKind.internalError, 'InternalServerError', 500],
    [FaultKind.unavailable, 'ServiceUnavailable', 503],
  ])('%s arrives as the SDK service error %s with HTTP %i', async (kind, name, status) => {
    // Prepare: one attempt, so the first injection surfaces.
    const { client, layer } = layered([{ name: 'f', kind, roles: [FaultRole.new] }], 1);
    // Act
    const err = (await client.send(put(fresh, 'a')).catch((e: unknown) => e)) as {
      name: string;
      $fault: string;
      $metadata: { httpStatusCode?: number };
    };
    // Assess
    expect(err.name).toBe(name);
    expect(err.$metadata.httpStatusCode).toBe(status);
    expect(err.$fault).toBe(status >= 500 ? 'server' : 'client');
    expect(layer.byRole.new).toEqual({ requests: 1, attempts: 1, surfaced: 1 });
    client.destroy();
  });

  it.each([
    [FaultKind.timeout, undefined],
    [FaultKind.connectionReset, 'ECONNRESET'],
  ])('%s arrives as the Node HTTP handler error (TimeoutError, code %s)', async (kind, code) => {
    const { client } = layered([{ name: 'f', kind }], 1);
    const err = (await client.send(put(legacy, 'a')).catch((e: unknown) => e)) as Error & { code?: string };
    expect(err.name).toBe('TimeoutError');
    expect(err.code).toBe(code);
    client.destroy();
  });

  it.each(Object.values(FaultKind).filter((k) => k !== FaultKind.latency))(
    '%s is retried by the SDK: two injections, the third attempt succeeds',
    async (kind) => {
      // Prepare
      const { client, layer, plan } = layered([{ name: 'f', kind, maxInjections: 2 }], 3);
      // Act
      await client.send(put(legacy, `retried-${kind}`));
      const got = await client.send(
        new GetItemCommand({ TableName: legacy, Key: { id: { S: `retried-${kind}` } } }),
      );
      // Assess: the write landed; 2 injections, 4 attempts for 2 requests, nothing surfaced.
      expect(got.Item?.v).toEqual({ N: '1' });
      expect(plan.counts()).toEqual({ f: 2 });
      expect(layer.byRole.legacy).toEqual({ requests: 2, attempts: 4, surfaced: 0 });
      expect(layer.retries()).toBe(2);
      client.destroy();
    },
  );

  it('surfaces a fault that outlasts the retry attempts', async () => {
    const { client, layer, plan } = layered([{ name: 'f', kind: FaultKind.internalError }], 2);
    await expect(client.send(put(legacy, 'x'))).rejects.toMatchObject({ name: 'InternalServerError' });
    expect(plan.counts()).toEqual({ f: 2 });
    expect(layer.byRole.legacy).toEqual({ requests: 1, attempts: 2, surfaced: 1 });
    client.destroy();
  });

  it('delays the real call by the latency of a latency fault', async () => {
    const { client, plan } = layered([{ name: 'slow', kind: FaultKind.latency, latencyMs: 300 }], 1);
    const started = performance.now();
    await client.send(put(legacy, 'slow'));
    // A lower bound only (a sleep cannot be shorter): the call went through, after the delay.
    expect(performance.now() - started).toBeGreaterThanOrEqual(295);
    expect(plan.counts()).toEqual({ slow: 1 });
    client.destroy();
  });

  it('an outage window of the new table fails only the new table, only inside the window', async () => {
    // Prepare: a clock the test moves.
    let now = 0;
    const { client, plan } = layered(
      [
        {
          name: 'new-outage',
          kind: FaultKind.unavailable,
          tables: [fresh],
          windows: [{ startMs: 10, endMs: 20 }],
        },
      ],
      3,
      () => now,
    );
    // Act / Assess
    await client.send(put(fresh, 'before'));
    now = 10;
    await expect(client.send(put(fresh, 'during'))).rejects.toMatchObject({
      $metadata: expect.objectContaining({ httpStatusCode: 503 }),
    });
    await client.send(put(legacy, 'during'));
    await client.send(
      new PutItemCommand({ TableName: control, Item: { pk: { S: 'during' }, sk: { S: 'x' } } }),
    );
    now = 20;
    await client.send(put(fresh, 'after'));
    expect(plan.counts()).toEqual({ 'new-outage': 3 });
    expect(plan.events().map((e) => e.role)).toEqual(['new', 'new', 'new']);
    client.destroy();
  });

  it('injects into the streams client under the role streams', async () => {
    const plan = new FaultPlan(
      [{ name: 's', kind: FaultKind.throttling, roles: [FaultRole.streams] }],
      1,
      Date.now,
    );
    const layer = new FaultLayer(plan, { legacy, new: fresh, control });
    const streams = makeStreamsClient({
      ...testEndpoint(),
      maxAttempts: 1,
      instrument: (c, k) => layer.instrument(c, k),
    });
    const dynamo = makeDynamoClient({
      ...testEndpoint(),
      maxAttempts: 1,
      instrument: (c, k) => layer.instrument(c, k),
    });
    plan.arm();
    await expect(streams.send(new DescribeStreamCommand({ StreamArn: streamArn }))).rejects.toMatchObject({
      name: 'ThrottlingException',
    });
    await dynamo.send(put(legacy, 'streams-only'));
    expect(plan.events()).toEqual([
      expect.objectContaining({ role: 'streams', operation: 'DescribeStream', tables: [legacy] }),
    ]);
    streams.destroy();
    dynamo.destroy();
  });
});
