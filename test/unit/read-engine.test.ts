/**
 * The read handler over in-memory stores with a fake clock: hedging, the breaker's open and half-open
 * probes, control-state failures, data errors in new. (DynamoDB Local behaviour is in
 * test/integration/read-api.test.ts.)
 */
import type { ItemStore } from '../../adapters/item-store';
import { StoreReadError } from '../../adapters/item-store';
import {
  BackfillStatus,
  type FrontierState,
  type MigrationState,
  Phase,
  initialState,
} from '../../core/control';
import { metadataNames } from '../../core/metadata';
import { type Item, canonicalItem } from '../../core/values';
import { usersMigration } from '../../examples/users/migration';
import type { ControlSource } from '../../lambdas/read/control-cache';
import { makeReadHandler } from '../../lambdas/read/handler';
import { getItemEvent } from '../helpers/api-events';

const names = metadataNames('_dr_');

class MemoryStore implements ItemStore {
  readonly items = new Map<string, Item>();
  fail = false;
  delayMs = 0;
  calls = 0;
  constructor(
    readonly tableName: string,
    private readonly keyNames: readonly string[],
  ) {}
  put(item: Item): void {
    this.items.set(canonicalItem(Object.fromEntries(this.keyNames.map((n) => [n, item[n]])) as Item), item);
  }
  async get(key: Item, signal: AbortSignal): Promise<Item | undefined> {
    this.calls++;
    if (this.delayMs)
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, this.delayMs);
        signal.addEventListener('abort', () => {
          clearTimeout(t);
          reject(new StoreReadError(this.tableName, false, true, 'aborted'));
        });
      });
    if (this.fail) throw new StoreReadError(this.tableName, false, false, new Error('boom'));
    return this.items.get(canonicalItem(key));
  }
  async query(): Promise<{ items: Item[] }> {
    return { items: [] };
  }
}

function setup(phase: Phase = Phase.NEW_PRIMARY) {
  let t = 1_000_000;
  const clock = { now: () => t, advance: (ms: number) => (t += ms) };
  const legacy = new MemoryStore('legacy', ['userId']);
  const fresh = new MemoryStore('new', ['PK', 'SK']);
  let state: MigrationState | undefined = {
    ...initialState('users', 0, 0),
    phase,
    rolloutPercent: 100,
    backfill: { status: BackfillStatus.COMPLETE },
  };
  let controlFails = false;
  const control: ControlSource = {
    getState: async () => {
      if (controlFails) throw new Error('control down');
      return state;
    },
    getFrontier: async (): Promise<FrontierState> => ({
      migrationId: 'users',
      frontier: t,
      computedAt: t,
      shards: [],
      version: 1,
    }),
  };
  const legacyItem = { userId: { S: 'u-1' }, fullName: { S: 'Ada' } };
  legacy.put(legacyItem);
  fresh.put({ ...usersMigration.mapItem(legacyItem), [names.seq]: { S: '1'.padStart(40, '0') } });
  const handler = makeReadHandler({
    targets: [{ migration: usersMigration, legacy, fresh, control }],
    now: clock.now,
    random: () => 0.5,
    options: {
      hedgeAfterMs: 20,
      newTimeoutMs: 200,
      breaker: { consecutiveFailures: 3, openMs: 5_000, probeSuccesses: 2 },
    },
  });
  return {
    clock,
    legacy,
    fresh,
    handler,
    setState: (s: Partial<MigrationState>) => (state = { ...(state as MigrationState), ...s }),
    failControl: (v: boolean) => (controlFails = v),
  };
}

const read = (h: ReturnType<typeof setup>['handler'], id = 'u-1') =>
  h(getItemEvent('users', { userId: { S: id } }));

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
