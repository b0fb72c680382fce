/**
 * Where Step History keeps state that outlives one editor window or one command: the rollback
 * journals, shared by the editor and the `step-history` command line so that each can undo,
 * finish or revert what the other did. One user-level folder, computed here only.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fsyncDir, writeTempBeside, type KeptFile } from './databaseFile';
import { silentLogger, type Logger } from './log';
import { journalFile, keptFolder, readJournals, type RollbackJournal } from './rollback/journal';

/** Overrides the folder everywhere (tests, or a user who wants it elsewhere). */
export const STATE_DIR_VARIABLE = 'STEP_HISTORY_STATE_DIR';

export interface StateDirContext {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  home?: string;
}

/**
 * The user's Step History state folder:
 * `$STEP_HISTORY_STATE_DIR` if set; otherwise on Linux and other Unix systems
 * `$XDG_STATE_HOME/step-history` (default `~/.local/state/step-history`), on macOS
 * `~/Library/Application Support/step-history`, on Windows `%LOCALAPPDATA%\step-history`.
 */
export function stateDir(context: StateDirContext = {}): string {
  const env = context.env ?? process.env;
  const platform = context.platform ?? process.platform;
  const home = context.home ?? os.homedir();
  const p = platform === 'win32' ? path.win32 : path.posix;
  const given = env[STATE_DIR_VARIABLE]?.trim();
  if (given) return p.resolve(given);
  if (platform === 'win32') {
    const local = env.LOCALAPPDATA?.trim() || p.join(home, 'AppData', 'Local');
    return p.join(local, 'step-history');
  }
  if (platform === 'darwin') return p.join(home, 'Library', 'Application Support', 'step-history');
  const xdg = env.XDG_STATE_HOME?.trim();
  // The XDG specification ignores a relative value.
  const base = xdg && p.isAbsolute(xdg) ? xdg : p.join(home, '.local', 'state');
  return p.join(base, 'step-history');
}

/** The rollback journals' folder, shared by the editor and the command line. */
export function rollbackJournalDir(context: StateDirContext = {}): string {
  const dir = stateDir(context);
  return (context.platform ?? process.platform) === 'win32' ? path.win32.join(dir, 'rollbacks') : path.posix.join(dir, 'rollbacks');
}

export interface MoveResult {
  moved: string[];
  /** Journals left where they were, with why; tried again on the next call. */
  failed: { id: string; reason: string }[];
}

/**
 * Moves every rollback journal in `from` (and the bytes it kept, `rollback-<id>.kept/`) into
 * `to`, rewriting the kept copies' paths. Never overwrites a journal already in `to` (a move
 * that stopped half-way, or another window moving the same folder): the one in `to` is kept
 * and the one in `from` removed. A journal that cannot be moved stays in `from`, whole.
 */
export async function moveJournals(from: string, to: string, log: Logger = silentLogger): Promise<MoveResult> {
  const result: MoveResult = { moved: [], failed: [] };
  if (path.resolve(from) === path.resolve(to)) return result;
  const journals = await readJournals(from, log);
  if (journals.length === 0) return result;
  fs.mkdirSync(to, { recursive: true });
  for (const journal of journals) {
    try {
      moveOne(journal, from, to);
      result.moved.push(journal.id);
      log.info(`[rollback] journal ${journal.id} moved from ${from} to ${to}`);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      result.failed.push({ id: journal.id, reason });
      log.warn(`[rollback] could not move journal ${journal.id} from ${from} to ${to}: ${reason}; it stays there and is moved on the next start.`);
    }
  }
  try {
    if (fs.readdirSync(from).length === 0) fs.rmdirSync(from);
  } catch {
    // Not empty, or already gone: either way nothing to do.
  }
  return result;
}

function moveOne(journal: RollbackJournal, from: string, to: string): void {
  const source = journalFile(from, journal.id);
  const dest = journalFile(to, journal.id);
  const oldKept = keptFolder(from, journal.id);
  const newKept = keptFolder(to, journal.id);
  if (!fs.existsSync(dest)) {
    if (fs.existsSync(oldKept)) fs.cpSync(oldKept, newKept, { recursive: true, force: true, preserveTimestamps: true });
    const rewritten = rewriteKeptPaths(journal, oldKept, newKept);
    const tmp = writeTempBeside(dest, Buffer.from(JSON.stringify(rewritten, null, 2) + '\n', 'utf8'), 0o600);
    try {
      // A hard link never replaces an existing file: whoever moved it first wins.
      fs.linkSync(tmp, dest);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
    fsyncDir(to);
  }
  fs.rmSync(source, { force: true });
  fs.rmSync(oldKept, { recursive: true, force: true });
}

/** The journal with every kept copy under `oldKept` pointed at the same file under `newKept`. */
export function rewriteKeptPaths(journal: RollbackJournal, oldKept: string, newKept: string): RollbackJournal {
  const move = (files: KeptFile[] | undefined) =>
    files?.map((f) => {
      const rel = path.relative(oldKept, f.copy);
      return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? { ...f, copy: path.join(newKept, rel) } : f;
    });
  const copy: RollbackJournal = { ...journal };
  if (journal.kept) copy.kept = move(journal.kept);
  if (journal.keptWal) copy.keptWal = move(journal.keptWal);
  if (journal.restoring) copy.restoring = { ...journal.restoring, kept: move(journal.restoring.kept) ?? [] };
  return copy;
}

/**
 * The shared journal folder, created, with the journals of `legacyDirs` (where an older
 * version kept them: the editor's global storage) moved into it.
 */
export async function prepareJournalDir(legacyDirs: readonly string[], log: Logger = silentLogger, context: StateDirContext = {}): Promise<string> {
  const dir = rollbackJournalDir(context);
  await fs.promises.mkdir(dir, { recursive: true });
  for (const legacy of legacyDirs) await moveJournals(legacy, dir, log);
  return dir;
}
