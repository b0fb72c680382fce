/**
 * How the views write times, durations, tokens, costs, projects and step summaries. Pure
 * functions with no `vscode` import, so they are tested in plain Node. Text that comes from a
 * database goes through safeText before it reaches the user, and through escapeMarkdown (which
 * applies safeText) before it reaches a Markdown tooltip. Their words go through
 * `@vscode/l10n` (configured at activation from the editor's bundle), each phrase whole.
 */
import * as l10n from '@vscode/l10n';
import type { ChangeStatus, ChangedFile } from '../core/git';
import type { Step, StepStatus } from '../core/model';
import { notMergedText, stepCommitSummary, type StepCommit } from '../core/stepCommits';
import { projectKeyKind, projectLabel } from '../core/projectKey';
import { agentResultText, type StepLogSummary } from '../core/stepLog';
import type { ProjectSummary, StepCounters } from '../core/stepStore';
import type { DetailSection, HistoryNode, NodeStatus } from '../core/sources/types';
import type { HistoryDetailsView, HistorySectionView } from '../shared/detailsProtocol';
import { safeText } from '../shared/safeText';
import type { StepFilter } from '../core/stepDatabase';

export {
  bothTimes,
  dateTime,
  formatCost,
  formatCount,
  formatDuration,
  formatTokens,
  NOT_RECORDED,
  nodeTokensText,
  notRecorded,
  relativeTime,
  relativeTimeSpoken,
  rowTime,
  shortHash,
} from '../core/figures';
import { bothTimes, formatCost, formatDuration, formatTokens, nodeTokensText, notRecorded, relativeTimeSpoken, rowTime, shortHash } from '../core/figures';

const STATUS_WORDS: Record<StepStatus, () => string> = {
  RUNNING: () => l10n.t('running'),
  COMPLETED: () => l10n.t('completed'),
  FAILED: () => l10n.t('failed'),
  'ROLLED BACK': () => l10n.t('rolled back'),
};

export const statusWord = (status: StepStatus): string => STATUS_WORDS[status]();

/** A count as the views write it in full: `12,345`. */
const count = (n: number): string => n.toLocaleString('en-US');

/** The model a step ran with: the configuration's model, else the configuration's name. */
export const stepModel = (step: Step): string | undefined => step.agentConfig?.model ?? step.agentConfigName ?? undefined;

/** A figure read from the step's log rather than its row, marked so: `$0.42 (from the log)`. */
export const fromTheLog = (figure: string): string => l10n.t('{0} (from the log)', figure);

/** The figures a step's log adds where its row has none: its summary line (src/core/stepLog.ts). */
export type LogFigures = Pick<StepLogSummary, 'outcome' | 'reason' | 'turns' | 'durationMs' | 'costUsd'>;

/** The cost the log gives, when the row records none: `$0.42`. */
function logCostFigure(step: Step, log: LogFigures | undefined): string | undefined {
  if (step.tokenUsage && step.tokenUsage.cost > 0) return undefined;
  return log?.costUsd ? formatCost(log.costUsd) : undefined;
}

/** The same, marked: `$0.42 (from the log)`. */
function logCost(step: Step, log: LogFigures | undefined): string | undefined {
  const figure = logCostFigure(step, log);
  return figure === undefined ? undefined : fromTheLog(figure);
}

/** The agent's own time from the log, when the row has no duration. */
function logDuration(step: Step, log: LogFigures | undefined): string | undefined {
  if (step.durationMs !== null || !log?.durationMs) return undefined;
  return fromTheLog(formatDuration(log.durationMs));
}

/** `1 warning`, `3 warnings`. */
const warningCount = (n: number): string => (n === 1 ? l10n.t('1 warning') : l10n.t('{0} warnings', n));

/**
 * A step's one-line summary for the tree: `3m ago · 1m 20s · 12.3k tokens · $0.04`,
 * prefixed `rolled back ·` when rolled back. Tokens and cost are left out when the row records
 * none (LaForge today records none for any step); the log's cost stands in, marked.
 */
