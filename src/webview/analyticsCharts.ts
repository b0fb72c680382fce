/**
 * The Analytics page's charts as Chart.js 4 configurations, built from the figures and
 * the theme: pure functions, no DOM. Each figure a chart shows is read here (recordedTokens,
 * recordedCost, meanDuration), so the page's tables show the very same values; a group whose
 * steps record no usage (or no duration) has no value (null, a gap), never a zero. Ticks and
 * tooltips write through core/figures.ts. With more groups than the canvas has pixels, the
 * series are drawn as lines of `{x, y}` points on a linear axis, thinned here to each pixel's
 * lowest and highest value (min-max decimation, minMaxPoints) before Chart.js sees them, so it
 * parses and draws a few points per pixel, not 100,000 per series. No animation, so a live
 * update does not flicker.
 */
import * as l10n from '@vscode/l10n';
import type { ChartConfiguration, ChartDataset, ChartOptions, ChartTypeRegistry, TooltipItem } from 'chart.js';
import type { PageAnalytics } from '../shared/analyticsProtocol';
import { meanDuration, recordedCost, recordedCumulativeCost, recordedTokens } from '../core/analyticsFigures';
import { formatCost, formatCount, formatDuration, formatExactCount, formatTokens, recordedText } from '../core/figures';
import { safeText } from '../shared/safeText';

export type ThemeKind = 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';

export interface Theme {
  kind: ThemeKind;
  blue: string;
  red: string;
  yellow: string;
  green: string;
  orange: string;
  purple: string;
  foreground: string;
  lines: string;
  fontFamily: string;
  fontSize: number;
}

const COLOURS = ['blue', 'red', 'yellow', 'green', 'orange', 'purple', 'foreground', 'lines'] as const;

/** VS Code's own chart colours, for a theme that does not define a variable. */
const FALLBACK: Record<ThemeKind, Record<(typeof COLOURS)[number], string>> = {
  dark: { blue: '#3794ff', red: '#f14c4c', yellow: '#cca700', green: '#89d185', orange: '#d18616', purple: '#b180d7', foreground: '#cccccc', lines: '#cccccc80' },
  light: { blue: '#1a85ff', red: '#e51400', yellow: '#bf8803', green: '#388a34', orange: '#d18616', purple: '#652d90', foreground: '#616161', lines: '#61616180' },
  'high-contrast': { blue: '#3794ff', red: '#f14c4c', yellow: '#ffd700', green: '#89d185', orange: '#d18616', purple: '#b180d7', foreground: '#ffffff', lines: '#ffffff' },
  'high-contrast-light': { blue: '#0f4a85', red: '#b5200d', yellow: '#895503', green: '#209060', orange: '#c74e00', purple: '#652d90', foreground: '#292929', lines: '#292929' },
};

/** The theme's kind from the body's classes (`vscode-dark`, `vscode-high-contrast-light`, …). */
export function themeKind(bodyClasses: string): ThemeKind {
  const classes = bodyClasses.split(/\s+/);
  if (classes.includes('vscode-high-contrast-light')) return 'high-contrast-light';
  if (classes.includes('vscode-high-contrast')) return 'high-contrast';
  if (classes.includes('vscode-light')) return 'light';
  return 'dark';
}

export const isHighContrast = (theme: Theme): boolean => theme.kind === 'high-contrast' || theme.kind === 'high-contrast-light';

/** The theme from the body's computed style (its `--vscode-*` variables) and classes. */
export function readTheme(style: { getPropertyValue(name: string): string }, bodyClasses: string): Theme {
  const kind = themeKind(bodyClasses);
  const read = (name: string) => style.getPropertyValue(name).trim();
  const colours = Object.fromEntries(COLOURS.map((c) => [c, read(`--vscode-charts-${c}`) || FALLBACK[kind][c]])) as Record<(typeof COLOURS)[number], string>;
  const size = Number.parseFloat(read('--vscode-font-size'));
  return { kind, ...colours, fontFamily: read('--vscode-font-family') || 'sans-serif', fontSize: Number.isFinite(size) && size > 0 ? size : 13 };
}


export type ChartId = 'tokens' | 'cost' | 'duration' | 'failures' | 'models';
export const CHART_IDS: readonly ChartId[] = ['tokens', 'cost', 'duration', 'failures', 'models'];

export interface ChartSpec {
  id: ChartId;
  title: string;
  config: ChartConfiguration;
  /** Drawn as lines thinned by the Decimation plugin: more groups than pixels. */
  decimated: boolean;
  /** What the chart says, in words: the canvas's aria-label. */
  summary: string;
}

