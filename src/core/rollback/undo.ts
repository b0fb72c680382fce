/**
 * Going back: undoing a finished rollback, or reverting one stopped in any phase. Both put the
 * branch, the stashed work and the steps back as they were, journaled as they go, and release
 * the states the rollback kept.
 */
import * as l10n from '@vscode/l10n';
import { inspectDatabase, refusalError, restoreKeptFile, sha256, writeStepsActive } from '../databaseFile';
import { GitError } from '../errors';
import { GitRepository } from '../git';
import { silentLogger, type Logger } from '../log';
import { failures } from '../messages';
import { releaseRollbackStates } from '../rollbackRetention';
import { StepStore } from '../stepStore';
import {
  adoptInterruptedStash,
  dbWriteOptions,
  ensureDatabasePresent,
  keepProtected,
  projectRows,
  restoreProtected,
  type ExecuteOptions,
  type RollbackResult,
} from './execute';
import { keptFolder, readJournals, saveJournal, type RollbackJournal } from './journal';
import type { PlanStore } from './plan';
import { describeStepIds, projectName, short } from './words';
import { hasWorkAtRisk, onDisk, pathsToStash, ProtectedPaths, readWorkAtRisk } from './workTree';

/** Puts the task database back as it was before the rollback, if it is still the restored copy. */
function putBackTaskDatabase(journal: RollbackJournal, log: Logger, warnings: string[]): void {
  const tasks = journal.tasks;
  if (!tasks?.kept || !tasks.backupSha256) return;
  const outcome = restoreKeptFile(tasks.kept, (current) => sha256(current) === tasks.backupSha256);
  if (outcome === 'restored') log.info(`[rollback] put back ${tasks.current} from ${tasks.kept.copy}`);
  if (outcome === 'changed-since') {
    const warning = l10n.t('{0} changed since the rollback restored it; it was left as it is, and the task database from before the rollback is at {1}.', tasks.current, tasks.kept.copy);
    log.warn(`[rollback] ${warning}`);
    warnings.push(warning);
  }
}

export async function revertRollback(journal: RollbackJournal, options: ExecuteOptions): Promise<RollbackResult> {
  return restore(journal, options, 'revert');
}

export async function undoRollback(journal: RollbackJournal, options: ExecuteOptions): Promise<RollbackResult> {
  return restore(journal, options, 'undo');
}

/**
 * Puts the branch, the stashed work and the steps back as they were before the rollback.
 * Undo needs a finished rollback and refuses NEW_WORK when anything happened on top; revert
 * takes a rollback stopped in any phase. Its own progress is journaled, so an undo stopped
 * anywhere is taken up again where it stopped.
 */
