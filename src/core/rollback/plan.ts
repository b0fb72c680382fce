/**
 * The rollback plan: what a rollback to a step would change, read without changing anything,
 * and the refusals that stop it where it cannot be done safely.
 */
import * as l10n from '@vscode/l10n';
import * as fs from 'fs';
import * as path from 'path';
import { inspectDatabase, type DatabaseStamp } from '../databaseFile';
import { GitError, logFailure } from '../errors';
import { GitRepository, type ChangedFile, type CommitInfo, type StatusEntry } from '../git';
import { silentLogger, type Logger } from '../log';
import { isCommitHash, stepLabel, type Step } from '../model';
import type { HolderLookup } from '../openFiles';
import { laforgeProjectOf } from '../laforgeProject';
import { StepCommitResolver } from '../stepCommits';
import { StepStore, type ProjectSummary } from '../stepStore';
import type { Fingerprint } from '../fingerprint';
import { failures } from '../messages';
import { rollbackRefusals } from '../messages/rollback';
import { describeStepIds, projectName, short } from './words';
import { hasWorkAtRisk, ProtectedPaths, readWorkAtRisk } from './workTree';

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
    | RepositoryRefusalCode;
  message: string;
  remedy: string;
  /** The user may choose to go ahead anyway (`assumeNoWriter`), its risk stated in `remedy`. */
  overridable?: boolean;
  /** DATABASE_BUSY from an interrupted transaction: it does not end by itself (refusalReason). */
  interrupted?: boolean;
}

/**
 * The refusals that say the repository could not be opened at all (no git repository there,
 * the folder gone, git not installed): then nothing about the branch, the files or the work
 * tree was read, and what the plan would say of them follows from that, not from the tree.
 */
export type RepositoryRefusalCode = 'NOT_A_REPOSITORY' | 'REPOSITORY_MISSING' | 'GIT_MISSING';

const REPOSITORY_REFUSALS: ReadonlySet<string> = new Set<RepositoryRefusalCode>(['NOT_A_REPOSITORY', 'REPOSITORY_MISSING', 'GIT_MISSING']);

/** The plan's refusal saying the repository could not be opened, if it has one. */
export function repositoryRefusal(plan: Pick<RollbackPlan, 'refusals'>): RollbackRefusal | undefined {
  return plan.refusals.find((r) => REPOSITORY_REFUSALS.has(r.code));
}

/**
 * Why the repository at `folder` could not be opened, as a refusal in plain words; undefined
 * for a failure that is not about the repository being there (git failing on it).
 */
export function repositoryRefusalOf(err: unknown, folder: string): RollbackRefusal | undefined {
  if (!(err instanceof GitError)) return undefined;
  const where = path.resolve(folder);
  switch (err.code) {
    case 'NOT_A_REPOSITORY':
      return rollbackRefusals.notARepository({ where });
    case 'REPOSITORY_MISSING':
      return rollbackRefusals.repositoryMissing({ where });
    case 'GIT_MISSING':
      return rollbackRefusals.gitMissing();
    default:
      return undefined;
  }
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
  /**
   * The database as the views already read it (the store worker's), so planning does not open
   * and parse the file again on the caller's thread. Its fingerprint becomes the plan's stamp:
   * a file that changed after it was read makes the rollback stop with DATABASE_CHANGED.
   */
  store?: PlanStore;
}

type Awaitable<T> = T | Promise<T>;

/** What a plan reads of the database: LaForge's StepStore, or the store worker's proxy of one. */
export interface PlanStore {
  readonly fingerprint: Fingerprint;
  projects(): Awaitable<ProjectSummary[]>;
  steps(projectId: string, options?: { limit?: number }): Awaitable<Step[]>;
  step(id: number): Awaitable<Step | undefined>;
  stepCount(projectId?: string): Awaitable<number>;
}

