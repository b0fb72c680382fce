/**
 * Carrying out a rollback: the journaled phases from the backup ref and the stash through
 * git's reset to the database write, finished from its journal after a stop, and the step
 * database's files kept around the resets.
 */
import * as l10n from '@vscode/l10n';
import * as fs from 'fs';
import * as path from 'path';
import {
  databaseChanged,
  inspectDatabase,
  keepFile,
  readDatabaseStamp,
  refusalError,
  restoreKeptFile,
  sameDatabaseStamp,
  sha256,
  writeFileAtomic,
  writeStepsActive,
  type DatabaseStamp,
  type DatabaseWriteStep,
  type KeptFile,
  refusalReason,
} from '../databaseFile';
import { GitError } from '../errors';
import { GitRepository } from '../git';
import { silentLogger, type Logger } from '../log';
import { failures } from '../messages';
import { projectWhere } from '../projectKey';
import { keptFolder, newJournalId, readJournals, saveJournal, type JournalPhase, type RollbackJournal } from './journal';
import type { PlanOptions, RollbackPlan } from './plan';
import { describeStepIds, projectName, short } from './words';
import { hasWorkAtRisk, onDisk, pathsToStash, ProtectedPaths, readWorkAtRisk } from './workTree';

export interface ExecuteOptions extends PlanOptions {
  /** Folder for rollback journals (the extension's storage). */
  journalDir: string;
  /**
   * Required when the plan `needsProtection`: uncommitted and untracked work goes into a stash
   * kept under `refs/step-history/stash/<time>`, foreign commits stay reachable from the
   * backup ref. Without it such a plan is refused.
   */
  protect?: boolean;
  /**
   * The user chose to go ahead although this system cannot tell whether the program that left
   * the database's write-ahead log still has it open (a DATABASE_WAL_UNKNOWN refusal).
   */
  assumeNoWriter?: boolean;
  /** Also put the plan's `taskDatabase` backup in place of `tasks.db` (the current one is kept; undo puts it back). */
  restoreTasks?: boolean;
  /** Called as each phase starts, for a progress notification. */
  onProgress?: (message: string) => void;
  /**
   * Tests only: called after each phase is recorded in the journal. A throw here stops the
   * rollback as a crash would at that point.
   */
  afterPhase?: (phase: JournalPhase) => void | Promise<void>;
  /** Tests only: called at each file-system step inside a phase; a throw stops there as a crash would. */
  onStep?: (step: RollbackStep) => void | Promise<void>;
}

/** The file-system steps of a rollback or its undo, for fault injection. */
export type RollbackStep =
  | DatabaseWriteStep
  | 'stash-pushed'
  | 'files-kept'
  | 'branch-reset'
  | 'files-restored'
  | 'tasks-kept'
  | 'tasks-restored'
  | 'undo-files-kept'
  | 'undo-branch-reset'
  | 'undo-files-restored'
  | 'undo-stash-applied';

export interface RollbackResult {
  journal: RollbackJournal;
  /** One sentence for the result message. */
  message: string;
  /** Things the user should know that did not stop the operation (a stash that did not apply cleanly). */
  warnings: string[];
}

// ---------------------------------------------------------------------------------------
// The step database around git's resets

/** Copies the protected files a reset would touch into the journal's kept folder. */
export function keepProtected(root: string, rels: readonly string[], folder: string, tag: 'rollback' | 'undo' | 'revert'): KeptFile[] {
  const kept: KeptFile[] = [];
  rels.forEach((rel, i) => {
    const file = keepFile(path.join(root, rel), path.join(folder, `${tag}-${i}-${path.basename(rel)}`));
    if (file) kept.push(file);
  });
  return kept;
}

/**
 * Puts back the kept files a reset overwrote or deleted: a file is restored when it is
 * missing, or when its bytes are git's version of it at HEAD (the reset wrote them). A file
 * changed by anything else since is left alone and named in a warning, with its copy's place.
 */
