/**
 * The `controls` step: reads the operator controls (pause, rate) and the segment's checkpoint, and
 * says whether the segment loop should stop (done), wait (paused / rate) or copy.
 */
import type { SegmentCheckpoint } from '../../core/backfill';
import { ControlKey, delayUntil } from '../../core/control';
import { type BackfillDeps, type SegmentPayload, checkSegmentPayload } from './context';

/** Output of `controls`. */
export interface ControlsResult {
  readonly done: boolean;
  readonly paused: boolean;
  /** Seconds the loop waits before re-checking (pause poll or rate pacing); 0 = copy now. */
  readonly waitSeconds: number;
  readonly rateLimitPerSecond: number;
}

/** Builds the `controls` handler. */
export function makeControlsHandler(deps: BackfillDeps): (p: SegmentPayload) => Promise<ControlsResult> {
  return async (p) => {
    checkSegmentPayload(p);
    const [state, checkpoint] = await Promise.all([
      deps.store.getState(),
      deps.store.get<SegmentCheckpoint>(ControlKey.segment(p.segment)),
    ]);
    const controls = state?.controls ?? {
      paused: false,
      rateLimitPerSecond: deps.migration.backfill.rateLimitPerSecond,
    };
    if (checkpoint?.done)
      return { done: true, paused: false, waitSeconds: 0, rateLimitPerSecond: controls.rateLimitPerSecond };
    if (controls.paused) {
      return {
        done: false,
        paused: true,
        waitSeconds: deps.settings.pausePollSeconds,
        rateLimitPerSecond: controls.rateLimitPerSecond,
      };
    }
    // Waits under a second are slept by the page worker itself.
    const delay = delayUntil(checkpoint?.notBefore ?? 0, deps.now());
    return {
      done: false,
      paused: false,
      waitSeconds: delay >= 1000 ? Math.floor(delay / 1000) : 0,
      rateLimitPerSecond: controls.rateLimitPerSecond,
    };
  };
}
