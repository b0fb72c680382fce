/**
 * Rollback and undo that never lose work (plain Node: no `vscode` import).
 *
 * LaForge's rollback to step N marks the project's steps with id >= N inactive and resets the
 * branch to N's commit before. Here it is planned first (nothing changes), refused where it
 * cannot be done safely, and carried out behind a journal and backup refs so that it can be
 * finished or reverted after a crash, and undone later.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import {
  databaseFiles,
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
} from './databaseFile';
import { GitError, logFailure, RollbackError } from './errors';
import { GitRepository, type ChangedFile, type CommitInfo, type StatusEntry } from './git';
import { silentLogger, type Logger } from './log';
import { isCommitHash, stepLabel, type Step } from './model';
import type { HolderLookup } from './openFiles';
import { laforgeProjectOf } from './laforgeProject';
import { projectLabel, projectWhere } from './projectKey';
import { safeText } from '../shared/safeText';
import { releaseRollbackStates } from './rollbackRetention';
import { StepCommitResolver } from './stepCommits';
import { StepStore } from './stepStore';

export { readDatabaseStamp, sameDatabaseStamp, type DatabaseStamp, type KeptFile } from './databaseFile';

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
    | 'NOT_MAIN_BRANCH'
    | 'HEAD_OFF_LINE'
    | 'DATABASE_BUSY'
    | 'DATABASE_WAL_UNKNOWN'
    | 'NOT_A_REPOSITORY';
  message: string;
  remedy: string;
  /** The user may choose to go ahead anyway (`assumeNoWriter`), its risk stated in `remedy`. */
  overridable?: boolean;
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
  /**
   * Ignored files that also exist in `resetTo` (a reset would overwrite them). Other ignored
   * files are never touched and not listed.
   */
  ignoredOverwritten: string[];
  /** Commits on the branch after the last rolled-back step's commit after that no step recorded. */
  foreignCommits: CommitInfo[];
  /** HEAD descends from the last rolled-back step's commit after (or from `resetTo`). */
  headOnLine: boolean;
  /** Steps in the range still running. */
  runningSteps: Step[];
  database: DatabaseStamp;
  /**
   * The database's `-wal` was left by a writer that has exited: the rollback folds it into the
   * database file (keeping a copy of it) before writing.
   */
  leftoverWal: boolean;
  /**
   * The step database's files (and the journal folder) that lie inside the work tree, relative
   * to its root. No stash, reset or checkout takes them.
   */
  protectedPaths: string[];
  /** Of those, the ones git tracks or the target tree has: kept aside and put back around the reset. */
  protectedKept: string[];
  /**
   * The older LaForge's copy of its task database from before the target step
   * (`tasks-S<N>.db` beside the step database), and the task database it would replace
   * (`tasks.db`), as LaForge's own rollback did; null when there is none. Restored only on
   * request (`restoreTasks`), the current one kept first.
   */
  taskDatabase: { backup: string; current: string } | null;
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
  /** Folder for rollback journals (the extension's storage); never stashed or reset when inside the work tree. */
  journalDir?: string;
  /** Who holds the database's files open; null from it means "cannot tell". Default: the system's (Linux). */
  holders?: HolderLookup;
}

/** A project as the views name it, its control characters escaped: for sentences. */
const projectName = (key: string): string => safeText(projectLabel(key));

