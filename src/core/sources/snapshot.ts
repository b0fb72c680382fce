/**
 * A read-only snapshot of a SQLite database file as any reader sees it: the file and its
 * `-wal` are read into memory (checked not to change meanwhile), the WAL's committed frames
 * applied, and the image opened with sql.js, so nothing is ever written or created beside the
 * file. Every source (LaForge's StepStore and each system's adapter) reads through it.
 */
import * as fs from 'fs';
import type { Database, SqlJsStatic, SqlValue as SqlJsValue, Statement } from 'sql.js';
import { StepDbError } from '../errors';
import { failures } from '../messages';
import { be32, readFingerprint, sameFingerprint, type Fingerprint } from '../fingerprint';
import { silentLogger, type Logger } from '../log';
import { loadSqlJs } from '../sqljs';
import { applyWal, dbPageSize, readWalHeader } from '../wal';
import type { SchemaShape, SqlReader, SqlRow, SqlValue } from './types';

export interface SnapshotOptions {
  /** The sql.js WASM file; defaults to the one in the installed sql.js package. */
  wasmPath?: string;
  log?: Logger;
  /** Tests only: runs between reading the files and checking they did not change. */
  beforeSecondStat?: (attempt: number) => void;
}

export interface SqliteSnapshot {
  db: Database;
  fingerprint: Fingerprint;
  framesApplied: number;
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
const ms = (t0: number) => `${(performance.now() - t0).toFixed(1)} ms`;

interface Snapshot {
  main: Buffer;
  wal: Buffer | undefined;
  fingerprint: Fingerprint;
}

/**
 * Opens the database at `dbPath` read-only. Rejects with a StepDbError: FILE_MISSING;
 * NOT_SQLITE (also for a 0-byte file); CORRUPT (truncated, or its header is wrong);
 * CHANGED_WHILE_READING (the files changed during the read, twice); READ_FAILED.
 */
export async function openSnapshot(dbPath: string, options: SnapshotOptions = {}): Promise<SqliteSnapshot> {
  const log = options.log ?? silentLogger;
  const t0 = performance.now();
  if (!fs.existsSync(dbPath)) {
    throw failures.databaseMissing({ path: dbPath });
  }
  // Compile the WASM while the files are read.
  const sqlJs = loadSqlJs(options.wasmPath);
  sqlJs.catch(() => undefined);

  const snapshot = readSnapshot(dbPath, log, options.beforeSecondStat);
  const tRead = performance.now();
  const { image, framesApplied } = buildImage(dbPath, snapshot, log);

  let SQL;
  try {
    SQL = await sqlJs;
  } catch (err) {
    throw failures.engineMissing({}, String(err));
  }
  const tInit = performance.now();
  const db = openImage(SQL, dbPath, image);
  log.debug(`Read ${dbPath} in ${(tRead - t0).toFixed(1)} ms; sql.js ready after ${(tInit - t0).toFixed(1)} ms; snapshot open after ${ms(t0)}.`);
  return { db, fingerprint: snapshot.fingerprint, framesApplied };
}

/**
 * The same snapshot with an engine already loaded, without waiting: for a file beside one
 * already open (the checkpoints.db beside an orchestrator.db). Null when the file does not exist.
 */
export function openSnapshotWith(SQL: SqlJsStatic, dbPath: string, options: SnapshotOptions = {}): SqliteSnapshot | null {
  if (!fs.existsSync(dbPath)) return null;
  const log = options.log ?? silentLogger;
  const snapshot = readSnapshot(dbPath, log, options.beforeSecondStat);
  const { image, framesApplied } = buildImage(dbPath, snapshot, log);
  return { db: openImage(SQL, dbPath, image), fingerprint: snapshot.fingerprint, framesApplied };
}

function openImage(SQL: SqlJsStatic, dbPath: string, image: Uint8Array): Database {
  try {
    return new SQL.Database(image);
  } catch (err) {
    throw sqliteError(dbPath, err);
  }
}

/** The tables and their columns, lower-cased. Views are left out. */
export function schemaShape(db: Database, dbPath: string): SchemaShape {
  const tables = new Map<string, Set<string>>();
  try {
    const names = db.exec(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)[0]?.values ?? [];
    for (const [name] of names) {
      const columns = db.exec(`SELECT name FROM pragma_table_info(?)`, [String(name)])[0]?.values ?? [];
      tables.set(String(name).toLowerCase(), new Set(columns.map(([c]) => String(c).toLowerCase())));
    }
  } catch (err) {
    throw sqliteError(dbPath, err);
  }
  return { tables };
}

/** Queries on a snapshot, each statement prepared once; SQLite's complaints become StepDbErrors. */
export function sqlReader(db: Database, dbPath: string, log?: Logger): SqlReader & { close(): void } {
  const statements = new Map<string, Statement>();
  let closed = false;
  // Each statement is prepared once and kept for the snapshot's life.
  const run = <T>(sql: string, params: readonly SqlValue[], read: (stmt: Statement) => T, first: boolean): T[] => {
    if (closed) throw failures.databaseClosed({ path: dbPath });
    try {
      let stmt = statements.get(sql);
      if (!stmt) {
        stmt = db.prepare(sql);
        statements.set(sql, stmt);
      }
      const rows: T[] = [];
      try {
        stmt.bind(params as SqlJsValue[]);
        while (stmt.step()) {
          rows.push(read(stmt));
          if (first) break;
        }
      } finally {
        stmt.reset();
      }
      return rows;
    } catch (err) {
      throw sqliteError(dbPath, err, log);
    }
  };
  const asObject = (stmt: Statement) => stmt.getAsObject() as SqlRow;
  const asValues = (stmt: Statement) => stmt.get() as SqlValue[];
  return {
    all: (sql, params = []) => run(sql, params, asObject, false),
    get: (sql, params = []) => run(sql, params, asObject, true)[0],
    values: (sql, params = []) => run(sql, params, asValues, false),
    close: () => {
      if (closed) return;
      closed = true;
      for (const stmt of statements.values()) stmt.free();
      statements.clear();
      db.close();
    },
  };
}

export function sqliteError(dbPath: string, err: unknown, log?: Logger): StepDbError {
  if (err instanceof StepDbError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  log?.error(`SQLite error reading ${dbPath}: ${detail}`);
  if (/malformed|corrupt|not a database/i.test(detail)) {
    return failures.sqliteCannotRead({ path: dbPath }, detail);
  }
  return failures.databaseUnreadable({ path: dbPath }, detail);
}

function readIfExists(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Reads the database and its WAL, and checks that neither changed meanwhile (size, mtime,
 * inode, and the header's change counter or salts, before and after, and against the bytes
 * read). One retry, then CHANGED_WHILE_READING.
 */
function readSnapshot(dbPath: string, log: Logger, hook?: (attempt: number) => void): Snapshot {
  let why = '';
  for (let attempt = 1; attempt <= 2; attempt++) {
    let before: Fingerprint, after: Fingerprint, main: Buffer, wal: Buffer | undefined;
    try {
      before = readFingerprint(dbPath);
      if (!before.db) throw failures.databaseMissing({ path: dbPath });
      main = fs.readFileSync(dbPath);
      wal = readIfExists(dbPath + '-wal');
      hook?.(attempt);
      after = readFingerprint(dbPath);
    } catch (err) {
      if (err instanceof StepDbError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw failures.databaseMissing({ path: dbPath });
      throw code === 'EISDIR' ? failures.databaseIsFolder({ path: dbPath }, String(err)) : failures.databaseUnreadable({ path: dbPath }, String(err));
    }
    why = changeBetween(before, after, main, wal);
    if (!why) return { main, wal, fingerprint: after };
    log.debug(`${dbPath} changed while being read (${why}); attempt ${attempt} of 2.`);
  }
  throw failures.keptChanging({ path: dbPath }, why);
}

function changeBetween(before: Fingerprint, after: Fingerprint, main: Buffer, wal: Buffer | undefined): string {
  if (!sameFingerprint(before, after)) return 'file size, time or header changed';
  if (!after.db) return 'the database disappeared';
  if (main.length !== after.db.size || be32(main, 24) !== after.db.changeCounter) return 'database bytes differ from its stat';
  if (!!wal !== !!after.wal) return 'the WAL appeared or disappeared';
  if (wal && after.wal && (wal.length !== after.wal.size || be32(wal, 16) !== after.wal.salt1 || be32(wal, 20) !== after.wal.salt2)) {
    return 'WAL bytes differ from its stat';
  }
  return '';
}

/** Checks the main file is a whole SQLite database, then applies the WAL. */
function buildImage(dbPath: string, { main, wal }: Snapshot, log: Logger): { image: Uint8Array; framesApplied: number } {
  const detail = `${main.length} bytes`;
  const walUsable = !!wal && wal.length > 0 && typeof readWalHeader(wal) !== 'string';

  if (main.length === 0 && !walUsable) {
    throw failures.databaseEmpty({ path: dbPath });
  }
  if (main.length > 0) {
    const n = Math.min(main.length, SQLITE_MAGIC.length);
    if (!main.subarray(0, n).equals(SQLITE_MAGIC.subarray(0, n))) {
      throw failures.notSqlite({ path: dbPath }, describeStart(main));
    }
    if (main.length < 100) throw failures.headerCutOff({ path: dbPath }, detail);
    const pageSize = dbPageSize(main);
    if (!pageSize) throw failures.noPageSize({ path: dbPath }, detail);
    if (main.length % pageSize !== 0) {
      throw failures.notWholePages({ path: dbPath, bytes: main.length, pageSize }, detail);
    }
  }

  const t0 = performance.now();
  const { image, framesApplied, ignored } = applyWal(main, wal, log, { mayModifyMain: true });
  if (wal) log.debug(`WAL of ${wal.length} bytes: ${framesApplied} frame(s) applied in ${ms(t0)}${ignored ? `; ignored: ${ignored}` : ''}.`);

  // The header's page count is trusted by SQLite when its change counter matches the
  // version-valid-for number (offset 92); a file shorter than that is truncated.
  const pageSize = dbPageSize(image);
  if (!pageSize) throw failures.noPageSize({ path: dbPath }, detail);
  const pages = be32(image, 28);
  if (pages > 0 && be32(image, 24) === be32(image, 92) && pages * pageSize > image.length) {
    throw failures.pagesMissing({ path: dbPath, pages, present: Math.floor(image.length / pageSize) }, detail);
  }
  return { image, framesApplied };
}

function describeStart(bytes: Buffer): string {
  const head = bytes.subarray(0, 16);
  if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'starts like a PNG image';
  return `starts with bytes ${head.toString('hex')}`;
}
