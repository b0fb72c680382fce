/**
 * The sentences of rollback and undo: the errors that refuse or stop them (`rollbackFailures`,
 * one maker each, named for what happened), and the refusals a plan lists
 * (`rollbackRefusals`), each with what the user can do about it.
 *
 * A refusal is not an error: a plan carries it, the editor and the command line show it, and
 * an error made from it (`planRefused`, `databaseBusy`, …) takes its sentence and its remedy
 * as they were made.
 */
import * as l10n from '@vscode/l10n';
import type { DatabaseRefusal } from '../databaseFile';
import type { RollbackRefusal } from '../rollback/plan';
import { rollback } from './make';

/** Where the user reads how many more refusals the plan has, after the first one's remedy. */
const withOthers = (remedy: string, others: number): string =>
  others === 0 ? remedy : others === 1 ? l10n.t('{0} (1 more reason in the plan.)', remedy) : l10n.t('{0} ({1} more reasons in the plan.)', remedy, others);

const seeTheLog = () => l10n.t('See the log for details.');
const checkOutTheBranch = () => l10n.t('Check out the branch the steps were made on, then roll back.');
const reviewAgain = () => l10n.t('Review the rollback again.');
const keepWorkFirst = (f: { backupRef: string }) => l10n.t('Commit or stash that work first; the state before the rollback stays under {0}.', f.backupRef);

