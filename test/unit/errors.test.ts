import * as assert from 'assert';
import { GitError, logFailure, StepDbError, StepFieldError } from '../../src/core/errors';
import { recordingLogger } from '../fixtures/recordingLogger';

const STACK_FRAME = /\n\s+at /;

describe('logFailure', () => {
  it('logs an expected state of a step as one info line, without a stack', () => {
    const log = recordingLogger();
    logFailure(log, 'files of S2', new StepFieldError(2, 'commitAfter', 'S2 is still running and has no commit after yet.'), 'warn');
    assert.deepStrictEqual(log.lines, [{ level: 'info', message: 'files of S2: S2 is still running and has no commit after yet.' }]);
  });

  it('keeps that one line when the sentence quotes a stored value with line breaks', () => {
    const log = recordingLogger();
    logFailure(log, 'S3', new StepFieldError(3, 'commitAfter', 'S3 has no valid commit after: "a\nb" is not a commit hash.'));
    assert.strictEqual(log.lines.length, 1);
    assert.strictEqual(log.lines[0].level, 'info');
    assert.ok(!/[\r\n]/.test(log.lines[0].message), log.lines[0].message);
  });

  it('logs a typed failure at the level asked with its detail, and no stack when it carries none', () => {
    const log = recordingLogger();
    logFailure(log, 'files of S4', new GitError('GIT_FAILED', 'git could not list the files.', 'git diff\nfatal: bad object'), 'warn');
    logFailure(log, 'opening', new StepDbError('FILE_MISSING', 'The step database /w/steps.db does not exist.'));
    assert.deepStrictEqual(log.lines, [
      { level: 'warn', message: 'files of S4: git could not list the files.\ngit diff\nfatal: bad object' },
      { level: 'error', message: 'opening: The step database /w/steps.db does not exist.' },
    ]);
  });

  it('logs the unexpected as an error with its stack', () => {
    const log = recordingLogger();
    logFailure(log, 'listing', new TypeError('x is undefined'), 'warn');
    assert.strictEqual(log.lines.length, 1);
    assert.strictEqual(log.lines[0].level, 'error');
    assert.match(log.lines[0].message, /^listing: Step History hit an unexpected error\. See the log for details\.\nTypeError: x is undefined/);
    assert.match(log.lines[0].message, STACK_FRAME);
  });
});
