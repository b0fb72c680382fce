/**
 * Each step's own commit. LaForge today records `commit_sha_after` equal to
 * `commit_sha_before`; the step's commit is the one whose git note says `Step-id: S<N>`, or the
 * tip of the branch `step-S<N>` LaForge keeps when the step failed or its merge conflicted. A
 * step's changes are its commit before → this commit.
 *
 * A StepCommitResolver answers for every step of a repository from a constant number of git
 * processes, run side by side: notes list and for-each-ref --no-merged=HEAD, notes get-ref only
 * when the configuration changed, and one cat-file only for notes whose text is not LaForge's
 * and was not read before. The step branches' tips come from the ref files. The answer is kept
 * until HEAD, a `step-S<N>` branch, the notes ref, packed refs or the repository's
 * configuration change. That check reads a few small files under the git folder and runs no
 * git process.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StepFieldError } from './errors';
import { blobId, blobKeyOf, hashAlgorithmOf, hexBytes, parseStepId, type GitRepository, type NoteListing } from './git';
import { silentLogger, type Logger } from './log';
import { watchFolder, type FolderWatch } from './folderWatch';
import { isBlank, requireCommitAfter, requireCommitBefore, type Step } from './model';
import { shortHash } from './figures';
import { failures } from './messages';

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
  /**
   * The steps a commit's note names, and those whose kept `step-S<N>` branch ends at it (full
   * hash, lower case), in ascending order: candidates only, since a step whose commit is
   * recorded is resolved by that record.
   */
  stepsNaming(commit: string): readonly number[];
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

const LAFORGE_NOTE_PREFIX = 'Step-id: S';

/** The step a note names, N of `Step-id: S<N>`; null for a note that names none. */
function noteStepNumber(text: string): number | null {
  // LaForge's own text, `Step-id: S<N>` with or without its newline, without a regular expression.
  if (text.startsWith(LAFORGE_NOTE_PREFIX)) {
    const end = text.endsWith('\n') ? text.length - 1 : text.length;
    let n = 0;
    let i = LAFORGE_NOTE_PREFIX.length;
    for (; i < end; i++) {
      const digit = text.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) break;
      n = n * 10 + digit;
    }
    if (i === end && end > LAFORGE_NOTE_PREFIX.length && Number.isSafeInteger(n)) return n;
  }
  const id = parseStepId(text);
  return id === undefined ? null : Number(id.slice(1));
}

/** The commits noted for each step: one, or several when more than one commit carries its note. */
type NotedCommits = Map<number, string | string[]>;

function addNoted(noted: NotedCommits, step: number, object: string): void {
  const known = noted.get(step);
  if (known === undefined) noted.set(step, object);
  else if (typeof known === 'string') noted.set(step, [known, object]);
  else known.push(object);
}

/** The resolution rules, from what git listed: recorded, else note, else branch, else none. */
export function stepCommitIndex({ notes, branches }: StepCommitFacts): StepCommitIndex {
  const noted: NotedCommits = new Map();
  for (const note of notes) {
    const n = noteStepNumber(note.text);
    if (n !== null) addNoted(noted, n, note.object);
  }
  return indexOf(noted, branches);
}

