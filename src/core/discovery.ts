/**
 * Finds the step databases of a workspace: the files the `stepHistory.databases` patterns
 * match in each workspace folder (or anywhere, for absolute and `~` patterns), and the
 * LaForge projects kept under `~/.laforge/projects/*` whose `project.json` names a
 * workspace folder as its `repository_path`.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import picomatch = require('picomatch');
// A require, so bundlers take the CommonJS builds: fdir's ESM build needs import.meta.url.
import tinyglobby = require('tinyglobby');
import { Logger, silentLogger } from './log';
import { readLaforgeProject } from './laforgeProject';

export interface DiscoveryFolder {
  /** The workspace folder's absolute path. */
  path: string;
  /** `stepHistory.databases` as read for this folder. */
  patterns: readonly string[];
  /** `stepHistory.laforgeProjects` as read for this folder. */
  laforgeProjects: boolean;
}

export interface DiscoveryOptions {
  folders: readonly DiscoveryFolder[];
  /** With no workspace folder: only absolute and `~` patterns mean anything. */
  patternsWithoutFolder?: readonly string[];
  /** Databases the user added by path: kept while they exist, after everything discovered. */
  added?: readonly string[];
  /** The home folder for `~` and `~/.laforge`; defaults to os.homedir(). */
  home?: string;
  log?: Logger;
}

export interface DiscoveredDatabase {
  /** The database file's absolute path, as found (not resolved through symlinks). */
  path: string;
  /** The workspace folder it belongs to: the one it lies in, or whose setting or LaForge project named it. */
  workspaceFolder: string | undefined;
  /** The folder whose git repository holds the steps' commits. */
  repositoryPath: string;
  /** Workspace-relative path, `~/…` under the home folder, or the absolute path. */
  label: string;
  source: 'pattern' | 'laforge' | 'added';
}

/**
 * Where each system keeps its database, as package.json's default for stepHistory.databases
 * says: LaForge's steps.db, Autonomous Software Studio's data/orchestrator.db, LLM
 * Orchestration's data/llm_orchestration.db (relative to a folder), and Constellation's file
 * in the home folder.
 */
export const DEFAULT_DATABASE_PATTERNS: readonly string[] = ['**/steps.db', '**/data/orchestrator.db', '**/data/llm_orchestration.db', '~/.constellation/constellation.db'];

/** The default patterns that look inside a folder (not the absolute and `~` ones). */
export const FOLDER_DATABASE_PATTERNS: readonly string[] = DEFAULT_DATABASE_PATTERNS.filter((p) => !p.startsWith('~') && !p.startsWith('/'));

/** Skipped under every pattern: dependencies and git's own files never hold a step database. */
const IGNORED = ['**/node_modules/**', '**/.git/**'];

export async function discoverDatabases(options: DiscoveryOptions): Promise<DiscoveredDatabase[]> {
  const log = options.log ?? silentLogger;
  const home = options.home ?? os.homedir();
  const found: DiscoveredDatabase[] = [];
  const seen = new Set<string>();
  const add = async (db: Omit<DiscoveredDatabase, 'label'>, folder: string | undefined) => {
    const key = await realPath(db.path);
    if (seen.has(key)) return;
    seen.add(key);
    found.push({ ...db, label: labelFor(db.path, folder, home) });
  };

  for (const folder of options.folders) {
    for (const pattern of folder.patterns) {
      for (const file of await matchPattern(pattern, folder.path, home, log)) {
        const inside = isInside(file, folder.path) ? folder.path : options.folders.find((f) => isInside(file, f.path))?.path;
        const owner = inside ?? folder.path;
        await add({ path: file, workspaceFolder: owner, repositoryPath: owner, source: 'pattern' }, inside);
      }
    }
  }
  for (const pattern of options.patternsWithoutFolder ?? []) {
    for (const file of await matchPattern(pattern, undefined, home, log)) {
      await add({ path: file, workspaceFolder: undefined, repositoryPath: path.dirname(file), source: 'pattern' }, undefined);
    }
  }

  const laforgeFolders = options.folders.filter((f) => f.laforgeProjects);
  if (laforgeFolders.length > 0) {
    for (const project of await laforgeProjects(home, log)) {
      for (const folder of laforgeFolders) {
        if (project.repositoryRealPath !== (await realPath(folder.path))) continue;
        await add({ path: project.database, workspaceFolder: folder.path, repositoryPath: folder.path, source: 'laforge' }, undefined);
        break;
      }
    }
  }
  for (const file of options.added ?? []) {
    const absolute = path.resolve(expandHome(file, home));
    if (!(await isFile(absolute))) {
      log.info(`The added step database ${absolute} no longer exists: left out.`);
      continue;
    }
    const inside = options.folders.find((f) => isInside(absolute, f.path))?.path;
    let repositoryPath = inside ?? path.dirname(absolute);
    let workspaceFolder = inside;
    if (!inside) {
      // A LaForge project's database belongs to the repository its project.json names.
      const project = await readProjectJson(path.join(path.dirname(absolute), 'project.json'), log);
      if (project) {
        repositoryPath = path.resolve(expandHome(project, home));
        const real = await realPath(repositoryPath);
        for (const f of options.folders) if ((await realPath(f.path)) === real) workspaceFolder = f.path;
      }
    }
    await add({ path: absolute, workspaceFolder, repositoryPath, source: 'added' }, inside);
  }
  log.debug(
    `Discovery in ${options.folders.length} folder(s): ${found.length} database(s)` +
      (found.length ? `: ${found.map((d) => `${d.path} (${d.source}, repository ${d.repositoryPath})`).join('; ')}` : '.'),
  );
  return found;
}

