/**
 * One measurement in a fresh process, so every "cold" figure includes sql.js's WASM
 * compilation exactly as the first open in an extension host does. Prints one JSON line.
 *
 *   probe floor <db> <wasm>              read the file's bytes + sql.js init
 *   probe sqljs <db> <wasm> <project>    plain sql.js: read + init + open + the same page query
 *   probe open <db> <wasm> <project>     StepStore.open + first page of 200 steps
 *   probe activate <extensionDir>        activate the built bundle
 *   probe block <db> <wasm> <project> <worker|main> <workerPath>
 *                                        the longest main-thread block while opening + first page,
 *                                        through the store worker or on the main thread
 *   probe limits <db> <wasm> <project> <workerPath>
 *                                        through the store worker at its default limits: open + first
 *                                        page, then aggregates + models (the heaviest calls), with the
 *                                        peak memory each stage added to the process, or the refusal
 *   probe system <db> <wasm> <statementsOut>
 *                                        another system's database opened as the store worker opens it
 *                                        (snapshot, schema shape, detection, the adapter with its sibling
 *                                        files), then its first page: the top level, then the first
 *                                        container's first 200 children, down to a page of steps; writes
 *                                        the SELECTs that took to <statementsOut>
 *   probe systemSqljs <statements> <wasm>
 *                                        plain sql.js: read + init + open each file + the same SELECTs
 *   probe systemLimits <db> <wasm> <workerPath>
 *                                        the same first page through the store worker at its default
 *                                        limits, with the peak memory it added, or the refusal
 *   probe analytics <db> <wasm> <workerPath> <grouping> <runs>
 *                                        the Analytics figures of the whole database (all of it, per
 *                                        grouping) through the store worker, once to warm it, then
 *                                        <runs> times: the median, with the totals to check
 */
import * as fs from 'fs';
import { monitorEventLoopDelay } from 'perf_hooks';
import * as path from 'path';
import { StepDbError } from '../src/core/errors';
import { RemoteStepStore, StoreWorker } from '../src/core/remoteStore';
import { loadSqlJs } from '../src/core/sqljs';
import { detectSource } from '../src/core/sources/registry';
import { openSnapshot, openSnapshotWith, schemaShape, sqlReader } from '../src/core/sources/snapshot';
import type { HistoryNode, NodeRef, SqlReader, SqlValue } from '../src/core/sources/types';
import { StepStore } from '../src/core/stepStore';
import { loadBundle } from '../test/support/loadBundle';

const [mode, ...args] = process.argv.slice(2);

function peakRssBytes(): number {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) * 1024 : process.memoryUsage().rss;
}

async function floor(db: string, wasm: string) {
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const bytes = fs.readFileSync(db);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const initSqlJs = require('sql.js') as typeof import('sql.js');
  await initSqlJs({ locateFile: () => wasm });
  const ms = performance.now() - t0;
  return { ms, bytes: bytes.length, addedPeakBytes: peakRssBytes() - rssBefore };
}

async function plainSqlJs(db: string, wasm: string, project: string) {
  const t0 = performance.now();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const initSqlJs = require('sql.js') as typeof import('sql.js');
  const pending = initSqlJs({ locateFile: () => wasm });
  const bytes = fs.readFileSync(db);
  const SQL = await pending;
  const database = new SQL.Database(bytes);
  const stmt = database.prepare('SELECT * FROM steps WHERE project_id = ? ORDER BY id DESC LIMIT 200');
  stmt.bind([project]);
  let rows = 0;
  while (stmt.step()) {
    stmt.get();
    rows++;
  }
  stmt.free();
  const ms = performance.now() - t0;
  database.close();
  return { ms, rows };
}

async function open(db: string, wasm: string, project: string) {
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const store = await StepStore.open(db, { wasmPath: wasm });
  const page = store.steps(project, { limit: 200 });
  const ms = performance.now() - t0;
  const result = { ms, rows: page.length, firstId: page[0]?.id, addedPeakBytes: peakRssBytes() - rssBefore };
  store.close();
  return result;
}

