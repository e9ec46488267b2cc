/**
 * Prints one plain closing line, `tests: N passed, N failed, N skipped`, after jest's own summary so
 * CI can read the counts without parsing jest's format.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    process.stderr.write(
      `\ntests: ${results.numPassedTests} passed, ${results.numFailedTests + results.numRuntimeErrorTestSuites} failed, ${skipped} skipped\n`,
    );
  }
}

module.exports = SummaryReporter;
