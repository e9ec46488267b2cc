/**
 * Query pages of the dual-read API handler on DynamoDB Local: page tokens pin a sequence to its store,
 * a switch is announced, altered or foreign tokens are refused.
 */
import { Phase } from '../../../core/control';
import type { Item } from '../../../core/model';
import type { ReadHandler } from '../../../lambdas/read/handler';
import { apiEvent, body } from '../../helpers/api-events';
import { type ReadFixture, handlerFor, ordersMigration, readFixture } from '../../helpers/read-fixture';

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
