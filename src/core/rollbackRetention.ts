/**
 * How long the states a rollback keeps live (plain Node: no `vscode` import).
 *
 * Each rollback keeps its journal, a backup ref at the old HEAD and, when it kept work safe, a
 * stash: an entry in `git stash list` and a ref naming it. This module lists them per
 * rollback, prunes those no longer needed beyond a count and an age, deletes the ones a user
 * picks, and releases what an undo or a revert consumed.
 *
 * Never pruned automatically: the states of a rollback that did not finish (Finish and Revert
 * need them), and those of the newest finished rollback of each repository (Undo needs them).
 * An older finished rollback can be undone once the newer ones are; it is kept while it is
 * among the newest `keepCount` or younger than `keepDays`, like everything else.
 */
import * as fs from 'fs';
import * as path from 'path';
import { GitRepository } from './git';
import { silentLogger, type Logger } from './log';
import { journalFile, keptFolder, readJournals, type RollbackJournal } from './rollback/journal';
import { shortHash } from './figures';

export interface RetentionPolicy {
  /** The newest this many rollbacks of each repository are kept. */
  keepCount: number;
  /** Rollbacks made less than this many days ago are kept. */
  keepDays: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = { keepCount: 20, keepDays: 30 };

/** What still needs a rollback's states: Finish or Revert (it stopped half-way), or Undo (the newest finished rollback of its repository). */
export type RollbackNeed = 'finish' | 'undo';

interface KeptStateBase {
  /** The rollback's id: its journal's, or the last part of an orphan ref's name. */
  rollbackId: string;
  /** The work tree whose repository holds the state (for a journal: its rollback's repository). */
  repositoryRoot: string;
  /** When the rollback was made: its journal's `createdAt`, else the time in its id. */
  time: Date;
  /** The rollback's journal; null when it is gone and only refs are left. */
  journal: RollbackJournal | null;
  /** The step the rollback went to before ("S17"), from the journal or the stash's message. */
  stepLabel: string | null;
  neededFor: RollbackNeed | null;
}

export interface KeptJournal extends KeptStateBase {
  kind: 'journal';
  file: string;
  bytes: number;
}

export interface KeptBackup extends KeptStateBase {
  kind: 'backup';
  ref: string;
  commit: string;
  /** Commits only this ref keeps (no branch, tag or remote reaches them); listed with `sizes`. */
  commitsOnNoBranch?: number;
}

export interface KeptStash extends KeptStateBase {
  kind: 'stash';
  /** `refs/step-history/stash/<id>`; null when only the stash entry is left. */
  ref: string | null;
  commit: string;
  /** Its position in `git stash list` when listed; null when the entry was dropped and only the ref keeps it. */
  stashIndex: number | null;
  /** How many files it holds; listed with `sizes`. */
  files?: number;
}

export type KeptState = KeptJournal | KeptBackup | KeptStash;

export interface RetentionScope {
  /** The rollback journals' folder. */
  journalDir: string;
  /**
   * Folders whose git repositories are looked at (the workspace's). Journals of rollbacks in
   * other repositories are left alone, for the window that has them open.
   */
  repositories: readonly string[];
  log?: Logger;
}

export interface PruneResult {
  /** What was removed, newest rollback first. */
  removed: KeptState[];
  /** Rollbacks kept, and among them those kept because Finish, Revert or Undo needs them. */
  keptRollbacks: number;
  keptNeeded: number;
  /** One sentence per state that could not be removed (also logged). */
  failures: string[];
}

const DAY_MS = 24 * 60 * 60 * 1000;
const REF_NAME = /^refs\/step-history\/(backup|stash)\/(.+)$/;
const STASH_MESSAGE = /Step History: before rolling back to (S\d+) \(([0-9A-Za-z-]+)\)\s*$/;

/** The time in a rollback id such as `20260101T120000123Z-1a2b3c`, or null. */
export function rollbackIdTime(id: string): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z(?:-|$)/.exec(id);
  if (!m) return null;
  const time = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z`);
  return Number.isNaN(time.getTime()) ? null : time;
}

/** The policy with each value a whole number of at least 0; a missing or non-numeric value takes the default. */
export function normalizePolicy(policy: Partial<RetentionPolicy> | undefined): RetentionPolicy {
  const whole = (value: unknown, fallback: number) =>
    typeof value === 'number' && Number.isFinite(value) ? Math.max(0, Math.floor(value)) : fallback;
  return {
    keepCount: whole(policy?.keepCount, DEFAULT_RETENTION.keepCount),
    keepDays: whole(policy?.keepDays, DEFAULT_RETENTION.keepDays),
  };
}

/**
 * The rollbacks to prune: those no Finish, Revert or Undo needs that are beyond the newest
 * `keepCount` of their repository and at least `keepDays` old.
 */
export function selectForPruning<T extends Pick<KeptStateBase, 'rollbackId' | 'repositoryRoot' | 'time' | 'neededFor'>>(
  rollbacks: readonly T[],
  policy: RetentionPolicy,
  now: Date,
): T[] {
  const { keepCount, keepDays } = normalizePolicy(policy);
  const byRepository = new Map<string, T[]>();
  for (const r of rollbacks) {
    const list = byRepository.get(r.repositoryRoot) ?? [];
    list.push(r);
    byRepository.set(r.repositoryRoot, list);
  }
  const selected: T[] = [];
  for (const list of byRepository.values()) {
    [...list].sort(newestFirst).forEach((r, rank) => {
      if (r.neededFor !== null || rank < keepCount) return;
      if (now.getTime() - r.time.getTime() < keepDays * DAY_MS) return;
      selected.push(r);
    });
  }
  return selected.sort(newestFirst);
}

function newestFirst(a: { time: Date; rollbackId: string }, b: { time: Date; rollbackId: string }): number {
  return b.time.getTime() - a.time.getTime() || (a.rollbackId < b.rollbackId ? 1 : a.rollbackId > b.rollbackId ? -1 : 0);
}

// ---------------------------------------------------------------------------------------
// Reading what is kept

/** Everything kept of one rollback. */
interface KeptRollback extends KeptStateBase {
  backup?: { ref: string; commit: string; root: string };
  stash?: { ref: string | null; commit: string; index: number | null; root: string };
}

interface Collected {
  rollbacks: KeptRollback[];
  repos: Map<string, GitRepository>;
}

function realPath(p: string): string {
  try {
    return fs.realpathSync.native(p);
  } catch {
    return path.resolve(p);
  }
}

function isInside(file: string, folder: string): boolean {
  const relative = path.relative(folder, file);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

const isFinished = (j: RollbackJournal) => j.phase === 'done' || j.phase === 'undone';

async function collect(scope: RetentionScope, log: Logger): Promise<Collected> {
  const repos = new Map<string, GitRepository>();
  for (const folder of new Set(scope.repositories.map((p) => path.resolve(p)))) {
    try {
      const repo = await GitRepository.open(folder, { log });
      if (!repos.has(repo.root)) repos.set(repo.root, repo);
    } catch (err) {
      log.debug(`[retention] ${folder} left out: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  // The innermost repository holding a journal's folder is its repository.
  const roots = [...repos.keys()].map((root) => ({ root, real: realPath(root) })).sort((a, b) => b.real.length - a.real.length);
  const rootOf = (folder: string) => {
    const real = realPath(folder);
    return roots.find((r) => isInside(real, r.real))?.root;
  };

