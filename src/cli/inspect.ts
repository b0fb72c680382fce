/**
 * `step-history inspect`: what the extension sees in a step database, as one JSON object
 * (documented in the README, `version` 1) or as a table like `laforge steps`.
 */
import type { DiscoveredDatabase } from '../core/discovery';
import { stepChangeRange } from '../core/changeRange';
import { StepCommitResolver, type StepCommitIndex } from '../core/stepCommits';
import { GitRepository, type ChangeStatus } from '../core/git';
import type { Logger } from '../core/log';
import type { Step, StepStatus } from '../core/model';
import { projectLabel } from '../core/projectKey';
import { StepStore } from '../core/stepStore';
import { safeText } from '../shared/safeText';
import { errorReport, JSON_VERSION, type ErrorReport } from './io';
import { tokenFigures, type TokenFigures } from './tokens';

export interface InspectReport {
  version: typeof JSON_VERSION;
  databases: DatabaseReport[];
}

export interface DatabaseReport {
  path: string;
  label: string;
  /** The folder whose git repository holds the steps' commits (`--repo`, project.json's repository_path, or the database's folder). */
  repository: string;
  /** Its git work tree's root; null when it is not one (see repositoryError). */
  repositoryRoot: string | null;
  repositoryError: ErrorReport | null;
  /** Which LaForge schema the table has; null when the database could not be read. */
  schema: string | null;
  /** Why the database could not be read; then `projects` is empty. */
  error: ErrorReport | null;
  projects: ProjectReport[];
}

export interface ProjectReport {
  id: string;
  label: string;
  stepCount: number;
  activeCount: number;
  /** Newest first. */
  steps: StepReport[];
}

export interface FileReport {
  status: ChangeStatus;
  path: string;
  oldPath: string | null;
}

export interface StepReport extends TokenFigures {
  id: number;
  label: string;
  status: StepStatus;
  active: boolean;
  parentStepId: number | null;
  model: string | null;
  agentConfigName: string | null;
  startTime: string | null;
  endTime: string | null;
  durationMs: number | null;
  exitCode: number | null;
  commitBefore: string | null;
  commitAfter: string | null;
  /** The files changed between the step's commits; null when there is no usable pair (changesUnavailable says why). */
  changes: { source: 'recorded' | 'note' | 'branch'; branch: string | null; notMerged: boolean; from: string; to: string; files: FileReport[] } | null;
  changesUnavailable: string | null;
  warnings: { field: string; message: string }[];
}

