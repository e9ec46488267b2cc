/**
 * Fault matrix, throttles: ProvisionedThroughputExceededException on the new table, ThrottlingException
 * on the control table and on the Streams API, for the whole walk. The SDK retries them; what outlasts
 * its retries is retried by the state machines, the poller or the tracker, or dead-lettered with its
 * reason and replayed; every invariant holds.
 */
import type { RehearsalReport } from '../../../local/rehearsal/recorder';
import { failedChecks, faultRehearsal } from '../../helpers/fault-rehearsal';

jest.setTimeout(300_000);

describe('Fault matrix: throttles', () => {
  let report: RehearsalReport;

  beforeAll(async () => {
    report = await faultRehearsal({
      names: ['new-throttle', 'control-throttle', 'streams-throttle'],
      rate: 0.05,
    });
  });

  it('injected every fault and the SDK retried them', () => {
    const f = report.faults;
    expect(f?.faults.map((r) => r.name)).toEqual(['new-throttle', 'control-throttle', 'streams-throttle']);
    for (const row of f?.faults ?? []) expect(row.injected).toBeGreaterThan(0);
    expect(f?.answers.sdkRetries).toBeGreaterThan(0);
  });

  it('passed every invariant under the faults', () => {
    expect(failedChecks(report)).toEqual([]);
    expect(report.passed).toBe(true);
    expect(Object.values(report.faults?.verdicts ?? {}).every(Boolean)).toBe(true);
  });

  it('answered no read with an error (legacy was healthy) and left nothing dead-lettered', () => {
    const a = report.faults?.answers;
    expect({ errors: a?.readErrors, samples: a?.readErrorSamples }).toEqual({ errors: 0, samples: [] });
    expect(a?.stillDeadLettered).toBe(0);
    for (const reason of Object.keys(a?.deadLetterReasons ?? {})) expect(reason).toMatch(/\w+: /);
  });
});
