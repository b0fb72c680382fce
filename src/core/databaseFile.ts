/**
 * The step database as files on disk, for rollback and undo (plain Node: no `vscode` import):
 * its stamp, whether a writer has it open, kept copies of files, and the one way it is
 * rewritten: a new image renamed over the old one, with a leftover write-ahead log folded in
 * first so that a crash at any point leaves either the old database or the new one.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { RollbackError } from './errors';
import { be32, readFileHead } from './fingerprint';
import { silentLogger, type Logger } from './log';
import { failures } from './messages';
import { rollbackRefusals } from './messages/rollback';
import { holdersOf, type HolderLookup } from './openFiles';
import { loadSqlJs } from './sqljs';
import { applyWal, readWalHeader, WAL_FRAME_HEADER_SIZE, WAL_HEADER_SIZE } from './wal';

/** The database file as the plan read it; the write happens only if it is still so. */
export interface DatabaseStamp {
  size: number;
  mtimeMs: number;
  /** The header's file change counter (bytes 24..27). */
  changeCounter: number;
  /** The file's inode: a writer that replaced the file by renaming changes it. */
  ino?: number;
  /** The `-wal` beside it (null when absent); a WAL database's new transactions land there. */
  wal?: { size: number; mtimeMs: number } | null;
}

/** The database and its sidecar files, in that order. */
export function databaseFiles(dbPath: string): string[] {
  return ['', '-wal', '-shm', '-journal'].map((suffix) => dbPath + suffix);
}

/** Reads the database file's stamp: size, mtime, inode, the header's change counter and its -wal. */
export function readDatabaseStamp(dbPath: string): DatabaseStamp {
  const head = readFileHead(dbPath, 100);
  if (!head) throw Object.assign(new Error(`ENOENT: no such file, open '${dbPath}'`), { code: 'ENOENT', path: dbPath });
  const wal = readFileHead(dbPath + '-wal', 0);
  return { ...head.stamp, changeCounter: be32(head.header, 24), wal: wal && { size: wal.stamp.size, mtimeMs: wal.stamp.mtimeMs } };
}

export function sameDatabaseStamp(a: DatabaseStamp, b: DatabaseStamp): boolean {
  const sameWal =
    a.wal === undefined || b.wal === undefined || (a.wal === null ? b.wal === null : b.wal !== null && a.wal.size === b.wal.size && a.wal.mtimeMs === b.wal.mtimeMs);
  return (
    a.size === b.size &&
    a.mtimeMs === b.mtimeMs &&
    a.changeCounter === b.changeCounter &&
    (a.ino === undefined || b.ino === undefined || a.ino === b.ino) &&
    sameWal
  );
}

/** Why the database cannot be written now, with what to do; `overridable` when the user may choose to go ahead. */
export interface DatabaseRefusal {
  code: 'DATABASE_BUSY' | 'DATABASE_WAL_UNKNOWN';
  message: string;
  remedy: string;
  overridable?: boolean;
  /** A `-journal` that no program holds: the transaction was interrupted, and it ends only when the user opens the database with SQLite. Not a passing state. */
  interrupted?: boolean;
}

/**
 * What refused, as a reason a RollbackError carries (isPassingState reads them): the refusal's
 * code, except for an interrupted transaction, which does not end by itself.
 */
export const refusalReason = (refusal: { code: string; interrupted?: boolean }): string => (refusal.interrupted ? 'DATABASE_INTERRUPTED' : refusal.code);

export interface DatabaseState {
  refusal: DatabaseRefusal | null;
  /** A -wal or -shm left by a writer that has exited: folded into the new image when written. */
  leftoverWal: boolean;
}

export interface InspectOptions {
  /** Who holds the files open; null from it means "cannot tell". Default: the system's. */
  holders?: HolderLookup;
  /** The user chose to go ahead although it cannot be told whether a writer holds the WAL. */
  assumeNoWriter?: boolean;
  /** What the sentences call the database; default "step database". */
  what?: 'step database' | 'task database';
}

function readIfExists(file: string, limit = Number.MAX_SAFE_INTEGER): Buffer | undefined {
  return readFileHead(file, limit)?.header;
}

const isWalMode = (header: Uint8Array | undefined) => !!header && header.length >= 20 && (header[18] === 2 || header[19] === 2);

/** Whether the -wal holds at least one frame of its current generation. */
function walHasFrames(wal: Buffer | undefined): boolean {
  if (!wal || wal.length <= WAL_HEADER_SIZE) return false;
  const header = readWalHeader(wal);
  if (typeof header === 'string' || wal.length < WAL_HEADER_SIZE + WAL_FRAME_HEADER_SIZE + header.pageSize) return false;
  const at = WAL_HEADER_SIZE;
  return be32(wal, at) !== 0 && be32(wal, at + 8) === header.salt1 && be32(wal, at + 12) === header.salt2;
}

