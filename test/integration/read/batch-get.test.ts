/**
 * Batch gets of the dual-read API handler on DynamoDB Local: one result per key, each routed on its
 * own, in request order.
 */
import { Phase } from '../../../core/control';
import { apiEvent, body } from '../../helpers/api-events';
import { usersApi } from '../../helpers/read-fixture';

describe('Function: makeReadHandler (users)', () => {
  // Routing per key is under test, not hedging: under load new can answer later than the default
  // hedge delay (50 ms until 50 samples), and a hedged legacy answer would replace the routed one.
  const api = usersApi({ options: { hedgeAfterMs: 60_000 } });

  it('answers a batch with one result per key, in request order', async () => {
    await api.f.setState(Phase.NEW_PRIMARY, { backfillComplete: false });
    await api.f.setFrontier(Date.now());

    const r = await api.handler(
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
});
