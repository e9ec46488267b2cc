/**
 * The frontier tracker over the faked streams API (test/helpers/tracker-fixture.ts). Tip detection: an empty
 * page is not the tip, a closed shard takes no probe, and a record known unapplied caps its shard whatever a
 * probe said.
 */
import { IteratorExpiredError } from '../../../../core/frontier';
import { padSequence } from '../../../../core/model';
import { fakeSync } from '../../../helpers/fake-streams';
import {
  MARGIN,
  ONE_EMPTY_PAGE_TIP,
  emptyPageAfterFirst,
  failRead,
  floorS,
  stepToTip,
  stepsTipSpanApart,
  trackerSetup,
} from '../../../helpers/tracker-fixture';

describe('Class: FrontierTracker', () => {
  it('takes no probe on a shard it knows is closed (its end, not an empty page, finishes it)', async () => {
    // Prepare: p is closed with a record behind 5 empty pages; its children are listed
    const { clock, stream, tracker } = trackerSetup(1000, {
      emptyRun: ({ shardId, after }) => (shardId === 'p' && after === 'iterator' ? 5 : 0),
    });
    stream.addShard('p');
    const a = stream.write('p', 'a');
    stream.split('p', 'c1', 'c2');
    clock.advance(5000);

    // Act
    const [first, second] = await stepsTipSpanApart(tracker, clock, 2);

    // Assess: the 3rd to 5th empty pages span 1 s but do not count on a closed shard
    expect(first.published).toBe(0);
    expect(second.published).toBeLessThanOrEqual(a.trueMs);
  });
});

describe('Class: FrontierTracker (tip detection: an empty page is not the tip)', () => {
  it('does not take empty pages in the middle of a shard for its tip', async () => {
    // Prepare: a page of one record, then two empty pages the API returns although b is visible
    const { clock, stream, evidence, tracker } = trackerSetup(1000, {
      pageSize: 1,
      emptyRun: ({ after, position }) => (after === 'page' && position === 1 ? 2 : 0),
    });
    stream.addShard('s1');
    stream.write('s1', 'a');
    clock.advance(2000);
    const b = stream.write('s1', 'b');
    fakeSync(stream, evidence, { batch: 1, maxBatches: 1 }); // a applied, b not yet
    clock.advance(3000);

    // Act
    const steps = await stepsTipSpanApart(tracker, clock, 4);

    // Assess: F never passes b, which the tracker finds behind the empty pages
    for (const s of steps) expect(s.published).toBeLessThanOrEqual(b.trueMs);
    expect(steps[steps.length - 1]?.pending).toBe(1);
    expect(stream.emptyPages).toBeGreaterThanOrEqual(2);
  });

  it('does not take the empty pages of a fresh iterator for the tip', async () => {
    // Prepare: a new iterator returns two empty pages before the records
    const { clock, stream, tracker } = trackerSetup(1000, {
      emptyRun: ({ after }) => (after === 'iterator' ? 2 : 0),
    });
    stream.addShard('s1');
    const a = stream.write('s1', 'a');
    clock.advance(5000);

    // Act
    const [first, second] = await stepsTipSpanApart(tracker, clock, 2);

    // Assess: the records behind the empty pages are found and hold F
    expect(first.pending).toBe(1);
    expect(first.published).toBeLessThanOrEqual(a.trueMs);
    expect(second.published).toBeLessThanOrEqual(a.trueMs);
    expect(stream.emptyPages).toBeGreaterThanOrEqual(2);
  });

  it('counts an idle shard as caught up only after 3 empty pages spanning the minimum time', async () => {
    // Prepare
    const { clock, stream, tracker } = trackerSetup(1000, {}, { tipEmptyPages: 3, tipMinSpanMs: 5000 });
    stream.addShard('s1');
    clock.advance(10_000);

    // Act
    const results: number[] = [];
    for (let i = 0; i < 4; i++) {
      results.push((await tracker.step()).published);
      clock.advance(2000);
    }

    // Assess: pages at 0 ms (3 of them), 2 s and 4 s span 4 s: no tip; 6 s spans 6 s: the tip
    expect(results.slice(0, 3)).toEqual([0, 0, 0]);
    expect(results[3]).toBe(clock.t - 2000 - MARGIN);
  });

  it('does not let F pass a record during its visibility delay', async () => {
    // Prepare: records become visible 800 ms after their write (within the 1 s margin)
    const { clock, stream, tracker } = trackerSetup(1000, { visibilityDelayMs: 800 });
    stream.addShard('s1');
    clock.advance(10_000);
    await stepToTip(tracker, clock);
    const hidden = stream.write('s1', 'a');
    clock.advance(500); // invisible still

    // Act
    const during = await tracker.step();
    clock.advance(500); // now visible
    const after = await tracker.step();

    // Assess: the probe during the delay claims at most its start minus the margin, before the write
    expect(during.published).toBeLessThanOrEqual(hidden.trueMs);
    expect(after.published).toBeLessThanOrEqual(hidden.trueMs);
    expect(after.pending).toBe(1);
  });

  it('starts a new streak after an expired iterator', async () => {
    // Prepare: a streak of 2 empty pages, then the iterator expires
    const { clock, stream, tracker } = trackerSetup(1000, {}, { tipEmptyPages: 3, tipMinSpanMs: 0 });
    stream.addShard('s1');
    const readCalls = failRead(stream, (shardId) => new IteratorExpiredError(shardId), 3);

    // Act
    const r = await tracker.step();

    // Assess: empty, empty, expired, then a new iterator needs 3 empty pages of its own
    expect(readCalls()).toBe(6);
    expect(r.published).toBe(clock.t - MARGIN);
  });
});

