/**
 * What a diff shows, decided without VS Code: which version of a file goes on each side, the
 * editor titles, how a document reference is written into a URI's query, and how file bytes
 * become text. `src/ui/diffs.ts` turns these plans into URIs and editor commands.
 */
import * as path from 'node:path';
import type { ChangedFile } from './git';
import { isCommitHash, type Step } from './model';
import { stepEnd, type StepCommit } from './stepCommits';

/** One side of a diff. `absent` is the empty side of an added or deleted file. */
export type FileSide =
  | { kind: 'commit'; commit: string; path: string; binary: boolean }
  | { kind: 'workingTree'; path: string }
  | { kind: 'absent'; path: string };

export interface FileDiffPlan {
  file: ChangedFile;
  left: FileSide;
  right: FileSide;
  /** The editor title, e.g. `src/a.ts (S12)`. */
  title: string;
}

/** The right side of a comparison: a commit, or the files in the work tree. */
export type DiffTarget = { kind: 'commit'; commit: string } | { kind: 'workingTree' };

/**
 * Plans the diff of one changed file from commit `from` to `to`. An added file has nothing
 * on the left, a deleted one nothing on the right; a renamed or copied file shows its old
 * path on the left.
 */
export function planFileDiff(file: ChangedFile, from: string, to: DiffTarget, label: string): FileDiffPlan {
  const leftPath = file.oldPath ?? file.path;
  const left: FileSide =
    file.status === 'added' ? { kind: 'absent', path: file.path } : { kind: 'commit', commit: from, path: leftPath, binary: file.binary };
  let right: FileSide;
  if (file.status === 'deleted') right = { kind: 'absent', path: file.path };
  else if (to.kind === 'workingTree') right = { kind: 'workingTree', path: file.path };
  else right = { kind: 'commit', commit: to.commit, path: file.path, binary: file.binary };
  return { file, left, right, title: fileDiffTitle(file, label) };
}

export function fileDiffTitle(file: ChangedFile, label: string): string {
  const name = file.oldPath && file.oldPath !== file.path ? `${file.oldPath} → ${file.path}` : file.path;
  return `${name} (${label})`;
}

/**
 * The file path a side's document is named by (its URI's path). In a comparison with the work
 * tree at `workTree`, every side is named by the file's place in that work tree, a commit's
 * version included: the work-tree side is that file itself, and VS Code's multi-file diff
 * editor tells a file's status from its two sides' URI paths (see `multiDiffStatus`), so a
 * commit side named by the repository path would make every modified file a rename. In a
 * comparison of two commits, both sides are named by the repository path after a slash.
 */
export function sideName(side: Pick<FileSide, 'path'>, workTree: string | undefined): string {
  return workTree === undefined ? `/${side.path}` : path.join(workTree, side.path);
}

/**
 * The status VS Code's multi-file diff editor shows for a planned file, given the work tree the
 * comparison's right side is in (undefined for two commits). Its rule (diffEditorItemTemplate in
 * VS Code's multiDiffEditor): both sides with different URI paths is "R", the old name struck
 * through; no right side is "D", the name struck through; no left side is "A"; otherwise it is
 * a modification, shown without a letter. An absent side is given to it as no side at all.
 */
export function multiDiffStatus(plan: FileDiffPlan, workTree: string | undefined): 'added' | 'deleted' | 'modified' | 'renamed' {
  const left = plan.left.kind === 'absent' ? undefined : sideName(plan.left, workTree);
  const right = plan.right.kind === 'absent' ? undefined : sideName(plan.right, workTree);
  if (left !== undefined && right !== undefined) return left === right ? 'modified' : 'renamed';
  if (right === undefined) return 'deleted';
  return left === undefined ? 'added' : 'modified';
}

/**
 * The title of a step's changes: `S12 · Changes` in the multi-file diff editor, which adds the
 * count of files itself (`S12 · Changes (14 files)`); `S12: 14 files changed` where nothing
 * counts them (the pick list of older editors).
 */
