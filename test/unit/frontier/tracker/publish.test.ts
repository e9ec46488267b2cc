/**
 * The frontier tracker over the faked streams API (test/helpers/tracker-fixture.ts). F published from what
 * the tracker has read: the tip time, the first unapplied record, empty shards, many shards, never lower,
 * and the settings it refuses.
 */
import { FrontierConfigError } from '../../../../core/frontier';
import { fakeSync } from '../../../helpers/fake-streams';
import { MARGIN, floorS, stepToTip, stepsTipSpanApart, trackerSetup } from '../../../helpers/tracker-fixture';

describe('Class: FrontierTracker', () => {
  it('publishes the tip time minus the margin when every record is applied', async () => {
    // Prepare
    const { clock, stream, evidence, tracker } = trackerSetup();
    stream.addShard('s1');
    stream.write('s1', 'a');
    clock.advance(300);
    const last = stream.write('s1', 'b');
    clock.advance(500);
    fakeSync(stream, evidence);
    clock.advance(500);

    // Act
    const [first, second] = await stepsTipSpanApart(tracker, clock, 2);

    // Assess: without a tip, the applied prefix proves the shard up to its last record's bound
    expect(first.published).toBe(floorS(last.trueMs) - MARGIN);
    expect(second.published).toBe(clock.t - MARGIN);
    expect(second.pending).toBe(0);
    expect(second.didPublish).toBe(true);
  });

  it('holds F at the floored creation time of the first unapplied record', async () => {
    // Prepare
    const { clock, stream, evidence, tracker } = trackerSetup();
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
    const { clock, stream, tracker } = trackerSetup();
    stream.addShard('s1');

    // Act
    const [first, second] = await stepsTipSpanApart(tracker, clock, 2);

    // Assess: three empty pages at one instant are no tip; the streak counts once it spans 1 s
    expect(first.published).toBe(0);
    expect(second.published).toBe(clock.t - MARGIN);
    expect(second.shards).toEqual([expect.objectContaining({ shardId: 's1', pending: 0, status: 'active' })]);
  });

  it('reads many shards concurrently and takes the minimum over them', async () => {
    // Prepare: 20 shards, all applied except one record in s13
    const { clock, stream, evidence, tracker } = trackerSetup(1000, {}, { readConcurrency: 4 });
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

  it('never publishes a lower F than before', async () => {
    // Prepare
    const { clock, stream, store, make } = trackerSetup();
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
    expect(() => trackerSetup(1000, {}, { tipEmptyPages: 0 })).toThrow(FrontierConfigError);
    expect(() => trackerSetup(1000, {}, { tipEmptyPages: 1.5 })).toThrow(
      /tipEmptyPages: 1.5 is not a whole number/,
    );
    expect(() => trackerSetup(1000, {}, { tipMinSpanMs: -1 })).toThrow(
      /tipMinSpanMs: -1 is not a non-negative/,
    );
    expect(() => trackerSetup(1000, {}, { childListingWaitMs: Number.NaN })).toThrow(/childListingWaitMs/);
    expect(() => trackerSetup(1000, {}, { propagationMarginMs: -5 })).toThrow(/propagationMarginMs/);
  });
});