async function restore(given: RollbackJournal, options: ExecuteOptions, kind: 'undo' | 'revert'): Promise<RollbackResult> {
  const log = options.log ?? silentLogger;
  const journal = (await readJournals(options.journalDir, log)).find((j) => j.id === given.id) ?? given;
  if (journal.phase === 'undone') throw failures.alreadyUndone({});
  if (kind === 'undo' && journal.phase !== 'done') throw failures.undoUnfinished({});
  const progress = (message: string) => {
    log.info(`[rollback] ${message}`);
    options.onProgress?.(message);
  };
  const { backupRef } = journal;
  const save = () => saveJournal(options.journalDir, journal, log);
  const warnings: string[] = [];
  let stashFailed = false;

  const repo = await GitRepository.open(journal.target.repositoryPath, { log });
  const guard = new ProtectedPaths(repo.root, journal.target.dbPath, options.journalDir);
  if (journal.phase === 'planned') await adoptInterruptedStash(journal, repo, options.journalDir, log);
  // What an interrupted rollback or undo overwrote goes back first.
  if (journal.phase !== 'done') await restoreProtected(repo, journal.kept, log, warnings);
  await restoreProtected(repo, journal.restoring?.kept, log, warnings);
  await ensureDatabasePresent(journal, repo, log);

  const head = await repo.head();
  if (head.detached || head.branch !== journal.branch) {
    throw failures.branchNotCheckedOutToRestore({ branch: journal.branch, headBranch: head.branch, kind });
  }
  const backup = (await repo.refTarget(journal.backupRef)) ?? journal.oldHead;
  const gitReset = head.sha === journal.resetTo && journal.resetTo !== journal.oldHead;
  if (!gitReset && head.sha !== journal.oldHead && journal.resetTo !== journal.oldHead) {
    if (kind === 'undo') throw failures.branchMovedOn({ branch: journal.branch, head: short(head.sha), resetTo: short(journal.resetTo), backupRef });
    throw failures.branchLeftElsewhere({ branch: journal.branch, head: short(head.sha) });
  }

  // Nothing may be lost going back: no uncommitted changes, nothing the backup's tree or the
  // stash's untracked files would overwrite.
  const work = gitReset ? await readWorkAtRisk(repo, backup, guard) : undefined;
  if (work && hasWorkAtRisk(work)) {
    throw failures.changesSinceRollback({ count: pathsToStash(work).length, backupRef });
  }
  const stash = journal.stashRef ? ((await repo.refTarget(journal.stashRef)) ?? journal.stashCommit ?? null) : null;
  const stashApplied = journal.restoring?.stage === 'stash-applied';
  if (stash && !stashApplied) {
    const stashedUntracked = ((await repo.treePaths(stash, 3)) ?? []).filter((p) => !guard.has(p));
    // A tracked file the reset to the backup removes is no obstacle; anything else in the way is.
    const [tracked, backupTree] = gitReset ? await Promise.all([repo.indexPaths(), repo.treePaths(backup)]) : [[], []];
    const removedByReset = new Set(tracked);
    for (const p of backupTree ?? []) removedByReset.delete(p);
    const present = stashedUntracked.filter((p) => !removedByReset.has(p) && onDisk(repo.root, p));
    if (present.length > 0) throw failures.stashedFilesBack({ files: present, backupRef });
  }

  // The steps: undo only when no newer step of the project became active since.
  // The database as the store worker read it when the caller has it, else the file opened for this.
  const store: PlanStore = options.store ?? (await StepStore.open(journal.target.dbPath, { wasmPath: options.wasmPath, log }));
  let dbToRestore = false;
  try {
    const steps = await store.steps(journal.target.projectId, { limit: (await store.stepCount(journal.target.projectId)) + 1 });
    const ids = new Set(journal.stepIds);
    const first = Math.min(...journal.stepIds);
    const newer = steps.filter((s) => s.active && s.id > first && !ids.has(s.id));
    if (kind === 'undo' && newer.length > 0) {
      throw failures.newStepsSinceRollback({ count: newer.length, steps: describeStepIds(newer.map((s) => s.id)), backupRef });
    }
    dbToRestore = steps.some((s) => ids.has(s.id) && !s.active);
  } finally {
    if (store instanceof StepStore && store !== options.store) store.close();
  }
  if (dbToRestore) {
    const state = inspectDatabase(journal.target.dbPath, { holders: options.holders, assumeNoWriter: journal.assumeNoWriter });
    if (state.refusal) throw refusalError(state.refusal);
  }

  try {
    if (gitReset) {
      journal.restoring = { kind, stage: 'started', kept: [] };
      if (work && work.protectedTouched.length > 0) {
        journal.restoring.kept = keepProtected(repo.root, work.protectedTouched, keptFolder(options.journalDir, journal.id), kind);
      }
      save();
      await options.onStep?.('undo-files-kept');
      progress(l10n.t({ message: 'Moving {0} back to {1}…', args: [journal.branch, short(backup)], comment: '{0} a branch, {1} a commit' }));
      await repo.resetHard(backup, journal.branch);
      await options.onStep?.('undo-branch-reset');
      await restoreProtected(repo, journal.restoring.kept, log, warnings);
      journal.restoring.stage = 'reset';
      save();
      await options.onStep?.('undo-files-restored');
    }
    if (stash && !stashApplied) {
      progress(l10n.t('Re-applying the stashed work…'));
      try {
        await repo.stashApply(stash);
      } catch (err) {
        if (!(err instanceof GitError)) throw err;
        stashFailed = true;
        const warning = l10n.t({
          message: 'The stashed work did not apply cleanly ({0}); it is kept under {1}: run "git stash apply --index {1}" after resolving.',
          args: [err.message, String(journal.stashRef)],
          comment: "{0} git's error, {1} the git ref that keeps the stash; the command stays as it is",
        });
        log.warn(`[rollback] ${warning}\n${err.detail ?? ''}`);
        warnings.push(warning);
      }
      journal.restoring = { kind, kept: journal.restoring?.kept ?? [], stage: 'stash-applied' };
      save();
      await options.onStep?.('undo-stash-applied');
    }
    putBackTaskDatabase(journal, log, warnings);
    if (dbToRestore) {
      progress(l10n.t({ message: 'Marking {0} active again…', args: [describeStepIds(journal.stepIds)], comment: '{0} the steps (S12–S14)' }));
      const result = await writeStepsActive(journal.target.dbPath, projectRows(journal, true), dbWriteOptions(journal, options, log));
      journal.writtenDatabase = result.stamp;
    }
  } catch (err) {
    journal.lastError = err instanceof Error ? err.message : String(err);
    save();
    throw err;
  }
  journal.phase = 'undone';
  delete journal.lastError;
  delete journal.restoring;
  save();
  const copiesLeft = warnings.some((w) => w.includes(keptFolder(options.journalDir, journal.id)));
  await releaseRollbackStates(journal, { log, keepStash: stashFailed, journalDir: options.journalDir, keepCopies: copiesLeft });
  const message = restoredSentence(kind, {
    project: projectName(journal.target.projectId),
    step: journal.stepLabel,
    branch: journal.branch,
    at: short(backup),
    steps: dbToRestore ? describeStepIds(journal.stepIds) : null,
    reapplied: !!stash && warnings.length === 0,
  });
  log.info(`[rollback] ${message}`);
  return { journal, message, warnings };
}

