/**
 * Starts the files that walk a whole migration first. Jest orders files by their last durations, which
 * a fresh clone (CI) does not have; it then goes by file size, and these files are short, so they ran
 * last and the suite ended on one of them running alone while the other worker idled. Listed longest
 * first (minutes under load); every other file keeps Jest's order after them.
 */
const Sequencer = require('@jest/test-sequencer').default;

const LONG_FIRST = [
  'test/integration/faults/transient.test.ts',
  'test/integration/faults/outages.test.ts',
  'test/integration/faults/stream-trim.test.ts',
  'test/integration/faults/poison-skew.test.ts',
  'test/integration/rehearsal/rehearsal.test.ts',
  'test/integration/faults/processes.test.ts',
  'test/integration/cli/cutover.test.ts',
  'test/integration/backfill/convergence.test.ts',
  'test/integration/frontier/frontier.test.ts',
  'test/integration/cdc/poller-restart.test.ts',
];

class LongFirstSequencer extends Sequencer {
  async sort(tests) {
    const ordered = await super.sort(tests);
    const rank = (t) => {
      const i = LONG_FIRST.findIndex((p) => t.path.replace(/\\/g, '/').endsWith(p));
      return i < 0 ? LONG_FIRST.length : i;
    };
    // Array.prototype.sort is stable: files of equal rank keep Jest's order.
    return [...ordered].sort((a, b) => rank(a) - rank(b));
  }
}

module.exports = LongFirstSequencer;
