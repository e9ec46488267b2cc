import type { FrontierTracker } from '../../../core/frontier';
import { usersMigration } from '../../../examples/users/migration';
import { buildFrontierDeps, buildFrontierTracker } from '../../../lambdas/frontier/deps';
import { type FrontierHandlerDeps, makeFrontierHandler } from '../../../lambdas/frontier/handler';
import {
  FakeClock,
  FakeEvidence,
  FakeStream,
  MemoryFrontierStore,
  fakeSync,
} from '../../helpers/fake-streams';
import {
  BASE_TRACKER_CONFIG,
  ONE_EMPTY_PAGE_TIP,
  emptyPageAfterFirst,
  newTracker,
} from '../../helpers/tracker-fixture';

function recorder() {
  const metrics: Array<[string, number]> = [];
  const errors: string[] = [];
  return {
    metrics,
    errors,
    logger: {
      info: () => undefined,
      debug: () => undefined,
      warn: (m: string) => errors.push(m),
      error: (m: string) => errors.push(m),
    },
    sink: {
      addMetric: (name: string, _unit: string, value: number) => metrics.push([name, value]),
      publishStoredMetrics: () => undefined,
    },
  };
}

/** The handler over `tracker`: two steps 2 s apart on the fake clock, logging and metrics into `r`. */
function twoStepHandler(
  tracker: FrontierTracker,
  clock: FakeClock,
  r: ReturnType<typeof recorder>,
  extra: Partial<FrontierHandlerDeps> = {},
) {
  return makeFrontierHandler({
    migrationId: 'users',
    tracker,
    loopDurationMs: 4000,
    loopIntervalMs: 2000,
    sleep: async (ms) => clock.advance(ms),
    logger: r.logger as never,
    metrics: r.sink as never,
    ...extra,
  });
}

describe('Function: makeFrontierHandler', () => {
  it('emits lag, violations, pending and dead-lettered per step and returns the last F', async () => {
    // Prepare
    const clock = new FakeClock();
    const stream = new FakeStream(clock, 1000);
    stream.addShard('s1');
    stream.write('s1', 'a');
    stream.duplicateNext = true; // one SequenceNotIncreasing violation
    const fakes = { clock, stream, evidence: new FakeEvidence(), store: new MemoryFrontierStore() };
    const tracker = newTracker(fakes, BASE_TRACKER_CONFIG);
    const r = recorder();
    const handler = twoStepHandler(tracker, clock, r);

    // Act
    const summary = await handler();

    // Assess
    expect(summary.steps).toBe(2);
    expect(summary.failedSteps).toBe(0);
    expect(summary.violations).toEqual({ SequenceNotIncreasing: 1 });
    expect(r.metrics.filter(([n]) => n === 'FrontierLagSeconds')).toHaveLength(2);
    expect(r.metrics.filter(([n]) => n === 'FrontierAssumptionViolations').map(([, v]) => v)).toEqual([1, 0]);
    expect(r.metrics.filter(([n]) => n === 'FrontierPendingRecords').map(([, v]) => v)).toEqual([1, 1]);
    expect(r.metrics.some(([n]) => n === 'FrontierDeadLettered')).toBe(true);
    expect(r.metrics.filter(([n]) => n === 'FrontierLateRecords').map(([, v]) => v)).toEqual([0, 0]);
    expect(r.errors).toEqual([expect.stringContaining('frontier assumption violated')]);
  });

  it('emits FrontierLateRecords and logs an error when a late record is found', async () => {
    // Prepare: one empty page counts as the tip and the API hides b behind one: F passes b unapplied
    const clock = new FakeClock();
    const stream = new FakeStream(clock, 1000, { pageSize: 1, emptyRun: emptyPageAfterFirst });
    const evidence = new FakeEvidence();
    stream.addShard('s1');
    stream.write('s1', 'a');
    clock.advance(1000);
    stream.write('s1', 'b');
    fakeSync(stream, evidence, { batch: 1, maxBatches: 1 });
    clock.advance(5000);
    const fakes = { clock, stream, evidence, store: new MemoryFrontierStore() };
    const tracker = newTracker(fakes, { ...BASE_TRACKER_CONFIG, ...ONE_EMPTY_PAGE_TIP });
    const r = recorder();
    const handler = twoStepHandler(tracker, clock, r);

    // Act
    const summary = await handler();

    // Assess
    expect(summary.violations).toEqual({ LateRecord: 1 });
    expect(r.metrics.filter(([n]) => n === 'FrontierLateRecords').map(([, v]) => v)).toEqual([0, 1]);
    expect(r.errors).toEqual([expect.stringContaining('late record')]);
  });
});