export const rollbackFailures = {
  // Refused before anything changes
  noSuchStep: rollback<{ label: string; project: string }>(
    'REFUSED',
    (f) => l10n.t('There is no step {0} in project {1}.', f.label, f.project),
    () => l10n.t('Refresh the Steps view and pick a step from the list.'),
  ),
  /** The first of the plan's refusals, as the plan made it. */
  planRefused: rollback<{ message: string; remedy: string }>(
    'REFUSED',
    (f) => f.message,
    (f) => f.remedy,
  ),
  /** The first of the plan's refusals, and how many others it has. */
  planRefusedWithOthers: rollback<{ message: string; remedy: string; others: number }>(
    'REFUSED',
    (f) => f.message,
    (f) => withOthers(f.remedy, f.others),
  ),
  /** The command line's: the first refusal is one the user may override with `--assume-no-writer`. */
  planRefusedAssumeNoWriter: rollback<{ message: string; remedy: string; others: number }>(
    'REFUSED',
    (f) => f.message,
    (f) =>
      f.others === 0
        ? l10n.t('{0} If no agent is running, pass --assume-no-writer to go ahead.', f.remedy)
        : f.others === 1
          ? l10n.t('{0} If no agent is running, pass --assume-no-writer to go ahead. (1 more reason in the plan.)', f.remedy)
          : l10n.t('{0} If no agent is running, pass --assume-no-writer to go ahead. ({1} more reasons in the plan.)', f.remedy, f.others),
  ),
  /** A plan that would lose work, refused because the caller did not ask to keep it safe: `caller` says how to ask. */
  wouldLoseWork: rollback<{ label: string; caller: 'api' | 'cli' }>(
    'NEEDS_PROTECTION',
    (f) => l10n.t('Rolling back to {0} would lose uncommitted work or commits no step recorded, so nothing was changed.', f.label),
    (f) =>
      f.caller === 'cli'
        ? l10n.t('Pass --protect to keep them safe in a stash and a backup ref first.')
        : l10n.t('Pass protect: true to keep them safe in a stash and a backup ref first.'),
  ),
  workAtRisk: rollback<Record<string, never>>(
    'NEEDS_PROTECTION',
    () => l10n.t('The work tree has uncommitted changes, or the branch has commits no step made, that a rollback would discard.'),
    () => l10n.t('Choose to keep them safe first (a stash and a backup ref), or commit or move them, then roll back.'),
  ),
  mergeConflicts: rollback<{ files: readonly string[] }>(
    'REFUSED',
    (f) =>
      f.files.length === 1
        ? l10n.t('1 file has unresolved merge conflicts ({0}).', f.files[0])
        : l10n.t('{0} files have unresolved merge conflicts ({1}).', f.files.length, f.files.slice(0, 3).join(', ')),
    () => l10n.t('Resolve or abort the merge first, then roll back.'),
  ),
  renameWithIgnored: rollback<{ files: readonly string[] }>(
    'REFUSED',
    (f) => l10n.t('The index holds a rename or deletion, and the reset would overwrite ignored files ({0}).', f.files.slice(0, 3).join(', ')),
    () => l10n.t('Commit or unstage the rename or deletion, or move those ignored files elsewhere, then roll back.'),
  ),
  rollbackUnderWay: rollback<Record<string, never>>(
    'REFUSED',
    () => l10n.t('Another rollback or undo is under way.'),
    () => l10n.t('Wait for it to finish, then try again.'),
  ),
  restrictedMode: rollback<Record<string, never>>(
    'REFUSED',
    () => l10n.t('Roll back and undo are unavailable in Restricted Mode.'),
    () => l10n.t('Trust this workspace to use them.'),
  ),
  /** The editor's API named a database (by id or path; null: neither) it has not opened. */
  notOpenedForRollback: rollback<{ database: string | null }>(
    'REFUSED',
    (f) =>
      f.database === null
        ? l10n.t('Step History has not opened the step database (none named).')
        : l10n.t('Step History has not opened the step database {0}.', f.database),
    () => l10n.t('Open it with Open Step Database… first.'),
  ),

  // The step database and the task database
  /** A DATABASE_BUSY refusal (inspectDatabase), as it was made. */
  databaseBusy: rollback<{ message: string; remedy: string }>(
    'DATABASE_BUSY',
    (f) => f.message,
    (f) => f.remedy,
  ),
  /** A DATABASE_WAL_UNKNOWN refusal (inspectDatabase), as it was made. */
  databaseWalUnknown: rollback<{ message: string; remedy: string }>(
    'DATABASE_WAL_UNKNOWN',
    (f) => f.message,
    (f) => f.remedy,
  ),
  /** `name`: the database file's name. */
  databaseChanged: rollback<{ name: string }>(
    'DATABASE_CHANGED',
    (f) => l10n.t('The step database {0} changed since it was read: an agent wrote to it meanwhile.', f.name),
    () => l10n.t('Review the steps again and retry.'),
  ),
  databaseMissingNoCopy: rollback<{ path: string }>(
    'DATABASE_MISSING',
    (f) => l10n.t('The step database {0} is missing, and this rollback kept no copy of it.', f.path),
    () => l10n.t('Put the database file back (from a backup, or where the agent keeps it), then finish or revert the rollback.'),
  ),
  /** `name`: the task database file's name. */
  taskDatabaseWal: rollback<{ name: string }>(
    'DATABASE_BUSY',
    (f) => l10n.t('The task database {0} has a write-ahead log beside it that the restored copy would not match.', f.name),
    () => l10n.t('Open it once with SQLite (for example `sqlite3 tasks.db "PRAGMA wal_checkpoint(TRUNCATE)"`), then finish the rollback.'),
  ),
  keptCopyDamaged: rollback<{ path: string; copy: string }>(
    'WRITE_FAILED',
    (f) => l10n.t('The copy of {0} kept at {1} is damaged.', f.path, f.copy),
    seeTheLog,
  ),
  databaseNotReplaced: rollback<{ path: string }>(
    'WRITE_FAILED',
    (f) => l10n.t('Step History could not replace {0}.', f.path),
    () => l10n.t('Check that the file is not locked by another program.'),
  ),
  stepsNotUpdated: rollback<{ path: string }>(
    'WRITE_FAILED',
    (f) => l10n.t('Step History could not update the steps in {0}.', f.path),
    seeTheLog,
  ),
  notWrittenBeside: rollback<{ path: string }>(
    'WRITE_FAILED',
    (f) => l10n.t('Step History could not write beside {0}.', f.path),
    () => l10n.t('Check that the folder is writable and has free space.'),
  ),

  // The branch, while rolling back
  noBranchCheckedOut: rollback<Record<string, never>>(
    'BRANCH_MOVED',
    () => l10n.t('No branch is checked out.'),
    checkOutTheBranch,
  ),
  /** `was`: where the plan saw the branch; `headBranch` (null: detached) and `headAt`: HEAD now. */
  branchMovedSincePlan: rollback<{ branch: string; was: string; headBranch: string | null; headAt: string }>(
    'BRANCH_MOVED',
    (f) =>
      f.headBranch === null
        ? l10n.t('{0} moved since the rollback was planned: it was at {1}, HEAD is now detached at {2}.', f.branch, f.was, f.headAt)
        : l10n.t('{0} moved since the rollback was planned: it was at {1}, HEAD is now {2} at {3}.', f.branch, f.was, f.headBranch, f.headAt),
    reviewAgain,
  ),
  backupRefTaken: rollback<{ ref: string }>('WRITE_FAILED', (f) => l10n.t('{0} already points elsewhere.', f.ref), seeTheLog),
  /** Finishing a rollback: `headBranch` is what HEAD has checked out instead (null: detached). */
  branchNotCheckedOutToFinish: rollback<{ branch: string; headBranch: string | null }>(
    'BRANCH_MOVED',
    (f) =>
      f.headBranch === null
        ? l10n.t('{0} is no longer checked out (HEAD: detached).', f.branch)
        : l10n.t('{0} is no longer checked out (HEAD: {1}).', f.branch, f.headBranch),
    (f) => l10n.t('Check out {0}, then finish or revert the rollback.', f.branch),
  ),
  branchMovedSinceStart: rollback<{ branch: string; head: string; start: string }>(
    'BRANCH_MOVED',
    (f) => l10n.t('{0} moved to {1} since the rollback started at {2}.', f.branch, f.head, f.start),
    reviewAgain,
  ),

  // Going back: undo and revert
  alreadyReverted: rollback<Record<string, never>>('NOTHING_TO_UNDO', () => l10n.t('This rollback was already reverted.')),
  alreadyUndone: rollback<Record<string, never>>('NOTHING_TO_UNDO', () => l10n.t('This rollback was already undone.')),
  undoUnfinished: rollback<Record<string, never>>(
    'NOTHING_TO_UNDO',
    () => l10n.t('This rollback did not finish, so there is nothing to undo.'),
    () => l10n.t('Finish or revert it instead.'),
  ),
  /** The command line found no rollback to undo (of the repository `repo`, when named); `pending` stopped half-way. */
  noRollbackToUndo: rollback<{ repo: string | null; pending: number }>(
    'NOTHING_TO_UNDO',
    (f) => (f.repo === null ? l10n.t('There is no rollback to undo.') : l10n.t('There is no rollback of {0} to undo.', f.repo)),
    (f) =>
      f.pending === 0
        ? undefined
        : f.pending === 1
          ? l10n.t('A rollback stopped half-way: Step History in the editor offers to finish or revert it when it starts.')
          : l10n.t('{0} rollbacks stopped half-way: Step History in the editor offers to finish or revert them when it starts.', f.pending),
  ),
  /** Going back (`kind`) with `branch` not checked out: `headBranch` is instead (null: detached). */
  branchNotCheckedOutToRestore: rollback<{ branch: string; headBranch: string | null; kind: 'undo' | 'revert' }>(
    'BRANCH_MOVED',
    (f) =>
      f.headBranch === null
        ? l10n.t('{0} is not checked out (HEAD: detached).', f.branch)
        : l10n.t('{0} is not checked out (HEAD: {1}).', f.branch, f.headBranch),
    (f) => (f.kind === 'undo' ? l10n.t('Check out {0}, then undo the rollback.', f.branch) : l10n.t('Check out {0}, then revert the rollback.', f.branch)),
  ),
  branchLeftElsewhere: rollback<{ branch: string; head: string }>(
    'BRANCH_MOVED',
    (f) => l10n.t('{0} is at {1}, where the rollback did not leave it.', f.branch, f.head),
    () => l10n.t('Move it back by hand, or keep it as it is.'),
  ),
  branchMovedOn: rollback<{ branch: string; head: string; resetTo: string; backupRef: string }>(
    'NEW_WORK',
    (f) => l10n.t('{0} has moved on since the rollback: it is at {1}, not {2}.', f.branch, f.head, f.resetTo),
    keepWorkFirst,
  ),
  changesSinceRollback: rollback<{ count: number; backupRef: string }>(
    'NEW_WORK',
    (f) =>
      f.count === 1
        ? l10n.t('The work tree has 1 change made since the rollback that going back would overwrite.')
        : l10n.t('The work tree has {0} changes made since the rollback that going back would overwrite.', f.count),
    keepWorkFirst,
  ),
  stashedFilesBack: rollback<{ files: readonly string[]; backupRef: string }>(
    'NEW_WORK',
    (f) =>
      f.files.length === 1
        ? l10n.t('1 file kept in the stash now exists again in the work tree ({0}).', f.files[0])
        : l10n.t('{0} files kept in the stash now exist again in the work tree ({1}).', f.files.length, f.files.slice(0, 3).join(', ')),
    keepWorkFirst,
  ),
  /** `steps`: the new steps as a run of ids (describeStepIds). */
  newStepsSinceRollback: rollback<{ count: number; steps: string; backupRef: string }>(
    'NEW_WORK',
    (f) =>
      f.count === 1
        ? l10n.t('1 new step ({0}) was recorded since the rollback.', f.steps)
        : l10n.t('{0} new steps ({1}) were recorded since the rollback.', f.count, f.steps),
    keepWorkFirst,
  ),
};