export interface ChartOptionsIn {
  /** The canvas's width in CSS pixels: above it, the series are decimated. */
  widthPx: number;
  /** A step was chosen on a per-step chart: its group's index. */
  onGroup?: (index: number) => void;
}

type Point = { x: number; y: number | null };
type Value = number | null;

/** The group a data point is of: its x when decimated (a fraction where min-max averaged), else its index. */
/**
 * The points of a series with more groups than pixels: for each of `buckets` runs of
 * consecutive groups, its lowest and its highest value, in their order (what Chart.js's
 * Decimation plugin does with `min-max`, done once on the numbers instead of on every parsed
 * point of every dataset). A run where no value is recorded is one gap; a gap narrower than a
 * pixel does not show. Up to twice `buckets` points; every point when there are no more.
 */
export function minMaxPoints(values: readonly Value[], buckets: number): Point[] {
  const n = values.length;
  if (n <= buckets * 2) return values.map((y, x) => ({ x, y }));
  const points: Point[] = [];
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor((b * n) / buckets);
    const end = Math.floor(((b + 1) * n) / buckets);
    let lo = -1;
    let hi = -1;
    for (let i = start; i < end; i++) {
      const v = values[i];
      if (v === null) continue;
      if (lo < 0 || v < (values[lo] as number)) lo = i;
      if (hi < 0 || v > (values[hi] as number)) hi = i;
    }
    if (lo < 0) {
      points.push({ x: start, y: null });
      continue;
    }
    const first = Math.min(lo, hi);
    const second = Math.max(lo, hi);
    points.push({ x: first, y: values[first] });
    if (second !== first) points.push({ x: second, y: values[second] });
  }
  return points;
}

export const groupIndexOf = (raw: unknown, index: number): number =>
  typeof raw === 'object' && raw !== null && typeof (raw as Point).x === 'number' ? Math.round((raw as Point).x) : index;

function groupingWords(a: PageAnalytics) {
  switch (a.grouping) {
    case 'step':
      return { axis: l10n.t('Step'), tokens: l10n.t('Tokens per step'), cost: l10n.t('Cost per step'), duration: l10n.t('Duration per step'), failures: l10n.t('Failures and rollbacks per step') };
    case 'day':
      return { axis: l10n.t('Day (UTC)'), tokens: l10n.t('Tokens per day'), cost: l10n.t('Cost per day'), duration: l10n.t('Mean duration per day'), failures: l10n.t('Failures and rollbacks per day') };
    case 'week':
      return { axis: l10n.t('Week (UTC, from Monday)'), tokens: l10n.t('Tokens per week'), cost: l10n.t('Cost per week'), duration: l10n.t('Mean duration per week'), failures: l10n.t('Failures and rollbacks per week') };
  }
}

interface Series {
  label: string;
  values: Value[];
  kind: 'bar' | 'line' | 'markers';
  colour: string;
  format: (n: number) => string;
  /** On the second y axis (a cumulative total). */
  second?: boolean;
}

