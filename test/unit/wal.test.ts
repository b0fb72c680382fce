import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { Logger } from '../../src/core/log';
import { loadSqlJs } from '../../src/core/sqljs';
import { applyWal, readWalHeader, walChecksum, WAL_FRAME_HEADER_SIZE, WAL_HEADER_SIZE } from '../../src/core/wal';
import { DOCUMENTED_SCHEMA, makeTempDir, readWithSqlite, SqliteProcess, stepRow } from '../fixtures/stepFixtures';

/** The steps table as sql.js reads it from an image, in the shape readWithSqlite gives. */
async function readImage(image: Uint8Array): Promise<unknown[][]> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database(image);
  try {
    return db.exec('SELECT * FROM steps ORDER BY id')[0]?.values ?? [];
  } finally {
    db.close();
  }
}

function recordingLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const add = (m: string) => lines.push(m);
  return { lines, trace: add, debug: add, info: add, warn: add, error: add };
}

const files = (base: string) => ({ main: fs.readFileSync(base), wal: fs.readFileSync(base + '-wal') });
const pageSizeOf = (wal: Uint8Array) => new DataView(wal.buffer, wal.byteOffset).getUint32(8);
const frameCount = (wal: Uint8Array) => Math.floor((wal.length - WAL_HEADER_SIZE) / (WAL_FRAME_HEADER_SIZE + pageSizeOf(wal)));

/** Rewrites a little-endian-checksum WAL as the big-endian kind a big-endian machine writes. */
function toBigEndianWal(wal: Uint8Array, frames: number): Uint8Array {
  const out = new Uint8Array(wal); // a copy: Buffer.slice would share memory
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x377f0683);
  let [s0, s1] = walChecksum(out, 0, 24, true);
  view.setUint32(24, s0);
  view.setUint32(28, s1);
  const frameSize = WAL_FRAME_HEADER_SIZE + pageSizeOf(out);
  for (let i = 0; i < frames; i++) {
    const at = WAL_HEADER_SIZE + i * frameSize;
    [s0, s1] = walChecksum(out, at, at + 8, true, s0, s1);
    [s0, s1] = walChecksum(out, at + WAL_FRAME_HEADER_SIZE, at + frameSize, true, s0, s1);
    view.setUint32(at + 16, s0);
    view.setUint32(at + 20, s1);
  }
  return out;
}