describe('Function: makeFrontierHandler, phase gauges', () => {
  function handlerWith(readState: FrontierHandlerDeps['readState']) {
    const clock = new FakeClock();
    const stream = new FakeStream(clock, 1000);
    stream.addShard('s1');
    const fakes = { clock, stream, evidence: new FakeEvidence(), store: new MemoryFrontierStore() };
    const r = recorder();
    return { handler: twoStepHandler(newTracker(fakes, BASE_TRACKER_CONFIG), clock, r, { readState }), r };
  }

  it('publishes the phase as its position 0-5 and the rollout once per invocation', async () => {
    // Prepare
    const { handler, r } = handlerWith(async () => ({ phase: 'DUAL_READ', rolloutPercent: 25 }));

    // Act
    await handler();

    // Assess
    expect(r.metrics.filter(([n]) => n === 'Phase' || n === 'RolloutPercent')).toEqual([
      ['Phase', 3],
      ['RolloutPercent', 25],
    ]);
  });

  it('publishes no phase before STATE exists, and tracks on when STATE cannot be read', async () => {
    // Prepare
    const absent = handlerWith(async () => undefined);
    const failing = handlerWith(async () => {
      throw new Error('ProvisionedThroughputExceededException');
    });

    // Act
    await absent.handler();
    const summary = await failing.handler();

    // Assess
    expect(absent.r.metrics.some(([n]) => n === 'Phase')).toBe(false);
    expect(failing.r.metrics.some(([n]) => n === 'Phase')).toBe(false);
    expect(summary.steps).toBeGreaterThan(0);
    expect(failing.r.errors).toEqual([expect.stringContaining('could not read STATE')]);
  });
});

describe('Function: buildFrontierDeps', () => {
  it('reads the loop and the frontier settings from the environment', () => {
    // Act
    const deps = buildFrontierDeps({
      migration: usersMigration,
      endpoint: { endpoint: 'http://localhost:1', region: 'us-east-1' },
      env: {
        CONTROL_TABLE_NAME: 'control',
        LEGACY_STREAM_ARN: 'arn:aws:dynamodb:us-east-1:1:table/users/stream/x',
        LOOP_DURATION_MS: '30000',
        LOOP_INTERVAL_MS: '1500',
      },
    });

    // Assess
    expect(deps.loopDurationMs).toBe(30_000);
    expect(deps.loopIntervalMs).toBe(1500);
    expect(deps.migrationId).toBe('users');
  });

  it('reads the tip rule and the child listing wait from the environment', () => {
    // Act
    const { config } = buildFrontierTracker({
      migration: usersMigration,
      endpoint: { endpoint: 'http://localhost:1', region: 'us-east-1' },
      env: {
        CONTROL_TABLE_NAME: 'control',
        LEGACY_STREAM_ARN: 'arn:aws:dynamodb:us-east-1:1:table/users/stream/x',
        TIP_EMPTY_PAGES: '4',
        TIP_MIN_SPAN_MS: '1500',
        CHILD_LISTING_WAIT_MS: '60000',
      },
    });

    // Assess
    expect(config).toEqual(
      expect.objectContaining({ tipEmptyPages: 4, tipMinSpanMs: 1500, childListingWaitMs: 60_000 }),
    );
  });

  it('defaults to the AWS tip rule', () => {
    // Act
    const { config } = buildFrontierTracker({
      migration: usersMigration,
      endpoint: { endpoint: 'http://localhost:1', region: 'us-east-1' },
      env: { CONTROL_TABLE_NAME: 'control', LEGACY_STREAM_ARN: 'arn' },
    });

    // Assess
    expect(config).toEqual(
      expect.objectContaining({ tipEmptyPages: 3, tipMinSpanMs: 1000, childListingWaitMs: 300_000 }),
    );
  });

  it.each([
    [{ LEGACY_STREAM_ARN: 'arn' }, /CONTROL_TABLE_NAME is not set/],
    [{ CONTROL_TABLE_NAME: 'c' }, /LEGACY_STREAM_ARN is not set/],
    [
      { CONTROL_TABLE_NAME: 'c', LEGACY_STREAM_ARN: 'arn', PROPAGATION_MARGIN_MS: 'soon' },
      /PROPAGATION_MARGIN_MS must be a non-negative number, not "soon"/,
    ],
    [
      { CONTROL_TABLE_NAME: 'c', LEGACY_STREAM_ARN: 'arn', TIP_EMPTY_PAGES: '0' },
      /tipEmptyPages: 0 is not a whole number of at least 1/,
    ],
  ])('refuses an incomplete environment %j', (env, message) => {
    // Act / Assess
    expect(() => buildFrontierDeps({ migration: usersMigration, env })).toThrow(message);
  });
});
