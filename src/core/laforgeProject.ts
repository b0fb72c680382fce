/**
 * A LaForge project folder's `project.json` (`~/.laforge/projects/<id>/project.json`, beside
 * its `steps.db`): `id`, `name`, `description`, `repository_path`, `main_branch`, `created_at`,
 * `updated_at`. The one reader of it, for discovery and for rollback.
 */
import * as fs from 'fs';
import * as path from 'path';
import { silentLogger, type Logger } from './log';

export interface LaforgeProject {
  /** The project.json read. */
  file: string;
  id?: string;
  name?: string;
  repositoryPath: string;
  /** The branch LaForge merges its steps into. */
  mainBranch?: string;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value : undefined);

/**
 * The project.json at `file`: undefined when there is none (not a project folder), or, with
 * one log line, when its JSON is broken or it names no repository.
 */
export async function readLaforgeProject(file: string, log: Logger = silentLogger): Promise<LaforgeProject | undefined> {
  let raw: string;
  try {
    raw = await fs.promises.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  let json: Record<string, unknown> | null;
  try {
    const parsed: unknown = JSON.parse(raw);
    json = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch (err) {
    log.warn(`LaForge project ${file} skipped: its JSON cannot be read (${err instanceof Error ? err.message : err}).`);
    return undefined;
  }
  const repositoryPath = text(json?.repository_path);
  if (!json || repositoryPath === undefined) {
    log.warn(`LaForge project ${file} skipped: it has no repository_path.`);
    return undefined;
  }
  const project: LaforgeProject = { file, repositoryPath };
  const id = text(json.id);
  const name = text(json.name);
  const mainBranch = text(json.main_branch);
  if (id) project.id = id;
  if (name) project.name = name;
  if (mainBranch) project.mainBranch = mainBranch;
  return project;
}

/** The project.json beside a step database, when the database is a LaForge project's. */
export function laforgeProjectOf(dbPath: string, log: Logger = silentLogger): Promise<LaforgeProject | undefined> {
  return readLaforgeProject(path.join(path.dirname(dbPath), 'project.json'), log);
}

/**
 * The name project.json gives each project of its database: the project whose id is
 * project.json's `id`, or, when the database holds one project, that project. Keyed by project
 * id; empty when there is no project.json or it has no name.
 */
export function laforgeProjectNames(project: Pick<LaforgeProject, 'id' | 'name'> | undefined, projectIds: readonly string[]): Map<string, string> {
  const names = new Map<string, string>();
  if (!project?.name) return names;
  if (project.id !== undefined && projectIds.includes(project.id)) names.set(project.id, project.name);
  else if (projectIds.length === 1) names.set(projectIds[0], project.name);
  return names;
}
