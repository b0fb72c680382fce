/// <reference lib="dom" />
/**
 * The Analytics page (browser): a header with the range and grouping the user picks, the
 * summary figures, five charts (Chart.js, only the parts it uses registered) each with a table
 * of the same numbers one key away, and the slowest and most expensive steps. Every figure is
 * written through core/figures.ts, in the language of the bundle the host sends; every string
 * from a database is shown as text (dom.ts). A new `analytics` message updates the charts in
 * place, keeping the open tables, the scroll position and the user's range and grouping (also
 * kept in the webview's state). Talks to the host with analyticsProtocol's messages: `ready`
 * first, `painted` once the charts of each `analytics` message are drawn.
 */
import * as l10n from '@vscode/l10n';
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';
import type { AnalyticsGroup, StepAnalytics } from '../core/analytics';
import { meanDuration, recordedCost, recordedCumulativeCost, recordedTokens } from '../core/analyticsFigures';
import { dateTime, formatCost, formatDuration, formatExactCount, formatPercent, formatTokens, recordedText } from '../core/figures';
import { ANALYTICS_GROUPINGS, ANALYTICS_RANGES, groupColumns, type AnalyticsGrouping, type AnalyticsRange, type AnalyticsView, type HostMessage, type PageAnalytics, type PageMessage } from '../shared/analyticsProtocol';
import { analyticsCharts, CHART_IDS, modelsByCost, readTheme, type ChartId, type ChartSpec, type Theme } from './analyticsCharts';
import { button, el, link, text, type Child } from './dom';

Chart.register(BarController, LineController, BarElement, LineElement, PointElement, LinearScale, CategoryScale, Tooltip, Legend);