export async function restoreProtected(repo: GitRepository, kept: readonly KeptFile[] | undefined, log: Logger, warnings: string[]): Promise<string[]> {
  const restored: string[] = [];
  if (!kept?.length) return restored;
  // The warnings name the copies left: those must outlive the journal's release.
  const head = (await repo.head()).sha;
  for (const file of kept) {
    const rel = path.relative(repo.root, file.path).split(path.sep).join('/');
    let gitVersion: Buffer | null = null;
    if (head && !rel.startsWith('..')) {
      gitVersion = await repo.fileAt(head, rel).catch((err) => {
        if (err instanceof GitError && err.code === 'NOT_IN_COMMIT') return null;
        throw err;
      });
    }
    const outcome = restoreKeptFile(file, (current) => gitVersion !== null && current.equals(gitVersion));
    if (outcome === 'restored') {
      restored.push(file.path);
      log.info(`[rollback] put back ${file.path} (${file.size} bytes) from ${file.copy}`);
    }
    if (outcome === 'changed-since') {
      const warning = l10n.t('{0} changed since Step History kept a copy of it; it was left as it is, and the copy is at {1}.', file.path, file.copy);
      log.warn(`[rollback] ${warning}`);
      warnings.push(warning);
    }
  }
  return restored;
}

/**
 * The database must exist before it is written. A rollback that kept it puts it back from
 * there; a stash made by an earlier version of Step History may hold it (and its `-wal`);
 * otherwise DATABASE_MISSING says so, naming where it was.
 */
export async function ensureDatabasePresent(journal: RollbackJournal, repo: GitRepository, log: Logger): Promise<void> {
  const dbPath = journal.target.dbPath;
  if (fs.existsSync(dbPath)) return;
  const copy = [...(journal.kept ?? []), ...(journal.restoring?.kept ?? [])].find((k) => k.path === dbPath && fs.existsSync(k.copy));
  if (copy) {
    restoreKeptFile(copy, () => false);
    log.info(`[rollback] the step database was missing; put back from ${copy.copy}`);
    return;
  }
  const stash = journal.stashCommit;
  const rel = path.relative(repo.root, dbPath).split(path.sep).join('/');
  if (stash && !rel.startsWith('..') && !path.isAbsolute(rel)) {
    const sources = [await repo.parentOf(stash, 3).catch(() => null), stash].filter((c): c is string => !!c);
    for (const source of sources) {
      const bytes = await repo.fileAt(source, rel).catch(() => null);
      if (!bytes) continue;
      for (const [suffix, data] of [['-wal', await repo.fileAt(source, rel + '-wal').catch(() => null)], ['', bytes]] as const) {
        if (data && !fs.existsSync(dbPath + suffix)) writeFileAtomic(dbPath + suffix, data, 0o644);
      }
      log.info(`[rollback] the step database was missing; put back from the stash ${journal.stashRef ?? stash}`);
      return;
    }
  }
  throw failures.databaseMissingNoCopy({ path: dbPath });
}

export function dbWriteOptions(journal: RollbackJournal, options: ExecuteOptions, log: Logger, expected?: DatabaseStamp) {
  const folder = keptFolder(options.journalDir, journal.id);
  return {
    expected,
    wasmPath: options.wasmPath,
    log,
    holders: options.holders,
    assumeNoWriter: journal.assumeNoWriter,
    keepWal: (walPath: string) => {
      const kept = keepFile(walPath, path.join(folder, `wal-${(journal.keptWal?.length ?? 0) + 1}-${path.basename(walPath)}`));
      if (kept) {
        (journal.keptWal ??= []).push(kept);
        saveJournal(options.journalDir, journal, log);
      }
      return kept;
    },
    onStep: options.onStep,
  };
}

/**
 * Puts LaForge's copy of its task database from before the step in place of `tasks.db`, as
 * LaForge's own rollback did, the current `tasks.db` kept first. Refused while a program holds
 * it or a write-ahead log lies beside it (its frames would land on the restored file).
 */
async function restoreTaskDatabase(journal: RollbackJournal, options: ExecuteOptions, log: Logger): Promise<void> {
  const tasks = journal.tasks!;
  const state = inspectDatabase(tasks.current, { holders: options.holders, what: 'task database' });
  if (state.refusal) throw refusalError(state.refusal);
  if (state.leftoverWal) {
    throw failures.taskDatabaseWal({ name: path.basename(tasks.current) });
  }
  log.info(`[rollback] restoring ${tasks.current} from ${tasks.backup}`);
  options.onProgress?.(l10n.t('Restoring {0} from {1}…', path.basename(tasks.current), path.basename(tasks.backup)));
  const backup = fs.readFileSync(tasks.backup);
  if (!tasks.kept) {
    const kept = keepFile(tasks.current, path.join(keptFolder(options.journalDir, journal.id), `tasks-${path.basename(tasks.current)}`));
    if (kept) tasks.kept = kept;
    tasks.backupSha256 = sha256(backup);
    saveJournal(options.journalDir, journal, log);
    await options.onStep?.('tasks-kept');
  }
  writeFileAtomic(tasks.current, backup, tasks.kept?.mode ?? 0o644);
  tasks.restored = true;
  saveJournal(options.journalDir, journal, log);
  await options.onStep?.('tasks-restored');
}

