/**
 * The files "Compare Step with Working Tree" lists (plain Node: no `vscode` import): the tracked
 * files that differ from the step's commit and the untracked ones, without the step databases'
 * own files.
 *
 * Left out, tracked or not: each step database of the workspace that is inside the repository
 * (the one whose step is compared first of all) and its `-wal`, `-shm` and `-journal`. They are
 * what Step History reads the steps from, not the project's work; an agent writes them all the
 * time, and as binary files their diff says nothing.
 *
 * Left out when untracked (a tracked one is the project's choice, and stays listed), in the
 * folder of such a database:
 * - `.<name>.step-history-<8 hex digits>.tmp`: the new image Step History writes beside a file
 *   it rewrites (the database, LaForge's `tasks.db`) and renames over it (databaseFile.ts);
 * - `tasks.db` (and its sidecars) and `tasks-S<N>.db`: LaForge's task database, which a
 *   rollback puts back from the copy LaForge kept before step N (rollback/plan.ts);
 * - `logs/step-S<N>-<time>.log`: LaForge's step logs, which Step History opens as each step's
 *   log (stepLog.ts).
 * What Step History keeps of a rollback (journals, kept copies, kept write-ahead logs) is in its
 * state folder (stateDir.ts), not beside the database, and its backups are git refs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { databaseFiles } from './databaseFile';
import { withUntracked } from './diffPlan';
import type { ChangedFile, GitRepository } from './git';
import { stepIdOfLogName } from './stepLog';

/** The step databases' files in one repository, by repository-relative path (`/`-separated). */
export interface StepDatabaseFiles {
  /** Each database and its sidecar files: never listed. */
  readonly files: ReadonlySet<string>;
  /** The folders holding a database (`''` for the repository's root): their own untracked files are not listed. */
  readonly folders: ReadonlySet<string>;
}

/** Step History's temporary image beside a file it rewrites: `.<name>.step-history-<hex>.tmp`. */
const STEP_HISTORY_TEMP = /^\..+\.step-history-[0-9a-f]{8}\.tmp$/;
/** LaForge's task database, its sidecars, and the copy it keeps before each step. */
const TASK_DATABASE = /^tasks(?:-S\d+)?\.db(?:-wal|-shm|-journal)?$/;

/**
 * The files of the databases at `dbPaths` inside the repository whose root is `root`; a database
 * outside it adds nothing. `paths` is the path module the paths are written for (tests give
 * `path.win32`); the comparison is its own (case-insensitive on Windows).
 */
export function stepDatabaseFiles(root: string, dbPaths: readonly string[], paths: path.PlatformPath = path): StepDatabaseFiles {
  const files = new Set<string>();
  const folders = new Set<string>();
  for (const dbPath of dbPaths) {
    const relative = paths.relative(root, dbPath);
    if (relative === '' || relative === '..' || relative.startsWith(`..${paths.sep}`) || paths.isAbsolute(relative)) continue;
    const inRepository = relative.split(paths.sep).join('/');
    for (const file of databaseFiles(inRepository)) files.add(file);
    const slash = inRepository.lastIndexOf('/');
    folders.add(slash < 0 ? '' : inRepository.slice(0, slash));
  }
  return { files, folders };
}

const folderOf = (file: string): string => {
  const slash = file.lastIndexOf('/');
  return slash < 0 ? '' : file.slice(0, slash);
};

/** Whether the file at `file` (repository-relative), tracked or `untracked`, is one of the databases' own files. */
export function isStepDatabaseFile(file: string, databases: StepDatabaseFiles, untracked: boolean): boolean {
  if (databases.files.has(file)) return true;
  if (!untracked || databases.folders.size === 0) return false;
  const folder = folderOf(file);
  const name = file.slice(folder.length === 0 ? 0 : folder.length + 1);
  if (databases.folders.has(folder) && (STEP_HISTORY_TEMP.test(name) || TASK_DATABASE.test(name))) return true;
  if (name.startsWith('step-S') && (folder === 'logs' || folder.endsWith('/logs'))) {
    return databases.folders.has(folderOf(folder)) && stepIdOfLogName(name) !== null;
  }
  return false;
}

/**
 * What the comparison lists: the tracked files that differ (`git diff <commit>`) and the
 * untracked ones as added, in path order, without the databases' own files.
 */
export function workingTreeFiles(tracked: readonly ChangedFile[], untracked: readonly string[], databases: StepDatabaseFiles): ChangedFile[] {
  return withUntracked(
    tracked.filter((f) => !isStepDatabaseFile(f.path, databases, false)),
    untracked.filter((p) => !isStepDatabaseFile(p, databases, true)),
  );
}

/**
 * A path as the repository's root names it: git prints the root with symbolic links resolved,
 * so a database reached through one is resolved too (its folder, when the file itself is gone).
 */
async function realPath(file: string): Promise<string> {
  try {
    return await fs.promises.realpath(file);
  } catch {
    try {
      return path.join(await fs.promises.realpath(path.dirname(file)), path.basename(file));
    } catch {
      return path.resolve(file);
    }
  }
}

/**
 * The files that differ in `repository`'s work tree from `commit`, staged or not, renames found,
 * untracked ones as added, without the files of the step databases at `dbPaths` (see the top
 * of this file). Two git processes, run at once.
 */
export async function workingTreeChanges(
  repository: Pick<GitRepository, 'root' | 'changedFilesAgainstWorkingTree' | 'status'>,
  commit: string,
  dbPaths: readonly string[],
): Promise<ChangedFile[]> {
  const [tracked, status, resolved] = await Promise.all([
    repository.changedFilesAgainstWorkingTree(commit),
    repository.status(),
    Promise.all(dbPaths.map(realPath)),
  ]);
  const databases = stepDatabaseFiles(repository.root, [...new Set([...dbPaths.map((p) => path.resolve(p)), ...resolved])]);
  return workingTreeFiles(tracked, status.untracked, databases);
}
