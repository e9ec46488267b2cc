/**
 * The `control` Lambda: an alarm (EventBridge "CloudWatch Alarm State Change", or local mode's
 * watcher) moves the migration back to the last safe phase through `ControlPlane.onAlarm` — DUAL_READ
 * and NEW_PRIMARY → SHADOW, audited with `alarm:<name>` as actor, idempotent when alarms repeat, and
 * nothing when the team turned automatic rollback off. The same factory runs in local mode.
 */
import type { AlarmOutcome } from '../../adapters/control-plane';
import { type AlarmEvent, parseAlarmEvent } from '../../core/control';

/** What the handler needs: the migration's control plane (only `onAlarm` is used) and a log. */
export interface ControlDeps {
  readonly plane: { onAlarm(alarm: AlarmEvent): Promise<AlarmOutcome> };
  readonly log?: (message: string, detail: Record<string, unknown>) => void;
}

/** What the handler returns (and logs). */
export interface ControlResultSummary {
  readonly alarm: string;
  readonly rolledBack: boolean;
  readonly phase: string;
  readonly skipped?: string;
}

/** Builds the handler. A malformed event throws `InvalidAlarmEventError` (the invocation fails, to the DLQ). */
export function makeControlHandler(deps: ControlDeps): (event: unknown) => Promise<ControlResultSummary> {
  return async (event) => {
    const alarm = parseAlarmEvent(event);
    const outcome = await deps.plane.onAlarm(alarm);
    const summary: ControlResultSummary = {
      alarm: alarm.alarmName,
      rolledBack: outcome.rolledBack,
      phase: outcome.state.phase,
      ...(outcome.skipped ? { skipped: outcome.skipped } : {}),
    };
    deps.log?.(outcome.rolledBack ? 'alarm rolled the migration back' : 'alarm changed nothing', {
      ...summary,
    });
    return summary;
  };
}
