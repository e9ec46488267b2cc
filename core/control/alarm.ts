/**
 * The alarm events that may roll a migration back: CloudWatch's "CloudWatch Alarm State Change"
 * events as EventBridge delivers them to the `control` Lambda, and the same shape built by local
 * mode's watcher. Parsing is strict: an event that is not an alarm state change is refused with
 * `InvalidAlarmEventError` (the Lambda's failure lands in its dead-letter queue with the reason).
 */
import { DualReadError } from '../common';
import type { AlarmEvent } from './phase-machine';

/** The event is not a CloudWatch alarm state change the control Lambda understands. */
export class InvalidAlarmEventError extends DualReadError {}

/** The detail type of CloudWatch alarm events on EventBridge. */
export const ALARM_DETAIL_TYPE = 'CloudWatch Alarm State Change';

/** Reads an EventBridge CloudWatch alarm event (or an `AlarmEvent` as is). @throws InvalidAlarmEventError */
export function parseAlarmEvent(event: unknown): AlarmEvent {
  const e = (event ?? {}) as Record<string, unknown>;
  if (typeof e.alarmName === 'string' && typeof e.state === 'string' && typeof e.at === 'number')
    return {
      alarmName: e.alarmName,
      state: e.state,
      at: e.at,
      ...(typeof e.reason === 'string' ? { reason: e.reason } : {}),
    };
  const detail = (e.detail ?? {}) as Record<string, unknown>;
  const state = (detail.state ?? {}) as Record<string, unknown>;
  if (
    e.source !== 'aws.cloudwatch' ||
    e['detail-type'] !== ALARM_DETAIL_TYPE ||
    typeof detail.alarmName !== 'string' ||
    typeof state.value !== 'string'
  )
    throw new InvalidAlarmEventError(
      `expected an EventBridge "${ALARM_DETAIL_TYPE}" event from aws.cloudwatch with detail.alarmName and detail.state.value; ` +
        `got source ${String(e.source)}, detail-type ${String(e['detail-type'])}: check the rule's event pattern`,
    );
  const at = Date.parse(typeof state.timestamp === 'string' ? state.timestamp : String(e.time));
  return {
    alarmName: detail.alarmName,
    state: state.value,
    at: Number.isFinite(at) ? at : 0,
    ...(typeof state.reason === 'string' ? { reason: state.reason } : {}),
  };
}
