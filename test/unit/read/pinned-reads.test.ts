/**
 * Keys pinned to legacy through the read handler (in-memory stores, fake clock): a GetItem and each
 * key of a batch get of a pinned key is served by legacy, others are not; a legacy-index query is
 * served by legacy while any key is pinned; the pins come with STATE (no registry read per request)
 * and take effect within the control cache interval.
 */
import { partitionKeyHash, pinsOf } from '../../../core/backfill';
import { Phase } from '../../../core/control';
import { itemToDynamoJson } from '../../../core/model';
import { usersMigration } from '../../../examples/users/migration';
import { apiEvent, body, read } from '../../helpers/api-events';
import { setup } from '../../helpers/memory-read';

const pinU1 = pinsOf([
  {
    key: itemToDynamoJson({ userId: { S: 'u-1' } }),
    partitionHash: partitionKeyHash({ userId: { S: 'u-1' } }, 'userId'),
  },
]);

describe('Read handler: keys pinned to legacy', () => {
  it.each([Phase.SHADOW, Phase.DUAL_READ, Phase.NEW_PRIMARY])(
    'in %s serves a pinned key from legacy (PINNED_TO_LEGACY), even asked in mode new or strong, and never reads new for it',
    async (phase) => {
      const s = setup(phase);
      s.setState({ pins: pinU1 });
      for (const mode of [undefined, 'bounded', 'strong', 'new']) {
        const before = s.fresh.calls;
        const r = await read(s.handler, 'u-1', mode ? { 'x-consistency': mode } : {});
        expect(r.statusCode).toBe(200);
        expect(r.headers).toMatchObject({ 'x-served-by': 'legacy', 'x-route-reason': 'PINNED_TO_LEGACY' });
        expect(s.fresh.calls).toBe(before);
      }
    },
  );

  it('routes each key of a batch get on its own: the pinned one from legacy, the other as before', async () => {
    const s = setup(Phase.NEW_PRIMARY);
    s.setState({ pins: pinU1 });
    const r = await s.handler(
      apiEvent('POST', '/migrations/users/batch-get', {
        body: { keys: [{ userId: { S: 'u-1' } }, { userId: { S: 'u-2' } }] },
      }),
    );
    const results = body(r).results as Array<{ servedBy: string; reason: string }>;
    expect(results.map((x) => [x.servedBy, x.reason])).toEqual([
      ['legacy', 'PINNED_TO_LEGACY'],
      ['new', 'FRESH_BACKFILL_COMPLETE'],
    ]);
  });

  it('serves a legacy-index query from legacy while any key is pinned, and from new once none is', async () => {
    const s = setup(Phase.NEW_PRIMARY);
    const query = () =>
      s.handler(
        apiEvent('POST', '/migrations/users/query', {
          body: { surface: 'by-email', partitionKey: { S: 'ada@example.com' } },
        }),
      );
    s.setState({ pins: pinU1 });
    const pinned = await query();
    expect(pinned.headers).toMatchObject({ 'x-served-by': 'legacy', 'x-route-reason': 'PINNED_TO_LEGACY' });
    s.setState({ pins: { keys: [], partitions: [] } });
    s.clock.advance(usersMigration.read.controlCacheMs);
    const unpinned = await query();
    expect(unpinned.headers?.['x-served-by']).toBe('new');
  });

  it('learns a pin with STATE, within the control cache interval', async () => {
    const s = setup(Phase.NEW_PRIMARY);
    expect((await read(s.handler, 'u-1')).headers?.['x-served-by']).toBe('new');
    s.setState({ pins: pinU1 });
    s.clock.advance(usersMigration.read.controlCacheMs);
    expect((await read(s.handler, 'u-1')).headers?.['x-route-reason']).toBe('PINNED_TO_LEGACY');
    expect((await read(s.handler, 'u-2')).headers?.['x-served-by']).toBe('new');
  });
});
