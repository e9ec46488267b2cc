/**
 * The local HTTP read API: the same handler behind node:http, requests turned into API Gateway events.
 */
import { Phase } from '../../../core/control';
import { usersMigration } from '../../../examples/users/migration';
import { type ReadApiServer, startReadApiServer } from '../../../local/http-server';
import { type ReadFixture, handlerFor, readFixture } from '../../helpers/read-fixture';

describe('Function: startReadApiServer', () => {
  let f: ReadFixture;
  let server: ReadApiServer;

  beforeAll(async () => {
    f = await readFixture(usersMigration, { controlCacheMs: 0 });
    await f.putLegacy({ userId: { S: 'h-1' }, n: { N: '98765432109876543210987654321098765432' } });
    await f.setState(Phase.SHADOW, { backfillComplete: true });
    server = await startReadApiServer({ handler: handlerFor(f) });
  });
  afterAll(async () => {
    await server.close();
    f.destroy();
  });

  it('serves GET, POST and errors over HTTP on the loopback interface with the decision headers', async () => {
    // Act
    const key = encodeURIComponent(JSON.stringify({ userId: { S: 'h-1' } }));
    const get = await fetch(`${server.url}/migrations/users/items?key=${key}`);
    const batch = await fetch(`${server.url}/migrations/users/batch-get`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-consistency': 'legacy' },
      body: JSON.stringify({ keys: [{ userId: { S: 'h-1' } }, { userId: { S: 'h-2' } }] }),
    });
    const bad = await fetch(`${server.url}/migrations/users/items?key=nope`);

    // Assess
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(get.status).toBe(200);
    expect(get.headers.get('x-served-by')).toBe('legacy');
    expect(get.headers.get('x-route-reason')).toBe('MODE_SHADOW');
    expect(await get.text()).toBe('{"item":{"userId":"h-1","n":98765432109876543210987654321098765432}}');
    expect(batch.status).toBe(200);
    const results = ((await batch.json()) as { results: Array<{ status: number }> }).results;
    expect(results.map((r) => r.status)).toEqual([200, 404]);
    expect(bad.status).toBe(400);
  });
});
