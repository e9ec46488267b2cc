/**
 * The read handler over in-memory stores with a fake clock: hedging, the breaker's open and half-open
 * probes, control-state failures, data errors in new. (DynamoDB Local behaviour is in
 * test/integration/read/.)
 */
import { Phase } from '../../../core/control';
import { canonicalItem, itemFromDynamoJson, mergeItems, type Migration } from '../../../core/model';
import { usersMigration } from '../../../examples/users/migration';
import { NO_TELEMETRY, type MismatchEvent } from '../../../lambdas/read/telemetry';
import { read } from '../../helpers/api-events';
import { names, setup } from '../../helpers/memory-read';

describe('Function: makeReadHandler (resilience, fake stores)', () => {
  it('answers from legacy when new is slower than the hedge delay', async () => {
    // Prepare
    const s = setup();
    s.fresh.delayMs = 150;

    // Act
    const r = await read(s.handler);

    // Assess
    expect(r.statusCode).toBe(200);
    expect(r.headers).toMatchObject({
      'x-served-by': 'legacy',
      'x-route-reason': 'HEDGED_TO_LEGACY',
      'x-staleness-bound-ms': '0',
    });
  });

  it('opens the breaker after consecutive failures, stops calling new, then closes after successful probes', async () => {
    // Prepare
    const s = setup();
    s.fresh.fail = true;

    // Act: three failures open it; the fourth read does not touch new.
    const failed = [await read(s.handler), await read(s.handler), await read(s.handler)];
    const callsWhenOpened = s.fresh.calls;
    const whileOpen = await read(s.handler);
    s.fresh.fail = false;
    s.clock.advance(5_000);
    const probe1 = await read(s.handler);
    const probe2 = await read(s.handler);
    const after = await read(s.handler);

    // Assess
    expect(failed.map((r) => [r.statusCode, r.headers?.['x-route-reason']])).toEqual([
      [200, 'NEW_FAILED_FALLBACK'],
      [200, 'NEW_FAILED_FALLBACK'],
      [200, 'NEW_FAILED_FALLBACK'],
    ]);
    expect(whileOpen.headers).toMatchObject({ 'x-served-by': 'legacy', 'x-route-reason': 'NEW_UNAVAILABLE' });
    expect(s.fresh.calls).toBe(callsWhenOpened + 3);
    expect([probe1, probe2, after].map((r) => r.headers?.['x-served-by'])).toEqual(['new', 'new', 'new']);
    expect(s.handler.readers.get('users')?.breakerState()).toBe('closed');
  });

  it('routes everything to legacy when control state was never readable, and lets a cached snapshot age into legacy', async () => {
    // Prepare
    const never = setup();
    never.failControl(true);
    const cached = setup();

    // Act
    const r1 = await read(never.handler);
    const fresh = await read(cached.handler);
    cached.failControl(true);
    cached.clock.advance(10_000); // cache expired, refresh fails: the old snapshot ages
    const aged = await read(cached.handler);

    // Assess
    expect(r1.headers).toMatchObject({ 'x-served-by': 'legacy', 'x-route-reason': 'CONTROL_UNAVAILABLE' });
    expect(fresh.headers).toMatchObject({ 'x-served-by': 'new' });
    expect(aged.headers).toMatchObject({ 'x-served-by': 'legacy', 'x-route-reason': 'FRONTIER_TOO_OLD' });
  });

  it('applies a phase rollback within the control cache interval', async () => {
    const s = setup();
    const before = await read(s.handler);
    s.setState({ phase: Phase.SHADOW });
    const cachedRead = await read(s.handler);
    s.clock.advance(usersMigration.read.controlCacheMs);
    const afterTtl = await read(s.handler);

    expect(before.headers?.['x-served-by']).toBe('new');
    expect(cachedRead.headers?.['x-served-by']).toBe('new');
    expect(afterTtl.headers).toMatchObject({ 'x-served-by': 'legacy', 'x-route-reason': 'MODE_SHADOW' });
  });

  it('treats an item new cannot unmap as a failure of new and answers from legacy', async () => {
    const s = setup();
    s.fresh.put({ PK: { S: 'USER#u-1' }, SK: { S: 'PROFILE' }, [names.seq]: { S: '2'.padStart(40, '0') } });
    s.fresh.items.set(canonicalItem({ PK: { S: 'USER#u-1' }, SK: { S: 'PROFILE' } }), {
      PK: { S: 'bad' },
      SK: { S: 'PROFILE' },
    });

    const r = await read(s.handler);

    expect(r.statusCode).toBe(200);
    expect(r.headers).toMatchObject({ 'x-served-by': 'legacy', 'x-route-reason': 'NEW_FAILED_FALLBACK' });
  });

  it('counts a new item that unmapItem refuses as its own shadow class, unmappable, instead of dropping the comparison', async () => {
    // Prepare: SHADOW phase; new holds an item the mapping cannot turn back into the legacy shape.
    const comparisons: MismatchEvent[] = [];
    const s = setup(Phase.SHADOW, {
      telemetry: { ...NO_TELEMETRY, comparison: (e) => comparisons.push(e) },
    });
    s.fresh.items.set(canonicalItem({ PK: { S: 'USER#u-1' }, SK: { S: 'PROFILE' } }), {
      PK: { S: 'bad' },
      SK: { S: 'PROFILE' },
      [names.seq]: { S: '2'.padStart(40, '0') },
    });

    // Act
    const r = await read(s.handler, 'u-1', { 'x-consistency': 'shadow' });
    await s.handler.drain();

    // Assess: legacy answered, and the defect is counted (the SHADOW guardrail sees it).
    expect(r.statusCode).toBe(200);
    expect(r.headers).toMatchObject({ 'x-served-by': 'legacy', 'x-route-reason': 'MODE_SHADOW' });
    expect(comparisons.map((c) => [c.class, c.first])).toEqual([['unmappable', 'unmappable']]);
    expect(comparisons[0]?.detail).toMatch(
      /^unmapItem failed: TypeError: new item has no PK = USER#<userId>/,
    );
  });

  it('never serves an item without an attribute its unmapItem lost ("__proto__" assigned into a plain object): legacy answers', async () => {
    // Prepare: both stores hold an item with a "__proto__" attribute; this mapping's unmapItem copies
    // attributes with Object.assign, which assigns "__proto__" (sets the prototype) and so loses it.
    const lossy: Migration = {
      ...usersMigration,
      unmapItem: (item) => Object.assign({}, usersMigration.unmapItem(item)),
    };
    const s = setup(Phase.NEW_PRIMARY, { migration: lossy });
    const legacyItem = itemFromDynamoJson(JSON.parse('{"userId":{"S":"u-9"},"__proto__":{"S":"p"}}'));
    s.legacy.put(legacyItem);
    s.fresh.put(
      mergeItems(
        itemFromDynamoJson(JSON.parse('{"PK":{"S":"USER#u-9"},"SK":{"S":"PROFILE"},"__proto__":{"S":"p"}}')),
        {
          [names.seq]: { S: '3'.padStart(40, '0') },
        },
      ),
    );

    // Act
    const r = await read(s.handler, 'u-9');

    // Assess
    expect(r.headers).toMatchObject({ 'x-served-by': 'legacy', 'x-route-reason': 'NEW_FAILED_FALLBACK' });
    expect(r.body).toBe('{"item":{"userId":"u-9","__proto__":"p"}}');
  });

  it('answers 503 in FINALIZED when new fails (legacy may be retired), 404 when it holds nothing', async () => {
    const s = setup(Phase.FINALIZED);
    const missing = await read(s.handler, 'nobody');
    s.fresh.fail = true;
    const failing = await read(s.handler);

    expect(missing.statusCode).toBe(404);
    expect(failing.statusCode).toBe(503);
    expect(failing.headers).toMatchObject({ 'x-served-by': 'new', 'x-route-reason': 'FINALIZED_NEW_FAILED' });
    expect(s.legacy.calls).toBe(0);
  });
});
