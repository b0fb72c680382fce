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
 */
import * as fs from 'fs';
import { monitorEventLoopDelay } from 'perf_hooks';
import { StepDbError } from '../src/core/errors';
import { StoreWorker } from '../src/core/remoteStore';
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
async function limits(db: string, wasm: string, project: string, workerPath: string) {
  const fileBytes = fs.statSync(db).size + (fs.existsSync(db + '-wal') ? fs.statSync(db + '-wal').size : 0);
  const rssBefore = process.memoryUsage().rss;
  const worker = new StoreWorker({ workerPath, wasmPath: wasm });
  try {
    const t0 = performance.now();
    let store;
    try {
      store = await worker.open(db);
    } catch (err) {
      if (!(err instanceof StepDbError)) throw err;
      return { fileBytes, opened: false, code: err.code, message: err.message, ms: performance.now() - t0, addedPeakBytes: peakRssBytes() - rssBefore };
    }
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
  } finally {
    worker.dispose();
  }
}

async function main() {
  let result: unknown;
  if (mode === 'floor') result = await floor(args[0], args[1]);
  else if (mode === 'sqljs') result = await plainSqlJs(args[0], args[1], args[2]);
  else if (mode === 'open') result = await open(args[0], args[1], args[2]);
  else if (mode === 'activate') result = await activate(args[0]);
  else if (mode === 'block') result = await block(args[0], args[1], args[2], args[3], args[4]);
  else if (mode === 'limits') result = await limits(args[0], args[1], args[2], args[3]);
  else throw new Error(`unknown probe mode ${mode}`);
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