/**
 * Whether the database may be rewritten now. Refused while another program holds any of its
 * files open, while a hot `-journal` says a transaction is in progress or was interrupted, and
 * where a WAL's `-wal` or `-shm` exists but the system cannot tell whether its writer is gone.
 * A WAL left by a writer that has exited is no refusal: it is folded in when the file is written.
 */
export function inspectDatabase(dbPath: string, options: InspectOptions = {}): DatabaseState {
  const name = path.basename(dbPath);
  const holders = (options.holders ?? holdersOf)(databaseFiles(dbPath));
  const what = options.what ?? 'step database';
  const busy = (refusal: DatabaseRefusal): DatabaseState => ({ refusal, leftoverWal: false });
  if (holders && holders.length > 0) {
    return busy(rollbackRefusals.databaseHeld({ what, holders: holders.map((h) => `${h.name} (pid ${h.pid})`) }));
  }
  const journal = readIfExists(dbPath + '-journal', 28);
  if (journal && journal.length > 0 && journal.some((b) => b !== 0)) {
    // Known to be held by nobody: waiting would never end.
    return busy(rollbackRefusals.transactionOpen({ what, name, interrupted: holders !== null }));
  }
  const walMode = isWalMode(readIfExists(dbPath, 20));
  const walFiles = fs.existsSync(dbPath + '-wal') || fs.existsSync(dbPath + '-shm');
  if (walMode && walFiles) {
    if (holders || options.assumeNoWriter) return { refusal: null, leftoverWal: true };
    return { refusal: rollbackRefusals.walUnknown({ what, name }), leftoverWal: false };
  }
  if (!walMode && walHasFrames(readIfExists(dbPath + '-wal'))) {
    return busy(rollbackRefusals.walNotFolded({ what, name }));
  }
  return { refusal: null, leftoverWal: false };
}

export function refusalError(refusal: DatabaseRefusal): RollbackError {
  const facts = { message: refusal.message, remedy: refusal.remedy };
  const reasons = [refusalReason(refusal)];
  return refusal.code === 'DATABASE_BUSY' ? failures.databaseBusy(facts, { reasons }) : failures.databaseWalUnknown(facts, { reasons });
}

// ---------------------------------------------------------------------------------------
// Durable files

function writeAll(fd: number, data: Uint8Array): void {
  for (let at = 0; at < data.length; ) at += fs.writeSync(fd, data, at, data.length - at);
}

