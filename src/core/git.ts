/**
 * Git operations for Step History, over simple-git: reading, and the few writes rollback and
 * undo need (Step History's own refs, a hard reset of the named branch, stash push and apply).
 *
 * Commit references handed to this module usually come from a step database, so they are
 * untrusted: each one is checked as 4 to 64 hex digits before any git process exists, and
 * then placed where git cannot read it as an option (after `--end-of-options`, or at the
 * front of a `<sha>^{commit}` / `<sha>^{commit}:<path>` object name, which starts with a hex
 * digit). Paths only ever appear after `--` or inside such an object name. No shell is used,
 * and no database value goes through a simple-git API that builds options from strings or
 * objects: every call passes a complete argv array. Refs written are only
 * `refs/step-history/backup|stash/<name>`, built by Step History from a timestamp.
 */

import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GitError as SimpleGitError, simpleGit, type SimpleGit } from 'simple-git';
import { parseBlamePorcelain, type BlameLine } from './blame';
import { GitError } from './errors';
import { silentLogger, type Logger } from './log';
import { isCommitHash } from './model';
import { shortHash } from './figures';
import { failures } from './messages';
import type { GitOutput } from './messages/git';

export type ChangeStatus =
  | 'added'
  | 'modified'
  | 'deleted'
  | 'renamed'
  | 'copied'
  | 'typeChanged'
  | 'unmerged'
  | 'unknown';

export interface ChangedFile {
  path: string;
  /** The path before a rename or copy. */
  oldPath?: string;
  status: ChangeStatus;
  /** Lines added; null for binary files. */
  added: number | null;
  /** Lines removed; null for binary files. */
  removed: number | null;
  binary: boolean;
  /** Rename or copy similarity, 0 to 100. */
  similarity?: number;
}

export interface CommitInfo {
  sha: string;
  subject: string;
  /** e.g. "S12", from a `Step-id: S12` git note, or from a `Step-id:` trailer in the message. */
  stepId?: string;
}

export interface StatusEntry {
  path: string;
  oldPath?: string;
  status: ChangeStatus;
}

export interface WorkingTreeStatus {
  branch: string | null;
  /** The commit HEAD points at; null in a repository without commits. */
  head: string | null;
  detached: boolean;
  staged: StatusEntry[];
  unstaged: StatusEntry[];
  untracked: string[];
  conflicted: string[];
}

export interface HeadInfo {
  sha: string | null;
  branch: string | null;
  detached: boolean;
}

export interface GitRepositoryOptions {
  log?: Logger;
  /** The git executable, from trusted configuration (never from a database). Defaults to `git` on PATH. */
  gitBinary?: string;
}

/**
 * Returns `value` if it is a commit hash (4 to 64 hex digits); otherwise throws GitError
 * INVALID_COMMIT without running anything.
 */
export function requireCommitHash(value: unknown): string {
  if (isCommitHash(value)) return value;
  throw failures.notACommitHash({ value: describeValue(value) }, `rejected commit reference: ${describeValue(value, 500)}`);
}

/** Refuses, before git runs, a path that is not text or is empty or holds a NUL: NOT_IN_COMMIT, naming `commit`. */
function requireFilePath(filePath: unknown, commit: string): asserts filePath is string {
  if (typeof filePath !== 'string' || filePath.length === 0 || filePath.includes('\0')) {
    throw failures.notInCommit({ file: describeValue(filePath), commit }, `invalid path: ${describeValue(filePath, 500)}`);
  }
}

const STEP_HISTORY_REF = /^refs\/step-history\/(?:backup|stash)\/[0-9A-Za-z][0-9A-Za-z._-]{0,80}$/;

/** Returns `ref` if it is one of Step History's own refs (`refs/step-history/backup|stash/<name>`). */
export function requireStepHistoryRef(ref: unknown): string {
  if (typeof ref === 'string' && STEP_HISTORY_REF.test(ref) && !ref.includes('..') && !ref.endsWith('.lock') && !ref.endsWith('.')) return ref;
  throw failures.notAStepHistoryRef({ ref: describeValue(ref) }, `rejected ref: ${describeValue(ref, 500)}`);
}

/** A ref that may be read: Step History's own, `refs/stash`, or a commit hash. */
function requireReadableRef(ref: unknown): string {
  if (ref === 'refs/stash' || ref === 'HEAD') return ref;
  if (isCommitHash(ref)) return ref;
  return requireStepHistoryRef(ref);
}

const oneLine = (text: string): string => text.replace(/[\r\n\0]+/g, ' ').slice(0, 300);

function describeValue(value: unknown, limit = 80): string {
  if (value === undefined) return 'An empty value';
  if (value === null) return 'An empty value';
  const text = typeof value === 'string' ? value : String(value);
  const shown = text.length > limit ? `${text.slice(0, limit)}…` : text;
  // JSON quoting keeps control characters (newlines, escapes) visible and inert.
  return JSON.stringify(shown);
}

const shortSha = (sha: string): string => shortHash(sha);

/** A repository folder that is not there (moved, or never made). */
const folderMissing = (folder: string, err: unknown): GitError => failures.folderMissing({ folder }, String(err));

/**
 * A git process that failed: its exit code and stderr. It extends simple-git's error so that
 * simple-git passes it through unchanged instead of wrapping it.
 */
class GitProcessFailure extends SimpleGitError {
  constructor(
    readonly exitCode: number,
    readonly stderr: string,
  ) {
    super(undefined, stderr || `git exited with code ${exitCode}`);
  }
}

interface FailureContext {
  /** The argv given to git, for the log detail. */
  args: readonly string[];
  /** The commits the command was about; the first is named in UNKNOWN_COMMIT unless narrowed. */
  commits?: readonly string[];
  /** The path the command was about (fileAt). */
  path?: string;
  /** The folder, for NOT_A_REPOSITORY. */
  folder?: string;
}