/** Every step of every project in the store, for telling the steps' commits from others. */
async function allSteps(store: PlanStore): Promise<Step[]> {
  const out: Step[] = [];
  for (const project of await store.projects()) out.push(...(await store.steps(project.id, { limit: project.stepCount + 1 })));
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
  let plan: RollbackPlan;
  if (options.store) {
    plan = await buildPlan(options.store, target, options, log);
  } else {
    const store = await StepStore.open(target.dbPath, { wasmPath: options.wasmPath, log });
    try {
      plan = await buildPlan(store, target, options, log);
    } finally {
      store.close();
    }
  }
  log.info(
    `[rollback] planned ${target.projectId} S${target.stepId} in ${(performance.now() - t0).toFixed(1)} ms ` +
      `(${options.store ? 'the database as the store read it' : 'the database file opened for it'}): ` +
      `${plan.stepsToDeactivate.length} step(s), reset to ${short(plan.resetTo)}, ${plan.filesToChange.length} file(s), ` +
      `${plan.staged.length}/${plan.unstaged.length} staged/unstaged, ${plan.untrackedOverwritten.length} untracked overwritten, ` +
      `${plan.foreignCommits.length} foreign commit(s), refusals: ${plan.refusals.map((r) => r.code).join(', ') || 'none'}`,
  );
  return plan;
}