async function activate(extensionDir: string) {
  const bundle = loadBundle(extensionDir);
  await new Promise((resolve) => setImmediate(resolve));
  return { activationMs: bundle.activationMs, compilationsAtActivation: bundle.wasmCompilations() };
}

/**
 * Ticks every millisecond while the database opens and returns the longest gap between
 * ticks beyond the 1 ms asked for: how long the event loop could not run anything else.
 */
async function block(db: string, wasm: string, project: string, where: string, workerPath: string) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  let last = performance.now();
  let longest = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last - 1);
    last = now;
  }, 1);
  // Let the ticker settle before the work starts.
  await new Promise((resolve) => setTimeout(resolve, 50));
  longest = 0;
  histogram.enable();
  const t0 = performance.now();
  let rows: number;
  let worker: StoreWorker | undefined;
  if (where === 'worker') {
    worker = new StoreWorker({ workerPath, wasmPath: wasm });
    const store = await worker.open(db);
    rows = (await store.steps(project, { limit: 200 })).length;
  } else {
    const store = await StepStore.open(db, { wasmPath: wasm });
    rows = store.steps(project, { limit: 200 }).length;
    store.close();
  }
  const ms = performance.now() - t0;
  // One more tick, so a block at the very end is counted too.
  await new Promise((resolve) => setTimeout(resolve, 5));
  histogram.disable();
  clearInterval(ticker);
  worker?.dispose();
  return { ms, rows, longestBlockMs: Math.max(longest, histogram.max / 1e6 - 1), loopDelayP99Ms: histogram.percentile(99) / 1e6 };
}

/**
 * Peak memory is the process's resident high-water mark (VmHWM) minus its resident size just
 * before the worker starts: the worker thread's own start, the file's bytes, sql.js's WASM
 * memory and both heaps, as the extension host's process would carry them.
 */
/**
 * Opens `db` in a store worker at its default limits and runs `measure` on it; a refusal
 * (TOO_LARGE) is the result instead, with its time and the memory it took.
 */
async function inWorker<T>(
  db: string, wasm: string, workerPath: string, fileBytes: number,
  measure: (store: RemoteStepStore, worker: StoreWorker, t0: number, rssBefore: number) => Promise<T>,
) {
  const rssBefore = process.memoryUsage().rss;
  const worker = new StoreWorker({ workerPath, wasmPath: wasm });
  try {
    const t0 = performance.now();
    let store;
    try {
      store = await worker.open(db);
    } catch (err) {
      if (!(err instanceof StepDbError)) throw err;
      return { fileBytes, opened: false as const, code: err.code, message: err.message, ms: performance.now() - t0, addedPeakBytes: peakRssBytes() - rssBefore };
    }
    return await measure(store, worker, t0, rssBefore);
  } finally {
    worker.dispose();
  }
}

async function limits(db: string, wasm: string, project: string, workerPath: string) {
  const fileBytes = fs.statSync(db).size + (fs.existsSync(db + '-wal') ? fs.statSync(db + '-wal').size : 0);
  return inWorker(db, wasm, workerPath, fileBytes, async (store, worker, t0, rssBefore) => {
    const rows = (await store.steps(project, { limit: 200 })).length;
    const openMs = performance.now() - t0;
    const openPeakBytes = peakRssBytes() - rssBefore;
    const t1 = performance.now();
    const totals = (await store.aggregates()).totals.steps;
    // Aggregates folds every row in the worker's heap: its garbage is still there now.
    const afterAggregates = await worker.memoryUsage();
    const models = (await store.models(project)).length;
    const heavyMs = performance.now() - t1;
    const allPeakBytes = peakRssBytes() - rssBefore;
    const memory = await worker.memoryUsage();
    return {
      fileBytes, opened: true, rows, totals, models, openMs, heavyMs, openPeakBytes, allPeakBytes,
      workerHeapAfterAggregatesBytes: afterAggregates.heapUsed, workerHeapUsedBytes: memory.heapUsed, workerHeapLimitBytes: memory.heapLimit, workerArrayBufferBytes: memory.arrayBuffers,
    };
  });
}

