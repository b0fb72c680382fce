/**
 * Opens a database file as whichever system wrote it: one read-only snapshot, then the
 * adapter of the system whose tables it has (LaForge's among them), with the files beside it
 * that adapter reads (a checkpoints.db, artifacts) and those under a folder its database names
 * (a session's work_dir). The store worker and the command line both open files through here.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Fingerprint } from '../fingerprint';
import { silentLogger, type Logger } from '../log';
import { loadSqlJs } from '../sqljs';
import type { StepStore } from '../stepStore';
import { LaforgeSource } from './laforge';
import { detectSource, unknownSchemaError } from './registry';
import { openSnapshot, openSnapshotWith, schemaShape, sqlReader } from './snapshot';
import type { Detection, HistorySource, SourceAdapter, SqlReader } from './types';

export interface OpenSourceOptions {
  /** The sql.js WASM file; defaults to the one in the installed sql.js package. */
  wasmPath?: string;
  log?: Logger;
  /** When the open began (performance.now()), for the timings logged. */
  started?: number;
  /** The adapters tried; default the registry's. */
  adapters?: readonly SourceAdapter[];
  /** Runs before a file beside the database is read, with its path: throws to refuse it (too large). */
  beforeSibling?: (siblingPath: string) => void;
}

/** A file open as its system's history. */
export interface OpenedHistory {
  source: HistorySource;
  detection: Detection;
  /** LaForge's store behind its source: steps by id, filtered counts, aggregates, what a rollback plan reads. Undefined for the other systems. */
  store: StepStore | undefined;
  /** Closes the source and the files it opened. */
  close(): void;
}

export type OpenedFile = OpenedHistory & {
  /** The snapshot's fingerprint, and how many WAL frames it applied. */
  fingerprint: Fingerprint;
  framesApplied: number;
};

/** A text file beside the database, or under a folder it names, at most this large is read for a source (an artifact). */
export const SIBLING_TEXT_LIMIT = 5 * 2 ** 20;

/**
 * Opens `dbPath`. Rejects with the snapshot's StepDbErrors (FILE_MISSING, NOT_SQLITE, CORRUPT,
 * …), and with UNSUPPORTED_SCHEMA naming the systems checked when no system wrote the file.
 * The caller closes what it gets with `close()`.
 */
export async function openSource(dbPath: string, options: OpenSourceOptions = {}): Promise<OpenedFile> {
  const log = options.log ?? silentLogger;
  const t0 = options.started ?? performance.now();
  const snapshot = await openSnapshot(dbPath, { wasmPath: options.wasmPath, log });
  const { fingerprint, framesApplied } = snapshot;
  let shape;
  try {
    shape = schemaShape(snapshot.db, dbPath);
  } catch (err) {
    snapshot.db.close();
    throw err;
  }
  const found = detectSource(shape, options.adapters);
  const reader = sqlReader(snapshot.db, dbPath, log);
  if (!found) {
    reader.close();
    throw unknownSchemaError(dbPath, shape);
  }
  const siblings: (SqlReader & { close(): void })[] = [];
  const folder = path.dirname(dbPath);
  let source: HistorySource;
  try {
    const SQL = await loadSqlJs(options.wasmPath);
    source = found.adapter.open(reader, found.detection, {
      path: dbPath,
      snapshot: { fingerprint, framesApplied },
      openSibling(file) {
        const siblingPath = path.resolve(folder, file);
        options.beforeSibling?.(siblingPath);
        const sibling = openSnapshotWith(SQL, siblingPath, { log });
        if (!sibling) return null;
        const opened = sqlReader(sibling.db, siblingPath, log);
        siblings.push(opened);
        return opened;
      },
      readText(file) {
        // Relative to the database's folder, never outside the folder above it (an app's root,
        // which holds data/ and projects/): the path comes from the database.
        const root = path.dirname(folder);
        const resolved = path.resolve(folder, file);
        if (resolved !== root && !isInside(root, resolved)) return null;
        return readSmallText(resolved);
      },
      readFileUnder(under, file) {
        // Both paths come from the database: the file must stay inside the folder, by name and
        // once symbolic links are followed.
        const base = path.resolve(folder, under);
        const resolved = path.resolve(base, file);
        if (!isInside(base, resolved)) return null;
        let real: string;
        try {
          real = fs.realpathSync(resolved);
          if (!isInside(fs.realpathSync(base), real)) return null;
        } catch {
          return null;
        }
        return readSmallText(real);
      },
    });
  } catch (err) {
    reader.close();
    for (const s of siblings) s.close();
    throw err;
  }
  log.debug(`Opened ${dbPath} as ${found.detection.system} (${found.detection.variant}) in ${(performance.now() - t0).toFixed(1)} ms.`);
  return {
    source,
    detection: found.detection,
    store: source instanceof LaforgeSource ? source.store : undefined,
    close() {
      source.close?.();
      reader.close();
      for (const s of siblings) s.close();
    },
    fingerprint,
    framesApplied,
  };
}

/** Whether `p` lies strictly inside the folder `root` (both absolute and resolved). */
function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel !== '' && rel !== '..' && !rel.startsWith('..' + path.sep) && !path.isAbsolute(rel);
}

/** A small text file's content; null when it is missing, too large or not text. */
function readSmallText(file: string): string | null {
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile() || stat.size > SIBLING_TEXT_LIMIT) return null;
    const bytes = fs.readFileSync(file);
    if (bytes.includes(0)) return null;
    return bytes.toString('utf8');
  } catch {
    return null;
  }
}
