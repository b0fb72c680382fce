/**
 * A cheap "did the database change?": two stats and two small header reads, for every
 * file-watcher event and poll. No sql.js here, so the extension host can use it directly.
 */
import * as fs from 'fs';

export interface FileStamp {
  size: number;
  mtimeMs: number;
  ino: number;
}

export interface Fingerprint {
  /** The database file, with its header's change counter (bytes 24..27); null if missing. */
  db: (FileStamp & { changeCounter: number }) | null;
  /** The `-wal` file, with its header's checkpoint sequence and salts; null if missing. */
  wal: (FileStamp & { checkpointSeq: number; salt1: number; salt2: number }) | null;
}

export const be32 = (b: Uint8Array, at: number): number =>
  b.length >= at + 4 ? ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0 : 0;

/** A file's size, mtime and inode with its first `headerBytes` bytes, from one open; null if it does not exist. */
export function readFileHead(file: string, headerBytes: number): { stamp: FileStamp; header: Buffer } | null {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const st = fs.fstatSync(fd);
    const header = Buffer.alloc(Math.min(headerBytes, st.size));
    if (header.length > 0) fs.readSync(fd, header, 0, header.length, 0);
    return { stamp: { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino }, header };
  } finally {
    fs.closeSync(fd);
  }
}

/** Two stats and two small reads: the database's first 100 bytes, the WAL's first 32. */
export function readFingerprint(dbPath: string): Fingerprint {
  const db = readFileHead(dbPath, 100);
  const wal = readFileHead(dbPath + '-wal', 32);
  return {
    db: db && { ...db.stamp, changeCounter: be32(db.header, 24) },
    wal: wal && {
      ...wal.stamp,
      checkpointSeq: be32(wal.header, 12),
      salt1: be32(wal.header, 16),
      salt2: be32(wal.header, 20),
    },
  };
}

export function sameFingerprint(a: Fingerprint, b: Fingerprint): boolean {
  const same = (x: object | null, y: object | null) => {
    if (x === null || y === null) return x === y;
    const yr = y as Record<string, unknown>;
    return Object.entries(x).every(([k, v]) => yr[k] === v);
  };
  return same(a.db, b.db) && same(a.wal, b.wal);
}

