/**
 * The first routing decision of a request, with the new store's circuit breaker (see `breaker.ts`):
 * a closed breaker lets the request decide freely; an open one decides as if new were unavailable; a
 * half-open breaker admits a limited number of probes, and a request it does not admit is decided
 * again as if the breaker were open. A request that would not touch new takes no probe slot.
 */
import type { Admission, CircuitBreaker } from './breaker';
import { type RouteDecision, type RouteInput, decideRoute } from './routing';

/** The first decision, the breaker's admission, and the input every later decision starts from. */
export interface Admitted {
  readonly decision: RouteDecision;
  readonly admission: Admission;
  /** `input` with the breaker view the decision was made under. */
  readonly input: RouteInput;
}

/** Decides a request's first route under the breaker's state, taking a probe slot only if it touches new. */
export function admitRoute(input: RouteInput, breaker: CircuitBreaker): Admitted {
  const state = breaker.state;
  if (state === 'closed')
    return { decision: decideRoute({ ...input, breaker: 'closed' }), admission: 'closed', input };
  const open = { ...input, breaker: 'open' as const };
  if (state === 'open') return { decision: decideRoute(open), admission: 'open', input: open };
  const tentative = decideRoute({ ...input, breaker: 'half-open' });
  if (!tentative.touchesNew) return { decision: tentative, admission: 'open', input: open };
  const admission = breaker.admit();
  if (admission === 'half-open')
    return { decision: tentative, admission, input: { ...input, breaker: 'half-open' } };
  return { decision: decideRoute(open), admission: 'open', input: open };
}
