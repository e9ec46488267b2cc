/**
 * Fault matrix, transient call failures, all in one walk: ProvisionedThroughputExceededException on
 * the new table, ThrottlingException on the control table and the Streams API, HTTP 500 and 503,
 * request timeouts and connection resets on every new, control and streams call. The SDK retries them;
 * what outlasts its retries is retried by the state machines, the poller or the tracker, or
 * dead-lettered with its reason and replayed. Nothing is lost, no read is answered with an error while
 * legacy is healthy, and every invariant holds.
 */
import type { RehearsalReport } from '../../../local/rehearsal/recorder';
import { failedChecks, faultRehearsal } from '../../helpers/fault-rehearsal';

jest.setTimeout(300_000);

const THROTTLES = ['new-throttle', 'control-throttle', 'streams-throttle'];
const NETWORK = ['server-errors', 'unavailable', 'timeouts', 'connection-resets'];

describe('Fault matrix: throttles, server errors, timeouts, resets', () => {
  let report: RehearsalReport;

  beforeAll(async () => {
    report = await faultRehearsal({ names: [...THROTTLES, ...NETWORK], rate: 0.03 }, 12);
  });

  it('injected every fault and the SDK retried them', () => {
    const f = report.faults;
    expect(f?.faults.map((r) => r.name)).toEqual([...THROTTLES, ...NETWORK]);
    for (const row of f?.faults ?? []) expect(row.injected).toBeGreaterThan(0);
    expect(f?.answers.sdkRetries).toBeGreaterThan(0);
  });

  it('passed every invariant under the faults', () => {
    expect(failedChecks(report)).toEqual([]);
    expect(report.passed).toBe(true);
    expect(Object.values(report.faults?.verdicts ?? {}).every(Boolean)).toBe(true);
  });

  it('answered no read with an error (legacy was healthy)', () => {
    const a = report.faults?.answers;
    expect({ errors: a?.readErrors, samples: a?.readErrorSamples }).toEqual({ errors: 0, samples: [] });
  });

  it('gave every dead letter its reason, replayed them all, and left nothing dead-lettered', () => {
    const a = report.faults?.answers;
    expect(a?.stillDeadLettered).toBe(0);
    expect(a?.replayed).toBe(a?.deadLetters);
    for (const reason of Object.keys(a?.deadLetterReasons ?? {}))
      expect(reason).toMatch(
        /^(InternalServerError|ServiceUnavailable|TimeoutError|\w+Error|\w+Exception): /,
      );
  });
});