const short = (sha: string | null | undefined): string => (sha ? sha.slice(0, 7) : '(none)');

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
interface WorkAtRisk {
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
const hasWorkAtRisk = (w: WorkAtRisk) =>
  hasTrackedChanges(w) || w.untrackedOverwritten.length + w.ignoredOverwritten.length > 0;

/** Paths a stash must take so that a reset loses nothing: every tracked change and every file the target tree would overwrite. */
function pathsToStash(w: WorkAtRisk): string[] {
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
async function readWorkAtRisk(repo: GitRepository, target: string, guard: ProtectedPaths): Promise<WorkAtRisk> {
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
function onDisk(root: string, rel: string): boolean {
  try {
    fs.lstatSync(path.join(root, rel));
    return true;
  } catch {
    return false;
  }
}

/** "S14–S16" for a run of ids, "S14, S15, S18" otherwise (shortened past eight). */
export function describeStepIds(ids: readonly number[]): string {
  if (ids.length === 0) return 'no steps';
  const sorted = [...ids].sort((a, b) => a - b);
  const contiguous = sorted.every((id, i) => i === 0 || id === sorted[i - 1] + 1);
  if (sorted.length === 1) return stepLabel(sorted[0]);
  if (contiguous) return `${stepLabel(sorted[0])}–${stepLabel(sorted[sorted.length - 1])}`;
  const shown = sorted.slice(0, 8).map(stepLabel).join(', ');
  return sorted.length > 8 ? `${shown} and ${sorted.length - 8} more` : shown;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Every step of every project in the store, for telling the steps' commits from others. */
function allSteps(store: StepStore): Step[] {
  const out: Step[] = [];
  for (const project of store.projects()) out.push(...store.steps(project.id, { limit: project.stepCount + 1 }));
  return out;
}

/**
 * Commits in `graph` (commits reachable from HEAD and not from the reset target, each with
 * its parents) that no step made. A step made the commits in (before, after]: reachable from
 * its commit after and not from its commit before.
 */
export function foreignCommitShas(graph: Map<string, string[]>, steps: readonly Pick<Step, 'commitBefore' | 'commitAfter'>[]): Set<string> {
  const keys = [...graph.keys()];
  const full = (sha: string | null): string | undefined => {
    if (!sha) return undefined;
    const lower = sha.toLowerCase();
    if (graph.has(lower)) return lower;
    if (lower.length >= 40) return undefined;
    const matches = keys.filter((k) => k.startsWith(lower));
    return matches.length === 1 ? matches[0] : undefined;
  };
  const ancestorsWithin = (start: string): Set<string> => {
    const seen = new Set<string>();
    const stack = [start];
    while (stack.length) {
      const c = stack.pop()!;
      if (seen.has(c) || !graph.has(c)) continue;
      seen.add(c);
      stack.push(...graph.get(c)!);
    }
    return seen;
  };
  const made = new Set<string>();
  for (const step of steps) {
    const after = full(step.commitAfter);
    if (!after) continue;
    const before = full(step.commitBefore);
    const beforeSha = step.commitBefore?.toLowerCase();
    let excluded: Set<string> | undefined;
    const stack = [after];
    const seen = new Set<string>();
    while (stack.length) {
      const c = stack.pop()!;
      if (seen.has(c) || !graph.has(c)) continue;
      seen.add(c);
      if (c === before || (beforeSha && c.startsWith(beforeSha))) continue;
      const parents = graph.get(c)!;
      if (parents.length > 1 && excluded === undefined) excluded = before ? ancestorsWithin(before) : new Set();
      if (excluded?.has(c)) continue;
      made.add(c);
      stack.push(...parents);
    }
  }
  return new Set(keys.filter((k) => !made.has(k)));
}

/** `tasks-S<N>.db` and `tasks.db` beside the step database, when both exist. */
function taskDatabaseOf(target: RollbackTarget): RollbackPlan['taskDatabase'] {
  const dir = path.dirname(target.dbPath);
  const backup = path.join(dir, `tasks-S${target.stepId}.db`);
  const current = path.join(dir, 'tasks.db');
  return fs.existsSync(backup) && fs.existsSync(current) ? { backup, current } : null;
}

const AUTOMERGE = /^Automerge step-S(\d+) into \S/;

/**
 * Whether a commit is one of the rolled-back steps' own although the database does not record
 * it (LaForge today stores the commit before as the commit after): its `Step-id` note (or
 * trailer) names a step in `range`, or it is LaForge's `Automerge step-S<N> into <branch>`
 * merge of such a step.
 */
export function isStepsOwnCommit(commit: CommitInfo, range: ReadonlySet<number>): boolean {
  const noted = commit.stepId ? Number(commit.stepId.slice(1)) : NaN;
  if (range.has(noted)) return true;
  const merge = AUTOMERGE.exec(commit.subject);
  return !!merge && range.has(Number(merge[1]));
}

export async function planRollback(target: RollbackTarget, options: PlanOptions = {}): Promise<RollbackPlan> {
  const log = options.log ?? silentLogger;
  const t0 = performance.now();
  const store = await StepStore.open(target.dbPath, { wasmPath: options.wasmPath, log });
  let plan: RollbackPlan;
  try {
    plan = await buildPlan(store, target, options, log);
  } finally {
    store.close();
  }
  log.info(
    `[rollback] planned ${target.projectId} S${target.stepId} in ${(performance.now() - t0).toFixed(1)} ms: ` +
      `${plan.stepsToDeactivate.length} step(s), reset to ${short(plan.resetTo)}, ${plan.filesToChange.length} file(s), ` +
      `${plan.staged.length}/${plan.unstaged.length} staged/unstaged, ${plan.untrackedOverwritten.length} untracked overwritten, ` +
      `${plan.foreignCommits.length} foreign commit(s), refusals: ${plan.refusals.map((r) => r.code).join(', ') || 'none'}`,
  );
  return plan;
}

async function buildPlan(store: StepStore, target: RollbackTarget, options: PlanOptions, log: Logger): Promise<RollbackPlan> {
  const step = store.step(target.stepId);
  if (!step || step.projectId !== target.projectId) {
    throw new RollbackError(
      'REFUSED',
      `There is no step ${stepLabel(target.stepId)} in project ${projectName(target.projectId)}.`,
      'Refresh the Steps view and pick a step from the list.',
    );
  }
  const fp = store.fingerprint.db!;
  const wal = store.fingerprint.wal;
  const database: DatabaseStamp = {
    size: fp.size,
    mtimeMs: fp.mtimeMs,
    changeCounter: fp.changeCounter,
    ino: fp.ino,
    wal: wal && { size: wal.size, mtimeMs: wal.mtimeMs },
  };
  const projectSteps = store.steps(target.projectId, { limit: store.stepCount(target.projectId) + 1 });
  const stepsToDeactivate = projectSteps.filter((s) => s.active && s.id >= target.stepId).sort((a, b) => a.id - b.id);
  const runningSteps = stepsToDeactivate.filter((s) => s.status === 'RUNNING');
  const refusals: RollbackRefusal[] = [];
  const plan: RollbackPlan = {
    target,
    step,
    stepsToDeactivate,
    resetTo: step.commitBefore ?? '',
    branch: null,
    head: null,
    detached: false,
    filesToChange: [],
    staged: [],
    unstaged: [],
    untrackedOverwritten: [],
    untrackedKept: [],
    ignoredOverwritten: [],
    foreignCommits: [],
    headOnLine: false,
    runningSteps,
    database,
    leftoverWal: false,
    protectedPaths: [],
    protectedKept: [],
    taskDatabase: taskDatabaseOf(target),
    refusals,
    needsProtection: false,
    summary: '',
  };

  if (!step.active) {
    refusals.push({
      code: 'STEP_NOT_ACTIVE',
      message: `${step.label} is already rolled back.`,
      remedy: 'Pick an active step; rolled-back steps are dimmed in the Steps view.',
    });
  }
  for (const s of runningSteps) {
    refusals.push({
      code: 'STEP_RUNNING',
      message: `${s.label} is still running.`,
      remedy: 'Wait for the step to finish (or stop the agent), then roll back.',
    });
  }
  const dbState = inspectDatabase(target.dbPath, { holders: options.holders });
  if (dbState.refusal) refusals.push({ ...dbState.refusal });
  plan.leftoverWal = dbState.leftoverWal;

  let repo: GitRepository;
  try {
    repo = await GitRepository.open(target.repositoryPath, { log });
  } catch (err) {
    if (err instanceof GitError && (err.code === 'NOT_A_REPOSITORY' || err.code === 'REPOSITORY_MISSING')) {
      refusals.push({ code: 'NOT_A_REPOSITORY', message: err.message, remedy: "Open the folder that holds the project's git repository." });
      plan.summary = summarize(plan);
      return plan;
    }
    throw err;
  }

  const [head, project] = await Promise.all([repo.head(), laforgeProjectOf(target.dbPath, log)]);
  plan.branch = head.branch;
  plan.head = head.sha;
  plan.detached = head.detached;
  if (head.detached) {
    refusals.push({
      code: 'DETACHED_HEAD',
      message: 'HEAD is detached: no branch is checked out, so there is no branch to move.',
      remedy: 'Check out the branch the steps were made on, then roll back.',
    });
  } else if (project?.mainBranch && head.branch && head.branch !== project.mainBranch) {
    refusals.push({
      code: 'NOT_MAIN_BRANCH',
      message: `${head.branch} is checked out, but this LaForge project merges its steps into ${project.mainBranch} (its project.json's main_branch).`,
      remedy: `Check out ${project.mainBranch}, then roll back.`,
    });
  }

  if (!isCommitHash(step.commitBefore)) {
    refusals.push({
      code: 'TARGET_COMMIT_INVALID',
      message: `${step.label}'s commit before (${JSON.stringify(String(step.raw.commitBefore ?? '')).slice(0, 60)}) is not a commit hash.`,
      remedy: 'The database does not say where this step started; pick another step.',
    });
    plan.summary = summarize(plan);
    return plan;
  }
  const resolved = await repo.refTarget(step.commitBefore);
  if (!resolved) {
    refusals.push({
      code: 'TARGET_COMMIT_MISSING',
      message: `Commit ${short(step.commitBefore)}, where ${step.label} started, is not in this repository.`,
      remedy: 'Fetch the commit (or open the repository the steps were made in), then try again.',
    });
    plan.summary = summarize(plan);
    return plan;
  }
  plan.resetTo = resolved;
  if (!head.sha) {
    plan.summary = summarize(plan);
    return plan;
  }

  const guard = new ProtectedPaths(repo.root, target.dbPath, options.journalDir);
  plan.protectedPaths = guard.all;
  // Each step's own commit (its Step-id note, its kept branch), not only the recorded commit
  // after: LaForge today records commit after = commit before. A kept, unmerged step-S<N>
  // branch is off HEAD's line by nature, so such a step counts by its recorded commit.
  const own = await new StepCommitResolver(repo, log).index().catch((err: unknown) => {
    logFailure(log, "[rollback] the steps' own commits", err, 'warn');
    return undefined;
  });
  const endOf = (s: Step): string | null => {
    const c = own?.resolve(s);
    return c?.commit && !c.notMerged ? c.commit : s.commitAfter;
  };
  const lastAfter = [...stepsToDeactivate].reverse().map(endOf).find((c) => c) ?? null;
  const [filesToChange, work, graph, onFromTarget, onFromLast] = await Promise.all([
    repo.changedFiles(head.sha, resolved),
    readWorkAtRisk(repo, resolved, guard),
    repo.commitGraph(resolved, head.sha),
    repo.isAncestor(resolved, head.sha),
    lastAfter ? repo.isAncestor(lastAfter, head.sha).catch(() => false) : Promise.resolve(true),
  ]);
  plan.filesToChange = filesToChange.filter((f) => !guard.has(f.path));
  plan.staged = work.staged;
  plan.unstaged = [...work.unstaged, ...work.conflicted.map((p): StatusEntry => ({ path: p, status: 'unmerged' }))];
  plan.untrackedOverwritten = work.untrackedOverwritten;
  const overwritten = new Set(work.untrackedOverwritten);
  plan.untrackedKept = work.untracked.filter((p) => !overwritten.has(p));
  plan.ignoredOverwritten = work.ignoredOverwritten;
  plan.protectedKept = work.protectedTouched;
  plan.headOnLine = onFromTarget && onFromLast;
  if (!plan.headOnLine) {
    refusals.push({
      code: 'HEAD_OFF_LINE',
      message: `${head.branch ?? 'HEAD'} (${short(head.sha)}) is not on the line of these steps: it does not descend from ${onFromTarget ? `the last step's commit ${short(lastAfter)}` : `${step.label}'s commit before ${short(resolved)}`}.`,
      remedy: 'Check out the branch the steps were made on, then roll back.',
    });
  }
  if (graph.size > 0) {
    const foreign = foreignCommitShas(graph, allSteps(store).map((s) => ({ commitBefore: s.commitBefore, commitAfter: endOf(s) })));
    if (foreign.size > 0) {
      const infos = await repo.commitsBetween(resolved, head.sha);
      const range = new Set(projectSteps.filter((s) => s.id >= target.stepId).map((s) => s.id));
      plan.foreignCommits = infos.filter((c) => foreign.has(c.sha) && !isStepsOwnCommit(c, range));
    }
  }
  plan.needsProtection = hasWorkAtRisk(work) || plan.foreignCommits.length > 0;
  plan.summary = summarize(plan);
  log.debug(`[rollback] ${plan.summary}`);
  return plan;
}

function summarize(plan: RollbackPlan): string {
  const { target, step } = plan;
  if (plan.refusals.length > 0) {
    return `Cannot roll back ${projectName(target.projectId)} to before ${step.label}: ${plan.refusals[0].message}`;
  }
  const ids = plan.stepsToDeactivate.map((s) => s.id);
  const steps = `${plural(ids.length, 'step')} (${describeStepIds(ids)}) ${ids.length === 1 ? 'becomes' : 'become'} inactive`;
  const branch = plan.branch ?? 'HEAD';
  const move =
    plan.head === plan.resetTo
      ? `${branch} stays at ${short(plan.resetTo)}`
      : `${branch} moves from ${short(plan.head)} to ${short(plan.resetTo)}, changing ${plural(plan.filesToChange.length, 'file')}`;
  const kept: string[] = [];
  const uncommitted = new Set([...plan.staged, ...plan.unstaged].map((e) => e.path)).size;
  if (uncommitted) kept.push(`${plural(uncommitted, 'uncommitted change')}`);
  const overwritten = plan.untrackedOverwritten.length + plan.ignoredOverwritten.length;
  if (overwritten) kept.push(`${plural(overwritten, 'untracked file')} the reset would overwrite`);
  if (plan.foreignCommits.length) kept.push(`${plural(plan.foreignCommits.length, 'commit')} no step made`);
  const safety = kept.length ? `; ${kept.join(', ')} must be kept safe first` : '';
  return `Roll back ${projectName(target.projectId)} to before ${step.label}: ${steps} and ${move}${safety}.`;
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
  /** Whether the user chose to keep uncommitted work and foreign commits safe first. */
  protect: boolean;
  /** The user chose to go ahead without knowing whether a WAL writer is gone. */
  assumeNoWriter?: boolean;
  /** The stash commit `stashRef` was made at. */
  stashCommit?: string;
  /** Protected files (the database in the work tree) kept before the reset, put back after it. */
  kept?: KeptFile[];
  /** A leftover write-ahead log folded into the database, kept as it was. */
  keptWal?: KeptFile[];
  /** The task database put back from LaForge's copy: the copy, the file, what was kept of it, and whether it is done. */
  tasks?: { backup: string; current: string; backupSha256?: string; kept?: KeptFile; restored?: boolean };
  /** An undo or revert under way: how far it got, and the files it kept around its reset. */
  restoring?: { kind: 'undo' | 'revert'; stage: 'started' | 'reset' | 'stash-applied'; kept: KeptFile[] };
  /** The database file as written by the rollback. */
  writtenDatabase?: DatabaseStamp;
  updatedAt: string;
  /** Why the rollback or its undo stopped, when it did. */
  lastError?: string;
}

export interface RollbackResult {
  journal: RollbackJournal;
  /** One sentence for the result message. */
  message: string;
  /** Things the user should know that did not stop the operation (a stash that did not apply cleanly). */
  warnings: string[];
}

// ---------------------------------------------------------------------------------------
// Journal

const JOURNAL_PREFIX = 'rollback-';

export function journalFile(journalDir: string, id: string): string {
  return path.join(journalDir, `${JOURNAL_PREFIX}${id}.json`);
}

/** The folder beside a journal where the bytes it kept are: `rollback-<id>.kept/`. */
export function keptFolder(journalDir: string, id: string): string {
  return path.join(journalDir, `${JOURNAL_PREFIX}${id}.kept`);
}

/** A time-ordered id that is also a valid ref name component: `20260101T120000123Z-1a2b3c`. */
function newJournalId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:.]/g, '')}-${crypto.randomBytes(3).toString('hex')}`;
}

function saveJournal(journalDir: string, journal: RollbackJournal, log: Logger): void {
  journal.updatedAt = new Date().toISOString();
  fs.mkdirSync(journalDir, { recursive: true });
  writeFileAtomic(journalFile(journalDir, journal.id), JSON.stringify(journal, null, 2) + '\n');
  log.debug(`[rollback] journal ${journal.id}: ${journal.phase}`);
}

const PHASES: readonly JournalPhase[] = ['planned', 'backed-up', 'git-reset', 'database-written', 'done', 'undone'];

function isJournal(value: unknown): value is RollbackJournal {
  const j = value as RollbackJournal;
  return (
    typeof j === 'object' && j !== null && typeof j.id === 'string' && /^[0-9A-Za-z-]+$/.test(j.id) &&
    PHASES.includes(j.phase) && typeof j.target?.dbPath === 'string' && typeof j.target?.repositoryPath === 'string' &&
    Array.isArray(j.stepIds) && j.stepIds.every((n) => Number.isInteger(n)) &&
    typeof j.branch === 'string' && isCommitHash(j.oldHead) && isCommitHash(j.resetTo) && typeof j.backupRef === 'string'
  );
}

/** Every readable journal in `journalDir`, newest first. Unreadable files are skipped (and logged). */
export async function readJournals(journalDir: string, log: Logger = silentLogger): Promise<RollbackJournal[]> {
  let names: string[];
  try {
    names = await fs.promises.readdir(journalDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const journals: RollbackJournal[] = [];
  for (const name of names) {
    if (!name.startsWith(JOURNAL_PREFIX) || !name.endsWith('.json')) continue;
    try {
      const parsed: unknown = JSON.parse(await fs.promises.readFile(path.join(journalDir, name), 'utf8'));
      if (isJournal(parsed)) journals.push(parsed);
      else log.warn(`[rollback] ${name} is not a rollback journal; skipped.`);
    } catch (err) {
      log.warn(`[rollback] could not read ${name}: ${String(err)}`);
    }
  }
  return journals.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

export async function pendingRollbacks(journalDir: string): Promise<RollbackJournal[]> {
  return (await readJournals(journalDir)).filter((j) => j.phase !== 'done' && j.phase !== 'undone');
}

export async function lastRollback(journalDir: string): Promise<RollbackJournal | undefined> {
  return (await readJournals(journalDir)).find((j) => j.phase === 'done');
}

// ---------------------------------------------------------------------------------------
// The step database around git's resets

/** Copies the protected files a reset would touch into the journal's kept folder. */
function keepProtected(root: string, rels: readonly string[], folder: string, tag: string): KeptFile[] {
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
async function restoreProtected(repo: GitRepository, kept: readonly KeptFile[] | undefined, log: Logger, warnings: string[]): Promise<string[]> {
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
      const warning = `${file.path} changed since Step History kept a copy of it; it was left as it is, and the copy is at ${file.copy}.`;
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
async function ensureDatabasePresent(journal: RollbackJournal, repo: GitRepository, log: Logger): Promise<void> {
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
  throw new RollbackError(
    'DATABASE_MISSING',
    `The step database ${dbPath} is missing, and this rollback kept no copy of it.`,
    'Put the database file back (from a backup, or where the agent keeps it), then finish or revert the rollback.',
  );
}

function dbWriteOptions(journal: RollbackJournal, options: ExecuteOptions, log: Logger, expected?: DatabaseStamp) {
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
    throw new RollbackError(
      'DATABASE_BUSY',
      `The task database ${path.basename(tasks.current)} has a write-ahead log beside it that the restored copy would not match.`,
      'Open it once with SQLite (for example `sqlite3 tasks.db "PRAGMA wal_checkpoint(TRUNCATE)"`), then finish the rollback.',
    );
  }
  log.info(`[rollback] restoring ${tasks.current} from ${tasks.backup}`);
  options.onProgress?.(`Restoring ${path.basename(tasks.current)} from ${path.basename(tasks.backup)}…`);
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

/** Puts the task database back as it was before the rollback, if it is still the restored copy. */
function putBackTaskDatabase(journal: RollbackJournal, log: Logger, warnings: string[]): void {
  const tasks = journal.tasks;
  if (!tasks?.kept || !tasks.backupSha256) return;
  const outcome = restoreKeptFile(tasks.kept, (current) => sha256(current) === tasks.backupSha256);
  if (outcome === 'restored') log.info(`[rollback] put back ${tasks.current} from ${tasks.kept.copy}`);
  if (outcome === 'changed-since') {
    const warning = `${tasks.current} changed since the rollback restored it; it was left as it is, and the task database from before the rollback is at ${tasks.kept.copy}.`;
    log.warn(`[rollback] ${warning}`);
    warnings.push(warning);
  }
}

/** The journal's steps, picked by the same predicate the store lists a project's rows with, whatever project_id holds. */
function projectRows(journal: RollbackJournal, active: boolean) {
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
    throw new RollbackError('REFUSED', first.message, first.remedy, refusals.map((r) => r.code).join(', '));
  }
  if (plan.needsProtection && !options.protect) throw needsProtection();
  if (!plan.branch || !plan.head || plan.detached) {
    throw new RollbackError('BRANCH_MOVED', 'No branch is checked out.', 'Check out the branch the steps were made on, then roll back.');
  }

  const dbState = inspectDatabase(target.dbPath, options);
  if (dbState.refusal) throw refusalError(dbState.refusal);
  if (!sameDatabaseStamp(plan.database, readDatabaseStamp(target.dbPath))) throw databaseChanged(target.dbPath);

  const repo = await GitRepository.open(target.repositoryPath, { log });
  const head = await repo.head();
  if (head.detached || head.branch !== plan.branch || head.sha !== plan.head) {
    throw new RollbackError(
      'BRANCH_MOVED',
      `${plan.branch} moved since the rollback was planned: it was at ${short(plan.head)}, HEAD is now ${head.branch ?? 'detached'} at ${short(head.sha)}.`,
      'Review the rollback again.',
    );
  }
  const work = await readWorkAtRisk(repo, plan.resetTo, new ProtectedPaths(repo.root, target.dbPath, options.journalDir));
  if (work.conflicted.length > 0) {
    throw new RollbackError(
      'REFUSED',
      `${plural(work.conflicted.length, 'file has', 'files have')} unresolved merge conflicts (${work.conflicted.slice(0, 3).join(', ')}).`,
      'Resolve or abort the merge first, then roll back.',
    );
  }
  if (!options.protect && hasWorkAtRisk(work)) throw needsProtection();

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
    throw new RollbackError('NOTHING_TO_UNDO', 'This rollback was already reverted.', undefined);
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
async function adoptInterruptedStash(journal: RollbackJournal, repo: GitRepository, journalDir: string, log: Logger): Promise<void> {
  if (!journal.protect || journal.stashRef) return;
  const top = await repo.refTarget('refs/stash');
  const topCommit = top ? (await repo.commitsBetween(journal.oldHead, top).catch(() => [])).find((c) => c.sha === top) : undefined;
  if (!top || !topCommit?.subject.endsWith(stashMessage(journal))) return;
  log.info(`[rollback] found the stash ${short(top)} made before the interruption`);
  journal.stashCommit = top;
  journal.stashRef = `refs/step-history/stash/${journal.id}`;
  saveJournal(journalDir, journal, log);
}

function needsProtection(): RollbackError {
  return new RollbackError(
    'NEEDS_PROTECTION',
    'The work tree has uncommitted changes, or the branch has commits no step made, that a rollback would discard.',
    'Choose to keep them safe first (a stash and a backup ref), or commit or move them, then roll back.',
  );
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
      progress(`Keeping ${journal.branch} at ${short(journal.oldHead)} under ${journal.backupRef}…`);
      const existing = await repo.refTarget(journal.backupRef);
      if (existing === null) await repo.updateRef(journal.backupRef, journal.oldHead, `Step History: before rolling back to ${journal.stepLabel}`, null);
      else if (existing !== journal.oldHead) throw new RollbackError('WRITE_FAILED', `${journal.backupRef} already points elsewhere.`, 'See the log for details.');
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
            progress(`Keeping ${plural(paths.length, 'uncommitted file')} in a stash…`);
            // A staged rename or deletion names a path no longer in the index, which git cannot
            // stash on its own: then everything is stashed (the untracked files kept included),
            // always without the step database and its files.
            const index = new Set(await repo.indexPaths());
            const partial = paths.every((p) => index.has(p) || onDisk(repo.root, p));
            if (!partial) log.info('[rollback] the index holds a rename or deletion: stashing every change');
            if (!partial && work.ignoredOverwritten.length > 0) {
              // Stashing everything with ignored files would sweep up every ignored file (build output, dependencies).
              throw new RollbackError(
                'REFUSED',
                `The index holds a rename or deletion, and the reset would overwrite ignored files (${work.ignoredOverwritten.slice(0, 3).join(', ')}).`,
                'Commit or unstage the rename or deletion, or move those ignored files elsewhere, then roll back.',
              );
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
        throw new RollbackError('BRANCH_MOVED', `${journal.branch} is no longer checked out (HEAD: ${head.branch ?? 'detached'}).`, `Check out ${journal.branch}, then finish or revert the rollback.`);
      }
      if (head.sha !== journal.resetTo) {
        if (head.sha !== journal.oldHead) {
          throw new RollbackError('BRANCH_MOVED', `${journal.branch} moved to ${short(head.sha)} since the rollback started at ${short(journal.oldHead)}.`, 'Review the rollback again.');
        }
        const work = await readWorkAtRisk(repo, journal.resetTo, guard);
        if (hasWorkAtRisk(work)) throw needsProtection();
        if (work.protectedTouched.length > 0) {
          // Git tracks the database (or the target tree has it): the reset would put an old
          // version in its place. Its bytes are kept and put back right after.
          if (expected && !sameDatabaseStamp(expected, readDatabaseStamp(journal.target.dbPath))) throw databaseChanged(journal.target.dbPath);
          journal.kept = keepProtected(repo.root, work.protectedTouched, keptFolder(options.journalDir, journal.id), 'rollback');
          saveJournal(options.journalDir, journal, log);
          await options.onStep?.('files-kept');
        }
        progress(`Resetting ${journal.branch} to ${short(journal.resetTo)}…`);
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
      progress(`Marking ${describeStepIds(journal.stepIds)} inactive…`);
      await ensureDatabasePresent(journal, repo, log);
      const result = await writeStepsActive(journal.target.dbPath, projectRows(journal, false), dbWriteOptions(journal, options, log, expected));
      journal.writtenDatabase = result.stamp;
      await advance('database-written');
    }

    if (journal.phase === 'database-written') await advance('done');
  } catch (err) {
    fail(err);
  }
  const message =
    `Rolled back ${projectName(journal.target.projectId)} to before ${journal.stepLabel}: ${describeStepIds(journal.stepIds)} inactive, ` +
    `${journal.branch} at ${short(journal.resetTo)}` +
    (journal.stashRef ? `, uncommitted work kept in ${journal.stashRef}` : '') +
    `; the previous state is kept under ${journal.backupRef}.`;
  log.info(`[rollback] ${message}`);
  return { journal, message, warnings };
}

// ---------------------------------------------------------------------------------------
// Revert and undo

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
  const what = kind === 'undo' ? 'undo' : 'revert';
  if (journal.phase === 'undone') throw new RollbackError('NOTHING_TO_UNDO', 'This rollback was already undone.');
  if (kind === 'undo' && journal.phase !== 'done') {
    throw new RollbackError('NOTHING_TO_UNDO', 'This rollback did not finish, so there is nothing to undo.', 'Finish or revert it instead.');
  }
  const progress = (message: string) => {
    log.info(`[rollback] ${message}`);
    options.onProgress?.(message);
  };
  const newWork = (message: string) =>
    new RollbackError('NEW_WORK', message, `Commit or stash that work first; the state before the rollback stays under ${journal.backupRef}.`);
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
    throw new RollbackError('BRANCH_MOVED', `${journal.branch} is not checked out (HEAD: ${head.branch ?? 'detached'}).`, `Check out ${journal.branch}, then ${what} the rollback.`);
  }
  const backup = (await repo.refTarget(journal.backupRef)) ?? journal.oldHead;
  const gitReset = head.sha === journal.resetTo && journal.resetTo !== journal.oldHead;
  if (!gitReset && head.sha !== journal.oldHead && journal.resetTo !== journal.oldHead) {
    if (kind === 'undo') throw newWork(`${journal.branch} has moved on since the rollback: it is at ${short(head.sha)}, not ${short(journal.resetTo)}.`);
    throw new RollbackError('BRANCH_MOVED', `${journal.branch} is at ${short(head.sha)}, where the rollback did not leave it.`, 'Move it back by hand, or keep it as it is.');
  }

  // Nothing may be lost going back: no uncommitted changes, nothing the backup's tree or the
  // stash's untracked files would overwrite.
  const work = gitReset ? await readWorkAtRisk(repo, backup, guard) : undefined;
  if (work && hasWorkAtRisk(work)) {
    const n = pathsToStash(work).length;
    throw newWork(`The work tree has ${plural(n, 'change')} made since the rollback that going back would overwrite.`);
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
    if (present.length > 0) throw newWork(`${plural(present.length, 'file')} kept in the stash now exist${present.length === 1 ? 's' : ''} again in the work tree (${present.slice(0, 3).join(', ')}).`);
  }

  // The steps: undo only when no newer step of the project became active since.
  const store = await StepStore.open(journal.target.dbPath, { wasmPath: options.wasmPath, log });
  let dbToRestore = false;
  try {
    const steps = store.steps(journal.target.projectId, { limit: store.stepCount(journal.target.projectId) + 1 });
    const ids = new Set(journal.stepIds);
    const first = Math.min(...journal.stepIds);
    const newer = steps.filter((s) => s.active && s.id > first && !ids.has(s.id));
    if (kind === 'undo' && newer.length > 0) {
      throw newWork(`${plural(newer.length, 'new step')} (${describeStepIds(newer.map((s) => s.id))}) ${newer.length === 1 ? 'was' : 'were'} recorded since the rollback.`);
    }
    dbToRestore = steps.some((s) => ids.has(s.id) && !s.active);
  } finally {
    store.close();
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
      progress(`Moving ${journal.branch} back to ${short(backup)}…`);
      await repo.resetHard(backup, journal.branch);
      await options.onStep?.('undo-branch-reset');
      await restoreProtected(repo, journal.restoring.kept, log, warnings);
      journal.restoring.stage = 'reset';
      save();
      await options.onStep?.('undo-files-restored');
    }
    if (stash && !stashApplied) {
      progress('Re-applying the stashed work…');
      try {
        await repo.stashApply(stash);
      } catch (err) {
        if (!(err instanceof GitError)) throw err;
        stashFailed = true;
        const warning = `The stashed work did not apply cleanly (${err.message}); it is kept under ${journal.stashRef}: run "git stash apply --index ${journal.stashRef}" after resolving.`;
        log.warn(`[rollback] ${warning}\n${err.detail ?? ''}`);
        warnings.push(warning);
      }
      journal.restoring = { kind, kept: journal.restoring?.kept ?? [], stage: 'stash-applied' };
      save();
      await options.onStep?.('undo-stash-applied');
    }
    putBackTaskDatabase(journal, log, warnings);
    if (dbToRestore) {
      progress(`Marking ${describeStepIds(journal.stepIds)} active again…`);
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
  const message =
    `${kind === 'undo' ? 'Undid' : 'Reverted'} the rollback of ${projectName(journal.target.projectId)} to before ${journal.stepLabel}: ` +
    `${journal.branch} is back at ${short(backup)}` +
    (dbToRestore ? ` and ${describeStepIds(journal.stepIds)} are active again` : '') +
    (stash && warnings.length === 0 ? ', with the stashed work re-applied' : '') +
    '.';
  log.info(`[rollback] ${message}`);
  return { journal, message, warnings };
}