/** One SELECT a source ran: on which file, with which parameters (a blob as hex). */
interface Statement {
  file: string;
  sql: string;
  params: (string | number | null | { hex: string })[];
}

function recording(reader: SqlReader, file: string, log: Statement[]): SqlReader {
  const note = (sql: string, params: readonly SqlValue[] = []) =>
    log.push({ file, sql, params: params.map((v) => (v instanceof Uint8Array ? { hex: Buffer.from(v).toString('hex') } : v)) });
  return {
    all: (sql, params) => (note(sql, params), reader.all(sql, params)),
    get: (sql, params) => (note(sql, params), reader.get(sql, params)),
    values: (sql, params) => (note(sql, params), reader.values(sql, params)),
  };
}

/** The schema shape's own SELECTs, as schemaShape runs them. */
function shapeStatements(file: string, tables: Iterable<string>): Statement[] {
  return [
    { file, sql: `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`, params: [] },
    ...[...tables].map((t) => ({ file, sql: 'SELECT name FROM pragma_table_info(?)', params: [t] })),
  ];
}

/** The top level, then the first container's first 200 children, down the tree until a page holds steps. */
async function firstPage(children: (parent: NodeRef | null) => HistoryNode[] | Promise<HistoryNode[]>): Promise<number[]> {
  const pages: number[] = [];
  let nodes = await children(null);
  pages.push(nodes.length);
  while (!nodes.some((n) => n.isStep)) {
    const first = nodes.find((n) => n.hasChildren);
    if (!first) break;
    nodes = await children(first.ref);
    pages.push(nodes.length);
  }
  return pages;
}

/** The files a database's source reads: the file itself and the sibling files beside it that exist. */
function filesBytes(db: string, siblings: readonly string[] = []): number {
  let total = 0;
  for (const f of [db, ...siblings.map((s) => path.resolve(path.dirname(db), s))]) {
    for (const g of [f, f + '-wal']) if (fs.existsSync(g)) total += fs.statSync(g).size;
  }
  return total;
}

/** As the store worker's 'open' builds a source. */
async function system(db: string, wasm: string, statementsOut: string) {
  const log: Statement[] = [];
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const snapshot = await openSnapshot(db, { wasmPath: wasm });
  const shape = schemaShape(snapshot.db, db);
  const found = detectSource(shape);
  if (!found) throw new Error(`no adapter reads ${db}`);
  const reader = sqlReader(snapshot.db, db);
  const SQL = await loadSqlJs(wasm);
  const folder = path.dirname(db);
  const siblings: (SqlReader & { close(): void })[] = [];
  const siblingNames: string[] = [];
  const source = found.adapter.open(recording(reader, db, log), found.detection, {
    path: db,
    snapshot: { fingerprint: snapshot.fingerprint, framesApplied: snapshot.framesApplied },
    openSibling(file) {
      const full = path.resolve(folder, file);
      const sibling = openSnapshotWith(SQL, full, {});
      if (!sibling) return null;
      const opened = sqlReader(sibling.db, full);
      siblings.push(opened);
      siblingNames.push(file);
      return recording(opened, full, log);
    },
    readText(file) {
      const full = path.resolve(folder, file);
      try {
        const stat = fs.statSync(full);
        if (!stat.isFile() || stat.size > 5 * 2 ** 20) return null;
        const bytes = fs.readFileSync(full);
        return bytes.includes(0) ? null : bytes.toString('utf8');
      } catch {
        return null;
      }
    },
  });
  const pages = await firstPage((parent) => source.children(parent, { limit: 200 }));
  const ms = performance.now() - t0;
  const addedPeakBytes = peakRssBytes() - rssBefore;
  source.close?.();
  reader.close();
  for (const s of siblings) s.close();
  fs.writeFileSync(statementsOut, JSON.stringify([...shapeStatements(db, shape.tables.keys()), ...log]));
  return { ms, addedPeakBytes, pages, system: found.detection.system, variant: found.detection.variant, statements: log.length, fileBytes: filesBytes(db, siblingNames), siblings: siblingNames };
}

