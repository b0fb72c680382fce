/**
 * Rollback and undo that never lose work (plain Node: no `vscode` import).
 *
 * LaForge's rollback to step N marks the project's steps with id >= N inactive and resets the
 * branch to N's commit before. Here it is planned first (nothing changes), refused where it
 * cannot be done safely, and carried out behind a journal and backup refs so that it can be
 * finished or reverted after a crash, and undone later.
 *
 * The plan is made in `plan.ts`, carried out in `execute.ts` behind the journal of
 * `journal.ts`, and gone back on in `undo.ts`; `workTree.ts` says what a reset must never take
 * and what it would destroy, `words.ts` how the sentences name things. This module hands on
 * their public names.
 */

export { readDatabaseStamp, sameDatabaseStamp, type DatabaseStamp, type KeptFile } from '../databaseFile';
export {
  foreignCommitShas,
  isStepsOwnCommit,
  planRollback,
  repositoryRefusal,
  repositoryRefusalOf,
  type PlanOptions,
  type PlanStore,
  type RollbackPlan,
  type RollbackRefusal,
  type RepositoryRefusalCode,
  type RollbackTarget,
} from './plan';
export { lastRollback, journalFile, keptFolder, pendingRollbacks, readJournals, type JournalPhase, type RollbackJournal } from './journal';
export { executeRollback, finishRollback, type ExecuteOptions, type RollbackResult, type RollbackStep } from './execute';
export { revertRollback, undoRollback } from './undo';
export { describeStepIds } from './words';
export { ProtectedPaths } from './workTree';
