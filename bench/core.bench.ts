/**
 * `npm run bench`: the core's speed, each figure beside its reference measured in the same
 * run (medians of several runs; the machine is noisy, so read the ratios, not the times).
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as esbuild from 'esbuild';
import { GitRepository } from '../src/core/git';
import { DEFAULT_MAX_DATABASE_SIZE_MB } from '../src/core/remoteStore';
import { executeRollback, planRollback, undoRollback } from '../src/core/rollback';
import { refsKey, StepCommitResolver } from '../src/core/stepCommits';
import { blameFile, type StepLookup } from '../src/core/stepBlame';
import { SYSTEM_NAMES } from '../src/core/sources/types';
import { StepStore } from '../src/core/stepStore';
import { CONSTELLATION_SCHEMA } from '../test/fixtures/constellation';
import { LLMO_SCHEMA } from '../test/fixtures/llmOrchestration';
import { FALLBACK_CHECKPOINT_SCHEMA, ORCHESTRATOR_SCHEMA } from '../test/fixtures/studio';
import { TODAY_STEPS_SCHEMA } from '../test/fixtures/laforgeToday';

const root = path.resolve(__dirname, '..');
const work = path.join(root, 'bench', '.work');
const wasm = require.resolve('sql.js/dist/sql-wasm.wasm');
const project = 'bench-project';
const quick = process.argv.includes('--quick');
const sizes = quick ? [1_000, 10_000] : [1_000, 10_000, 100_000];
/** Databases opened at the store worker's default limits; 900,000 steps come just under 1 GB. */
const limitSizes = quick ? [10_000] : [100_000, 300_000, 900_000];

interface Row {
  measure: string;
  ours: number;
  reference: number;
  referenceName: string;
  unit: string;
  target?: string;
}

/** `--only <word>`: only the sections whose name holds the word. */
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1]?.toLowerCase() : undefined;
const section = (name: string) => !only || name.toLowerCase().includes(only);
/** The other systems' databases: 10,000 and 100,000 steps. */
const systemSizes = quick ? [10_000] : [10_000, 100_000];

interface Limit {
  /** A database of another system, by what it holds. */
  system?: string;
  steps: number | null; fileBytes: number; opened: boolean; code?: string; openMs?: number; heavyMs?: number;
  openPeakMB?: number; allPeakMB?: number; workerHeapAfterAggregatesMB?: number; workerHeapUsedMB?: number; workerHeapLimitMB?: number;
}

interface SystemMemory {
  system: string;
  steps: number;
  /** The database and the files beside it its source read. */
  fileBytes: number;
  oursAddedPeakMB: number;
  plainAddedPeakMB: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function timeProcess(cmd: string, args: string[], cwd?: string): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return ms;
}

function probe(...args: string[]): Record<string, number> {
  const out = execFileSync(process.execPath, ['--expose-gc', path.join(work, 'probe.js'), ...args], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!);
}

function ensureDatabase(steps: number): string {
  const file = path.join(work, `steps-${steps}.db`);
  if (!fs.existsSync(file)) execFileSync('python3', [path.join(root, 'bench', 'make-bench-db.py'), file, String(steps)]);
  return file;
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 1 << 28 }).trim();
}

/** A repository whose last commit touches 1,000 files: modifications, adds, deletes, renames. */
function ensureRepository(): { dir: string; before: string; after: string } {
  const dir = path.join(work, 'repo-1000');
  if (!fs.existsSync(path.join(dir, '.git', 'bench-ready'))) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    git(dir, 'init', '-q', '-b', 'main');
    git(dir, 'config', 'user.email', 'bench@example.com');
    git(dir, 'config', 'user.name', 'bench');
    const body = (i: number, v: number) => Array.from({ length: 40 }, (_, l) => `line ${l} of file ${i}, version ${v}`).join('\n') + '\n';
    for (let i = 0; i < 1_000; i++) {
      const sub = path.join(dir, 'src', `pkg${i % 20}`);
      fs.mkdirSync(sub, { recursive: true });
      fs.writeFileSync(path.join(sub, `file ${i}.ts`), body(i, 0));
    }
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'base');
    for (let i = 0; i < 1_000; i++) {
      const file = path.join(dir, 'src', `pkg${i % 20}`, `file ${i}.ts`);
      if (i < 850) fs.writeFileSync(file, body(i, 1));
      else if (i < 900) fs.rmSync(file);
      else if (i < 950) fs.renameSync(file, path.join(dir, 'src', `pkg${i % 20}`, `renamed ${i}.ts`));
      else fs.writeFileSync(path.join(dir, 'src', `pkg${i % 20}`, `new ${i}.ts`), body(i, 2));
    }
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'step touching 1,000 files');
    fs.writeFileSync(path.join(dir, '.git', 'bench-ready'), '');
  }
  return { dir, before: git(dir, 'rev-parse', 'HEAD~1'), after: git(dir, 'rev-parse', 'HEAD') };
}

/**
 * A repository of 10,000 step commits on main, each with a note `Step-id: S<N>` on
 * refs/notes/commits, and 20 kept step-S<N> branches; made by one `git fast-import`.
 */
function ensureNotesRepository(steps: number): string {
  const dir = path.join(work, `repo-notes-${steps}`);
  if (fs.existsSync(path.join(dir, '.git', 'bench-ready'))) return dir;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  const out: string[] = [];
  for (let i = 1; i <= steps; i++) {
    const message = `LaForge step S${i} - Automated changes`;
    const body = `${i}\n`;
    out.push(`commit refs/heads/main\nmark :${i}\ncommitter LaForge <laforge@example.com> ${1_760_000_000 + i} +0000\ndata ${message.length}\n${message}\n`);
    out.push(`M 100644 inline src/f${i % 200}.txt\ndata ${body.length}\n${body}\n`);
  }
  out.push('commit refs/notes/commits\ncommitter LaForge <laforge@example.com> 1800000000 +0000\ndata 5\nnotes\n');
  for (let i = 1; i <= steps; i++) {
    const note = `Step-id: S${i}\n`;
    out.push(`N inline :${i}\ndata ${note.length}\n${note}`);
  }
  out.push('\n');
  for (let k = 0; k < 20; k++) out.push(`reset refs/heads/step-S${steps + 1 + k}\nfrom :${steps - k * 7}\n\n`);
  execFileSync('git', ['fast-import', '--quiet'], { cwd: dir, input: out.join(''), maxBuffer: 1 << 28 });
  git(dir, 'reset', '-q', '--hard', 'main');
  fs.writeFileSync(path.join(dir, '.git', 'bench-ready'), '');
  return dir;
}

