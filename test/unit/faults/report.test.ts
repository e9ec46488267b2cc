/**
 * The fault table in the terminal summary and the HTML report: every fault with its count, the system's
 * answers, the verdicts, and what the run could not judge; absent without faults.
 */
import type { FaultReport } from '../../../local/faults';
import { htmlReport } from '../../../local/rehearsal/html';
import { summary } from '../../../local/rehearsal/summary';
import { reportFixture } from '../rehearsal/report-fixture';

const faults: FaultReport = {
  faults: [
    { name: 'new-outage', description: 'every call to the new table fails', injected: 45 },
    { name: 'timeouts', description: 'request timeouts', injected: 7 },
  ],
  rate: 0.05,
  seed: 3,
  answers: {
    sdkRetries: 120,
    byRole: { new: { requests: 900, attempts: 1000, surfaced: 12 } },
    deadLetters: 2,
    deadLetterReasons: { 'ServiceUnavailable: Service unavailable': 2 },
    replayed: 2,
    stillDeadLettered: 0,
    replayFailures: 0,
    breakerOpenings: 1,
    fallbacksToLegacy: 8,
    routedAroundNew: 67,
    readStoreFailures: { new: 32 },
    readErrors: 0,
    readErrorSamples: [],
    trackerErrors: 3,
    pollerErrors: 1,
    processes: [
      {
        process: 'tracker',
        kills: 2,
        restarts: 2,
        events: [{ incarnation: 1, atMs: 900, call: 'streams GetRecords' }],
      },
    ],
    resumes: [],
    windows: [{ fault: 'new-outage', openedAtMs: 55_000, forMs: 6_000 }],
  },
  verdicts: { convergence: true, 'every-read-answered': false },
  voided: ['the outage window never opened'],
};

describe('Fault table', () => {
  it('is in the summary with counts, answers, verdicts and what was not judged', () => {
    const text = summary({ ...reportFixture(), faults });
    expect(text).toMatch(/faults \(rate 0\.05, seed 3\)/);
    expect(text).toMatch(/new-outage\s*│ 45/);
    expect(text).toMatch(/breaker openings\s*│ 1/);
    expect(text).toMatch(/ServiceUnavailable: Service unavailable: 2/);
    expect(text).toMatch(/convergence passed, every-read-answered FAILED/);
    expect(text).toMatch(/not judged: the outage window never opened/);
    expect(text).toMatch(/new-outage at 55\.0 s for 6000 ms/);
  });

  it('is in the HTML report, and neither shows one without faults', () => {
    const html = htmlReport({ ...reportFixture(), faults });
    expect(html).toContain('<table id="faults">');
    expect(html).toContain('<td>timeouts</td><td>7</td>');
    expect(htmlReport(reportFixture())).not.toContain('id="faults"');
    expect(summary(reportFixture())).not.toMatch(/faults \(rate/);
  });
});
