/**
 * The read API's input edges (issue 9, items 13 and 18), on the real handler over in-memory stores:
 * every malformed input is a 400 that says what is wrong with the request.
 */
import { StoreReadError } from '../../../adapters/item-store';
import { Phase } from '../../../core/control';
import { READ_AFTER_FUTURE_SLACK_MS } from '../../../core/read';
import { usersMigration } from '../../../examples/users/migration';
import { apiEvent, read } from '../../helpers/api-events';
import { setup } from '../../helpers/memory-read';

const T = Date.UTC(2026, 11, 4, 12, 0, 0);
const SKEW = usersMigration.read.clockSkewMs;
const message = (r: { body: string }): string => (JSON.parse(r.body) as { message: string }).message;

describe('Function: makeReadHandler (X-Read-After range)', () => {
  it.each([
    [
      'epoch seconds',
      String(Math.floor(T / 1000)),
      /before 2000-01-01.*epoch seconds.*send epoch milliseconds/,
    ],
    ['a date before 2000', '1999-12-31T23:59:59Z', /before 2000-01-01/],
    [
      'milliseconds far in the future',
      String(T + 86_400_000),
      /86400000 ms after this server's clock.*epoch milliseconds/,
    ],
    [
      'an ISO date-time far in the future',
      new Date(T + 3_600_000).toISOString(),
      /after this server's clock/,
    ],
  ])('answers 400 to %s, saying what is wrong and the expected unit', async (_name, value, expected) => {
    // Prepare
    const s = setup(Phase.NEW_PRIMARY, { startMs: T });

    // Act
    const r = await read(s.handler, 'u-1', { 'X-Read-After': value });

    // Assess
    expect(r.statusCode).toBe(400);
    expect(message(r)).toMatch(/^X-Read-After "/);
    expect(message(r)).toMatch(expected);
  });

  it.each([
    ['a recent write', String(T - 5_000)],
    ['a write at the edge of the clock-skew margin', String(T + SKEW + READ_AFTER_FUTURE_SLACK_MS)],
    ['an ISO date-time', new Date(T - 5_000).toISOString()],
    ['the first millisecond of 2000', '946684800000'],
  ])('accepts %s', async (_name, value) => {
    const s = setup(Phase.NEW_PRIMARY, { startMs: T });
    const r = await read(s.handler, 'u-1', { 'X-Read-After': value });
    expect(r.statusCode).toBe(200);
  });
});

describe('Function: makeReadHandler (input edges)', () => {
  const batch = (keys: unknown[]) => apiEvent('POST', '/migrations/users/batch-get', { body: { keys } });
  // Built as text: JSON.stringify itself overflows the stack on 40,000 levels.
  const deep = (levels: number): string =>
    `{"userId":{"S":"u-1"},"extra":${'{"M":{"a":'.repeat(levels)}{"S":"x"}${'}}'.repeat(levels)}}`;

  it('refuses a key with an extra "__proto__" attribute', async () => {
    const s = setup();
    const r = await s.handler(
      apiEvent('GET', '/migrations/users/items', {
        query: { key: '{"userId":{"S":"u-1"},"__proto__":{"S":"x"}}' },
      }),
    );
    expect(r.statusCode).toBe(400);
    expect(message(r)).toBe('key has attribute "__proto__" that is not part of the key (userId)');
  });

  it.each([
    ['an object and the same key as a JSON string', [{ userId: { S: 'u-1' } }, '{"userId":{"S":"u-1"}}']],
    [
      'the same key with attributes spelled differently',
      [{ userId: { S: 'u-1' } }, { userId: { S: 'u-1' } }],
    ],
  ])('refuses a batch that names one key twice (%s), as BatchGetItem does', async (_name, keys) => {
    const s = setup();
    const r = await s.handler(batch(keys));
    expect(r.statusCode).toBe(400);
    expect(message(r)).toBe('body.keys[1] repeats body.keys[0]; keys in a batch must be distinct');
    expect(s.legacy.calls + s.fresh.calls).toBe(0);
  });

  it.each([
    ['GET', 40_000],
    ['batch-get', 40_000],
    ['GET', 32],
  ])(
    'refuses a key nested %s deeper than DynamoDB allows (%i levels) with a 400, not a stack overflow',
    async (how, levels) => {
      const s = setup();
      const r =
        how === 'GET'
          ? await s.handler(apiEvent('GET', '/migrations/users/items', { query: { key: deep(levels) } }))
          : await s.handler(
              apiEvent('POST', '/migrations/users/batch-get', {
                body: `{"keys":[${deep(levels)}]}`,
                rawBody: true,
              }),
            );
      expect(r.statusCode).toBe(400);
      expect(message(r)).toMatch(/extra(\.M\.a)*: nested deeper than DynamoDB's 32 levels/);
    },
  );

  it('says what is wrong with a key DynamoDB refuses, without table names or the raw error', async () => {
    // Prepare: the new table refuses the mapped key (as DynamoDB does for an oversized key).
    const s = setup();
    const raw = Object.assign(
      new Error(
        'One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of 2048 bytes',
      ),
      { name: 'ValidationException' },
    );
    s.fresh.get = async () => {
      throw new StoreReadError('app-data-prod-secret', false, false, raw, true);
    };

    // Act
    const r = await read(s.handler);

    // Assess
    expect(r.statusCode).toBe(400);
    expect(message(r)).toBe(
      "the key, mapped by the migration's mapKey, is not a valid key of the new table: a key value is larger than DynamoDB allows (partition key 2048 bytes, sort key 1024)",
    );
  });

  it('answers a 503 without table names or raw errors when legacy cannot answer', async () => {
    const s = setup(Phase.SHADOW);
    s.legacy.get = async () => {
      throw new StoreReadError(
        'users-prod-secret',
        false,
        false,
        new Error('connect ECONNREFUSED 10.0.0.7:443'),
      );
    };
    const r = await read(s.handler);
    expect(r.statusCode).toBe(503);
    expect(message(r)).toBe('legacy store unavailable: the read failed; retry later');
  });
});