export function stepDescription(step: Step, now: Date = new Date(), log?: LogFigures): string {
  const parts: string[] = [];
  if (step.status === 'ROLLED BACK') parts.push(l10n.t('rolled back'));
  parts.push(step.startTime ? rowTime(step.startTime, now) : l10n.t('no start time'));
  if (step.status === 'RUNNING') parts.push(l10n.t('running'));
  else if (step.durationMs !== null) parts.push(formatDuration(step.durationMs));
  else {
    const fromLog = logDuration(step, log);
    if (fromLog) parts.push(fromLog);
  }
  const usage = step.tokenUsage;
  if (usage && usage.totalTokens > 0) parts.push(formatTokens(usage.totalTokens));
  if (usage && usage.cost > 0) parts.push(formatCost(usage.cost));
  const cost = logCost(step, log);
  if (cost) parts.push(cost);
  return parts.join(' · ');
}

/** The longest title a label shows; the whole line stays in the tooltip and the details. */
const TITLE_MAX = 100;
/** The message LaForge commits with when the agent wrote no COMMIT.md: it says nothing of the step. */
const LAFORGE_DEFAULT_MESSAGE = /^LaForge step S\d+ - Automated changes$/;

const firstLine = (text: string | null | undefined): string | undefined => {
  const line = text?.replace(/\r\n?/g, '\n').split('\n').find((l) => l.trim() !== '')?.trim();
  return line ? line : undefined;
};

/**
 * What a step did, in a line: the first line of its own commit's message (for LaForge,
 * COMMIT.md's first line), else, when it made no commit or committed with LaForge's default
 * message, the first line of its log's final message. Undefined when neither says anything.
 * Made safe for display (safeText); not yet shortened (see stepLabel).
 */
export function stepTitle(subject: string | null | undefined, finalMessage?: string | null): string | undefined {
  const own = firstLine(subject);
  const line = titleNeedsLog(subject) ? (firstLine(finalMessage) ?? own) : own;
  return line === undefined ? undefined : safeText(line);
}

/** Whether stepTitle would take the log's final message over this commit subject. */
export function titleNeedsLog(subject: string | null | undefined): boolean {
  const own = firstLine(subject);
  return own === undefined || LAFORGE_DEFAULT_MESSAGE.test(own);
}

/** A step's label: `S12 · Add CSV import`, the title cut at TITLE_MAX characters; `S12` without one. */
export function stepLabel(step: Pick<Step, 'label'>, title: string | undefined): string {
  if (!title) return step.label;
  const shown = [...title].length > TITLE_MAX ? `${[...title].slice(0, TITLE_MAX - 1).join('')}…` : title;
  return `${step.label} · ${shown}`;
}

/** What a screen reader says for a step item: `S12, completed, 3 minutes ago, took 1m 20s, 12,345 tokens, $0.04`. */
export function stepAccessibilityLabel(step: Step, now: Date = new Date(), log?: LogFigures, title?: string): string {
  const parts = [step.label, ...(title ? [title] : []), statusWord(step.status)];
  if (step.startTime) parts.push(l10n.t('started {0}', relativeTimeSpoken(step.startTime, now)));
  if (step.status !== 'RUNNING' && step.durationMs !== null) parts.push(l10n.t('took {0}', formatDuration(step.durationMs)));
  const usage = step.tokenUsage;
  if (!usage) parts.push(l10n.t('tokens not recorded'));
  if (usage && usage.totalTokens > 0) parts.push(l10n.t('{0} tokens', count(usage.totalTokens)));
  if (usage && usage.cost > 0) parts.push(l10n.t('cost {0}', formatCost(usage.cost)));
  const cost = logCostFigure(step, log);
  if (cost) parts.push(l10n.t('cost {0} from the log', cost));
  if (step.warnings.length) parts.push(warningCount(step.warnings.length));
  return parts.join(', ');
}

/** A step's token usage for a tooltip: `12,345 (12,000 prompt, 345 completion) · $0.04`, or `not recorded`. */
export function tokenUsageText(step: Step): string {
  const usage = step.tokenUsage;
  if (!usage) return notRecorded();
  return l10n.t('{0} ({1} prompt, {2} completion) · {3}', count(usage.totalTokens), count(usage.promptTokens), count(usage.completionTokens), formatCost(usage.cost));
}

/** What the logs add to a project's totals: the cost of the steps whose row records none. */
export interface LogCostTotals {
  steps: number;
  cost: number;
}

/**
 * A project's cost: `$3.20, cost of 12 of 29 steps (5 from their logs)`, `$4.10, cost of all
 * 3 steps`, or `cost not recorded for any of the 29 steps`. Steps whose row records no
 * usage are counted apart, never as $0.
 */
