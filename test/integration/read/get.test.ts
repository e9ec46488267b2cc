/**
 * Single-key reads of the dual-read API handler on DynamoDB Local, with control state and new-table
 * contents set directly (the CDC-driven test is cdc.test.ts): the route by phase, freshness, presence
 * in new and X-Read-After, strong reads, clamped modes, with the explaining headers and full-precision
 * numbers.
 */
import { Phase } from '../../../core/control';
import { itemFromDynamoJson, itemsEqual } from '../../../core/model';
import { usersMigration } from '../../../examples/users/migration';
import { body, getItemEvent, read } from '../../helpers/api-events';
import { BIG, user, usersApi } from '../../helpers/read-fixture';

describe('Function: makeReadHandler (users)', () => {
  const api = usersApi();

  it('serves legacy in LEGACY_ONLY with explaining headers and full-precision numbers', async () => {
    // Prepare
    await api.f.setState(Phase.LEGACY_ONLY);

    // Act
    const plain = await read(api.handler, 'u-1');
    const dynamo = await api.handler(
      getItemEvent('users', { userId: { S: 'u-1' } }, { query: { format: 'dynamodb' } }),
    );

    // Assess
    expect(plain.statusCode).toBe(200);
    expect(plain.headers).toMatchObject({
      'x-served-by': 'legacy',
      'x-route-reason': 'PHASE_LEGACY_ONLY',
      'x-staleness-bound-ms': '0',
    });
    expect(plain.body).toContain(`"big":${BIG}`);
    expect(plain.body).not.toContain('from-new');
    const item = itemFromDynamoJson((body(dynamo) as { item: unknown }).item);
    expect(itemsEqual(item, user('u-1'))).toBe(true);
  });

  it('serves new when fresh and backfill is complete, with a staleness bound within the budget', async () => {
    await api.f.setState(Phase.NEW_PRIMARY, { backfillComplete: true });
    await api.f.setFrontier(Date.now());

    const r = await read(api.handler, 'u-1');

    expect(r.statusCode).toBe(200);
    expect(r.headers).toMatchObject({
      'x-served-by': 'new',
      'x-route-reason': 'FRESH_BACKFILL_COMPLETE',
      'x-consistency': 'bounded',
    });
    expect(Number(r.headers?.['x-staleness-bound-ms'])).toBeLessThanOrEqual(
      usersMigration.read.stalenessBudgetMs,
    );
    expect(r.body).toContain('from-new');
    expect(r.body).toContain(`"big":${BIG}`);
  });

  it('answers 404 for a tombstone in new and for a key nowhere', async () => {
    await api.f.setState(Phase.NEW_PRIMARY, { backfillComplete: false });
    await api.f.setFrontier(Date.now());

    const tomb = await read(api.handler, 'u-3');
    const none = await read(api.handler, 'nobody');

    expect(tomb.statusCode).toBe(404);
    expect(tomb.headers).toMatchObject({ 'x-served-by': 'new', 'x-route-reason': 'FRESH_TOMBSTONE_IN_NEW' });
    expect(none.statusCode).toBe(404);
    expect(none.headers).toMatchObject({
      'x-served-by': 'legacy',
      'x-route-reason': 'ABSENT_IN_NEW_BACKFILL_INCOMPLETE',
    });
  });

  it('serves legacy when a key is absent from new before backfill completes, and when the frontier is too old', async () => {
    await api.f.setState(Phase.NEW_PRIMARY, { backfillComplete: false });
    await api.f.setFrontier(Date.now());
    const absent = await read(api.handler, 'u-2');
    await api.f.setFrontier(Date.now() - 60_000);
    const stale = await read(api.handler, 'u-1');

    expect(absent.statusCode).toBe(200);
    expect(absent.headers).toMatchObject({
      'x-served-by': 'legacy',
      'x-route-reason': 'ABSENT_IN_NEW_BACKFILL_INCOMPLETE',
    });
    expect(stale.headers).toMatchObject({ 'x-served-by': 'legacy', 'x-route-reason': 'FRONTIER_TOO_OLD' });
    expect(stale.body).not.toContain('from-new');
  });

  it('honors X-Read-After: new serves only once F − skew has passed it', async () => {
    await api.f.setState(Phase.NEW_PRIMARY, { backfillComplete: true });
    const F = Date.now();
    await api.f.setFrontier(F);
    const skew = usersMigration.read.clockSkewMs;

    const ahead = await read(api.handler, 'u-1', { 'X-Read-After': String(F - skew) });
    const behind = await read(api.handler, 'u-1', { 'X-Read-After': new Date(F - skew - 1).toISOString() });

    expect(ahead.headers).toMatchObject({
      'x-served-by': 'legacy',
      'x-route-reason': 'READ_AFTER_NOT_REACHED',
    });
    expect(behind.headers).toMatchObject({ 'x-served-by': 'new' });
  });

  it('answers strong reads with legacy content: from new only when both agree', async () => {
    await api.f.setState(Phase.DUAL_READ, { backfillComplete: true, rolloutPercent: 100 });
    await api.f.setFrontier(Date.now());
    await api.f.putLegacy(user('u-5'));
    await api.f.putNew(user('u-5'));

    const equal = await read(api.handler, 'u-5', { 'X-Consistency': 'strong' });
    const different = await read(api.handler, 'u-1', { 'X-Consistency': 'strong' });

    expect(equal.headers).toMatchObject({
      'x-served-by': 'new',
      'x-route-reason': 'STRONG_EQUAL',
      'x-consistency': 'strong',
    });
    expect(different.headers).toMatchObject({
      'x-served-by': 'legacy',
      'x-route-reason': 'STRONG_DIFFERENT',
    });
    expect(different.body).not.toContain('from-new');
  });

  it('clamps a looser requested mode to the phase default', async () => {
    await api.f.setState(Phase.SHADOW, { backfillComplete: true });

    const r = await read(api.handler, 'u-1', { 'X-Consistency': 'new' });

    expect(r.headers).toMatchObject({
      'x-served-by': 'legacy',
      'x-consistency': 'shadow',
      'x-route-reason': 'MODE_SHADOW',
    });
  });
});
