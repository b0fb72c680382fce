/**
 * Which step wrote each line of a file: `git blame` names a commit per line, and the commit
 * maps to a step through the resolved step commits, in this order:
 *
 * 1. recorded: a step whose `commit_sha_after` is that commit (and differs from its before);
 * 2. noted: the step a commit's `Step-id: S<N>` note names, or whose kept `step-S<N>` branch
 *    ends there (checked against the step's own resolution);
 * 3. merge: LaForge's merge commit `Automerge step-S<N> into …` (a conflict resolved in it);
 * 4. range: a commit inside a step's recorded range `commit_sha_before..commit_sha_after`, when
 *    a step made more than one commit; found with one `git rev-list` for all such commits.
 *
 * A commit none of these names is a commit no step made; a line git has no commit for is not
 * committed yet. shiftOwners keeps the owners in step with typing. Pure of VS Code: the editor's
 * cache is ui/stepBlame.ts's.
 */
import * as fs from 'node:fs';
import { pathInside } from './fileDatabase';
import type { BlameCommit, BlameLine } from './blame';
import type { GitRepository } from './git';
import type { Step } from './model';
import { sameCommit, type StepCommitIndex } from './stepCommits';

/** How a commit was found to be a step's. */
export type StepOwnerVia = 'recorded' | 'note' | 'merge' | 'range';

export interface StepOwner {
  step: Step;
  via: StepOwnerVia;
}

/** Who last changed one line. */
export type LineOwner =
  | { kind: 'step'; step: Step; via: StepOwnerVia; commit: BlameCommit }
  | { kind: 'commit'; commit: BlameCommit }
  | { kind: 'uncommitted'; commit: BlameCommit };

/** What the mapping reads from a LaForge database and its repository. */
export interface StepLookup {
  /** Every step's resolved commit (notes, kept branches). */
  commitIndex(): Promise<StepCommitIndex>;
  stepsWithIds(ids: readonly number[]): Promise<Step[]>;
  stepsWithCommits(commits: readonly string[]): Promise<Step[]>;
  hasRecordedRanges(): Promise<boolean>;
  repository(): Promise<GitRepository>;
}

const MERGE_SUBJECT = /^Automerge step-S(\d+) into /;

/**
 * The step each commit is, for the commits given (full hashes): those no step made are left
 * out. Two store queries and, only when some commit is still unmatched and a step records a
 * range of its own, one git process.
 */
export async function stepsOfCommits(lookup: StepLookup, commits: readonly { commit: string; summary?: string }[]): Promise<Map<string, StepOwner>> {
  const owners = new Map<string, StepOwner>();
  const wanted = [...new Set(commits.map((c) => c.commit.toLowerCase()))];
  if (wanted.length === 0) return owners;
  const [index, recorded] = await Promise.all([lookup.commitIndex(), lookup.stepsWithCommits(wanted)]);

  for (const step of recorded) {
    const commit = wanted.find((c) => sameCommit(c, step.commitAfter));
    if (commit && !owners.has(commit)) owners.set(commit, { step, via: 'recorded' });
  }

  // The steps the notes and kept branches name, and those LaForge's merge commits name, read at once.
  const named = new Map<string, readonly number[]>();
  const merges = new Map<string, number>();
  for (const { commit, summary } of commits) {
    const key = commit.toLowerCase();
    if (owners.has(key)) continue;
    const ids = index.stepsNaming(key);
    if (ids.length > 0) named.set(key, ids);
    const merged = summary === undefined ? null : MERGE_SUBJECT.exec(summary);
    if (merged) merges.set(key, Number(merged[1]));
  }
  const ids = [...new Set([...[...named.values()].flat(), ...merges.values()])];
  const steps = new Map((ids.length > 0 ? await lookup.stepsWithIds(ids) : []).map((s) => [s.id, s]));
  for (const [commit, candidates] of named) {
    // The lowest step whose own resolution agrees; else the lowest the note names.
    const found = candidates.map((id) => steps.get(id)).filter((s): s is Step => s !== undefined);
    const step = found.find((s) => sameCommit(index.resolve(s).commit, commit)) ?? found[0];
    if (step) owners.set(commit, { step, via: 'note' });
  }
  for (const [commit, id] of merges) {
    const step = steps.get(id);
    if (step && !owners.has(commit)) owners.set(commit, { step, via: 'merge' });
  }

  const unmatched = wanted.filter((c) => !owners.has(c));
  if (unmatched.length > 0 && (await lookup.hasRecordedRanges())) {
    for (const [commit, owner] of await stepsOfRanges(lookup, unmatched)) owners.set(commit, owner);
  }
  return owners;
}