interface VsCodeApi {
  postMessage(message: PageMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

/** What survives a reload: the user's choices and which tables are open. */
interface SavedState {
  range?: AnalyticsRange;
  grouping?: AnalyticsGrouping;
  open?: string[];
}

const vscode = acquireVsCodeApi();
const root = document.getElementById('root') as HTMLElement;
const post = (message: PageMessage) => vscode.postMessage(message);

/** How many rows a table shows at first, and how many more each "Show more" adds. */
const TABLE_PAGE = 200;
const DEFAULT_WIDTH = 600;

const saved = (vscode.getState() ?? {}) as SavedState;
let chosen: { range: AnalyticsRange; grouping: AnalyticsGrouping } | undefined =
  saved.range && saved.grouping && ANALYTICS_RANGES.includes(saved.range) && ANALYTICS_GROUPINGS.includes(saved.grouping)
    ? { range: saved.range, grouping: saved.grouping }
    : undefined;
const open = new Set<string>(Array.isArray(saved.open) ? saved.open.filter((o) => typeof o === 'string') : []);
let optionsSent = false;
let theme: Theme = currentTheme();
/** The figures as the page reads them: their groups in columns. */
type PageView = Omit<AnalyticsView, 'analytics'> & { analytics: PageAnalytics };

let shown: PageView | undefined;

function saveState(): void {
  vscode.setState({ range: chosen?.range, grouping: chosen?.grouping, open: [...open] } satisfies SavedState);
}

function currentTheme(): Theme {
  return readTheme(getComputedStyle(document.body), document.body.className);
}

/** One table column: its heading and each row's cell. */
interface Column<T> {
  title: string;
  cell: (row: T) => Child;
}

/** A table that shows its first rows, with "Show more" for the rest: never a DOM of every row. */
interface TableSpec<T> {
  columns: Column<T>[];
  /** An array, or the groups in their columns: only the rows shown are made. */
  rows: { readonly length: number; at(index: number): T | undefined };
}

/** A figure's parts, kept across updates so a chart is updated in place. */
interface Figure {
  id: ChartId;
  node: HTMLElement;
  heading: HTMLElement;
  caption: HTMLElement;
  canvas: HTMLCanvasElement;
  toggle: HTMLButtonElement;
  tableHost: HTMLElement;
  chart: Chart | undefined;
  decimated: boolean;
  /** How many rows the table shows. */
  limit: number;
  table: () => TableSpec<unknown>;
}

interface Page {
  title: HTMLElement;
  updated: HTMLElement;
  range: HTMLSelectElement;
  grouping: HTMLSelectElement;
  summary: HTMLElement;
  figures: Map<ChartId, Figure>;
  rankings: HTMLElement;
}

let page: Page | undefined;

function select<V extends string>(id: string, label: string, values: readonly V[], words: (v: V) => string, onChange: (v: V) => void): { node: HTMLElement; select: HTMLSelectElement } {
  const node = el('select');
  node.id = id;
  for (const v of values) {
    const option = el('option', undefined, words(v));
    option.value = v;
    node.append(option);
  }
  node.addEventListener('change', () => onChange(node.value as V));
  const caption = el('label', undefined, label);
  caption.htmlFor = id;
  return { node: el('span', 'control', caption, ' ', node), select: node };
}

const rangeWords = (r: AnalyticsRange) => (r === '7d' ? l10n.t('Last 7 days') : r === '30d' ? l10n.t('Last 30 days') : l10n.t('All time'));
const groupingWords = (g: AnalyticsGrouping) => (g === 'step' ? l10n.t('Per step') : g === 'day' ? l10n.t('Per day') : l10n.t('Per week'));

function choose(change: Partial<{ range: AnalyticsRange; grouping: AnalyticsGrouping }>): void {
  const base = chosen ?? (shown ? { range: shown.range, grouping: shown.grouping } : { range: '30d' as const, grouping: 'day' as const });
  chosen = { ...base, ...change };
  optionsSent = true;
  saveState();
  post({ type: 'options', range: chosen.range, grouping: chosen.grouping });
}

function buildPage(): Page {
  const title = el('h1');
  const updated = el('p', 'muted updated');
  const range = select('range', l10n.t('Range'), ANALYTICS_RANGES, rangeWords, (range) => choose({ range }));
  const grouping = select('grouping', l10n.t('Grouping'), ANALYTICS_GROUPINGS, groupingWords, (grouping) => choose({ grouping }));
  const header = el(
    'header',
    undefined,
    el('div', 'heading', title, updated),
    el(
      'div',
      'actions',
      range.node,
      grouping.node,
      button(l10n.t('Export CSV'), () => post({ type: 'export', format: 'csv' }), { className: 'secondary', title: l10n.t('Save the figures shown as CSV') }),
      button(l10n.t('Export JSON'), () => post({ type: 'export', format: 'json' }), { className: 'secondary', title: l10n.t('Save the figures shown as JSON') }),
    ),
  );
  const summary = el('dl', 'summary');
  const grid = el('div', 'charts');
  const figures = new Map<ChartId, Figure>();
  for (const id of CHART_IDS) {
    const figure = buildFigure(id);
    figures.set(id, figure);
    grid.append(figure.node);
  }
  const rankings = el('div', 'rankings');
  root.replaceChildren(header, summary, grid, rankings);
  return { title, updated, range: range.select, grouping: grouping.select, summary, figures, rankings };
}

function buildFigure(id: ChartId): Figure {
  const heading = el('h2');
  heading.id = `chart-${id}-title`;
  const canvas = el('canvas');
  canvas.setAttribute('role', 'img');
  canvas.tabIndex = 0;
  const tableHost = el('div', 'table-wrap');
  tableHost.id = `table-${id}`;
  tableHost.hidden = true;
  const caption = el('p', 'muted caption');
  caption.hidden = true;
  const figure: Figure = {
    id,
    node: el('figure', `chart chart-${id}`),
    heading,
    caption,
    canvas,
    toggle: button(l10n.t('Show table'), () => toggleTable(figure)),
    tableHost,
    chart: undefined,
    decimated: false,
    limit: TABLE_PAGE,
    table: () => ({ columns: [], rows: [] }),
  };
  figure.toggle.setAttribute('aria-controls', tableHost.id);
  figure.toggle.setAttribute('aria-expanded', 'false');
  canvas.addEventListener('keydown', (event) => {
    if ((event as KeyboardEvent).key === 'Enter') {
      event.preventDefault();
      toggleTable(figure);
    }
  });
  figure.node.setAttribute('aria-labelledby', heading.id);
  figure.node.append(heading, el('div', 'canvas-box', canvas), caption, figure.toggle, tableHost);
  return figure;
}

function toggleTable(figure: Figure): void {
  if (open.has(figure.id)) open.delete(figure.id);
  else open.add(figure.id);
  saveState();
  showTable(figure);
}

/** Shows or hides a figure's table as `open` says, its rows written afresh. */
function showTable(figure: Figure): void {
  const isOpen = open.has(figure.id);
  figure.toggle.textContent = isOpen ? l10n.t('Hide table') : l10n.t('Show table');
  figure.toggle.setAttribute('aria-expanded', String(isOpen));
  figure.tableHost.hidden = !isOpen;
  if (isOpen) figure.tableHost.replaceChildren(...tableNodes(figure.table(), figure.limit, (limit) => {
    figure.limit = limit;
    showTable(figure);
  }));
  else figure.tableHost.replaceChildren();
}

function tableNodes<T>(spec: TableSpec<T>, limit: number, more?: (limit: number) => void): HTMLElement[] {
  const head = el('tr');
  for (const c of spec.columns) {
    const th = text('th', c.title);
    th.setAttribute('scope', 'col');
    head.append(th);
  }
  const body = el('tbody');
  const count = Math.min(limit, spec.rows.length);
  for (let i = 0; i < count; i++) {
    const row = spec.rows.at(i)!;
    body.append(el('tr', undefined, ...spec.columns.map((c) => el('td', undefined, c.cell(row)))));
  }
  const nodes: HTMLElement[] = [el('table', undefined, el('thead', undefined, head), body)];
  if (spec.rows.length === 0) nodes.push(text('p', l10n.t('No steps in this range.'), 'muted'));
  if (count < spec.rows.length) {
    nodes.push(text('p', l10n.t('Showing {0} of {1} rows.', formatExactCount(count), formatExactCount(spec.rows.length)), 'muted'));
    if (more) nodes.push(button(l10n.t('Show more'), () => more(limit + TABLE_PAGE), { className: 'secondary' }));
  }
  return nodes;
}

/** A table of any rows, as a figure keeps it. */
const erase = <T>(table: TableSpec<T>): TableSpec<unknown> => table as unknown as TableSpec<unknown>;

const openStep = (target: string) => post({ type: 'openStep', target });

/** A group's name in a table: per step, a link that opens it. */
function groupCell(g: AnalyticsGroup): Child {
  return g.target !== null ? link(g.key, () => openStep(g.target!), l10n.t("Open {0}'s details", g.key)) : g.key;
}

function groupTable(a: PageAnalytics, id: ChartId): TableSpec<unknown> {
  const group: Column<AnalyticsGroup> = { title: a.grouping === 'step' ? l10n.t('Step') : a.grouping === 'day' ? l10n.t('Day (UTC)') : l10n.t('Week (UTC)'), cell: groupCell };
  const columns: Record<Exclude<ChartId, 'models'>, Column<AnalyticsGroup>[]> = {
    tokens: [
      group,
      { title: l10n.t('Tokens'), cell: (g) => recordedText(recordedTokens(g), formatTokens) },
      { title: l10n.t('Cumulative tokens'), cell: (g) => formatTokens(g.cumulativeTotalTokens) },
    ],
    cost: [
      group,
      { title: l10n.t('Cost'), cell: (g) => recordedText(recordedCost(g), formatCost) },
      { title: l10n.t('Cumulative cost'), cell: (g) => recordedText(recordedCumulativeCost(a, g), formatCost) },
    ],
    duration: [
      group,
      { title: a.grouping === 'step' ? l10n.t('Duration') : l10n.t('Mean duration'), cell: (g) => recordedText(meanDuration(g), formatDuration) },
    ],
    failures: [
      group,
      { title: l10n.t('Steps'), cell: (g) => formatExactCount(g.steps) },
      { title: l10n.t('Failures'), cell: (g) => formatExactCount(g.failures) },
      { title: l10n.t('Rollbacks'), cell: (g) => formatExactCount(g.rollbacks) },
    ],
  };
  return id === 'models' ? erase(modelTable(a)) : erase({ columns: columns[id], rows: a.groups });
}

function modelTable(a: PageAnalytics): TableSpec<StepAnalytics['byModel'][number]> {
  return {
    columns: [
      { title: l10n.t('Model'), cell: (m) => m.model },
      { title: l10n.t('Steps'), cell: (m) => formatExactCount(m.steps) },
      { title: l10n.t('Tokens'), cell: (m) => recordedText(recordedTokens(m), formatTokens) },
      { title: l10n.t('Cost'), cell: (m) => recordedText(recordedCost(m), formatCost) },
      { title: l10n.t('Failure rate'), cell: (m) => formatPercent(m.failureRate) },
      { title: l10n.t('Median duration'), cell: (m) => recordedText(m.medianDurationMs, formatDuration) },
    ],
    rows: a.byModel,
  };
}

function rankingSection(title: string, id: string, rows: StepAnalytics['slowest'], valueTitle: string, format: (n: number) => string): HTMLElement {
  const heading = text('h2', title);
  heading.id = id;
  const spec: TableSpec<StepAnalytics['slowest'][number]> = {
    columns: [
      { title: l10n.t('Step'), cell: (s) => link(s.label, () => openStep(s.target), l10n.t("Open {0}'s details", s.label)) },
      { title: valueTitle, cell: (s) => format(s.value) },
    ],
    rows,
  };
  const node = el('section', 'ranking', heading, ...(rows.length ? tableNodes(spec, TABLE_PAGE) : [text('p', l10n.t('None recorded.'), 'muted')]));
  node.setAttribute('aria-labelledby', id);
  return node;
}

/** The totals, each a term and its figure, then a note of what is counted apart. */
function summaryFacts(a: PageAnalytics): HTMLElement[] {
  const t = a.totals;
  const rows: [string, string][] = [
    [l10n.t('Steps'), formatExactCount(t.steps)],
    [l10n.t('Failures'), formatExactCount(t.failures)],
    [l10n.t('Rollbacks'), formatExactCount(t.rollbacks)],
    [l10n.t('Tokens'), recordedText(recordedTokens(t), formatTokens)],
    [l10n.t('Cost'), recordedText(recordedCost(t), formatCost)],
  ];
  const notes: string[] = [];
  if (t.unrecordedSteps > 0) {
    notes.push(
      t.unrecordedSteps === 1
        ? l10n.t('1 step records no usage: counted apart, not as zero')
        : l10n.t('{0} steps record no usage: counted apart, not as zero', formatExactCount(t.unrecordedSteps)),
    );
  }
  if (a.undatedSteps > 0) {
    notes.push(
      a.undatedSteps === 1
        ? l10n.t('1 step has no start time: in the totals, in no day or week')
        : l10n.t('{0} steps have no start time: in the totals, in no day or week', formatExactCount(a.undatedSteps)),
    );
  }
  // A div around each term and its figure keeps them together as the row wraps (HTML allows it in a dl).
  const facts = rows.map(([name, value]) => el('div', 'fact', text('dt', name), text('dd', value)));
  return [...facts, ...notes.map((note) => el('div', 'note', text('dd', note)))];
}

/** The canvas's width, for the decimation threshold; a page not laid out yet counts as DEFAULT_WIDTH. */
const widthOf = (canvas: HTMLCanvasElement): number => canvas.clientWidth || canvas.parentElement?.clientWidth || DEFAULT_WIDTH;

/** A chart on the canvas; none where the canvas has no 2D context (the table still tells the figures). */
function createChart(canvas: HTMLCanvasElement, spec: ChartSpec): Chart | undefined {
  if (!canvas.getContext('2d')) return undefined;
  try {
    return new Chart(canvas, spec.config);
  } catch {
    // A chart that failed half-made still holds the canvas: it is let go, so the next update can try again.
    Chart.getChart(canvas)?.destroy();
    return undefined;
  }
}

/** Draws (or updates in place) every chart of `view`, in the current theme. */
function drawCharts(view: PageView): void {
  const a = view.analytics;
  const figures = page!.figures;
  const width = widthOf(figures.get('tokens')!.canvas);
  const specs = analyticsCharts(a, theme, { widthPx: width, onGroup: (i) => { const target = a.groups.at(i)?.target; if (target) openStep(target); } });
  for (const spec of specs) {
    const figure = figures.get(spec.id)!;
    figure.heading.textContent = spec.title;
    figure.canvas.setAttribute('aria-label', spec.summary);
    figure.caption.hidden = !spec.decimated;
    figure.caption.textContent = spec.decimated ? l10n.t('Drawn as a line: there are more steps than the chart has pixels.') : '';
    if (figure.chart && figure.decimated === spec.decimated) {
      figure.chart.data = spec.config.data;
      figure.chart.options = spec.config.options ?? {};
      figure.chart.update('none');
    } else {
      figure.chart?.destroy();
      figure.chart = createChart(figure.canvas, spec);
      figure.decimated = spec.decimated;
    }
  }
}

function render(view: PageView, arrivedAt: number): void {
  if (view.l10nContents) l10n.config({ contents: view.l10nContents });
  const scrollY = window.scrollY;
  root.classList.remove('stale');
  const groupingChanged = shown !== undefined && shown.analytics.grouping !== view.analytics.grouping;
  shown = view;
  page ??= buildPage();
  if (chosen === undefined) chosen = { range: view.range, grouping: view.grouping };
  else if (!optionsSent && (chosen.range !== view.range || chosen.grouping !== view.grouping)) {
    // The user's choice from before a reload: the host is asked for it.
    optionsSent = true;
    post({ type: 'options', range: chosen.range, grouping: chosen.grouping });
  }
  optionsSent = true;
  saveState();
  page.range.value = chosen.range;
  page.grouping.value = chosen.grouping;
  page.title.textContent = `${view.scopeText} · ${view.systemName}`;
  page.updated.textContent = l10n.t('Updated {0}', dateTime(new Date(view.readAtMs)));
  const a = view.analytics;
  page.summary.replaceChildren(...summaryFacts(a));
  drawCharts(view);
  for (const figure of page.figures.values()) {
    if (groupingChanged) figure.limit = TABLE_PAGE;
    figure.table = () => groupTable(a, figure.id);
    showTable(figure);
  }
  const models = page.figures.get('models')!;
  models.heading.textContent = modelsByCost(a) ? l10n.t('Cost by model') : l10n.t('Steps by model');
  page.rankings.replaceChildren(
    rankingSection(l10n.t('Slowest steps'), 'slowest', a.slowest, l10n.t('Duration'), formatDuration),
    rankingSection(l10n.t('Most expensive steps'), 'most-expensive', a.mostExpensive, l10n.t('Cost'), formatCost),
  );
  if (window.scrollY !== scrollY) window.scrollTo(0, scrollY);
  requestAnimationFrame(() => post({ type: 'painted', ms: Math.max(0, performance.now() - arrivedAt), groups: a.groups.length }));
}

function showMessage(message: string, className: string): void {
  for (const figure of page?.figures.values() ?? []) figure.chart?.destroy();
  page = undefined;
  root.classList.remove('stale');
  root.replaceChildren(text('p', message, className));
}

window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  const arrivedAt = performance.now();
  const message = event.data;
  switch (message.type) {
    case 'loading':
      // Keeps the figures on screen, dimmed, so a refresh does not flicker.
      if (page) root.classList.add('stale');
      else showMessage(l10n.t('Loading the figures of {0}…', message.scopeText), 'muted');
      break;
    case 'analytics':
      render({ ...message.view, analytics: groupColumns(message.view.analytics) }, arrivedAt);
      break;
    case 'error':
      showMessage(message.message, 'section-error');
      break;
  }
});

// The theme changed: its colours are read again and the charts redrawn.
new MutationObserver(() => {
  theme = currentTheme();
  if (page && shown) drawCharts(shown);
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

post({ type: 'ready' });