/**
 * A LaForge repository of 250 steps, each a commit with its `Step-id: S<N>` note that rewrites
 * its own 20 lines of one 5,000-line file, and 20 commits of a person between them; beside it
 * the steps table as LaForge writes it today (commit after = commit before), by the sqlite3 CLI.
 */
function ensureBlameRepository(): { dir: string; db: string; file: string } {
  const dir = path.join(work, 'repo-blame-5000');
  const db = path.join(work, 'blame-5000.db');
  const file = 'src/ledger.ts';
  if (fs.existsSync(path.join(dir, '.git', 'bench-ready')) && fs.existsSync(db)) return { dir, db, file };
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(db, { force: true });
  fs.mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  const lines = Array.from({ length: 5_000 }, (_, i) => `export const line${i} = ${i}; // written first`);
  const out: string[] = [];
  let mark = 0;
  const commit = (who: string, message: string, at: number) => {
    const body = lines.join('\n') + '\n';
    mark++;
    out.push(`commit refs/heads/main\nmark :${mark}\ncommitter ${who} ${at} +0000\ndata ${message.length}\n${message}\n`);
    out.push(`M 100644 inline ${file}\ndata ${Buffer.byteLength(body)}\n${body}\n`);
    return mark;
  };
  commit('Sam Okafor <sam@example.com>', 'Start the ledger', 1_760_000_000);
  const stepMarks: number[] = [];
  for (let step = 1; step <= 250; step++) {
    for (let l = (step - 1) * 20; l < step * 20; l++) lines[l] = `export const line${l} = ${l * step}; // step S${step}`;
    stepMarks.push(commit('LaForge <laforge@example.com>', `LaForge step S${step} - Automated changes`, 1_760_000_000 + step * 600));
    if (step % 13 === 0) {
      const l = (step - 1) * 20 + 3;
      lines[l] = `export const line${l} = -1; // a person`;
      commit('Sam Okafor <sam@example.com>', `A person edits line ${l + 1}`, 1_760_000_000 + step * 600 + 300);
    }
  }
  out.push('commit refs/notes/commits\ncommitter LaForge <laforge@example.com> 1800000000 +0000\ndata 5\nnotes\n');
  stepMarks.forEach((m, i) => {
    const note = `Step-id: S${i + 1}\n`;
    out.push(`N inline :${m}\ndata ${note.length}\n${note}`);
  });
  out.push('\n');
  execFileSync('git', ['fast-import', '--quiet'], { cwd: dir, input: out.join(''), maxBuffer: 1 << 28 });
  git(dir, 'reset', '-q', '--hard', 'main');
  const shas = git(dir, 'rev-list', '--reverse', 'HEAD').split('\n');
  const inserts = ['BEGIN;', TODAY_STEPS_SCHEMA + ';'];
  // A step's commit before is the commit before its own; LaForge records it again as its commit after.
  const stepShas = git(dir, 'log', '--reverse', '--format=%H %s', 'HEAD').split('\n').filter((l) => / LaForge step S\d+ /.test(l)).map((l) => l.split(' ')[0]);
  stepShas.forEach((sha, i) => {
    const before = shas[shas.indexOf(sha) - 1];
    const at = new Date((1_760_000_000 + (i + 1) * 600) * 1000).toISOString().replace('T', ' ').replace('Z', '');
    inserts.push(`INSERT INTO steps (id, active, parent_step_id, commit_sha_before, commit_sha_after, agent_config_name, start_time, end_time, duration_ms, exit_code, project_id) VALUES (${i + 1}, 1, ${i === 0 ? 'NULL' : i}, '${before}', '${before}', 'claude', '${at}', '${at}', 60000, 0, 'bench');`);
  });
  inserts.push('COMMIT;');
  execFileSync('sqlite3', [db], { input: inserts.join('\n') });
  fs.writeFileSync(path.join(dir, '.git', 'bench-ready'), '');
  return { dir, db, file };
}

