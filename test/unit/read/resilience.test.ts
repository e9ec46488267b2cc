import fc from 'fast-check';
import { CircuitBreaker } from '../../../core/read';
import { LatencyWindow, RetryBudget, fullJitterDelay, hedgeDelay } from '../../../core/common';

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('Class: CircuitBreaker', () => {
  it('opens after consecutive failures and refuses calls until the cool-down', () => {
    const c = clock();
    const b = new CircuitBreaker({ consecutiveFailures: 3, openMs: 1_000 }, c.now);
    for (let i = 0; i < 3; i++) b.record('timeout', b.admit());
    expect(b.state).toBe('open');
    expect(b.admit()).toBe('open');
    c.advance(999);
    expect(b.admit()).toBe('open');
    c.advance(1);
    expect(b.state).toBe('half-open');
  });

  it('opens on the error rate over the window once enough calls were made', () => {
    const c = clock();
    const b = new CircuitBreaker({ minCalls: 10, failureRate: 0.5, consecutiveFailures: 100 }, c.now);
    for (let i = 0; i < 9; i++) b.record(i % 2 ? 'success' : 'failure', b.admit());
    expect(b.state).toBe('closed');
    b.record('failure', b.admit());
    expect(b.state).toBe('open');
  });

  it('forgets failures older than the window', () => {
    const c = clock();
    const b = new CircuitBreaker(
      { minCalls: 4, failureRate: 0.5, consecutiveFailures: 100, windowMs: 2_000, bucketMs: 1_000 },
      c.now,
    );
    b.record('failure', b.admit());
    b.record('failure', b.admit());
    c.advance(3_000);
    b.record('success', b.admit());
    b.record('success', b.admit());
    b.record('failure', b.admit());
    expect(b.snapshot()).toMatchObject({ state: 'closed', calls: 3, failures: 1 });
  });

  it('admits a bounded number of probes when half-open; successes close it, a failure reopens it', () => {
    const c = clock();
    const b = new CircuitBreaker(
      { consecutiveFailures: 1, openMs: 100, maxProbes: 1, probeSuccesses: 2 },
      c.now,
    );
    b.record('failure', b.admit());
    c.advance(100);
    const p1 = b.admit();
    expect(p1).toBe('half-open');
    expect(b.admit()).toBe('open'); // one probe at a time
    b.record('success', p1);
    b.record('success', b.admit());
    expect(b.state).toBe('closed');
    b.record('failure', b.admit());
    c.advance(100);
    b.record('failure', b.admit());
    expect(b.state).toBe('open');
    expect(b.snapshot().opens).toBe(3);
  });

  it('never lets more than maxProbes calls through while not closed (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom('success', 'failure', 'timeout') as fc.Arbitrary<
              'success' | 'failure' | 'timeout'
            >,
            fc.integer({ min: 0, max: 3_000 }),
          ),
        ),
        (steps) => {
          const c = clock();
          const b = new CircuitBreaker({ consecutiveFailures: 2, openMs: 1_000, maxProbes: 2 }, c.now);
          let inFlight = 0;
          for (const [outcome, wait] of steps) {
            c.advance(wait);
            const a = b.admit();
            if (a === 'half-open') inFlight++;
            expect(inFlight).toBeLessThanOrEqual(2);
            if (a !== 'open') {
              b.record(outcome, a);
              if (a === 'half-open') inFlight--;
            }
          }
        },
      ),
    );
  });
});

describe("Function: fullJitterDelay (the read engine's retry n)", () => {
  it('stays below min(cap, base·2^(n−1)) with full jitter', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (n, r) => {
          const d = fullJitterDelay(n - 1, { baseMs: 10, capMs: 200, maxAttempts: 3 }, r);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThan(Math.min(200, 10 * 2 ** (n - 1)));
        },
      ),
    );
  });
});

describe('Class: RetryBudget', () => {
  it('caps retries at the minimum plus a share of first attempts per window', () => {
    const c = clock();
    const budget = new RetryBudget({ ratio: 0.1, minPerWindow: 2, windowMs: 1_000 }, c.now);
    for (let i = 0; i < 30; i++) budget.recordAttempt();
    let granted = 0;
    for (let i = 0; i < 100; i++) if (budget.tryRetry()) granted++;
    expect(granted).toBe(5);
    c.advance(1_000);
    expect(budget.tryRetry()).toBe(true);
  });
});

describe('Function: hedgeDelay', () => {
  it('uses the observed p95 once enough samples exist, clamped', () => {
    const w = new LatencyWindow(100);
    const opts = { fallbackMs: 50, floorMs: 5, ceilingMs: 500, minSamples: 20 };
    expect(hedgeDelay(w, opts)).toBe(50);
    for (let i = 1; i <= 100; i++) w.record(i);
    expect(hedgeDelay(w, opts)).toBe(95);
    for (let i = 0; i < 100; i++) w.record(10_000);
    expect(hedgeDelay(w, opts)).toBe(500);
  });
});
