/**
 * The frontier tracker's read hold (`TrackerConfig.readHoldMs`): on a store that truncates creation
 * times to the minute, a sync Lambda slower than one tracker step leaves a record read and unapplied at
 * every computation of a tracker that reads on every step, so `F` moves only at minute boundaries.
 * Holding the shard's reading until what it read is applied lets `F` reach the last probe, and never
 * lets it pass a write that is not applied.
 */
import { DYNAMODB_LOCAL_CREATION_GRANULARITY_MS } from '../../../../core/frontier';
import { type FakeRecord, fakeSync, settledBy } from '../../../helpers/fake-streams';
import { ONE_EMPTY_PAGE_TIP, trackerSetup } from '../../../helpers/tracker-fixture';

/** Tracker step interval of the run. */
const STEP_MS = 250;
/** How long after a record is visible the lagging sync Lambda applies it (longer than a step). */
const APPLY_LAG_MS = 700;

/**
 * A tracker with DynamoDB Local's minute-truncated creation times, one empty page as the tip and the read
 * hold `readHoldMs`, over one shard `s1`, its clock 5 s into a minute.
 */
function heldTracker(readHoldMs: number) {
  const t = trackerSetup(DYNAMODB_LOCAL_CREATION_GRANULARITY_MS, {}, { ...ONE_EMPTY_PAGE_TIP, readHoldMs });
  t.clock.t = 1_700_000_040_000 + 5000; // a whole minute is 1_700_000_040_000
  t.stream.addShard('s1');
  return t;
}

/**
 * 40 s of one write every 100 ms on one shard, starting 5 s into a minute; a tracker step every
 * `STEP_MS`, the sync Lambda applying what was visible `APPLY_LAG_MS` ago. Returns the frontier lag at
 * the end of each step and every record written.
 */
async function laggingSyncRun(readHoldMs: number) {
  const t = heldTracker(readHoldMs);
  const written: FakeRecord[] = [];
  const lags: number[] = [];
  for (let ms = 0; ms < 40_000; ms += 100) {
    written.push(t.stream.write('s1', `k${ms % 3000}`));
    t.clock.advance(100);
    fakeSync(t.stream, t.evidence, { visibleBy: t.clock.t - APPLY_LAG_MS });
    if (ms % STEP_MS < 100) {
      const r = await t.tracker.step();
      if (ms >= 10_000) lags.push(t.clock.t - r.published);
    }
  }
  return { ...t, lags, written };
}

describe('Class: FrontierTracker (read hold)', () => {
  it('without a hold, F trails a lagging sync by up to a minute of truncated creation times', async () => {
    // Act
    const { lags } = await laggingSyncRun(0);

    // Assess
    expect(Math.max(...lags)).toBeGreaterThan(20_000);
  });

  it('with a hold, F stays within the apply lag plus a few steps and the margin', async () => {
    // Act
    const { lags } = await laggingSyncRun(3000);

    // Assess
    expect(Math.max(...lags)).toBeLessThan(4000);
  });

  it('with a hold, F never passes a write that was not applied when it was published', async () => {
    // Act
    const { store, stream, written } = await laggingSyncRun(3000);

    // Assess
    expect(store.publishes.length).toBeGreaterThan(10);
    for (const p of store.publishes) {
      const unsettled = written.filter((r) => r.trueMs < p.frontier && !settledBy(stream, r, p.tick));
      expect(unsettled).toEqual([]);
    }
  });

  it('reads on past the hold when a record stays unapplied (a stalled sync), so reading never stops', async () => {
    // Prepare
    const t = heldTracker(1000);
    t.stream.write('s1', 'a');
    t.clock.advance(100);
    await t.tracker.step(); // reads a, unapplied
    t.stream.write('s1', 'b');
    t.clock.advance(100);

    // Act
    const held = await t.tracker.step();
    t.clock.advance(1000);
    const after = await t.tracker.step();

    // Assess
    expect(held.pending).toBe(1);
    expect(after.pending).toBe(2);
  });

  it('reads a held shard on up to the last record of a batch the sync finished, so its marker counts at once', async () => {
    // Prepare: the tracker read a..e (to the tip) and holds them unapplied; f..j are written; the sync
    // applies a..h in one batch, whose marker names h, which the tracker has not read.
    const t = heldTracker(60_000);
    const first = ['a', 'b', 'c', 'd', 'e'].map((k) => t.stream.write('s1', k));
    t.clock.advance(1200); // past the 1 s margin: a probe now can cover them
    const before = await t.tracker.step();
    const probeAt = t.clock.t;
    const later = ['f', 'g', 'h', 'i', 'j'].map((k) => t.stream.write('s1', k));
    t.clock.advance(100);
    fakeSync(t.stream, t.evidence, { batch: 8, maxBatches: 1 });

    // Act: the next step, 250 ms on
    t.clock.advance(250);
    const after = await t.tracker.step();
    t.clock.advance(250);
    const next = await t.tracker.step();

    // Assess: a..e covered at once (F at the probe minus the margin), i and j left unread, then read
    expect(before.pending).toBe(5);
    expect(after.pending).toBe(0);
    expect(after.published).toBeGreaterThan(Math.max(...first.map((r) => r.trueMs)));
    expect(after.published).toBeGreaterThanOrEqual(probeAt - 1000);
    expect(after.published).toBeLessThan(Math.min(...later.map((r) => r.trueMs)));
    expect(next.pending).toBe(2);
    expect(t.store.publishes.at(-1)?.frontier).toBeLessThan((later[3] as FakeRecord).trueMs);
  });
});