  const byId = new Map<string, KeptRollback>();
  const journals = new Map((await readJournals(scope.journalDir, log)).map((j) => [j.id, j]));
  const fromJournal = (journal: RollbackJournal, root: string): KeptRollback => {
    const created = new Date(journal.createdAt);
    return {
      rollbackId: journal.id,
      repositoryRoot: root,
      time: Number.isNaN(created.getTime()) ? (rollbackIdTime(journal.id) ?? new Date(0)) : created,
      journal,
      stepLabel: journal.stepLabel,
      neededFor: null,
    };
  };
  for (const journal of journals.values()) {
    const root = rootOf(journal.target.repositoryPath);
    if (root) byId.set(journal.id, fromJournal(journal, root));
  }

  for (const [root, repo] of repos) {
    const [refs, stashes] = await Promise.all([repo.stepHistoryRefs(), repo.stashList()]);
    const stashIndex = (commit: string) => {
      const i = stashes.findIndex((e) => e.commit === commit);
      return i < 0 ? null : i;
    };
    for (const { ref, commit, committed } of refs) {
      const [, kind, id] = REF_NAME.exec(ref)!;
      let rollback = byId.get(id);
      if (!rollback) {
        // A journal naming another folder (a moved repository) still owns its refs here.
        const journal = journals.get(id);
        rollback = journal
          ? fromJournal(journal, root)
          : { rollbackId: id, repositoryRoot: root, time: rollbackIdTime(id) ?? committed, journal: null, stepLabel: null, neededFor: null };
        byId.set(id, rollback);
      }
      if (kind === 'backup') rollback.backup = { ref, commit, root };
      else rollback.stash = { ref, commit, index: stashIndex(commit), root };
    }
    for (const rollback of byId.values()) {
      const j = rollback.journal;
      // The ref may be gone while the entry is still in the stash list.
      if (!rollback.stash && j?.stashCommit && rollback.repositoryRoot === root) {
        const index = stashIndex(j.stashCommit);
        if (index !== null) rollback.stash = { ref: null, commit: j.stashCommit, index, root };
      }
    }
    for (const entry of stashes) {
      const m = STASH_MESSAGE.exec(entry.subject);
      const rollback = m ? byId.get(m[2]) : undefined;
      if (rollback && !rollback.stepLabel) rollback.stepLabel = m![1];
    }
  }

