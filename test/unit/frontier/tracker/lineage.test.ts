/**
 * The frontier tracker over the faked streams API (test/helpers/tracker-fixture.ts). Shard lineage: a
 * draining parent, children that appear, are listed late or not at all, trimmed shards, and a shard one
 * listing leaves out.
 */
import { FrontierViolation, type StepResult } from '../../../../core/frontier';
import { fakeSync } from '../../../helpers/fake-streams';
import {
  MARGIN,
  TIP_SPAN,
  splitAfterTip,
  stepToTip,
  stepsTipSpanApart,
  trackerSetup,
} from '../../../helpers/tracker-fixture';

describe('Class: FrontierTracker', () => {
  it('keeps a parent that is still draining in charge of F after a split', async () => {
    // Prepare: p has 3 records, the sync Lambda applied one; then p splits and c1 gets writes.
    const { clock, stream, evidence, tracker } = trackerSetup();
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
    const t = trackerSetup();
    const { clock, stream, tracker } = t;
    await splitAfterTip(t, 1000);
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

  it('forgets a trimmed shard that vanished from the listing after it was seen closed', async () => {
    // Prepare: p split long ago; the tracker saw it closed and read it, then it was trimmed
    const { clock, stream, evidence, tracker } = trackerSetup();
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
    const { clock, stream, tracker } = trackerSetup(1000, {}, { maxPagesPerShard: 1 });
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
});

describe('Class: FrontierTracker (children that DescribeStream lists late)', () => {
  it('does not let F pass the end of a closed parent until a child is listed', async () => {
    // Prepare: p's records are applied; p splits; the children are listed only 20 s later, while c1
    // already holds an unapplied record
    const t = trackerSetup(1000, { childListingDelayMs: 20_000 });
    const { clock, stream, tracker } = t;
    await splitAfterTip(t, 2000);
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
    const { clock, stream, evidence, tracker } = trackerSetup(1000, {}, { childListingWaitMs: 10_000 });
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
    const { clock, stream, evidence, tracker } = trackerSetup();
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
    const [missing, back] = await stepsTipSpanApart(tracker, clock, 2);

    // Assess: not taken as trimmed; b read while s2 was missing from the listing
    expect(missing.published).toBeLessThanOrEqual(unseen.trueMs);
    expect(missing.shards.map((s) => s.shardId)).toEqual(['s1', 's2']);
    expect(missing.shards.find((s) => s.shardId === 's2')?.pending).toBe(1);
    expect(back.published).toBeLessThanOrEqual(unseen.trueMs);
    expect(back.violations).toEqual({});
  });
});
