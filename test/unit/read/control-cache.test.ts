/**
 * The read path's control cache: stale-while-revalidate with a bounded wait (a slow control table
 * never stalls a read that legacy can answer), and the snapshot's age counted from the START of the
 * control read, because the values it holds may be that old.
 */
import {
  BackfillStatus,
  type FrontierState,
  type MigrationState,
  Phase,
  initialState,
} from '../../../core/control';
import { ControlCache, type ControlSource } from '../../../lambdas/read/control-cache';
import { read } from '../../helpers/api-events';
import { setup } from '../../helpers/memory-read';

const T0 = 1_764_547_200_000;

/** A control source whose reads finish only when the test says so. */
class ManualSource implements ControlSource {
  readonly pending: Array<(state: MigrationState) => void> = [];
  state: MigrationState = {
    ...initialState('users', 0, 0),
    phase: Phase.NEW_PRIMARY,
    rolloutPercent: 100,
    backfill: { status: BackfillStatus.COMPLETE },
  };
  frontier = T0;
  getState(): Promise<MigrationState> {
    return new Promise((resolve) => this.pending.push(resolve));
  }
  async getFrontier(): Promise<FrontierState> {
    return {
      migrationId: 'users',
      frontier: this.frontier,
      computedAt: this.frontier,
      shards: [],
      version: 1,
    };
  }
  /** Finishes the oldest pending read with the current state. */
  finish(): void {
    (this.pending.shift() as (s: MigrationState) => void)(this.state);
  }
}

function clock(start = T0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('Class: ControlCache', () => {
  it('counts the age of a snapshot from the start of the control read, not its end', async () => {
    // Prepare: the control read takes 400 ms (fake clock).
    const c = clock();
    const source = new ManualSource();
    const cache = new ControlCache(source, 1_000, c.now);

    // Act
    const refreshing = cache.refresh();
    c.advance(400);
    source.finish();
    const snap = await refreshing;

    // Assess
    expect(snap.fetchedAt).toBe(T0);
    expect(ControlCache.ageOf(snap, c.now())).toBe(400);
  });

  it('waits for a slow refresh at most its bound, then answers with the last snapshot, whose age keeps growing', async () => {
    // Prepare: one snapshot, then the control table stalls.
    const c = clock();
    const source = new ManualSource();
    const cache = new ControlCache(source, 1_000, c.now, { waitMs: 20 });
    const first = cache.refresh();
    source.finish();
    await first;
    c.advance(1_500);

    // Act: the refresh never finishes while the reads run.
    const stale = await cache.get();
    c.advance(2_000);
    const staler = await cache.get();

    // Assess: both answered with the old snapshot; one refresh in flight (single flight).
    expect(stale.fetchedAt).toBe(T0);
    expect(ControlCache.ageOf(stale, T0 + 1_500)).toBe(1_500);
    expect(ControlCache.ageOf(staler, c.now())).toBe(3_500);
    expect(source.pending.length).toBe(1);

    // And once the control table answers, the next read gets the new snapshot.
    source.finish();
    await new Promise((r) => setImmediate(r));
    expect((await cache.get()).fetchedAt).toBe(T0 + 1_500);
  }, 10_000);

  it('abandons a refresh that outlives its timeout, so the next read starts another; a late answer never replaces a newer snapshot', async () => {
    // Prepare
    const c = clock();
    const source = new ManualSource();
    const cache = new ControlCache(source, 1_000, c.now, { waitMs: 5, refreshTimeoutMs: 30 });

    // Act: the first read stalls; after its timeout a second read starts a new refresh, which answers.
    const stuck = cache.refresh();
    await stuck; // answers (the empty snapshot) once abandoned
    c.advance(100);
    const second = cache.refresh();
    source.pending[1]?.(source.state);
    const fresh = await second;
    source.frontier = 1; // the stuck read answers late with an older frontier
    source.pending[0]?.(source.state);
    await new Promise((r) => setImmediate(r));

    // Assess
    expect(source.pending.length).toBe(2);
    expect(fresh.fetchedAt).toBe(T0 + 100);
    expect((await cache.get()).frontier).toBe(T0);
  }, 10_000);
});

describe('Function: makeReadHandler (slow control table)', () => {
  it('serves from legacy with CONTROL_UNAVAILABLE, within the wait bound, when no snapshot exists and the control table stalls', async () => {
    // Prepare
    const s = setup(Phase.NEW_PRIMARY, { options: { controlWaitMs: 20 } });
    s.hangControl();

    // Act: the control read is still stalled when the answer comes.
    const r = await read(s.handler);
    const stillStalled = s.controlReads() === 1;
    s.releaseControl();

    // Assess
    expect(stillStalled).toBe(true);
    expect(r.statusCode).toBe(200);
    expect(r.headers).toMatchObject({ 'x-served-by': 'legacy', 'x-route-reason': 'CONTROL_UNAVAILABLE' });
  }, 10_000);

  it('routes on the ageing snapshot while a refresh stalls, so bounded reads drift to legacy', async () => {
    // Prepare: a fresh snapshot serves new; then the control table stalls and time passes.
    const s = setup(Phase.NEW_PRIMARY, { options: { controlWaitMs: 20 } });
    const before = await read(s.handler);
    s.hangControl();
    s.clock.advance(10_000);

    // Act
    const r = await read(s.handler);
    s.releaseControl();

    // Assess
    expect(before.headers).toMatchObject({ 'x-served-by': 'new' });
    expect(r.headers).toMatchObject({ 'x-served-by': 'legacy', 'x-route-reason': 'FRONTIER_TOO_OLD' });
  }, 10_000);
});