  const rollbacks = [...byId.values()].sort(newestFirst);
  const newestDone = new Set<string>();
  for (const r of rollbacks) {
    if (!r.journal) continue;
    if (!isFinished(r.journal)) r.neededFor = 'finish';
    else if (r.journal.phase === 'done' && !newestDone.has(r.repositoryRoot)) {
      newestDone.add(r.repositoryRoot);
      r.neededFor = 'undo';
    }
  }
  return { rollbacks, repos };
}

/** The bytes of the files in a journal's kept folder (copies of the database and its log); 0 when there is none. */
async function folderBytes(folder: string): Promise<number> {
  const names = await fs.promises.readdir(folder).catch(() => [] as string[]);
  const sizes = await Promise.all(names.map((n) => fs.promises.stat(path.join(folder, n)).then((st) => st.size, () => 0)));
  return sizes.reduce((a, b) => a + b, 0);
}

async function statesOf(r: KeptRollback, journalDir: string): Promise<KeptState[]> {
  const base = { rollbackId: r.rollbackId, time: r.time, journal: r.journal, stepLabel: r.stepLabel, neededFor: r.neededFor };
  const states: KeptState[] = [];
  if (r.journal) {
    const file = journalFile(journalDir, r.rollbackId);
    const bytes = (await fs.promises.stat(file).then((st) => st.size, () => 0)) + (await folderBytes(keptFolder(journalDir, r.rollbackId)));
    states.push({ ...base, kind: 'journal', repositoryRoot: r.repositoryRoot, file, bytes });
  }
  if (r.backup) states.push({ ...base, kind: 'backup', repositoryRoot: r.backup.root, ref: r.backup.ref, commit: r.backup.commit });
  if (r.stash) {
    states.push({ ...base, kind: 'stash', repositoryRoot: r.stash.root, ref: r.stash.ref, commit: r.stash.commit, stashIndex: r.stash.index });
  }
  return states;
}

/**
 * Every state kept of the rollbacks in `scope`'s repositories, newest rollback first and, for
 * each, its journal, backup ref and stash. With `sizes`, also the commits only a backup ref
 * keeps and the files a stash holds (a few git processes each).
 */