/**
 * What an undo or a revert says when it is done: `Undid the rollback of ledgerline to before
 * S12: main is back at 1a2b3c4 and S12–S14 are active again.` One whole sentence for each
 * kind, with or without the steps marked active and the stash re-applied.
 */
function restoredSentence(
  kind: 'undo' | 'revert',
  s: { project: string; step: string; branch: string; at: string; steps: string | null; reapplied: boolean },
): string {
  const { project, step, branch, at, steps } = s;
  if (kind === 'undo') {
    if (steps === null) {
      return s.reapplied
        ? l10n.t({ message: 'Undid the rollback of {0} to before {1}: {2} is back at {3}, with the stashed work re-applied.', args: [project, step, branch, at], comment: '{0} a project, {1} a step label (S12), {2} a branch, {3} a commit' })
        : l10n.t({ message: 'Undid the rollback of {0} to before {1}: {2} is back at {3}.', args: [project, step, branch, at], comment: '{0} a project, {1} a step label (S12), {2} a branch, {3} a commit' });
    }
    return s.reapplied
      ? l10n.t({ message: 'Undid the rollback of {0} to before {1}: {2} is back at {3} and {4} are active again, with the stashed work re-applied.', args: [project, step, branch, at, steps], comment: '{0} a project, {1} a step label (S12), {2} a branch, {3} a commit, {4} the steps (S12–S14)' })
      : l10n.t({ message: 'Undid the rollback of {0} to before {1}: {2} is back at {3} and {4} are active again.', args: [project, step, branch, at, steps], comment: '{0} a project, {1} a step label (S12), {2} a branch, {3} a commit, {4} the steps (S12–S14)' });
  }
  if (steps === null) {
    return s.reapplied
      ? l10n.t({ message: 'Reverted the rollback of {0} to before {1}: {2} is back at {3}, with the stashed work re-applied.', args: [project, step, branch, at], comment: '{0} a project, {1} a step label (S12), {2} a branch, {3} a commit' })
      : l10n.t({ message: 'Reverted the rollback of {0} to before {1}: {2} is back at {3}.', args: [project, step, branch, at], comment: '{0} a project, {1} a step label (S12), {2} a branch, {3} a commit' });
  }
  return s.reapplied
    ? l10n.t({ message: 'Reverted the rollback of {0} to before {1}: {2} is back at {3} and {4} are active again, with the stashed work re-applied.', args: [project, step, branch, at, steps], comment: '{0} a project, {1} a step label (S12), {2} a branch, {3} a commit, {4} the steps (S12–S14)' })
    : l10n.t({ message: 'Reverted the rollback of {0} to before {1}: {2} is back at {3} and {4} are active again.', args: [project, step, branch, at, steps], comment: '{0} a project, {1} a step label (S12), {2} a branch, {3} a commit, {4} the steps (S12–S14)' });
}