/** The journal's steps, picked by the same predicate the store lists a project's rows with, whatever project_id holds. */
export function projectRows(journal: RollbackJournal, active: boolean) {
  const project = projectWhere(journal.target.projectId);
  return { where: project.sql, params: project.params, ids: journal.stepIds, active, describe: describeStepIds(journal.stepIds) };
}

// ---------------------------------------------------------------------------------------
// Rollback

export async function executeRollback(plan: RollbackPlan, options: ExecuteOptions): Promise<RollbackResult> {
  const log = options.log ?? silentLogger;
  const { target } = plan;
  const refusals = plan.refusals.filter((r) => !(r.code === 'DATABASE_WAL_UNKNOWN' && options.assumeNoWriter));
  if (refusals.length > 0) {
    const first = refusals[0];
    throw failures.planRefused(
      { message: first.message, remedy: first.remedy },
      { detail: refusals.map((r) => r.code).join(', '), reasons: refusals.map(refusalReason) },
    );
  }
  if (plan.needsProtection && !options.protect) throw failures.workAtRisk({});
  if (!plan.branch || !plan.head || plan.detached) {
    throw failures.noBranchCheckedOut({});
  }

  const dbState = inspectDatabase(target.dbPath, options);
  if (dbState.refusal) throw refusalError(dbState.refusal);
  if (!sameDatabaseStamp(plan.database, readDatabaseStamp(target.dbPath))) throw databaseChanged(target.dbPath);

  const repo = await GitRepository.open(target.repositoryPath, { log });
  const head = await repo.head();
  if (head.detached || head.branch !== plan.branch || head.sha !== plan.head) {
    throw failures.branchMovedSincePlan({ branch: plan.branch, was: short(plan.head), headBranch: head.branch, headAt: short(head.sha) });
  }
  const work = await readWorkAtRisk(repo, plan.resetTo, new ProtectedPaths(repo.root, target.dbPath, options.journalDir));
  if (work.conflicted.length > 0) {
    throw failures.mergeConflicts({ files: work.conflicted });
  }
  if (!options.protect && hasWorkAtRisk(work)) throw failures.workAtRisk({});

  const id = newJournalId();
  const journal: RollbackJournal = {
    id,
    createdAt: new Date().toISOString(),
    updatedAt: '',
    phase: 'planned',
    target: { ...target, dbPath: path.resolve(target.dbPath), repositoryPath: path.resolve(target.repositoryPath) },
    stepLabel: plan.step.label,
    stepIds: plan.stepsToDeactivate.map((s) => s.id),
    branch: plan.branch,
    oldHead: plan.head,
    resetTo: plan.resetTo,
    backupRef: `refs/step-history/backup/${id}`,
    database: plan.database,
    protect: !!options.protect,
    ...(options.assumeNoWriter ? { assumeNoWriter: true } : {}),
    ...(options.restoreTasks && plan.taskDatabase ? { tasks: { ...plan.taskDatabase } } : {}),
  };
  log.info(`[rollback] starting ${journal.id}: ${plan.summary}`);
  saveJournal(options.journalDir, journal, log);
  await options.afterPhase?.('planned');
  try {
    return await runPhases(journal, repo, options, plan.database);
  } catch (err) {
    await closeIfNothingChanged(journal, repo, options.journalDir, log);
    throw err;
  }
}

/**
 * A fresh rollback that stopped before the reset and made no stash changed nothing but a
 * backup ref: its journal is closed, so that the next start does not offer to finish it.
 */
async function closeIfNothingChanged(journal: RollbackJournal, repo: GitRepository, journalDir: string, log: Logger): Promise<void> {
  if ((journal.phase !== 'planned' && journal.phase !== 'backed-up') || journal.stashRef) return;
  // Stopped while stashing: a stash may exist that the journal does not name yet; keep it open.
  if (journal.phase === 'planned' && journal.protect) return;
  try {
    const head = await repo.head();
    if (head.sha !== journal.oldHead || head.branch !== journal.branch) return;
    journal.phase = 'undone';
    saveJournal(journalDir, journal, log);
    log.info(`[rollback] ${journal.id} stopped before changing anything; journal closed.`);
  } catch (err) {
    log.warn(`[rollback] could not close the journal of ${journal.id}: ${String(err)}`);
  }
}