async function buildPlan(store: PlanStore, target: RollbackTarget, options: PlanOptions, log: Logger): Promise<RollbackPlan> {
  const step = await store.step(target.stepId);
  if (!step || step.projectId !== target.projectId) {
    throw failures.noSuchStep({ label: stepLabel(target.stepId), project: projectName(target.projectId) });
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
  const projectSteps = await store.steps(target.projectId, { limit: (await store.stepCount(target.projectId)) + 1 });
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
    refusals.push(rollbackRefusals.stepNotActive({ label: step.label }));
  }
  for (const s of runningSteps) {
    refusals.push(rollbackRefusals.stepRunning({ label: s.label }));
  }
  const dbState = inspectDatabase(target.dbPath, { holders: options.holders });
  if (dbState.refusal) refusals.push({ ...dbState.refusal });
  plan.leftoverWal = dbState.leftoverWal;

  let repo: GitRepository;
  try {
    repo = await GitRepository.open(target.repositoryPath, { log });
  } catch (err) {
    const refusal = repositoryRefusalOf(err, target.repositoryPath);
    if (!refusal) throw err;
    logFailure(log, '[rollback] opening the repository', err, 'warn');
    // First: it is why nothing else about the branch and the files could be read.
    refusals.unshift(refusal);
    plan.summary = summarize(plan);
    return plan;
  }

  const [head, project] = await Promise.all([repo.head(), laforgeProjectOf(target.dbPath, log)]);
  plan.branch = head.branch;
  plan.head = head.sha;
  plan.detached = head.detached;
  if (head.detached) {
    refusals.push(rollbackRefusals.detachedHead());
  } else if (project?.mainBranch && head.branch && head.branch !== project.mainBranch) {
    refusals.push(rollbackRefusals.notMainBranch({ branch: head.branch, mainBranch: project.mainBranch }));
  }

  if (!isCommitHash(step.commitBefore)) {
    refusals.push(rollbackRefusals.targetCommitInvalid({ label: step.label, value: JSON.stringify(String(step.raw.commitBefore ?? '')).slice(0, 60) }));
    plan.summary = summarize(plan);
    return plan;
  }
  const resolved = await repo.refTarget(step.commitBefore);
  if (!resolved) {
    refusals.push(rollbackRefusals.targetCommitMissing({ commit: short(step.commitBefore), label: step.label }));
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
    refusals.push(
      rollbackRefusals.headOffLine({
        branch: head.branch,
        head: short(head.sha),
        fromTarget: onFromTarget,
        commit: onFromTarget ? short(lastAfter) : short(resolved),
        label: step.label,
      }),
    );
  }
  if (graph.size > 0) {
    const foreign = foreignCommitShas(graph, (await allSteps(store)).map((s) => ({ commitBefore: s.commitBefore, commitAfter: endOf(s) })));
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

/**
 * The plan's one sentence for the confirmation: what the rollback does, or why it cannot. Each
 * clause is made whole (its own plural) and goes into a whole sentence for its number of
 * things to keep safe.
 */
function summarize(plan: RollbackPlan): string {
  const { target, step } = plan;
  const project = projectName(target.projectId);
  if (plan.refusals.length > 0) {
    return l10n.t({
      message: 'Cannot roll back {0} to before {1}: {2}',
      args: [project, step.label, plan.refusals[0].message],
      comment: '{0} a project, {1} a step label (S12), {2} the sentence saying why',
    });
  }
  const ids = plan.stepsToDeactivate.map((s) => s.id);
  const described = describeStepIds(ids);
  const steps = ids.length === 1
    ? l10n.t({ message: '1 step ({0}) becomes inactive', args: [described], comment: 'a clause of the rollback summary; {0} the step (S12)' })
    : l10n.t({ message: '{0} steps ({1}) become inactive', args: [ids.length, described], comment: 'a clause of the rollback summary; {1} the steps (S12–S14)' });
  const branch = plan.branch ?? 'HEAD';
  const files = plan.filesToChange.length;
  const move =
    plan.head === plan.resetTo
      ? l10n.t({ message: '{0} stays at {1}', args: [branch, short(plan.resetTo)], comment: 'a clause of the rollback summary; {0} a branch, {1} a commit' })
      : files === 1
        ? l10n.t({ message: '{0} moves from {1} to {2}, changing 1 file', args: [branch, short(plan.head), short(plan.resetTo)], comment: 'a clause of the rollback summary; {0} a branch, {1} and {2} commits' })
        : l10n.t({ message: '{0} moves from {1} to {2}, changing {3} files', args: [branch, short(plan.head), short(plan.resetTo), files], comment: 'a clause of the rollback summary; {0} a branch, {1} and {2} commits' });
  const kept: string[] = [];
  const uncommitted = new Set([...plan.staged, ...plan.unstaged].map((e) => e.path)).size;
  if (uncommitted) {
    kept.push(uncommitted === 1
      ? l10n.t({ message: '1 uncommitted change', comment: 'a thing a rollback must keep safe first' })
      : l10n.t({ message: '{0} uncommitted changes', args: [uncommitted], comment: 'a thing a rollback must keep safe first' }));
  }
  const overwritten = plan.untrackedOverwritten.length + plan.ignoredOverwritten.length;
  if (overwritten) {
    kept.push(overwritten === 1
      ? l10n.t({ message: '1 untracked file the reset would overwrite', comment: 'a thing a rollback must keep safe first' })
      : l10n.t({ message: '{0} untracked files the reset would overwrite', args: [overwritten], comment: 'a thing a rollback must keep safe first' }));
  }
  const foreign = plan.foreignCommits.length;
  if (foreign) {
    kept.push(foreign === 1
      ? l10n.t({ message: '1 commit no step made', comment: 'a thing a rollback must keep safe first' })
      : l10n.t({ message: '{0} commits no step made', args: [foreign], comment: 'a thing a rollback must keep safe first' }));
  }
  switch (kept.length) {
    case 0:
      return l10n.t({ message: 'Roll back {0} to before {1}: {2} and {3}.', args: [project, step.label, steps, move], comment: '{0} a project, {1} a step label (S12), {2} the steps that become inactive, {3} what happens to the branch' });
    case 1:
      return l10n.t({ message: 'Roll back {0} to before {1}: {2} and {3}; {4} must be kept safe first.', args: [project, step.label, steps, move, ...kept], comment: '{0} a project, {1} a step label (S12), {2} the steps that become inactive, {3} what happens to the branch, then the things to keep safe' });
    case 2:
      return l10n.t({ message: 'Roll back {0} to before {1}: {2} and {3}; {4}, {5} must be kept safe first.', args: [project, step.label, steps, move, ...kept], comment: '{0} a project, {1} a step label (S12), {2} the steps that become inactive, {3} what happens to the branch, then the things to keep safe' });
    default:
      return l10n.t({ message: 'Roll back {0} to before {1}: {2} and {3}; {4}, {5}, {6} must be kept safe first.', args: [project, step.label, steps, move, ...kept], comment: '{0} a project, {1} a step label (S12), {2} the steps that become inactive, {3} what happens to the branch, then the things to keep safe' });
  }
}
