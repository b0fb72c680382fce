/**
 * Each step's own commit. LaForge today records `commit_sha_after` equal to
 * `commit_sha_before`; the step's commit is the one whose git note says `Step-id: S<N>`, or the
 * tip of the branch `step-S<N>` LaForge keeps when the step failed or its merge conflicted. A
 * step's changes are its commit before → this commit.
 *
 * A StepCommitResolver answers for every step of a repository from a constant number of git
 * processes (notes list + one cat-file, two for-each-ref), kept until HEAD, a `step-S<N>`
 * branch, the notes ref, packed refs or the repository's configuration change. That check
 * reads a few small files under the git folder and runs no git process.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StepFieldError } from './errors';
import { parseStepId, type GitRepository } from './git';
import { silentLogger, type Logger } from './log';
import { isBlank, requireCommitAfter, requireCommitBefore, type Step } from './model';

/** Where a step's commit came from. */
export type StepCommitSource = 'recorded' | 'note' | 'branch' | 'none';

export interface StepCommit {
  source: StepCommitSource;
  /** The commit the step's changes end at; null when it made none (or, running, none yet). */
  commit: string | null;
  /** The branch `step-S<N>`, when the repository still has it. */
  branch: string | null;
  /** That branch's tip is not in HEAD's history: the step failed or its merge conflicted. */
  notMerged: boolean;
}

type StepRef = Pick<Step, 'id' | 'commitBefore' | 'commitAfter' | 'status'>;

/** The answer for every step, from one reading of the repository. */
export interface StepCommitIndex {
  resolve(step: StepRef): StepCommit;
}

/** Whether two stored hashes name the same commit (one may be abbreviated). */
export function sameCommit(a: string | null, b: string | null): boolean {
  if (!a || !b) return false;
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x.startsWith(y) || y.startsWith(x);
}

export interface StepCommitFacts {
  /** Note text by annotated object, as `GitRepository.notes` lists them. */
  notes: readonly { object: string; text: string }[];
  branches: readonly { name: string; stepId: number; commit: string; merged: boolean }[];
}

/** The resolution rules, from what git listed: recorded, else note, else branch, else none. */
export function stepCommitIndex({ notes, branches }: StepCommitFacts): StepCommitIndex {
  const noted = new Map<number, string[]>();
  for (const note of notes) {
    const id = parseStepId(note.text);
    if (!id) continue;
    const n = Number(id.slice(1));
    const list = noted.get(n);
    if (list) list.push(note.object);
    else noted.set(n, [note.object]);
  }
  const branchOf = new Map(branches.map((b) => [b.stepId, b]));
  return {
    resolve(step: StepRef): StepCommit {
      const branch = branchOf.get(step.id);
      // A running step's branch is its work tree's, not yet merged by design.
      const kept = { branch: branch?.name ?? null, notMerged: branch !== undefined && !branch.merged && step.status !== 'RUNNING' };
      const differs = (c: string | null | undefined): c is string => !!c && !sameCommit(c, step.commitBefore);
      if (differs(step.commitAfter)) return { source: 'recorded', commit: step.commitAfter, ...kept };
      const candidates = (noted.get(step.id) ?? []).filter(differs);
      if (candidates.length > 0) {
        // Two notes for one step (a re-run, a copy): the kept branch's tip is the one it ended on.
        const chosen = candidates.find((c) => branch && sameCommit(c, branch.commit)) ?? candidates[0];
        return { source: 'note', commit: chosen, ...kept };
      }
      if (differs(branch?.commit)) return { source: 'branch', commit: branch!.commit, ...kept };
      return { source: 'none', commit: null, ...kept };
    },
  };
}

/** Where the commit came from, as the details and tooltips say it. */
export function stepCommitSourceText(commit: StepCommit): string {
  switch (commit.source) {
    case 'recorded':
      return 'recorded';
    case 'note':
      return 'from its Step-id note';
    case 'branch':
      return `from branch ${commit.branch ?? 'step-S?'}`;
    case 'none':
      return 'none';
  }
}

/** `not merged (step-S9)` for a kept branch that is not in HEAD's history, else undefined. */
export function notMergedText(commit: StepCommit | undefined): string | undefined {
  return commit?.notMerged ? `not merged (${commit.branch ?? 'step branch'})` : undefined;
}

/** The step's commit for a summary: `abc1234 (from its Step-id note)`, or `made no commit`. */
export function stepCommitSummary(commit: StepCommit): string {
  if (!commit.commit) return 'made no commit';
  return `${commit.commit.slice(0, 7)} (${stepCommitSourceText(commit)})`;
}

/**
 * Both ends of the step's own change: its commit before → its commit. Refuses, with a
 * sentence, a step without a usable commit before, a running step without a commit yet, and
 * a step that made no commit (field `commit`, see isNoCommit).
 */
