/**
 * One measurement in a fresh process, so every "cold" figure includes sql.js's WASM
 * compilation exactly as the first open in an extension host does. Prints one JSON line.
 *
 *   probe floor <db> <wasm>              read the file's bytes + sql.js init
 *   probe sqljs <db> <wasm> <project>    plain sql.js: read + init + open + the same page query
 *   probe open <db> <wasm> <project>     StepStore.open + first page of 200 steps
 *   probe activate <extensionDir>        activate the built bundle
 */
import * as fs from 'fs';
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

async function main() {
  let result: unknown;
  if (mode === 'floor') result = await floor(args[0], args[1]);
  else if (mode === 'sqljs') result = await plainSqlJs(args[0], args[1], args[2]);
  else if (mode === 'open') result = await open(args[0], args[1], args[2]);
  else if (mode === 'activate') result = await activate(args[0]);
  else throw new Error(`unknown probe mode ${mode}`);
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