export async function finishRollback(journal: RollbackJournal, options: ExecuteOptions): Promise<RollbackResult> {
  const log = options.log ?? silentLogger;
  const current = (await readJournals(options.journalDir, log)).find((j) => j.id === journal.id) ?? journal;
  if (current.phase === 'undone') {
    throw failures.alreadyReverted({});
  }
  log.info(`[rollback] finishing ${current.id} from phase ${current.phase}`);
  const repo = await GitRepository.open(current.target.repositoryPath, { log });
  return runPhases(current, repo, options, undefined);
}

const stashMessage = (journal: RollbackJournal) => `Step History: before rolling back to ${journal.stepLabel} (${journal.id})`;

/**
 * A rollback stopped right after its stash push, before the journal named the stash: the
 * stash is the newest one, with this rollback's id in its message. Taken into the journal.
 */
export async function adoptInterruptedStash(journal: RollbackJournal, repo: GitRepository, journalDir: string, log: Logger): Promise<void> {
  if (!journal.protect || journal.stashRef) return;
  const top = await repo.refTarget('refs/stash');
  const topCommit = top ? (await repo.commitsBetween(journal.oldHead, top).catch(() => [])).find((c) => c.sha === top) : undefined;
  if (!top || !topCommit?.subject.endsWith(stashMessage(journal))) return;
  log.info(`[rollback] found the stash ${short(top)} made before the interruption`);
  journal.stashCommit = top;
  journal.stashRef = `refs/step-history/stash/${journal.id}`;
  saveJournal(journalDir, journal, log);
}

/**
 * Carries a journal from its phase to 'done'. Each phase checks what is already done, so a
 * rollback stopped anywhere (a crash, a failed database write) can be finished from its journal.
 * `expected`: the database as the plan read it (a fresh rollback); without it, as read now.
 */