export async function listKeptStates(scope: RetentionScope & { sizes?: boolean }): Promise<KeptState[]> {
  const log = scope.log ?? silentLogger;
  const { rollbacks, repos } = await collect(scope, log);
  const states = (await Promise.all(rollbacks.map((r) => statesOf(r, scope.journalDir)))).flat();
  if (scope.sizes) {
    await Promise.all(
      states.map(async (s) => {
        const repo = repos.get(s.repositoryRoot);
        if (!repo) return;
        try {
          if (s.kind === 'backup') s.commitsOnNoBranch = await repo.commitsOnNoBranch(s.ref);
          if (s.kind === 'stash') s.files = (await repo.stashFiles(s.commit)).length;
        } catch (err) {
          log.debug(`[retention] no size for the ${s.kind} of ${s.rollbackId}: ${String(err)}`);
        }
      }),
    );
  }
  return states;
}

// ---------------------------------------------------------------------------------------
// Removing

/** Removes one state. A ref is deleted only while it points where it was listed; a stash entry only from the position that holds its commit. */
async function removeState(state: KeptState, repos: Map<string, GitRepository>, journalDir: string, log: Logger): Promise<void> {
  if (state.kind === 'journal') {
    await fs.promises.rm(journalFile(journalDir, state.rollbackId), { force: true });
    await fs.promises.rm(keptFolder(journalDir, state.rollbackId), { recursive: true, force: true });
    return;
  }
  const repo = repos.get(state.repositoryRoot) ?? (await GitRepository.open(state.repositoryRoot, { log }));
  repos.set(repo.root, repo);
  if (state.kind === 'stash') {
    await repo.dropStash(state.commit);
    if (state.ref) await repo.deleteStepHistoryRef(state.ref, state.commit);
  } else {
    await repo.deleteStepHistoryRef(state.ref, state.commit);
  }
}

const ORDER: Record<KeptState['kind'], number> = { stash: 0, backup: 1, journal: 2 };

function describeState(s: KeptState): string {
  const what = s.kind === 'journal' ? 'journal' : s.kind === 'backup' ? `backup ref ${s.ref}` : `stash ${shortHash(s.commit)}`;
  return `the ${what} of rollback ${s.rollbackId}`;
}

/** "2 journals, 1 backup ref, 1 stash (1 stash entry)": what a list of states holds. */
export function countStates(states: readonly KeptState[]): string {
  const n = (kind: KeptState['kind']) => states.filter((s) => s.kind === kind).length;
  const entries = states.filter((s) => s.kind === 'stash' && s.stashIndex !== null).length;
  const parts = [
    [n('journal'), 'journal'],
    [n('backup'), 'backup ref'],
    [n('stash'), 'stash'],
  ]
    .filter(([count]) => count)
    .map(([count, word]) => `${count} ${word}${count === 1 ? '' : word === 'stash' ? 'es' : 's'}`);
  if (parts.length === 0) return 'nothing';
  return parts.join(', ') + (entries ? ` (${entries} stash ${entries === 1 ? 'entry' : 'entries'})` : '');
}

/**
 * Deletes the given states (picked by a user from `listKeptStates`), stashes first and journals
 * last. Returns those deleted and a sentence for each that could not be; never throws for one state.
 */
export async function deleteKeptStates(
  states: readonly KeptState[],
  options: { journalDir: string; log?: Logger },
): Promise<{ deleted: KeptState[]; failures: string[] }> {
  const log = options.log ?? silentLogger;
  const repos = new Map<string, GitRepository>();
  const deleted: KeptState[] = [];
  const failures: string[] = [];
  for (const state of [...states].sort((a, b) => ORDER[a.kind] - ORDER[b.kind])) {
    try {
      await removeState(state, repos, options.journalDir, log);
      deleted.push(state);
    } catch (err) {
      const failure = `Could not delete ${describeState(state)}: ${err instanceof Error ? err.message : String(err)}`;
      log.warn(`[retention] ${failure}`);
      failures.push(failure);
    }
  }
  log.info(`[retention] deleted ${countStates(deleted)} on request${failures.length ? `; ${failures.length} could not be deleted` : ''}`);
  return { deleted, failures };
}

/**
 * Removes the states of the rollbacks in `scope`'s repositories that `selectForPruning`
 * chooses. A journal goes only once its refs and stash are gone, so that a failure leaves the
 * rollback whole for the next time. Logs one line saying what was removed.
 */
