/**
 * The Analytics page's Chart.js configurations (src/webview/analyticsCharts.ts), built from the
 * figures StepStore.analytics computes on a real SQLite file: gaps where usage or duration is
 * not recorded, the cumulative lines, decimation above the canvas's width and not below, the
 * theme's colours (high contrast included), and ticks and tooltips written by the formatter.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ChartConfiguration } from 'chart.js';
import type { StepAnalytics } from '../../src/core/analytics';
import { formatCost, formatCount, formatDuration, formatTokens } from '../../src/core/figures';
import { StepStore } from '../../src/core/stepStore';
import { analyticsCharts, minMaxPoints, readTheme, themeKind, type ChartSpec, type Theme } from '../../src/webview/analyticsCharts';
import { fixtureRows, writeWithPython } from '../fixtures/analyticsRows';
import { makeTempDir } from '../fixtures/stepFixtures';

const wasmPath = require.resolve('sql.js/dist/sql-wasm.wasm');

const VARIABLES: Record<string, string> = {
  '--vscode-charts-blue': '#0000f1',
  '--vscode-charts-red': '#f10000',
  '--vscode-charts-yellow': '#f1f100',
  '--vscode-charts-green': '#00f100',
  '--vscode-charts-orange': '#f18000',
  '--vscode-charts-purple': '#8000f1',
  '--vscode-charts-foreground': '#eeeeee',
  '--vscode-charts-lines': '#444444',
  '--vscode-font-family': ' "Segoe WPC", sans-serif',
  '--vscode-font-size': '14px',
};
const style = (vars: Record<string, string>) => ({ getPropertyValue: (name: string) => vars[name] ?? '' });
const THEME = readTheme(style(VARIABLES), 'vscode-dark');

type Dataset = { type?: string; label?: string; data: unknown[]; backgroundColor?: unknown; borderColor?: unknown; borderWidth?: number; pointStyle?: string; showLine?: boolean; yAxisID?: string };
const datasets = (spec: ChartSpec) => spec.config.data.datasets as unknown as Dataset[];
const chart = (specs: ChartSpec[], id: ChartSpec['id']) => specs.find((s) => s.id === id)!;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const opts = (config: ChartConfiguration) => config.options as any;

describe('Analytics charts', () => {
  let dir: string;
  let perStep: StepAnalytics;
  let perDay: StepAnalytics;

  before(async () => {
    dir = makeTempDir();
    const db = path.join(dir, 'steps.db');
    writeWithPython(db, fixtureRows());
    const store = await StepStore.open(db, { wasmPath });
    perStep = store.analytics({ sinceMs: null, grouping: 'step' });
    perDay = store.analytics({ sinceMs: null, grouping: 'day' });
    store.close();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('leaves a gap (null), never a zero, where no usage or no duration is recorded', () => {
    const specs = analyticsCharts(perStep, THEME, { widthPx: 600 });
    const index = (label: string) => perStep.groups.findIndex((g) => g.key === label);
    const [tokens] = datasets(chart(specs, 'tokens'));
    const [cost] = datasets(chart(specs, 'cost'));
    const [duration] = datasets(chart(specs, 'duration'));
    for (const label of ['S6', 'S7', 'S12']) {
      assert.equal(tokens.data[index(label)], null, `${label} tokens`);
      assert.equal(cost.data[index(label)], null, `${label} cost`);
    }
    assert.equal(tokens.data[index('S1')], perStep.groups[index('S1')].totalTokens);
    // S13 records tokens and no cost: its cost is not recorded, a gap too, not a zero.
    assert.equal(cost.data[index('S13')], null);
    assert.equal(tokens.data[index('S13')], perStep.groups[index('S13')].totalTokens);
    for (const label of ['S14', 'S15']) assert.equal(duration.data[index(label)], null, `${label} duration`);
    assert.equal(tokens.data.filter((v) => v === null).length, perStep.groups.filter((g) => g.usageSteps === 0).length);
  });

  it('draws a day\'s duration as the mean of its known durations', () => {
    const [duration] = datasets(chart(analyticsCharts(perDay, THEME, { widthPx: 600 }), 'duration'));
    assert.deepEqual(duration.data, perDay.groups.map((g) => (g.durationSteps === 0 ? null : g.durationMs / g.durationSteps)));
    assert.ok(perDay.groups.some((g) => g.durationSteps > 0 && g.durationSteps < g.steps), 'a day with a duration missing is in the fixture');
  });

  it('draws the cumulative totals as lines on a second axis, ending at the sum of the groups', () => {
    const specs = analyticsCharts(perDay, THEME, { widthPx: 600 });
    const [, tokens] = datasets(chart(specs, 'tokens'));
    const [, cost] = datasets(chart(specs, 'cost'));
    assert.deepEqual([tokens.type, tokens.yAxisID, cost.type, cost.yAxisID], ['line', 'y2', 'line', 'y2']);
    assert.deepEqual(tokens.data, perDay.groups.map((g) => g.cumulativeTotalTokens));
    assert.ok(perDay.totals.costSteps > 0);
    assert.deepEqual(cost.data, perDay.groups.map((g) => g.cumulativeCost));
    // The undated step is in the totals, in no day.
    assert.equal(tokens.data.at(-1), perDay.groups.reduce((n, g) => n + g.totalTokens, 0));
    assert.ok(opts(chart(specs, 'tokens').config).scales.y2);
  });

  it('marks rollbacks as triangles beside the failures\' bars', () => {
    const [failures, rollbacks] = datasets(chart(analyticsCharts(perDay, THEME, { widthPx: 600 }), 'failures'));
    assert.deepEqual([failures.type, rollbacks.type, rollbacks.showLine, rollbacks.pointStyle], ['bar', 'line', false, 'triangle']);
    assert.deepEqual(failures.data, perDay.groups.map((g) => g.failures));
    assert.deepEqual(rollbacks.data, perDay.groups.map((g) => (g.rollbacks > 0 ? g.rollbacks : null)));
  });

  it('draws the models as horizontal bars of cost', () => {
    const models = chart(analyticsCharts(perDay, THEME, { widthPx: 600 }), 'models');
    assert.equal(opts(models.config).indexAxis, 'y');
    assert.deepEqual(models.config.data.labels, perDay.byModel.map((m) => m.model));
    assert.deepEqual(datasets(models)[0].data, perDay.byModel.map((m) => (m.costSteps === 0 ? null : m.cost)));
  });

  it('turns decimation on above the canvas\'s width (lines, parsing false, {x, y}, linear x), off below', () => {
    const narrow = analyticsCharts(perStep, THEME, { widthPx: perStep.groups.length - 1 });
    const wide = analyticsCharts(perStep, THEME, { widthPx: perStep.groups.length });
    for (const id of ['tokens', 'cost', 'duration', 'failures'] as const) {
      const on = chart(narrow, id);
      assert.equal(on.decimated, true, id);
      assert.equal(opts(on.config).plugins.decimation, undefined, 'thinned before Chart.js sees the points');
      assert.equal(opts(on.config).parsing, false);
      assert.equal(opts(on.config).scales.x.type, 'linear');
      for (const d of datasets(on)) {
        assert.equal(d.type, 'line');
        assert.deepEqual(d.data[0], { x: 0, y: (d.data[0] as { y: unknown }).y });
        assert.equal(d.data.length, perStep.groups.length);
      }
      const off = chart(wide, id);
      assert.equal(off.decimated, false, id);
      assert.equal(opts(off.config).scales.x.type, 'category');
      assert.equal(datasets(off)[0].type, 'bar');
    }
    // Gaps stay gaps when decimated.
    const [tokens] = datasets(chart(narrow, 'tokens'));
    const s6 = perStep.groups.findIndex((g) => g.key === 'S6');
    assert.deepEqual(tokens.data[s6], { x: s6, y: null });
    for (const spec of [...narrow, ...wide]) assert.equal(opts(spec.config).animation, false);
  });

  it('thins 100,000 values to each pixel\'s lowest and highest, in order, keeping the extremes and the gaps', () => {
    const values: (number | null)[] = Array.from({ length: 100_000 }, (_, i) => (i >= 40_000 && i < 41_000 ? null : (i * 7919) % 1000));
    values[12_345] = 5000;
    values[77_777] = -5;
    const points = minMaxPoints(values, 400);
    assert.ok(points.length <= 800, `${points.length} points`);
    assert.ok(points.every((p, i) => i === 0 || p.x > points[i - 1].x), 'in order of the groups');
    assert.ok(points.every((p) => p.y === null || p.y === values[p.x]), 'each point is a group\'s own value');
    assert.deepEqual(points.find((p) => p.y === 5000), { x: 12_345, y: 5000 });
    assert.deepEqual(points.find((p) => p.y === -5), { x: 77_777, y: -5 });
    // 40,000..40,999 record nothing: the runs inside them are gaps.
    assert.ok(points.some((p) => p.y === null && p.x >= 40_000 && p.x < 41_000));
    // Few enough values: every one of them.
    assert.deepEqual(minMaxPoints([3, null, 1], 2), [{ x: 0, y: 3 }, { x: 1, y: null }, { x: 2, y: 1 }]);
  });

  it('takes its colours and font from the theme\'s variables, and VS Code\'s own where one is missing', () => {
    assert.deepEqual(
      [THEME.blue, THEME.red, THEME.foreground, THEME.lines, THEME.fontFamily, THEME.fontSize],
      ['#0000f1', '#f10000', '#eeeeee', '#444444', '"Segoe WPC", sans-serif', 14],
    );
    const specs = analyticsCharts(perDay, THEME, { widthPx: 600 });
    const [tokens, cumulative] = datasets(chart(specs, 'tokens'));
    assert.deepEqual([tokens.backgroundColor, cumulative.borderColor, tokens.borderWidth], ['#0000f1', '#8000f1', 1]);
    assert.equal(datasets(chart(specs, 'failures'))[0].backgroundColor, '#f10000');
    const o = opts(chart(specs, 'tokens').config);
    assert.deepEqual([o.scales.x.ticks.color, o.scales.y.grid.color, o.plugins.legend.labels.font.family, o.scales.y.ticks.font.size], ['#eeeeee', '#444444', '"Segoe WPC", sans-serif', 14]);
    const light = readTheme(style({}), 'vscode-light');
    assert.deepEqual([light.kind, light.blue, light.foreground, light.fontSize], ['light', '#1a85ff', '#616161', 13]);
  });

  it('knows the high-contrast themes, drawing their bars outlined in the foreground, thicker', () => {
    assert.equal(themeKind('vscode-high-contrast'), 'high-contrast');
    assert.equal(themeKind('vscode-high-contrast vscode-high-contrast-light'), 'high-contrast-light');
    assert.equal(themeKind('vscode-high-contrast-light'), 'high-contrast-light');
    assert.equal(themeKind('vscode-light'), 'light');
    assert.equal(themeKind('vscode-dark'), 'dark');
    const hc: Theme = readTheme(style({ '--vscode-charts-foreground': '#ffffff', '--vscode-charts-blue': '#3794ff' }), 'vscode-high-contrast');
    const [bars, line] = datasets(chart(analyticsCharts(perDay, hc, { widthPx: 600 }), 'tokens'));
    assert.deepEqual([bars.backgroundColor, bars.borderColor, bars.borderWidth, line.borderWidth], ['#3794ff', '#ffffff', 2, 2]);
    const hcLight = readTheme(style({}), 'vscode-high-contrast-light');
    assert.deepEqual([hcLight.foreground, hcLight.lines], ['#292929', '#292929']);
    assert.equal(datasets(chart(analyticsCharts(perDay, hcLight, { widthPx: 600 }), 'models'))[0].borderColor, '#292929');
  });

  it('writes ticks and tooltips through the formatter', () => {
    const specs = analyticsCharts(perDay, THEME, { widthPx: 600 });
    const tokens = opts(chart(specs, 'tokens').config);
    assert.equal(tokens.scales.y.ticks.callback(12_300), formatCount(12_300));
    assert.equal(opts(chart(specs, 'cost').config).scales.y.ticks.callback(0.25), formatCost(0.25));
    assert.equal(opts(chart(specs, 'duration').config).scales.y.ticks.callback(85_300), formatDuration(85_300));
    const item = { datasetIndex: 0, parsed: { x: 1, y: 4200 } };
    assert.equal(tokens.plugins.tooltip.callbacks.label(item), `Tokens: ${formatTokens(4200)}`);
    assert.equal(tokens.plugins.tooltip.callbacks.title([item]), perDay.groups[1].key);
  });

  it('opens the step of a bar clicked on a per-step chart, decimated or not, and none per day', () => {
    for (const widthPx of [600, 5]) {
      const opened: number[] = [];
      const specs = analyticsCharts(perStep, THEME, { widthPx, onGroup: (i) => opened.push(i) });
      const config = chart(specs, 'tokens').config;
      const data = config.data.datasets[0].data;
      opts(config).onClick({}, [{ datasetIndex: 0, index: 3 }], { data: { datasets: [{ data }] } });
      // Thinned, the fourth point is the group it was taken from.
      const point = data[3] as number | { x: number };
      assert.deepEqual(opened, [typeof point === 'number' || point === null ? 3 : point.x], `width ${widthPx}`);
    }
    // A point elsewhere (a tooltip's nearest x) opens the group nearest it.
    const opened: number[] = [];
    const config = chart(analyticsCharts(perStep, THEME, { widthPx: 5, onGroup: (i) => opened.push(i) }), 'cost').config;
    opts(config).onClick({}, [{ datasetIndex: 0, index: 0 }], { data: { datasets: [{ data: [{ x: 6.6, y: 1 }] }] } });
    assert.deepEqual(opened, [7]);
    assert.equal(opts(chart(analyticsCharts(perDay, THEME, { widthPx: 600, onGroup: () => undefined }), 'tokens').config).onClick, undefined);
  });

  it('describes each chart in a sentence with its figures', () => {
    const specs = analyticsCharts(perDay, THEME, { widthPx: 600 });
    assert.ok(chart(specs, 'tokens').summary.includes(formatTokens(perDay.totals.totalTokens)), chart(specs, 'tokens').summary);
    assert.ok(chart(specs, 'cost').summary.includes(formatCost(perDay.totals.cost)));
    assert.match(chart(specs, 'failures').summary, /3 failures and 3 rollbacks/);
  });
});