export function costTotalText(totals: Pick<StepCounters, 'steps' | 'usageSteps' | 'cost'>, logs: LogCostTotals = { steps: 0, cost: 0 }): string {
  const counted = totals.usageSteps + logs.steps;
  if (counted === 0) {
    return totals.steps === 1 ? l10n.t('cost not recorded for the step') : l10n.t('cost not recorded for any of the {0} steps', count(totals.steps));
  }
  const cost = formatCost(totals.cost + logs.cost);
  const [all, one] = [counted === totals.steps, totals.steps === 1];
  const [n, of] = [count(counted), count(totals.steps)];
  // Each sentence whole: which steps the cost covers, then how many of them only their logs gave.
  if (logs.steps === 0) {
    if (all) return counted === 1 ? l10n.t('{0}, cost of the step', cost) : l10n.t('{0}, cost of all {1} steps', cost, n);
    return one ? l10n.t('{0}, cost of {1} of 1 step', cost, n) : l10n.t('{0}, cost of {1} of {2} steps', cost, n, of);
  }
  if (logs.steps === counted) {
    if (all) return counted === 1 ? l10n.t('{0}, cost of the step (from their logs)', cost) : l10n.t('{0}, cost of all {1} steps (from their logs)', cost, n);
    return one ? l10n.t('{0}, cost of {1} of 1 step (from their logs)', cost, n) : l10n.t('{0}, cost of {1} of {2} steps (from their logs)', cost, n, of);
  }
  // Some but not all from their logs: more than one step is counted.
  const fromLogs = count(logs.steps);
  if (all) return l10n.t('{0}, cost of all {1} steps ({2} from their logs)', cost, n, fromLogs);
  return one ? l10n.t('{0}, cost of {1} of 1 step ({2} from their logs)', cost, n, fromLogs) : l10n.t('{0}, cost of {1} of {2} steps ({3} from their logs)', cost, n, of, fromLogs);
}

/** A project's tokens: `1.2M tokens in 12 of 29 steps`, or `tokens not recorded`. */
export function tokenTotalText(totals: Pick<StepCounters, 'steps' | 'usageSteps' | 'totalTokens'>): string {
  if (totals.usageSteps === 0) return l10n.t('tokens not recorded');
  const tokens = formatTokens(totals.totalTokens);
  const one = totals.steps === 1;
  if (totals.usageSteps === totals.steps) return one ? l10n.t('{0} in all 1 step', tokens) : l10n.t('{0} in all {1} steps', tokens, count(totals.steps));
  return one ? l10n.t('{0} in {1} of 1 step', tokens, count(totals.usageSteps)) : l10n.t('{0} in {1} of {2} steps', tokens, count(totals.usageSteps), count(totals.steps));
}

/**
 * Escapes text so Markdown shows it literally: no emphasis, links, images, HTML or code
 * spans from a database value, and no control character (safeText). Line breaks become spaces
 * so a value stays on its line.
 */
