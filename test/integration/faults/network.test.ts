/**
 * Fault matrix, network and server faults: HTTP 500 and 503, request timeouts and connection resets on
 * every new, control and streams call, for the whole walk. Nothing is lost: dead-lettered records carry
 * their reason and converge after the replay; no read is answered with an error while legacy is healthy.
 */
import type { RehearsalReport } from '../../../local/rehearsal/recorder';
import { failedChecks, faultRehearsal } from '../../helpers/fault-rehearsal';

jest.setTimeout(300_000);

describe('Fault matrix: server errors, timeouts, resets', () => {
  let report: RehearsalReport;

  beforeAll(async () => {
    report = await faultRehearsal(
      { names: ['server-errors', 'unavailable', 'timeouts', 'connection-resets'], rate: 0.03 },
      12,
    );
  });

  it('injected every fault and the SDK retried them', () => {
    for (const row of report.faults?.faults ?? []) expect(row.injected).toBeGreaterThan(0);
    expect(report.faults?.faults).toHaveLength(4);
    expect(report.faults?.answers.sdkRetries).toBeGreaterThan(0);
  });

  it('passed every invariant under the faults', () => {
    expect(failedChecks(report)).toEqual([]);
    expect(report.passed).toBe(true);
  });

  it('answered no read with an error, and every dead letter has its reason and was replayed', () => {
    const a = report.faults?.answers;
    expect({ errors: a?.readErrors, samples: a?.readErrorSamples }).toEqual({ errors: 0, samples: [] });
    expect(a?.stillDeadLettered).toBe(0);
    expect(a?.replayed).toBe(a?.deadLetters);
    for (const reason of Object.keys(a?.deadLetterReasons ?? {}))
      expect(reason).toMatch(
        /^(InternalServerError|ServiceUnavailable|TimeoutError|\w+Error|\w+Exception): /,
      );
  });
});
