/**
 * The frontier tracker over the faked streams API (test/helpers/tracker-fixture.ts). Evidence that a record
 * is applied: progress markers, waivers and new items, and dead-lettered records held until one of them
 * proves them.
 */
import { padSequence, canonicalItem } from '../../../../core/model';
import { fakeSync, waive } from '../../../helpers/fake-streams';
import { MARGIN, TIP_SPAN, floorS, stepToTip, trackerSetup } from '../../../helpers/tracker-fixture';

describe('Class: FrontierTracker', () => {
  it('holds F behind a dead-lettered record until it is waived', async () => {
    // Prepare
    const { clock, stream, evidence, tracker } = trackerSetup();
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
    const { clock, stream, evidence, tracker } = trackerSetup();
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
    const { clock, stream, evidence, tracker } = trackerSetup();
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
    const { clock, stream, evidence, tracker } = trackerSetup(1000, {}, { markerLookbackRecords: 5 });
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
    const { clock, stream, evidence, tracker } = trackerSetup();
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
    const { clock, stream, evidence, tracker } = trackerSetup();
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
});
