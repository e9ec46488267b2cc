/**
 * Malformed requests to the dual-read API handler on DynamoDB Local: every one is a 400 naming the
 * problem, and no request, however malformed, gets a 5xx (fuzz).
 */
import fc from 'fast-check';
import { Phase } from '../../../core/control';
import { apiEvent, body, getItemEvent } from '../../helpers/api-events';
import { usersApi } from '../../helpers/read-fixture';

describe('Function: makeReadHandler (users)', () => {
  const api = usersApi();

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
    const r = await api.handler(event);
    expect(r.statusCode).toBe(400);
    expect((body(r) as { message: string }).message).toMatch(message);
  });

  it('answers only 4xx (never 5xx) to malformed requests (fuzz)', async () => {
    await api.f.setState(Phase.NEW_PRIMARY, { backfillComplete: true });
    await api.f.setFrontier(Date.now());
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
        const r = await api.handler(
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