export function stepChange(step: Step, commit: StepCommit): { before: string; after: string } {
  const before = requireCommitBefore(step);
  if (commit.commit) return { before, after: commit.commit };
  if (step.status === 'RUNNING') {
    throw new StepFieldError(step.id, 'commitAfter', `${step.label} is still running and has no commit yet.`);
  }
  // A stored value that is not a hash says so rather than "made no commit".
  if (!step.commitAfter && !isBlank(step.raw.commitAfter)) requireCommitAfter(step);
  throw new StepFieldError(step.id, 'commit', `${step.label} made no commit.`);
}

/** The refusal stepChange gives a finished step that made no commit: a fact, not a failure. */
export const isNoCommit = (err: unknown): boolean => err instanceof StepFieldError && err.field === 'commit';

/**
 * The commit a step left the repository at: its own commit, else (it made none) its commit
 * after or, failing that, its commit before. A running step's is its commit before.
 */
export function stepEnd(step: Step, commit: StepCommit): string {
  if (commit.commit) return commit.commit;
  if (step.status === 'RUNNING') return requireCommitBefore(step);
  if (!step.commitAfter && !isBlank(step.raw.commitAfter)) requireCommitAfter(step);
  return step.commitAfter ?? requireCommitBefore(step);
}

export class StepCommitResolver {
  private dirs: { gitDir: string; commonDir: string } | undefined;
  private notesRef: string | undefined;
  private configStamp: string | undefined;
  private cached: { key: string; index: StepCommitIndex } | undefined;
  private pending: Promise<StepCommitIndex> | undefined;

  constructor(
    private readonly repo: GitRepository,
    private readonly log: Logger = silentLogger,
  ) {}

  /** Every step's commit; no git process when nothing that decides it changed since the last call. */
  index(): Promise<StepCommitIndex> {
    if (this.pending) return this.pending;
    const key = this.dirs && this.notesRef ? refsKey(this.dirs, this.notesRef) : null;
    if (key !== null && this.cached?.key === key) return Promise.resolve(this.cached.index);
    const pending = this.build().finally(() => {
      if (this.pending === pending) this.pending = undefined;
    });
    this.pending = pending;
    return pending;
  }

  private async build(): Promise<StepCommitIndex> {
    const started = performance.now();
    this.dirs ??= await this.repo.gitDirs();
    const config = configStamp(this.dirs);
    if (this.notesRef === undefined || config !== this.configStamp) {
      this.notesRef = await this.repo.notesRef();
      this.configStamp = config;
    }
    // Read before git runs: a ref that moves meanwhile changes the key, and the next call reads again.
    const key = refsKey(this.dirs, this.notesRef);
    const [notes, branches] = await Promise.all([this.repo.notes(), this.repo.stepBranches()]);
    const index = stepCommitIndex({ notes, branches });
    this.cached = key === null ? undefined : { key, index };
    this.log.debug(
      `[git] step commits of ${this.repo.root}: ${notes.length} note(s) on ${this.notesRef}, ${branches.length} step branch(es) (${(performance.now() - started).toFixed(1)} ms)`,
    );
    return index;
  }
}

function readOr(file: string, missing: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return missing;
    throw err;
  }
}

function stamp(file: string): string {
  try {
    const s = fs.statSync(file);
    // git replaces these files by renaming a new one over them: a new inode every time.
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return '-';
  }
}

function configStamp(dirs: { gitDir: string; commonDir: string }): string {
  return `${stamp(path.join(dirs.commonDir, 'config'))}|${stamp(path.join(dirs.gitDir, 'config.worktree'))}`;
}

/**
 * What decides every step's commit, read from the git folder without running git: HEAD and
 * the branch it names, the notes ref, each `step-S<N>` branch, packed refs, the configuration.
 * Null (always read again) for a repository whose refs are not files (the reftable format).
 */
export function refsKey(dirs: { gitDir: string; commonDir: string }, notesRef: string): string | null {
  try {
    if (fs.existsSync(path.join(dirs.commonDir, 'reftable'))) return null;
    const head = readOr(path.join(dirs.gitDir, 'HEAD'), '-');
    const parts = [head, configStamp(dirs), stamp(path.join(dirs.commonDir, 'packed-refs'))];
    const target = /^ref: (refs\/\S+)/.exec(head)?.[1];
    if (target) parts.push(readOr(path.join(dirs.commonDir, target), '-'));
    parts.push(readOr(path.join(dirs.commonDir, notesRef), '-'));
    let names: string[] = [];
    try {
      names = fs.readdirSync(path.join(dirs.commonDir, 'refs', 'heads')).filter((n) => /^step-S\d+$/.test(n)).sort();
    } catch {
      names = [];
    }
    for (const name of names) parts.push(`${name}=${readOr(path.join(dirs.commonDir, 'refs', 'heads', name), '-')}`);
    return parts.join('\n');
  } catch {
    return null;
  }
}
