/**
 * Shadow compare through the dual-read API handler on DynamoDB Local: differences are classified after
 * the frontier re-check (drift as content or missing, agreement as match, unresolved as within-lag).
 */
import { Phase } from '../../../core/control';
import { usersMigration } from '../../../examples/users/migration';
import { type MismatchEvent, NO_TELEMETRY } from '../../../lambdas/read/telemetry';
import { read } from '../../helpers/api-events';
import { type ReadFixture, handlerFor, readFixture, user } from '../../helpers/read-fixture';

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
      const r = await read(handler, id, { 'x-consistency': 'shadow' });
      expect(r.headers).toMatchObject({ 'x-served-by': 'legacy', 'x-route-reason': 'MODE_SHADOW' });
      expect(r.body).not.toContain('drift');
    }
    await handler.drain();
    // With F behind the read, the re-check gives up: within-lag.
    await f.setFrontier(Date.now() - 60_000);
    await read(handler, 's-1', { 'x-consistency': 'shadow' });
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
