/**
 * The frontier tracker over the faked streams API (test/helpers/tracker-fixture.ts). A cold start: the
 * tracker resumes from its SHARD# items without re-proving what was applied.
 */
import { fakeSync, waive } from '../../../helpers/fake-streams';
import { MARGIN, TIP_SPAN, stepToTip, trackerSetup } from '../../../helpers/tracker-fixture';

describe('Class: FrontierTracker', () => {
  it('resumes from its persisted position after a restart without re-proving applied records', async () => {
    // Prepare
    const { clock, stream, evidence, store, tracker, make } = trackerSetup();
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

  it('resumes after the last record read, with the records still waiting, after a restart', async () => {
    // Prepare: a dead-lettered record, then 500 applied records; the tracker has read them all
    const { clock, stream, evidence, store, tracker, make } = trackerSetup();
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

  it('saves SHARD# items at most every persistIntervalMs, and a restart from the older item stays safe', async () => {
    // Prepare: saves spaced 5 s apart; steps every 250 ms while records flow
    const { clock, stream, evidence, store, tracker, make } = trackerSetup(
      1000,
      {},
      { persistIntervalMs: 5000 },
    );
    stream.addShard('s1');
    let saves = 0;
    const save = store.saveShard.bind(store);
    store.saveShard = async (s) => {
      saves++;
      return save(s);
    };
    for (let i = 0; i < 8; i++) {
      stream.write('s1', `k${i}`);
      fakeSync(stream, evidence);
      clock.advance(250);
      await tracker.step();
    }
    const unapplied = stream.write('s1', 'held'); // read by the next step, never applied
    clock.advance(250);
    await tracker.step();
    const savesBefore = saves;

    // Act: a cold start from the item saved seconds ago
    clock.advance(TIP_SPAN);
    const restarted = make();
    const after = await restarted.step();

    // Assess: one save in 2.25 s of steps; the older item made the restart re-read, not pass a record
    expect(savesBefore).toBe(1);
    expect(after.published).toBeLessThanOrEqual(unapplied.trueMs);
    expect(after.pending).toBe(1);
  });
});
