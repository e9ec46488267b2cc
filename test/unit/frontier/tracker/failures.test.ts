/**
 * The frontier tracker over the faked streams API (test/helpers/tracker-fixture.ts). Stream failures and the
 * loop: expired iterators, the trim horizon, failed steps.
 */
import { FrontierViolation, IteratorExpiredError, TrimmedDataError } from '../../../../core/frontier';
import { fakeSync } from '../../../helpers/fake-streams';
import { MARGIN, failNextRead, stepToTip, trackerSetup } from '../../../helpers/tracker-fixture';

describe('Class: FrontierTracker (stream failures and the loop)', () => {
  it('gets a new iterator after one expired and still reads every record', async () => {
    // Prepare
    const { clock, stream, evidence, tracker } = trackerSetup();
    stream.addShard('s1');
    stream.write('s1', 'a');
    fakeSync(stream, evidence);
    failNextRead(stream, (shardId) => new IteratorExpiredError(shardId));
    clock.advance(1000);

    // Act
    const r = await stepToTip(tracker, clock);

    // Assess
    expect(r.published).toBe(clock.t - MARGIN);
    expect(r.violations).toEqual({});
  });

  it('gets a new iterator when the fake API expires one after 15 minutes idle', async () => {
    // Prepare
    const { clock, stream, evidence, tracker } = trackerSetup();
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
    const { clock, stream, tracker } = trackerSetup();
    stream.addShard('s1');
    failNextRead(stream, (shardId) => new TrimmedDataError(shardId));
    clock.advance(1000);

    // Act
    const r = await tracker.step();

    // Assess
    expect(r.violations[FrontierViolation.TRIMMED_UNREAD]).toBe(1);
    expect(r.newViolations).toBe(1);
  });

  it('loops for the configured duration at the configured interval and survives a failed step', async () => {
    // Prepare
    const { clock, stream, tracker } = trackerSetup();
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
