/**
 * The operator's run controls (`dualread backfill pause|resume|rate`): pause and the rate ceiling in
 * STATE, which the backfill and verification workers read before every page. Pure, like the phase
 * machine: the next STATE and its audit record, or a named error.
 */
import { InvalidControlRequestError } from './errors';
import { type ChangeContext, type ControlChange, audited } from './phase-machine';
import type { MigrationState } from './state';

/** A change of the run controls (`dualread backfill pause|resume|rate`). */
export interface RunControlsPatch {
  readonly paused?: boolean;
  /** Items per second across all segments; 0 = unlimited. */
  readonly rateLimitPerSecond?: number;
}

/** The highest rate an operator may set (items/s across all segments). */
export const MAX_RATE_LIMIT_PER_SECOND = 1_000_000;

/**
 * A change of the operator's run controls, which the backfill and verification workers read before
 * every page (`ReadControls`): pause, resume, or the rate ceiling. Audited as `pause`, `resume` or
 * `rate`; a change that changes nothing is refused, so the audit log only holds real changes.
 *
 * @throws InvalidControlRequestError for a rate outside 0..1,000,000 (integer), an empty patch or no change
 */
export function planRunControls(
  state: MigrationState,
  patch: RunControlsPatch,
  reason: string,
  ctx: ChangeContext,
): ControlChange {
  const r = patch.rateLimitPerSecond;
  if (r !== undefined && (!Number.isInteger(r) || r < 0 || r > MAX_RATE_LIMIT_PER_SECOND))
    throw new InvalidControlRequestError(
      `rate must be whole items per second from 0 (unlimited) to ${MAX_RATE_LIMIT_PER_SECOND}, not ${r}`,
    );
  if (patch.paused === undefined && r === undefined)
    throw new InvalidControlRequestError('no control given: pause, resume or set a rate');
  const controls = {
    paused: patch.paused ?? state.controls.paused,
    rateLimitPerSecond: r ?? state.controls.rateLimitPerSecond,
  };
  if (
    controls.paused === state.controls.paused &&
    controls.rateLimitPerSecond === state.controls.rateLimitPerSecond
  )
    throw new InvalidControlRequestError(
      patch.paused !== undefined && r === undefined
        ? `runs of migration "${state.migrationId}" are already ${controls.paused ? 'paused' : 'running (not paused)'}: nothing to change`
        : `the rate of migration "${state.migrationId}" is already ${controls.rateLimitPerSecond || 'unlimited'}${controls.rateLimitPerSecond ? ' items/s' : ''}: nothing to change`,
    );
  const action =
    patch.paused !== undefined && patch.paused !== state.controls.paused
      ? patch.paused
        ? 'pause'
        : 'resume'
      : 'rate';
  return audited(state, { controls }, ctx, {
    action,
    reason: reason.trim() || `${action} (no reason given)`,
    from: `paused=${state.controls.paused} rate=${state.controls.rateLimitPerSecond}`,
    to: `paused=${controls.paused} rate=${controls.rateLimitPerSecond}`,
  });
}
