/**
 * The frontier tracker and stream gaps (core/frontier/gap.ts): records trimmed before the consumer read
 * them open a gap on FRONTIER, `F` stays frozen below every lost write until a clean verification that
 * started after the gap opened closes it, and then moves on.
 */
import {
  StreamGapRecoveryError,
  closeGap,
  gapOpen,
  gapSummary,
  openGap,
  recheckFrontier,
} from '../../../../core/frontier';
import type { FrontierState } from '../../../../core/control';
import { DYNAMODB_LOCAL_CREATION_GRANULARITY_MS } from '../../../../core/frontier';
import { fakeSync } from '../../../helpers/fake-streams';
import { MARGIN, ONE_EMPTY_PAGE_TIP, stepToTip, trackerSetup } from '../../../helpers/tracker-fixture';

type Setup = ReturnType<typeof trackerSetup>;

/** Shard s1 gets one record, a, which the sync Lambda applies; then 1 s passes. */
function appliedRecordOnS1(t: Setup): Setup {
  t.stream.addShard('s1');
  t.stream.write('s1', 'a');
  fakeSync(t.stream, t.evidence);
  t.clock.advance(1000);
  return t;
}

/**
 * The recovery's closing of the open gap: a clean verification run that started just after the gap
 * opened, by `by`, written to FRONTIER with its version. Returns FRONTIER as it was before.
 */
async function closeWithCleanRun(t: Setup, by: string): Promise<FrontierState> {
  const open = t.store.frontier as FrontierState;
  const closed = closeGap(
    open.gap,
    { runId: 'v1', startedAt: (open.gap?.openedAt ?? 0) + 1, status: 'COMPLETE', clean: true },
    by,
    t.clock.t,
  );
  await t.store.putFrontier({ ...open, gap: closed }, open.version);
  return open;
}

/** A tracker at the tip of s1, then a pause while `lost` writes are made and trimmed, then `after`. */
async function trimmedWhilePaused() {
  const t = appliedRecordOnS1(trackerSetup());
  const atTip = await stepToTip(t.tracker, t.clock);
  // The consumer (sync and tracker) pauses; the workload writes on; the first writes are trimmed.
  t.clock.advance(5000);
  const lost = [t.stream.write('s1', 'b'), t.stream.write('s1', 'c')];
  t.clock.advance(5000);
  t.stream.trimFirst('s1', 3);
  const after = t.stream.write('s1', 'd');
  t.clock.advance(1000);
  fakeSync(t.stream, t.evidence); // skips the trimmed records, applies d
  return { ...t, frozen: atTip.published, lost, after };
}