async function runPhases(journal: RollbackJournal, repo: GitRepository, options: ExecuteOptions, expected: DatabaseStamp | undefined): Promise<RollbackResult> {
  const log = options.log ?? silentLogger;
  const warnings: string[] = [];
  const guard = new ProtectedPaths(repo.root, journal.target.dbPath, options.journalDir);
  const progress = (message: string) => {
    log.info(`[rollback] ${message}`);
    options.onProgress?.(message);
  };
  const advance = async (phase: JournalPhase) => {
    journal.phase = phase;
    delete journal.lastError;
    saveJournal(options.journalDir, journal, log);
    await options.afterPhase?.(phase);
  };
  const fail = (err: unknown): never => {
    journal.lastError = err instanceof Error ? err.message : String(err);
    try {
      saveJournal(options.journalDir, journal, log);
    } catch (saveErr) {
      log.error(`[rollback] could not record the failure in the journal: ${String(saveErr)}`);
    }
    throw err;
  };

  try {
    if (journal.phase === 'planned') {
      progress(l10n.t({ message: 'Keeping {0} at {1} under {2}…', args: [journal.branch, short(journal.oldHead), journal.backupRef], comment: '{0} a branch, {1} a commit, {2} a git ref' }));
      const existing = await repo.refTarget(journal.backupRef);
      if (existing === null) await repo.updateRef(journal.backupRef, journal.oldHead, `Step History: before rolling back to ${journal.stepLabel}`, null);
      else if (existing !== journal.oldHead) throw failures.backupRefTaken({ ref: journal.backupRef });
      await adoptInterruptedStash(journal, repo, options.journalDir, log);
      if (journal.stashRef && journal.stashCommit && (await repo.refTarget(journal.stashRef)) === null) {
        await repo.updateRef(journal.stashRef, journal.stashCommit, `Step History: work kept before rolling back to ${journal.stepLabel}`, null);
      }
      if (journal.protect && !journal.stashRef) {
        const head = await repo.head();
        if (head.sha === journal.oldHead && head.branch === journal.branch) {
          const work = await readWorkAtRisk(repo, journal.resetTo, guard);
          const paths = pathsToStash(work);
          if (paths.length > 0) {
            progress(paths.length === 1 ? l10n.t('Keeping 1 uncommitted file in a stash…') : l10n.t('Keeping {0} uncommitted files in a stash…', paths.length));
            // A staged rename or deletion names a path no longer in the index, which git cannot
            // stash on its own: then everything is stashed (the untracked files kept included),
            // always without the step database and its files.
            const index = new Set(await repo.indexPaths());
            const partial = paths.every((p) => index.has(p) || onDisk(repo.root, p));
            if (!partial) log.info('[rollback] the index holds a rename or deletion: stashing every change');
            if (!partial && work.ignoredOverwritten.length > 0) {
              // Stashing everything with ignored files would sweep up every ignored file (build output, dependencies).
              throw failures.renameWithIgnored({ files: work.ignoredOverwritten });
            }
            const stash = await repo.stashPush(stashMessage(journal), partial ? paths : 'everything', {
              includeIgnored: work.ignoredOverwritten.length > 0,
              exclude: work.ignoredOverwritten.length > 0 ? guard.all : work.protectedVisible,
            });
            if (stash) {
              await options.onStep?.('stash-pushed');
              journal.stashCommit = stash;
              journal.stashRef = `refs/step-history/stash/${journal.id}`;
              saveJournal(options.journalDir, journal, log);
              await repo.updateRef(journal.stashRef, stash, `Step History: work kept before rolling back to ${journal.stepLabel}`, null);
            }
          }
        }
      }
      await advance('backed-up');
    }

    if (journal.phase === 'backed-up') {
      const head = await repo.head();
      if (head.detached || head.branch !== journal.branch) {
        throw failures.branchNotCheckedOutToFinish({ branch: journal.branch, headBranch: head.branch });
      }
      if (head.sha !== journal.resetTo) {
        if (head.sha !== journal.oldHead) {
          throw failures.branchMovedSinceStart({ branch: journal.branch, head: short(head.sha), start: short(journal.oldHead) });
        }
        const work = await readWorkAtRisk(repo, journal.resetTo, guard);
        if (hasWorkAtRisk(work)) throw failures.workAtRisk({});
        if (work.protectedTouched.length > 0) {
          // Git tracks the database (or the target tree has it): the reset would put an old
          // version in its place. Its bytes are kept and put back right after.
          if (expected && !sameDatabaseStamp(expected, readDatabaseStamp(journal.target.dbPath))) throw databaseChanged(journal.target.dbPath);
          journal.kept = keepProtected(repo.root, work.protectedTouched, keptFolder(options.journalDir, journal.id), 'rollback');
          saveJournal(options.journalDir, journal, log);
          await options.onStep?.('files-kept');
        }
        progress(l10n.t({ message: 'Resetting {0} to {1}…', args: [journal.branch, short(journal.resetTo)], comment: '{0} a branch, {1} a commit' }));
        await repo.resetHard(journal.resetTo, journal.branch);
        await options.onStep?.('branch-reset');
      }
      if ((await restoreProtected(repo, journal.kept, log, warnings)).includes(journal.target.dbPath) && expected) {
        // The bytes put back are the ones kept, which were as the plan read them.
        expected = readDatabaseStamp(journal.target.dbPath);
      }
      await options.onStep?.('files-restored');
      await advance('git-reset');
    }

    if (journal.phase === 'git-reset') {
      if (journal.tasks && !journal.tasks.restored) await restoreTaskDatabase(journal, options, log);
      progress(l10n.t({ message: 'Marking {0} inactive…', args: [describeStepIds(journal.stepIds)], comment: '{0} the steps (S12–S14)' }));
      await ensureDatabasePresent(journal, repo, log);
      const result = await writeStepsActive(journal.target.dbPath, projectRows(journal, false), dbWriteOptions(journal, options, log, expected));
      journal.writtenDatabase = result.stamp;
      await advance('database-written');
    }

    if (journal.phase === 'database-written') await advance('done');
  } catch (err) {
    fail(err);
  }
  const [project, steps, at] = [projectName(journal.target.projectId), describeStepIds(journal.stepIds), short(journal.resetTo)];
  const message = journal.stashRef
    ? l10n.t({
        message: 'Rolled back {0} to before {1}: {2} inactive, {3} at {4}, uncommitted work kept in {5}; the previous state is kept under {6}.',
        args: [project, journal.stepLabel, steps, journal.branch, at, journal.stashRef, journal.backupRef],
        comment: '{0} a project, {1} a step label (S12), {2} the steps (S12–S14), {3} a branch, {4} a commit, {5} and {6} git refs',
      })
    : l10n.t({
        message: 'Rolled back {0} to before {1}: {2} inactive, {3} at {4}; the previous state is kept under {5}.',
        args: [project, journal.stepLabel, steps, journal.branch, at, journal.backupRef],
        comment: '{0} a project, {1} a step label (S12), {2} the steps (S12–S14), {3} a branch, {4} a commit, {5} a git ref',
      });
  log.info(`[rollback] ${message}`);
  return { journal, message, warnings };
}
