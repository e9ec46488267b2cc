/**
 * The frontier tracker over the faked streams API (test/helpers/tracker-fixture.ts). Assumption checks:
 * sequence order, splits, shared sequence numbers, contradicting markers and late records are counted.
 */
import { FrontierViolation, type StepResult } from '../../../../core/frontier';
import { padSequence } from '../../../../core/model';
import { fakeSync } from '../../../helpers/fake-streams';
import {
  TIP_SPAN,
  ONE_EMPTY_PAGE_TIP,
  emptyPageAfterFirst,
  splitAfterTip,
  trackerSetup,
} from '../../../helpers/tracker-fixture';

describe('Class: FrontierTracker', () => {
  it('counts a sequence number that does not increase within a shard', async () => {
    // Prepare
    const { stream, tracker } = trackerSetup();
    stream.addShard('s1');
    stream.write('s1', 'a');
    stream.duplicateNext = true;

    // Act
    const r = await tracker.step();

    // Assess
    expect(r.violations[FrontierViolation.SEQUENCE_NOT_INCREASING]).toBe(1);
    expect(r.newViolations).toBe(1);
  });

  it('counts a child record older than its parent for the same item', async () => {
    // Prepare
    const { stream, tracker } = trackerSetup();
    stream.addShard('p');
    stream.write('p', 'a', 10);
    stream.split('p', 'c1', 'c2');
    stream.writeRaw('c1', 'a', '1005');

    // Act
    const r = await tracker.step();

    // Assess
    expect(r.violations[FrontierViolation.CHILD_BEHIND_PARENT]).toBe(1);
  });

  it("counts a child record created certainly before its parent's last record", async () => {
    // Prepare: p's last record at 10 s; c1 holds a record stamped 3 s (a split that was not clean)
    const { clock, stream, tracker } = trackerSetup();
    stream.addShard('p');
    clock.advance(10_000);
    stream.write('p', 'a');
    stream.split('p', 'c1', 'c2');
    const early = stream.write('c1', 'b');
    (early as { trueMs: number }).trueMs -= 7_000;

    // Act
    const r = await tracker.step();

    // Assess
    expect(r.violations[FrontierViolation.CHILD_BEHIND_PARENT]).toBe(1);
  });

  it('counts a sequence number seen on two shards (markers identify a shard by one)', async () => {
    // Prepare
    const { stream, tracker } = trackerSetup();
    stream.addShard('a');
    stream.addShard('b');
    stream.writeRaw('a', 'x', '5000');
    stream.writeRaw('b', 'y', '5000');

    // Act
    const r = await tracker.step();

    // Assess
    expect(r.violations[FrontierViolation.SEQUENCE_NOT_UNIQUE]).toBe(1);
  });
});

/**
 * The tip rule is fooled (one empty page counts) and b, a second after a, is hidden behind an empty
 * page of s1; the sync Lambda applies what `sync` lets it; 5 s later the tracker publishes (`passed`).
 */
async function publishedPastHiddenRecord(sync: Parameters<typeof fakeSync>[2]) {
  const t = trackerSetup(1000, { pageSize: 1, emptyRun: emptyPageAfterFirst }, ONE_EMPTY_PAGE_TIP);
  t.stream.addShard('s1');
  t.stream.write('s1', 'a');
  t.clock.advance(1000);
  const b = t.stream.write('s1', 'b');
  fakeSync(t.stream, t.evidence, sync);
  t.clock.advance(5000);
  const passed = await t.tracker.step();
  return { ...t, b, passed };
}

describe('Class: FrontierTracker (late records)', () => {
  it('counts nothing when children are listed late but F never passed their records', async () => {
    // Prepare
    const t = trackerSetup(1000, { childListingDelayMs: 10_000 });
    const { clock, stream, evidence, tracker } = t;
    await splitAfterTip(t, 2000);
    stream.write('c1', 'b');
    fakeSync(stream, evidence);

    // Act
    let last: StepResult | undefined;
    for (let i = 0; i < 10; i++) {
      clock.advance(2000);
      last = await tracker.step();
    }

    // Assess
    expect(last?.shards.map((s) => s.shardId)).toEqual(['c1', 'c2']);
    expect(last?.violations).toEqual({});
  });

  it('counts a record read after F passed it and not applied when F was published, once', async () => {
    // Prepare: the tip rule is fooled (one empty page counts) and b is hidden behind an empty page;
    // F passes b while b is still unapplied
    const { clock, stream, evidence, tracker, b, passed } = await publishedPastHiddenRecord({
      batch: 1,
      maxBatches: 1,
    }); // a applied

    // Act
    clock.advance(2000);
    const found = await tracker.step();
    fakeSync(stream, evidence);
    clock.advance(2000);
    const after = await tracker.step();

    // Assess
    expect(passed.published).toBeGreaterThan(b.trueMs);
    expect(found.newLateRecords).toBe(1);
    expect(found.violations[FrontierViolation.LATE_RECORD]).toBe(1);
    expect(after.violations[FrontierViolation.LATE_RECORD]).toBe(1);
    expect(after.newLateRecords).toBe(0);
  });

  it('does not count a record read after F passed it that was applied before F was published', async () => {
    // Prepare: as above, but the sync Lambda had applied b (batch and marker of its own) before the publish
    const { clock, tracker, b, passed } = await publishedPastHiddenRecord({ batch: 1 });

    // Act
    clock.advance(2000);
    const found = await tracker.step();

    // Assess
    expect(passed.published).toBeGreaterThan(b.trueMs);
    expect(found.pending).toBe(0);
    expect(found.violations).toEqual({});
  });

  it('ignores a marker whose count contradicts the shard, as one spanning shards, and counts both', async () => {
    // Prepare
    const { clock, stream, evidence, tracker } = trackerSetup();
    stream.addShard('a');
    stream.addShard('b');
    const a1 = stream.write('a', 'x');
    const a2 = stream.write('a', 'y');
    const b1 = stream.write('b', 'z');
    clock.advance(100);
    const m = (first: string, last: string, count: number) => ({
      first: padSequence(first),
      last: padSequence(last),
      count,
      failed: [],
      at: clock.t,
      expiresAt: 0,
    });
    await tracker.step();
    evidence.markerItems.set(`APPLIED#${padSequence(a1.seq)}`, m(a1.seq, a2.seq, 3));
    evidence.markerItems.set(`APPLIED#${padSequence(b1.seq)}`, m(b1.seq, a2.seq, 1));
    clock.advance(TIP_SPAN);

    // Act
    const r = await tracker.step();

    // Assess: both counted, neither proves anything: F stays at the first records' bounds
    expect(r.violations[FrontierViolation.MARKER_COUNT_MISMATCH]).toBe(1);
    expect(r.violations[FrontierViolation.MARKER_SPANS_SHARDS]).toBe(1);
    expect(r.pending).toBe(3);
    expect(r.published).toBeLessThanOrEqual(a1.trueMs);
  });
});
