/**
 * The steps that changed one file, newest first: the commits of HEAD's history that changed it
 * (`git log --follow`, so through its renames) mapped to steps as blame maps them
 * (stepsOfCommits), and the steps whose commits HEAD's history does not hold, found by their
 * own changes touching any path the file had: the rolled-back ones (LaForge's rollback resets
 * the branch) and those whose kept `step-S<N>` branch is not merged (a failed step). Commits no step made are kept apart. Pure of VS Code: ui/fileHistory.ts shows it.
 */
import type { ChangedFile, FileCommit } from './git';
import { logFailure } from './errors';
import { silentLogger, type Logger } from './log';
import type { Step } from './model';
import { stepsOfCommits, type StepLookup, type StepOwnerVia } from './stepBlame';
import type { StepPageOptions } from './stepDatabase';
import { isNoCommit, type StepCommit } from './stepCommits';

/** What the history reads from a LaForge database (a StepDatabase is one). */
export interface FileHistorySource extends StepLookup {
  projects(): Promise<readonly { id: string }[]>;
  steps(projectId: string, options?: StepPageOptions): Promise<Step[]>;
  changedFiles(step: Step): Promise<ChangedFile[]>;
}

/** How a step was found to have changed the file: through one of its commits, or (rolled back) by its own changes. */
export type FileStepVia = StepOwnerVia | 'changes';

export interface FileStep {
  step: Step;
  via: FileStepVia;
  /** The file's path in that step (repository-relative, `/`-separated). */
  path: string;
  /** Its path before, when that step renamed it. */
  oldPath?: string;
  /** The step is rolled back (not active). */
  rolledBack: boolean;
  /** The step's commit, when its kept `step-S<N>` branch is not merged (a failed or conflicted step): found by its changes too. */
  unmerged?: StepCommit;
  /** The newest commit of HEAD's history through which the step was found; null when found by its changes. */
  commit: string | null;
}

export interface FileHistory {
  /** The file asked about, repository-relative. */
  path: string;
  /** Newest (highest id) first, each step once. */
  steps: FileStep[];
  /** The commits of HEAD's history that changed the file and that no step made, newest first. */
  otherCommits: FileCommit[];
}

export interface FileHistoryOptions {
  /** How many of each project's newest steps are looked at for rolled-back and unmerged ones. Default 500. */
  rolledBackScan?: number;
  /** How many commits of the file's history are read. Default 2000. */
  commitLimit?: number;
  /** Where a rolled-back or unmerged step whose changes cannot be read is logged. */
  log?: Logger;
}

/** How many such steps' changes are read at once: each is one git process the first time. */
const CONCURRENT_READS = 8;

/** The steps that changed `filePath` (repository-relative, `/`-separated). Rejects with a GitError or StepDbError. */
export async function fileHistory(source: FileHistorySource, filePath: string, options: FileHistoryOptions = {}): Promise<FileHistory> {
  const repository = await source.repository();
  const commits = await repository.fileHistory(filePath, options.commitLimit);
  const owners = await stepsOfCommits(source, commits);
  const found = new Map<number, FileStep>();
  const otherCommits: FileCommit[] = [];
  for (const entry of commits) {
    const owner = owners.get(entry.commit);
    if (!owner) {
      otherCommits.push(entry);
      continue;
    }
    // Commits come newest first: a step's newest commit names the file's path in it.
    if (found.has(owner.step.id)) continue;
    found.set(owner.step.id, {
      step: owner.step,
      via: owner.via,
      path: entry.path,
      ...(entry.oldPath !== undefined && entry.oldPath !== entry.path ? { oldPath: entry.oldPath } : {}),
      rolledBack: !owner.step.active,
      commit: entry.commit,
    });
  }
  const paths = new Set([filePath, ...commits.flatMap((c) => (c.oldPath === undefined ? [c.path] : [c.path, c.oldPath]))]);
  for (const step of await offHistorySteps(source, paths, found, options)) found.set(step.step.id, step);
  return { path: filePath, steps: [...found.values()].sort((a, b) => b.step.id - a.step.id), otherCommits };
}

/**
 * The steps HEAD's history does not hold, not found already, whose own changes touch one of
 * `paths`: the rolled-back ones, and those whose kept `step-S<N>` branch is not merged.
 */
async function offHistorySteps(source: FileHistorySource, paths: ReadonlySet<string>, found: ReadonlyMap<number, FileStep>, options: FileHistoryOptions): Promise<FileStep[]> {
  const limit = options.rolledBackScan ?? 500;
  const index = await source.commitIndex();
  const candidates: { step: Step; unmerged?: StepCommit }[] = [];
  for (const project of await source.projects()) {
    for (const step of await source.steps(project.id, { limit })) {
      if (found.has(step.id)) continue;
      const commit = index.resolve(step);
      if (!step.active) candidates.push({ step });
      else if (commit.notMerged) candidates.push({ step, unmerged: commit });
    }
  }
  const result: FileStep[] = [];
  let next = 0;
  const worker = async () => {
    while (next < candidates.length) {
      const { step, unmerged } = candidates[next++];
      let files: ChangedFile[];
      try {
        files = await source.changedFiles(step);
      } catch (err) {
        // A step that made no commit changed no file; another failure leaves this step out, said in the log.
        if (!isNoCommit(err)) logFailure(options.log ?? silentLogger, `the changes of ${unmerged ? 'unmerged' : 'rolled-back'} ${step.label}`, err, 'warn');
        continue;
      }
      const file = fileOfStep(files, paths);
      if (file) {
        result.push({
          step, via: 'changes', path: file.path, ...(file.oldPath !== undefined ? { oldPath: file.oldPath } : {}),
          rolledBack: !step.active, ...(unmerged ? { unmerged } : {}), commit: null,
        });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENT_READS, candidates.length) }, worker));
  return result;
}

/**
 * The file among a step's changed files that is the one asked about: the one at `preferred`
 * (the path the file's history gives for that step) first, else the first whose path, or path
 * before a rename, is one of `paths`.
 */
export function fileOfStep(files: readonly ChangedFile[], paths: ReadonlySet<string> | readonly string[], preferred?: string): ChangedFile | undefined {
  const known = paths instanceof Set ? paths : new Set(paths);
  return (
    (preferred === undefined ? undefined : files.find((f) => f.path === preferred) ?? files.find((f) => f.oldPath === preferred)) ??
    files.find((f) => known.has(f.path) || (f.oldPath !== undefined && known.has(f.oldPath)))
  );
}
