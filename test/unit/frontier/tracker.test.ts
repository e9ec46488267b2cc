import {
  FrontierViolation,
  FrontierConfigError,
  FrontierTracker,
  IteratorExpiredError,
  type StepResult,
  type TrackerConfig,
  TrimmedDataError,
} from '../../../core/frontier';
import { padSequence, type Item, canonicalItem } from '../../../core/model';
import {
  FakeClock,
  FakeEvidence,
  FakeStream,
  type FakeStreamOptions,
  MemoryFrontierStore,
  fakeSync,
  waive,
} from '../../helpers/fake-streams';

const MARGIN = 1000;
/** Tip rule in these tests: 3 consecutive empty pages whose first and last started 1 s apart. */
const TIP_SPAN = 1000;

function setup(
  granularityMs = 1000,
  streamOptions: FakeStreamOptions = {},
  over: Partial<TrackerConfig> = {},
) {
  const clock = new FakeClock();
  const stream = new FakeStream(clock, granularityMs, streamOptions);
  const evidence = new FakeEvidence();
  const store = new MemoryFrontierStore(clock);
  const config: TrackerConfig = {
    propagationMarginMs: MARGIN,
    creationGranularityMs: granularityMs,
    clockSkewMs: 1000,
    itemEvidenceAfterMs: 5000,
    itemEvidencePerShard: 100,
    maxPagesPerShard: 50,
    tipEmptyPages: 3,
    tipMinSpanMs: TIP_SPAN,
    childListingWaitMs: 30_000,
    ...over,
  };
  const make = () =>
    new FrontierTracker({
      migrationId: 'users',
      streams: stream,
      evidence,
      store,
      mapKey: (k: Item) => k,
      config,
      now: clock.now,
    });
  return { clock, stream, evidence, store, tracker: make(), make };
}

/**
 * Two steps `TIP_SPAN` apart: the first reads what is there and starts a streak of empty pages, the
 * second's empty page ends a streak of 3 pages over 1 s, so it counts as the tip. Returns the second.
 */
async function stepToTip(tracker: FrontierTracker, clock: FakeClock): Promise<StepResult> {
  await tracker.step();
  clock.advance(TIP_SPAN);
  return tracker.step();
}

const floorS = (ms: number) => Math.floor(ms / 1000) * 1000;

