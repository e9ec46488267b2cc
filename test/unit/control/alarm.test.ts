import { InvalidAlarmEventError, parseAlarmEvent } from '../../../core/control';

describe('Function: parseAlarmEvent', () => {
  it('reads an EventBridge CloudWatch alarm state change', () => {
    expect(
      parseAlarmEvent({
        source: 'aws.cloudwatch',
        'detail-type': 'CloudWatch Alarm State Change',
        time: '2026-12-04T12:00:00Z',
        detail: {
          alarmName: 'a',
          state: { value: 'ALARM', reason: 'r', timestamp: '2026-12-04T11:59:30.000+0000' },
        },
      }),
    ).toEqual({ alarmName: 'a', state: 'ALARM', reason: 'r', at: Date.parse('2026-12-04T11:59:30Z') });
  });

  it('takes an AlarmEvent as is (local mode)', () => {
    expect(parseAlarmEvent({ alarmName: 'late-records', state: 'ALARM', at: 5 })).toEqual({
      alarmName: 'late-records',
      state: 'ALARM',
      at: 5,
    });
  });

  it.each([
    undefined,
    {},
    { source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change', detail: {} },
  ])('refuses %p with a named error saying what was expected', (event) => {
    expect(() => parseAlarmEvent(event)).toThrow(InvalidAlarmEventError);
    expect(() => parseAlarmEvent(event)).toThrow(/check the rule's event pattern/);
  });
});