const UNKNOWN_COMMIT_PATTERNS = [
  /unknown revision/i,
  /bad object/i,
  /bad revision/i,
  /not a valid object name/i,
  /invalid object name/i,
  /expected commit type/i,
  /needed a single revision/i,
];
const NOT_IN_COMMIT_PATTERN = /^fatal: (?:path '[\s\S]*' (?:does not exist in|exists on disk, but not in) '|no such path '[\s\S]*' in |[\s\S]*: bad file$|'[\s\S]*' is outside repository)/m;

/** The one place a git failure becomes a GitError with a user sentence and a log detail. */
export function toGitError(err: unknown, context: FailureContext): GitError {
  if (err instanceof GitError) return err;
  const stderr = err instanceof GitProcessFailure ? err.stderr : err instanceof Error ? err.message : String(err);
  const exit = err instanceof GitProcessFailure ? ` (exit ${err.exitCode})` : '';
  const detail = `git ${formatArgs(context.args)}${exit}\n${stderr.trimEnd()}`;

  // Checked first: git prints these only once the commit resolved, and they quote the path,
  // which may itself contain any phrase matched below.
  if (context.path !== undefined && NOT_IN_COMMIT_PATTERN.test(stderr)) {
    const commit = context.commits?.[0];
    return failures.notInCommit({ file: JSON.stringify(context.path), commit: commit ? shortSha(commit) : null }, detail);
  }
  if (/\bspawn\b[\s\S]*\b(?:ENOENT|EACCES|ENOTDIR)\b/.test(stderr)) {
    return failures.gitMissing({}, detail);
  }
  if (/not a git repository/i.test(stderr) || /must be run in a work tree/i.test(stderr)) {
    return failures.notAWorkTree({ folder: context.folder ?? null }, detail);
  }
  if (UNKNOWN_COMMIT_PATTERNS.some((p) => p.test(stderr))) {
    const commit = context.commits?.[0];
    return failures.unknownCommit({ commit: commit ? shortSha(commit) : null }, detail);
  }
  const firstLine = stderr
    .split('\n')
    .map((l) => l.replace(/^(?:fatal|error): /, '').trim())
    .find((l) => l.length > 0);
  return failures.gitFailed({ said: firstLine ?? null }, detail);
}

function formatArgs(args: readonly string[]): string {
  return args.map((a) => (/^[\w@%^{}:./=,+-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

/**
 * Variables left out of git's environment: those simple-git refuses to be handed (it would
 * strip them if inherited), and locale settings that LC_ALL=C replaces.
 */
const DROPPED_ENV = new Set(['EDITOR', 'PAGER', 'PREFIX', 'SSH_ASKPASS', 'VISUAL', 'LANGUAGE', 'LANG']);

/** The environment every git process runs in: ambient GIT_* and locale settings removed, no prompts, no optional locks. */
export function gitEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    const upper = key.toUpperCase();
    // Ambient GIT_* (GIT_DIR, GIT_INDEX_FILE from a hook, ...) would point git elsewhere.
    if (upper.startsWith('GIT_') || upper.startsWith('LC_') || DROPPED_ENV.has(upper)) continue;
    env[key] = value;
  }
  env.LC_ALL = 'C';
  env.GIT_TERMINAL_PROMPT = '0';
  // Keeps `git status` from taking index.lock to refresh stat data behind the user's back.
  env.GIT_OPTIONAL_LOCKS = '0';
  return env;
}

const SAFE_BINARY = /^([a-z]:)?([a-z0-9/.\\_~-]+)$/i;

function createGit(baseDir: string, gitBinary: string | undefined): SimpleGit {
  const binary = gitBinary ?? 'git';
  return simpleGit({
    baseDir,
    binary,
    trimmed: false,
    allowEnvironment: ['GIT_TERMINAL_PROMPT', 'GIT_OPTIONAL_LOCKS'],
    // A configured absolute path such as "C:\Program Files\Git\bin\git.exe" is spawned
    // directly, without a shell, so spaces in it are harmless.
    unsafe: { allowUnsafeCustomBinary: !SAFE_BINARY.test(binary) && path.isAbsolute(binary) },
    // simple-git treats a non-zero exit without stderr as success; every non-zero exit is a failure here.
    errors(error, result) {
      if (result.exitCode === 0 && !error) return undefined;
      const stderr = Buffer.concat(result.stdErr).toString('utf8');
      const fallback = Buffer.isBuffer(error) ? error.toString('utf8') : error instanceof Error ? error.message : '';
      return new GitProcessFailure(result.exitCode, stderr || fallback);
    },
  }).env(gitEnvironment());
}

/** Options that keep a user's diff configuration from changing what is parsed. */
const DIFF_OPTIONS = ['--no-color', '--no-ext-diff', '--no-textconv', '--no-relative'];

export class GitRepository {
  private constructor(
    readonly root: string,
    private readonly git: SimpleGit,
    private readonly log: Logger,
    private readonly binary = 'git',
    private readonly dirs?: { gitDir: string; commonDir: string },
  ) {}

  /**
   * Opens the git work tree containing `repoPath`. REPOSITORY_MISSING if the folder does not
   * exist, NOT_A_REPOSITORY if it is not in a git work tree, GIT_MISSING if git cannot run.
   */
  static async open(repoPath: string, options: GitRepositoryOptions = {}): Promise<GitRepository> {
    const log = options.log ?? silentLogger;
    if (typeof repoPath !== 'string' || repoPath.length === 0 || repoPath.includes('\0')) {
      throw failures.noRepositoryFolder({}, `repoPath: ${describeValue(repoPath, 500)}`);
    }
    const folder = path.resolve(repoPath);
    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(folder);
    } catch (err) {
      throw folderMissing(folder, err);
    }
    if (!stat.isDirectory()) {
      throw failures.folderIsFile({ folder }, `not a directory: ${folder}`);
    }
    let git: SimpleGit;
    try {
      git = createGit(folder, options.gitBinary);
    } catch (err) {
      throw folderMissing(folder, err);
    }
    const probe = new GitRepository(folder, git, log);
    // The git folders come in the same process: they stay the work tree's for as long as it is open.
    const [root, gitDir, commonDir] = (await probe.text(['rev-parse', '--show-toplevel', '--absolute-git-dir', '--git-common-dir'], { folder })).split('\n');
    if (!root) {
      throw failures.notAWorkTree({ folder }, 'git rev-parse --show-toplevel printed nothing');
    }
    if (!gitDir || !commonDir) throw unexpected('gitFolders', `${gitDir}\n${commonDir}`);
    log.info(`[git] opened repository ${root}`);
    // --git-common-dir may be relative: to the folder git ran in.
    const dirs = { gitDir, commonDir: path.resolve(folder, commonDir) };
    return new GitRepository(root, createGit(root, options.gitBinary), log, options.gitBinary ?? 'git', dirs);
  }

  /** Files changed between two commits, in one git process. */
  async changedFiles(before: string, after: string): Promise<ChangedFile[]> {
    const from = requireCommitHash(before);
    const to = requireCommitHash(after);
    const args = [
      'diff', '--raw', '--numstat', '-z', '-M', ...DIFF_OPTIONS,
      '--end-of-options', `${from}^{commit}`, `${to}^{commit}`, '--',
    ];
    return parseDiffOutput(await this.textNamingCommit(args, [from, to]));
  }

  /**
   * Tracked files that differ between `commit` and the files in the work tree, in one git
   * process. Paths are relative to the repository root. Untracked files are not listed
   * (see `status().untracked`).
   */
  async changedFilesAgainstWorkingTree(commit: string): Promise<ChangedFile[]> {
    const from = requireCommitHash(commit);
    const args = ['diff', '--raw', '--numstat', '-z', '-M', ...DIFF_OPTIONS, '--end-of-options', `${from}^{commit}`, '--'];
    return parseDiffOutput(await this.text(args, { commits: [from] }));
  }

  /** The bytes of `filePath` as stored in `commit`. */
  async fileAt(commit: string, filePath: string): Promise<Buffer> {
    const sha = requireCommitHash(commit);
    requireFilePath(filePath, shortSha(sha));
    // `<sha>^{commit}:<path>` starts with a hex digit, so git reads it as an object name;
    // `^{commit}` makes a blob or tree hash fail as an unknown commit rather than be read.
    const args = ['cat-file', 'blob', `${sha}^{commit}:${filePath}`];
    return this.invoke(args, { args, commits: [sha], path: filePath }, async () => {
      const out: unknown = await this.git.binaryCatFile(args.slice(1));
      if (!Buffer.isBuffer(out)) throw new Error('git cat-file did not return bytes');
      return out;
    });
  }

  /**
   * `git blame --porcelain` of `filePath` (relative to the repository's root) as it is in the
   * work tree, uncommitted lines included, following its renames: read by blame.ts.
   */
  async blame(filePath: string): Promise<BlameLine[]> {
    requireFilePath(filePath, 'HEAD');
    // After `--`, the path is a path whatever it starts with.
    const output = await this.text(['blame', '--porcelain', '--', filePath], { path: filePath });
    try {
      return parseBlamePorcelain(output);
    } catch (err) {
      throw unexpected('blame', `git blame --porcelain -- ${JSON.stringify(filePath)}: ${(err as Error).message}`);
    }
  }

  /** As blame, but 'untracked' for a file that is in neither HEAD nor the index. */
  async blameOrUntracked(filePath: string): Promise<BlameLine[] | 'untracked'> {
    try {
      return await this.blame(filePath);
    } catch (err) {
      if (err instanceof GitError && err.code === 'NOT_IN_COMMIT' && /no such path /.test(err.detail ?? '')) return 'untracked';
      throw err;
    }
  }

  /**
   * The commits of HEAD's history that changed `filePath` (relative to the repository's root),
   * newest first, following its renames (`git log --follow`): each with the file's path in it
   * and, on a rename or copy, the path before. A merge is listed only where it changed the file
   * itself (a resolved conflict: `--cc`). At most `limit` commits; none in a repository without
   * commits. The path is read literally, after `--`.
   */
  async fileHistory(filePath: string, limit = 2000): Promise<FileCommit[]> {
    requireFilePath(filePath, 'HEAD');
    const args = [
      '--literal-pathspecs', 'log', '--follow', '-z', '--cc', '--name-status', '--no-show-signature', ...DIFF_OPTIONS,
      `--max-count=${Math.max(1, Math.floor(limit))}`, '--format=%H%x00%at%x00%s', '--end-of-options', 'HEAD', '--', filePath,
    ];
    let output: string;
    try {
      output = await this.text(args, { path: filePath });
    } catch (err) {
      if (err instanceof GitError && err.code === 'UNKNOWN_COMMIT' && (await this.head()).sha === null) return [];
      throw err;
    }
    return parseFileHistory(output);
  }

  /**
   * The commits of HEAD's history that descend from any of `commits`, each with its parents,
   * children before parents, at most `limit` of the nearest to each: read from one
   * `git rev-list --parents --topo-order HEAD` of at most `historyLimit` commits.
   */
  async descendants(commits: readonly string[], limit = 64, historyLimit = 50_000): Promise<Map<string, string[]>> {
    const bottoms = new Set(commits.map((c) => requireCommitHash(c).toLowerCase()));
    const out = await this.text(['rev-list', '--parents', '--topo-order', `--max-count=${historyLimit}`, 'HEAD', '--'], {});
    const rows: string[][] = [];
    for (const line of out.split('\n')) {
      if (!line) continue;
      const row = line.split(' ');
      if (!row.every((h) => /^[0-9a-f]{40}$|^[0-9a-f]{64}$/.test(h))) throw unexpected('commitList', `git rev-list --parents: ${line.slice(0, 200)}`);
      rows.push(row);
    }
    // Parents before children: how far above its nearest bottom each commit is.
    const depth = new Map<string, number>();
    for (const b of bottoms) depth.set(b, 0);
    const result: [string, string[]][] = [];
    for (let i = rows.length - 1; i >= 0; i--) {
      const [commit, ...parents] = rows[i];
      let nearest = Infinity;
      for (const p of parents) nearest = Math.min(nearest, depth.get(p) ?? Infinity);
      if (nearest === Infinity || nearest >= limit) continue;
      depth.set(commit, Math.min(depth.get(commit) ?? Infinity, nearest + 1));
      result.push([commit, parents]);
    }
    return new Map(result.reverse());
  }

  /** Whether `ref` names a commit in this repository. INVALID_COMMIT for anything but 4 to 64 hex digits. */
  async commitExists(ref: string): Promise<boolean> {
    const sha = requireCommitHash(ref);
    try {
      await this.text(['rev-parse', '--verify', '--end-of-options', `${sha}^{commit}`], { commits: [sha] });
      return true;
    } catch (err) {
      if (err instanceof GitError && err.code === 'UNKNOWN_COMMIT') return false;
      throw err;
    }
  }

  /** Commits in `before..after`, oldest first, with subject and Step-id. */
  async commitsBetween(before: string, after: string): Promise<CommitInfo[]> {
    const from = requireCommitHash(before);
    const to = requireCommitHash(after);
    const args = [
      'log', '-z', '--topo-order', '--reverse', '--no-color', '--no-show-signature', '--notes',
      '--format=%H%x00%s%x00%(trailers:key=Step-id,valueonly,separator=%x2C)%x00%N',
      '--end-of-options', `${from}^{commit}..${to}^{commit}`, '--',
    ];
    return parseLogOutput(await this.textNamingCommit(args, [from, to]));
  }

  /** Branch, HEAD, staged, unstaged, untracked and conflicted files. Ignored files are not listed. */
  async status(): Promise<WorkingTreeStatus> {
    const out = await this.text(
      ['status', '--porcelain=v2', '-z', '--branch', '--untracked-files=all', '--renames', '--no-ahead-behind'],
      {},
    );
    return parseStatusOutput(out);
  }

  /** The commit HEAD points at (null in an empty repository) and its branch (null when detached). */
  async head(): Promise<HeadInfo> {
    const [ref, sha] = await Promise.all([
      this.text(['symbolic-ref', 'HEAD'], {}).then(
        (out) => out.trim(),
        (err: unknown) => {
          if (err instanceof GitError && err.code === 'GIT_FAILED' && /not a symbolic ref/.test(err.detail ?? '')) return null;
          throw err;
        },
      ),
      this.text(['rev-parse', '--verify', '--end-of-options', 'HEAD^{commit}'], {}).then(
        (out) => out.trim(),
        (err: unknown) => {
          if (err instanceof GitError && err.code === 'UNKNOWN_COMMIT') return null;
          throw err;
        },
      ),
    ]);
    const branch = ref === null ? null : ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : ref;
    return { sha, branch, detached: ref === null };
  }

  // -------------------------------------------------------------------------------------
  // Operations for rollback and undo. Refs written here are only Step History's own
  // (`refs/step-history/...`, built from a timestamp), checked by requireStepHistoryRef.

  /** The commit a ref points at, or null if the ref does not exist. */
  async refTarget(ref: string): Promise<string | null> {
    const name = requireReadableRef(ref);
    try {
      // Not --quiet: simple-git waits 50 ms more for a process that printed nothing.
      const out = await this.text(['rev-parse', '--verify', '--end-of-options', `${name}^{commit}`], {});
      return out.trim() || null;
    } catch (err) {
      if (err instanceof GitError && (err.code === 'UNKNOWN_COMMIT' || err.code === 'GIT_FAILED')) return null;
      throw err;
    }
  }

  /**
   * Points one of Step History's refs at `commit`. With `expectedOld` the update happens only
   * if the ref is at that commit now; `null` means it must not exist yet.
   */
  async updateRef(ref: string, commit: string, reason: string, expectedOld?: string | null): Promise<void> {
    const name = requireStepHistoryRef(ref);
    const sha = requireCommitHash(commit);
    const old = expectedOld === undefined ? [] : expectedOld === null ? [''] : [requireCommitHash(expectedOld)];
    await this.text(['update-ref', '-m', oneLine(reason), '--end-of-options', name, `${sha}^{commit}`, ...old], { commits: [sha] });
    this.log.info(`[git] ${name} -> ${shortSha(sha)}`);
  }

  /** Whether `ancestor` is `descendant` or one of its ancestors. */
  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    const a = requireCommitHash(ancestor);
    const d = requireCommitHash(descendant);
    // `merge-base --all a d` is exactly `a` when a is an ancestor of d; unlike --is-ancestor
    // it prints something, which spares simple-git's 50 ms wait for a silent process.
    const args = ['merge-base', '--all', '--end-of-options', `${a}^{commit}`, `${d}^{commit}`];
    try {
      const bases = (await this.textNamingCommit(args, [a, d])).split('\n').filter(Boolean);
      return bases.length === 1 && bases[0].startsWith(a.toLowerCase());
    } catch (err) {
      if (err instanceof GitError && err.code === 'GIT_FAILED' && /\(exit 1\)/.test(err.detail ?? '')) return false;
      throw err;
    }
  }

  /** The commits reachable from `tip` but not from `base`, each with its parents: `git rev-list --parents base..tip`. */
  async commitGraph(base: string, tip: string): Promise<Map<string, string[]>> {
    const from = requireCommitHash(base);
    const to = requireCommitHash(tip);
    const out = await this.textNamingCommit(
      ['rev-list', '--parents', '--end-of-options', `${from}^{commit}..${to}^{commit}`, '--'],
      [from, to],
    );
    const graph = new Map<string, string[]>();
    for (const line of out.split('\n')) {
      if (!line) continue;
      const [sha, ...parents] = line.split(' ');
      if (!isCommitHash(sha) || !parents.every(isCommitHash)) throw unexpected('commitList', out);
      graph.set(sha, parents);
    }
    return graph;
  }

  /**
   * Every file path in `commit`'s tree (or, with `parent`, in its n-th parent's tree, as in a
   * stash's untracked files at `^3`); null when that parent does not exist.
   */
  async treePaths(commit: string, parent?: 1 | 2 | 3): Promise<string[] | null> {
    const sha = requireCommitHash(commit);
    const name = parent ? `${sha}^${parent}^{commit}` : `${sha}^{commit}`;
    let out: string;
    try {
      out = await this.text(['ls-tree', '-r', '-z', '--name-only', '--full-tree', '--end-of-options', name], { commits: [sha] });
    } catch (err) {
      if (parent && err instanceof GitError && err.code === 'UNKNOWN_COMMIT' && (await this.commitExists(sha))) return null;
      throw err;
    }
    return out.split('\0').filter((p) => p.length > 0);
  }

  /** The paths in the index (tracked files, staged additions included). */
  async indexPaths(): Promise<string[]> {
    const out = await this.text(['ls-files', '-z', '--full-name', '--cached'], {});
    return [...new Set(out.split('\0').filter((p) => p.length > 0))];
  }

  /**
   * `git reset --hard <commit>` on the current branch. Refuses to run on a detached HEAD: the
   * caller names the branch it expects, and it must be the one checked out.
   */
  async resetHard(commit: string, expectedBranch: string): Promise<void> {
    const sha = requireCommitHash(commit);
    const head = await this.head();
    if (head.detached || head.branch !== expectedBranch) {
      throw failures.wrongBranch({ branch: head.branch, expected: expectedBranch }, `reset --hard refused: HEAD ${head.branch ?? 'detached'}`);
    }
    // reset does not take --end-of-options in every git version; `<sha>^{commit}` starts with a hex digit.
    await this.text(['reset', '--hard', `${sha}^{commit}`, '--'], { commits: [sha] });
    this.log.info(`[git] reset --hard ${expectedBranch} to ${shortSha(sha)}`);
  }

  /**
   * `git stash push --include-untracked` (or `--all` for ignored files) of exactly `paths`,
   * read literally (no glob), or of every change; never of the paths in `exclude` (the step
   * database and its sidecar files), whatever the index and work tree hold. Each path must be
   * in the index or on disk (git refuses a pathspec that matches nothing, after having saved
   * the stash). Returns the stash commit, or null when there was nothing to stash.
   */
  async stashPush(
    message: string,
    paths: readonly string[] | 'everything',
    options: { includeIgnored?: boolean; exclude?: readonly string[] } = {},
  ): Promise<string | null> {
    const usable = (p: unknown): p is string => typeof p === 'string' && p.length > 0 && !p.includes('\0');
    const excluded = new Set((options.exclude ?? []).filter(usable));
    const clean = paths === 'everything' ? [] : paths.filter((p) => usable(p) && !excluded.has(p));
    if (paths !== 'everything' && clean.length === 0) return null;
    const before = await this.refTarget('refs/stash');
    // Pathspec magic, not --literal-pathspecs, so that exclusions work: `top` anchors each
    // path at the root, `literal` reads it without globs.
    const pathspecs = [
      ...(paths === 'everything' ? [':(top)'] : clean.map((p) => `:(top,literal)${p}`)),
      ...[...excluded].map((p) => `:(exclude,top,literal)${p}`),
    ];
    const command = ['stash', 'push', options.includeIgnored ? '--all' : '--include-untracked', '-m', oneLine(message), '--', ...pathspecs];
    await this.text(command, {});
    const after = await this.refTarget('refs/stash');
    if (!after || after === before) return null;
    this.log.info(`[git] stashed ${paths === 'everything' ? 'all changes' : `${clean.length} path(s)`} as ${shortSha(after)}${excluded.size ? `, leaving ${excluded.size} protected path(s) alone` : ''}`);
    return after;
  }

  /** The `n`-th parent of `commit` (a stash's untracked files are its third), or null when it has none. */
  async parentOf(commit: string, n: 1 | 2 | 3): Promise<string | null> {
    const sha = requireCommitHash(commit);
    try {
      const out = await this.text(['rev-parse', '--verify', '--end-of-options', `${sha}^${n}^{commit}`], { commits: [sha] });
      return out.trim() || null;
    } catch (err) {
      if (err instanceof GitError && (err.code === 'UNKNOWN_COMMIT' || err.code === 'GIT_FAILED') && (await this.commitExists(sha))) return null;
      throw err;
    }
  }

  /**
   * `git stash apply --index <stash>`: the staged and unstaged changes and untracked files of
   * a stash commit back in the work tree. The stash itself stays where it is.
   */
  async stashApply(stash: string): Promise<void> {
    const sha = requireCommitHash(stash);
    await this.text(['stash', 'apply', '--index', '--end-of-options', sha], { commits: [sha] });
    this.log.info(`[git] applied stash ${shortSha(sha)}`);
  }

  // -------------------------------------------------------------------------------------
  // What LaForge leaves in the repository for each step (see stepCommits.ts): a git note
  // `Step-id: S<N>` on the step's commit, and a kept branch `step-S<N>` when it was not merged.

  /** The git folder and the common folder (they differ in a linked work tree), as absolute paths. */
  async gitDirs(): Promise<{ gitDir: string; commonDir: string }> {
    if (this.dirs) return { ...this.dirs };
    const [gitDir, commonDir] = (await this.direct(['rev-parse', '--absolute-git-dir', '--git-common-dir'], {})).toString('utf8').split('\n');
    if (!gitDir || !commonDir) throw unexpected('gitFolders', `${gitDir}\n${commonDir}`);
    return { gitDir, commonDir: path.resolve(this.root, commonDir) };
  }

  /** The notes ref `git notes` reads: `refs/notes/commits`, or `core.notesRef`. */
  async notesRef(): Promise<string> {
    const ref = (await this.direct(['notes', 'get-ref'], {})).toString('utf8').trim();
    if (!ref.startsWith('refs/')) throw unexpected('notesRef', ref);
    return ref;
  }

  /**
   * Every note of the notes ref as `git notes list` prints it: the note's blob and the object
   * it annotates, without the note's text (see noteTexts). A repository without notes gives an
   * empty list.
   */
  async noteList(): Promise<NoteListing> {
    return new NoteListing(await this.direct(['notes', 'list'], {}));
  }

  /**
   * The text of each listed note, read by one `git cat-file --batch` whose input is written in
   * one piece. The blob ids are checked as hashes and reach git on its input, never as options.
   */
  async noteTexts(notes: readonly { blob: string; object: string }[]): Promise<{ blob: string; object: string; text: string }[]> {
    if (notes.length === 0) return [];
    const input = notes.map((n) => `${requireCommitHash(n.blob)} ${requireCommitHash(n.object)}\n`).join('');
    // %(rest) is what follows the blob on its input line: the annotated object.
    const out = await this.direct(['cat-file', '--batch=%(objectname) %(objecttype) %(objectsize) %(rest)', '--buffer'], {}, input);
    return parseNoteBatch(out);
  }

  /**
   * The branches `step-S<N>` (LaForge keeps one when the step failed or its merge conflicted),
   * each with its tip and whether that tip is in HEAD's history, in two git processes.
   */
  async stepBranches(): Promise<{ name: string; stepId: number; commit: string; merged: boolean }[]> {
    const [all, unmerged] = await Promise.all([
      this.direct(['for-each-ref', '--format=%(objectname) %(refname)', 'refs/heads/step-S*'], {}),
      this.unmergedStepBranches(),
    ]);
    return all
      .toString('utf8')
      .split('\n')
      .flatMap((line) => {
        const m = /^([0-9a-f]{40}(?:[0-9a-f]{24})?) refs\/heads\/(step-S(\d+))$/.exec(line);
        return m ? [{ commit: m[1], name: m[2], stepId: Number(m[3]), merged: unmerged !== null && !unmerged.has(m[2]) }] : [];
      });
  }

  /** The names of the branches `step-S<N>` whose tip is not in HEAD's history; null when HEAD has no commit yet. */
  async unmergedStepBranches(): Promise<Set<string> | null> {
    try {
      const out = await this.direct(['for-each-ref', '--format=%(refname)', '--no-merged=HEAD', 'refs/heads/step-S*'], {});
      return new Set(out.toString('utf8').split('\n').flatMap((line) => (/^refs\/heads\/(step-S\d+)$/.exec(line)?.slice(1) ?? [])));
    } catch (err) {
      // No HEAD commit yet (an empty repository): nothing is merged.
      if (err instanceof GitError && (err.code === 'UNKNOWN_COMMIT' || err.code === 'GIT_FAILED')) return null;
      throw err;
    }
  }

  /** Runs git for text output; UNKNOWN_COMMIT names whichever of `commits` is missing. */
  private async textNamingCommit(args: string[], commits: string[]): Promise<string> {
    try {
      return await this.text(args, { commits });
    } catch (err) {
      if (!(err instanceof GitError) || err.code !== 'UNKNOWN_COMMIT' || commits.length < 2) throw err;
      // Only on this failure path: ask which commit is missing so the sentence names it.
      const exists = await Promise.all(commits.map((c) => this.commitExists(c).catch(() => true)));
      const missing = commits.find((_, i) => !exists[i]);
      if (!missing || missing === commits[0]) throw err;
      throw failures.unknownCommit({ commit: shortSha(missing) }, err.detail);
    }
  }

  private text(args: string[], context: Omit<FailureContext, 'args'>): Promise<string> {
    const argv = ['--no-pager', ...args];
    return this.invoke(argv, { ...context, args: argv }, () => this.git.raw(argv));
  }

  private async invoke<T>(args: readonly string[], context: FailureContext, run: () => PromiseLike<T>): Promise<T> {
    const started = performance.now();
    const command = `git ${formatArgs(args)}`;
    try {
      const result = await run();
      this.log.debug(`[git] ${command} (${(performance.now() - started).toFixed(1)} ms)`);
      return result;
    } catch (err) {
      const failure = toGitError(err, { folder: this.root, ...context });
      this.log.debug(`[git] ${command} failed with ${failure.code} (${(performance.now() - started).toFixed(1)} ms)`);
      this.log.trace(`[git] ${failure.detail ?? ''}`);
      throw failure;
    }
  }

  /**
   * Runs git as a plain child process, without simple-git, which adds tens of milliseconds to
   * every call: for the few processes each reading of the steps' commits runs. Same argv
   * array, safe environment, errors and log lines as `text`; `input`, if any, is written to
   * git's standard input in one piece.
   */
  private direct(args: string[], context: Omit<FailureContext, 'args'>, input?: string): Promise<Buffer> {
    const argv = ['--no-pager', ...args];
    return this.invoke(argv, { ...context, args: argv }, () =>
      new Promise<Buffer>((resolve, reject) => {
        const child = spawn(this.binary, argv, {
          cwd: this.root,
          env: gitEnvironment(),
          stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
          windowsHide: true,
        });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let settled = false;
        child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
        child.stderr!.on('data', (chunk: Buffer) => err.push(chunk));
        child.on('error', (e) => {
          if (settled) return;
          settled = true;
          reject(e);
        });
        child.on('close', (code) => {
          if (settled) return;
          settled = true;
          if (code === 0) resolve(Buffer.concat(out));
          else reject(new GitProcessFailure(code ?? -1, Buffer.concat(err).toString('utf8')));
        });
        if (input !== undefined) {
          child.stdin!.on('error', () => undefined); // git gone early: its own exit says why
          child.stdin!.end(input);
        }
      }),
    );
  }

  // -------------------------------------------------------------------------------------
  // Kept rollback states (see rollbackRetention.ts): Step History's refs and the stash
  // entries they name, listed and removed. Refs are checked by requireStepHistoryRef before
  // git sees them; a stash entry is only ever dropped by a position Step History computed,
  // after checking that the position still holds the expected stash commit.

  /**
   * Step History's refs (`refs/step-history/backup|stash/<name>`), each with its commit and that
   * commit's committer date; other names under `refs/step-history/` are left out.
   */
  async stepHistoryRefs(): Promise<{ ref: string; commit: string; committed: Date }[]> {
    const out = await this.text(['for-each-ref', '--format=%(refname)%00%(objectname)%00%(creatordate:unix)', 'refs/step-history/'], {});
    const refs: { ref: string; commit: string; committed: Date }[] = [];
    for (const line of out.split('\n')) {
      if (!line) continue;
      const [ref, commit, seconds] = line.split('\0');
      if (!isCommitHash(commit)) throw unexpected('refList', out);
      try {
        refs.push({ ref: requireStepHistoryRef(ref), commit, committed: new Date(Number(seconds) * 1000) });
      } catch {
        this.log.debug(`[git] ${describeValue(ref)} is under refs/step-history/ but not one of Step History's refs; left alone`);
      }
    }
    return refs;
  }

  /** The stash list, newest first (`stash@{0}` first): each entry's commit and reflog subject. */
  async stashList(): Promise<{ commit: string; subject: string }[]> {
    const out = await this.text(['stash', 'list', '--no-color', '--format=%H%x00%gs'], {});
    const entries: { commit: string; subject: string }[] = [];
    for (const line of out.split('\n')) {
      if (!line) continue;
      const at = line.indexOf('\0');
      const commit = at < 0 ? line : line.slice(0, at);
      if (!isCommitHash(commit)) throw unexpected('stashList', out);
      entries.push({ commit, subject: at < 0 ? '' : line.slice(at + 1) });
    }
    return entries;
  }

  /**
   * Drops the stash entry holding `commit` (a full hash) with `git stash drop stash@{n}`, if
   * there is one; the position is checked to hold that commit right before. Returns whether one
   * was dropped.
   */
  async dropStash(commit: string): Promise<boolean> {
    const sha = requireCommitHash(commit).toLowerCase();
    const index = (await this.stashList()).findIndex((e) => e.commit.toLowerCase() === sha);
    if (index < 0) return false;
    const entry = `stash@{${index}}`;
    const now = (await this.text(['rev-parse', '--verify', '--end-of-options', entry], {})).trim().toLowerCase();
    if (now !== sha) {
      throw failures.stashListChanged({ stash: shortSha(sha) }, `${entry} is ${now}, not ${sha}`);
    }
    await this.text(['stash', 'drop', '--quiet', '--end-of-options', entry], {});
    this.log.info(`[git] dropped ${entry} (${shortSha(sha)})`);
    return true;
  }

  /** Deletes one of Step History's refs if it still points at `expected`; false if the ref does not exist. */
  async deleteStepHistoryRef(ref: string, expected: string): Promise<boolean> {
    const name = requireStepHistoryRef(ref);
    const sha = requireCommitHash(expected);
    if ((await this.refTarget(name)) === null) return false;
    await this.text(['update-ref', '-d', '--end-of-options', name, sha], { commits: [sha] });
    this.log.info(`[git] deleted ${name} (was ${shortSha(sha)})`);
    return true;
  }

  /** How many commits `ref` reaches that no branch, tag or remote-tracking branch does: those only it keeps. */
  async commitsOnNoBranch(ref: string): Promise<number> {
    const name = requireReadableRef(ref);
    const out = await this.text(
      ['rev-list', '--count', '--not', '--branches', '--tags', '--remotes', '--not', '--end-of-options', `${name}^{commit}`, '--'],
      {},
    );
    const count = Number.parseInt(out.trim(), 10);
    if (!Number.isInteger(count) || count < 0) throw unexpected('commitCount', out);
    return count;
  }

  /** The paths a stash commit holds: its staged and unstaged changes and its untracked files. */
  async stashFiles(stash: string): Promise<string[]> {
    const sha = requireCommitHash(stash);
    const line = (await this.text(['rev-list', '--parents', '-n', '1', '--end-of-options', `${sha}^{commit}`, '--'], { commits: [sha] })).trim();
    const [, base, index] = line.split(' ');
    if (!isCommitHash(base)) throw unexpected('stashCommit', line);
    const [worktree, staged, untracked] = await Promise.all([
      this.changedFiles(base, sha),
      isCommitHash(index) ? this.changedFiles(base, index) : Promise.resolve([]),
      this.treePaths(sha, 3),
    ]);
    const paths = new Set<string>();
    for (const f of [...worktree, ...staged]) {
      paths.add(f.path);
      if (f.oldPath) paths.add(f.oldPath);
    }
    for (const p of untracked ?? []) paths.add(p);
    return [...paths].sort();
  }

  // -------------------------------------------------------------------------------------
  // Commit messages' first lines, for step titles (see commitSubjects.ts, which caches them).

  /** How many commits one `git log --no-walk` names, so an argv stays far below the system's limit. */
  static readonly SUBJECTS_PER_PROCESS = 500;

  /**
   * The first line of each commit's message, by the full hash git printed, in one git process
   * per SUBJECTS_PER_PROCESS commits. A commit the repository does not have is left out
   * (`--ignore-missing`); every value is checked by requireCommitHash first.
   */
  async commitFirstLines(commits: readonly string[]): Promise<Map<string, string>> {
    const shas = [...new Set(commits.map((c) => requireCommitHash(c).toLowerCase()))];
    const lines = new Map<string, string>();
    for (let i = 0; i < shas.length; i += GitRepository.SUBJECTS_PER_PROCESS) {
      const chunk = shas.slice(i, i + GitRepository.SUBJECTS_PER_PROCESS);
      const args = [
        'log', '--no-walk=unsorted', '-z', '--no-color', '--no-show-signature', '--ignore-missing', '--format=%H%x00%B',
        '--end-of-options', ...chunk.map((sha) => `${sha}^{commit}`), '--',
      ];
      for (const [sha, line] of parseFirstLines(await this.text(args, { commits: chunk }))) lines.set(sha, line);
    }
    return lines;
  }

  /** The repository's work trees (`git worktree list`), the main one first. */
  async worktrees(): Promise<Worktree[]> {
    return parseWorktreeList(await this.text(['worktree', 'list', '--porcelain', '-z'], {}));
  }
}

/** One commit of a file's history (GitRepository.fileHistory). */
export interface FileCommit {
  /** Full hash, lower case. */
  commit: string;
  summary: string;
  authorTimeMs: number;
  /** The file's path in this commit. */
  path: string;
  /** Its path before, when this commit renamed or copied it. */
  oldPath?: string;
  status: ChangeStatus;
}

const FULL_HASH = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
/** A `--name-status` letter with a rename or copy score, or a merge's letters, one per parent (`--cc`). */
const NAME_STATUS = /^(?:[ACDMRTUXB]\d*|[ACDMRTUXB]{2,})$/;

/**
 * Parses `git log -z --name-status --cc --format=%H%x00%at%x00%s`: per commit its hash, author
 * time and subject, then its `<status>\0<path>\0` records (`<status>\0<old>\0<new>\0` for a
 * rename or copy), git's separators being empty tokens or a newline before a record. A commit
 * with no record (a merge that took one side's file) changed nothing of the file and is left out.
 * Paths are read by position, so a path that looks like a hash or a status is still a path.
 */
export function parseFileHistory(output: string): FileCommit[] {
  const tokens = output.split('\0');
  const commits: FileCommit[] = [];
  const bad = () => unexpected('fileHistory', output);
  let i = 0;
  const skipSeparators = () => {
    while (i < tokens.length && tokens[i].replace(/^\n+/, '') === '') i++;
  };
  skipSeparators();
  while (i < tokens.length) {
    const commit = tokens[i].replace(/^\n+/, '');
    if (!FULL_HASH.test(commit) || i + 2 >= tokens.length) throw bad();
    const seconds = Number(tokens[i + 1]);
    if (!/^\d+$/.test(tokens[i + 1])) throw bad();
    const summary = tokens[i + 2];
    i += 3;
    let record: FileCommit | undefined;
    for (skipSeparators(); i < tokens.length; skipSeparators()) {
      const code = tokens[i].replace(/^\n+/, '');
      if (!NAME_STATUS.test(code)) break;
      const letter = code.charAt(0);
      const paired = code.length > 1 && /^\d+$/.test(code.slice(1)) && (letter === 'R' || letter === 'C');
      const count = paired ? 2 : 1;
      if (i + count >= tokens.length || tokens.slice(i + 1, i + 1 + count).some((p) => p === '')) throw bad();
      // A merge's letters, one per parent: the file's status when they agree.
      const status = paired || [...code].every((c) => c === letter) ? statusFromLetter(letter) : 'modified';
      // --follow names one file per commit; should git print more, the first is the file.
      record ??= paired
        ? { commit, summary, authorTimeMs: seconds * 1000, path: tokens[i + 2], oldPath: tokens[i + 1], status }
        : { commit, summary, authorTimeMs: seconds * 1000, path: tokens[i + 1], status };
      i += 1 + count;
    }
    if (record) commits.push(record);
  }
  return commits;
}

/** Parses `git log -z --format=%H%x00%B`: hash, message, hash, message, … */
export function parseFirstLines(output: string): Map<string, string> {
  const tokens = output.split('\0');
  const lines = new Map<string, string>();
  for (let i = 0; i + 2 <= tokens.length; i += 2) {
    const sha = tokens[i].replace(/^\n/, '');
    if (!isCommitHash(sha)) throw unexpected('commitList', output);
    lines.set(sha.toLowerCase(), (tokens[i + 1].replace(/^\s*\n/, '').split(/\r?\n/, 1)[0] ?? '').trim());
  }
  return lines;
}

const STATUS_LETTERS: Record<string, ChangeStatus> = {
  A: 'added',
  M: 'modified',
  D: 'deleted',
  R: 'renamed',
  C: 'copied',
  T: 'typeChanged',
  U: 'unmerged',
  X: 'unknown',
};

function statusFromLetter(letter: string): ChangeStatus {
  return STATUS_LETTERS[letter] ?? 'unknown';
}

function unexpected(output: GitOutput, detail: string): GitError {
  return failures.gitOutputUnreadable({ output }, detail.slice(0, 2000));
}

/**
 * Parses `git diff --raw --numstat -z` output: all raw records, then all numstat records, in
 * the same order. Raw: `:<mode> <mode> <sha> <sha> <status>[score]\0<path>\0[<new path>\0]`.
 * Numstat: `<added>\t<removed>\t<path>\0`, or `<added>\t<removed>\t\0<old>\0<new>\0` for a
 * rename or copy; `-\t-` marks a binary file.
 */
export function parseDiffOutput(output: string): ChangedFile[] {
  const tokens = output.split('\0');
  const files: ChangedFile[] = [];
  let i = 0;
  while (i < tokens.length && tokens[i].startsWith(':')) {
    const header = tokens[i++];
    const code = header.slice(header.lastIndexOf(' ') + 1);
    const letter = code.charAt(0);
    const status = statusFromLetter(letter);
    if (letter === 'R' || letter === 'C') {
      if (i + 1 >= tokens.length) throw unexpected('diff', output);
      const oldPath = tokens[i++];
      const newPath = tokens[i++];
      const similarity = Number.parseInt(code.slice(1), 10);
      files.push({ path: newPath, oldPath, status, added: null, removed: null, binary: false, ...(Number.isFinite(similarity) ? { similarity } : {}) });
    } else {
      if (i >= tokens.length) throw unexpected('diff', output);
      files.push({ path: tokens[i++], status, added: null, removed: null, binary: false });
    }
  }

  let byPath: Map<string, ChangedFile> | undefined;
  for (let n = 0; i < tokens.length; n++) {
    const record = tokens[i++];
    if (record === '' && i === tokens.length) break; // the final terminator
    const firstTab = record.indexOf('\t');
    const secondTab = record.indexOf('\t', firstTab + 1);
    if (firstTab < 0 || secondTab < 0) throw unexpected('diff', output);
    const added = record.slice(0, firstTab);
    const removed = record.slice(firstTab + 1, secondTab);
    let filePath = record.slice(secondTab + 1);
    if (filePath === '') {
      i++; // old path; the raw record already has it
      filePath = tokens[i++] ?? '';
    }
    let file: ChangedFile | undefined = files[n];
    if (!file || file.path !== filePath) {
      byPath ??= new Map(files.map((f) => [f.path, f]));
      file = byPath.get(filePath);
      if (!file) continue;
    }
    if (added === '-' && removed === '-') {
      file.binary = true;
    } else {
      file.added = Number.parseInt(added, 10);
      file.removed = Number.parseInt(removed, 10);
    }
  }
  return files;
}

/** Each hex digit's value by character code; -1 for any other byte. */
const HEX_VALUE = (() => {
  const table = new Int8Array(256).fill(-1);
  for (let v = 0; v < 16; v++) table['0123456789abcdef'.charCodeAt(v)] = v;
  return table;
})();

/**
 * `git notes list` output, checked: one line `<blob> <object>\n` per note, both full hashes
 * of one length (40 or 64 hex digits). Notes are read by index, so a list of many thousands
 * makes no string until one is asked for; `blobKey` and `blobIs` find a note's blob in a table
 * without one.
 */
export class NoteListing {
  /** How many notes. */
  readonly length: number;
  /** Hex digits in each hash. */
  readonly hashLength: number;
  private readonly line: number;
  private text: string | undefined;

  constructor(private readonly bytes: Buffer) {
    const bad = () => unexpected('notesList', bytes.toString('utf8'));
    const length = bytes.length === 0 ? 40 : bytes.indexOf(0x20);
    const line = 2 * length + 2;
    if ((length !== 40 && length !== 64) || bytes.length % line !== 0) throw bad();
    for (let at = 0; at < bytes.length; at += line) {
      for (let i = 0; i < line - 1; i++) if (i !== length && HEX_VALUE[bytes[at + i]] < 0) throw bad();
      if (bytes[at + length] !== 0x20 || bytes[at + line - 1] !== 0x0a) throw bad();
    }
    this.length = bytes.length / line;
    this.hashLength = length;
    this.line = line;
  }

  /** The id of note `i`'s blob. */
  blob(i: number): string {
    const at = i * this.line;
    return this.latin1().slice(at, at + this.hashLength);
  }

  /** The object note `i` annotates. */
  object(i: number): string {
    const at = i * this.line + this.hashLength + 1;
    return this.latin1().slice(at, at + this.hashLength);
  }

  /** The first 28 bits of note `i`'s blob id, as blobKeyOf gives them for a hash. */
  blobKey(i: number): number {
    const at = i * this.line;
    let key = 0;
    for (let d = 0; d < BLOB_KEY_DIGITS; d++) key = (key << 4) | HEX_VALUE[this.bytes[at + d]];
    return key;
  }

  /**
   * Whether note `i`'s blob id is the hash whose lowercase hex digits' bytes are in `digits`
   * from `offset` on (see hexBytes): tables of many ids keep them in one array.
   */
  blobIs(i: number, digits: Uint8Array, offset = 0): boolean {
    const at = i * this.line;
    const length = this.hashLength;
    if (offset + length > digits.length) return false;
    const bytes = this.bytes;
    for (let d = 0; d < length; d++) if (bytes[at + d] !== digits[offset + d]) return false;
    return true;
  }

  /** Every note, as objects. */
  toArray(): { blob: string; object: string }[] {
    return Array.from({ length: this.length }, (_, i) => ({ blob: this.blob(i), object: this.object(i) }));
  }

  private latin1(): string {
    return (this.text ??= this.bytes.toString('latin1'));
  }
}

const BLOB_KEY_DIGITS = 7;

/** A lowercase hex hash's digits as bytes, for NoteListing.blobIs. */
export function hexBytes(hash: string): Uint8Array {
  return Buffer.from(hash, 'latin1');
}

/** The first 28 bits of a lowercase hex hash, as NoteListing.blobKey reads them. */
export function blobKeyOf(hash: string): number {
  return Number.parseInt(hash.slice(0, BLOB_KEY_DIGITS), 16);
}


/** Parses `git cat-file --batch='%(objectname) %(objecttype) %(objectsize) %(rest)'` output fed `<blob> <object>` lines. */
export function parseNoteBatch(output: Buffer): { blob: string; object: string; text: string }[] {
  const notes: { blob: string; object: string; text: string }[] = [];
  let at = 0;
  while (at < output.length) {
    const end = output.indexOf(0x0a, at);
    if (end < 0) throw unexpected('notesList', output.subarray(at).toString('utf8'));
    const header = output.subarray(at, end).toString('utf8');
    at = end + 1;
    const [name, type, size, rest] = header.split(' ');
    if (type === 'missing' || size === undefined) continue;
    const length = Number(size);
    if (!Number.isSafeInteger(length) || at + length > output.length) throw unexpected('notesList', header);
    const text = output.subarray(at, at + length).toString('utf8');
    at += length + 1;
    if (type === 'blob' && isCommitHash(name) && isCommitHash(rest)) notes.push({ blob: name, object: rest, text });
  }
  return notes;
}

/** The hash a repository names its objects with, told by the length of an object id it printed. */
export function hashAlgorithmOf(objectId: string): 'sha1' | 'sha256' | undefined {
  return objectId.length === 40 ? 'sha1' : objectId.length === 64 ? 'sha256' : undefined;
}

const hashText: (algorithm: string, data: string) => string =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (algorithm, data) => crypto.hash(algorithm, data, 'hex')
    : (algorithm, data) => crypto.createHash(algorithm).update(data).digest('hex');

/** The id git gives a blob holding `content` (as UTF-8): the hash of `blob <size>\0<content>`, as `git hash-object` prints it. */
export function blobId(content: string, algorithm: 'sha1' | 'sha256'): string {
  return hashText(algorithm, `blob ${Buffer.byteLength(content, 'utf8')}\0${content}`);
}

const STEP_ID = /^\s*Step-id:\s*S?(\d+)\s*$/im;

/** Reads a step id such as "S12" from a `Step-id: S12` note or trailer value. */
export function parseStepId(text: string): string | undefined {
  const note = STEP_ID.exec(text);
  if (note) return `S${note[1]}`;
  return undefined;
}

/** Parses `git log -z --format=%H%x00%s%x00<Step-id trailers>%x00%N`. */
export function parseLogOutput(output: string): CommitInfo[] {
  const tokens = output.split('\0');
  const commits: CommitInfo[] = [];
  // Each commit: sha, subject, trailer values, notes, then the -z terminator.
  for (let i = 0; i + 4 <= tokens.length; i += 4) {
    const [sha, subject, trailers, notes] = tokens.slice(i, i + 4);
    if (!isCommitHash(sha)) throw unexpected('commitList', output);
    const commit: CommitInfo = { sha, subject };
    const fromNote = parseStepId(notes);
    const fromTrailer = trailers
      .split(',')
      .map((v) => /^\s*S?(\d+)\s*$/i.exec(v))
      .find((m) => m !== null);
    const stepId = fromNote ?? (fromTrailer ? `S${fromTrailer[1]}` : undefined);
    if (stepId) commit.stepId = stepId;
    commits.push(commit);
  }
  return commits;
}

/** The text after the first `count` space-separated fields of a porcelain v2 record. */
function afterFields(record: string, count: number): string {
  let at = -1;
  for (let n = 0; n < count; n++) {
    at = record.indexOf(' ', at + 1);
    if (at < 0) throw unexpected('status', record);
  }
  return record.slice(at + 1);
}

/** Parses `git status --porcelain=v2 -z --branch`. */
export function parseStatusOutput(output: string): WorkingTreeStatus {
  const result: WorkingTreeStatus = { branch: null, head: null, detached: false, staged: [], unstaged: [], untracked: [], conflicted: [] };
  const tokens = output.split('\0');
  for (let i = 0; i < tokens.length; i++) {
    const record = tokens[i];
    if (record === '') continue;
    switch (record.charAt(0)) {
      case '#': {
        if (record.startsWith('# branch.oid ')) {
          const oid = record.slice('# branch.oid '.length);
          result.head = oid === '(initial)' ? null : oid;
        } else if (record.startsWith('# branch.head ')) {
          const head = record.slice('# branch.head '.length);
          result.detached = head === '(detached)';
          result.branch = result.detached ? null : head;
        }
        break;
      }
      case '1':
      case '2': {
        const xy = record.slice(2, 4);
        const renamed = record.charAt(0) === '2';
        const filePath = afterFields(record, renamed ? 9 : 8);
        const oldPath = renamed ? tokens[++i] : undefined;
        addEntry(result.staged, xy.charAt(0), filePath, oldPath);
        addEntry(result.unstaged, xy.charAt(1), filePath, oldPath);
        break;
      }
      case 'u':
        result.conflicted.push(afterFields(record, 10));
        break;
      case '?':
        result.untracked.push(record.slice(2));
        break;
      case '!':
        break;
      default:
        throw unexpected('status', output);
    }
  }
  return result;
}

function addEntry(list: StatusEntry[], letter: string, filePath: string, oldPath: string | undefined): void {
  if (letter === '.' || letter === ' ') return;
  const status = statusFromLetter(letter);
  const entry: StatusEntry = { path: filePath, status };
  if (oldPath !== undefined && (status === 'renamed' || status === 'copied')) entry.oldPath = oldPath;
  list.push(entry);
}

/** One work tree of a repository, as `git worktree list --porcelain` describes it. */
export interface Worktree {
  path: string;
  /** The commit checked out; null for a bare repository or before the first commit. */
  head: string | null;
  /** The full ref, e.g. `refs/heads/step-S12`; null when detached or bare. */
  branch: string | null;
  bare: boolean;
  detached: boolean;
  locked: boolean;
  /** Git knows its folder is gone. */
  prunable: boolean;
}

/**
 * Parses `git worktree list --porcelain -z`: records of NUL-terminated `key[ value]` lines,
 * each record ended by an empty line (a second NUL).
 */
export function parseWorktreeList(output: string): Worktree[] {
  const worktrees: Worktree[] = [];
  let current: Worktree | undefined;
  for (const line of output.split('\0')) {
    if (line === '') {
      if (current) worktrees.push(current);
      current = undefined;
      continue;
    }
    const space = line.indexOf(' ');
    const key = space < 0 ? line : line.slice(0, space);
    const value = space < 0 ? '' : line.slice(space + 1);
    if (key === 'worktree') {
      if (current) worktrees.push(current);
      current = { path: value, head: null, branch: null, bare: false, detached: false, locked: false, prunable: false };
      continue;
    }
    if (!current) throw unexpected('worktreeList', output);
    if (key === 'HEAD') current.head = isCommitHash(value) ? value : null;
    else if (key === 'branch') current.branch = value;
    else if (key === 'bare') current.bare = true;
    else if (key === 'detached') current.detached = true;
    else if (key === 'locked') current.locked = true;
    else if (key === 'prunable') current.prunable = true;
  }
  if (current) worktrees.push(current);
  return worktrees;
}
