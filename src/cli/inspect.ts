/**
 * `step-history inspect`: what the extension sees in a database, as one JSON object
 * (documented in the README, `version` 1) or as text: a LaForge step database as a table like
 * `laforge steps`, another system's database as its tree, level by level.
 */
import type { DiscoveredDatabase } from '../core/discovery';
import { stepChangeRange } from '../core/changeRange';
import { StepCommitResolver, type StepCommitIndex } from '../core/stepCommits';
import { GitRepository, type ChangeStatus } from '../core/git';
import type { Logger } from '../core/log';
import type { Step, StepStatus } from '../core/model';
import { projectLabel } from '../core/projectKey';
import { openSource, type OpenedHistory } from '../core/sources/openSource';
import { SYSTEM_NAMES, type ChangeItem, type HistorySource, type HistoryNode, type LevelInfo, type NodeRef, type NodeStatus, type SystemId } from '../core/sources/types';
import { safeText } from '../shared/safeText';
import { errorReport, JSON_VERSION, type ErrorReport } from './io';
import { tokenFigures, type TokenFigures } from './tokens';
import { formatCost, formatDuration, NOT_RECORDED, nodeTokensText, shortHash } from '../core/figures';

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
  /** Which LaForge schema the table has; null when the database could not be read or is another system's. */
  schema: string | null;
  /** Which system wrote the database, and which kind of its files it is; null when it could not be read. */
  system: SystemId | null;
  variant: string | null;
  /** The levels of its tree, top down (a LaForge database: project, step); null when it could not be read. */
  levels: LevelInfo[] | null;
  /** Why the database could not be read; then `projects` is empty and `nodes` null. */
  error: ErrorReport | null;
  /** A LaForge database's projects; empty for another system's. */
  projects: ProjectReport[];
  /** Another system's database: how many nodes its top level has, and those listed (at most --limit); null for LaForge's. */
  nodeCount: number | null;
  nodes: NodeReport[] | null;
}

/** A node of another system's tree: a container (a workflow, a session, an agent…) or a step. */
export interface NodeReport {
  ref: NodeRef;
  level: string;
  label: string;
  description: string | null;
  status: NodeStatus;
  rawStatus: string | null;
  isStep: boolean;
  start: string | null;
  end: string | null;
  durationMs: number | null;
  tokens: { prompt: number | null; completion: number | null; total: number | null } | null;
  costUsd: number | null;
  model: string | null;
  warnings: string[];
  /** What a step changed; empty for a container. */
  changes: ChangeReport[];
  /** How many children the node has; `children` lists at most --limit of them. */
  childCount: number;
  children: NodeReport[];
}

export interface ChangeReport {
  status: ChangeItem['status'];
  label: string;
  path: string | null;
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
  /** A LaForge project's id: only its steps. */
  projectId?: string;
  /** Another system's tree: at most this many nodes under each node (and at the top); default all. */
  limit?: number;
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
    system: null,
    variant: null,
    levels: null,
    error: null,
    projects: [],
    nodeCount: null,
    nodes: null,
  };
  let opened: OpenedHistory | undefined;
  let failure: unknown;
  try {
    opened = await openSource(db.path, { wasmPath: options.wasmPath, log: options.log });
  } catch (err) {
    failure = err;
  }
  try {
    if (opened) {
      // Every system's tree, LaForge's too, as its adapter gives it.
      report.system = opened.detection.system;
      report.variant = opened.detection.variant;
      report.levels = opened.source.levels.map((l) => ({ ...l }));
      try {
        report.nodeCount = opened.source.count(null);
        report.nodes = nodeReports(opened.source, null, options.limit);
      } catch (err) {
        report.nodeCount = null;
        report.nodes = null;
        report.error = errorReport(err);
        return report;
      }
      // Another system's changes are stored in its database, not in git.
      if (!opened.store) return report;
    }
    let repo: GitRepository | undefined;
    let commits: StepCommitIndex | undefined;
    try {
      repo = await GitRepository.open(db.repositoryPath, { log: options.log });
      report.repositoryRoot = repo.root;
      // Every step's own commit, in a few git processes for the whole database.
      if (options.withFiles && opened) commits = await new StepCommitResolver(repo, options.log).index();
    } catch (err) {
      report.repositoryError = errorReport(err);
    }
    if (!opened) {
      report.error = errorReport(failure);
      return report;
    }
    const store = opened.store!;
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
    opened?.close();
  }
  return report;
}

/** The nodes under `parent`, each with its changes and its own children, at most `limit` per level. */
function nodeReports(source: HistorySource, parent: NodeRef | null, limit: number | undefined, depth = 0): NodeReport[] {
  const count = source.count(parent);
  const nodes = source.children(parent, { limit: limit === undefined ? count : Math.min(limit, count) });
  return nodes.map((node) => nodeReport(source, node, limit, depth));
}

/** Deeper than any system's tree: a guard against a cycle in stored parent links. */
const MAX_DEPTH = 32;

