/**
 * `npm start`: builds Step History, makes the demo workspace and opens it in VS Code with the
 * extension loaded.
 *
 * - The demo workspace (test/fixtures/demoWorkspace.ts) is made fresh every time in
 *   `$STEP_HISTORY_CACHE/demo-workspace` (default ~/.cache/step-history-harness), outside the
 *   repository. Its times are relative to now, so "2 hours ago" looks recent.
 * - With desktop VS Code's `code` on PATH: builds dist/ and runs
 *   `code --extensionDevelopmentPath=<repo> <workspace>`, then exits.
 * - Otherwise (or with --browser): packages the VSIX, installs it into a code-server session of
 *   its own (the test harness's tools, installed on first use), serves it on 127.0.0.1 and
 *   prints the URL; Ctrl-C stops it.
 *
 * Options: --no-open (or STEP_HISTORY_NO_OPEN=1) only makes the workspace and prints its path;
 * --browser (or STEP_HISTORY_BROWSER=1) uses code-server even when `code` is on PATH.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { addDemoAgents } from '../test/fixtures/demoAgents';
import { makeDemoWorkspace } from '../test/fixtures/demoWorkspace';
import { CodeServerSession, startCodeServer } from '../test/harness/codeServer';
import { log } from '../test/harness/log';
import { stopAll } from '../test/harness/processes';
import { cacheDir, ensureHarness } from '../test/harness/setup';

const ROOT = path.resolve(__dirname, '..');
const VSIX = path.join(ROOT, 'step-history.vsix');
const USAGE = `usage: npm start [-- --no-open | --browser]
  --no-open   only make the demo workspace and print its path (also STEP_HISTORY_NO_OPEN=1)
  --browser   open it in code-server even when desktop VS Code's \`code\` is on PATH (also STEP_HISTORY_BROWSER=1)`;

const flag = (name: string, env: string) => process.argv.includes(name) || ['1', 'true', 'yes'].includes((process.env[env] ?? '').toLowerCase());

/** Desktop VS Code's `code` on PATH; not the remote CLI a VS Code terminal puts there, which cannot load a development extension. */
function findCode(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir || /remote-cli/.test(dir)) continue;
    const file = path.join(dir, 'code');
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Runs an npm script quietly; its output is shown only if it fails. */
function npmRun(script: string): void {
  const started = Date.now();
  const r = spawnSync('npm', ['run', '--silent', script], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`npm run ${script} failed (exit ${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
  log('start', `npm run ${script}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function makeWorkspace(): string {
  const dir = path.join(cacheDir(), 'demo-workspace');
  fs.rmSync(dir, { recursive: true, force: true });
  const ws = makeDemoWorkspace(dir);
  const range = (ids: number[]) => (ids.length > 1 ? `S${ids[0]}-S${ids[ids.length - 1]}` : ids.map((i) => `S${i}`).join(', '));
  log('start', `demo workspace: ${dir}`);
  log(
    'start',
    `  ${ws.stepCount} steps of project "${ws.projectId}" over the last 10 days in ${path.basename(ws.dbPath)}: ` +
      `${range(ws.failedStepIds)} failed, ${range(ws.rolledBackStepIds)} rolled back, S${ws.runningStepId} running`,
  );
  addDemoAgents(dir);
  log('start', '  and, under agents/, an LLM Orchestration, an Autonomous Software Studio and a Constellation database');
  return dir;
}

async function serveInBrowser(workspace: string): Promise<number> {
  const h = ensureHarness();
  const stateDir = path.join(cacheDir(), 'demo-session');
  fs.rmSync(stateDir, { recursive: true, force: true });
  fs.mkdirSync(stateDir, { recursive: true });

  let stopping: string | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!stopping) stopping = signal;
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);

  let session: CodeServerSession | undefined;
  try {
    session = await startCodeServer(h, {
      name: 'code-server',
      stateDir,
      workspace,
      vsixFiles: [VSIX],
      resultsDir: path.join(stateDir, 'output'),
    });
    if (stopping) return 0;
    console.log('');
    console.log(`  Step History demo running in VS Code (code-server) at:`);
    console.log('');
    console.log(`    ${session.url}`);
    console.log('');
    console.log('  Open it in a browser on this machine and click the Step History icon in the activity bar.');
    console.log(`  The extension is installed from ${path.relative(ROOT, VSIX)}; code-server's output is in ${path.join(stateDir, 'output')}.`);
    console.log('  Press Ctrl-C to stop.');
    console.log('');
    const exited = await new Promise<string | undefined>((resolve) => {
      const timer = setInterval(() => {
        const how = session!.exited();
        if (stopping || how) {
          clearInterval(timer);
          resolve(stopping ? undefined : how);
        }
      }, 200);
    });
    if (exited) {
      log('start', `code-server ${exited}; see ${path.join(stateDir, 'output', 'code-server.log')}`);
      return 1;
    }
    log('start', `${stopping}: stopping code-server`);
    return 0;
  } finally {
    await session?.stop();
    await stopAll();
    log('start', 'stopped');
  }
}

async function main(): Promise<number> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const unknown = process.argv.slice(2).filter((a) => !['--no-open', '--browser'].includes(a));
  if (unknown.length > 0) throw new Error(`unknown option ${unknown.join(' ')}\n${USAGE}`);

  if (flag('--no-open', 'STEP_HISTORY_NO_OPEN')) {
    const dir = makeWorkspace();
    // The path alone on the last line, for scripts: `npm start --silent -- --no-open | tail -1`.
    console.log(dir);
    return 0;
  }

  const code = flag('--browser', 'STEP_HISTORY_BROWSER') ? undefined : findCode();
  if (code) {
    npmRun('build');
    const workspace = makeWorkspace();
    log('start', `opening it in VS Code: ${code} --extensionDevelopmentPath=${ROOT} ${workspace}`);
    const r = spawnSync(code, [`--extensionDevelopmentPath=${ROOT}`, '--new-window', workspace], { stdio: 'inherit' });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`${code} exited with ${r.status ?? r.signal}`);
    log('start', 'VS Code opened the demo workspace in an Extension Development Host window');
    return 0;
  }
  log('start', 'desktop VS Code (`code`) is not on PATH: using VS Code in the browser (code-server)');
  npmRun('package');
  const workspace = makeWorkspace();
  return serveInBrowser(workspace);
}

main().then(
  (status) => process.exit(status),
  async (err) => {
    console.error(`start: ${(err as Error).message ?? err}`);
    await stopAll();
    process.exit(1);
  },
);
