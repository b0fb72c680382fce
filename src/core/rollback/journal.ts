/**
 * The rollback journal on disk: what a rollback did, kept as JSON in the journal folder beside
 * the bytes it kept, written as each phase is reached and read to finish, revert or undo it.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic, type DatabaseStamp, type KeptFile } from '../databaseFile';
import { silentLogger, type Logger } from '../log';
import { isCommitHash } from '../model';
import type { RollbackTarget } from './plan';

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

const JOURNAL_PREFIX = 'rollback-';

export function journalFile(journalDir: string, id: string): string {
  return path.join(journalDir, `${JOURNAL_PREFIX}${id}.json`);
}

/** The folder beside a journal where the bytes it kept are: `rollback-<id>.kept/`. */
export function keptFolder(journalDir: string, id: string): string {
  return path.join(journalDir, `${JOURNAL_PREFIX}${id}.kept`);
}

/** A time-ordered id that is also a valid ref name component: `20260101T120000123Z-1a2b3c`. */
export function newJournalId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:.]/g, '')}-${crypto.randomBytes(3).toString('hex')}`;
}

export function saveJournal(journalDir: string, journal: RollbackJournal, log: Logger): void {
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