/**
 * The steps whose recorded range holds each commit: the nearest commits descending from any
 * of them in HEAD's history (GitRepository.descendants, one `git rev-list --parents`) hold the
 * ranges' ends; a step owns the commit when its end descends from it and its start does not.
 * The lowest such step wins.
 */
async function stepsOfRanges(lookup: StepLookup, commits: readonly string[]): Promise<Map<string, StepOwner>> {
  const owners = new Map<string, StepOwner>();
  const repo = await lookup.repository();
  const graph = await repo.descendants(commits);
  if (graph.size === 0) return owners;
  const candidates = await lookup.stepsWithCommits([...graph.keys()]);
  if (candidates.length === 0) return owners;
  // Which of `commits` each listed commit descends from: parents before children.
  const bottoms = new Map(commits.map((c, i) => [c, i]));
  const below = new Map<string, Set<number>>();
  for (const commit of [...graph.keys()].reverse()) {
    const set = new Set<number>();
    for (const parent of graph.get(commit) ?? []) {
      const b = bottoms.get(parent);
      if (b !== undefined) set.add(b);
      for (const x of below.get(parent) ?? []) set.add(x);
    }
    below.set(commit, set);
  }
  // A step's stored hash may be abbreviated: the listed commit it names.
  const listed = [...graph.keys(), ...commits];
  const full = (hash: string | null) => (hash ? listed.find((c) => sameCommit(c, hash)) : undefined);
  for (const step of candidates) {
    const end = full(step.commitAfter);
    if (!end) continue;
    const start = full(step.commitBefore);
    const startBelow = start === undefined ? new Set<number>() : new Set([...(below.get(start) ?? []), ...(bottoms.has(start) ? [bottoms.get(start)!] : [])]);
    for (const b of below.get(end) ?? []) {
      if (startBelow.has(b)) continue;
      const commit = commits[b];
      const known = owners.get(commit);
      if (!known || known.step.id > step.id) owners.set(commit, { step, via: 'range' });
    }
  }
  return owners;
}

/** Each line's owner, in the file's order (index = line - 1). */
export async function lineOwners(lookup: StepLookup, lines: readonly BlameLine[]): Promise<LineOwner[]> {
  const infos = new Map<string, BlameCommit>();
  for (const l of lines) if (l.info.commit) infos.set(l.info.commit, l.info);
  const owners = await stepsOfCommits(
    lookup,
    [...infos.values()].map((i) => ({ commit: i.commit!, summary: i.summary })),
  );
  const result: LineOwner[] = [];
  for (const l of lines) {
    const info = l.info;
    if (info.commit === null) result[l.line - 1] = { kind: 'uncommitted', commit: info };
    else {
      const owner = owners.get(info.commit.toLowerCase());
      result[l.line - 1] = owner ? { kind: 'step', step: owner.step, via: owner.via, commit: info } : { kind: 'commit', commit: info };
    }
  }
  return result;
}

/** Why a file was not blamed. */
export type BlameSkip = 'tooLarge' | 'binary' | 'outsideRepository';

export type FileBlame =
  | { kind: 'blamed'; /** repository-relative, `/`-separated */ path: string; owners: LineOwner[] }
  | { kind: 'skipped'; reason: BlameSkip; bytes?: number };

/** Bytes read from a file's start to tell text from binary, as git does. */
const SNIFF_BYTES = 8000;

