/**
 * Rollback and undo that never lose work (plain Node: no `vscode` import).
 *
 * LaForge's rollback to step N marks the project's steps with id >= N inactive and resets the
 * branch to N's commit before. Here it is planned first (nothing changes), refused where it
 * cannot be done safely, and carried out behind a journal and backup refs so that it can be
 * finished or reverted after a crash, and undone later.
 */
import type { ChangedFile, CommitInfo, StatusEntry } from './git';
import type { Logger } from './log';
import type { Step } from './model';

/** What to roll back: a project's steps from `stepId` on, in the database at `dbPath`. */
export interface RollbackTarget {
  dbPath: string;
  /** The work tree whose branch the steps' commits are on. */
  repositoryPath: string;
  projectId: string;
  stepId: number;
}

/** Why a rollback cannot go ahead; `remedy` says what the user can do. */
export interface RollbackRefusal {
  code:
    | 'TARGET_COMMIT_MISSING'
    | 'TARGET_COMMIT_INVALID'
    | 'STEP_NOT_ACTIVE'
    | 'STEP_RUNNING'
    | 'DETACHED_HEAD'
    | 'HEAD_OFF_LINE'
    | 'DATABASE_BUSY'
    | 'NOT_A_REPOSITORY';
  message: string;
  remedy: string;
}

/** The database file as the plan read it; the write happens only if it is still so. */
export interface DatabaseStamp {
  size: number;
  mtimeMs: number;
  /** The header's file change counter (bytes 24..27). */
  changeCounter: number;
}

export interface RollbackPlan {
  target: RollbackTarget;
  /** The step rolled back to (its commit before is where the branch goes). */
  step: Step;
  /** Active steps of the project with id >= target, oldest first: they become inactive. */
  stepsToDeactivate: Step[];
  /** Where the branch will point: the target step's commit before. */
  resetTo: string;
  branch: string | null;
  head: string | null;
  detached: boolean;
  /** Tracked files whose content changes between HEAD and `resetTo`. */
  filesToChange: ChangedFile[];
  /** Uncommitted changes a reset would discard. */
  staged: StatusEntry[];
  unstaged: StatusEntry[];
  /** Untracked files that also exist in `resetTo`, so a reset would overwrite them. */
  untrackedOverwritten: string[];
  /** Untracked files a reset leaves alone (listed, never touched). */
  untrackedKept: string[];
  /** Commits on the branch after the last rolled-back step's commit after that no step recorded. */
  foreignCommits: CommitInfo[];
  /** HEAD descends from the last rolled-back step's commit after (or from `resetTo`). */
  headOnLine: boolean;
  /** Steps in the range still running. */
  runningSteps: Step[];
  database: DatabaseStamp;
  /** Empty when the rollback may go ahead. */
  refusals: RollbackRefusal[];
  /** Uncommitted work or foreign commits exist: proceeding needs `protect: true`. */
  needsProtection: boolean;
  /** One sentence that says what will happen, for the confirmation. */
  summary: string;
}

export interface PlanOptions {
  log?: Logger;
  /** sql.js's WASM file, when not taken from the installed package. */
  wasmPath?: string;
}

export function planRollback(_target: RollbackTarget, _options: PlanOptions = {}): Promise<RollbackPlan> {
  throw new Error('planRollback is not built yet');
}

export interface ExecuteOptions extends PlanOptions {
  /** Folder for rollback journals (the extension's storage). */
  journalDir: string;
  /**
   * Required when the plan `needsProtection`: uncommitted and untracked work goes into a stash
   * kept under `refs/step-history/stash/<time>`, foreign commits stay reachable from the
   * backup ref. Without it such a plan is refused.
   */
  protect?: boolean;
  /** Called as each phase starts, for a progress notification. */
  onProgress?: (message: string) => void;
}

export type JournalPhase = 'planned' | 'backed-up' | 'git-reset' | 'database-written' | 'done' | 'undone';

/** What a rollback did, kept as JSON in the journal folder; enough to finish, revert or undo it. */
export interface RollbackJournal {
  id: string;
  createdAt: string;
  phase: JournalPhase;
  target: RollbackTarget;
  stepLabel: string;
  stepIds: number[];
  branch: string;
  oldHead: string;
  resetTo: string;
  /** `refs/step-history/backup/<time>` at the old HEAD. */
  backupRef: string;
  /** `refs/step-history/stash/<time>`, when uncommitted work was stashed. */
  stashRef?: string;
  database: DatabaseStamp;
}

export interface RollbackResult {
  journal: RollbackJournal;
  /** One sentence for the result message. */
  message: string;
}

export function executeRollback(_plan: RollbackPlan, _options: ExecuteOptions): Promise<RollbackResult> {
  throw new Error('executeRollback is not built yet');
}

/** Journals of rollbacks that stopped half-way (crash, failed database write), newest first. */
export function pendingRollbacks(_journalDir: string): Promise<RollbackJournal[]> {
  throw new Error('pendingRollbacks is not built yet');
}

/** Completes a half-done rollback from its journal. */
export function finishRollback(_journal: RollbackJournal, _options: ExecuteOptions): Promise<RollbackResult> {
  throw new Error('finishRollback is not built yet');
}

/** Puts everything back as it was before a half-done (or done) rollback. */
export function revertRollback(_journal: RollbackJournal, _options: ExecuteOptions): Promise<RollbackResult> {
  throw new Error('revertRollback is not built yet');
}

/** The newest completed rollback that can still be undone, if any. */
export function lastRollback(_journalDir: string): Promise<RollbackJournal | undefined> {
  throw new Error('lastRollback is not built yet');
}

/**
 * Undoes a completed rollback: the branch back to the backup ref, the stash re-applied, the
 * steps active again. Refuses, with the reason, if new work happened on top since.
 */
export function undoRollback(_journal: RollbackJournal, _options: ExecuteOptions): Promise<RollbackResult> {
  throw new Error('undoRollback is not built yet');
}
