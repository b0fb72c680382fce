/**
 * A running step's live work: LaForge runs each step in a temporary work tree on the branch
 * `step-S<N>`, usually outside the repository, and commits only when the step ends. While it
 * runs, the files it changed are that work tree's changes against the step's commit before.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { withUntracked } from './diffPlan';
import { GitRepository, requireCommitHash, type ChangedFile, type Worktree } from './git';
import { silentLogger, type Logger } from './log';
import type { Step } from './model';

/** The running step's work tree and what it holds against the step's commit before. */
export interface StepWorktree {
  /** The work tree's folder, as git lists it. */
  path: string;
  /** The commit the files are compared with: the step's commit before. */
  base: string;
  /** Tracked changes and untracked files, by path; COMMIT.md left out, as LaForge unstages it. */
  files: ChangedFile[];
}

/** LaForge's message for the commit, which it never commits. */
const COMMIT_MESSAGE_FILE = 'COMMIT.md';

/** The work tree on the step's branch `refs/heads/step-S<N>`, if git lists one whose folder still exists. */
export function findStepWorktree(worktrees: readonly Worktree[], stepId: number): Worktree | undefined {
  const branch = `refs/heads/step-S${stepId}`;
  return worktrees.find((w) => w.branch === branch && !w.bare && !w.prunable && fs.existsSync(w.path));
}

/**
 * The files that differ in the work tree at `worktreePath` from `before`: tracked changes
 * (staged or not, renames found) and untracked files as added, in one diff and one status.
 */
export async function worktreeChanges(worktreePath: string, before: string, options: { log?: Logger } = {}): Promise<ChangedFile[]> {
  const base = requireCommitHash(before);
  const worktree = await GitRepository.open(worktreePath, { log: options.log });
  const [tracked, status] = await Promise.all([worktree.changedFilesAgainstWorkingTree(base), worktree.status()]);
  return withUntracked(tracked, status.untracked).filter((f) => f.path !== COMMIT_MESSAGE_FILE);
}

/**
 * A RUNNING step's live work tree, read in `repository`; undefined when the step is not
 * running, has no commit before, or its work tree is gone (it ended, or runs elsewhere).
 */
export async function stepWorktree(repository: GitRepository, step: Step, options: { log?: Logger } = {}): Promise<StepWorktree | undefined> {
  const log = options.log ?? silentLogger;
  if (step.status !== 'RUNNING' || !step.commitBefore) return undefined;
  const found = findStepWorktree(await repository.worktrees(), step.id);
  if (!found) {
    log.info(`[worktrees] ${step.label} is running but no work tree on step-${step.label} is listed in ${repository.root}`);
    return undefined;
  }
  const folder = path.resolve(found.path);
  const files = await worktreeChanges(folder, step.commitBefore, { log });
  return { path: folder, base: step.commitBefore, files };
}