describe('applyWal against the real SQLite engine', function () {
  let dir: string;
  let writer: SqliteProcess | undefined;

  beforeEach(() => (dir = makeTempDir()));
  afterEach(async () => {
    if (writer) {
      writer.kill();
      writer = undefined;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A WAL-mode database with `transactions` committed and never checkpointed, copied to `copy`. */
  async function walDatabase(transactions: number, rowsEach: number): Promise<string> {
    const live = path.join(dir, 'live.db');
    writer = new SqliteProcess(live);
    await writer.exec('PRAGMA journal_mode=WAL');
    await writer.exec('PRAGMA wal_autocheckpoint=0');
    await writer.script(DOCUMENTED_SCHEMA);
    await writer.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    let id = 1;
    for (let t = 0; t < transactions; t++) {
      await writer.exec('BEGIN');
      for (let r = 0; r < rowsEach; r++) {
        const row = stepRow(id++, { agent_config_json: JSON.stringify({ model: 'm', system_prompt: 'p'.repeat(300) }) });
        const cols = Object.keys(row);
        await writer.exec(`INSERT INTO steps (${cols.join(',')}) VALUES (${cols.map(() => '?').join(',')})`, cols.map((c) => row[c]));
      }
      await writer.exec(`UPDATE steps SET commit_sha_after = ? WHERE id = 1`, [`${t}`.repeat(8)]);
      await writer.exec('COMMIT');
    }
    const copy = path.join(dir, 'copy.db');
    await writer.copyTo(copy);
    return copy;
  }

  it('reads exactly what SQLite reads from committed, uncheckpointed transactions', async () => {
    const copy = await walDatabase(3, 40);
    const { main, wal } = files(copy);
    assert.ok(main.length <= 4096 * 8, 'the main file should hold only the empty schema');
    const { image, framesApplied } = applyWal(main, wal);
    assert.strictEqual(framesApplied, frameCount(wal));
    const expected = readWithSqlite(copy).rows;
    assert.strictEqual(expected.length, 120);
    assert.deepStrictEqual(await readImage(image), expected);
    assert.deepStrictEqual(Array.from(image.subarray(18, 20)), [1, 1], 'the image says rollback-journal mode');
    assert.deepStrictEqual(Array.from(main.subarray(18, 20)), [2, 2], 'the input was not modified');
    assert.strictEqual(await readImage(main).then((r) => r.length), 0, 'sql.js alone sees none of the WAL');
  });

  it('ignores an uncommitted transaction that spilled into the WAL', async () => {
    const live = path.join(dir, 'live.db');
    writer = new SqliteProcess(live);
    await writer.exec('PRAGMA journal_mode=WAL');
    await writer.exec('PRAGMA wal_autocheckpoint=0');
    await writer.exec('PRAGMA cache_size=10');
    await writer.script(DOCUMENTED_SCHEMA);
    await writer.exec('BEGIN');
    for (let id = 1; id <= 5; id++) await writer.exec(`INSERT INTO steps (id, commit_sha_before, agent_config_json, start_time, project_id) VALUES (?, 'abcd', '{}', '2026-01-01', 'p')`, [id]);
    await writer.exec('COMMIT');
    const committedCopy = path.join(dir, 'committed.db');
    await writer.copyTo(committedCopy);
    const committedWal = fs.readFileSync(committedCopy + '-wal');

    await writer.exec('BEGIN');
    const big = 'x'.repeat(3000);
    for (let id = 6; id <= 200; id++) await writer.exec(`INSERT INTO steps (id, commit_sha_before, agent_config_json, start_time, project_id) VALUES (?, 'abcd', ?, '2026-01-01', 'p')`, [id, big]);
    const midCopy = path.join(dir, 'mid.db');
    await writer.copyTo(midCopy);
    await writer.exec('ROLLBACK');

    const { main, wal } = files(midCopy);
    assert.ok(wal.length > committedWal.length, 'the open transaction should have spilled pages into the WAL');
    const log = recordingLog();
    const { image, framesApplied } = applyWal(main, wal, log);
    assert.strictEqual(framesApplied, frameCount(committedWal));
    const expected = readWithSqlite(midCopy).rows;
    assert.strictEqual(expected.length, 5);
    assert.deepStrictEqual(await readImage(image), expected);
    assert.ok(log.lines.some((l) => /after the last commit ignored/.test(l)));
  });

  it('stops at a frame whose checksum fails, keeping only the commits before it', async () => {
    const copy = await walDatabase(3, 40);
    const wal = fs.readFileSync(copy + '-wal');
    const main = fs.readFileSync(copy);
    const total = frameCount(wal);
    const full = applyWal(main, wal).framesApplied;
    // Find the commit frames, then damage the page data of the frame after the first commit.
    const frameSize = WAL_FRAME_HEADER_SIZE + pageSizeOf(wal);
    const commits: number[] = [];
    for (let i = 0; i < total; i++) if (wal.readUInt32BE(WAL_HEADER_SIZE + i * frameSize + 4) !== 0) commits.push(i + 1);
    assert.strictEqual(commits.length, 3);
    const damaged = Buffer.from(wal);
    damaged[WAL_HEADER_SIZE + commits[0] * frameSize + WAL_FRAME_HEADER_SIZE + 100] ^= 0xff;
    fs.writeFileSync(copy + '-wal', damaged);

    const { image, framesApplied } = applyWal(main, damaged);
    assert.strictEqual(framesApplied, commits[0]);
    assert.ok(framesApplied < full);
    const expected = readWithSqlite(copy).rows;
    assert.strictEqual(expected.length, 40, 'SQLite too keeps only the first transaction');
    assert.deepStrictEqual(await readImage(image), expected);
  });

  it('ignores stale frames of an earlier WAL generation (salts differ)', async () => {
    const live = path.join(dir, 'live.db');
    writer = new SqliteProcess(live);
    await writer.exec('PRAGMA journal_mode=WAL');
    await writer.exec('PRAGMA wal_autocheckpoint=0');
    await writer.script(DOCUMENTED_SCHEMA);
    await writer.exec('BEGIN');
    for (let id = 1; id <= 60; id++) await writer.insert(stepRow(id, { agent_config_json: JSON.stringify({ p: 'q'.repeat(500) }) }));
    await writer.exec('COMMIT');
    await writer.exec('PRAGMA wal_checkpoint(PASSIVE)');
    const oldWal = fs.readFileSync(live + '-wal');
    // The next write restarts the WAL from its start with new salts; older frames stay behind it.
    await writer.exec(`UPDATE steps SET commit_sha_after = 'feedbeef' WHERE id = 1`);
    const copy = path.join(dir, 'copy.db');
    await writer.copyTo(copy);
    const { main, wal } = files(copy);
    assert.strictEqual(wal.length, oldWal.length, 'the WAL file keeps its old length');
    const header = readWalHeader(wal);
    const oldHeader = readWalHeader(oldWal);
    assert.ok(typeof header !== 'string' && typeof oldHeader !== 'string');
    assert.notStrictEqual(header.salt1, oldHeader.salt1);

    const { image, framesApplied } = applyWal(main, wal);
    assert.ok(framesApplied > 0 && framesApplied < frameCount(wal), `${framesApplied} of ${frameCount(wal)}`);
    const expected = readWithSqlite(copy).rows;
    assert.strictEqual(expected[0][4], 'feedbeef');
    assert.deepStrictEqual(await readImage(image), expected);
  });

  it('reads a WAL with big-endian checksums the same way', async () => {
    const copy = await walDatabase(2, 10);
    const { main, wal } = files(copy);
    const be = toBigEndianWal(wal, frameCount(wal));
    assert.notDeepStrictEqual(Buffer.from(be), wal);
    const little = applyWal(main, wal);
    const big = applyWal(main, be);
    assert.strictEqual(big.framesApplied, little.framesApplied);
    assert.deepStrictEqual(Buffer.from(big.image), Buffer.from(little.image));
  });

  it('applies a checkpoint-shrunk database size from the last commit frame', async () => {
    const copy = await walDatabase(1, 60);
    const live = writer!.file;
    await writer!.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    await writer!.exec('DELETE FROM steps WHERE id > 2');
    await writer!.exec('VACUUM');
    await writer!.copyTo(copy);
    const { main, wal } = files(copy);
    const { image, framesApplied } = applyWal(main, wal);
    assert.ok(framesApplied > 0);
    assert.ok(image.length < main.length, `image ${image.length} should be smaller than main ${main.length}`);
    assert.deepStrictEqual(await readImage(image), readWithSqlite(copy).rows);
    assert.ok(fs.existsSync(live));
  });
});

describe('applyWal edge cases', () => {
  const main = new Uint8Array(4096);
  main.set(Buffer.from('SQLite format 3\0', 'latin1'));
  main[16] = 0x10; // page size 4096
  main[18] = 2;
  main[19] = 2;

  it('uses the main image as is when the WAL is missing or empty, but in rollback mode', () => {
    for (const wal of [undefined, new Uint8Array(0)]) {
      const { image, framesApplied, ignored } = applyWal(main, wal);
      assert.strictEqual(framesApplied, 0);
      assert.strictEqual(ignored, undefined);
      assert.deepStrictEqual([image[18], image[19]], [1, 1]);
      assert.strictEqual(main[18], 2, 'main untouched');
    }
  });

  it('returns main itself when nothing needs changing', () => {
    const rollback = main.slice();
    rollback[18] = 1;
    rollback[19] = 1;
    assert.strictEqual(applyWal(rollback, undefined).image, rollback);
  });

  it('ignores, and logs, a WAL with a bad magic, a short header or a bad header checksum', () => {
    const good = new Uint8Array(32);
    const view = new DataView(good.buffer);
    view.setUint32(0, 0x377f0682);
    view.setUint32(4, 3007000);
    view.setUint32(8, 4096);
    const [c0, c1] = walChecksum(good, 0, 24, false);
    view.setUint32(24, c0);
    view.setUint32(28, c1);
    assert.strictEqual(typeof readWalHeader(good), 'object');

    const badMagic = good.slice();
    badMagic[0] = 0;
    const badSum = good.slice();
    badSum[31] ^= 1;
    const cases: [Uint8Array, RegExp][] = [
      [badMagic, /magic/],
      [good.subarray(0, 20), /shorter than its 32-byte header/],
      [badSum, /checksum/],
    ];
    for (const [wal, why] of cases) {
      const log = recordingLog();
      const result = applyWal(main, wal, log);
      assert.strictEqual(result.framesApplied, 0);
      assert.match(result.ignored ?? '', why);
      assert.ok(log.lines.some((l) => why.test(l)), log.lines.join('\n'));
    }
  });

  it('ignores a WAL whose page size differs from the database', () => {
    const wal = new Uint8Array(32);
    const view = new DataView(wal.buffer);
    view.setUint32(0, 0x377f0682);
    view.setUint32(4, 3007000);
    view.setUint32(8, 1024);
    const [c0, c1] = walChecksum(wal, 0, 24, false);
    view.setUint32(24, c0);
    view.setUint32(28, c1);
    const result = applyWal(main, wal);
    assert.strictEqual(result.framesApplied, 0);
    assert.match(result.ignored ?? '', /page size 1024 differs from the database's 4096/);
  });
});
