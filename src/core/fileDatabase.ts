/**
 * Which step database answers for a file of the workspace: the LaForge database whose git
 * repository holds it (the innermost, when repositories nest), else the other systems'
 * databases whose folder holds it, which record no git commits. Blame and a file's step
 * history both ask it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isOtherSystem, type StepDatabase } from './stepDatabase';
import { SYSTEM_NAMES } from './sources/types';

export type FileDatabase =
  /** `path`: the file's path in the repository, `/`-separated. */
  | { kind: 'laforge'; database: StepDatabase; path: string }
  /** The systems (by name) whose databases cover the file; none of them records git commits. */
  | { kind: 'otherSystems'; systems: string[] };

/** The file's path inside `root`, `/`-separated, both read through their links; undefined when it is not inside. */
export async function pathInside(root: string, file: string): Promise<string | undefined> {
  const [realRoot, realFile] = await Promise.all([realPath(root), realPath(file)]);
  const relative = path.relative(realRoot, realFile);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return undefined;
  return relative.split(path.sep).join('/');
}

/**
 * The database that answers for `file`. A database not read yet is read first (which system
 * wrote it is known once read); one that cannot be read, or whose repository cannot be
 * opened, is passed over.
 */
export async function databaseForFile(databases: readonly StepDatabase[], file: string): Promise<FileDatabase | undefined> {
  let best: { database: StepDatabase; path: string; depth: number } | undefined;
  const others = new Set<string>();
  for (const database of databases) {
    if (database.source === undefined && database.state.kind !== 'error') await database.load().catch(() => undefined);
    if (database.state.kind !== 'ready') continue;
    if (isOtherSystem(database)) {
      if ((await pathInside(database.repositoryPath, file)) !== undefined) others.add(SYSTEM_NAMES[database.source!.detection.system]);
      continue;
    }
    let root: string;
    try {
      root = await realPath((await database.repository()).root);
    } catch {
      continue;
    }
    const inside = await pathInside(root, file);
    if (inside === undefined) continue;
    const depth = root.split(path.sep).length;
    if (!best || depth > best.depth) best = { database, path: inside, depth };
  }
  if (best) return { kind: 'laforge', database: best.database, path: best.path };
  return others.size > 0 ? { kind: 'otherSystems', systems: [...others] } : undefined;
}

async function realPath(p: string): Promise<string> {
  try {
    return await fs.promises.realpath(p);
  } catch {
    return path.resolve(p);
  }
}