async function main() {
  fs.mkdirSync(work, { recursive: true });
  execFileSync(process.execPath, [path.join(root, 'esbuild.js')], { cwd: root, stdio: 'inherit' });
  await esbuild.build({
    entryPoints: [path.join(root, 'bench', 'probe.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node18',
    outfile: path.join(work, 'probe.js'),
    logLevel: 'error',
  });

  const rows: Row[] = [];
  const memory: { steps: number; fileBytes: number; oursAddedPeakMB: number; floorAddedPeakMB: number }[] = [];
  const runs = quick ? 3 : 7;

  for (const steps of section('laforge cold open') ? sizes : []) {
    const db = ensureDatabase(steps);
    const query = `SELECT * FROM steps WHERE project_id = '${project}' ORDER BY id DESC LIMIT 200`;
    const ours: number[] = [];
    const floors: number[] = [];
    const natives: number[] = [];
    const plain: number[] = [];
    const oursPeak: number[] = [];
    const floorPeak: number[] = [];
    const n = steps >= 100_000 ? Math.max(3, runs - 2) : runs;
    for (let i = 0; i < n; i++) {
      const o = probe('open', db, wasm, project);
      if (o.rows !== Math.min(200, steps) || o.firstId !== steps) throw new Error(`first page wrong: ${JSON.stringify(o)}`);
      ours.push(o.ms);
      oursPeak.push(o.addedPeakBytes);
      const f = probe('floor', db, wasm);
      floors.push(f.ms);
      floorPeak.push(f.addedPeakBytes);
      plain.push(probe('sqljs', db, wasm, project).ms);
      natives.push(timeProcess('sqlite3', ['-readonly', db, query]));
    }
    const label = steps.toLocaleString('en-US');
    rows.push({
      measure: `cold open + first page, ${label} steps`, ours: median(ours), reference: median(floors),
      referenceName: 'read bytes + sql.js init', unit: 'ms', target: steps === 10_000 ? '<= 1.5x' : undefined,
    });
    rows.push({
      measure: `cold open + first page, ${label} steps`, ours: median(ours), reference: median(plain),
      referenceName: 'plain sql.js: read + init + open + same query', unit: 'ms',
    });
    rows.push({
      measure: `cold open + first page, ${label} steps`, ours: median(ours), reference: median(natives),
      referenceName: 'sqlite3 CLI process', unit: 'ms',
    });
    memory.push({
      steps, fileBytes: fs.statSync(db).size,
      oursAddedPeakMB: median(oursPeak) / 2 ** 20, floorAddedPeakMB: median(floorPeak) / 2 ** 20,
    });
  }

  if (section('laforge main-thread block')) {
    // The extension host's responsiveness: the store opens in a worker thread, so the main
    // thread only starts the worker and receives the first page.
    const steps = sizes[sizes.length - 1];
    const db = ensureDatabase(steps);
    const workerPath = path.join(root, 'dist', 'storeWorker.js');
    const viaWorker: number[] = [];
    const onMain: number[] = [];
    for (let i = 0; i < (quick ? 3 : 5); i++) {
      const w = probe('block', db, wasm, project, 'worker', workerPath);
      if (w.rows !== 200) throw new Error(`first page through the worker wrong: ${JSON.stringify(w)}`);
      viaWorker.push(w.longestBlockMs);
      onMain.push(probe('block', db, wasm, project, 'main', workerPath).longestBlockMs);
    }
    rows.push({
      measure: `longest main-thread block while opening ${steps.toLocaleString('en-US')} steps`, ours: median(viaWorker),
      reference: median(onMain), referenceName: 'StepStore.open on the main thread', unit: 'ms',
      target: steps === 100_000 ? '<= 50 ms' : undefined,
    });
  }

  if (section('laforge analytics')) {
    // The Analytics panel's figures of every step (per day, all of the range) in the store
    // worker, beside the sqlite3 CLI computing the same figures the plain way on the same file
    // (its process, open and one statement over a materialized scan): the first call, which
    // reads every step's figures, and the next ones (another range or grouping, a project),
    // folded from the figures that reading keeps.
    const steps = sizes[sizes.length - 1];
    const db = ensureDatabase(steps);
    const workerPath = path.join(root, 'dist', 'storeWorker.js');
    const n = quick ? 3 : 5;
    const ours = probe('analytics', db, wasm, workerPath, 'day', String(n));
    const reference = JSON.parse(execFileSync('sqlite3', ['-readonly', '-json', db, ANALYTICS_REFERENCE_SQL], { encoding: 'utf8', maxBuffer: 1 << 28 })) as Record<string, unknown>[];
    const totals = reference.find((r) => r.kind === 't')!;
    if (ours.steps !== steps || ours.steps !== totals.steps || ours.totalTokens !== totals.total_tokens || ours.failures !== totals.failures) {
      throw new Error(`analytics disagree with the sqlite3 CLI: ${JSON.stringify(ours)} / ${JSON.stringify(totals)}`);
    }
    const natives: number[] = [];
    for (let i = 0; i < n; i++) natives.push(timeProcess('sqlite3', ['-readonly', db, ANALYTICS_REFERENCE_SQL]));
    rows.push({
      measure: `analytics of ${steps.toLocaleString('en-US')} steps per day, in the store worker, first: every step's figures read`, ours: ours.firstMs,
      reference: median(natives), referenceName: 'sqlite3 CLI process: the same figures', unit: 'ms',
    });
    rows.push({
      measure: `analytics of ${steps.toLocaleString('en-US')} steps per day, in the store worker, again: folded from the figures kept`, ours: ours.ms,
      reference: median(natives), referenceName: 'sqlite3 CLI process: the same figures', unit: 'ms',
      target: steps === 100_000 ? '<= 3x and <= 100 ms' : undefined,
    });
  }

  if (section('analytics page bundle')) {
    // The Analytics page's script as it ships (minified, Chart.js tree-shaken to the parts it
    // draws with), beside Chart.js's own whole minified bundle.
    const built = await esbuild.build({
      entryPoints: [path.join(root, 'src', 'webview', 'analytics.ts')],
      bundle: true, minify: true, format: 'iife', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent',
    });
    const kb = (bytes: number) => bytes / 1024;
    rows.push({
      measure: 'Analytics page script, minified', ours: kb(built.outputFiles[0].contents.byteLength),
      reference: kb(fs.statSync(path.join(root, 'node_modules', 'chart.js', 'dist', 'chart.umd.min.js')).size), referenceName: 'Chart.js whole, minified', unit: 'KB',
      target: '<= 250 KB',
    });
  }

  if (section('llm orchestration analytics')) {
    // Another system's Analytics figures (per day, all of the range), folded from its nodes in
    // the store worker, warm, beside the sqlite3 CLI computing the same figures from the rows.
    // At 10,000 responses: the walk reads every run's responses through the source's one-pass
    // index of responses by run (the app's schema has no index on run_id).
    const steps = 10_000;
    const db = ensureSystemDatabase('llmo', steps);
    const workerPath = path.join(root, 'dist', 'storeWorker.js');
    const n = 3;
    const ours = probe('analytics', db, wasm, workerPath, 'day', String(n));
    const reference = JSON.parse(execFileSync('sqlite3', ['-readonly', '-json', db, LLMO_ANALYTICS_REFERENCE_SQL], { encoding: 'utf8', maxBuffer: 1 << 28 })) as Record<string, unknown>[];
    const totals = reference.find((r) => r.kind === 't')!;
    const groups = reference.filter((r) => r.kind === 'g').length;
    const models = reference.filter((r) => r.kind === 'm').length;
    if (ours.steps !== steps || ours.steps !== totals.steps || ours.totalTokens !== totals.total_tokens || ours.groups !== groups || ours.models !== models) {
      throw new Error(`LLM Orchestration analytics disagree with the sqlite3 CLI: ${JSON.stringify(ours)} / ${JSON.stringify({ ...totals, groups, models })}`);
    }
    const natives: number[] = [];
    for (let i = 0; i < n; i++) natives.push(timeProcess('sqlite3', ['-readonly', db, LLMO_ANALYTICS_REFERENCE_SQL]));
    rows.push({
      measure: `${SYSTEM_NAMES.llmOrchestration} analytics of ${steps.toLocaleString('en-US')} responses per day, in the store worker`, ours: ours.ms,
      reference: median(natives), referenceName: 'sqlite3 CLI process: the same figures', unit: 'ms',
    });
  }

  if (section('analytics first paint')) {
    // The Analytics panel in a real VS Code (the test harness's code-server, installed by
    // `npm run harness:setup` or `npm test`) on 100,000 steps: from the figures' arrival in the
    // page to every chart drawn, a new panel each time, per step (decimated) beside per week.
    execFileSync('npm', ['run', 'package'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    const run = spawnSync('npx', ['tsx', 'test/harness/run.ts', '--suite', 'integration', '--session', 'at-scale'], { cwd: root, stdio: 'inherit' });
    const results = path.join(root, 'test-results', 'integration', 'at-scale', 'results.json');
    if (run.status !== 0 || !fs.existsSync(results)) throw new Error(`the first-paint session failed (exit ${run.status}); see test-results/integration/at-scale/`);
    const { metrics } = JSON.parse(fs.readFileSync(results, 'utf8')) as { metrics: Record<string, number> };
    rows.push({
      measure: 'Analytics panel first paint, 100,000 steps per step, in VS Code', ours: metrics.analyticsFirstPaintPerStepMs,
      reference: metrics.analyticsFirstPaintPerWeekMs, referenceName: 'the same panel per week', unit: 'ms', target: '<= 300 ms',
    });
  }

  if (section('step blame')) {
    // Which step wrote each line of a 5,000-line file (blame, the commits mapped to steps
    // through their notes and the steps table), beside plain `git blame --porcelain` of the
    // same file as a process. First: the steps' commits not read yet; again: read (kept until
    // the refs move), the editor's case from the second file on.
    const { dir, db, file } = ensureBlameRepository();
    const store = await StepStore.open(db, { wasmPath: wasm });
    const repo = await GitRepository.open(dir);
    const n = quick ? 5 : 11;
    const first: number[] = [];
    const again: number[] = [];
    const plain: number[] = [];
    for (let i = 0; i < n; i++) {
      const resolver = new StepCommitResolver(repo);
      const lookup: StepLookup = {
        commitIndex: () => resolver.index(),
        stepsWithIds: async (ids) => store.stepsWithIds(ids),
        stepsWithCommits: async (commits) => store.stepsWithCommits(commits),
        hasRecordedRanges: async () => store.hasRecordedRanges(),
        repository: async () => repo,
      };
      let t0 = performance.now();
      const blamed = await blameFile(lookup, path.join(dir, file), { maxBytes: 1 << 20 });
      first.push(performance.now() - t0);
      t0 = performance.now();
      const kept = await blameFile(lookup, path.join(dir, file), { maxBytes: 1 << 20 });
      again.push(performance.now() - t0);
      plain.push(timeProcess('git', ['blame', '--porcelain', '--', file], dir));
      for (const b of [blamed, kept]) {
        if (b.kind !== 'blamed' || b.owners.length !== 5_000) throw new Error(`step blame read ${b.kind === 'blamed' ? b.owners.length : b.reason} lines`);
        const steps = b.owners.filter((o) => o.kind === 'step').length;
        const people = b.owners.filter((o) => o.kind === 'commit').length;
        if (steps !== 5_000 - 19 || people !== 19) throw new Error(`step blame: ${steps} lines by steps, ${people} by a person (expected 4,981 and 19)`);
      }
    }
    store.close();
    rows.push({
      measure: 'step blame of a 5,000-line file, 250 steps, first: the steps\' commits read', ours: median(first),
      reference: median(plain), referenceName: 'git blame --porcelain process', unit: 'ms',
    });
    rows.push({
      measure: 'step blame of a 5,000-line file, 250 steps, again: the steps\' commits kept', ours: median(again),
      reference: median(plain), referenceName: 'git blame --porcelain process', unit: 'ms', target: '<= 1.2x + 10 ms',
    });
  }

  const limits: Limit[] = [];
  const systemMemory: SystemMemory[] = [];
  if (section('laforge store worker limits')) {
    // The memory a database costs at the store worker's default limits, one fresh process per
    // size (one run each: the sizes, not the noise, are what change the figures), and a file
    // just over the size limit, sparse, which must be refused before it is read.
    const workerPath = path.join(root, 'dist', 'storeWorker.js');
    const mb = (bytes: number) => bytes / 2 ** 20;
    for (const steps of limitSizes) {
      const r = probe('limits', ensureDatabase(steps), wasm, project, workerPath);
      if (r.opened && (r.rows !== 200 || r.totals !== steps)) throw new Error(`database of ${steps} steps read wrong: ${JSON.stringify(r)}`);
      limits.push({
        steps, fileBytes: r.fileBytes, opened: !!r.opened, openMs: r.openMs, heavyMs: r.heavyMs,
        openPeakMB: r.openPeakBytes === undefined ? undefined : mb(r.openPeakBytes),
        allPeakMB: r.allPeakBytes === undefined ? undefined : mb(r.allPeakBytes),
        workerHeapAfterAggregatesMB: r.workerHeapAfterAggregatesBytes === undefined ? undefined : mb(r.workerHeapAfterAggregatesBytes),
        workerHeapUsedMB: r.workerHeapUsedBytes === undefined ? undefined : mb(r.workerHeapUsedBytes),
        workerHeapLimitMB: r.workerHeapLimitBytes === undefined ? undefined : mb(r.workerHeapLimitBytes),
      });
    }
    const over = path.join(work, 'over-the-limit.db');
    fs.copyFileSync(ensureDatabase(1_000), over);
    fs.truncateSync(over, (DEFAULT_MAX_DATABASE_SIZE_MB + 1) * 2 ** 20);
    const refused = probe('limits', over, wasm, project, workerPath) as unknown as { opened: boolean; code: string; ms: number; addedPeakBytes: number };
    fs.rmSync(over);
    if (refused.opened || refused.code !== 'TOO_LARGE') throw new Error(`a file over the limit was not refused: ${JSON.stringify(refused)}`);
    limits.push({ steps: null, fileBytes: (DEFAULT_MAX_DATABASE_SIZE_MB + 1) * 2 ** 20, opened: false, code: refused.code, openMs: refused.ms, openPeakMB: mb(refused.addedPeakBytes) });

    const largest = limits.filter((l) => l.opened).sort((a, b) => b.fileBytes - a.fileBytes)[0];
    const label = `${largest.steps!.toLocaleString('en-US')} steps, ${mb(largest.fileBytes).toFixed(0)} MB`;
    rows.push({
      measure: 'largest step database that opens through the store worker', ours: mb(largest.fileBytes),
      reference: DEFAULT_MAX_DATABASE_SIZE_MB, referenceName: 'default size limit', unit: 'MB',
    });
    rows.push({
      measure: `peak memory added by open + first page (${label})`, ours: largest.openPeakMB!,
      reference: mb(largest.fileBytes), referenceName: 'file size', unit: 'MB',
    });
    rows.push({
      measure: `peak memory added by open, first page, aggregates and models (${label})`, ours: largest.allPeakMB!,
      reference: mb(largest.fileBytes), referenceName: 'file size', unit: 'MB',
    });
  }

  if (section('laforge has it changed')) {
    const db = ensureDatabase(10_000);
    const store = await StepStore.open(db, { wasmPath: wasm });
    const samples: number[] = [];
    for (let i = 0; i < 2_000; i++) {
      const t0 = performance.now();
      if (store.hasChanged()) throw new Error('unchanged file reported as changed');
      samples.push(performance.now() - t0);
    }
    const stats: number[] = [];
    for (let i = 0; i < 2_000; i++) {
      const t0 = performance.now();
      fs.statSync(db);
      stats.push(performance.now() - t0);
    }
    store.close();
    rows.push({
      measure: '"has it changed?" on an unchanged file', ours: median(samples), reference: median(stats),
      referenceName: 'one fs.statSync', unit: 'ms', target: '<= 2 ms',
    });
  }

  if (section('git changedFiles')) {
    const { dir, before, after } = ensureRepository();
    const repo = await GitRepository.open(dir);
    const ours: number[] = [];
    const plain: number[] = [];
    const sameWork: number[] = [];
    let files = 0;
    for (let i = 0; i < (quick ? 5 : 15); i++) {
      const t0 = performance.now();
      files = (await repo.changedFiles(before, after)).length;
      ours.push(performance.now() - t0);
      plain.push(timeProcess('git', ['diff', '--name-status', '-z', before, after], dir));
      sameWork.push(timeProcess('git', ['diff', '--raw', '--numstat', '-z', '-M', before, after], dir));
    }
    if (files !== 1_000) throw new Error(`expected 1,000 changed files, got ${files}`);
    rows.push({
      measure: 'changedFiles, step touching 1,000 files', ours: median(ours), reference: median(plain),
      referenceName: 'git diff --name-status -z process', unit: 'ms', target: '<= 1.2x',
    });
    // changedFiles also counts added and removed lines, which makes git diff every file's
    // contents; this reference does exactly that work as a bare process.
    rows.push({
      measure: 'changedFiles, step touching 1,000 files', ours: median(ours), reference: median(sameWork),
      referenceName: 'git diff --raw --numstat -z -M process', unit: 'ms',
    });
  }

  if (section('rollback')) {
    // Rollback of the step that touched 1,000 files: ours (journal, backup ref, reset, safe
    // database write) against the bare work: git reset --hard plus the UPDATE by the sqlite3 CLI.
    const { dir, before, after } = ensureRepository();
    const db = path.join(work, 'rollback-steps.db');
    const journalDir = path.join(work, 'rollback-journals');
    fs.rmSync(journalDir, { recursive: true, force: true });
    fs.rmSync(db, { force: true });
    execFileSync('python3', ['-c', [
      'import sqlite3, sys',
      'db = sqlite3.connect(sys.argv[1])',
      'db.executescript(open(sys.argv[2]).read())',
      "db.execute(\"INSERT INTO steps (id, active, commit_sha_before, commit_sha_after, agent_config_json, start_time, end_time, duration_ms, exit_code, project_id) VALUES (1, 1, ?, ?, '{}', '2026-01-01T10:00:00Z', '2026-01-01T10:05:00Z', 300000, 0, ?)\", (sys.argv[3], sys.argv[4], sys.argv[5]))",
      'db.commit()',
      'db.close()',
    ].join('\n'), db, path.join(root, 'test', 'fixtures', 'laforge-schema.sql'), before, after, project]);
    const target = { dbPath: db, repositoryPath: dir, projectId: project, stepId: 1 };
    const ours: number[] = [];
    const withPlan: number[] = [];
    const bare: number[] = [];
    const update = (active: number) =>
      timeProcess('sqlite3', [db, `UPDATE steps SET active = ${active} WHERE project_id = '${project}' AND id IN (1)`]);
    for (let i = 0; i < (quick ? 3 : 7); i++) {
      const t0 = performance.now();
      const plan = await planRollback(target, { wasmPath: wasm });
      const t1 = performance.now();
      if (plan.refusals.length || plan.filesToChange.length !== 1_000) throw new Error(`rollback plan wrong: ${plan.summary}`);
      const result = await executeRollback(plan, { journalDir, wasmPath: wasm });
      const t2 = performance.now();
      ours.push(t2 - t1);
      withPlan.push(t2 - t0);
      if (git(dir, 'rev-parse', 'HEAD') !== before) throw new Error('rollback did not reset the branch');
      await undoRollback(result.journal, { journalDir, wasmPath: wasm });
      if (git(dir, 'rev-parse', 'HEAD') !== after) throw new Error('undo did not restore the branch');
      git(dir, 'update-ref', '-d', result.journal.backupRef);

      bare.push(timeProcess('git', ['reset', '--hard', '--quiet', before], dir) + update(0));
      timeProcess('git', ['reset', '--hard', '--quiet', after], dir);
      update(1);
    }
    rows.push({
      measure: 'rollback of a step touching 1,000 files', ours: median(ours), reference: median(bare),
      referenceName: 'git reset --hard + sqlite3 CLI UPDATE', unit: 'ms',
    });
    rows.push({
      measure: 'rollback of a step touching 1,000 files, plan included', ours: median(withPlan), reference: median(bare),
      referenceName: 'git reset --hard + sqlite3 CLI UPDATE', unit: 'ms',
    });
  }


  if (section('step commits')) {
    // Each step's own commit: every note read and every step-S<N> branch listed, beside the
    // bare processes that only list them; and the check that nothing moved since, beside one
    // git process that would list the same refs.
    const steps = 10_000;
    const dir = ensureNotesRepository(steps);
    const repo = await GitRepository.open(dir);
    const ours: number[] = [];
    const bare: number[] = [];
    const keyOurs: number[] = [];
    const keyGit: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const resolver = new StepCommitResolver(repo);
      const index = await resolver.index();
      let noted = 0;
      for (let id = 1; id <= steps; id++) if (index.resolve({ id, commitBefore: null, commitAfter: null, status: 'COMPLETED' }).source === 'note') noted++;
      ours.push(performance.now() - t0);
      if (noted !== steps) throw new Error(`resolved ${noted} of ${steps} steps from their notes`);
      bare.push(timeProcess('git', ['notes', 'list'], dir) + timeProcess('git', ['for-each-ref', 'refs/heads/step-S*'], dir));
      const dirs = await repo.gitDirs();
      const k0 = performance.now();
      for (let j = 0; j < 100; j++) refsKey(dirs, 'refs/notes/commits');
      keyOurs.push((performance.now() - k0) / 100);
      keyGit.push(timeProcess('git', ['for-each-ref', '--format=%(objectname) %(refname)', 'refs/heads', 'refs/notes'], dir));
    }
    rows.push({
      measure: `step commits of ${steps.toLocaleString('en-US')} steps (notes + step branches), cold`, ours: median(ours), reference: median(bare),
      referenceName: 'git notes list + git for-each-ref processes', unit: 'ms', target: '<= 1.5x',
    });
    rows.push({
      measure: 'step commits: nothing moved since the last reading', ours: median(keyOurs), reference: median(keyGit),
      referenceName: 'git for-each-ref refs/heads refs/notes process', unit: 'ms',
    });
  }

  if (section('systems open + first page')) otherSystems(rows, systemMemory, runs);
  if (!quick && section('systems constellation 1 GB message text')) constellationGigabyte(rows, limits);

  const activation = section('activation') ? probe('activate', root) : undefined;

  const table = rows.map((r) => ({
    measure: r.measure,
    ours: `${r.ours.toFixed(3)} ${r.unit}`,
    reference: `${r.reference.toFixed(3)} ${r.unit} (${r.referenceName})`,
    ratio: `${(r.ours / r.reference).toFixed(2)}x`,
    target: r.target ?? '',
  }));
  console.log('\nStep History core benchmark (medians)');
  console.table(table);
  if (memory.length) {
    console.log('Peak memory added by cold open + first page (ours) and by reading bytes + sql.js init (floor)');
    console.table(memory.map((m) => ({
      steps: m.steps.toLocaleString('en-US'),
      'file MB': (m.fileBytes / 2 ** 20).toFixed(1),
      'ours MB': m.oursAddedPeakMB.toFixed(1),
      'floor MB': m.floorAddedPeakMB.toFixed(1),
    })));
  }
  if (systemMemory.length) {
    console.log('Other systems: peak memory added by cold open + first page (ours, through the adapter) and by plain sql.js doing the same SELECTs');
    console.table(systemMemory.map((m) => ({
      system: m.system,
      steps: m.steps.toLocaleString('en-US'),
      'files MB': (m.fileBytes / 2 ** 20).toFixed(1),
      'ours MB': m.oursAddedPeakMB.toFixed(1),
      'plain sql.js MB': m.plainAddedPeakMB.toFixed(1),
      'ours x files': (m.oursAddedPeakMB / (m.fileBytes / 2 ** 20)).toFixed(2),
    })));
  }
  if (limits.length) console.log('Store worker at its default limits: peak memory added (process VmHWM minus RSS before the worker starts)');
  if (limits.length) console.table(limits.map((l) => ({
    steps: l.system ? `${l.system}, ${l.steps!.toLocaleString('en-US')}` : l.steps === null ? '(sparse file)' : l.steps.toLocaleString('en-US'),
    'file MB': (l.fileBytes / 2 ** 20).toFixed(1),
    opens: l.opened ? 'yes' : `no: ${l.code}`,
    'open + page ms': l.openMs?.toFixed(0) ?? '',
    'open + page MB': l.openPeakMB?.toFixed(0) ?? '',
    'x file': l.openPeakMB === undefined ? '' : (l.openPeakMB / (l.fileBytes / 2 ** 20)).toFixed(2),
    'aggregates + models ms': l.heavyMs?.toFixed(0) ?? '',
    'all MB': l.allPeakMB?.toFixed(0) ?? '',
    'all x file': l.allPeakMB === undefined ? '' : (l.allPeakMB / (l.fileBytes / 2 ** 20)).toFixed(2),
    'worker heap MB after aggregates / at end / limit': l.workerHeapUsedMB === undefined
      ? ''
      : `${l.workerHeapAfterAggregatesMB!.toFixed(0)} / ${l.workerHeapUsedMB.toFixed(0)} / ${l.workerHeapLimitMB!.toFixed(0)}`,
  })));
  if (activation) {
    console.log(
      `Activation: ${activation.activationMs.toFixed(1)} ms, WASM compilations at activation: ${activation.compilationsAtActivation}`,
    );
  }

  const result = {
    date: new Date().toISOString(),
    node: process.version,
    quick,
    rows: rows.map((r) => ({ ...r, ratio: r.ours / r.reference })),
    ...(only ? { only } : {}),
    memory,
    systemMemory,
    limits,
    activation,
  };
  fs.mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
  const out = path.join(root, 'bench', 'results', 'core.json');
  fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  console.log(`\nWrote ${path.relative(root, out)}`);
  if (activation && activation.compilationsAtActivation !== 0) {
    console.error('Activation compiled WASM: it must load only on first database open.');
    process.exitCode = 1;
  }
}

type OtherSystem = 'constellation' | 'llmo' | 'studio';
const SYSTEM_LABELS: Record<OtherSystem | 'laforge', string> = {
  laforge: `${SYSTEM_NAMES.laforge} (through its adapter)`,
  constellation: SYSTEM_NAMES.constellation,
  llmo: SYSTEM_NAMES.llmOrchestration,
  studio: `${SYSTEM_NAMES.studio} (orchestrator.db + checkpoints.db)`,
};

/**
 * A database of another system written by bench/make-system-db.py with the real SQLite engine,
 * cached under bench/.work; the DDL is the fixtures'. Returns the file a user opens (for the
 * studio, data/orchestrator.db with checkpoints.db beside it).
 */
function ensureSystemDatabase(system: OtherSystem, steps: number, textBytes?: number): string {
  const name = `${system}-${steps}${textBytes ? `-text-${textBytes}` : ''}`;
  const target = system === 'studio' ? path.join(work, name, 'orchestrator.db') : path.join(work, `${name}.db`);
  if (fs.existsSync(target)) return target;
  const schema = JSON.stringify({ constellation: CONSTELLATION_SCHEMA, llmo: LLMO_SCHEMA, orchestrator: ORCHESTRATOR_SCHEMA, fallback: FALLBACK_CHECKPOINT_SCHEMA });
  // Written beside, then renamed: an interrupted run leaves no half-written database in the cache.
  const partial = system === 'studio' ? path.join(work, `${name}.partial`) : path.join(work, `${name}.partial.db`);
  fs.rmSync(partial, { recursive: true, force: true });
  execFileSync('python3', [path.join(root, 'bench', 'make-system-db.py'), system, partial, String(steps), ...(textBytes ? [String(textBytes)] : [])], {
    input: schema, stdio: ['pipe', 'inherit', 'inherit'],
  });
  fs.renameSync(partial, system === 'studio' ? path.dirname(target) : target);
  return target;
}

/**
 * The Analytics figures of a bench database, per UTC day, as one would write them for its own
 * clean data: totals, groups with running totals, by model with the median duration, the ten
 * slowest and most expensive steps.
 */
const ANALYTICS_REFERENCE_SQL = `WITH b AS MATERIALIZED (SELECT id, CAST(strftime('%s', start_time) AS INTEGER) * 1000 AS s,
  duration_ms AS d, active = 1 AND end_time IS NOT NULL AND exit_code <> 0 AS f, active = 0 AS rb,
  coalesce(json_extract(agent_config_json, '$.model'), 'unknown') AS m,
  json_extract(token_usage_json, '$.prompt_tokens') AS p, json_extract(token_usage_json, '$.completion_tokens') AS c,
  json_extract(token_usage_json, '$.total_tokens') AS t, json_extract(token_usage_json, '$.cost') AS k FROM steps),
medians AS (SELECT m, avg(d) AS median FROM (SELECT m, d, row_number() OVER (PARTITION BY m ORDER BY d) AS rn,
  count(*) OVER (PARTITION BY m) AS n FROM b) WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY m)
SELECT 't' AS kind, NULL AS g, count(*) AS steps, sum(f) AS failures, sum(rb) AS rollbacks, sum(p) AS prompt_tokens,
  sum(c) AS completion_tokens, sum(t) AS total_tokens, sum(k) AS cost, sum(d) AS duration, NULL AS x, NULL AS y FROM b
UNION ALL SELECT 'g', s / 86400000, count(*), sum(f), sum(rb), sum(p), sum(c), sum(t), sum(k), sum(d),
  sum(sum(t)) OVER (ORDER BY s / 86400000), sum(sum(k)) OVER (ORDER BY s / 86400000) FROM b GROUP BY s / 86400000
UNION ALL SELECT 'm', b.m, count(*), sum(f), sum(rb), sum(p), sum(c), sum(t), sum(k), sum(d), max(median), NULL
  FROM b JOIN medians USING (m) GROUP BY b.m
UNION ALL SELECT * FROM (SELECT 's', id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, d, NULL, NULL FROM b ORDER BY d DESC, id LIMIT 10)
UNION ALL SELECT * FROM (SELECT 'e', id, NULL, NULL, NULL, NULL, NULL, NULL, k, NULL, NULL, NULL FROM b ORDER BY k DESC, id LIMIT 10);`;

/**
 * The Analytics figures of the LLM Orchestration bench database, per UTC day, from its rows:
 * a response starts its duration before its created_at; usage is recorded where metadata has
 * a total (the counts-less backend stores none); the model is model_info's. No cost is stored.
 */
const LLMO_ANALYTICS_REFERENCE_SQL = `WITH b AS MATERIALIZED (SELECT id, json_extract(metadata, '$.duration_ms') AS d,
  CAST(round((julianday(created_at) - 2440587.5) * 86400000) AS INTEGER) - json_extract(metadata, '$.duration_ms') AS s,
  coalesce(json_extract(metadata, '$.model_info.result'), json_extract(metadata, '$.model_info.data[0].id'), 'unknown') AS m,
  json_extract(metadata, '$.promptTokens') AS p, json_extract(metadata, '$.completionTokens') AS c,
  json_extract(metadata, '$.tokens') AS t FROM responses),
medians AS (SELECT m, avg(d) AS median FROM (SELECT m, d, row_number() OVER (PARTITION BY m ORDER BY d) AS rn,
  count(*) OVER (PARTITION BY m) AS n FROM b) WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY m)
SELECT 't' AS kind, NULL AS g, count(*) AS steps, sum(t IS NOT NULL) AS usage_steps, sum(CASE WHEN t IS NOT NULL THEN p END) AS prompt_tokens,
  sum(CASE WHEN t IS NOT NULL THEN c END) AS completion_tokens, sum(t) AS total_tokens, sum(d) AS duration, NULL AS x FROM b
UNION ALL SELECT 'g', s / 86400000, count(*), sum(t IS NOT NULL), sum(CASE WHEN t IS NOT NULL THEN p END), sum(CASE WHEN t IS NOT NULL THEN c END),
  sum(t), sum(d), sum(sum(t)) OVER (ORDER BY s / 86400000) FROM b GROUP BY s / 86400000
UNION ALL SELECT 'm', b.m, count(*), sum(t IS NOT NULL), NULL, NULL, sum(t), sum(d), max(median) FROM b JOIN medians USING (m) GROUP BY b.m
UNION ALL SELECT * FROM (SELECT 's', id, NULL, NULL, NULL, NULL, NULL, d, NULL FROM b ORDER BY d DESC, id LIMIT 10);`;

/** A SQL text with its `?` parameters written in as literals (the sqlite3 CLI binds none). */
function inlineParams(sql: string, params: Statement['params']): string {
  let out = '';
  let k = 0;
  let quote: string | null = null;
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = null;
      out += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
    } else if (ch === '?') {
      const v = params[k++];
      out += v === null || v === undefined ? 'NULL'
        : typeof v === 'number' ? String(v)
          : typeof v === 'string' ? `'${v.replace(/'/g, "''")}'`
            : `X'${v.hex}'`;
    } else out += ch;
  }
  return out;
}

interface Statement {
  file: string;
  sql: string;
  params: (string | number | null | { hex: string })[];
}

/** A script for one sqlite3 CLI process running the statements in order, each file opened read-only. */
function cliScript(statements: Statement[], first: string): string {
  const lines: string[] = [];
  let current = first;
  for (const s of statements) {
    if (s.file !== current) {
      lines.push(`.open --readonly '${s.file}'`);
      current = s.file;
    }
    lines.push(`${inlineParams(s.sql, s.params).replace(/\s+/g, ' ')};`);
  }
  return lines.join('\n') + '\n';
}

/**
 * Each system's database (LaForge's among them) opened as the store worker opens it and read down to its first
 * page of steps, in a fresh process, beside plain sql.js and the sqlite3 CLI running the very
 * SELECTs the adapter ran (recorded by the probe), in the same run.
 */
function otherSystems(rows: Row[], systemMemory: SystemMemory[], runs: number): void {
  for (const system of ['laforge', 'constellation', 'llmo', 'studio'] as const) {
    for (const steps of systemSizes) {
      // LaForge's through its adapter too, as the store worker opens every system's.
      const db = system === 'laforge' ? ensureDatabase(steps) : ensureSystemDatabase(system, steps);
      const statementsFile = path.join(work, `${system}-${steps}.statements.json`);
      const scriptFile = path.join(work, `${system}-${steps}.statements.sql`);
      const ours: number[] = [];
      const oursPeak: number[] = [];
      const plain: number[] = [];
      const plainPeak: number[] = [];
      const natives: number[] = [];
      let fileBytes = 0;
      const n = steps >= 100_000 ? Math.max(3, runs - 2) : runs;
      for (let i = 0; i < n; i++) {
        const o = probe('system', db, wasm, statementsFile) as unknown as { ms: number; addedPeakBytes: number; pages: number[]; system: string; fileBytes: number };
        const pages = o.pages;
        if (pages.length < 2 || pages[pages.length - 1] === 0) throw new Error(`${system}: first page wrong: ${JSON.stringify(o)}`);
        ours.push(o.ms);
        oursPeak.push(o.addedPeakBytes);
        fileBytes = o.fileBytes;
        if (i === 0) fs.writeFileSync(scriptFile, cliScript(JSON.parse(fs.readFileSync(statementsFile, 'utf8')) as Statement[], db));
        const p = probe('systemSqljs', statementsFile, wasm);
        plain.push(p.ms);
        plainPeak.push(p.addedPeakBytes);
        natives.push(timeProcess('sqlite3', ['-readonly', db, `.read '${scriptFile}'`]));
      }
      const measure = `${SYSTEM_LABELS[system]}: open + first page (top level, then the first container's first 200 children), ${steps.toLocaleString('en-US')} steps`;
      rows.push({ measure, ours: median(ours), reference: median(plain), referenceName: 'plain sql.js: read + init + open + the same SELECTs', unit: 'ms' });
      rows.push({ measure, ours: median(ours), reference: median(natives), referenceName: 'sqlite3 CLI process: the same SELECTs', unit: 'ms' });
      rows.push({
        measure: `${SYSTEM_LABELS[system]}: peak memory added by open + first page, ${steps.toLocaleString('en-US')} steps`,
        ours: median(oursPeak) / 2 ** 20, reference: fileBytes / 2 ** 20, referenceName: 'size of the files read', unit: 'MB',
      });
      systemMemory.push({
        system: SYSTEM_LABELS[system], steps, fileBytes,
        oursAddedPeakMB: median(oursPeak) / 2 ** 20, plainAddedPeakMB: median(plainPeak) / 2 ** 20,
      });
    }
  }
}

/**
 * A Constellation database of 100,000 iterations whose messages hold 1 GB (10^9 bytes) of text,
 * opened through the store worker at its default limits (one run): either its open + first page
 * and the peak memory that added, or the refusal of a file over stepHistory.maxDatabaseSizeMb.
 */
function constellationGigabyte(rows: Row[], limits: Limit[]): void {
  const steps = 100_000;
  const textBytes = 1_000_000_000;
  const db = ensureSystemDatabase('constellation', steps, textBytes);
  const workerPath = path.join(root, 'dist', 'storeWorker.js');
  const r = probe('systemLimits', db, wasm, workerPath) as unknown as { fileBytes: number; opened: boolean; code?: string; ms: number; addedPeakBytes: number; pages?: number[] };
  const mb = (bytes: number) => bytes / 2 ** 20;
  const system = 'Constellation, 1 GB of message text';
  if (!r.opened && r.code !== 'TOO_LARGE') throw new Error(`${system}: ${JSON.stringify(r)}`);
  limits.push({ system, steps, fileBytes: r.fileBytes, opened: r.opened, code: r.code, openMs: r.ms, openPeakMB: mb(r.addedPeakBytes) });
  if (r.opened) {
    rows.push({
      measure: `${system}: peak memory added by open + first page through the store worker (${mb(r.fileBytes).toFixed(0)} MB)`,
      ours: mb(r.addedPeakBytes), reference: mb(r.fileBytes), referenceName: 'file size', unit: 'MB',
    });
  } else {
    rows.push({
      measure: `${system}: refused by the store worker (${r.code}) in ${r.ms.toFixed(0)} ms, peak memory added ${mb(r.addedPeakBytes).toFixed(0)} MB`,
      ours: mb(r.fileBytes), reference: DEFAULT_MAX_DATABASE_SIZE_MB, referenceName: 'default size limit', unit: 'MB',
    });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