/** What the sentences of a database refusal call the database (InspectOptions.what). */
type DatabaseKind = 'step database' | 'task database';

/**
 * The refusals a rollback plan lists, each with what the user can do. The database's come
 * from inspectDatabase (core/databaseFile.ts), for the step database or the task database.
 */
export const rollbackRefusals = {
  // The repository could not be opened (`where`: its folder, resolved)
  notARepository: (f: { where: string }): RollbackRefusal => ({
    code: 'NOT_A_REPOSITORY',
    message: l10n.t('{0} has no git repository, so Step History cannot roll back its steps.', f.where),
    remedy: l10n.t('Each step is a range of git commits: open the folder of the git repository the agent committed its steps in.'),
  }),
  repositoryMissing: (f: { where: string }): RollbackRefusal => ({
    code: 'REPOSITORY_MISSING',
    message: l10n.t('The repository folder {0} does not exist, so Step History cannot roll back its steps.', f.where),
    remedy: l10n.t('If the project was moved or renamed, open it where it is now.'),
  }),
  gitMissing: (): RollbackRefusal => ({
    code: 'GIT_MISSING',
    message: l10n.t('Git is not installed or not on PATH, so Step History cannot roll back its steps.'),
    remedy: l10n.t('Install git (or add it to PATH), then try again; the editor may need a restart to find it.'),
  }),

  // The steps
  stepNotActive: (f: { label: string }): RollbackRefusal => ({
    code: 'STEP_NOT_ACTIVE',
    message: l10n.t('{0} is already rolled back.', f.label),
    remedy: l10n.t('Pick an active step; rolled-back steps are dimmed in the Steps view.'),
  }),
  stepRunning: (f: { label: string }): RollbackRefusal => ({
    code: 'STEP_RUNNING',
    message: l10n.t('{0} is still running.', f.label),
    remedy: l10n.t('Wait for the step to finish (or stop the agent), then roll back.'),
  }),
  /** `value`: the stored commit before, quoted and cut short. */
  targetCommitInvalid: (f: { label: string; value: string }): RollbackRefusal => ({
    code: 'TARGET_COMMIT_INVALID',
    message: l10n.t("{0}'s commit before ({1}) is not a commit hash.", f.label, f.value),
    remedy: l10n.t('The database does not say where this step started; pick another step.'),
  }),
  targetCommitMissing: (f: { commit: string; label: string }): RollbackRefusal => ({
    code: 'TARGET_COMMIT_MISSING',
    message: l10n.t('Commit {0}, where {1} started, is not in this repository.', f.commit, f.label),
    remedy: l10n.t('Fetch the commit (or open the repository the steps were made in), then try again.'),
  }),

  // The branch
  detachedHead: (): RollbackRefusal => ({
    code: 'DETACHED_HEAD',
    message: l10n.t('HEAD is detached: no branch is checked out, so there is no branch to move.'),
    remedy: checkOutTheBranch(),
  }),
  notMainBranch: (f: { branch: string; mainBranch: string }): RollbackRefusal => ({
    code: 'NOT_MAIN_BRANCH',
    message: l10n.t("{0} is checked out, but this LaForge project merges its steps into {1} (its project.json's main_branch).", f.branch, f.mainBranch),
    remedy: l10n.t('Check out {0}, then roll back.', f.mainBranch),
  }),
  /**
   * HEAD (`branch`, null when none; `head`, its commit) does not descend from `commit`: the
   * last step's commit after when it descends from the target (`fromTarget`), else the target
   * step's (`label`) commit before.
   */
  headOffLine: (f: { branch: string | null; head: string; fromTarget: boolean; commit: string; label: string }): RollbackRefusal => ({
    code: 'HEAD_OFF_LINE',
    message: f.fromTarget
      ? l10n.t("{0} ({1}) is not on the line of these steps: it does not descend from the last step's commit {2}.", f.branch ?? 'HEAD', f.head, f.commit)
      : l10n.t("{0} ({1}) is not on the line of these steps: it does not descend from {2}'s commit before {3}.", f.branch ?? 'HEAD', f.head, f.label, f.commit),
    remedy: checkOutTheBranch(),
  }),

  // The database (`what`: the step database or the task database; `name`: its file's name)
  /** `holders`: the programs that have it open, each as "name (pid N)". */
  databaseHeld: (f: { what: DatabaseKind; holders: readonly string[] }): DatabaseRefusal => ({
    code: 'DATABASE_BUSY',
    message:
      f.what === 'task database'
        ? l10n.t('The task database is busy: another program has it open: {0}.', f.holders.join(', '))
        : l10n.t('The step database is busy: another program has it open: {0}.', f.holders.join(', ')),
    remedy: busyRemedy(),
  }),
  /** A hot `-journal`; `interrupted` when no program holds the database, so the transaction never ends by itself. */
  transactionOpen: (f: { what: DatabaseKind; name: string; interrupted: boolean }): DatabaseRefusal => ({
    code: 'DATABASE_BUSY',
    message:
      f.what === 'task database'
        ? l10n.t('The task database is busy: a transaction is in progress or was interrupted ({0}-journal exists).', f.name)
        : l10n.t('The step database is busy: a transaction is in progress or was interrupted ({0}-journal exists).', f.name),
    remedy: f.interrupted
      ? l10n.t(
          'No program has it open, so the transaction was interrupted: open the database once with SQLite (for example `sqlite3 steps.db "PRAGMA integrity_check"`), which rolls it back, then try again.',
        )
      : busyRemedy(),
    ...(f.interrupted ? { interrupted: true } : {}),
  }),
  walUnknown: (f: { what: DatabaseKind; name: string }): DatabaseRefusal => ({
    code: 'DATABASE_WAL_UNKNOWN',
    message:
      f.what === 'task database'
        ? l10n.t('The task database has a write-ahead log ({0}-wal or -shm), and this system cannot tell whether the program that wrote it still has it open.', f.name)
        : l10n.t('The step database has a write-ahead log ({0}-wal or -shm), and this system cannot tell whether the program that wrote it still has it open.', f.name),
    remedy: l10n.t(
      'If no agent is running, Step History can fold the log into the database file (a copy of the log is kept) and go ahead. If an agent is still writing, what it writes from then on could be lost: close it first.',
    ),
    overridable: true,
  }),
  walNotFolded: (f: { what: DatabaseKind; name: string }): DatabaseRefusal => ({
    code: 'DATABASE_BUSY',
    message:
      f.what === 'task database'
        ? l10n.t('The task database is busy: its write-ahead log ({0}-wal) holds transactions not yet written into the database file.', f.name)
        : l10n.t('The step database is busy: its write-ahead log ({0}-wal) holds transactions not yet written into the database file.', f.name),
    remedy: busyRemedy(),
  }),
};

function busyRemedy(): string {
  return l10n.t('Wait until the agent has finished writing (or close it), so that SQLite writes its log into the database file, then try again.');
}
