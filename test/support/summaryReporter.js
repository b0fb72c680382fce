// mocha's spec reporter plus one closing line, "<suite>: N passed, N failed[, N skipped]",
// that CI reads. A run that executed no test fails.
const Mocha = require('mocha');

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const suite = (options.reporterOptions && options.reporterOptions.suite) || 'unit';
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const { passes, failures, pending, tests } = this.stats;
      const skipped = pending ? `, ${pending} skipped` : '';
      process.stdout.write(`\n${suite}: ${passes} passed, ${failures} failed${skipped}\n`);
      if (tests === 0 && failures === 0) {
        process.stdout.write(`${suite}: no test ran\n`);
        process.exitCode = 1;
      }
    });
  }
}

module.exports = SummaryReporter;