async function systemSqljs(statementsFile: string, wasm: string) {
  const statements = JSON.parse(fs.readFileSync(statementsFile, 'utf8')) as Statement[];
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const initSqlJs = require('sql.js') as typeof import('sql.js');
  const pending = initSqlJs({ locateFile: () => wasm });
  const files = [...new Set(statements.map((s) => s.file))];
  const bytes = new Map(files.map((f) => [f, fs.readFileSync(f)]));
  const SQL = await pending;
  const dbs = new Map(files.map((f) => [f, new SQL.Database(bytes.get(f)!)]));
  bytes.clear();
  const prepared = new Map<string, import('sql.js').Statement>();
  let rows = 0;
  for (const s of statements) {
    const key = `${s.file}\0${s.sql}`;
    let stmt = prepared.get(key);
    if (!stmt) {
      stmt = dbs.get(s.file)!.prepare(s.sql);
      prepared.set(key, stmt);
    }
    stmt.bind(s.params.map((v) => (v !== null && typeof v === 'object' ? Buffer.from(v.hex, 'hex') : v)));
    while (stmt.step()) {
      stmt.get();
      rows++;
    }
    stmt.reset();
  }
  const ms = performance.now() - t0;
  const addedPeakBytes = peakRssBytes() - rssBefore;
  for (const stmt of prepared.values()) stmt.free();
  for (const d of dbs.values()) d.close();
  return { ms, rows, addedPeakBytes };
}

async function systemLimits(db: string, wasm: string, workerPath: string) {
  return inWorker(db, wasm, workerPath, filesBytes(db), async (store, _worker, t0, rssBefore) => {
    const pages = await firstPage((parent) => store.children(parent, { limit: 200 }));
    const ms = performance.now() - t0;
    return { fileBytes: filesBytes(db), opened: true, pages, ms, addedPeakBytes: peakRssBytes() - rssBefore };
  });
}

async function analytics(db: string, wasm: string, workerPath: string, grouping: string, runs: string) {
  return inWorker(db, wasm, workerPath, filesBytes(db), async (store) => {
    const options = { sinceMs: null, grouping: grouping as 'step' | 'day' | 'week' };
    // The first call reads every step's figures; the next ones fold the figures kept.
    const t = performance.now();
    let figures = await store.analytics(options);
    const firstMs = performance.now() - t;
    const times: number[] = [];
    for (let i = 0; i < Number(runs); i++) {
      const t0 = performance.now();
      figures = await store.analytics(options);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return {
      opened: true, firstMs, ms: times[Math.floor(times.length / 2)], groups: figures.groups.length, steps: figures.totals.steps,
      totalTokens: figures.totals.totalTokens, failures: figures.totals.failures, rollbacks: figures.totals.rollbacks, models: figures.byModel.length,
    };
  });
}

async function main() {
  let result: unknown;
  if (mode === 'floor') result = await floor(args[0], args[1]);
  else if (mode === 'sqljs') result = await plainSqlJs(args[0], args[1], args[2]);
  else if (mode === 'open') result = await open(args[0], args[1], args[2]);
  else if (mode === 'activate') result = await activate(args[0]);
  else if (mode === 'block') result = await block(args[0], args[1], args[2], args[3], args[4]);
  else if (mode === 'limits') result = await limits(args[0], args[1], args[2], args[3]);
  else if (mode === 'system') result = await system(args[0], args[1], args[2]);
  else if (mode === 'systemSqljs') result = await systemSqljs(args[0], args[1]);
  else if (mode === 'systemLimits') result = await systemLimits(args[0], args[1], args[2]);
  else if (mode === 'analytics') result = await analytics(args[0], args[1], args[2], args[3], args[4]);
  else throw new Error(`unknown probe mode ${mode}`);
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