export function fsyncDir(dir: string): void {
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

/** A temporary file beside `file`, written and flushed; the caller renames it into place or removes it. */
export function writeTempBeside(file: string, data: Uint8Array, mode = 0o644, owner?: { uid: number; gid: number }): string {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.step-history-${crypto.randomBytes(4).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'wx', mode);
  try {
    fs.fchmodSync(fd, mode);
    if (owner) {
      try {
        fs.fchownSync(fd, owner.uid, owner.gid);
      } catch {
        // Only root may give a file away; then it belongs to whoever runs the editor.
      }
    }
    writeAll(fd, data);
    fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  return tmp;
}

/** Writes `data` to `file` atomically: a flushed temporary file in the same folder renamed over it, the folder flushed. */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode?: number): void {
  const tmp = writeTempBeside(file, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, mode);
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(path.dirname(file));
}

export const sha256 = (data: Uint8Array): string => crypto.createHash('sha256').update(data).digest('hex');

/** A file's bytes kept aside before an operation that may overwrite it, and where. */
export interface KeptFile {
  /** The file kept (absolute). */
  path: string;
  /** Where its bytes are kept (absolute). */
  copy: string;
  sha256: string;
  size: number;
  mode: number;
}

/** Copies `file` to `copy` durably and says what was kept; null when `file` does not exist. */
export function keepFile(file: string, copy: string): KeptFile | null {
  let bytes: Buffer;
  let mode: number;
  try {
    bytes = fs.readFileSync(file);
    mode = fs.statSync(file).mode & 0o7777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  fs.mkdirSync(path.dirname(copy), { recursive: true });
  writeFileAtomic(copy, bytes, 0o600);
  return { path: file, copy, sha256: sha256(bytes), size: bytes.length, mode };
}

export type KeptOutcome = 'unchanged' | 'restored' | 'changed-since';

/**
 * Puts a kept file back when it is missing, or when `overwrittenBy` says its current bytes are
 * what the operation wrote over it (git's version of the file). A file changed by anyone else
 * since it was kept is left as it is: 'changed-since', and the copy stays where it is.
 */
export function restoreKeptFile(kept: KeptFile, overwrittenBy: (current: Buffer) => boolean): KeptOutcome {
  let current: Buffer | null;
  try {
    current = fs.readFileSync(kept.path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    current = null;
  }
  if (current && sha256(current) === kept.sha256) return 'unchanged';
  if (current && !overwrittenBy(current)) return 'changed-since';
  const bytes = fs.readFileSync(kept.copy);
  if (sha256(bytes) !== kept.sha256) {
    throw failures.keptCopyDamaged({ path: kept.path, copy: kept.copy });
  }
  writeFileAtomic(kept.path, bytes, kept.mode);
  return 'restored';
}

// ---------------------------------------------------------------------------------------
// The database write

/** Tests only: the file-system steps of a database write, where a crash is simulated. */
export type DatabaseWriteStep = 'wal-kept' | 'wal-folded' | 'wal-removed' | 'database-temp-written' | 'database-replaced';

export interface WriteOptions extends InspectOptions {
  /** The database must still be as the plan read it. */
  expected?: DatabaseStamp;
  wasmPath?: string;
  log?: Logger;
  /** Keeps a leftover `-wal` before it is folded in and removed; returns what was kept. */
  keepWal: (walPath: string) => KeptFile | null;
  /** Tests only: a throw stops the write as a crash would at that step. */
  onStep?: (step: DatabaseWriteStep) => void | Promise<void>;
}

export interface WriteResult {
  written: boolean;
  stamp: DatabaseStamp;
  changed: number;
  /** Frames of a leftover write-ahead log folded into the file. */
  walFramesFolded: number;
}

/** What to change: the rows picked by `where` (SQL with `?` params) get `active` set. */
export interface ActiveUpdate {
  /** e.g. `project_id = ?`; combined with the id list. */
  where: string;
  params: (string | number | null | Uint8Array)[];
  ids: readonly number[];
  active: boolean;
  /** For log lines: "S17–S23". */
  describe: string;
}

function readWhole(dbPath: string): { bytes: Buffer; stamp: DatabaseStamp; mode: number; owner: { uid: number; gid: number } } {
  const fd = fs.openSync(dbPath, 'r');
  try {
    const st = fs.fstatSync(fd);
    const bytes = Buffer.alloc(st.size);
    if (st.size > 0) fs.readSync(fd, bytes, 0, st.size, 0);
    const wal = readFileHead(dbPath + '-wal', 0);
    const stamp: DatabaseStamp = {
      size: st.size,
      mtimeMs: st.mtimeMs,
      changeCounter: be32(bytes, 24),
      ino: st.ino,
      wal: wal && { size: wal.stamp.size, mtimeMs: wal.stamp.mtimeMs },
    };
    return { bytes, stamp, mode: st.mode & 0o7777, owner: { uid: st.uid, gid: st.gid } };
  } finally {
    fs.closeSync(fd);
  }
}

export function databaseChanged(dbPath: string): RollbackError {
  return failures.databaseChanged({ name: path.basename(dbPath) });
}

/**
 * Renames `tmp` over `dbPath` if nothing changed since `stamp` was read and no writer appeared;
 * otherwise removes `tmp` and throws.
 */
function replaceIfUnchanged(dbPath: string, tmp: string, stamp: DatabaseStamp, options: InspectOptions): void {
  const state = inspectDatabase(dbPath, options);
  let now: DatabaseStamp | undefined;
  try {
    now = readDatabaseStamp(dbPath);
  } catch {
    now = undefined;
  }
  if (state.refusal || !now || !sameDatabaseStamp(stamp, now)) {
    fs.rmSync(tmp, { force: true });
    if (state.refusal) throw refusalError(state.refusal);
    throw databaseChanged(dbPath);
  }
  try {
    fs.renameSync(tmp, dbPath);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw failures.databaseNotReplaced({ path: dbPath }, { detail: String(err) });
  }
  fsyncDir(path.dirname(dbPath));
}

function withWalHeader(image: Uint8Array, walMode: boolean): Uint8Array {
  if (walMode && image.length >= 20) {
    image[18] = 2;
    image[19] = 2;
  }
  return image;
}

/**
 * Folds a leftover `-wal` (its writer has exited) into the main file, then removes the `-wal`
 * and `-shm`. Order: the log is kept; the folded image, which is the same database the main
 * file and its log make together, is renamed over the main file (a reader that still applies
 * the log sees the same pages); then the log goes. A crash anywhere leaves the same database.
 */
async function foldLeftoverWal(
  dbPath: string,
  read: ReturnType<typeof readWhole>,
  options: WriteOptions,
): Promise<{ read: ReturnType<typeof readWhole>; frames: number }> {
  const log = options.log ?? silentLogger;
  const walPath = dbPath + '-wal';
  const wal = readIfExists(walPath);
  let frames = 0;
  if (wal && wal.length > 0) {
    const kept = options.keepWal(walPath);
    log.info(`[rollback] ${path.basename(walPath)} (${wal.length} bytes) left by a writer that has exited; kept at ${kept?.copy ?? '(gone)'}`);
    await options.onStep?.('wal-kept');
    const folded = applyWal(read.bytes, wal, log);
    frames = folded.framesApplied;
    if (frames > 0) {
      const image = withWalHeader(folded.image === read.bytes ? new Uint8Array(read.bytes) : folded.image, true);
      const tmp = writeTempBeside(dbPath, image, read.mode, read.owner);
      replaceIfUnchanged(dbPath, tmp, read.stamp, { ...options, assumeNoWriter: true });
      await options.onStep?.('wal-folded');
    }
  }
  // A writer appearing now would find no log and start a new one over the folded file.
  fs.rmSync(dbPath + '-shm', { force: true });
  fs.rmSync(walPath, { force: true });
  fsyncDir(path.dirname(dbPath));
  await options.onStep?.('wal-removed');
  log.info(`[rollback] folded ${frames} frame(s) of the leftover write-ahead log into ${path.basename(dbPath)}`);
  return { read: readWhole(dbPath), frames };
}

/**
 * Sets `active` on the picked rows: the file read into sql.js, updated there, exported,
 * written to a temporary file in the same folder, flushed, and renamed over the original only
 * if the original is still as it was read (size, mtime, inode, change counter, -wal) and no
 * writer appeared. With `expected`, the file must also be as the plan read it. The file mode,
 * owner and WAL mode (header bytes 18/19) are kept.
 */
export async function writeStepsActive(dbPath: string, update: ActiveUpdate, options: WriteOptions): Promise<WriteResult> {
  const log = options.log ?? silentLogger;
  const t0 = performance.now();
  const state = inspectDatabase(dbPath, options);
  if (state.refusal) throw refusalError(state.refusal);

  let read = readWhole(dbPath);
  if (options.expected && !sameDatabaseStamp(options.expected, read.stamp)) throw databaseChanged(dbPath);
  let walFramesFolded = 0;
  if (state.leftoverWal) ({ read, frames: walFramesFolded } = await foldLeftoverWal(dbPath, read, options));

  const walMode = isWalMode(read.bytes);
  const image = new Uint8Array(read.bytes);
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
    throw failures.sqliteCannotOpen({ path: dbPath }, String(err));
  }
  let out: Uint8Array;
  let changed = 0;
  const value = update.active ? 1 : 0;
  try {
    const pending: number[] = [];
    for (let i = 0; i < update.ids.length; i += 500) {
      const chunk = update.ids.slice(i, i + 500);
      const marks = chunk.map(() => '?').join(',');
      const res = db.exec(`SELECT id FROM steps WHERE (${update.where}) AND id IN (${marks}) AND active IS NOT ?`, [...update.params, ...chunk, value]);
      for (const row of res[0]?.values ?? []) pending.push(Number(row[0]));
    }
    if (pending.length === 0) {
      log.info(`[rollback] ${dbPath}: ${update.describe} already ${update.active ? 'active' : 'inactive'}; nothing written.`);
      return { written: walFramesFolded > 0, stamp: readDatabaseStamp(dbPath), changed: 0, walFramesFolded };
    }
    db.run('BEGIN');
    for (let i = 0; i < pending.length; i += 500) {
      const chunk = pending.slice(i, i + 500);
      db.run(`UPDATE steps SET active = ? WHERE (${update.where}) AND id IN (${chunk.map(() => '?').join(',')})`, [value, ...update.params, ...chunk]);
      changed += db.getRowsModified();
    }
    db.run('COMMIT');
    out = withWalHeader(db.export(), walMode);
  } catch (err) {
    if (err instanceof RollbackError) throw err;
    throw failures.stepsNotUpdated({ path: dbPath }, { detail: String(err) });
  } finally {
    db.close();
  }

  let tmp: string;
  try {
    tmp = writeTempBeside(dbPath, out, read.mode, read.owner);
  } catch (err) {
    throw failures.notWrittenBeside({ path: dbPath }, { detail: String(err) });
  }
  try {
    await options.onStep?.('database-temp-written');
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  // The last moment before the rename: the file must still be the one read.
  replaceIfUnchanged(dbPath, tmp, read.stamp, options);
  await options.onStep?.('database-replaced');
  const stamp = readDatabaseStamp(dbPath);
  log.info(
    `[rollback] ${dbPath}: ${changed} step(s) marked ${update.active ? 'active' : 'inactive'} ` +
      `(${out.length} bytes${walMode ? ', WAL mode kept' : ''}) in ${(performance.now() - t0).toFixed(1)} ms.`,
  );
  return { written: true, stamp, changed, walFramesFolded };
}
