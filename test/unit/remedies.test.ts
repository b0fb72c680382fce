import * as assert from 'node:assert/strict';
import { GitError, RollbackError, StepDbError, StepFieldError } from '../../src/core/errors';
import { remediesOf } from '../../src/core/remedies';

const actions = (err: unknown) => remediesOf(err).map((r) => (r.setting ? `${r.action}:${r.setting}` : r.action));

describe('remedies: a failure\'s code chooses what the user is offered', () => {
  it('offers to install git when git is missing, and to open a folder when there is no repository', () => {
    assert.deepEqual(actions(new GitError('GIT_MISSING', 'Git is not installed.')), ['installGit', 'showLog']);
    assert.deepEqual(actions(new GitError('NOT_A_REPOSITORY', 'No repository.')), ['openFolder', 'showLog']);
    assert.deepEqual(actions(new GitError('REPOSITORY_MISSING', 'Moved.')), ['openFolder', 'showLog']);
    assert.deepEqual(actions(new GitError('UNKNOWN_COMMIT', 'Commit abc1234 is not in this repository.')), ['showLog']);
  });

  it('offers the size setting for a database over the limit, and another file for one that is not a step database', () => {
    assert.deepEqual(actions(new StepDbError('TOO_LARGE', 'Too large.')), ['openSettings:stepHistory.maxDatabaseSizeMb', 'showLog']);
    for (const code of ['NOT_SQLITE', 'UNSUPPORTED_SCHEMA', 'FILE_MISSING'] as const) {
      assert.deepEqual(actions(new StepDbError(code, 'No.')), ['openDatabase', 'showLog'], code);
    }
    assert.deepEqual(actions(new StepDbError('CORRUPT', 'Damaged.')), ['showLog']);
  });

  it('reads a rollback\'s refusals: no repository or no git is the user\'s to fix, with its action', () => {
    assert.deepEqual(actions(new RollbackError('REFUSED', 'No repository.', undefined, undefined, ['NOT_A_REPOSITORY', 'STEP_RUNNING'])), ['openFolder', 'showLog']);
    assert.deepEqual(actions(new RollbackError('REFUSED', 'No git.', undefined, undefined, ['GIT_MISSING'])), ['installGit', 'showLog']);
    assert.deepEqual(actions(new RollbackError('NEW_WORK', 'New work.')), ['showLog']);
  });

  it('always ends with Show Log, even for what it does not know', () => {
    assert.deepEqual(actions(new Error('boom')), ['showLog']);
    assert.deepEqual(actions(new StepFieldError(3, 'commitAfter', 'S3 has no commit after.')), ['showLog']);
    assert.deepEqual(actions('a string'), ['showLog']);
  });
});
