/**
 * The `controls` step (`ReadControls`): reads the operator controls (pause, rate) and the segment's
 * checkpoint, and answers whether the segment loop should stop (done), wait (paused / rate) or copy
 * (the decision: core/backfill/segment-loop.ts).
 */
import {
  type SegmentCheckpoint,
  type SegmentControls,
  controlsOf,
  segmentControls,
} from '../../core/backfill';
import { ControlKey } from '../../core/control';
import { type BackfillDeps, type SegmentPayload, checkSegmentPayload } from './context';

/** Output of `controls`: the segment loop's decision as it is. */
export type ControlsResult = SegmentControls;

/** Builds the `controls` handler. */
export function makeControlsHandler(deps: BackfillDeps): (p: SegmentPayload) => Promise<ControlsResult> {
  return async (p) => {
    checkSegmentPayload(p);
    const [state, checkpoint] = await Promise.all([
      deps.store.getState(),
      deps.store.get<SegmentCheckpoint>(ControlKey.segment(p.segment)),
    ]);
    return segmentControls(
      controlsOf(state, deps.migration.backfill.rateLimitPerSecond),
      checkpoint,
      deps.now(),
      deps.settings.pausePollSeconds,
    );
  };
}
