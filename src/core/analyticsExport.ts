/**
 * The Analytics panel's figures as files: CSV (the groups, one row each: what the charts
 * draw) and JSON (everything the panel shows: groups, totals, models, the slowest and the
 * most expensive steps). Numbers are written as numbers, unformatted, so another tool reads
 * them exactly. A figure the system did not record is an empty cell (null in JSON), never a
 * zero (analyticsFigures.ts decides which, for every view). A text that came from a database
 * (a step's label, a model's name) is quoted and, when
 * it starts like a spreadsheet formula, prefixed with an apostrophe so no spreadsheet runs it.
 */
import type { AnalyticsGroup, AnalyticsGrouping, AnalyticsRange, StepAnalytics } from './analytics';
import { recordedCost, recordedCumulativeCost } from './analyticsFigures';

export interface AnalyticsExportContext {
  /** What the figures are of, as the panel names it. */
  scope: string;
  system: string;
  database: string;
  range: AnalyticsRange;
  grouping: AnalyticsGrouping;
  /** When they were read. */
  readAt: Date;
}

const COLUMNS: [string, (g: AnalyticsGroup, a: StepAnalytics) => string | number | null][] = [
  ['group', (g) => g.key],
  ['start', (g) => (g.startMs === null ? null : new Date(g.startMs).toISOString())],
  ['steps', (g) => g.steps],
  ['failures', (g) => g.failures],
  ['rollbacks', (g) => g.rollbacks],
  ['steps_with_usage', (g) => g.usageSteps],
  ['steps_without_usage', (g) => g.unrecordedSteps],
  ['prompt_tokens', (g) => recorded(g, g.promptTokens)],
  ['completion_tokens', (g) => recorded(g, g.completionTokens)],
  ['total_tokens', (g) => recorded(g, g.totalTokens)],
  ['cost_usd', (g) => recordedCost(g)],
  ['duration_ms_total', (g) => (g.durationSteps === 0 ? null : g.durationMs)],
  ['steps_with_duration', (g) => g.durationSteps],
  ['cumulative_total_tokens', (g) => g.cumulativeTotalTokens],
  ['cumulative_cost_usd', (g, a) => recordedCumulativeCost(a, g)],
];

/** A group's token count, or null when none of its steps recorded usage. */
const recorded = (g: AnalyticsGroup, value: number): number | null => (g.usageSteps === 0 ? null : value);

/** One CSV cell (RFC 4180): quoted when it must be; a text starting like a formula is made inert. */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The groups as CSV, a header line first, CRLF line ends. */
export function analyticsCsv(analytics: StepAnalytics): string {
  const lines = [COLUMNS.map(([name]) => name).join(',')];
  for (const group of analytics.groups) lines.push(COLUMNS.map(([, read]) => csvCell(read(group, analytics))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** Everything the panel shows, with what it is of, as indented JSON. */
export function analyticsJson(analytics: StepAnalytics, context: AnalyticsExportContext): string {
  const groups = analytics.groups.map((g) => ({
    ...g,
    promptTokens: recorded(g, g.promptTokens),
    completionTokens: recorded(g, g.completionTokens),
    totalTokens: recorded(g, g.totalTokens),
    cost: recordedCost(g),
    cumulativeCost: recordedCumulativeCost(analytics, g),
    durationMs: g.durationSteps === 0 ? null : g.durationMs,
  }));
  return `${JSON.stringify(
    {
      scope: context.scope,
      system: context.system,
      database: context.database,
      range: context.range,
      grouping: context.grouping,
      readAt: context.readAt.toISOString(),
      sinceMs: analytics.sinceMs,
      totals: analytics.totals,
      undatedSteps: analytics.undatedSteps,
      groups,
      byModel: analytics.byModel,
      slowest: analytics.slowest,
      mostExpensive: analytics.mostExpensive,
    },
    null,
    2,
  )}\n`;
}

/** A file name for the export: `step-analytics-<scope>-<range>-per-<grouping>.<ext>`, safe on every file system. */
export function analyticsFileName(context: Pick<AnalyticsExportContext, 'scope' | 'range' | 'grouping'>, format: 'csv' | 'json'): string {
  const scope = context.scope.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'all';
  return `step-analytics-${scope}-${context.range}-per-${context.grouping}.${format}`;
}