describe('Class: FrontierTracker', () => {
  it('publishes the tip time minus the margin when every record is applied', async () => {
    // Prepare
    const { clock, stream, evidence, tracker } = setup();
    stream.addShard('s1');
    stream.write('s1', 'a');
    clock.advance(300);
    const last = stream.write('s1', 'b');
    clock.advance(500);
    fakeSync(stream, evidence);
    clock.advance(500);

    // Act
    const first = await tracker.step();
    clock.advance(TIP_SPAN);
    const second = await tracker.step();

    // Assess: without a tip, the applied prefix proves the shard up to its last record's bound
    expect(first.published).toBe(floorS(last.trueMs) - MARGIN);
    expect(second.published).toBe(clock.t - MARGIN);
    expect(second.pending).toBe(0);
    expect(second.didPublish).toBe(true);
  });

  it('holds F at the floored creation time of the first unapplied record', async () => {
    // Prepare
    const { clock, stream, evidence, tracker } = setup();
    stream.addShard('s1');
    stream.write('s1', 'a');
    fakeSync(stream, evidence);
    clock.advance(1_300);
    const waiting = stream.write('s1', 'b');
    clock.advance(5_000);

    // Act
    const r = await stepToTip(tracker, clock);

    // Assess
    expect(r.published).toBe(floorS(waiting.trueMs) - MARGIN);
    expect(r.published).toBeLessThanOrEqual(waiting.trueMs);
    expect(r.pending).toBe(1);
  });

  it('publishes for an empty open shard once a streak of empty pages reached its tip', async () => {
    // Prepare
    const { clock, stream, tracker } = setup();
    stream.addShard('s1');

    // Act
    const first = await tracker.step();
    clock.advance(TIP_SPAN);
    const second = await tracker.step();

    // Assess: three empty pages at one instant are no tip; the streak counts once it spans 1 s
    expect(first.published).toBe(0);
    expect(second.published).toBe(clock.t - MARGIN);
    expect(second.shards).toEqual([expect.objectContaining({ shardId: 's1', pending: 0, status: 'active' })]);
  });

  it('keeps a parent that is still draining in charge of F after a split', async () => {
    // Prepare: p has 3 records, the sync Lambda applied one; then p splits and c1 gets writes.
    const { clock, stream, evidence, tracker } = setup();
    stream.addShard('p');
    stream.write('p', 'a');
    stream.write('p', 'b');
    clock.advance(2_000);
    const draining = stream.write('p', 'c');
    fakeSync(stream, evidence, { batch: 1, maxBatches: 1 });
    stream.split('p', 'c1', 'c2');
    clock.advance(3_000);
    const child = stream.write('c1', 'd');
    clock.advance(3_000);

    // Act
    const first = await tracker.step();
    fakeSync(stream, evidence, { onlyShard: 'p' });
    clock.advance(100);
    const second = await tracker.step();
    fakeSync(stream, evidence);
    clock.advance(TIP_SPAN);
    await tracker.step();
    clock.advance(TIP_SPAN);
    const third = await tracker.step();

    // Assess
    expect(first.published).toBeLessThan(draining.trueMs);
    expect(first.shards.map((s) => [s.shardId, s.status])).toEqual([
      ['p', 'active'],
      ['c1', 'waiting'],
      ['c2', 'waiting'],
    ]);
    // p drained: c1's unapplied record holds F; p (complete, its children listed) is left out.
    expect(second.shards.map((s) => s.shardId)).toEqual(['c1', 'c2']);
    expect(second.published).toBeLessThanOrEqual(child.trueMs);
    expect(third.published).toBe(clock.t - MARGIN);
    expect(third.violations).toEqual({});
  });

  it('tracks a new child shard that appears while it runs', async () => {
    // Prepare
    const { clock, stream, evidence, tracker } = setup();
    stream.addShard('p');
    stream.write('p', 'a');
    fakeSync(stream, evidence);
    clock.advance(1000);
    await stepToTip(tracker, clock);
    stream.split('p', 'c1', 'c2');
    clock.advance(1000);
    const late = stream.write('c2', 'b');
    clock.advance(1000);

    // Act
    const r = await tracker.step();

    // Assess
    expect(r.shards.map((s) => s.shardId)).toEqual(['c1', 'c2']);
    expect(r.published).toBeLessThanOrEqual(late.trueMs);
    expect(r.shards.find((s) => s.shardId === 'c2')?.pending).toBe(1);
  });

  it('holds F behind a dead-lettered record until it is waived', async () => {
    // Prepare
    const { clock, stream, evidence, tracker } = setup();
    stream.addShard('s1');
    stream.write('s1', 'a');
    clock.advance(1000);
    const poison = stream.write('s1', 'b');
    stream.write('s1', 'c');
    fakeSync(stream, evidence, { poison: new Set([poison.seq]) });
    clock.advance(60_000);

    // Act
    const held = await stepToTip(tracker, clock);
    clock.advance(10_000);
    const stillHeld = await tracker.step();
    waive(stream, evidence, poison);
    clock.advance(1000);
    const released = await tracker.step();

    // Assess
    expect(held.published).toBeLessThanOrEqual(poison.trueMs);
    expect(held.deadLettered).toBe(1);
    expect(stillHeld.published).toBe(held.published);
    expect(released.published).toBe(clock.t - MARGIN);
    expect(released.deadLettered).toBe(0);
  });

  it('releases a dead-lettered record once a later change of the same item is applied', async () => {
    // Prepare
    const { clock, stream, evidence, tracker } = setup();
    stream.addShard('s1');
    const poison = stream.write('s1', 'a');
    fakeSync(stream, evidence, { poison: new Set([poison.seq]) });
    clock.advance(2000);
    await tracker.step();
    stream.write('s1', 'a');
    fakeSync(stream, evidence);
    clock.advance(6000);

    // Act
    const r = await stepToTip(tracker, clock);

    // Assess: item evidence (_dr_seq >= the DLQ'd record's seq) proves it superseded
    expect(r.deadLettered).toBe(0);
    expect(r.published).toBe(clock.t - MARGIN);
  });

  it('does not take an item with an older _dr_seq as evidence', async () => {
    // Prepare: the record's batch wrote no marker and its item still carries an older change
    const { clock, stream, evidence, tracker } = setup();
    stream.addShard('s1');
    const older = stream.write('s1', 'a');
    fakeSync(stream, evidence);
    clock.advance(1000);
    const newer = stream.write('s1', 'a');
    clock.advance(10_000);

    // Act
    const r = await stepToTip(tracker, clock);
    clock.advance(6_000);
    const later = await tracker.step();

    // Assess: looked up, found older, still pending; F held at the newer record's bound
    expect(evidence.items.get(canonicalItem({ id: { S: 'a' } }))).toBe(padSequence(older.seq));
    expect(evidence.itemLookups).toBeGreaterThan(0);
    expect(later.pending).toBe(1);
    expect(later.published).toBe(floorS(newer.trueMs) - MARGIN);
    expect(r.published).toBeLessThanOrEqual(newer.trueMs);
  });

  it('stops listing old markers once a dead-lettered record is past its retry window', async () => {
    // Prepare: a record is dead-lettered, then writes keep coming for 12 minutes, all applied
    const { clock, stream, evidence, tracker } = setup(1000, {}, { markerLookbackRecords: 5 });
    stream.addShard('s1');
    const poison = stream.write('s1', 'p');
    fakeSync(stream, evidence, { poison: new Set([poison.seq]) });
    let last = await tracker.step();
    for (let minute = 0; minute < 12; minute++) {
      for (let i = 0; i < 30; i++) {
        clock.advance(2000);
        stream.write('s1', `k${i}`);
        fakeSync(stream, evidence, { batch: 1 });
        last = await tracker.step();
      }
    }

    // Act
    const listedAtEnd = evidence.markerListings.slice(-5);

    // Assess: F is still held, and each step lists only the markers of the latest batches (lookback)
    expect(last.published).toBeLessThanOrEqual(poison.trueMs);
    expect(last.deadLettered).toBe(1);
    expect(evidence.markerItems.size).toBeGreaterThan(300);
    expect(Math.max(...listedAtEnd)).toBeLessThanOrEqual(7);
  });

  it('uses a marker that starts with records already known applied', async () => {
    // Prepare: a is waived (so applied) before the batch [a, b] is delivered; its marker starts at a
    const { clock, stream, evidence, tracker } = setup();
    stream.addShard('s1');
    const a = stream.write('s1', 'a');
    stream.write('s1', 'b');
    evidence.waived.add(padSequence(a.seq));
    clock.advance(1000);
    await tracker.step();
    fakeSync(stream, evidence, { poison: new Set([a.seq]) });
    clock.advance(TIP_SPAN);

    // Act
    const r = await tracker.step();

    // Assess: b is proven by the marker at once, not by item evidence 5 s later
    expect(r.published).toBe(clock.t - MARGIN);
    expect(evidence.itemLookups).toBe(0);
  });

  it('uses item evidence when the sync Lambda wrote no marker', async () => {
    // Prepare
    const { clock, stream, evidence, tracker } = setup();
    stream.addShard('s1');
    const r1 = stream.write('s1', 'a');
    fakeSync(stream, evidence, { markers: false });
    clock.advance(1000);
    const early = await stepToTip(tracker, clock);
    clock.advance(5000);

    // Act
    const later = await tracker.step();

    // Assess: a record too young for a lookup is pending; after itemEvidenceAfterMs the item proves it
    expect(early.published).toBeLessThanOrEqual(r1.trueMs);
    expect(later.published).toBe(clock.t - MARGIN);
    expect(evidence.itemLookups).toBe(1);
  });

  it('resumes from its persisted position after a restart without re-proving applied records', async () => {
    // Prepare
    const { clock, stream, evidence, store, tracker, make } = setup();
    stream.addShard('s1');
    for (let i = 0; i < 30; i++) stream.write('s1', `k${i}`);
    fakeSync(stream, evidence);
    clock.advance(1000);
    const before = await stepToTip(tracker, clock);
    stream.write('s1', 'late');
    clock.advance(1000);

    // Act
    const restarted = make();
    const after = await restarted.step();

    // Assess
    expect(store.shardDocs.get('s1')?.appliedThrough).toBeDefined();
    expect(after.published).toBeGreaterThanOrEqual(before.published);
    expect(after.pending).toBe(1);
  });

  it('forgets a trimmed shard that vanished from the listing after it was seen closed', async () => {
    // Prepare: p split long ago; the tracker saw it closed and read it, then it was trimmed
    const { clock, stream, evidence, tracker } = setup();
    stream.addShard('p');
    stream.split('p', 'c1', 'c2');
    await tracker.step();
    stream.shards.delete('p');
    stream.write('c1', 'a');
    fakeSync(stream, evidence);
    clock.advance(1000);

    // Act
    const r = await stepToTip(tracker, clock);

    // Assess
    expect(r.shards.map((s) => s.shardId)).toEqual(['c1', 'c2']);
    expect(r.published).toBe(clock.t - MARGIN);
    expect(r.violations).toEqual({});
  });

  it('counts an unread, trimmed shard as records lost', async () => {
    // Prepare: p's records are listed but the tracker never read p to its end
    const { clock, stream, tracker } = setup(1000, {}, { maxPagesPerShard: 1 });
    stream.addShard('p');
    for (let i = 0; i < 150; i++) stream.write('p', `k${i}`);
    stream.close('p');
    await tracker.step();
    stream.shards.delete('p');
    clock.advance(1000);

    // Act
    const r = await tracker.step();

    // Assess
    expect(r.violations[FrontierViolation.TRIMMED_UNREAD]).toBe(1);
    expect(r.newViolations).toBe(1);
  });

  it('reads many shards concurrently and takes the minimum over them', async () => {
    // Prepare: 20 shards, all applied except one record in s13
    const { clock, stream, evidence, tracker } = setup(1000, {}, { readConcurrency: 4 });
    for (let i = 0; i < 20; i++) stream.addShard(`s${i}`);
    for (let i = 0; i < 20; i++) stream.write(`s${i}`, `k${i}`);
    fakeSync(stream, evidence);
    clock.advance(3000);
    const held = stream.write('s13', 'late');
    clock.advance(3000);

    // Act
    const r = await stepToTip(tracker, clock);

    // Assess
    expect(r.shards).toHaveLength(20);
    expect(r.pending).toBe(1);
    expect(r.published).toBe(floorS(held.trueMs) - MARGIN);
  });

  it('resumes after the last record read, with the records still waiting, after a restart', async () => {
    // Prepare: a dead-lettered record, then 500 applied records; the tracker has read them all
    const { clock, stream, evidence, store, tracker, make } = setup();
    stream.addShard('s1');
    const poison = stream.write('s1', 'p');
    for (let i = 0; i < 500; i++) stream.write('s1', `k${i}`);
    fakeSync(stream, evidence, { poison: new Set([poison.seq]), batch: 100 });
    clock.advance(1000);
    await tracker.step();
    const servedBefore = stream.served;
    stream.write('s1', 'new');
    fakeSync(stream, evidence);
    clock.advance(1000);

    // Act
    const restarted = make();
    const held = await restarted.step();
    waive(stream, evidence, poison);
    clock.advance(TIP_SPAN);
    const released = await restarted.step();

    // Assess: only the new record was read again; the dead-lettered one came back from SHARD#
    expect(store.shardDocs.get('s1')?.waiting).toBeUndefined();
    expect(stream.served - servedBefore).toBe(1);
    expect(held.deadLettered).toBe(1);
    expect(held.published).toBeLessThanOrEqual(poison.trueMs);
    expect(released.published).toBe(clock.t - MARGIN);
  });

  it('counts a sequence number that does not increase within a shard', async () => {
    // Prepare
    const { stream, tracker } = setup();
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
    const { stream, tracker } = setup();
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
    const { clock, stream, tracker } = setup();
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

  it('takes no probe on a shard it knows is closed (its end, not an empty page, finishes it)', async () => {
    // Prepare: p is closed with a record behind 5 empty pages; its children are listed
    const { clock, stream, tracker } = setup(1000, {
      emptyRun: ({ shardId, after }) => (shardId === 'p' && after === 'iterator' ? 5 : 0),
    });
    stream.addShard('p');
    const a = stream.write('p', 'a');
    stream.split('p', 'c1', 'c2');
    clock.advance(5000);

    // Act
    const first = await tracker.step();
    clock.advance(TIP_SPAN);
    const second = await tracker.step();

    // Assess: the 3rd to 5th empty pages span 1 s but do not count on a closed shard
    expect(first.published).toBe(0);
    expect(second.published).toBeLessThanOrEqual(a.trueMs);
  });

  it('counts a sequence number seen on two shards (markers identify a shard by one)', async () => {
    // Prepare
    const { stream, tracker } = setup();
    stream.addShard('a');
    stream.addShard('b');
    stream.writeRaw('a', 'x', '5000');
    stream.writeRaw('b', 'y', '5000');

    // Act
    const r = await tracker.step();

    // Assess
    expect(r.violations[FrontierViolation.SEQUENCE_NOT_UNIQUE]).toBe(1);
  });

  it('never publishes a lower F than before', async () => {
    // Prepare
    const { clock, stream, store, make } = setup();
    stream.addShard('s1');
    clock.advance(10_000);
    await stepToTip(make(), clock);
    const first = store.frontier?.frontier ?? 0;
    store.shardDocs.clear(); // the tracker forgets everything
    stream.split('s1', 'c1', 'c2');

    // Act
    const r = await make().step();

    // Assess
    expect(first).toBeGreaterThan(0);
    expect(r.published).toBe(first);
    expect(store.published).toEqual([first, ...store.published.slice(1)]);
  });

  it('refuses settings that would make F unsafe or the loop stall, naming them', () => {
    // Act / Assess
    expect(() => setup(1000, {}, { tipEmptyPages: 0 })).toThrow(FrontierConfigError);
    expect(() => setup(1000, {}, { tipEmptyPages: 1.5 })).toThrow(/tipEmptyPages: 1.5 is not a whole number/);
    expect(() => setup(1000, {}, { tipMinSpanMs: -1 })).toThrow(/tipMinSpanMs: -1 is not a non-negative/);
    expect(() => setup(1000, {}, { childListingWaitMs: Number.NaN })).toThrow(/childListingWaitMs/);
    expect(() => setup(1000, {}, { propagationMarginMs: -5 })).toThrow(/propagationMarginMs/);
  });
});

describe('Class: FrontierTracker (tip detection: an empty page is not the tip)', () => {
  it('does not take empty pages in the middle of a shard for its tip', async () => {
    // Prepare: a page of one record, then two empty pages the API returns although b is visible
    const { clock, stream, evidence, tracker } = setup(1000, {
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
    const steps: StepResult[] = [];
    for (let i = 0; i < 4; i++) {
      steps.push(await tracker.step());
      clock.advance(TIP_SPAN);
    }

    // Assess: F never passes b, which the tracker finds behind the empty pages
    for (const s of steps) expect(s.published).toBeLessThanOrEqual(b.trueMs);
    expect(steps[steps.length - 1]?.pending).toBe(1);
    expect(stream.emptyPages).toBeGreaterThanOrEqual(2);
  });

  it('does not take the empty pages of a fresh iterator for the tip', async () => {
    // Prepare: a new iterator returns two empty pages before the records
    const { clock, stream, tracker } = setup(1000, {
      emptyRun: ({ after }) => (after === 'iterator' ? 2 : 0),
    });
    stream.addShard('s1');
    const a = stream.write('s1', 'a');
    clock.advance(5000);

    // Act
    const first = await tracker.step();
    clock.advance(TIP_SPAN);
    const second = await tracker.step();

    // Assess: the records behind the empty pages are found and hold F
    expect(first.pending).toBe(1);
    expect(first.published).toBeLessThanOrEqual(a.trueMs);
    expect(second.published).toBeLessThanOrEqual(a.trueMs);
    expect(stream.emptyPages).toBeGreaterThanOrEqual(2);
  });

  it('counts an idle shard as caught up only after 3 empty pages spanning the minimum time', async () => {
    // Prepare
    const { clock, stream, tracker } = setup(1000, {}, { tipEmptyPages: 3, tipMinSpanMs: 5000 });
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
    const { clock, stream, tracker } = setup(1000, { visibilityDelayMs: 800 });
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
    const { clock, stream, tracker } = setup(1000, {}, { tipEmptyPages: 3, tipMinSpanMs: 0 });
    stream.addShard('s1');
    const records = stream.records.bind(stream);
    let calls = 0;
    stream.records = async (shardId, iterator) => {
      calls++;
      if (calls === 3) throw new IteratorExpiredError(shardId);
      return records(shardId, iterator);
    };

    // Act
    const r = await tracker.step();

    // Assess: empty, empty, expired, then a new iterator needs 3 empty pages of its own
    expect(calls).toBe(6);
    expect(r.published).toBe(clock.t - MARGIN);
  });
});

describe('Class: FrontierTracker (a record known unapplied caps its shard)', () => {
  it('holds F at a record it has read unapplied, whatever an older probe said', async () => {
    // Prepare: tip detection fooled on purpose (one empty page counts), and the API hides b behind an
    // empty page: the probe claims s1 caught up past b. s2 holds F until b has been read.
    const { clock, stream, evidence, tracker } = setup(
      1000,
      { pageSize: 1, emptyRun: ({ after, position }) => (after === 'page' && position === 1 ? 1 : 0) },
      { tipEmptyPages: 1, tipMinSpanMs: 0 },
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
    const { clock, stream, evidence, store, tracker, make } = setup(
      1000,
      { pageSize: 1000, emptyRun: ({ after, position }) => (after === 'page' && position === 1 ? 1 : 0) },
      { tipEmptyPages: 1, tipMinSpanMs: 0 },
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

describe('Class: FrontierTracker (children that DescribeStream lists late)', () => {
  it('does not let F pass the end of a closed parent until a child is listed', async () => {
    // Prepare: p's records are applied; p splits; the children are listed only 20 s later, while c1
    // already holds an unapplied record
    const { clock, stream, evidence, tracker } = setup(1000, { childListingDelayMs: 20_000 });
    stream.addShard('p');
    stream.write('p', 'a');
    fakeSync(stream, evidence);
    clock.advance(2000);
    await stepToTip(tracker, clock);
    stream.split('p', 'c1', 'c2');
    clock.advance(100);
    const inChild = stream.write('c1', 'b');

    // Act
    const during: StepResult[] = [];
    for (let i = 0; i < 8; i++) {
      clock.advance(2000);
      during.push(await tracker.step());
    }
    clock.advance(6000);
    const listed = await tracker.step();

    // Assess
    for (const s of during) expect(s.published).toBeLessThanOrEqual(inChild.trueMs);
    expect(during[0]?.shards.map((s) => s.shardId)).toEqual(['p']);
    expect(listed.shards.map((s) => s.shardId)).toEqual(['c1', 'c2']);
    expect(listed.published).toBeLessThanOrEqual(inChild.trueMs);
    expect(listed.violations).toEqual({});
  });

  it('lets a closed shard with no listed child go once the wait has passed', async () => {
    // Prepare: the stream was disabled: s1 closes and never gets children
    const { clock, stream, evidence, tracker } = setup(1000, {}, { childListingWaitMs: 10_000 });
    stream.addShard('s1');
    stream.write('s1', 'a');
    fakeSync(stream, evidence);
    clock.advance(2000);
    stream.close('s1');

    // Act
    const closed = await tracker.step();
    clock.advance(5000);
    const waiting = await tracker.step();
    clock.advance(6000);
    const done = await tracker.step();

    // Assess
    expect(closed.published).toBeLessThan(clock.t - 11_000);
    expect(waiting.published).toBe(closed.published);
    expect(done.published).toBe(clock.t - MARGIN);
  });
});

describe('Class: FrontierTracker (a shard missing from one listing)', () => {
  it('keeps an open shard that one DescribeStream answer left out in charge of F, and reads it on', async () => {
    // Prepare: s2 is idle and applied; then a write lands in it, and the next listing leaves it out
    const { clock, stream, evidence, tracker } = setup();
    stream.addShard('s1');
    stream.addShard('s2');
    stream.write('s2', 'a');
    fakeSync(stream, evidence);
    clock.advance(2000);
    await stepToTip(tracker, clock);
    const unseen = stream.write('s2', 'b');
    clock.advance(2000);
    stream.omitFromNextListing('s2');

    // Act
    const missing = await tracker.step();
    clock.advance(TIP_SPAN);
    const back = await tracker.step();

    // Assess: not taken as trimmed; b read while s2 was missing from the listing
    expect(missing.published).toBeLessThanOrEqual(unseen.trueMs);
    expect(missing.shards.map((s) => s.shardId)).toEqual(['s1', 's2']);
    expect(missing.shards.find((s) => s.shardId === 's2')?.pending).toBe(1);
    expect(back.published).toBeLessThanOrEqual(unseen.trueMs);
    expect(back.violations).toEqual({});
  });
});

describe('Class: FrontierTracker (late records)', () => {
  it('counts nothing when children are listed late but F never passed their records', async () => {
    // Prepare
    const { clock, stream, evidence, tracker } = setup(1000, { childListingDelayMs: 10_000 });
    stream.addShard('p');
    stream.write('p', 'a');
    fakeSync(stream, evidence);
    clock.advance(2000);
    await stepToTip(tracker, clock);
    stream.split('p', 'c1', 'c2');
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
    const { clock, stream, evidence, tracker } = setup(
      1000,
      { pageSize: 1, emptyRun: ({ after, position }) => (after === 'page' && position === 1 ? 1 : 0) },
      { tipEmptyPages: 1, tipMinSpanMs: 0 },
    );
    stream.addShard('s1');
    stream.write('s1', 'a');
    clock.advance(1000);
    const b = stream.write('s1', 'b');
    fakeSync(stream, evidence, { batch: 1, maxBatches: 1 }); // a applied
    clock.advance(5000);
    const passed = await tracker.step();

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
    const { clock, stream, evidence, tracker } = setup(
      1000,
      { pageSize: 1, emptyRun: ({ after, position }) => (after === 'page' && position === 1 ? 1 : 0) },
      { tipEmptyPages: 1, tipMinSpanMs: 0 },
    );
    stream.addShard('s1');
    stream.write('s1', 'a');
    clock.advance(1000);
    const b = stream.write('s1', 'b');
    fakeSync(stream, evidence, { batch: 1 });
    clock.advance(5000);
    const passed = await tracker.step();

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
    const { clock, stream, evidence, tracker } = setup();
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

describe('Class: FrontierTracker (stream failures and the loop)', () => {
  it('gets a new iterator after one expired and still reads every record', async () => {
    // Prepare
    const { clock, stream, evidence, tracker } = setup();
    stream.addShard('s1');
    stream.write('s1', 'a');
    fakeSync(stream, evidence);
    const records = stream.records.bind(stream);
    let fail = true;
    stream.records = async (shardId, iterator) => {
      if (fail) {
        fail = false;
        throw new IteratorExpiredError(shardId);
      }
      return records(shardId, iterator);
    };
    clock.advance(1000);

    // Act
    const r = await stepToTip(tracker, clock);

    // Assess
    expect(r.published).toBe(clock.t - MARGIN);
    expect(r.violations).toEqual({});
  });

  it('gets a new iterator when the fake API expires one after 15 minutes idle', async () => {
    // Prepare
    const { clock, stream, evidence, tracker } = setup();
    stream.addShard('s1');
    await stepToTip(tracker, clock);
    clock.advance(16 * 60_000);
    const a = stream.write('s1', 'a');
    fakeSync(stream, evidence);
    clock.advance(1000);

    // Act
    const r = await stepToTip(tracker, clock);

    // Assess
    expect(a.applied).toBe(true);
    expect(r.published).toBe(clock.t - MARGIN);
    expect(r.pending).toBe(0);
  });

  it('counts records lost to the trim horizon and goes on from TRIM_HORIZON', async () => {
    // Prepare
    const { clock, stream, tracker } = setup();
    stream.addShard('s1');
    const records = stream.records.bind(stream);
    let fail = true;
    stream.records = async (shardId, iterator) => {
      if (fail) {
        fail = false;
        throw new TrimmedDataError(shardId);
      }
      return records(shardId, iterator);
    };
    clock.advance(1000);

    // Act
    const r = await tracker.step();

    // Assess
    expect(r.violations[FrontierViolation.TRIMMED_UNREAD]).toBe(1);
    expect(r.newViolations).toBe(1);
  });

  it('loops for the configured duration at the configured interval and survives a failed step', async () => {
    // Prepare
    const { clock, stream, tracker } = setup();
    stream.addShard('s1');
    const list = stream.listShards.bind(stream);
    let calls = 0;
    stream.listShards = async () => {
      calls++;
      if (calls === 2) throw new Error('throttled');
      return list();
    };
    const errors: unknown[] = [];
    const steps: number[] = [];

    // Act
    await tracker.run({
      durationMs: 10_000,
      intervalMs: 2_000,
      sleep: async (ms) => clock.advance(ms),
      onStep: (r) => steps.push(r.published),
      onError: (e) => errors.push(e),
    });

    // Assess: 5 steps in 10 s, one failed, F kept moving
    expect(calls).toBe(5);
    expect(errors).toHaveLength(1);
    expect(steps).toHaveLength(4);
    expect(steps[3]).toBeGreaterThan(steps[1] as number);
  });
});
