/**
 * The work tree as a reset meets it: the paths no stash, reset or checkout may take (the step
 * database and its neighbours, the journal folder), and the work a reset would destroy.
 */
import * as fs from 'fs';
import * as path from 'path';
import { databaseFiles } from '../databaseFile';
import type { GitRepository, StatusEntry } from '../git';

/**
 * The step database's files (and LaForge's task databases beside it) and the journal folder,
 * where they lie inside a work tree: no stash, reset or checkout may take, move or overwrite
 * them, whatever the index holds.
 */
export class ProtectedPaths {
  /** Relative to the work tree root, with `/`. */
  readonly files: string[];
  readonly folders: string[];

  constructor(root: string, dbPath: string, journalDir: string | undefined) {
    const realRoot = realPath(root);
    const inside = (abs: string): string | null => {
      const rel = path.relative(realRoot, abs);
      return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : null;
    };
    const dbDir = realPath(path.dirname(dbPath));
    const dbReal = path.join(dbDir, path.basename(dbPath));
    // LaForge's task database beside it, and the copies of it the older LaForge made before each step.
    const tasks = listFolder(dbDir).filter((name) => TASK_DATABASE.test(name)).map((name) => path.join(dbDir, name));
    this.files = [...databaseFiles(dbReal), ...tasks].map(inside).filter((p): p is string => p !== null);
    const journal = journalDir ? inside(realPath(journalDir)) : null;
    this.folders = journal ? [journal] : [];
  }

  has(rel: string): boolean {
    return this.files.includes(rel) || this.folders.some((f) => rel === f || rel.startsWith(f + '/'));
  }

  /** Exclusions for a stash: the files, and the folders' contents. */
  get all(): string[] {
    return [...this.files, ...this.folders];
  }
}

const TASK_DATABASE = /^tasks(?:-S\d+)?\.db(?:-wal|-shm|-journal)?$/;

function listFolder(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function realPath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    // Not there (yet): resolve the part that is.
    const parent = path.dirname(p);
    return parent === p ? p : path.join(realPath(parent), path.basename(p));
  }
}

/** What a reset to `resetTo` would destroy in the work tree, read now; the protected paths are never counted as work. */
export interface WorkAtRisk {
  branch: string | null;
  head: string | null;
  detached: boolean;
  staged: StatusEntry[];
  unstaged: StatusEntry[];
  conflicted: string[];
  untracked: string[];
  untrackedOverwritten: string[];
  ignoredOverwritten: string[];
  /** Protected files git tracks or `target` has: the reset would overwrite or delete them. */
  protectedTouched: string[];
  /**
   * Protected paths git sees (tracked, or untracked and not ignored). A stash that leaves
   * ignored files alone must exclude only these: git refuses to exclude an ignored path there.
   */
  protectedVisible: string[];
}

const hasTrackedChanges = (w: WorkAtRisk) => w.staged.length + w.unstaged.length + w.conflicted.length > 0;
export const hasWorkAtRisk = (w: WorkAtRisk) =>
  hasTrackedChanges(w) || w.untrackedOverwritten.length + w.ignoredOverwritten.length > 0;

/** Paths a stash must take so that a reset loses nothing: every tracked change and every file the target tree would overwrite. */
export function pathsToStash(w: WorkAtRisk): string[] {
  const paths = new Set<string>();
  for (const e of [...w.staged, ...w.unstaged]) {
    paths.add(e.path);
    if (e.oldPath) paths.add(e.oldPath);
  }
  for (const p of [...w.conflicted, ...w.untrackedOverwritten, ...w.ignoredOverwritten]) paths.add(p);
  return [...paths].sort();
}

/**
 * The work tree against `target`'s tree: uncommitted changes, and the files that are not in
 * the index but exist on disk where `target` has a file (untracked or ignored), which
 * `git reset --hard target` would overwrite. Protected paths are set apart.
 */
export async function readWorkAtRisk(repo: GitRepository, target: string, guard: ProtectedPaths): Promise<WorkAtRisk> {
  const [status, treePaths, indexPaths] = await Promise.all([repo.status(), repo.treePaths(target), repo.indexPaths()]);
  const tracked = new Set(indexPaths);
  const untracked = new Set(status.untracked);
  const untrackedOverwritten: string[] = [];
  const ignoredOverwritten: string[] = [];
  const untrackedList = status.untracked.filter((p) => !guard.has(p));
  const inTarget = new Set(treePaths ?? []);
  const protectedTouched = guard.files.filter((p) => tracked.has(p) || inTarget.has(p));
  const seen = [...indexPaths, ...status.untracked];
  const protectedVisible = guard.all.filter((p) => tracked.has(p) || untracked.has(p) || seen.some((q) => q.startsWith(p + '/')));
  for (const p of treePaths ?? []) {
    if (tracked.has(p) || guard.has(p)) continue;
    let st: fs.Stats;
    try {
      st = await fs.promises.lstat(path.join(repo.root, p));
    } catch {
      continue;
    }
    if (st.isDirectory()) {
      // The target has a file where the work tree has a folder: whatever is in it is at risk.
      const prefix = p + '/';
      const inside = untrackedList.filter((u) => u.startsWith(prefix));
      untrackedOverwritten.push(...inside);
      if (inside.length === 0) ignoredOverwritten.push(p + '/');
    } else if (untracked.has(p)) {
      untrackedOverwritten.push(p);
    } else {
      ignoredOverwritten.push(p);
    }
  }
  const work = (e: StatusEntry) => !guard.has(e.path) && !(e.oldPath && guard.has(e.oldPath));
  return {
    branch: status.branch,
    head: status.head,
    detached: status.detached,
    staged: status.staged.filter(work),
    unstaged: status.unstaged.filter(work),
    conflicted: status.conflicted.filter((p) => !guard.has(p)),
    untracked: untrackedList,
    untrackedOverwritten,
    ignoredOverwritten,
    protectedTouched,
    protectedVisible,
  };
}

/** Whether something (a file, folder or symlink, even a broken one) is at `rel` in the work tree. */
export function onDisk(root: string, rel: string): boolean {
  try {
    fs.lstatSync(path.join(root, rel));
    return true;
  } catch {
    return false;
  }
}
