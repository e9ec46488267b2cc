/**
 * The fault plan decides which fault fires for which call: filters, probability from a seed, windows,
 * "after N calls", exact counts, and a named error for a rule that cannot be used.
 */
import { type FaultCall, FaultConfigError, FaultKind, FaultPlan, FaultRole } from '../../../local/faults';

const get = (table: string, role: FaultRole = FaultRole.new): FaultCall => ({
  role,
  operation: 'GetItem',
  tables: [table],
});

function clock(start = 0) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('Class: FaultPlan', () => {
  it('injects nothing until armed, and nothing after disarm', () => {
    // Prepare
    const c = clock();
    const plan = new FaultPlan([{ name: 'throttle', kind: FaultKind.throttling }], 1, c.now);
    // Act / Assess
    expect(plan.decide(get('t'))).toBeUndefined();
    plan.arm();
    expect(plan.decide(get('t'))?.fault).toBe('throttle');
    plan.disarm();
    expect(plan.decide(get('t'))).toBeUndefined();
    expect(plan.counts()).toEqual({ throttle: 1 });
  });

  it('matches by role, operation and table', () => {
    const plan = new FaultPlan(
      [
        {
          name: 'new-writes',
          kind: FaultKind.internalError,
          roles: [FaultRole.new],
          operations: ['PutItem'],
          tables: ['n'],
        },
      ],
      1,
      () => 0,
    );
    plan.arm();
    expect(plan.decide({ role: FaultRole.new, operation: 'GetItem', tables: ['n'] })).toBeUndefined();
    expect(plan.decide({ role: FaultRole.legacy, operation: 'PutItem', tables: ['n'] })).toBeUndefined();
    expect(plan.decide({ role: FaultRole.new, operation: 'PutItem', tables: ['x'] })).toBeUndefined();
    expect(plan.decide({ role: FaultRole.new, operation: 'PutItem', tables: ['x', 'n'] })?.kind).toBe(
      FaultKind.internalError,
    );
    expect(plan.counts()).toEqual({ 'new-writes': 1 });
  });

  it('reproduces the same sequence from the same seed, and another from another seed', () => {
    const run = (seed: number) => {
      const plan = new FaultPlan(
        [
          { name: 'a', kind: FaultKind.throttling, probability: 0.3 },
          { name: 'b', kind: FaultKind.timeout, probability: 0.3 },
        ],
        seed,
        () => 0,
      );
      plan.arm();
      return Array.from({ length: 200 }, (_, i) => plan.decide(get(`t${i % 3}`))?.fault ?? '-').join('');
    };
    expect(run(7)).toBe(run(7));
    expect(run(7)).not.toBe(run(8));
    const hits = run(7).replace(/-/g, '').length;
    // 1 − 0.7 × 0.7 = 51 % of 200 calls: the draws are not all-or-nothing.
    expect(hits).toBeGreaterThan(60);
    expect(hits).toBeLessThan(140);
  });

  it('fires only inside its windows, measured from arming', () => {
    const c = clock(1_000);
    const plan = new FaultPlan(
      [{ name: 'outage', kind: FaultKind.unavailable, windows: [{ startMs: 100, endMs: 200 }] }],
      1,
      c.now,
    );
    plan.arm();
    expect(plan.decide(get('n'))).toBeUndefined();
    c.advance(100);
    expect(plan.decide(get('n'))?.fault).toBe('outage');
    c.advance(99);
    expect(plan.decide(get('n'))?.fault).toBe('outage');
    c.advance(1);
    expect(plan.decide(get('n'))).toBeUndefined();
    expect(plan.counts()).toEqual({ outage: 2 });
    expect(plan.events().map((e) => e.atMs)).toEqual([100, 199]);
  });

  it('lets the first N matching calls through and stops at maxInjections', () => {
    const plan = new FaultPlan(
      [{ name: 'reset', kind: FaultKind.connectionReset, afterCalls: 2, maxInjections: 3 }],
      1,
      () => 0,
    );
    plan.arm();
    const seq = Array.from({ length: 8 }, () => plan.decide(get('t')) !== undefined);
    expect(seq).toEqual([false, false, true, true, true, false, false, false]);
    expect(plan.counts()).toEqual({ reset: 3 });
  });

  it.each([
    [{ name: 'x', kind: 'meteor' }, /kind "meteor" is unknown/],
    [{ name: 'x', kind: 'timeout', probability: 2 }, /probability must be from 0 to 1/],
    [{ name: 'x', kind: 'timeout', roles: ['db'] }, /role "db" is unknown/],
    [{ name: 'x', kind: 'timeout', windows: [{ startMs: 5, endMs: 5 }] }, /must start at 0 ms or later/],
    [{ name: 'x', kind: 'timeout', afterCalls: -1 }, /afterCalls must be a whole number/],
  ])('refuses %j with a FaultConfigError', (rule, message) => {
    expect(() => new FaultPlan([rule as never], 1, () => 0)).toThrow(FaultConfigError);
    expect(() => new FaultPlan([rule as never], 1, () => 0)).toThrow(message);
  });

  it('refuses two rules of the same name', () => {
    expect(
      () =>
        new FaultPlan(
          [
            { name: 'x', kind: FaultKind.timeout },
            { name: 'x', kind: FaultKind.latency },
          ],
          1,
          () => 0,
        ),
    ).toThrow(/appears twice/);
  });
});