describe('Class: FrontierTracker (a record known unapplied caps its shard)', () => {
  it('holds F at a record it has read unapplied, whatever an older probe said', async () => {
    // Prepare: tip detection fooled on purpose (one empty page counts), and the API hides b behind an
    // empty page: the probe claims s1 caught up past b. s2 holds F until b has been read.
    const { clock, stream, evidence, tracker } = trackerSetup(
      1000,
      { pageSize: 1, emptyRun: emptyPageAfterFirst },
      ONE_EMPTY_PAGE_TIP,
    );
    stream.addShard('s1');
    stream.addShard('s2');
    stream.write('s1', 'a');
    const b = stream.write('s1', 'b');
    const s2Record = stream.write('s2', 'c');
    fakeSync(stream, evidence, { onlyShard: 's1', batch: 1, maxBatches: 1 }); // a applied, b not
    clock.advance(5000);
    await tracker.step(); // s1: [a], then an empty page taken for the tip; s2: [c] pending
    clock.advance(5000);
    await tracker.step(); // s1: b read, unapplied
    fakeSync(stream, evidence, { onlyShard: 's2' }); // s2 no longer holds F
    clock.advance(6000);

    // Act
    const r = await tracker.step();

    // Assess
    expect(s2Record.applied).toBe(true);
    expect(r.published).toBe(floorS(b.trueMs) - MARGIN);
    expect(r.shards.find((s) => s.shardId === 's1')?.firstUnapplied).toBe(padSequence(b.seq));
  });

  it('keeps that cap across a restart even when too many records wait to be saved', async () => {
    // Prepare: as above, then 250 more records wait behind b, so SHARD# cannot list them
    const { clock, stream, evidence, store, tracker, make } = trackerSetup(
      1000,
      { pageSize: 1000, emptyRun: emptyPageAfterFirst },
      ONE_EMPTY_PAGE_TIP,
    );
    stream.addShard('s1');
    stream.addShard('s2');
    stream.write('s1', 'a');
    fakeSync(stream, evidence, { onlyShard: 's1' });
    const b = stream.write('s1', 'b');
    for (let i = 0; i < 250; i++) stream.write('s1', `k${i}`);
    stream.write('s2', 'c');
    clock.advance(5000);
    await tracker.step();
    clock.advance(5000);
    await tracker.step(); // b and the 250 read, unapplied
    fakeSync(stream, evidence, { onlyShard: 's2' });
    stream.shards.get('s1')?.records.forEach((r) => r.applied); // nothing else applied
    clock.advance(2000);

    // Act: a cold start computes F from the SHARD# items before reading anything
    const restarted = make();
    const r = await restarted.step();

    // Assess
    expect(store.shardDocs.get('s1')?.waiting).toBeUndefined();
    expect(store.shardDocs.get('s1')?.firstUnapplied?.seq).toBe(padSequence(b.seq));
    expect(store.publishes.every((p) => p.frontier <= floorS(b.trueMs) - MARGIN)).toBe(true);
    expect(r.published).toBeLessThanOrEqual(b.trueMs);
  });
});

describe('Class: FrontierTracker (a page the store marks as the tip)', () => {
  it.each([
    ['counts a short page the store marks as the tip as a probe, in the step that reads it', true],
    ['waits for the empty-page rule when the store marks nothing (AWS)', false],
  ])('%s', async (_, shortPageTip) => {
    // Prepare: 3 records visible and applied, pages of 2; the AWS tip rule (3 empty pages over 1 s)
    const { clock, stream, evidence, tracker } = trackerSetup(1000, { pageSize: 2, shortPageTip });
    stream.addShard('s1');
    const written = ['a', 'b', 'c'].map((k) => stream.write('s1', k));
    clock.advance(3000);
    fakeSync(stream, evidence);

    // Act
    const r = await tracker.step();

    // Assess: the page of 1 after a page of 2 is the tip (a probe now, F at it minus the margin)
    if (shortPageTip) {
      expect(r.published).toBe(clock.t - MARGIN);
      expect(stream.calls).toBe(2);
    } else {
      expect(r.published).toBeLessThanOrEqual(Math.max(...written.map((w) => w.trueMs)));
    }
  });
});