function nodeReport(source: HistorySource, node: HistoryNode, limit: number | undefined, depth: number): NodeReport {
  const m = node.metrics;
  const childCount = node.hasChildren ? source.count(node.ref) : 0;
  return {
    ref: node.ref,
    level: node.level,
    label: node.label,
    description: node.description ?? null,
    status: node.status,
    rawStatus: node.rawStatus,
    isStep: node.isStep,
    start: iso(m.start),
    end: iso(m.end),
    durationMs: m.durationMs,
    tokens: m.tokens ? { prompt: m.tokens.prompt, completion: m.tokens.completion, total: m.tokens.total } : null,
    costUsd: m.costUsd,
    model: m.model,
    warnings: [...node.warnings],
    changes: node.isStep ? source.changes(node.ref).map((c) => ({ status: c.status, label: c.label, path: c.path ?? null })) : [],
    childCount,
    children: childCount > 0 && depth < MAX_DEPTH ? nodeReports(source, node.ref, limit, depth + 1) : [],
  };
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

/** How many nodes and changes the text lists under each node, unless --limit says otherwise. */
export const TEXT_LIMIT = 20;

/**
 * The report as text: per database the system that wrote it; for LaForge's, its repository
 * and per project a table of its steps, newest first; for another system's, its tree level by
 * level, each step with its changes. Stored text escaped.
 */
export function inspectText(report: InspectReport, limit = TEXT_LIMIT): string {
  const out: string[] = [];
  for (const db of report.databases) {
    if (out.length > 0) out.push('');
    out.push(`Database ${safeText(db.path)}`);
    if (db.system) out.push(`System ${SYSTEM_NAMES[db.system]} (${safeText(db.variant ?? '')})`);
    if (db.system && db.system !== 'laforge') {
      nodesText(db, limit, out);
      continue;
    }
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
            // Eight hex digits, as `laforge steps` prints them.
            s.commitBefore ? shortHash(s.commitBefore, 8) : 'N/A',
          ]),
        ),
      );
      for (const s of project.steps) for (const w of s.warnings) out.push(`${s.label}: ${safeText(w.message)}`);
    }
  }
  return out.join('\n') + '\n';
}

const plural = (n: number, level: LevelInfo | undefined, fallback: string) => (n === 1 ? (level?.singular ?? fallback) : (level?.plural ?? `${fallback}s`));

function nodesText(db: DatabaseReport, limit: number, out: string[]): void {
  const levels = db.levels ?? [];
  if (levels.length > 0) out.push(`Levels ${levels.map((l) => l.singular).join(' → ')}`);
  if (db.error) {
    out.push(`Not read: ${safeText(db.error.message)}`);
    return;
  }
  const nodes = db.nodes ?? [];
  const total = db.nodeCount ?? nodes.length;
  const top = levels[0];
  out.push(`${total} ${plural(total, top, 'node')}${total > limit ? `, the newest ${limit} shown` : ''}:`);
  if (total === 0) return;
  const levelOf = (key: string) => levels.find((l) => l.key === key);
  const walk = (list: NodeReport[], count: number, depth: number) => {
    const indent = '  '.repeat(depth + 1);
    for (const node of list.slice(0, limit)) {
      out.push(`${indent}${nodeLine(node, levelOf(node.level))}`);
      const inner = indent + '  ';
      for (const w of node.warnings) out.push(`${inner}! ${safeText(w)}`);
      if (node.isStep) {
        if (node.changes.length === 0) out.push(`${inner}no changes`);
        for (const c of node.changes.slice(0, limit)) out.push(`${inner}${c.status.padEnd(8)} ${safeText(c.path && !c.label.includes(c.path) ? `${c.label} (${c.path})` : c.label)}`);
        if (node.changes.length > limit) out.push(`${inner}… ${node.changes.length - limit} more ${node.changes.length - limit === 1 ? 'change' : 'changes'}`);
      }
      if (node.childCount > 0) walk(node.children, node.childCount, depth + 1);
    }
    const shown = Math.min(list.length, limit);
    if (count > shown) {
      const more = count - shown;
      out.push(`${indent}… ${more} more ${plural(more, list[0] ? levelOf(list[0].level) : undefined, 'node')}`);
    }
  };
  walk(nodes, total, 0);
}

const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** `Run 'Run 3'  completed  started … duration …ms  tokens 388 (329 prompt, 59 completion)  cost $0.0094`. */
function nodeLine(node: NodeReport, level: LevelInfo | undefined): string {
  // Each figure as the editor writes it (core/figures.ts); "not recorded" where none was.
  return [
    `${capitalized(level?.singular ?? node.level)} '${safeText(node.label)}'`,
    node.status,
    `started ${node.start ? localTime(node.start) : NOT_RECORDED}`,
    `duration ${node.durationMs !== null ? formatDuration(node.durationMs) : NOT_RECORDED}`,
    `tokens ${nodeTokensText(node.tokens)}`,
    `cost ${node.costUsd !== null ? formatCost(node.costUsd) : NOT_RECORDED}`,
  ].join('  ');
}
