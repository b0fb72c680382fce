/**
 * Which databases a PATH on the command line means, and the repository of each: a file,
 * whatever its name (with a LaForge project's `project.json` beside it, its
 * `repository_path`), a LaForge project folder, or a folder to discover in as the editor does
 * (the default patterns that look inside a folder: `**\/steps.db`, `**\/data/orchestrator.db`,
 * `**\/data/llm_orchestration.db`; and the LaForge projects whose `repository_path` is that folder).
 */
import * as fs from 'fs';
import * as path from 'path';
import { discoverDatabases, FOLDER_DATABASE_PATTERNS, type DiscoveredDatabase } from '../core/discovery';
import type { Logger } from '../core/log';
import { failures } from '../core/messages';

export interface LocateOptions {
  /** Overrides every database's repository. */
  repo?: string;
  home?: string;
  log: Logger;
}

export async function locateDatabases(given: string, options: LocateOptions): Promise<DiscoveredDatabase[]> {
  const target = path.resolve(given);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch {
    throw failures.nothingAt({ target });
  }
  let found: DiscoveredDatabase[];
  const projectDatabase = path.join(target, 'steps.db');
  if (stat.isFile()) {
    found = await discoverDatabases({ folders: [], added: [target], home: options.home, log: options.log });
  } else if (fs.existsSync(path.join(target, 'project.json')) && fs.existsSync(projectDatabase)) {
    found = await discoverDatabases({ folders: [], added: [projectDatabase], home: options.home, log: options.log });
  } else {
    found = await discoverDatabases({
      folders: [{ path: target, patterns: FOLDER_DATABASE_PATTERNS, laforgeProjects: true }],
      home: options.home,
      log: options.log,
    });
  }
  if (found.length === 0) {
    throw failures.noDatabaseIn({ target }, `looked for ${FOLDER_DATABASE_PATTERNS.join(', ')} and LaForge projects whose repository_path is this folder`);
  }
  const repo = options.repo;
  return repo ? found.map((d) => ({ ...d, repositoryPath: path.resolve(repo) })) : found;
}