/** One chart over the groups: bars and lines on a category axis, or lines on a linear one when decimated. */
function groupChart(a: PageAnalytics, theme: Theme, options: ChartOptionsIn, series: Series[], axisFormats: { y: (n: number) => string; y2?: (n: number) => string }) {
  const groups = a.groups;
  const decimated = groups.length > Math.max(1, options.widthPx);
  const hc = isHighContrast(theme);
  const words = groupingWords(a);
  const datasets = series.map((s): ChartDataset => {
    const common = {
      label: s.label,
      yAxisID: s.second ? 'y2' : 'y',
      borderColor: s.colour,
      backgroundColor: s.colour,
      borderWidth: hc ? 2 : 1,
    };
    if (decimated) {
      const data = minMaxPoints(s.values, Math.max(1, Math.floor(options.widthPx)));
      return {
        ...common,
        type: 'line',
        data,
        showLine: s.kind !== 'markers',
        pointRadius: s.kind === 'markers' ? 4 : 0,
        pointStyle: s.kind === 'markers' ? 'triangle' : 'circle',
        spanGaps: false,
      } as ChartDataset;
    }
    if (s.kind === 'bar') return { ...common, type: 'bar', data: s.values, ...(hc ? { borderColor: theme.foreground } : {}) } as ChartDataset;
    return {
      ...common,
      type: 'line',
      data: s.values,
      showLine: s.kind === 'line',
      pointStyle: s.kind === 'markers' ? 'triangle' : 'circle',
      pointRadius: s.kind === 'markers' ? 6 : groups.length > 60 ? 0 : 2,
      spanGaps: false,
    } as ChartDataset;
  });
  const font = { family: theme.fontFamily, size: theme.fontSize };
  const keyAt = (x: number) => safeText(groups.at(Math.round(x))?.key ?? '');
  const ticks = { color: theme.foreground, font };
  const scales: ChartOptions['scales'] = {
    x: decimated
      ? { type: 'linear', min: 0, max: Math.max(0, groups.length - 1), title: { display: true, text: words.axis, color: theme.foreground, font }, ticks: { ...ticks, callback: (v) => keyAt(Number(v)) }, grid: { color: theme.lines } }
      : { type: 'category', title: { display: true, text: words.axis, color: theme.foreground, font }, ticks, grid: { color: theme.lines } },
    y: { type: 'linear', beginAtZero: true, ticks: { ...ticks, callback: (v) => axisFormats.y(Number(v)) }, grid: { color: theme.lines } },
  };
  if (axisFormats.y2) {
    const y2 = axisFormats.y2;
    scales.y2 = { type: 'linear', position: 'right', beginAtZero: true, ticks: { ...ticks, callback: (v) => y2(Number(v)) }, grid: { drawOnChartArea: false, color: theme.lines } };
  }
  const config: ChartConfiguration = {
    type: decimated ? 'line' : 'bar',
    data: { labels: decimated ? undefined : groups.map((g) => safeText(g.key)), datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: decimated ? false : undefined,
      normalized: decimated || undefined,
      interaction: { mode: decimated ? 'nearest' : 'index', axis: 'x', intersect: false },
      scales,
      onClick:
        options.onGroup && a.grouping === 'step'
          ? (_event, elements, chart) => {
              const hit = elements[0];
              if (!hit) return;
              const i = groupIndexOf(chart.data.datasets[hit.datasetIndex]?.data[hit.index], hit.index);
              if (groups.at(i)?.target) options.onGroup!(i);
            }
          : undefined,
      plugins: {
        legend: { labels: { color: theme.foreground, font } },
        tooltip: {
          titleFont: font,
          bodyFont: font,
          callbacks: {
            title: (items: TooltipItem<keyof ChartTypeRegistry>[]) => (items[0] ? keyAt(items[0].parsed.x ?? 0) : ''),
            label: (item: TooltipItem<keyof ChartTypeRegistry>) => {
              const s = series[item.datasetIndex];
              const y = item.parsed.y;
              return `${s.label}: ${y === null || y === undefined ? '' : s.format(y)}`;
            },
          },
        },
      },
    },
  };
  return { config, decimated };
}

/** The sentence naming a chart's figures, for a screen reader: its groups, total and largest. */
function summaryOf(title: string, a: PageAnalytics, values: Value[], format: (n: number) => string, total: string): string {
  if (a.groups.length === 0) return l10n.t('{0}: no steps in this range.', title);
  // The first group of the largest value, in one pass.
  let at = -1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null && (at < 0 || v > (values[at] as number))) at = i;
  }
  const max = at < 0 ? null : (values[at] as number);
  return max === null
    ? l10n.t('{0}: {1} groups, none recorded.', title, formatExactCount(a.groups.length))
    : l10n.t('{0}: {1} groups, {2} in all; the largest is {3} ({4}).', title, formatExactCount(a.groups.length), total, format(max), safeText(a.groups.at(at)!.key));
}

/** A chart of a figure per group (bars) and its running total (a line on a second axis). */
function totalChart(
  a: PageAnalytics, theme: Theme, o: ChartOptionsIn,
  spec: { id: 'tokens' | 'cost'; title: string; values: Value[]; cumulative: Value[]; labels: [string, string]; colours: [string, string]; format: (n: number) => string; axis: (n: number) => string; total: number | null },
): ChartSpec {
  const { config, decimated } = groupChart(a, theme, o, [
    { label: spec.labels[0], values: spec.values, kind: 'bar', colour: spec.colours[0], format: spec.format },
    { label: spec.labels[1], values: spec.cumulative, kind: 'line', colour: spec.colours[1], format: spec.format, second: true },
  ], { y: spec.axis, y2: spec.axis });
  return { id: spec.id, title: spec.title, config, decimated, summary: summaryOf(spec.title, a, spec.values, spec.format, recordedText(spec.total, spec.format)) };
}

function tokensChart(a: PageAnalytics, theme: Theme, o: ChartOptionsIn): ChartSpec {
  return totalChart(a, theme, o, {
    id: 'tokens', title: groupingWords(a).tokens, values: a.groups.map(recordedTokens), cumulative: a.groups.map((g) => g.cumulativeTotalTokens),
    labels: [l10n.t('Tokens'), l10n.t('Cumulative tokens')], colours: [theme.blue, theme.purple], format: formatTokens, axis: formatCount,
    total: recordedTokens(a.totals),
  });
}