export function escapeMarkdown(text: string): string {
  return safeText(text.replace(/\r\n|\r|\n/g, ' ')).replace(/[\\`*_{}[\]()#+\-.!|<>~&$:]/g, (c) => `\\${c}`);
}

/** A project's name as the views show it: `(no project)`, `42`, `X'0102'`, or its text, made safe. */
export const projectName = (projectId: string): string => safeText(projectLabel(projectId));

/** Why a project's name is not a text project id, or undefined when it is one. */
export function projectNote(projectId: string): string | undefined {
  switch (projectKeyKind(projectId)) {
    case 'none':
      return l10n.t('These steps have no project id.');
    case 'integer':
    case 'real':
      return l10n.t("These steps' project id is the number {0}, not text.", projectName(projectId));
    case 'blob':
      return l10n.t("These steps' project id is binary data, not text.");
    case 'text':
      return undefined;
  }
}

export interface ProjectItemText {
  label: string;
  description: string;
  tooltip: string;
  accessibilityLabel: string;
  /** Set when the project stands for rows without a text project id: the item shows a warning. */
  warning: string | undefined;
}

/**
 * What the Steps view shows for a project. `project.name` is the name its LaForge project.json
 * gives (see laforgeProjectNames); then the label is that name and the tooltip gives the id.
 */
export function projectItemText(
  project: ProjectSummary & { name?: string; shown?: number },
  database: { label: string; path: string },
  showDatabase: boolean,
  /** The project's totals, once read (the tooltip is resolved on hover). */
  totals?: { counters: StepCounters; logs: LogCostTotals },
): ProjectItemText {
  const named = project.name !== undefined && project.name.trim() !== '' ? safeText(project.name.trim()) : undefined;
  const name = named ?? projectName(project.id);
  const where = safeText(database.label);
  const one = project.stepCount === 1;
  const all = one ? l10n.t('1 step') : l10n.t('{0} steps', project.stepCount);
  // With a filter or rolled-back steps hidden, the count says how many of them are listed.
  const listed = project.shown !== undefined && project.shown !== project.stepCount ? project.shown : undefined;
  const steps = listed === undefined ? all : one ? l10n.t('{0} of 1 step', listed) : l10n.t('{0} of {1} steps', listed, project.stepCount);
  const active =
    listed === undefined
      ? one
        ? l10n.t('1 step, {0} active', project.activeCount)
        : l10n.t('{0} steps, {1} active', project.stepCount, project.activeCount)
      : one
        ? l10n.t('1 step, {0} active, {1} listed', project.activeCount, listed)
        : l10n.t('{0} steps, {1} active, {2} listed', project.stepCount, project.activeCount, listed);
  const warning = projectNote(project.id);
  return {
    label: name,
    description: showDatabase ? `${steps} · ${where}` : steps,
    tooltip: [
      name,
      ...(named !== undefined ? [l10n.t('Project id: {0}', projectName(project.id))] : []),
      ...(warning ? [warning] : []),
      active,
      ...(totals ? [capitalise(costTotalText(totals.counters, totals.logs)), capitalise(tokenTotalText(totals.counters))] : []),
      safeText(database.path),
    ].join('\n'),
    accessibilityLabel: warning ? l10n.t('Project {0}, {1}, {2}, in {3}', name, steps, warning, where) : l10n.t('Project {0}, {1}, in {2}', name, steps, where),
    warning,
  };
}

const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** A step in a quick pick: `S12 · <title>`, `completed · gpt-4o · <start>`, `<task> — <project>`. */
export function stepPickText(
  step: Step,
  context: { project: string; database?: string; title?: string },
): { label: string; description: string; detail: string } {
  const model = stepModel(step);
  // What the step was asked to do, when its configuration says, reads best as its summary.
  const task = step.agentConfig?.metadata?.task;
  const project = projectName(context.project);
  const where = context.database !== undefined ? `${project} — ${safeText(context.database)}` : project;
  return {
    label: stepLabel(step, context.title),
    description: [statusWord(step.status), model && safeText(model), step.startTime && rowTime(step.startTime)].filter(Boolean).join(' · '),
    detail: task ? `${safeText(task)} — ${where}` : where,
  };
}

/** A codicon and its theme colour, as the tree draws a node's status. */
export interface StatusIcon {
  id: string;
  color?: string;
}

/**
 * The colour of a warning icon: the one VS Code gives its own (Problems, notifications'
 * markers), which every theme sets apart from the passed check's green. `list.warningForeground`
 * is for a label's text, and in some themes (2026 Light: #667309) it is an olive close to green.
 */
export const WARNING_ICON_COLOR = 'problemsWarningIcon.foreground';

/**
 * The icon of a node by its status, any system's. A step whose row has warnings (broken JSON,
 * a bad commit value) is not drawn with the healthy check: it gets the warning icon, unless a
 * stronger state (running, failed, rolled back) says more.
 */
export function statusIcon(status: NodeStatus, isStep: boolean, warnings = 0): StatusIcon {
  switch (status) {
    case 'running':
      return { id: 'sync~spin' };
    case 'failed':
      return { id: 'error', color: 'testing.iconFailed' };
    case 'rolledBack':
      return { id: 'discard', color: 'disabledForeground' };
    default:
      break;
  }
  if (isStep && warnings > 0) return { id: 'warning', color: WARNING_ICON_COLOR };
  switch (status) {
    case 'completed':
      return isStep ? { id: 'pass', color: 'testing.iconPassed' } : { id: 'project' };
    case 'paused':
    case 'waiting':
      return { id: 'debug-pause' };
    case 'stopped':
      return { id: 'debug-stop' };
    case 'pending':
      return { id: 'clock' };
    default:
      // Not 'folder' or 'file': those take the file icon theme's icon for the resourceUri.
      return isStep ? { id: 'circle-outline' } : { id: 'project' };
  }
}

/**
 * The decoration of a step item: dimmed when rolled back, and a warning badge (coloured unless
 * dimmed) when its row has warnings. Undefined when it needs none.
 */
export function stepDecoration(rolledBack: boolean, warnings: number): { badge?: string; tooltip: string; color: string } | undefined {
  const warned = warnings > 0 ? warningCount(warnings) : undefined;
  if (rolledBack) return { badge: warned && '⚠', tooltip: warned ? l10n.t('Rolled back · {0}', warned) : l10n.t('Rolled back'), color: 'disabledForeground' };
  if (warned) return { badge: '⚠', tooltip: warned, color: 'list.warningForeground' };
  return undefined;
}


/**
 * A step's summary as Markdown for a tooltip: status, times, duration, exit code, model,
 * tokens and cost, commits and warnings. `project` is the project's key, named as the views
 * name it. Every value from the database is escaped; the result is meant for a
 * MarkdownString that is neither trusted nor allowed HTML.
 */
export function stepTooltipMarkdown(
  step: Step,
  context: { project?: string; database?: string; log?: LogFigures; commit?: StepCommit; title?: string } = {},
): string {
  const lines: string[] = [];
  const row = (name: string, value: string) => lines.push(`**${name}:** ${escapeMarkdown(value)}`);
  lines.push(`**${escapeMarkdown(step.label)}** · ${escapeMarkdown(statusWord(step.status))}`);
  if (context.title) lines.push(escapeMarkdown(context.title));
  if (context.project !== undefined) row(l10n.t('Project'), projectLabel(context.project));
  if (context.database !== undefined) row(l10n.t('Database'), context.database);
  row(l10n.t('Started'), step.startTime ? bothTimes(step.startTime) : l10n.t('unknown'));
  if (step.endTime) row(l10n.t('Ended'), bothTimes(step.endTime));
  if (step.durationMs !== null) row(l10n.t('Duration'), formatDuration(step.durationMs));
  const { log } = context;
  if (step.exitCode !== null) row(l10n.t('Exit code'), String(step.exitCode));
  const model = stepModel(step);
  if (model) row(l10n.t('Model'), model);
  if (step.agentConfigName && step.agentConfigName !== model) row(l10n.t('Configuration'), step.agentConfigName);
  row(l10n.t('Tokens'), tokenUsageText(step));
  const cost = logCost(step, log);
  if (cost) row(l10n.t('Cost'), cost);
  if (log) {
    if (log.turns !== null) row(l10n.t('Turns'), fromTheLog(String(log.turns)));
    if (log.durationMs !== null) row(l10n.t('Agent time'), fromTheLog(formatDuration(log.durationMs)));
    row(l10n.t('Agent result'), fromTheLog(agentResultText(log)));
  }
  const none = () => l10n.t({ message: 'none', comment: 'no commit' });
  row(l10n.t('Commit before'), step.commitBefore ? shortHash(step.commitBefore) : none());
  row(l10n.t('Commit after'), step.commitAfter ? shortHash(step.commitAfter) : step.status === 'RUNNING' ? l10n.t('not yet') : none());
  if (context.commit && !(step.status === 'RUNNING' && !context.commit.commit)) row(l10n.t('Step commit'), stepCommitSummary(context.commit));
  const notMerged = notMergedText(context.commit);
  if (notMerged) row(l10n.t('Branch'), notMerged);
  if (step.parentStepId !== null) row(l10n.t('Parent'), `S${step.parentStepId}`);
  for (const warning of step.warnings) lines.push(`⚠ ${escapeMarkdown(warning.message)}`);
  // Two trailing spaces: a Markdown line break, so each row stays on its own line.
  return lines.join('  \n');
}

/** `Filter: failed · gpt-4o · "login"`, or undefined when no filter is set. */
export function describeFilter(filter: StepFilter): string | undefined {
  const parts = filterWords(filter);
  return parts.length ? l10n.t('Filter: {0}', parts.join(' · ')) : undefined;
}

function filterWords(filter: StepFilter): string[] {
  const parts: string[] = [];
  if (filter.failedOnly) parts.push(l10n.t('failed'));
  if (filter.model) parts.push(safeText(filter.model));
  if (filter.text) parts.push(`"${safeText(filter.text)}"`);
  return parts;
}

/**
 * The Steps view's message while a filter is on, across the width of the view (a view's
 * description beside its title is cut first): `5 of 40 steps · failed`, or that nothing
 * matches. Undefined without a filter.
 */
export function filterMessage(filter: StepFilter, counts: { shown: number; total: number } | undefined, nothingMatches: boolean): string | undefined {
  const words = filterWords(filter);
  if (!words.length) return undefined;
  const filtering = words.join(' · ');
  if (nothingMatches) return l10n.t('No steps match the filter: {0}.', filtering);
  if (!counts || counts.total === 0) return l10n.t('Filter: {0}', filtering);
  return counts.total === 1 ? l10n.t('{0} of 1 step · {1}', counts.shown, filtering) : l10n.t('{0} of {1} steps · {2}', counts.shown, counts.total, filtering);
}

export const isFilterActive = (filter: StepFilter): boolean => describeFilter(filter) !== undefined;

/** A path's file name and its folder (empty at the repository's root), as the SCM view shows them. */
export function splitPath(path: string): { name: string; folder: string } {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? { name: path, folder: '' } : { name: path.slice(slash + 1), folder: path.slice(0, slash) };
}

const STATUS_LETTERS: Record<ChangeStatus, string> = {
  added: 'A',
  modified: 'M',
  deleted: 'D',
  renamed: 'R',
  copied: 'C',
  typeChanged: 'T',
  unmerged: 'U',
  unknown: '?',
};

export const changeLetter = (status: ChangeStatus): string => STATUS_LETTERS[status] ?? '?';

const CHANGE_WORDS: Record<ChangeStatus, () => string> = {
  added: () => l10n.t('Added'),
  modified: () => l10n.t('Modified'),
  deleted: () => l10n.t('Deleted'),
  renamed: () => l10n.t('Renamed'),
  copied: () => l10n.t('Copied'),
  typeChanged: () => l10n.t('Type changed'),
  unmerged: () => l10n.t('Unmerged'),
  unknown: () => l10n.t('Changed'),
};

/** How a file changed, as a label: `Renamed`. */
export const changeWord = (status: ChangeStatus): string => (CHANGE_WORDS[status] ?? CHANGE_WORDS.unknown)();

const CHANGE_WORDS_IN_TEXT: Record<ChangeStatus, () => string> = {
  added: () => l10n.t('added'),
  modified: () => l10n.t('modified'),
  deleted: () => l10n.t('deleted'),
  renamed: () => l10n.t('renamed'),
  copied: () => l10n.t('copied'),
  typeChanged: () => l10n.t('type changed'),
  unmerged: () => l10n.t('unmerged'),
  unknown: () => l10n.t('changed'),
};

/** How a file changed, as a line of a list says it after the path: `renamed`. */
export const changeWordInText = (status: ChangeStatus): string => (CHANGE_WORDS_IN_TEXT[status] ?? CHANGE_WORDS_IN_TEXT.unknown)();

/** A changed file's tooltip as plain text: `src/a.ts → src/b.ts · Renamed (92% similar) · +3 −1`. */
export function fileTooltip(file: ChangedFile): string {
  const where = safeText(file.oldPath && file.oldPath !== file.path ? `${file.oldPath} → ${file.path}` : file.path);
  const similar = file.similarity !== undefined && (file.status === 'renamed' || file.status === 'copied');
  const what = !similar
    ? changeWord(file.status)
    : file.status === 'renamed'
      ? l10n.t('Renamed ({0}% similar)', file.similarity!)
      : l10n.t('Copied ({0}% similar)', file.similarity!);
  const lines = file.binary ? l10n.t('binary') : file.added !== null && file.removed !== null ? `+${file.added} −${file.removed}` : '';
  return [where, what, lines].filter(Boolean).join(' · ');
}

/** `Showing the last 5.0 MB of 40.0 MB of this log.` when a log is shown in part. */
export function logTruncationNote(shownBytes: number, size: number): string {
  const mb = (n: number) => l10n.t('{0} MB', (n / (1024 * 1024)).toFixed(1));
  return l10n.t('Showing the last {0} of {1} of this log; the start is left out.', mb(shownBytes), mb(size));
}

/**
 * A step log's Markdown made safe to render: LaForge writes Markdown, but the agent's text and
 * its tools' output inside it are data. Outside code, a `<` cannot start HTML and `![` cannot
 * load an image (they are escaped with a backslash, which the preview hides); code spans and
 * fenced blocks show their text literally already, so they are left as they are. Control
 * characters are escaped everywhere (safeText).
 */
export function stepLogMarkdown(text: string): string {
  const lines = safeText(text, { multiline: true }).split('\n');
  let fence: string | undefined;
  const out = lines.map((line) => {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fence !== undefined) {
      if (marker && marker[1][0] === fence[0] && marker[1].length >= fence.length && line.trim() === marker[1]) fence = undefined;
      return line;
    }
    if (marker) {
      fence = marker[1];
      return line;
    }
    // Outside a fence: escape outside inline code spans (a run of backticks to the same run).
    let result = '';
    let i = 0;
    while (i < line.length) {
      if (line[i] === '`') {
        const run = /^`+/.exec(line.slice(i))![0];
        const close = line.indexOf(run, i + run.length);
        if (close > 0) {
          result += line.slice(i, close + run.length);
          i = close + run.length;
          continue;
        }
        result += run;
        i += run.length;
        continue;
      }
      const c = line[i];
      if (c === '<') result += '\\<';
      else if (c === '!' && line[i + 1] === '[') result += '!\\';
      else result += c;
      i++;
    }
    return result;
  });
  return out.join('\n');
}

/** A running step's live work tree on its item: `live · 3 files`, and a tooltip line naming its folder. */
export function liveWorktreeText(live: { path: string; files: readonly unknown[] }): { description: string; tooltipMarkdown: string } {
  const files = live.files.length;
  return {
    description: files === 1 ? l10n.t('live · 1 file') : l10n.t('live · {0} files', files),
    tooltipMarkdown: `**${l10n.t('Live work tree')}:** ${escapeMarkdown(live.path)}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Nodes of the other systems' databases (core/sources)

const NODE_STATUS_WORDS: Record<NodeStatus, () => string> = {
  pending: () => l10n.t('pending'),
  running: () => l10n.t('running'),
  paused: () => l10n.t('paused'),
  waiting: () => l10n.t('waiting'),
  completed: () => l10n.t('completed'),
  failed: () => l10n.t('failed'),
  stopped: () => l10n.t('stopped'),
  rolledBack: () => l10n.t('rolled back'),
  unknown: () => l10n.t('status unknown'),
};

/** The status as the views say it, with the stored spelling when it says more (`running (IN_PROGRESS)`). */
export function nodeStatusText(node: Pick<HistoryNode, 'status' | 'rawStatus'>): string {
  const word = NODE_STATUS_WORDS[node.status]();
  const raw = node.rawStatus === null ? '' : safeText(node.rawStatus);
  return raw && !spelledAsIs(node.status, raw.toLowerCase()) ? `${word} (${raw})` : word;
}

/** Whether a stored spelling (lower case) is the status's own English word, which says nothing more in any language. */
function spelledAsIs(status: NodeStatus, raw: string): boolean {
  switch (status) {
    case 'rolledBack':
      return raw === 'rolled back';
    case 'unknown':
      return raw === 'status unknown';
    default:
      return raw === status;
  }
}

/** When something happened, or `unknown`: `2026-11-20 15:00:01 UTC`. */
const detailsTime = (date: Date | null | undefined, now?: Date): string => (date ? bothTimes(date, now) : l10n.t('unknown'));

/** Tokens of a node: `12.3k tokens`, or not recorded. */

/**
 * A node of another system's database for the tree: its label, a description
 * (`3m ago · 1m 20s · 12.3k tokens · $0.04`, each figure only when recorded), a Markdown
 * tooltip and a label for screen readers. Every stored text is made safe here.
 */
export function historyNodeText(node: HistoryNode, levelName: string, now: Date = new Date()): {
  label: string;
  description: string;
  tooltip: string;
  accessibilityLabel: string;
} {
  const label = safeText(node.label) || l10n.t('(unnamed {0})', levelName);
  const { metrics } = node;
  const parts: string[] = [];
  if (node.description) parts.push(safeText(node.description));
  if (metrics.start) parts.push(rowTime(metrics.start, now));
  if (node.status === 'running') parts.push(l10n.t('running'));
  else if (node.status === 'failed') parts.push(l10n.t('failed'));
  if (metrics.durationMs !== null && node.status !== 'running') parts.push(formatDuration(metrics.durationMs));
  const total = metrics.tokens?.total ?? null;
  if (total !== null) parts.push(formatTokens(total));
  if (metrics.costUsd !== null) parts.push(formatCost(metrics.costUsd));
  const rows: [string, string][] = [
    [l10n.t('Status'), nodeStatusText(node)],
    [l10n.t('Started'), detailsTime(metrics.start, now)],
  ];
  if (metrics.end) rows.push([l10n.t('Ended'), bothTimes(metrics.end, now)]);
  if (metrics.durationMs !== null) rows.push([l10n.t('Duration'), formatDuration(metrics.durationMs)]);
  if (metrics.model) rows.push([l10n.t('Model'), safeText(metrics.model)]);
  rows.push([l10n.t('Tokens'), nodeTokensText(metrics.tokens)]);
  rows.push([l10n.t('Cost'), metrics.costUsd === null ? notRecorded() : formatCost(metrics.costUsd)]);
  const lines = [`**${escapeMarkdown(label)}** · ${escapeMarkdown(levelName)}`, ...rows.map(([k, v]) => `**${k}:** ${escapeMarkdown(v)}`)];
  for (const warning of node.warnings) lines.push(`⚠ ${escapeMarkdown(safeText(warning))}`);
  const spoken = [label, levelName, nodeStatusText(node)];
  if (metrics.start) spoken.push(l10n.t('started {0}', relativeTimeSpoken(metrics.start, now)));
  if (metrics.costUsd !== null) spoken.push(l10n.t('cost {0}', formatCost(metrics.costUsd)));
  if (node.warnings.length) spoken.push(warningCount(node.warnings.length));
  return { label, description: parts.join(' · '), tooltip: lines.join('  \n'), accessibilityLabel: spoken.join(', ') };
}

/** A quick pick's text for another system's step: its label, its row's figures, and where it is (its containers, its database). */
export function historyPickText(node: HistoryNode, context: { levelName: string; path: readonly HistoryNode[]; database?: string }): { label: string; description: string; detail: string } {
  const text = historyNodeText(node, context.levelName);
  const where = context.path.map((p) => safeText(p.label) || l10n.t('(unnamed)'));
  if (context.database !== undefined) where.push(safeText(context.database));
  return { label: text.label, description: text.description, detail: where.join(' — ') };
}

/** The details page's view of another system's node: its sections, each figure formatted as the tree formats it. */
export function historyDetailsView(node: HistoryNode, sections: readonly DetailSection[], context: { levelName: string; systemName: string; changes: number }): HistoryDetailsView {
  return {
    ref: node.ref,
    label: node.label,
    kindText: `${context.levelName} · ${context.systemName}`,
    statusText: nodeStatusText(node),
    status: node.status,
    changes: context.changes,
    sections: sections.map((section): HistorySectionView => {
      switch (section.kind) {
        case 'facts':
          return {
            kind: 'facts',
            title: section.title,
            // A time reads absolute and relative, as the messages and the timeline give it, its note kept.
            facts: section.facts.map((f) => ({ label: f.label, value: f.time ? `${detailsTime(f.time)}${f.note ? ` ${f.note}` : ''}` : f.value })),
          };
        case 'text':
        case 'warnings':
          return section.kind === 'text' ? { kind: 'text', title: section.title, text: section.text } : section;
        case 'messages':
          return {
            kind: 'messages',
            title: section.title,
            messages: section.messages.map((m) => ({
              role: m.role,
              meta: [
                m.time ? detailsTime(m.time) : '',
                m.tokens ? nodeTokensText(m.tokens) : '',
                m.costUsd !== null && m.costUsd !== undefined ? formatCost(m.costUsd) : '',
              ].filter(Boolean).join(' · '),
              text: m.text,
              extras: m.extras ?? [],
            })),
          };
        case 'timeline':
          return { kind: 'timeline', title: section.title, events: section.events.map((e) => ({ time: detailsTime(e.time), label: e.label, detail: e.detail ?? null })) };
      }
    }),
  };
}