export async function pruneKeptStates(scope: RetentionScope & { policy: Partial<RetentionPolicy>; now?: Date }): Promise<PruneResult> {
  const log = scope.log ?? silentLogger;
  const policy = normalizePolicy(scope.policy);
  const now = scope.now ?? new Date();
  const { rollbacks, repos } = await collect(scope, log);
  const chosen = selectForPruning(rollbacks, policy, now);
  const removed: KeptState[] = [];
  const failures: string[] = [];
  for (const rollback of chosen) {
    const states = (await statesOf(rollback, scope.journalDir)).sort((a, b) => ORDER[a.kind] - ORDER[b.kind]);
    let whole = true;
    for (const state of states) {
      if (state.kind === 'journal' && !whole) continue;
      try {
        await removeState(state, repos, scope.journalDir, log);
        removed.push(state);
      } catch (err) {
        whole = false;
        const failure = `Could not remove ${describeState(state)}: ${err instanceof Error ? err.message : String(err)}`;
        log.warn(`[retention] ${failure}`);
        failures.push(failure);
      }
    }
  }
  const pruned = new Set(chosen.map((r) => r.rollbackId));
  const kept = rollbacks.filter((r) => !pruned.has(r.rollbackId));
  const keptNeeded = kept.filter((r) => r.neededFor !== null).length;
  const rollbacksWord = (n: number) => `${n} rollback${n === 1 ? '' : 's'}`;
  log.info(
    `[retention] pruned ${chosen.length ? `${countStates(removed)} of ${rollbacksWord(chosen.length)}` : 'nothing'} ` +
      `(keeping the newest ${policy.keepCount} per repository and any younger than ${policy.keepDays} days); ` +
      `kept ${rollbacksWord(kept.length)}, ${keptNeeded} of them needed to finish, revert or undo` +
      (failures.length ? `; ${failures.length} could not be removed` : ''),
  );
  return { removed, keptRollbacks: kept.length, keptNeeded, failures };
}

/**
 * After an undo or a revert has put everything back: deletes the rollback's backup ref and,
 * unless `keepStash` (the stash did not apply cleanly and is still the only copy of that work),
 * drops its stash entry and deletes its stash ref. The journal stays, marked undone, so that the
 * rollback is never undone twice; retention removes it later. Only for a journal marked undone;
 * never throws (a failure is logged and left for Manage Kept Rollback States).
 */
export async function releaseRollbackStates(
  journal: RollbackJournal,
  options: { log?: Logger; keepStash?: boolean; journalDir?: string; keepCopies?: boolean } = {},
): Promise<{ released: string[] }> {
  const log = options.log ?? silentLogger;
  const released: string[] = [];
  if (journal.phase !== 'undone') return { released };
  try {
    // The copies of the database kept around the resets, unless one is still the only copy of something.
    if (options.journalDir && !options.keepCopies) {
      const folder = keptFolder(options.journalDir, journal.id);
      if (fs.existsSync(folder)) {
        await fs.promises.rm(folder, { recursive: true, force: true });
        released.push('its kept copies of the database');
      }
    }
    const repo = await GitRepository.open(journal.target.repositoryPath, { log });
    if (!options.keepStash && (journal.stashRef || journal.stashCommit)) {
      const at = journal.stashRef ? await repo.refTarget(journal.stashRef) : null;
      const commit = at ?? journal.stashCommit;
      if (commit && (await repo.dropStash(commit))) released.push(`its stash entry ${shortHash(commit)}`);
      if (journal.stashRef && at && (await repo.deleteStepHistoryRef(journal.stashRef, at))) released.push(journal.stashRef);
    }
    const backup = await repo.refTarget(journal.backupRef);
    if (backup && (await repo.deleteStepHistoryRef(journal.backupRef, backup))) released.push(journal.backupRef);
    log.info(
      `[retention] ${journal.id} is undone: removed ${released.length ? released.join(', ') : 'nothing (nothing was left)'}` +
        (options.keepStash && journal.stashRef ? `; ${journal.stashRef} is kept, its work was not re-applied cleanly` : ''),
    );
  } catch (err) {
    log.warn(`[retention] could not remove what the undo of ${journal.id} used (${released.join(', ') || 'nothing removed'}): ${String(err)}`);
  }
  return { released };
}
