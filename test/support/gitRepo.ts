/**
 * Real repositories in temp folders for unit tests, built by running git: a repository with a
 * fixed identity and no system config, files written and committed, and every folder made
 * removed by `removeRepositories()`.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const tempDirs: string[] = [];

/** The environment for the test's own git calls: no GIT_* leaking in from a hook, C locale. */
export const helperEnv: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toUpperCase().startsWith('GIT_')));
helperEnv.LC_ALL = 'C';
helperEnv.GIT_CONFIG_NOSYSTEM = '1';

export function makeTempDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `step-history-git-${label}-`));
  tempDirs.push(dir);
  return dir;
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: helperEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
}

export function makeRepo(label: string): string {
  const dir = makeTempDir(label);
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'config', 'user.name', 'Step History Tests');
  git(dir, 'config', 'user.email', 'tests@example.com');
  git(dir, 'config', 'commit.gpgsign', 'false');
  git(dir, 'config', 'core.autocrlf', 'false');
  return dir;
}

export function write(dir: string, file: string, content: string | Buffer): void {
  const full = path.join(dir, file);
  fs.mkdirSync(path.dirname(full), { recursive: true });
  fs.writeFileSync(full, content);
}

export function commitAll(dir: string, message: string): string {
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '--allow-empty', '-m', message);
  return git(dir, 'rev-parse', 'HEAD').trim();
}

/** Writes `files` on `branch`, made from HEAD, and commits them there; back on `back` after. Returns the commit. */
export function commitOnBranch(dir: string, branch: string, files: Record<string, string>, message: string, back = 'main'): string {
  git(dir, 'checkout', '-q', '-b', branch);
  for (const [file, content] of Object.entries(files)) write(dir, file, content);
  const commit = commitAll(dir, message);
  git(dir, 'checkout', '-q', back);
  return commit;
}

/** Removes every folder the helpers made. */
export function removeRepositories(): void {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}