function costChart(a: PageAnalytics, theme: Theme, o: ChartOptionsIn): ChartSpec {
  return totalChart(a, theme, o, {
    id: 'cost', title: groupingWords(a).cost, values: a.groups.map(recordedCost), cumulative: a.groups.map((g) => recordedCumulativeCost(a, g)),
    labels: [l10n.t('Cost'), l10n.t('Cumulative cost')], colours: [theme.green, theme.orange], format: formatCost, axis: formatCost,
    total: recordedCost(a.totals),
  });
}

function durationChart(a: PageAnalytics, theme: Theme, o: ChartOptionsIn): ChartSpec {
  const title = groupingWords(a).duration;
  const values = a.groups.map(meanDuration);
  const label = a.grouping === 'step' ? l10n.t('Duration') : l10n.t('Mean duration');
  const { config, decimated } = groupChart(a, theme, o, [{ label, values, kind: 'bar', colour: theme.yellow, format: formatDuration }], { y: formatDuration });
  const total = recordedText(meanDuration(a.totals), (ms) => l10n.t('a mean of {0}', formatDuration(ms)));
  return { id: 'duration', title, config, decimated, summary: summaryOf(title, a, values, formatDuration, total) };
}

function failuresChart(a: PageAnalytics, theme: Theme, o: ChartOptionsIn): ChartSpec {
  const title = groupingWords(a).failures;
  const failures = a.groups.map((g) => g.failures);
  const rollbacks = a.groups.map((g) => (g.rollbacks > 0 ? g.rollbacks : null));
  const { config, decimated } = groupChart(a, theme, o, [
    { label: l10n.t('Failures'), values: failures, kind: 'bar', colour: theme.red, format: formatExactCount },
    { label: l10n.t('Rollbacks'), values: rollbacks, kind: 'markers', colour: theme.orange, format: formatExactCount },
  ], { y: (n) => (Number.isInteger(n) ? formatExactCount(n) : '') });
  const summary =
    a.groups.length === 0
      ? l10n.t('{0}: no steps in this range.', title)
      : l10n.t('{0}: {1} failures and {2} rollbacks over {3} groups.', title, formatExactCount(a.totals.failures), formatExactCount(a.totals.rollbacks), formatExactCount(a.groups.length));
  return { id: 'failures', title, config, decimated, summary };
}

/** Whether the models chart shows cost (some usage records one) or, else, steps. */
export const modelsByCost = (a: PageAnalytics): boolean => a.byModel.some((m) => m.cost > 0);

function modelsChart(a: PageAnalytics, theme: Theme): ChartSpec {
  const byCost = modelsByCost(a);
  const title = byCost ? l10n.t('Cost by model') : l10n.t('Steps by model');
  const format = byCost ? formatCost : formatExactCount;
  const values = a.byModel.map((m) => (byCost ? recordedCost(m) : m.steps));
  const hc = isHighContrast(theme);
  const font = { family: theme.fontFamily, size: theme.fontSize };
  const ticks = { color: theme.foreground, font };
  const config: ChartConfiguration = {
    type: 'bar',
    data: {
      labels: a.byModel.map((m) => safeText(m.model)),
      datasets: [{ label: byCost ? l10n.t('Cost') : l10n.t('Steps'), data: values, backgroundColor: theme.purple, borderColor: hc ? theme.foreground : theme.purple, borderWidth: hc ? 2 : 1 }],
    },
    options: {
      indexAxis: 'y',
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: {
        x: { type: 'linear', beginAtZero: true, ticks: { ...ticks, callback: (v) => format(Number(v)) }, grid: { color: theme.lines } },
        y: { type: 'category', ticks, grid: { color: theme.lines } },
      },
      plugins: {
        decimation: { enabled: false },
        legend: { display: false },
        tooltip: {
          titleFont: font,
          bodyFont: font,
          callbacks: { label: (item: TooltipItem<keyof ChartTypeRegistry>) => recordedText(item.parsed.x ?? null, format) },
        },
      },
    },
  };
  const top = a.byModel[0];
  const summary = top
    ? l10n.t('{0}: {1} models; {2} has the most steps ({3}).', title, formatExactCount(a.byModel.length), safeText(top.model), formatExactCount(top.steps))
    : l10n.t('{0}: no steps in this range.', title);
  return { id: 'models', title, config, decimated: false, summary };
}

/** Every chart of the page, in its order. */
export function analyticsCharts(a: PageAnalytics, theme: Theme, options: ChartOptionsIn): ChartSpec[] {
  return [tokensChart(a, theme, options), costChart(a, theme, options), durationChart(a, theme, options), failuresChart(a, theme, options), modelsChart(a, theme)];
}