/**
 * Blames a work-tree file and maps its lines to steps; a file larger than `maxBytes`, one with
 * a NUL byte in its first 8000 (git's own test for binary), or one outside the repository is
 * skipped without running git. A file git does not track is all uncommitted.
 */
export async function blameFile(lookup: StepLookup, absolutePath: string, options: { maxBytes: number }): Promise<FileBlame> {
  const repo = await lookup.repository();
  const gitPath = await pathInside(repo.root, absolutePath);
  if (gitPath === undefined) return { kind: 'skipped', reason: 'outsideRepository' };
  const stat = await fs.promises.stat(absolutePath);
  if (stat.size > options.maxBytes) return { kind: 'skipped', reason: 'tooLarge', bytes: stat.size };
  if (await hasNul(absolutePath)) return { kind: 'skipped', reason: 'binary', bytes: stat.size };
  const lines = await repo.blameOrUntracked(gitPath);
  if (lines === 'untracked') {
    const text = await fs.promises.readFile(absolutePath, 'utf8');
    const count = text.length === 0 ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    const info: BlameCommit = { commit: null, author: '', authorMail: '', authorTimeMs: null, summary: '', filename: gitPath, boundary: false };
    return { kind: 'blamed', path: gitPath, owners: Array.from({ length: count }, () => ({ kind: 'uncommitted' as const, commit: info })) };
  }
  return { kind: 'blamed', path: gitPath, owners: await lineOwners(lookup, lines) };
}

async function hasNul(file: string): Promise<boolean> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
    return buffer.subarray(0, bytesRead).includes(0);
  } finally {
    await handle.close();
  }
}

/** A position in a text: 0-based line and character, as the editor gives them. */
export interface TextPosition {
  line: number;
  character: number;
}

/** One edit of a document, as the editor reports it (ranges in the document before the edit). */
export interface LineEdit {
  range: { start: TextPosition; end: TextPosition };
  text: string;
  /** The range ends at the end of its line: text inserted there after a line break leaves the line as it was. */
  atLineEnd?: boolean;
}

/**
 * The owners of a document's lines after edits, without running blame again: the edits are
 * applied in order, each to the document as the previous ones left it (as the editor reports
 * them). A line an edit leaves as it was keeps its owner and moves with the lines above it;
 * deleted lines go; every line an edit wrote or changed is `uncommitted`. What stays whole: the
 * lines after the edit, a line an insertion of whole lines at its start pushes down, the line a
 * line break at its end leaves, and the line after a deletion of whole lines.
 */
export function shiftOwners(owners: readonly LineOwner[], edits: readonly LineEdit[], uncommitted: LineOwner): LineOwner[] {
  let result = [...owners];
  for (const { range, text, atLineEnd } of edits) {
    const { start, end } = range;
    const empty = start.line === end.line && start.character === end.character;
    if (empty && text === '') continue;
    const breaks = text.split('\n').length - 1;
    const added = (n: number) => Array.from({ length: n }, () => uncommitted);
    // Whole lines inserted before a line: that line moves down unchanged.
    if (empty && start.character === 0 && text.endsWith('\n')) {
      result.splice(start.line, 0, ...added(breaks));
      continue;
    }
    // A line break (and what follows it) at a line's end: the line stays as it was.
    if (empty && atLineEnd && text.startsWith('\n')) {
      result.splice(start.line + 1, 0, ...added(breaks));
      continue;
    }
    // Whole lines deleted: the line after them moves up unchanged.
    if (text === '' && start.character === 0 && end.character === 0) {
      result.splice(start.line, end.line - start.line);
      continue;
    }
    // Otherwise the lines from start to end become the edit's lines, each changed.
    const removed = Math.min(end.line, result.length - 1) - start.line + 1;
    if (start.line >= result.length) result = [...result, ...added(start.line - result.length)];
    result.splice(start.line, Math.max(removed, 0), ...added(breaks + 1));
  }
  return result;
}
