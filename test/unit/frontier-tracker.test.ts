import fc from 'fast-check';
import { FrontierViolation } from '../../core/frontier-ledger';
import {
  FrontierTracker,
  IteratorExpiredError,
  type TrackerConfig,
  TrimmedDataError,
} from '../../core/frontier-tracker';
import { padSequence } from '../../core/metadata';
import type { Item } from '../../core/values';
import {
  FakeClock,
  FakeEvidence,
  FakeStream,
  MemoryFrontierStore,
  appliedInEffect,
  fakeSync,
} from '../helpers/fake-streams';

const MARGIN = 1000;

function setup(granularityMs = 1000, visibilityDelayMs = 0, over: Partial<TrackerConfig> = {}) {
  const clock = new FakeClock();
  const stream = new FakeStream(clock, granularityMs, visibilityDelayMs);
  const evidence = new FakeEvidence();
  const store = new MemoryFrontierStore();
  const config: TrackerConfig = {
    propagationMarginMs: MARGIN,
    creationGranularityMs: granularityMs,
    clockSkewMs: 1000,
    itemEvidenceAfterMs: 5000,
    itemEvidencePerShard: 100,
    maxPagesPerShard: 50,
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

describe('Class: FrontierTracker', () => {
  it('publishes the probe time minus the margin when every record is applied', async () => {
    // Prepare
    const { clock, stream, evidence, tracker } = setup();
    stream.addShard('s1');
    stream.write('s1', 'a');
    stream.write('s1', 'b');
    clock.advance(500);
    fakeSync(stream, evidence);
    clock.advance(500);

    // Act
    const r = await tracker.step();

    // Assess
    expect(r.published).toBe(clock.t - MARGIN);
    expect(r.pending).toBe(0);
    expect(r.didPublish).toBe(true);
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
    const r = await tracker.step();

    // Assess
    expect(r.published).toBe(Math.floor(waiting.trueMs / 1000) * 1000 - MARGIN);
    expect(r.published).toBeLessThanOrEqual(waiting.trueMs);
    expect(r.pending).toBe(1);
  });

  it('publishes for an empty open shard once it was read to its tip', async () => {
    // Prepare
    const { clock, stream, tracker } = setup();
    stream.addShard('s1');

    // Act
    const r = await tracker.step();

    // Assess
    expect(r.published).toBe(clock.t - MARGIN);
    expect(r.shards).toEqual([expect.objectContaining({ shardId: 's1', pending: 0, status: 'active' })]);
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
    stream.write('c1', 'd');
    clock.advance(3_000);

    // Act
    const first = await tracker.step();
    fakeSync(stream, evidence, { onlyShard: 'p' });
    clock.advance(100);
    const second = await tracker.step();
    fakeSync(stream, evidence);
    clock.advance(100);
    const third = await tracker.step();

    // Assess
    expect(first.published).toBeLessThan(draining.trueMs);
    expect(first.shards.map((s) => [s.shardId, s.status])).toEqual([
      ['p', 'active'],
      ['c1', 'waiting'],
      ['c2', 'waiting'],
    ]);
    // p drained: c1's unapplied record holds F; p no longer listed.
    expect(second.shards.map((s) => s.shardId)).toEqual(['c1', 'c2']);
    expect(second.published).toBeLessThanOrEqual(stream.shards.get('c1')?.records[0]?.trueMs ?? 0);
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
    await tracker.step();
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
    const held = await tracker.step();
    clock.advance(10_000);
    const stillHeld = await tracker.step();
    evidence.waived.add(padSequence(poison.seq));
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
    const r = await tracker.step();

    // Assess: item evidence (_dr_seq >= the DLQ'd record's seq) proves it superseded
    expect(r.deadLettered).toBe(0);
    expect(r.published).toBe(clock.t - MARGIN);
  });

  it('stops listing old markers once a dead-lettered record is past its retry window', async () => {
    // Prepare: a record is dead-lettered, then writes keep coming for 12 minutes, all applied
    const { clock, stream, evidence, tracker } = setup(1000, 0, { markerLookbackRecords: 5 });
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
    clock.advance(100);

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
    const early = await tracker.step();
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
    const before = await tracker.step();
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

  it('finishes a trimmed shard that vanished from the listing, counting records lost unread', async () => {
    // Prepare: p split long ago; the tracker never got to read p's records
    const { clock, stream, evidence, tracker } = setup();
    stream.addShard('p');
    stream.split('p', 'c1', 'c2');
    await tracker.step();
    stream.shards.delete('p');
    stream.write('c1', 'a');
    fakeSync(stream, evidence);
    clock.advance(1000);

    // Act
    const r = await tracker.step();

    // Assess
    expect(r.shards.map((s) => s.shardId)).toEqual(['c1', 'c2']);
    expect(r.published).toBe(clock.t - MARGIN);
    expect(r.violations).toEqual({});
  });

  it('counts an unread, trimmed shard as records lost', async () => {
    // Prepare: p's records are listed but the tracker never read p to its end
    const { clock, stream, tracker } = setup(1000, 0, { maxPagesPerShard: 1 });
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
  });

  it('reads many shards concurrently and takes the minimum over them', async () => {
    // Prepare: 20 shards, all applied except one record in s13
    const { clock, stream, evidence, tracker } = setup(1000, 0, { readConcurrency: 4 });
    for (let i = 0; i < 20; i++) stream.addShard(`s${i}`);
    for (let i = 0; i < 20; i++) stream.write(`s${i}`, `k${i}`);
    fakeSync(stream, evidence);
    clock.advance(3000);
    const held = stream.write('s13', 'late');
    clock.advance(3000);

    // Act
    const r = await tracker.step();

    // Assess
    expect(r.shards).toHaveLength(20);
    expect(r.pending).toBe(1);
    expect(r.published).toBe(Math.floor(held.trueMs / 1000) * 1000 - MARGIN);
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
    evidence.waived.add(padSequence(poison.seq));
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

  it('counts a marker whose count does not match the shard, and one spanning shards', async () => {
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
      at: 0,
      expiresAt: 0,
    });
    evidence.markerItems.set(`APPLIED#${padSequence(a1.seq)}`, m(a1.seq, a2.seq, 3));
    evidence.markerItems.set(`APPLIED#${padSequence(b1.seq)}`, m(b1.seq, a2.seq, 1));

    // Act
    const r = await tracker.step();

    // Assess
    expect(r.violations[FrontierViolation.MARKER_COUNT_MISMATCH]).toBe(1);
    expect(r.violations[FrontierViolation.MARKER_SPANS_SHARDS]).toBe(1);
  });

  it('counts a record that appears after its shard was claimed caught up past it', async () => {
    // Prepare: the record becomes visible 5 s after its write, beyond the 1 s margin (A3 broken)
    const { clock, stream, evidence, tracker } = setup(1000, 5000);
    stream.addShard('s1');
    clock.advance(100);
    stream.write('s1', 'a');
    clock.advance(3000);
    await tracker.step();
    clock.advance(2100);

    // Act
    const r = await tracker.step();
    fakeSync(stream, evidence);

    // Assess
    expect(r.violations[FrontierViolation.LATE_RECORD]).toBe(1);
    expect(r.violations[FrontierViolation.UNAPPLIED_BEFORE_PUBLISHED]).toBe(1);
  });

  it('never publishes a lower F than before', async () => {
    // Prepare
    const { clock, stream, store, make } = setup();
    stream.addShard('s1');
    clock.advance(10_000);
    await make().step();
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
    const r = await tracker.step();

    // Assess
    expect(r.published).toBe(clock.t - MARGIN);
    expect(r.violations).toEqual({});
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
    expect(steps[3]).toBeGreaterThan(steps[0] as number);
  });
});

describe('Property: frontier', () => {
  type Op =
    | { kind: 'write'; shard: number; key: number; poison: boolean }
    | { kind: 'advance'; ms: number }
    | { kind: 'sync'; batches: number }
    | { kind: 'split'; shard: number }
    | { kind: 'step' }
    | { kind: 'waive' };
  const op: fc.Arbitrary<Op> = fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant('write' as const),
        shard: fc.nat(7),
        key: fc.nat(5),
        poison: fc.integer({ min: 0, max: 6 }).map((n) => n === 0),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 4000 }) }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('sync' as const), batches: fc.integer({ min: 1, max: 5 }) }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('split' as const), shard: fc.nat(7) }) },
    { weight: 3, arbitrary: fc.constant({ kind: 'step' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'waive' as const }) },
  );

  it('never publishes F later than the creation time of an unapplied record, and never goes back', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 5, maxLength: 80 }),
        fc.constantFrom(1000, 60_000),
        fc.integer({ min: 0, max: MARGIN }),
        fc.boolean(),
        async (ops, granularity, delay, restartMidway) => {
          // Prepare
          const { clock, stream, evidence, store, make } = setup(granularity, delay);
          let tracker = make();
          stream.addShard('s0');
          let next = 1;
          const poison = new Set<string>();
          const open = () => [...stream.shards.values()].filter((s) => !s.closed);
          for (const [i, o] of ops.entries()) {
            if (restartMidway && i === Math.floor(ops.length / 2)) tracker = make();
            // Act
            if (o.kind === 'write') {
              const shards = open();
              const s = shards[o.shard % shards.length];
              if (!s) continue;
              const r = stream.write(s.shardId, `k${o.key}`);
              if (o.poison) poison.add(r.seq);
            } else if (o.kind === 'advance') clock.advance(o.ms);
            else if (o.kind === 'sync')
              fakeSync(stream, evidence, { poison, maxBatches: o.batches, batch: 3 });
            else if (o.kind === 'split') {
              const shards = open();
              const s = shards[o.shard % shards.length];
              if (s) stream.split(s.shardId, `s${next++}`, `s${next++}`);
            } else if (o.kind === 'waive') {
              for (const p of poison) evidence.waived.add(padSequence(p));
              for (const r of stream.allRecords()) if (poison.has(r.seq)) r.applied = true;
            } else {
              const result = await tracker.step();
              // Assess: every record not applied (in effect) now was created no earlier than F
              for (const r of stream.allRecords()) {
                if (r.applied || appliedInEffect(evidence, r)) continue;
                expect(result.published).toBeLessThanOrEqual(r.trueMs);
              }
              expect(result.violations).toEqual({});
            }
          }
          const published = store.published;
          for (let i = 1; i < published.length; i++) {
            expect(published[i]).toBeGreaterThanOrEqual(published[i - 1] as number);
          }
          // Liveness: once the dead-lettered records are waived and CDC has drained, F catches up to
          // the last probe (minus the margin) within two steps — after item evidence's delay at most
          // (a marker that starts before what a restarted tracker re-read is proven through the items).
          for (const p of poison) evidence.waived.add(padSequence(p));
          clock.advance(MARGIN);
          for (let i = 0; i < 10; i++) fakeSync(stream, evidence, { poison });
          await tracker.step();
          clock.advance(5000);
          await tracker.step();
          const final = await tracker.step();
          expect(final.published).toBe(clock.t - MARGIN);
          expect(final.pending).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