describe('Class: FrontierTracker (stream gaps)', () => {
  it('opens a gap on FRONTIER and keeps F below every lost write while the later records are applied', async () => {
    // Prepare
    const t = await trimmedWhilePaused();

    // Act
    await t.tracker.step();
    t.clock.advance(2000);
    const r = await stepToTip(t.tracker, t.clock);

    // Assess
    const f = t.store.frontier as FrontierState;
    expect(gapOpen(f.gap)).toBe(true);
    expect(f.gap).toMatchObject({ shards: ['s1'], frozenAt: t.frozen, detections: 1 });
    expect(r.published).toBe(t.frozen);
    for (const w of t.lost) expect(t.frozen).toBeLessThan(w.trueMs);
    expect(t.lost.every((w) => !w.applied)).toBe(true);
    // What the records after the horizon prove moves on, for the verification's re-check only.
    expect(f.gap?.cdcFrontier).toBe(t.clock.t - MARGIN);
    expect(recheckFrontier(f)).toBe(t.clock.t - MARGIN);
    expect(gapSummary(f.gap)).toMatch(/^OPEN since .*run `dualread recover stream-gap`$/);
  });

  it('keeps F frozen after a restart (the gap is on FRONTIER, not in memory)', async () => {
    // Prepare
    const t = await trimmedWhilePaused();
    await t.tracker.step();
    const restarted = t.make();
    t.clock.advance(5000);

    // Act
    const r = await stepToTip(restarted, t.clock);

    // Assess
    expect(r.published).toBe(t.frozen);
    expect(gapOpen(t.store.frontier?.gap)).toBe(true);
  });

  it('moves F again once a clean verification that started after the gap closed it', async () => {
    // Prepare
    const t = await trimmedWhilePaused();
    await t.tracker.step();
    t.clock.advance(1000);
    // The recovery: repairs what the lost records left, then a clean run; a versioned write closes the gap.
    for (const w of t.lost) w.applied = true;
    await closeWithCleanRun(t, 'operator');
    t.clock.advance(1000);

    // Act
    const r = await stepToTip(t.tracker, t.clock);

    // Assess
    expect(r.published).toBe(t.clock.t - MARGIN);
    expect(t.store.frontier?.gap).toMatchObject({ closedBy: 'operator', closedByRun: 'v1' });
    expect(gapOpen(t.store.frontier?.gap)).toBe(false);
  });

  it('publishes cdcFrontier from what was applied before reading on, so new unapplied records do not hold it', async () => {
    // Prepare: a gap open on a store that truncates creation times to the minute (DynamoDB Local).
    const t = trackerSetup(DYNAMODB_LOCAL_CREATION_GRANULARITY_MS, {}, ONE_EMPTY_PAGE_TIP);
    t.clock.t = 1_700_000_040_000 + 5000; // 5 s into a minute
    appliedRecordOnS1(t);
    await t.tracker.step();
    t.clock.advance(1000);
    t.stream.write('s1', 'lost');
    t.stream.trimFirst('s1', 2);
    t.clock.advance(1000);
    await t.tracker.step(); // finds the trim: the gap opens
    expect(gapOpen(t.store.frontier?.gap)).toBe(true);
    t.stream.write('s1', 'e');
    t.clock.advance(1000);
    await t.tracker.step(); // reads e (unapplied) and probes the tip behind it
    const probedAt = t.clock.t;
    fakeSync(t.stream, t.evidence); // e applied
    t.stream.write('s1', 'f'); // the next write, still unapplied when the tracker reads it
    t.clock.advance(1000);

    // Act
    await t.tracker.step();

    // Assess: e's probe counts, although f (same minute, unapplied) was read after it.
    expect(t.store.frontier?.gap?.cdcFrontier).toBe(probedAt - MARGIN);
  });

  it('settles the records it had read but the sync Lambda lost: cdcFrontier passes them, F only after the closing', async () => {
    // Prepare: the tracker reads b before the pause; the sync Lambda never applies it (trimmed for it).
    const t = trackerSetup();
    t.stream.addShard('s1');
    t.clock.advance(1000);
    await stepToTip(t.tracker, t.clock);
    const b = t.stream.write('s1', 'b');
    t.clock.advance(1000);
    const held = await t.tracker.step();
    expect(held.pending).toBe(1);
    t.clock.advance(5000);
    t.stream.write('s1', 'c');
    t.stream.trimFirst('s1', 2);
    t.stream.write('s1', 'd');
    t.clock.advance(1000);
    fakeSync(t.stream, t.evidence); // skips b and c, applies d

    // Act
    await t.tracker.step();
    t.clock.advance(2000);
    await stepToTip(t.tracker, t.clock);
    const open = await closeWithCleanRun(t, 'ops');
    t.clock.advance(1000);
    const after = await stepToTip(t.tracker, t.clock);

    // Assess
    expect(b.applied).toBe(false);
    expect(open.frontier).toBeLessThan(b.trueMs);
    expect(open.gap?.cdcFrontier).toBeGreaterThan(b.trueMs);
    expect(after.published).toBe(t.clock.t - MARGIN);
  });

  it('does not open a gap when nothing was trimmed', async () => {
    // Prepare
    const t = appliedRecordOnS1(trackerSetup());

    // Act
    const r = await stepToTip(t.tracker, t.clock);

    // Assess
    expect(r.published).toBe(t.clock.t - MARGIN);
    expect(t.store.frontier?.gap).toBeUndefined();
  });
});

describe('Function: closeGap', () => {
  const gap = openGap(undefined, ['s1'], 10_000, 5_000, 5_000);
  const run = { runId: 'v1', startedAt: 10_001, status: 'COMPLETE', clean: true };

  it('closes an open gap with a clean run started after it opened', () => {
    expect(closeGap(gap, run, 'ops', 20_000)).toMatchObject({ closedAt: 20_000, closedByRun: 'v1' });
  });

  it.each([
    ['a run started before the gap opened', { ...run, startedAt: 10_000 }, /not after the stream gap opened/],
    ['a run that found drift', { ...run, clean: false }, /COMPLETE but not clean/],
    ['a run still going', { ...run, status: 'RUNNING', clean: false }, /is RUNNING/],
  ])('refuses %s', (_, r, message) => {
    expect(() => closeGap(gap, r, 'ops', 20_000)).toThrow(StreamGapRecoveryError);
    expect(() => closeGap(gap, r, 'ops', 20_000)).toThrow(message);
  });

  it('refuses when no gap is open', () => {
    const closed = closeGap(gap, run, 'ops', 20_000);
    expect(() => closeGap(closed, run, 'ops', 30_000)).toThrow(/no stream gap is open/);
    expect(() => closeGap(undefined, run, 'ops', 30_000)).toThrow(/no stream gap is open/);
  });

  it('widens an open gap: openedAt moves to the latest loss, F stays frozen where it first froze', () => {
    const wider = openGap(gap, ['s2'], 15_000, 9_000, 12_000);
    expect(wider).toMatchObject({ openedAt: 15_000, frozenAt: 5_000, shards: ['s1', 's2'], detections: 2 });
    expect(() => closeGap(wider, run, 'ops', 20_000)).toThrow(/not after the stream gap opened/);
  });
});
