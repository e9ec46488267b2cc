/**
 * `GET /migrations/{id}/query` parameters (issue 16, item 3): query-string text typed by the surface's
 * legacy key attributes, the same checks as the POST body, and a 400 naming the parameter for every
 * bad input — an unknown or misspelt parameter included, since dropping it would widen the query.
 */
import { type Item, defineMigration } from '../../../core/model';
import { parseQueryParams } from '../../../lambdas/read/api/query-params';
import { BadRequestError } from '../../../lambdas/read/validation';

const str = (i: Item, n: string): string => {
  const v = i[n];
  return v && 'S' in v ? v.S : '';
};

/** Orders keyed by customer and time (N); a legacy GSI by store (binary id) and one by status (S, time). */
const orders = defineMigration({
  id: 'orders',
  legacyTable: {
    tableName: 'orders-legacy',
    key: { partitionKey: { name: 'customerId', type: 'S' }, sortKey: { name: 'at', type: 'N' } },
    streamArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders-legacy/stream/2026-01-01T00:00:00.000',
    indexes: [
      { name: 'by-store', key: { partitionKey: { name: 'storeId', type: 'B' } } },
      {
        name: 'by-status',
        key: { partitionKey: { name: 'status', type: 'S' }, sortKey: { name: 'day', type: 'S' } },
      },
    ],
  },
  newTable: {
    tableName: 'orders',
    key: { partitionKey: { name: 'PK', type: 'S' }, sortKey: { name: 'SK', type: 'N' } },
    indexes: [
      { name: 'GSI1', key: { partitionKey: { name: 'GSI1PK', type: 'B' } } },
      {
        name: 'GSI2',
        key: { partitionKey: { name: 'GSI2PK', type: 'S' }, sortKey: { name: 'GSI2SK', type: 'S' } },
      },
    ],
  },
  queries: {
    'by-store': { legacyIndex: 'by-store', newIndex: 'GSI1', partition: (v) => v },
    'by-status': {
      legacyIndex: 'by-status',
      newIndex: 'GSI2',
      partition: (v) => ({ S: `STATUS#${'S' in v ? v.S : ''}` }),
    },
  },
  mapKey: (k) => ({ PK: { S: `C#${str(k, 'customerId')}` }, SK: k.at as { N: string } }),
  mapItem: ({ customerId, at, ...rest }) => ({
    PK: { S: `C#${str({ customerId } as Item, 'customerId')}` },
    SK: at as { N: string },
    ...rest,
  }),
  unmapItem: ({ PK, SK, ...rest }) => ({
    customerId: { S: str({ PK } as Item, 'PK').slice(2) },
    at: SK as { N: string },
    ...rest,
  }),
});

const parse = (params: Record<string, string>) => parseQueryParams(params, orders);
const refusal = (params: Record<string, string>): string => {
  try {
    parse(params);
  } catch (err) {
    expect(err).toBeInstanceOf(BadRequestError);
    return (err as Error).message;
  }
  throw new Error('accepted');
};

describe('Function: parseQueryParams', () => {
  it('types the values by the surface key: a 38-digit number kept exactly, a binary from base64', () => {
    // Act
    const base = parse({ partitionKey: 'c-1', 'sortKey.ge': '12345678901234567890123456789012345678' });
    const store = parse({ surface: 'by-store', partitionKey: Buffer.from([0, 1, 255]).toString('base64') });

    // Assess
    expect(base).toEqual({
      surface: 'base',
      partitionValue: { S: 'c-1' },
      sort: { op: 'ge', value: { N: '12345678901234567890123456789012345678' } },
      limit: 100,
      forward: true,
    });
    expect(store.surface).toBe('by-store');
    expect(store.partitionValue).toEqual({ B: new Uint8Array([0, 1, 255]) });
  });

  it('reads every parameter: one sort operator, ge with le as BETWEEN, limit, direction and token', () => {
    // Act
    const q = parse({
      surface: 'by-status',
      partitionKey: 'shipped',
      'sortKey.ge': '2026-01-01',
      'sortKey.le': '2026-01-31',
      limit: '25',
      forward: 'false',
      nextToken: 'abc',
      consistency: 'strong',
      format: 'dynamodb',
    });
    const prefix = parse({ surface: 'by-status', partitionKey: 'shipped', 'sortKey.beginsWith': '2026-' });

    // Assess
    expect(q).toEqual({
      surface: 'by-status',
      partitionValue: { S: 'shipped' },
      sort: { op: 'between', value: { S: '2026-01-01' }, to: { S: '2026-01-31' } },
      limit: 25,
      forward: false,
      nextToken: 'abc',
    });
    expect(prefix.sort).toEqual({ op: 'beginsWith', value: { S: '2026-' } });
  });

  it.each([
    ['no partition key', {}, /query.partitionKey is required: the legacy "customerId" value \(S\)/],
    [
      'a misspelt parameter',
      { partitionKey: 'c', 'sortkey.eq': '1' },
      /unknown query parameter "sortkey.eq"; GET .*takes surface, partitionKey/,
    ],
    [
      'an unknown surface',
      { surface: 'by-name', partitionKey: 'c' },
      /unknown query surface "by-name"; this migration declares "base", "by-store", "by-status"/,
    ],
    ['a number that is not one', { partitionKey: 'c', 'sortKey.eq': '12abc' }, /query.sortKey.eq/],
    ['binary that is not base64', { surface: 'by-store', partitionKey: '***' }, /query.partitionKey/],
    [
      'beginsWith on a number',
      { partitionKey: 'c', 'sortKey.beginsWith': '1' },
      /beginsWith needs a string or binary sort key/,
    ],
    [
      'a sort condition where the path has no sort key',
      { surface: 'by-store', partitionKey: 'AA==', 'sortKey.eq': 'x' },
      /legacy index "by-store" of surface "by-store" has no sort key/,
    ],
    [
      'two operators other than ge and le',
      { partitionKey: 'c', 'sortKey.gt': '1', 'sortKey.lt': '9' },
      /sortKey.lt, sortKey.gt cannot be combined|sortKey.gt, sortKey.lt cannot be combined/,
    ],
    [
      'a range upside down',
      { partitionKey: 'c', 'sortKey.ge': '9', 'sortKey.le': '1' },
      /from must not be greater than to/,
    ],
    ['a limit of 0', { partitionKey: 'c', limit: '0' }, /query.limit/],
    ['a limit over 1000', { partitionKey: 'c', limit: '1001' }, /query.limit/],
    [
      'a limit that is not a number',
      { partitionKey: 'c', limit: 'ten' },
      /limit must be a whole number from 1 to 1000/,
    ],
    [
      'a direction other than true or false',
      { partitionKey: 'c', forward: 'yes' },
      /forward must be "true" or "false"/,
    ],
    ['an empty partition value', { partitionKey: '' }, /query.partitionKey \(customerId\) must not be empty/],
  ])('answers 400 to %s, naming the parameter', (_name, params, expected) => {
    expect(refusal(params)).toMatch(expected);
  });
});
