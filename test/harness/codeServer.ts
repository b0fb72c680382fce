/**
 * One code-server session: its own user-data and extensions folders, extensions installed from
 * VSIX files, the server on a free loopback port, and its logs copied out when it stops.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';
import { log } from './log';
import { stop, track } from './processes';
import { Harness, withoutNpmVariables } from './setup';

export interface CodeServerSession {
  name: string;
  url: string;
  workspace: string;
  /** Stops the server (its whole process group) and copies its logs into `resultsDir`. */
  stop(): Promise<void>;
  /** Set once the server has exited, with how. */
  exited(): string | undefined;
  /** The last `lines` lines of Step History's own log (its output channel), for a failure report. */
  extensionLog(lines: number): string;
}

export interface SessionOptions {
  name: string;
  /** A temporary folder for this session's state; removed by the caller. */
  stateDir: string;
  workspace: string;
  vsixFiles: string[];
  /** Where the server's output and its logs folder are kept (test-results/...). */
  resultsDir: string;
  env?: Record<string, string>;
  /** Open the workspace in Restricted Mode (workspace trust on, the folder not trusted). */
  restricted?: boolean;
  /** User settings beyond the harness's own (a colour theme). */
  settings?: Record<string, unknown>;
}

/** Settings that keep the workbench quiet and predictable for tests and screenshots. */
const USER_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  'security.workspace.trust.enabled': false,
  'window.restoreWindows': 'none',
  // No chat in the secondary side bar: it needs the network and crowds the screenshots.
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.disableAIFeatures': true,
};

export async function startCodeServer(h: Harness, opts: SessionOptions): Promise<CodeServerSession> {
  const userDataDir = path.join(opts.stateDir, 'user-data');
  const extensionsDir = path.join(opts.stateDir, 'extensions');
  const home = path.join(opts.stateDir, 'home');
  for (const dir of [userDataDir, extensionsDir, home, opts.resultsDir]) fs.mkdirSync(dir, { recursive: true });
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  // Restricted Mode: trust on, no prompt (it would cover the window), the folder left untrusted.
  const settings = {
    ...USER_SETTINGS,
    ...(opts.restricted ? { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never' } : {}),
    ...opts.settings,
  };
  fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  const configFile = path.join(opts.stateDir, 'code-server.yaml');
  fs.writeFileSync(configFile, '# Options are on the command line; a config file of its own keeps ~/.config/code-server untouched.\nauth: none\n');

  // code-server keeps its config, data and heartbeat under XDG folders; keep them in the session.
  const env: NodeJS.ProcessEnv = {
    ...withoutNpmVariables(process.env),
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    // Step History's rollback journals (core/stateDir.ts) stay in the session too.
    XDG_STATE_HOME: path.join(home, '.local', 'state'),
    ...opts.env,
  };
  const common = ['--config', configFile, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

  for (const vsix of opts.vsixFiles) {
    const r = spawnSync(h.node24, [h.codeServerEntry, ...common, '--install-extension', vsix], { env, encoding: 'utf8', timeout: 120_000 });
    const output = `${r.stdout}${r.stderr}`.trim();
    if (r.status !== 0 || !/successfully installed/i.test(output)) {
      throw new Error(`[${opts.name}] installing ${path.basename(vsix)} failed (exit ${r.status ?? r.signal}):\n${output}`);
    }
    log(opts.name, `installed ${path.basename(vsix)}`);
  }

  const port = await freeLoopbackPort();
  const outputFile = path.join(opts.resultsDir, 'code-server.log');
  const out = fs.openSync(outputFile, 'w');
  const child = spawn(
    h.node24,
    [h.codeServerEntry, ...common, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry',
      '--disable-update-check', ...(opts.restricted ? [] : ['--disable-workspace-trust']), '--disable-getting-started-override', opts.workspace],
    { env, detached: true, stdio: ['ignore', out, out] },
  );
  fs.closeSync(out);
  track(child);
  let exitedHow: string | undefined;
  child.once('exit', (code, signal) => (exitedHow = signal ? `killed by ${signal}` : `exited with ${code}`));

  const session: CodeServerSession = {
    name: opts.name,
    url: `http://127.0.0.1:${port}/?folder=${encodeURIComponent(opts.workspace)}`,
    workspace: opts.workspace,
    exited: () => exitedHow,
    extensionLog: (lines) => {
      const file = findFile(path.join(userDataDir, 'logs'), 'Step History.log');
      return file ? tail(file, lines) : '(no Step History log)';
    },
    async stop() {
      await stop(child);
      copyLogs(userDataDir, opts.resultsDir);
    },
  };
  try {
    await waitUntilServing(`http://127.0.0.1:${port}/healthz`, 60_000, () => exitedHow);
  } catch (err) {
    await session.stop();
    throw new Error(`[${opts.name}] ${(err as Error).message}; see ${outputFile}:\n${tail(outputFile, 20)}`);
  }
  log(opts.name, `code-server ${child.pid} serving on 127.0.0.1:${port}`);
  return session;
}

/** code-server's logs folder (remote agent, extension host, ...) for the test results. */
function copyLogs(userDataDir: string, resultsDir: string): void {
  const logs = path.join(userDataDir, 'logs');
  if (fs.existsSync(logs)) fs.cpSync(logs, path.join(resultsDir, 'logs'), { recursive: true });
}

/** The first file named `name` under `dir`, depth first. */
function findFile(dir: string, name: string): string | undefined {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isFile() && e.name === name) return full;
    if (e.isDirectory()) {
      const found = findFile(full, name);
      if (found) return found;
    }
  }
  return undefined;
}

export function tail(file: string, lines: number): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Asks the OS for a free port on 127.0.0.1. Another process could take it before code-server binds; then start fails loudly. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilServing(url: string, timeoutMs: number, exited: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const how = exited();
    if (how) throw new Error(`code-server ${how} before serving`);
    if (await httpOk(url)) return;
    if (Date.now() > deadline) throw new Error(`code-server did not answer ${url} within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function httpOk(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}
