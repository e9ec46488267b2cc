import {
  InvalidControlRequestError,
  type MigrationState,
  initialState,
  planRunControls,
} from '../../../core/control';

const NOW = 1_790_000_000_000;
const ctx = { actor: 'alice@laptop', now: NOW };
const base: MigrationState = { ...initialState('orders', 500, NOW - 1000), version: 3 };

describe('Function: planRunControls', () => {
  it('pauses, audited as pause with the reason and the controls before and after', () => {
    // Act
    const change = planRunControls(base, { paused: true }, 'legacy is throttling', ctx);

    // Assess
    expect(change.state.controls).toEqual({ paused: true, rateLimitPerSecond: 500 });
    expect(change.state).toMatchObject({ updatedBy: ctx.actor, updatedAt: NOW });
    expect(change.audit).toMatchObject({
      action: 'pause',
      reason: 'legacy is throttling',
      from: 'paused=false rate=500',
      to: 'paused=true rate=500',
      actor: ctx.actor,
    });
  });

  it('resumes a paused run and sets a rate, each audited under its own action', () => {
    const paused = { ...base, controls: { paused: true, rateLimitPerSecond: 500 } };
    expect(planRunControls(paused, { paused: false }, '', ctx).audit.action).toBe('resume');
    const rated = planRunControls(base, { rateLimitPerSecond: 0 }, '', ctx);
    expect(rated.state.controls).toEqual({ paused: false, rateLimitPerSecond: 0 });
    expect(rated.audit).toMatchObject({ action: 'rate', reason: 'rate (no reason given)' });
  });

  it('refuses a change that changes nothing, naming the current value', () => {
    expect(() => planRunControls(base, { paused: false }, '', ctx)).toThrow(
      /already running \(not paused\): nothing to change/,
    );
    expect(() => planRunControls(base, { rateLimitPerSecond: 500 }, '', ctx)).toThrow(
      /already 500 items\/s: nothing to change/,
    );
    expect(() => planRunControls(base, {}, '', ctx)).toThrow(InvalidControlRequestError);
  });

  it.each([-1, 1.5, 1_000_001, Number.NaN])('refuses the rate %p with the allowed range', (rate) => {
    expect(() => planRunControls(base, { rateLimitPerSecond: rate }, '', ctx)).toThrow(
      /rate must be whole items per second from 0 \(unlimited\) to 1000000/,
    );
  });
});
