/**
 * Applies a SQLite write-ahead log to a database image, in memory, the way SQLite's own
 * recovery reads it (https://www.sqlite.org/fileformat2.html#the_write_ahead_log).
 * sql.js only sees the main file; a database in WAL mode keeps its newest committed
 * transactions in `<db>-wal` until a checkpoint, so without this they would be missing.
 */
import { Logger, silentLogger } from './log';

export const WAL_HEADER_SIZE = 32;
export const WAL_FRAME_HEADER_SIZE = 24;
const WAL_MAGIC_LE = 0x377f0682;
const WAL_MAGIC_BE = 0x377f0683;
const WAL_VERSION = 3007000;

export interface WalHeader {
  bigEndianChecksum: boolean;
  pageSize: number;
  checkpointSeq: number;
  salt1: number;
  salt2: number;
}

export interface WalResult {
  /** The database as SQLite would read it; `main` itself when nothing had to change. */
  image: Uint8Array;
  framesApplied: number;
  /** Why the WAL was not used, when it was present but ignored. */
  ignored?: string;
}

export interface ApplyWalOptions {
  /** Allow writing into `main` (header bytes only) instead of copying it; for callers that own the buffer. */
  mayModifyMain?: boolean;
}

const be32 = (b: Uint8Array, at: number): number =>
  ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;

/** The page size in a database header (offset 16, where 1 means 65536), or 0 if invalid. */
export function dbPageSize(header: Uint8Array): number {
  if (header.length < 18) return 0;
  const raw = (header[16] << 8) | header[17];
  const size = raw === 1 ? 65536 : raw;
  return isValidPageSize(size) ? size : 0;
}

const isValidPageSize = (n: number): boolean => n >= 512 && n <= 65536 && (n & (n - 1)) === 0;

/**
 * SQLite's WAL checksum over `data[from, to)`, continuing from (s0, s1). Words are read
 * big-endian or little-endian as the WAL's magic says.
 */
export function walChecksum(
  data: Uint8Array,
  from: number,
  to: number,
  bigEndian: boolean,
  s0 = 0,
  s1 = 0,
): [number, number] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const le = !bigEndian;
  for (let i = from; i < to; i += 8) {
    s0 = (s0 + view.getUint32(i, le) + s1) >>> 0;
    s1 = (s1 + view.getUint32(i + 4, le) + s0) >>> 0;
  }
  return [s0, s1];
}

/** The WAL header, or a reason it is unusable. */
export function readWalHeader(wal: Uint8Array): WalHeader | string {
  if (wal.length < WAL_HEADER_SIZE) return `the WAL is ${wal.length} bytes, shorter than its 32-byte header`;
  const magic = be32(wal, 0);
  if (magic !== WAL_MAGIC_LE && magic !== WAL_MAGIC_BE) {
    return `the WAL's magic number is 0x${magic.toString(16)}, not a SQLite WAL`;
  }
  const version = be32(wal, 4);
  if (version !== WAL_VERSION) return `the WAL has format version ${version}, not ${WAL_VERSION}`;
  const pageSize = be32(wal, 8);
  if (!isValidPageSize(pageSize)) return `the WAL's page size ${pageSize} is not valid`;
  const bigEndianChecksum = magic === WAL_MAGIC_BE;
  const [c0, c1] = walChecksum(wal, 0, 24, bigEndianChecksum);
  if (c0 !== be32(wal, 24) || c1 !== be32(wal, 28)) return `the WAL header's checksum does not match`;
  return { bigEndianChecksum, pageSize, checkpointSeq: be32(wal, 12), salt1: be32(wal, 16), salt2: be32(wal, 20) };
}

/**
 * Returns the database image with every transaction committed in `wal` applied: frames are
 * read until the first one whose salts or cumulative checksum do not match (a torn write,
 * or a leftover from an earlier WAL generation), and only those up to the last commit frame
 * count. The image's size becomes the last commit's page count, and its header says
 * "rollback journal" (bytes 18 and 19 set to 1) so sql.js opens it without looking for a WAL.
 * `main` is never modified unless `options.mayModifyMain` is set.
 */
export function applyWal(
  main: Uint8Array,
  wal: Uint8Array | undefined,
  log: Logger = silentLogger,
  options: ApplyWalOptions = {},
): WalResult {
  const done = (image: Uint8Array, framesApplied: number, ignored?: string): WalResult => {
    const result: WalResult = { image: toRollbackMode(image, image !== main || !!options.mayModifyMain), framesApplied };
    if (ignored) result.ignored = ignored;
    return result;
  };
  if (!wal || wal.length === 0) return done(main, 0);

  const header = readWalHeader(wal);
  if (typeof header === 'string') {
    log.warn(`Ignoring the write-ahead log: ${header}.`);
    return done(main, 0, header);
  }
  const { pageSize, bigEndianChecksum } = header;
  const mainPageSize = dbPageSize(main);
  if (main.length > 0 && mainPageSize !== pageSize) {
    const reason = `the WAL's page size ${pageSize} differs from the database's ${mainPageSize}`;
    log.warn(`Ignoring the write-ahead log: ${reason}.`);
    return done(main, 0, reason);
  }

  // Walk the valid frames, remembering for each page the frame that last wrote it, as of
  // the last commit seen so far.
  const frameSize = WAL_FRAME_HEADER_SIZE + pageSize;
  let [s0, s1] = [be32(wal, 24), be32(wal, 28)];
  const pending = new Map<number, number>(); // page -> offset of its page data, since last commit
  const committed = new Map<number, number>();
  let committedFrames = 0;
  let dbPages = 0;
  let frame = 0;
  for (let at = WAL_HEADER_SIZE; at + frameSize <= wal.length; at += frameSize) {
    const page = be32(wal, at);
    const commitSize = be32(wal, at + 4);
    if (page === 0 || be32(wal, at + 8) !== header.salt1 || be32(wal, at + 12) !== header.salt2) break;
    [s0, s1] = walChecksum(wal, at, at + 8, bigEndianChecksum, s0, s1);
    [s0, s1] = walChecksum(wal, at + WAL_FRAME_HEADER_SIZE, at + frameSize, bigEndianChecksum, s0, s1);
    if (s0 !== be32(wal, at + 16) || s1 !== be32(wal, at + 20)) break;
    frame++;
    pending.set(page, at + WAL_FRAME_HEADER_SIZE);
    if (commitSize !== 0) {
      for (const [p, off] of pending) committed.set(p, off);
      pending.clear();
      committedFrames = frame;
      dbPages = commitSize;
    }
  }
  const uncommitted = frame - committedFrames;
  if (uncommitted > 0) log.debug(`WAL: ${uncommitted} frame(s) after the last commit ignored.`);
  if (committedFrames === 0) return done(main, 0);

  const size = dbPages * pageSize;
  const image = new Uint8Array(size);
  image.set(main.length > size ? main.subarray(0, size) : main);
  for (const [page, off] of committed) {
    if (page <= dbPages) image.set(wal.subarray(off, off + pageSize), (page - 1) * pageSize);
  }
  return done(image, committedFrames);
}

/** Header bytes 18/19 = 2 mean WAL mode; sql.js must see 1 (rollback journal). */
function toRollbackMode(image: Uint8Array, owned: boolean): Uint8Array {
  if (image.length < 20 || (image[18] !== 2 && image[19] !== 2)) return image;
  const out = owned ? image : image.slice();
  if (out[18] === 2) out[18] = 1;
  if (out[19] === 2) out[19] = 1;
  return out;
}
