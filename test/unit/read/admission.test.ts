/**
 * The breaker's admission of a request's first routing decision (core/read/admission.ts): free under a
 * closed breaker, new unavailable under an open one, one probe at a time when half-open, and no probe
 * slot for a request that does not touch new.
 */
import { CircuitBreaker, admitRoute, decideRoute } from '../../../core/read';
import { newPrimaryInput } from '../../helpers/route-input';

/** A breaker (one failure opens it, 100 ms open, one probe at a time) in the state asked for. */
function breakerIn(state: 'closed' | 'open' | 'half-open'): CircuitBreaker {
  let t = 1_000_000;
  const breaker = new CircuitBreaker({ consecutiveFailures: 1, openMs: 100, maxProbes: 1 }, () => t);
  if (state !== 'closed') breaker.record('failure', breaker.admit());
  if (state === 'half-open') t += 100;
  return breaker;
}

describe('Function: admitRoute', () => {
  it('decides freely under a closed breaker, taking no probe', () => {
    const input = newPrimaryInput();

    const admitted = admitRoute(input, breakerIn('closed'));

    expect(admitted.admission).toBe('closed');
    expect(admitted.input).toBe(input);
    expect(admitted.decision).toEqual(decideRoute({ ...input, breaker: 'closed' }));
    expect(admitted.decision).toMatchObject({ route: 'new', reason: 'FRESH_BACKFILL_COMPLETE' });
  });

  it('decides as if new were unavailable under an open breaker', () => {
    const admitted = admitRoute(newPrimaryInput(), breakerIn('open'));

    expect(admitted.admission).toBe('open');
    expect(admitted.input.breaker).toBe('open');
    expect(admitted.decision).toMatchObject({
      route: 'legacy',
      reason: 'NEW_UNAVAILABLE',
      touchesNew: false,
    });
  });

  it('admits one probe when half-open and decides the next request as if open', () => {
    const breaker = breakerIn('half-open');

    const probe = admitRoute(newPrimaryInput(), breaker);
    const next = admitRoute(newPrimaryInput(), breaker);

    expect(probe.admission).toBe('half-open');
    expect(probe.input.breaker).toBe('half-open');
    expect(probe.decision).toMatchObject({ route: 'new', reason: 'FRESH_BACKFILL_COMPLETE' });
    expect(next.admission).toBe('open');
    expect(next.decision).toMatchObject({ route: 'legacy', reason: 'NEW_UNAVAILABLE' });
  });

  it('takes no probe slot for a request that does not touch new', () => {
    const breaker = breakerIn('half-open');

    const legacyOnly = admitRoute(newPrimaryInput({ requested: 'legacy' }), breaker);
    const probe = admitRoute(newPrimaryInput(), breaker);

    expect(legacyOnly.admission).toBe('open');
    expect(legacyOnly.input.breaker).toBe('open');
    expect(legacyOnly.decision).toMatchObject({ route: 'legacy', reason: 'MODE_LEGACY', touchesNew: false });
    expect(probe.admission).toBe('half-open');
  });
});
