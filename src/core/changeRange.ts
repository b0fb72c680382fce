/**
 * The commits a step's changes are read between: its commit before → its own commit, as the
 * editor resolves it (recorded, from its `Step-id` note, or from its kept `step-S<N>` branch;
 * see stepCommits.ts). The command line asks here.
 */
import type { Step } from './model';
import { stepChange, type StepCommitIndex, type StepCommitSource } from './stepCommits';

export type ChangeRange =
  | { from: string; to: string; source: Exclude<StepCommitSource, 'none'>; branch: string | null; notMerged: boolean }
  /** Why there is no usable range: one sentence (a running step, a step that made no commit, a broken field). */
  | { unavailable: string };

export function stepChangeRange(step: Step, index: StepCommitIndex): ChangeRange {
  try {
    const commit = index.resolve(step);
    const { before, after } = stepChange(step, commit);
    return { from: before, to: after, source: commit.source as Exclude<StepCommitSource, 'none'>, branch: commit.branch, notMerged: commit.notMerged };
  } catch (err) {
    return { unavailable: err instanceof Error ? err.message : String(err) };
  }
}