export interface InspectOptions {
  projectId?: string;
  /** Read the changed files from git (the JSON report); the table does without. */
  withFiles: boolean;
  wasmPath?: string;
  log: Logger;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export async function inspect(databases: readonly DiscoveredDatabase[], options: InspectOptions): Promise<InspectReport> {
  const reports: DatabaseReport[] = [];
  for (const db of databases) reports.push(await inspectOne(db, options));
  return { version: JSON_VERSION, databases: reports };
}

async function inspectOne(db: DiscoveredDatabase, options: InspectOptions): Promise<DatabaseReport> {
  const report: DatabaseReport = {
    path: db.path,
    label: db.label,
    repository: db.repositoryPath,
    repositoryRoot: null,
    repositoryError: null,
    schema: null,
    error: null,
    projects: [],
  };
  let repo: GitRepository | undefined;
  let commits: StepCommitIndex | undefined;
  try {
    repo = await GitRepository.open(db.repositoryPath, { log: options.log });
    report.repositoryRoot = repo.root;
    // Every step's own commit, in a few git processes for the whole database.
    if (options.withFiles) commits = await new StepCommitResolver(repo, options.log).index();
  } catch (err) {
    report.repositoryError = errorReport(err);
  }
  let store: StepStore;
  try {
    store = await StepStore.open(db.path, { wasmPath: options.wasmPath, log: options.log });
  } catch (err) {
    report.error = errorReport(err);
    return report;
  }
  try {
    report.schema = store.schema.variant;
    for (const project of store.projects()) {
      if (options.projectId !== undefined && project.id !== options.projectId) continue;
      const steps = store.steps(project.id, { limit: project.stepCount + 1 });
      report.projects.push({
        id: project.id,
        label: projectLabel(project.id),
        stepCount: project.stepCount,
        activeCount: project.activeCount,
        steps: await mapLimited(steps, 4, (step) => stepReport(step, repo && commits ? { repo, commits } : undefined, options)),
      });
    }
  } finally {
    store.close();
  }
  return report;
}

async function stepReport(step: Step, git: { repo: GitRepository; commits: StepCommitIndex } | undefined, options: InspectOptions): Promise<StepReport> {
  const report: StepReport = {
    id: step.id,
    label: step.label,
    status: step.status,
    active: step.active,
    parentStepId: step.parentStepId,
    model: step.agentConfig?.model ?? null,
    agentConfigName: step.agentConfigName,
    startTime: iso(step.startTime),
    endTime: iso(step.endTime),
    durationMs: step.durationMs,
    exitCode: step.exitCode,
    ...tokenFigures(step),
    commitBefore: step.commitBefore,
    commitAfter: step.commitAfter,
    changes: null,
    changesUnavailable: null,
    warnings: step.warnings.map((w) => ({ field: w.field, message: w.message })),
  };
  if (!options.withFiles) return report;
  if (!git) {
    report.changesUnavailable = 'The repository could not be opened (see repositoryError).';
    return report;
  }
  const range = stepChangeRange(step, git.commits);
  if ('unavailable' in range) {
    report.changesUnavailable = range.unavailable;
  } else {
    try {
      const files = await git.repo.changedFiles(range.from, range.to);
      report.changes = { ...range, files: files.map((f) => ({ status: f.status, path: f.path, oldPath: f.oldPath ?? null })) };
    } catch (err) {
      report.changesUnavailable = errorReport(err).message;
    }
  }
  return report;
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

// ---------------------------------------------------------------------------------------
// The table

const pad2 = (n: number) => String(n).padStart(2, '0');

/** `2006-01-02 15:04:05` in the local time zone, as `laforge steps` shows it. */
export function localTime(iso: string | null): string {
  if (!iso) return 'N/A';
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

const HEADERS = ['STEP ID', 'STATUS', 'DURATION', 'EXIT CODE', 'STARTED', 'COMMIT BEFORE'];
const WIDTHS = [8, 11, 12, 10, 20, 13];

function table(rows: string[][]): string[] {
  const widths = WIDTHS.map((w, i) => Math.max(w, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join(' ').trimEnd();
  return [line(HEADERS), line(widths.map((w, i) => '-'.repeat(i === widths.length - 1 ? HEADERS[i].length : w))), ...rows.map(line)];
}

/** The report as text: per database its repository, per project a table of its steps, newest first. Stored text escaped. */
export function inspectText(report: InspectReport): string {
  const out: string[] = [];
  for (const db of report.databases) {
    if (out.length > 0) out.push('');
    out.push(`Database ${safeText(db.path)}`);
    out.push(db.repositoryRoot ? `Repository ${safeText(db.repositoryRoot)}` : `Repository ${safeText(db.repository)}: ${safeText(db.repositoryError?.message ?? 'not a git work tree.')}`);
    if (db.error) {
      out.push(`Not read: ${safeText(db.error.message)}`);
      continue;
    }
    if (db.projects.length === 0) out.push('No steps.');
    for (const project of db.projects) {
      out.push('', `Steps for project '${safeText(project.label)}' (${project.stepCount} steps, ${project.activeCount} active):`);
      out.push(
        ...table(
          project.steps.map((s) => [
            s.label,
            s.status,
            s.durationMs !== null && s.durationMs > 0 ? `${s.durationMs}ms` : 'N/A',
            s.exitCode !== null ? String(s.exitCode) : 'N/A',
            localTime(s.startTime),
            s.commitBefore ? s.commitBefore.slice(0, 8) : 'N/A',
          ]),
        ),
      );
      for (const s of project.steps) for (const w of s.warnings) out.push(`${s.label}: ${safeText(w.message)}`);
    }
  }
  return out.join('\n') + '\n';
}