export function expandHome(pattern: string, home: string): string {
  if (pattern === '~') return home;
  if (pattern.startsWith('~/') || pattern.startsWith('~\\')) return path.join(home, pattern.slice(2));
  return pattern;
}

/** Files matching one pattern: a path or a glob, relative to `folder` or absolute. */
async function matchPattern(raw: string, folder: string | undefined, home: string, log: Logger): Promise<string[]> {
  const pattern = expandHome(raw.trim(), home);
  if (!pattern) return [];
  if (!path.isAbsolute(pattern) && folder === undefined) {
    log.debug(`Pattern "${raw}" is relative and there is no workspace folder: skipped.`);
    return [];
  }
  const absolute = path.isAbsolute(pattern) ? pattern : path.join(folder!, pattern);
  const { base, glob: rest, isGlob } = picomatch.scan(absolute.split(path.sep).join('/'));
  if (!isGlob) return (await isFile(absolute)) ? [path.normalize(absolute)] : [];
  const cwd = base || '/';
  if (!(await isDirectory(cwd))) return [];
  try {
    const files = await tinyglobby.glob(rest, { cwd, absolute: true, dot: true, ignore: IGNORED, expandDirectories: false, onlyFiles: true });
    return files.map((f) => path.normalize(f)).sort(shallowFirst);
  } catch (err) {
    log.warn(`Pattern "${raw}" could not be searched in ${cwd}: ${err instanceof Error ? err.message : String(err)}`);
    return [];
  }
}

interface LaforgeProject {
  database: string;
  repositoryRealPath: string;
}

/** `~/.laforge/projects/<name>/` with a readable project.json and a steps.db. */
async function laforgeProjects(home: string, log: Logger): Promise<LaforgeProject[]> {
  const root = path.join(home, '.laforge', 'projects');
  let names: string[];
  try {
    names = (await fs.promises.readdir(root)).sort();
  } catch {
    return [];
  }
  const projects: LaforgeProject[] = [];
  for (const name of names) {
    const dir = path.join(root, name);
    const repository = await readProjectJson(path.join(dir, 'project.json'), log);
    if (repository === undefined) continue;
    const database = path.join(dir, 'steps.db');
    if (!(await isFile(database))) {
      log.debug(`LaForge project ${dir} has no steps.db yet: skipped.`);
      continue;
    }
    projects.push({ database, repositoryRealPath: await realPath(path.resolve(expandHome(repository, home))) });
  }
  return projects;
}

/** Shallow paths first, so a file also reached through a symlinked folder keeps its shortest path. */
function shallowFirst(a: string, b: string): number {
  const depth = (p: string) => p.split(path.sep).length;
  return depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** A LaForge project.json's repository_path; undefined, with a log line if it is broken, otherwise. */
async function readProjectJson(file: string, log: Logger): Promise<string | undefined> {
  return (await readLaforgeProject(file, log))?.repositoryPath;
}

function labelFor(file: string, folder: string | undefined, home: string): string {
  if (folder && isInside(file, folder)) return path.relative(folder, file).split(path.sep).join('/');
  if (isInside(file, home)) return '~/' + path.relative(home, file).split(path.sep).join('/');
  return file;
}

function isInside(file: string, folder: string): boolean {
  const rel = path.relative(folder, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

async function realPath(p: string): Promise<string> {
  try {
    return await fs.promises.realpath(p);
  } catch {
    return path.resolve(p);
  }
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await fs.promises.stat(p)).isFile();
  } catch {
    return false;
  }
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await fs.promises.stat(p)).isDirectory();
  } catch {
    return false;
  }
}
