import * as assert from 'assert';
import { ApiError, describeError, GitError, isPassingState, logFailure, RollbackError, StepDbError, StepFieldError, StepLogError } from '../../src/core/errors';
import { recordingLogger } from '../fixtures/recordingLogger';

const STACK_FRAME = /\n\s+at /;

describe('describeError: the API\'s rejections are typed', () => {
  it('gives an ApiError\'s sentence, not "an unexpected error"', () => {
    const { message, detail } = describeError(new ApiError('UNKNOWN_DATABASE', 'Step History has no database /x/steps.db.', 'known: none'));
    assert.strictEqual(message, 'Step History has no database /x/steps.db.');
    assert.strictEqual(detail, 'known: none');
    assert.match(describeError(new Error('plain')).message, /unexpected error/);
  });
});

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

describe('isPassingState', () => {
  const refused = (...reasons: string[]) => new RollbackError('REFUSED', 'Refused.', 'Do this.', undefined, reasons);

  it('calls a refusal a passing state when each of its reasons ends by itself', () => {
    for (const reasons of [['STEP_RUNNING'], ['DATABASE_BUSY'], ['ROLLBACK_UNDER_WAY'], ['STEP_RUNNING', 'STEP_RUNNING', 'DATABASE_BUSY']]) {
      assert.strictEqual(isPassingState(refused(...reasons)), true, reasons.join(', '));
    }
    assert.strictEqual(isPassingState(new RollbackError('DATABASE_BUSY', 'The step database is busy: another program has it open.', undefined, undefined, ['DATABASE_BUSY'])), true);
  });

  it('calls it a failure when any reason needs the user to act', () => {
    for (const reasons of [
      ['STEP_RUNNING', 'NOT_A_REPOSITORY'],
      ['GIT_MISSING'],
      ['REPOSITORY_MISSING'],
      ['DATABASE_WAL_UNKNOWN'],
      ['HEAD_OFF_LINE'],
      ['DETACHED_HEAD', 'DATABASE_BUSY'],
      ['STEP_NOT_ACTIVE'],
    ]) {
      assert.strictEqual(isPassingState(refused(...reasons)), false, reasons.join(', '));
    }
  });

  it('calls every other error a failure: a rollback error without reasons, and the other typed errors', () => {
    for (const err of [
      new RollbackError('REFUSED', 'Refused.'),
      new RollbackError('DATABASE_BUSY', 'The task database has a write-ahead log beside it.'),
      new RollbackError('NEEDS_PROTECTION', 'Would lose work.'),
      new GitError('NOT_A_REPOSITORY', '/w is not inside a git work tree.'),
      new StepDbError('CHANGED_WHILE_READING', 'The database changed while it was read.'),
      new StepFieldError(2, 'commitAfter', 'S2 is still running and has no commit after yet.'),
      new StepLogError('READ_FAILED', 'The log could not be read.'),
      new Error('S2 is still running'),
      'S2 is still running',
      undefined,
    ]) {
      assert.strictEqual(isPassingState(err), false, String(err));
    }
  });

  it('is logged as one info line, not as an error', () => {
    const log = recordingLogger();
    logFailure(log, 'rollback', new RollbackError('REFUSED', 'S22 is still running.', 'Wait for the step to finish.', 'STEP_RUNNING: S22 is still running.', ['STEP_RUNNING']));
    assert.deepStrictEqual(log.lines, [{ level: 'info', message: 'rollback: S22 is still running. Wait for the step to finish.' }]);
  });
});
