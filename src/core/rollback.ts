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
import { GitError, RollbackError, StepDbError } from './errors';
import { be32, readFileHead } from './fingerprint';
import { otherProcessesHolding } from './openFiles';
import { GitRepository, type ChangedFile, type CommitInfo, type StatusEntry } from './git';
import { silentLogger, type Logger } from './log';
import { isCommitHash, stepLabel, type Step } from './model';
import { projectWhere } from './projectKey';
import { loadSqlJs } from './sqljs';
import { StepStore } from './stepStore';
import { readWalHeader, WAL_FRAME_HEADER_SIZE, WAL_HEADER_SIZE } from './wal';

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
  /** The file's inode: a writer that replaced the file by renaming changes it. */
  ino?: number;
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

const short = (sha: string | null | undefined): string => (sha ? sha.slice(0, 7) : '(none)');

/** What a reset to `resetTo` would destroy in the work tree, read now. */
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
 * `git reset --hard target` would overwrite.
 */
async function readWorkAtRisk(repo: GitRepository, target: string): Promise<WorkAtRisk> {
  const [status, treePaths, indexPaths] = await Promise.all([repo.status(), repo.treePaths(target), repo.indexPaths()]);
  const tracked = new Set(indexPaths);
  const untracked = new Set(status.untracked);
  const untrackedOverwritten: string[] = [];
  const ignoredOverwritten: string[] = [];
  const untrackedList = status.untracked;
  for (const p of treePaths ?? []) {
    if (tracked.has(p)) continue;
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
  return {
    branch: status.branch,
    head: status.head,
    detached: status.detached,
    staged: status.staged,
    unstaged: status.unstaged,
    conflicted: status.conflicted,
    untracked: status.untracked,
    untrackedOverwritten,
    ignoredOverwritten,
  };
}

/** Reads the database file's stamp: size, mtime, inode and the header's change counter. */
export function readDatabaseStamp(dbPath: string): DatabaseStamp {
  const head = readFileHead(dbPath, 100);
  if (!head) throw Object.assign(new Error(`ENOENT: no such file, open '${dbPath}'`), { code: 'ENOENT', path: dbPath });
  return { ...head.stamp, changeCounter: be32(head.header, 24) };
}

export function sameDatabaseStamp(a: DatabaseStamp, b: DatabaseStamp): boolean {
  return (
    a.size === b.size &&
    a.mtimeMs === b.mtimeMs &&
    a.changeCounter === b.changeCounter &&
    (a.ino === undefined || b.ino === undefined || a.ino === b.ino)
  );
}

/**
 * Why the database cannot be written now, or null: a `-wal` that holds frames (a writer's
 * transactions not yet checkpointed into the main file), or a hot `-journal` (a transaction
 * in progress, or one that crashed and must be rolled back by SQLite first).
 */
export function databaseBusyReason(dbPath: string): string | null {
  const header = readIfExists(dbPath, 20);
  const walMode = !!header && header.length >= 20 && (header[18] === 2 || header[19] === 2);
  if (walMode && (fs.existsSync(dbPath + '-wal') || fs.existsSync(dbPath + '-shm'))) {
    // SQLite removes both when the last connection closes; while one is open, a file renamed
    // over the database would not be the one that connection keeps writing to.
    return `another program has it open in WAL mode (${path.basename(dbPath)}-wal or -shm exists)`;
  }
  const wal = readIfExists(dbPath + '-wal');
  if (wal && wal.length > WAL_HEADER_SIZE) {
    const header = readWalHeader(wal);
    if (typeof header !== 'string' && wal.length >= WAL_HEADER_SIZE + WAL_FRAME_HEADER_SIZE + header.pageSize) {
      const at = WAL_HEADER_SIZE;
      if (be32(wal, at) !== 0 && be32(wal, at + 8) === header.salt1 && be32(wal, at + 12) === header.salt2) {
        return `its write-ahead log (${path.basename(dbPath)}-wal) holds transactions not yet written into the database file`;
      }
    }
  }
  const journal = readIfExists(dbPath + '-journal', 28);
  if (journal && journal.length > 0 && journal.some((b) => b !== 0)) {
    return `a transaction is in progress or was interrupted (${path.basename(dbPath)}-journal exists)`;
  }
  // In rollback-journal mode an idle writer leaves no file behind; the system may still say
  // who has the database open.
  const holders = otherProcessesHolding(dbPath);
  if (holders.length > 0) {
    const who = holders.map((h) => `${h.name} (pid ${h.pid})`).join(', ');
    return `another program has it open: ${who}`;
  }
  return null;
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

function readIfExists(file: string, limit = Number.MAX_SAFE_INTEGER): Buffer | undefined {
  return readFileHead(file, limit)?.header;
}

const busyRemedy =
  'Wait until the agent has finished writing (or close it), so that SQLite writes its log into the database file, then try again.';

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

export async function planRollback(target: RollbackTarget, options: PlanOptions = {}): Promise<RollbackPlan> {
  const log = options.log ?? silentLogger;
  const t0 = performance.now();
  const store = await StepStore.open(target.dbPath, { wasmPath: options.wasmPath, log });
  let plan: RollbackPlan;
  try {
    plan = await buildPlan(store, target, log);
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

async function buildPlan(store: StepStore, target: RollbackTarget, log: Logger): Promise<RollbackPlan> {
  const step = store.step(target.stepId);
  if (!step || step.projectId !== target.projectId) {
    throw new RollbackError(
      'REFUSED',
      `There is no step ${stepLabel(target.stepId)} in project ${target.projectId}.`,
      'Refresh the Steps view and pick a step from the list.',
    );
  }
  const fp = store.fingerprint.db!;
  const database: DatabaseStamp = { size: fp.size, mtimeMs: fp.mtimeMs, changeCounter: fp.changeCounter, ino: fp.ino };
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
  const busy = databaseBusyReason(target.dbPath);
  if (busy) refusals.push({ code: 'DATABASE_BUSY', message: `The step database is busy: ${busy}.`, remedy: busyRemedy });

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

  const head = await repo.head();
  plan.branch = head.branch;
  plan.head = head.sha;
  plan.detached = head.detached;
  if (head.detached) {
    refusals.push({
      code: 'DETACHED_HEAD',
      message: 'HEAD is detached: no branch is checked out, so there is no branch to move.',
      remedy: 'Check out the branch the steps were made on, then roll back.',
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

  const lastAfter = [...stepsToDeactivate].reverse().find((s) => s.commitAfter)?.commitAfter ?? null;
  const [filesToChange, work, graph, onFromTarget, onFromLast] = await Promise.all([
    repo.changedFiles(head.sha, resolved),
    readWorkAtRisk(repo, resolved),
    repo.commitGraph(resolved, head.sha),
    repo.isAncestor(resolved, head.sha),
    lastAfter ? repo.isAncestor(lastAfter, head.sha).catch(() => false) : Promise.resolve(true),
  ]);
  plan.filesToChange = filesToChange;
  plan.staged = work.staged;
  plan.unstaged = [...work.unstaged, ...work.conflicted.map((p): StatusEntry => ({ path: p, status: 'unmerged' }))];
  plan.untrackedOverwritten = work.untrackedOverwritten;
  const overwritten = new Set(work.untrackedOverwritten);
  plan.untrackedKept = work.untracked.filter((p) => !overwritten.has(p));
  plan.ignoredOverwritten = work.ignoredOverwritten;
  plan.headOnLine = onFromTarget && onFromLast;
  if (!plan.headOnLine) {
    refusals.push({
      code: 'HEAD_OFF_LINE',
      message: `${head.branch ?? 'HEAD'} (${short(head.sha)}) is not on the line of these steps: it does not descend from ${onFromTarget ? `the last step's commit ${short(lastAfter)}` : `${step.label}'s commit before ${short(resolved)}`}.`,
      remedy: 'Check out the branch the steps were made on, then roll back.',
    });
  }
  if (graph.size > 0) {
    const foreign = foreignCommitShas(graph, allSteps(store));
    if (foreign.size > 0) {
      const infos = await repo.commitsBetween(resolved, head.sha);
      plan.foreignCommits = infos.filter((c) => foreign.has(c.sha));
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
    return `Cannot roll back ${target.projectId} to before ${step.label}: ${plan.refusals[0].message}`;
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
  return `Roll back ${target.projectId} to before ${step.label}: ${steps} and ${move}${safety}.`;
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
  /**
   * Tests only: called after each phase is recorded in the journal. A throw here stops the
   * rollback as a crash would at that point.
   */
  afterPhase?: (phase: JournalPhase) => void | Promise<void>;
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
  /** Whether the user chose to keep uncommitted work and foreign commits safe first. */
  protect: boolean;
  /** The stash commit `stashRef` was made at. */
  stashCommit?: string;
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

function journalFile(journalDir: string, id: string): string {
  return path.join(journalDir, `${JOURNAL_PREFIX}${id}.json`);
}

/** A time-ordered id that is also a valid ref name component: `20260101T120000123Z-1a2b3c`. */
function newJournalId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:.]/g, '')}-${crypto.randomBytes(3).toString('hex')}`;
}

/** Writes `data` to `file` atomically: a temporary file in the same folder, flushed, renamed over it, the folder flushed. */
function writeFileAtomic(file: string, text: string, mode?: number): void {
  const data = Buffer.from(text, 'utf8');
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${crypto.randomBytes(4).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'wx', mode ?? 0o644);
  try {
    if (mode !== undefined) fs.fchmodSync(fd, mode);
    writeAll(fd, data);
    fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(dir);
}

function writeAll(fd: number, data: Uint8Array): void {
  for (let at = 0; at < data.length; ) at += fs.writeSync(fd, data, at, data.length - at);
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Windows cannot open or flush a folder; the rename is as durable as it gets there.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
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
// The database write

interface WriteResult {
  written: boolean;
  stamp: DatabaseStamp;
  changed: number;
}

/**
 * Sets `active` of the project's steps `ids` in the database file: the file read into sql.js,
 * updated there, exported, written to a temporary file in the same folder, flushed, and renamed
 * over the original only if the original is still as it was read (size, mtime, inode, change
 * counter) and no writer holds a -wal or hot -journal. With `expected`, the file must also be
 * as the plan read it. The file mode is kept, and so is WAL mode in the header (bytes 18/19),
 * which is safe because no -wal content exists at that moment.
 */
async function writeStepsActive(
  dbPath: string,
  projectId: string,
  ids: readonly number[],
  active: boolean,
  options: { expected?: DatabaseStamp; wasmPath?: string; log: Logger },
): Promise<WriteResult> {
  const { log } = options;
  const t0 = performance.now();
  const busy = databaseBusyReason(dbPath);
  if (busy) throw new RollbackError('DATABASE_BUSY', `The step database is busy: ${busy}.`, busyRemedy);

  const fd = fs.openSync(dbPath, 'r');
  let bytes: Buffer;
  let readStamp: DatabaseStamp;
  let mode: number;
  let owner: { uid: number; gid: number };
  try {
    const st = fs.fstatSync(fd);
    bytes = Buffer.alloc(st.size);
    if (st.size > 0) fs.readSync(fd, bytes, 0, st.size, 0);
    readStamp = { size: st.size, mtimeMs: st.mtimeMs, changeCounter: be32(bytes, 24), ino: st.ino };
    mode = st.mode & 0o7777;
    owner = { uid: st.uid, gid: st.gid };
  } finally {
    fs.closeSync(fd);
  }
  if (options.expected && !sameDatabaseStamp(options.expected, readStamp)) throw databaseChanged(dbPath);

  const walMode = bytes.length >= 20 && (bytes[18] === 2 || bytes[19] === 2);
  const image = new Uint8Array(bytes);
  if (walMode) {
    // sql.js has no WAL support; the header goes back to WAL mode after the export.
    image[18] = 1;
    image[19] = 1;
  }
  const SQL = await loadSqlJs(options.wasmPath);
  let db;
  try {
    db = new SQL.Database(image);
  } catch (err) {
    throw new StepDbError('CORRUPT', `SQLite could not open ${dbPath}.`, String(err));
  }
  let out: Uint8Array;
  let changed = 0;
  try {
    const value = active ? 1 : 0;
    // The rows the store lists under this project, whatever project_id holds.
    const project = projectWhere(projectId);
    const pending: number[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const marks = chunk.map(() => '?').join(',');
      const res = db.exec(`SELECT id FROM steps WHERE ${project.sql} AND id IN (${marks}) AND active IS NOT ?`, [...project.params, ...chunk, value]);
      for (const row of res[0]?.values ?? []) pending.push(Number(row[0]));
    }
    if (pending.length === 0) {
      log.info(`[rollback] ${dbPath}: ${describeStepIds(ids)} already ${active ? 'active' : 'inactive'}; nothing written.`);
      return { written: false, stamp: readStamp, changed: 0 };
    }
    db.run('BEGIN');
    for (let i = 0; i < pending.length; i += 500) {
      const chunk = pending.slice(i, i + 500);
      db.run(`UPDATE steps SET active = ? WHERE ${project.sql} AND id IN (${chunk.map(() => '?').join(',')})`, [value, ...project.params, ...chunk]);
      changed += db.getRowsModified();
    }
    db.run('COMMIT');
    out = db.export();
  } catch (err) {
    if (err instanceof RollbackError) throw err;
    throw new RollbackError('WRITE_FAILED', `Step History could not update the steps in ${dbPath}.`, 'See the log for details.', String(err));
  } finally {
    db.close();
  }
  if (walMode) {
    out[18] = 2;
    out[19] = 2;
  }

  const dir = path.dirname(dbPath);
  const tmp = path.join(dir, `.${path.basename(dbPath)}.step-history-${crypto.randomBytes(4).toString('hex')}.tmp`);
  try {
    const tfd = fs.openSync(tmp, 'wx', mode);
    try {
      fs.fchmodSync(tfd, mode);
      try {
        fs.fchownSync(tfd, owner.uid, owner.gid);
      } catch {
        // Only root may give a file away; then it belongs to whoever runs the editor.
      }
      writeAll(tfd, out);
      fs.fsyncSync(tfd);
    } finally {
      fs.closeSync(tfd);
    }
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw new RollbackError('WRITE_FAILED', `Step History could not write beside ${dbPath}.`, 'Check that the folder is writable and has free space.', String(err));
  }
  // The last moment before the rename: the file must still be the one read.
  const nowBusy = databaseBusyReason(dbPath);
  let now: DatabaseStamp | undefined;
  try {
    now = readDatabaseStamp(dbPath);
  } catch {
    now = undefined;
  }
  if (nowBusy || !now || !sameDatabaseStamp(readStamp, now)) {
    fs.rmSync(tmp, { force: true });
    if (nowBusy) throw new RollbackError('DATABASE_BUSY', `The step database is busy: ${nowBusy}.`, busyRemedy);
    throw databaseChanged(dbPath);
  }
  try {
    fs.renameSync(tmp, dbPath);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw new RollbackError('WRITE_FAILED', `Step History could not replace ${dbPath}.`, 'Check that the file is not locked by another program.', String(err));
  }
  fsyncDir(dir);
  const stamp = readDatabaseStamp(dbPath);
  log.info(
    `[rollback] ${dbPath}: ${plural(changed, 'step')} marked ${active ? 'active' : 'inactive'} ` +
      `(${out.length} bytes${walMode ? ', WAL mode kept' : ''}) in ${(performance.now() - t0).toFixed(1)} ms.`,
  );
  return { written: true, stamp, changed };
}

function databaseChanged(dbPath: string): RollbackError {
  return new RollbackError(
    'DATABASE_CHANGED',
    `The step database ${path.basename(dbPath)} changed since it was read: an agent wrote to it meanwhile.`,
    'Review the steps again and retry.',
  );
}

// ---------------------------------------------------------------------------------------
// Rollback

export async function executeRollback(plan: RollbackPlan, options: ExecuteOptions): Promise<RollbackResult> {
  const log = options.log ?? silentLogger;
  const { target } = plan;
  if (plan.refusals.length > 0) {
    const first = plan.refusals[0];
    throw new RollbackError('REFUSED', first.message, first.remedy, plan.refusals.map((r) => r.code).join(', '));
  }
  if (plan.needsProtection && !options.protect) throw needsProtection();
  if (!plan.branch || !plan.head || plan.detached) {
    throw new RollbackError('BRANCH_MOVED', 'No branch is checked out.', 'Check out the branch the steps were made on, then roll back.');
  }

  const busy = databaseBusyReason(target.dbPath);
  if (busy) throw new RollbackError('DATABASE_BUSY', `The step database is busy: ${busy}.`, busyRemedy);
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
  const work = await readWorkAtRisk(repo, plan.resetTo);
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
      const stashMessage = `Step History: before rolling back to ${journal.stepLabel} (${journal.id})`;
      if (journal.protect && !journal.stashRef) {
        // Stopped right after a stash push last time: the stash is the newest one, with this
        // rollback's id in its message.
        const top = await repo.refTarget('refs/stash');
        const topCommit = top ? (await repo.commitsBetween(journal.oldHead, top).catch(() => [])).find((c) => c.sha === top) : undefined;
        if (top && topCommit?.subject.endsWith(stashMessage)) {
          log.info(`[rollback] found the stash ${short(top)} made before the interruption`);
          journal.stashCommit = top;
          journal.stashRef = `refs/step-history/stash/${journal.id}`;
          saveJournal(options.journalDir, journal, log);
        }
      }
      if (journal.stashRef && journal.stashCommit && (await repo.refTarget(journal.stashRef)) === null) {
        await repo.updateRef(journal.stashRef, journal.stashCommit, `Step History: work kept before rolling back to ${journal.stepLabel}`, null);
      }
      if (journal.protect && !journal.stashRef) {
        const head = await repo.head();
        if (head.sha === journal.oldHead && head.branch === journal.branch) {
          const work = await readWorkAtRisk(repo, journal.resetTo);
          const paths = pathsToStash(work);
          if (paths.length > 0) {
            progress(`Keeping ${plural(paths.length, 'uncommitted file')} in a stash…`);
            // A staged rename or deletion names a path no longer in the index, which git cannot
            // stash on its own: then everything is stashed (the untracked files kept included).
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
            const stash = await repo.stashPush(stashMessage, partial ? paths : 'everything', {
              includeIgnored: work.ignoredOverwritten.length > 0,
            });
            if (stash) {
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
        if (hasWorkAtRisk(await readWorkAtRisk(repo, journal.resetTo))) throw needsProtection();
        progress(`Resetting ${journal.branch} to ${short(journal.resetTo)}…`);
        await repo.resetHard(journal.resetTo, journal.branch);
      }
      await advance('git-reset');
    }

    if (journal.phase === 'git-reset') {
      progress(`Marking ${describeStepIds(journal.stepIds)} inactive…`);
      const result = await writeStepsActive(journal.target.dbPath, journal.target.projectId, journal.stepIds, false, {
        expected,
        wasmPath: options.wasmPath,
        log,
      });
      journal.writtenDatabase = result.stamp;
      await advance('database-written');
    }

    if (journal.phase === 'database-written') await advance('done');
  } catch (err) {
    fail(err);
  }
  const message =
    `Rolled back ${journal.target.projectId} to before ${journal.stepLabel}: ${describeStepIds(journal.stepIds)} inactive, ` +
    `${journal.branch} at ${short(journal.resetTo)}` +
    (journal.stashRef ? `, uncommitted work kept in ${journal.stashRef}` : '') +
    `; the previous state is kept under ${journal.backupRef}.`;
  log.info(`[rollback] ${message}`);
  return { journal, message, warnings: [] };
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
 * takes a rollback stopped in any phase.
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

  const repo = await GitRepository.open(journal.target.repositoryPath, { log });
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
  const work = gitReset ? await readWorkAtRisk(repo, backup) : undefined;
  if (work && hasWorkAtRisk(work)) {
    const n = pathsToStash(work).length;
    throw newWork(`The work tree has ${plural(n, 'change')} made since the rollback that going back would overwrite.`);
  }
  const stash = journal.stashRef ? ((await repo.refTarget(journal.stashRef)) ?? journal.stashCommit ?? null) : null;
  if (stash) {
    const stashedUntracked = (await repo.treePaths(stash, 3)) ?? [];
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
    const busy = databaseBusyReason(journal.target.dbPath);
    if (busy) throw new RollbackError('DATABASE_BUSY', `The step database is busy: ${busy}.`, busyRemedy);
  }

  const warnings: string[] = [];
  try {
    if (gitReset) {
      progress(`Moving ${journal.branch} back to ${short(backup)}…`);
      await repo.resetHard(backup, journal.branch);
    }
    if (stash) {
      progress('Re-applying the stashed work…');
      try {
        await repo.stashApply(stash);
      } catch (err) {
        if (!(err instanceof GitError)) throw err;
        const warning = `The stashed work did not apply cleanly (${err.message}); it is kept under ${journal.stashRef}: run "git stash apply --index ${journal.stashRef}" after resolving.`;
        log.warn(`[rollback] ${warning}\n${err.detail ?? ''}`);
        warnings.push(warning);
      }
    }
    if (dbToRestore) {
      progress(`Marking ${describeStepIds(journal.stepIds)} active again…`);
      const result = await writeStepsActive(journal.target.dbPath, journal.target.projectId, journal.stepIds, true, { wasmPath: options.wasmPath, log });
      journal.writtenDatabase = result.stamp;
    }
  } catch (err) {
    journal.lastError = err instanceof Error ? err.message : String(err);
    saveJournal(options.journalDir, journal, log);
    throw err;
  }
  journal.phase = 'undone';
  delete journal.lastError;
  saveJournal(options.journalDir, journal, log);
  const message =
    `${kind === 'undo' ? 'Undid' : 'Reverted'} the rollback of ${journal.target.projectId} to before ${journal.stepLabel}: ` +
    `${journal.branch} is back at ${short(backup)}` +
    (dbToRestore ? ` and ${describeStepIds(journal.stepIds)} are active again` : '') +
    (stash && warnings.length === 0 ? ', with the stashed work re-applied' : '') +
    '.';
  log.info(`[rollback] ${message}`);
  return { journal, message, warnings };
}