function indexOf(noted: NotedCommits, branches: StepCommitFacts['branches']): StepCommitIndex {
  const branchOf = new Map(branches.map((b) => [b.stepId, b]));
  let byCommit: Map<string, number[]> | undefined;
  const naming = (): Map<string, number[]> => {
    if (byCommit) return byCommit;
    byCommit = new Map();
    const add = (commit: string, step: number) => {
      const key = commit.toLowerCase();
      const steps = byCommit!.get(key);
      if (!steps) byCommit!.set(key, [step]);
      else if (!steps.includes(step)) steps.push(step);
    };
    for (const [step, commits] of noted) for (const c of typeof commits === 'string' ? [commits] : commits) add(c, step);
    for (const b of branches) if (b.commit) add(b.commit, b.stepId);
    for (const steps of byCommit.values()) steps.sort((a, b) => a - b);
    return byCommit;
  };
  return {
    stepsNaming: (commit) => naming().get(commit.toLowerCase()) ?? [],
    resolve(step: StepRef): StepCommit {
      const before = step.commitBefore;
      const branch = branchOf.get(step.id);
      // A running step's branch is its work tree's, not yet merged by design.
      const name = branch?.name ?? null;
      const notMerged = branch !== undefined && !branch.merged && step.status !== 'RUNNING';
      if (step.commitAfter && !sameCommit(step.commitAfter, before)) return { source: 'recorded', commit: step.commitAfter, branch: name, notMerged };
      // Two notes for one step (a re-run, a copy): the kept branch's tip is the one it ended on.
      let chosen: string | undefined;
      const commits = noted.get(step.id);
      for (const c of typeof commits === 'string' ? [commits] : commits ?? []) {
        if (!c || sameCommit(c, before)) continue;
        chosen ??= c;
        if (branch && sameCommit(c, branch.commit)) {
          chosen = c;
          break;
        }
      }
      if (chosen !== undefined) return { source: 'note', commit: chosen, branch: name, notMerged };
      if (branch?.commit && !sameCommit(branch.commit, before)) return { source: 'branch', commit: branch.commit, branch: name, notMerged };
      return { source: 'none', commit: null, branch: name, notMerged };
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
  return `${shortHash(commit.commit)} (${stepCommitSourceText(commit)})`;
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
    throw failures.runningNoCommit({ stepId: step.id, label: step.label });
  }
  // A stored value that is not a hash says so rather than "made no commit".
  if (!step.commitAfter && !isBlank(step.raw.commitAfter)) requireCommitAfter(step);
  throw failures.madeNoCommit({ stepId: step.id, label: step.label });
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

const DEFAULT_NOTES_REF = 'refs/notes/commits';

/** The notes ref each open repository's configuration names, with the stamp of that configuration. */
const notesRefs = new WeakMap<GitRepository, { config: string; ref: string }>();

export class StepCommitResolver {
  private dirs: { gitDir: string; commonDir: string } | undefined;
  private notesRef: string | undefined;
  private cached: { key: string; index: StepCommitIndex } | undefined;
  private pending: Promise<StepCommitIndex> | undefined;
  /** The step named by each note git was asked for (null: none), by blob id: a refresh reads only notes it has not seen. */
  private readonly steps = new Map<string, number | null>();

  constructor(
    private readonly repo: GitRepository,
    private readonly log: Logger = silentLogger,
  ) {}

  /**
   * What decides the steps' commits as the files say now (HEAD, the step branches, the notes
   * ref, packed refs, the configuration; see refsKey): a few small files read, no git process.
   * Null before the first answer, and where refs are not files.
   */
  refsState(): string | null {
    return this.dirs && this.notesRef ? refsKey(this.dirs, this.notesRef) : null;
  }

  /** The git folder and the common folder, once the first answer has read them. */
  get gitDirs(): { gitDir: string; commonDir: string } | undefined {
    return this.dirs && { ...this.dirs };
  }

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
    // The notes ref is asked for only when the configuration changed, and then beside the
    // listing: the key is read with the ref last known (git's default the first time), and
    // is kept only if git names that same ref.
    const known = notesRefs.get(this.repo);
    const askRef = known === undefined || known.config !== config;
    const keyRef = known?.ref ?? DEFAULT_NOTES_REF;
    // Read before git runs: a ref that moves meanwhile changes the key, and the next call reads again.
    const key = refsKey(this.dirs, keyRef);
    // The step branches' tips are in the ref files the key was read from; only whether each is
    // merged takes git, and no git when there are none. Refs git keeps otherwise (reftable) are listed by git.
    const tips = stepBranchTips(this.dirs.commonDir);
    const [notesRef, list, branches] = await Promise.all([
      askRef ? this.repo.notesRef() : keyRef,
      this.repo.noteList(),
      tips === null
        ? this.repo.stepBranches()
        : tips.length === 0
          ? [] // no step branch: nothing to ask git about
          : this.repo.unmergedStepBranches().then((unmerged) => tips.map((b) => ({ ...b, merged: unmerged !== null && !unmerged.has(b.name) }))),
    ]);
    this.notesRef = notesRef;
    notesRefs.set(this.repo, { config, ref: notesRef });
    const { noted, read } = await this.notedCommits(list);
    const index = indexOf(noted, branches);
    this.cached = key === null || notesRef !== keyRef ? undefined : { key, index };
    this.log.debug(
      `[git] step commits of ${this.repo.root}: ${list.length} note(s) on ${notesRef} (${read} read), ${branches.length} step branch(es) (${(performance.now() - started).toFixed(1)} ms)`,
    );
    return index;
  }

  /**
   * The commits each step's notes are on. The step a note names comes from its blob id for
   * LaForge's own texts, from this resolver's memory for a note read before, and otherwise
   * from its text, read by git (one cat-file for all of them).
   */
  private async notedCommits(list: NoteListing): Promise<{ noted: NotedCommits; read: number }> {
    const noted: NotedCommits = new Map();
    const algorithm = hashAlgorithmOf('0'.repeat(list.hashLength))!;
    const laforge = list.length > 0 ? laforgeNoteTable(algorithm) : undefined;
    const sort = (from: readonly number[]) => {
      const rest: number[] = [];
      const remembered = this.steps.size > 0;
      for (const i of from) {
        let step: number | null | undefined = laforge ? laforgeStep(laforge, list, i) : undefined;
        if (step === undefined && remembered) step = this.steps.get(list.blob(i));
        if (step === undefined) rest.push(i);
        else if (step !== null) addNoted(noted, step, list.object(i));
      }
      return rest;
    };
    const all = Array.from({ length: list.length }, (_, i) => i);
    let unknown = sort(all);
    if (laforge && unknown.length > 0 && extendLaforgeNoteTable(laforge, algorithm, unknown.map((i) => list.blobKey(i)), list.length)) unknown = sort(unknown);
    if (unknown.length === 0) return { noted, read: 0 };
    // Notes the ref no longer lists are forgotten, so this memory stays the size of the list.
    const listed = new Set(all.map((i) => list.blob(i)));
    for (const blob of this.steps.keys()) if (!listed.has(blob)) this.steps.delete(blob);
    for (const { blob, object, text } of await this.repo.noteTexts(unknown.map((i) => ({ blob: list.blob(i), object: list.object(i) })))) {
      const step = noteStepNumber(text);
      this.steps.set(blob, step);
      if (step !== null) addNoted(noted, step, object);
    }
    return { noted, read: unknown.length };
  }
}

/**
 * The blob ids of LaForge's note texts, `Step-id: S<N>\n` (what `git notes add -m` stores) and
 * `Step-id: S<N>`, by hash algorithm: each depends only on N, so it is computed (once per
 * process, for N = 1, 2, … as far as the notes need) instead of asking git for the text.
 */
const laforgeBlobs = new Map<'sha1' | 'sha256', LaforgeNoteTable>();

interface LaforgeNoteTable {
  /** Entries by their blob's key (blobKeyOf); entry e is step (e >> 1) + 1's text with (0) or without (1) its newline. */
  byKey: Map<number, number | number[]>;
  /** Each entry's blob id as hex digits' bytes, entry e from e × the hash length on, in one array. */
  digits: Uint8Array;
  /** How many entries. */
  entries: number;
  /** The texts of steps 1 to upTo are in the table. */
  upTo: number;
}

/** No more step ids are tried than this many per listed note, plus a margin: the rest are read by git. */
const LAFORGE_IDS_PER_NOTE = 2;
const LAFORGE_IDS_MARGIN = 1_024;

function laforgeNoteTable(algorithm: 'sha1' | 'sha256'): LaforgeNoteTable {
  let table = laforgeBlobs.get(algorithm);
  if (!table) laforgeBlobs.set(algorithm, (table = { byKey: new Map(), digits: new Uint8Array(0), entries: 0, upTo: 0 }));
  return table;
}

/** The step of note `i` when its blob is one of LaForge's texts in the table. */
function laforgeStep(table: LaforgeNoteTable, list: NoteListing, i: number): number | undefined {
  const entries = table.byKey.get(list.blobKey(i));
  const size = list.hashLength;
  if (typeof entries === 'number') return list.blobIs(i, table.digits, entries * size) ? (entries >> 1) + 1 : undefined;
  for (const e of entries ?? []) if (list.blobIs(i, table.digits, e * size)) return (e >> 1) + 1;
  return undefined;
}

/**
 * Extends the table with steps upTo + 1, upTo + 2, … until it holds a blob with each of the
 * `missing` keys, or up to a bound set by the number of notes. Whether it added anything.
 */
function extendLaforgeNoteTable(table: LaforgeNoteTable, algorithm: 'sha1' | 'sha256', missing: readonly number[], notes: number): boolean {
  const bound = LAFORGE_IDS_PER_NOTE * notes + LAFORGE_IDS_MARGIN;
  if (table.upTo >= bound) return false;
  const wanted = new Set(missing);
  while (wanted.size > 0 && table.upTo < bound) {
    const n = ++table.upTo;
    for (const text of [`Step-id: S${n}\n`, `Step-id: S${n}`]) {
      const blob = blobId(text, algorithm);
      const key = blobKeyOf(blob);
      const entry = table.entries++;
      if (table.digits.length < table.entries * blob.length) {
        const grown = new Uint8Array(Math.max(1_024, 2 * table.entries) * blob.length);
        grown.set(table.digits);
        table.digits = grown;
      }
      table.digits.set(hexBytes(blob), entry * blob.length);
      const known = table.byKey.get(key);
      table.byKey.set(key, known === undefined ? entry : typeof known === 'number' ? [known, entry] : [...known, entry]);
      wanted.delete(key);
    }
  }
  return true;
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

const STEP_BRANCH_FILE = /^step-S(\d+)$/;
const PACKED_STEP_BRANCH = /^([0-9a-f]{40}(?:[0-9a-f]{24})?) refs\/heads\/(step-S(\d+))$/gm;
const LOOSE_REF = /^([0-9a-f]{40}(?:[0-9a-f]{24})?)\n?$/;

/**
 * The tip of each branch `step-S<N>`, read from the ref files as git reads them (the loose ref,
 * else its line in packed-refs), in the order `git for-each-ref` lists them. Null when git must
 * be asked: refs kept in the reftable format, or a step branch that is not a plain hash.
 */
export function stepBranchTips(commonDir: string): { name: string; stepId: number; commit: string }[] | null {
  try {
    if (fs.existsSync(path.join(commonDir, 'reftable'))) return null;
    const tips = new Map<string, string>();
    for (const m of readOr(path.join(commonDir, 'packed-refs'), '').matchAll(PACKED_STEP_BRANCH)) tips.set(m[2], m[1]);
    const heads = path.join(commonDir, 'refs', 'heads');
    let names: string[] = [];
    try {
      names = fs.readdirSync(heads).filter((n) => STEP_BRANCH_FILE.test(n));
    } catch {
      names = [];
    }
    for (const name of names) {
      let text: string;
      try {
        text = fs.readFileSync(path.join(heads, name), 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // A folder holds refs below the name, not the branch; a file gone was deleted meanwhile.
        if (code === 'EISDIR' || code === 'ENOENT') continue;
        return null;
      }
      const m = LOOSE_REF.exec(text);
      if (!m) return null;
      tips.set(name, m[1]);
    }
    return [...tips.keys()].sort().map((name) => ({ name, stepId: Number(STEP_BRANCH_FILE.exec(name)![1]), commit: tips.get(name)! }));
  } catch {
    return null;
  }
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

/**
 * Calls `onChange` when a file that may decide the steps' commits changes: HEAD and packed
 * refs in the git folders, anything under `refs/` (branches, the notes ref). Other files there
 * change too (the index on every `git status`), so the caller asks StepCommitResolver.stale,
 * which compares the refs themselves, before reading anything again.
 */
export function watchStepRefs(dirs: { gitDir: string; commonDir: string }, onChange: () => void, log: Logger = silentLogger): FolderWatch {
  const watches = [
    watchFolder(dirs.gitDir, onChange, log, { recursive: false }),
    ...(dirs.commonDir !== dirs.gitDir ? [watchFolder(dirs.commonDir, onChange, log, { recursive: false })] : []),
    watchFolder(path.join(dirs.commonDir, 'refs'), onChange, log),
  ];
  return { dispose: () => watches.forEach((w) => w.dispose()) };
}