export function changesTitle(label: string, count: number, counted = false): string {
  return counted ? `${label} · Changes` : `${label}: ${count} ${count === 1 ? 'file' : 'files'} changed`;
}

/**
 * Adds untracked work-tree files to a comparison with the work tree, as added files. Their
 * line counts are unknown (null) without reading them, which this avoids for speed.
 */
export function withUntracked(files: ChangedFile[], untracked: readonly string[]): ChangedFile[] {
  if (untracked.length === 0) return files;
  const known = new Set(files.map((f) => f.path));
  const extra = untracked.filter((p) => !known.has(p)).map((p): ChangedFile => ({ path: p, status: 'added', added: null, removed: null, binary: false }));
  return [...files, ...extra].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * The commit a step is compared with the work tree from: the one it left the repository at
 * (its own commit, see stepEnd), so the work tree shows what happened since the step ended. A
 * running step without a commit yet: its commit before, so the work tree shows what it has
 * done so far.
 */
export function workingTreeBase(step: Step, commit: StepCommit): string {
  return stepEnd(step, commit);
}

/**
 * The two ends of "compare two steps": from the older step's commit after to the newer
 * step's commit after, i.e. the state each step left behind. The diff then shows exactly
 * the work of the steps after the older one, up to and including the newer one, which is
 * what "what changed between S5 and S9" means; starting from the older step's commit
 * before would mix in the older step's own change. Older means the smaller id, which is
 * the order LaForge creates steps in.
 */
export function stepComparison(
  a: { step: Step; commit: StepCommit },
  b: { step: Step; commit: StepCommit },
): { older: Step; newer: Step; from: string; to: string; label: string } {
  const [older, newer] = a.step.id <= b.step.id ? [a, b] : [b, a];
  return {
    older: older.step,
    newer: newer.step,
    from: stepEnd(older.step, older.commit),
    to: stepEnd(newer.step, newer.commit),
    label: `${older.step.label} ↔ ${newer.step.label}`,
  };
}

// ---------------------------------------------------------------------------------------
// Document references, carried in the query of the diff provider's URIs.

/**
 * A file at a commit in a database's repository; `commit: null` is an empty document. Or,
 * with `text`, a text another system's database stores (a file's content, a state), served
 * from the database (commit null).
 */
export interface DocumentRef {
  database: string;
  commit: string | null;
  path: string;
  /** Known binary (from the diff), so the provider need not read it. */
  binary?: boolean;
  /** A stored text's reference (core/sources TextRef). */
  text?: string;
}

export function encodeDocumentRef(ref: DocumentRef): string {
  const value: Record<string, unknown> = { db: ref.database, commit: ref.commit, path: ref.path };
  if (ref.binary) value.binary = true;
  if (ref.text !== undefined) value.text = ref.text;
  return JSON.stringify(value);
}

/** Reads a query written by encodeDocumentRef; undefined for anything else. */
export function decodeDocumentRef(query: string): DocumentRef | undefined {
  let value: unknown;
  try {
    value = JSON.parse(query);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { db, commit, path, binary, text } = value as Record<string, unknown>;
  if (typeof db !== 'string' || typeof path !== 'string' || path.length === 0) return undefined;
  if (commit !== null && !isCommitHash(commit)) return undefined;
  if (text !== undefined && (typeof text !== 'string' || commit !== null)) return undefined;
  return { database: db, commit, path, ...(binary === true ? { binary: true } : {}), ...(typeof text === 'string' ? { text } : {}) };
}

// ---------------------------------------------------------------------------------------
// File content as text

export const BINARY_NOTICE = 'Binary file — not shown';

/** Git's own test: a NUL byte in the first 8,000 bytes. */
export function looksBinary(bytes: Uint8Array): boolean {
  return bytes.subarray(0, 8000).includes(0);
}

const utf8 = new TextDecoder('utf-8');

/** The text a diff side shows for these bytes: UTF-8 (a BOM dropped), or the binary notice. */
export function documentText(bytes: Uint8Array): string {
  if (looksBinary(bytes)) return BINARY_NOTICE;
  return utf8.decode(bytes);
}
