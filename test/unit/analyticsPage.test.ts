/**
 * Runs the Analytics page (bundled as it ships, Chart.js included) in node:vm on the recording
 * DOM (test/support/recordingDom.ts), posting it the figures StepStore.analytics computes on a
 * real SQLite file. The fake canvas has no 2D context, so no chart is drawn: the page must
 * still write its tables, captions and summaries, and say `painted`. Checks that every figure
 * shown is the formatter's text for the same number, that usage not recorded reads "not
 * recorded", that markup from the database stays text, and the messages the page sends.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { rangeSince, type AnalyticsGrouping, type StepAnalytics } from '../../src/core/analytics';
import { formatCost, formatDuration, formatExactCount, formatPercent, formatTokens } from '../../src/core/figures';
import { groupColumns, packAnalytics, unpackAnalytics, type AnalyticsView, type HostMessage, type PageMessage } from '../../src/shared/analyticsProtocol';
import { StepStore } from '../../src/core/stepStore';
import { fixtureRows, NOW, writeWithPython } from '../fixtures/analyticsRows';
import { DOCUMENTED_SCHEMA, makeTempDir } from '../fixtures/stepFixtures';
import { bundlePage, runPage, type FakeElement, type PageOptions } from '../support/recordingDom';

const root = path.resolve(__dirname, '..', '..');
const source = path.join(root, 'src', 'webview', 'analytics.ts');
const wasmPath = require.resolve('sql.js/dist/sql-wasm.wasm');
const html = '<img src=x onerror=alert(1)>';

let code: string;
let dir: string;
let store: StepStore;
let big: StepAnalytics;

const figures = (grouping: AnalyticsGrouping, range: 'all' | '30d' | '7d' = 'all') => store.analytics({ sinceMs: rangeSince(range, NOW), grouping });

/** The figures as the host posts them: their groups packed in columns. */
function view(analytics: StepAnalytics, over: Partial<Omit<AnalyticsView, 'analytics'>> = {}) {
  return { scopeText: `demo ${html} (steps.db)`, systemName: 'LaForge', range: 'all' as const, grouping: analytics.grouping, readAtMs: NOW, analytics: packAnalytics(analytics), ...over };
}

function load(options: PageOptions<PageMessage> = {}) {
  return runPage<HostMessage, PageMessage>(code, options);
}

type Page = ReturnType<typeof load>;

const byTag = (node: FakeElement, tag: string) => node.all().filter((e) => e.tagName === tag);
const figureOf = (page: Page, index: number) => byTag(page.root, 'figure')[index];
const toggleOf = (figure: FakeElement) => byTag(figure, 'button').find((b) => b.getAttribute('aria-controls'))!;
const tableHostOf = (page: Page, figure: FakeElement) => page.root.byId(toggleOf(figure).getAttribute('aria-controls')!)!;
/** The body rows of the first table under `node`, each as its cells' texts. */
const rowsOf = (node: FakeElement) => byTag(byTag(node, 'tbody')[0], 'tr').map((tr) => byTag(tr, 'td').map((td) => td.textContent));
const FIGURE = { tokens: 0, cost: 1, duration: 2, failures: 3, models: 4 };

function openTable(page: Page, which: keyof typeof FIGURE): FakeElement {
  const figure = figureOf(page, FIGURE[which]);
  toggleOf(figure).click();
  return tableHostOf(page, figure);
}

describe('Analytics page', function () {
  this.timeout(120_000);

  before(async () => {
    code = bundlePage(source);
    dir = makeTempDir();
    const db = path.join(dir, 'steps.db');
    // The fixture's steps, and one whose model's name is markup.
    const rows = fixtureRows();
    rows.push({ ...rows[3], id: rows.length + 1, agent_config_json: JSON.stringify({ model: html }) });
    writeWithPython(db, rows);
    store = await StepStore.open(db, { wasmPath });
    // 100,000 steps, written by SQLite itself.
    const many = path.join(dir, 'many.db');
    const script = [
      'import sqlite3, sys',
      'db = sqlite3.connect(sys.argv[1])',
      'db.executescript(sys.argv[2])',
      "db.execute(\"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) INSERT INTO steps (id, commit_sha_before, agent_config_json, start_time, duration_ms, token_usage_json, exit_code, project_id) SELECT i, 'a', '{\\\"model\\\":\\\"m\\\"}', datetime(1767225600 + i * 60, 'unixepoch'), 1000 + i % 5000, json_object('prompt_tokens', i % 1000, 'completion_tokens', 10, 'total_tokens', i % 1000 + 10, 'cost', (i % 7) / 64.0), i % 13 = 0, 'p' FROM n\")",
      'db.commit()',
    ].join('\n');
    execFileSync('python3', ['-c', script, many, DOCUMENTED_SCHEMA]);
    const manyStore = await StepStore.open(many, { wasmPath });
    big = manyStore.analytics({ sinceMs: null, grouping: 'step' });
    manyStore.close();
  });
  after(() => {
    store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('says ready first, and nothing else before the figures come', () => {
    assert.deepEqual(load().posted, [{ type: 'ready' }]);
  });

  it('shows a loading line, then an error as its sentence', () => {
    const page = load();
    page.receive({ type: 'loading', scopeText: 'demo' });
    assert.ok(page.root.textContent.includes('demo'), page.root.textContent);
    page.receive({ type: 'error', message: 'The database is gone.' });
    assert.deepEqual(page.root.texts(), ['The database is gone.']);
  });

  it('shows markup in a model name and in the scope as text, creating no element from it', () => {
    const page = load();
    page.receive({ type: 'analytics', view: view(figures('day')) });
    const models = openTable(page, 'models');
    assert.ok(rowsOf(models).some((r) => r[0] === html), JSON.stringify(rowsOf(models)));
    assert.ok(page.root.texts().includes(`demo ${html} (steps.db) · LaForge`));
    const tags = new Set(page.root.all().map((e) => e.tagName));
    for (const t of ['img', 'script', 'b']) assert.ok(!tags.has(t), `an ${t} element`);
  });

  it('writes the summary and every table cell as the formatter writes the same figures', () => {
    const page = load();
    const a = figures('day');
    page.receive({ type: 'analytics', view: view(a) });
    const texts = page.root.texts();
    for (const figure of [formatExactCount(a.totals.steps), formatTokens(a.totals.totalTokens), formatCost(a.totals.cost)]) assert.ok(texts.includes(figure), `${figure} in the summary`);
    assert.ok(texts.includes('3 steps record no usage: counted apart, not as zero'), JSON.stringify(texts));
    assert.ok(texts.includes('1 step has no start time: in the totals, in no day or week'));

    const orNot = (v: number | null, f: (n: number) => string) => (v === null ? 'not recorded' : f(v));
    assert.deepEqual(rowsOf(openTable(page, 'tokens')), a.groups.map((g) => [g.key, g.usageSteps === 0 ? 'not recorded' : formatTokens(g.totalTokens), formatTokens(g.cumulativeTotalTokens)]));
    assert.deepEqual(rowsOf(openTable(page, 'cost')), a.groups.map((g) => [g.key, g.costSteps === 0 ? 'not recorded' : formatCost(g.cost), a.totals.costSteps === 0 ? 'not recorded' : formatCost(g.cumulativeCost)]));
    assert.deepEqual(rowsOf(openTable(page, 'duration')), a.groups.map((g) => [g.key, orNot(g.durationSteps ? g.durationMs / g.durationSteps : null, formatDuration)]));
    assert.deepEqual(rowsOf(openTable(page, 'failures')), a.groups.map((g) => [g.key, formatExactCount(g.steps), formatExactCount(g.failures), formatExactCount(g.rollbacks)]));
    assert.deepEqual(
      rowsOf(openTable(page, 'models')),
      a.byModel.map((m) => [m.model, formatExactCount(m.steps), m.usageSteps ? formatTokens(m.totalTokens) : 'not recorded', m.costSteps ? formatCost(m.cost) : 'not recorded', formatPercent(m.failureRate), orNot(m.medianDurationMs, formatDuration)]),
    );
    const slowest = page.root.all().find((e) => e.tagName === 'section' && e.getAttribute('aria-labelledby') === 'slowest')!;
    assert.deepEqual(rowsOf(slowest), a.slowest.map((s) => [s.label, formatDuration(s.value)]));
    const expensive = page.root.all().find((e) => e.tagName === 'section' && e.getAttribute('aria-labelledby') === 'most-expensive')!;
    assert.deepEqual(rowsOf(expensive), a.mostExpensive.map((s) => [s.label, formatCost(s.value)]));
  });

  it('reads "not recorded" for a step whose usage is not recorded, never zero tokens', () => {
    const page = load();
    const a = figures('step');
    page.receive({ type: 'analytics', view: view(a) });
    const tokens = rowsOf(openTable(page, 'tokens'));
    const cost = rowsOf(openTable(page, 'cost'));
    // S6 wrote zeros, S7 `{}`, S12 no JSON: no usage recorded.
    for (const label of ['S6', 'S7', 'S12']) {
      assert.equal(tokens.find((r) => r[0] === label)?.[1], 'not recorded', label);
      assert.equal(cost.find((r) => r[0] === label)?.[1], 'not recorded', label);
    }
    assert.ok(!page.root.texts().some((t) => /^0 tokens?$/.test(t)), 'no "0 tokens" anywhere');
    // S13 records tokens and no cost: its tokens show, its cost is not recorded, never "$0.00".
    assert.notEqual(tokens.find((r) => r[0] === 'S13')?.[1], 'not recorded');
    assert.equal(cost.find((r) => r[0] === 'S13')?.[1], 'not recorded');
    // S14 and S15 have no duration.
    const duration = rowsOf(openTable(page, 'duration'));
    assert.deepEqual(duration.filter((r) => r[1] === 'not recorded').map((r) => r[0]), ['S14', 'S15']);
  });

  it('gives each chart a heading, a described canvas, and a toggle that reveals its table', () => {
    const page = load();
    page.receive({ type: 'analytics', view: view(figures('week', '30d')) });
    const all = byTag(page.root, 'figure');
    assert.equal(all.length, 5);
    for (const figure of all) {
      const heading = byTag(figure, 'h2')[0];
      assert.ok(heading.textContent.length > 0);
      assert.equal(figure.getAttribute('aria-labelledby'), heading.id);
      const canvas = byTag(figure, 'canvas')[0];
      assert.equal(canvas.getAttribute('role'), 'img');
      assert.match(canvas.getAttribute('aria-label') ?? '', /\d/, 'the summary tells the numbers');
      assert.equal(canvas.tabIndex, 0);
      const toggle = toggleOf(figure);
      const host = tableHostOf(page, figure);
      assert.equal(figure.children.indexOf(toggle), figure.children.indexOf(host) - 1, 'the toggle comes right before its table');
      assert.deepEqual([toggle.textContent, toggle.getAttribute('aria-expanded'), host.hidden, byTag(host, 'table').length], ['Show table', 'false', true, 0]);
      toggle.click();
      assert.deepEqual([toggle.textContent, toggle.getAttribute('aria-expanded'), host.hidden, byTag(host, 'table').length], ['Hide table', 'true', false, 1]);
      // Enter on the canvas closes it again.
      assert.ok(canvas.dispatch('keydown', { key: 'Enter' }));
      assert.deepEqual([toggle.getAttribute('aria-expanded'), host.hidden], ['false', true]);
    }
    assert.ok(byTag(page.root, 'figure')[0].texts().includes('Tokens per week'));
  });

  it('posts the options, the exports and the steps to open', () => {
    const page = load();
    page.receive({ type: 'analytics', view: view(figures('step'), { range: 'all' }) });
    const [range, grouping] = byTag(page.root, 'select');
    assert.deepEqual(byTag(range, 'option').map((o) => o.value), ['7d', '30d', 'all']);
    assert.deepEqual(byTag(grouping, 'option').map((o) => o.value), ['step', 'day', 'week']);
    assert.deepEqual([range.value, grouping.value], ['all', 'step']);
    range.value = '7d';
    range.dispatch('change');
    grouping.value = 'week';
    grouping.dispatch('change');
    const buttons = byTag(page.root, 'button');
    buttons.find((b) => b.textContent === 'Export CSV')!.click();
    buttons.find((b) => b.textContent === 'Export JSON')!.click();
    const tokens = openTable(page, 'tokens');
    byTag(tokens, 'a').find((a) => a.textContent === 'S5')!.click();
    const slowest = page.root.all().find((e) => e.tagName === 'section' && e.getAttribute('aria-labelledby') === 'slowest')!;
    const first = byTag(slowest, 'a')[0];
    first.click();
    page.runFrames();
    assert.deepEqual(page.posted.filter((m) => m.type !== 'painted'), [
      { type: 'ready' },
      { type: 'options', range: '7d', grouping: 'step' },
      { type: 'options', range: '7d', grouping: 'week' },
      { type: 'export', format: 'csv' },
      { type: 'export', format: 'json' },
      { type: 'openStep', target: '5' },
      { type: 'openStep', target: figures('step').slowest[0].target },
    ]);
    assert.equal(first.textContent, figures('step').slowest[0].label);
  });

  it('keeps an open table open and the chosen range across a live update, and in its state', () => {
    const page = load();
    page.receive({ type: 'analytics', view: view(figures('day'), { range: 'all' }) });
    openTable(page, 'cost');
    const [range] = byTag(page.root, 'select');
    range.value = '30d';
    range.dispatch('change');
    // A live update read before the host saw the choice.
    const cost = byTag(page.root, 'figure')[FIGURE.cost];
    const canvas = byTag(cost, 'canvas')[0];
    page.receive({ type: 'analytics', view: view(figures('day'), { range: 'all', readAtMs: NOW + 5000 }) });
    assert.equal(byTag(page.root, 'figure')[FIGURE.cost], cost, 'the same figure');
    assert.equal(byTag(cost, 'canvas')[0], canvas, 'the same canvas');
    assert.equal(toggleOf(cost).getAttribute('aria-expanded'), 'true');
    assert.equal(tableHostOf(page, cost).hidden, false);
    assert.equal(byTag(page.root, 'select')[0].value, '30d');
    assert.deepEqual(page.state(), { range: '30d', grouping: 'day', open: ['cost'] });
    assert.equal(page.posted.filter((m) => m.type === 'options').length, 1);
  });

  it('restores the range, grouping and open tables of its state after a reload, asking the host for them once', () => {
    const page = load({ state: { range: '7d', grouping: 'week', open: ['failures'] } });
    page.receive({ type: 'analytics', view: view(figures('day', '30d'), { range: '30d', grouping: 'day' }) });
    page.receive({ type: 'analytics', view: view(figures('week', '7d'), { range: '7d', grouping: 'week' }) });
    assert.deepEqual(page.posted.filter((m) => m.type === 'options'), [{ type: 'options', range: '7d', grouping: 'week' }]);
    const [range, grouping] = byTag(page.root, 'select');
    assert.deepEqual([range.value, grouping.value], ['7d', 'week']);
    assert.equal(toggleOf(figureOf(page, FIGURE.failures)).getAttribute('aria-expanded'), 'true');

    // The same choice as the host's: nothing to ask.
    const same = load({ state: { range: '30d', grouping: 'day', open: [] } });
    same.receive({ type: 'analytics', view: view(figures('day', '30d'), { range: '30d', grouping: 'day' }) });
    assert.equal(same.posted.filter((m) => m.type === 'options').length, 0);
  });

  it('says painted once the charts of each message are drawn, with the groups it held, though no canvas has a context', () => {
    const page = load();
    const a = figures('day');
    page.receive({ type: 'analytics', view: view(a) });
    assert.ok(!page.posted.some((m) => m.type === 'painted'), 'after the frame, not before');
    page.runFrames();
    const painted = page.posted.filter((m) => m.type === 'painted');
    assert.equal(painted.length, 1);
    assert.equal(painted[0].type === 'painted' && painted[0].groups, a.groups.length);
    assert.ok(painted[0].type === 'painted' && painted[0].ms >= 0);
    // A theme change redraws without a word to the host.
    page.setBodyClass('vscode-high-contrast');
    page.runFrames();
    assert.equal(page.posted.filter((m) => m.type === 'painted').length, 1);
  });

  it('gets the figures packed in columns, and unpacks them as they were, an undated step included', () => {
    for (const a of [figures('step'), figures('day'), big]) {
      const packed = packAnalytics(a);
      assert.ok(Object.values(packed.groups.numbers).every((b) => b instanceof ArrayBuffer && b.byteLength === a.groups.length * 8));
      assert.deepStrictEqual(unpackAnalytics(packed), a);
      // Read in place: map over every group, a group made at an index, none past the end.
      const { groups } = groupColumns(packed);
      assert.deepStrictEqual(groups.map((g, i) => [g.key, g.startMs, i]), a.groups.map((g, i) => [g.key, g.startMs, i]));
      assert.deepStrictEqual(groups.at(-1), a.groups.at(-1));
      assert.equal(groups.at(a.groups.length), undefined);
    }
    assert.ok(figures('step').groups.some((g) => g.startMs === null), 'the fixture has an undated step');
  });

  it('shows 100,000 steps with at most 200 table rows, "Show more" adding the next 200, and says the chart is a line', () => {
    assert.equal(big.groups.length, 100_000);
    const page = load();
    page.receive({ type: 'analytics', view: view(big) });
    page.runFrames();
    assert.deepEqual(page.posted.at(-1), { type: 'painted', ms: (page.posted.at(-1) as { ms: number }).ms, groups: 100_000 });
    const host = openTable(page, 'tokens');
    assert.equal(rowsOf(host).length, 200);
    assert.deepEqual(rowsOf(host)[199], ['S200', formatTokens(big.groups[199].totalTokens), formatTokens(big.groups[199].cumulativeTotalTokens)]);
    assert.ok(host.texts().includes('Showing 200 of 100,000 rows.'));
    byTag(host, 'button').find((b) => b.textContent === 'Show more')!.click();
    assert.equal(rowsOf(host).length, 400);
    assert.ok(page.root.all().length < 5000, `${page.root.all().length} elements`);
    const captions = byTag(page.root, 'p').filter((p) => p.className.includes('caption') && !p.hidden);
    assert.equal(captions.length, 4, 'each chart over the groups says it is drawn as a line');
    assert.equal(captions[0].textContent, 'Drawn as a line: there are more steps than the chart has pixels.');
  });

  it('draws real Chart.js charts on a recording 2D context, updates them in place, redraws on a theme change, and opens a step from a bar', () => {
    const contexts = new Map<FakeElement, { calls: string[]; acquired: number }>();
    const contextOf = (canvas: FakeElement) => {
      canvas.style ??= {};
      let c = contexts.get(canvas);
      if (!c) contexts.set(canvas, (c = { calls: [], acquired: 0 }));
      c.acquired++;
      const record = c.calls;
      // Every drawing call is recorded; measureText answers a width.
      return new Proxy({ canvas } as Record<string | symbol, unknown>, {
        get: (t, p) => (p in t ? t[p] : p === 'measureText' ? () => ({ width: 10 }) : p === 'getLineDash' ? () => [] : () => void record.push(String(p))),
        set: (t, p, v) => ((t[p] = v), true),
      });
    };
    const page = load({ getContext: contextOf });
    const a = figures('step');
    page.receive({ type: 'analytics', view: view(a) });
    page.runFrames();
    assert.deepEqual(page.consoleErrors, []);
    assert.equal(contexts.size, 5, 'a context for each chart');
    for (const { calls } of contexts.values()) assert.ok(calls.includes('fillRect') || calls.includes('lineTo'), 'something is drawn');
    const acquired = [...contexts.values()].map((c) => c.acquired);
    const drawn = [...contexts.values()].map((c) => c.calls.length);

    // A live update: drawn again, on the same charts.
    page.receive({ type: 'analytics', view: view(a, { readAtMs: NOW + 1000 }) });
    assert.deepEqual([...contexts.values()].map((c) => c.acquired), acquired, 'no chart made anew');
    assert.ok([...contexts.values()].every((c, i) => c.calls.length > drawn[i]), 'each chart drawn again');
    // A theme change: drawn again too.
    const before = [...contexts.values()].map((c) => c.calls.length);
    page.setBodyClass('vscode-high-contrast-light');
    assert.ok([...contexts.values()].every((c, i) => c.calls.length > before[i]), 'each chart redrawn in the new colours');
    assert.deepEqual(page.consoleErrors, []);

    // A click in the middle of the tokens chart: the step of the bar there.
    const tokens = byTag(figureOf(page, FIGURE.tokens), 'canvas')[0];
    tokens.dispatch('click', { offsetX: 300, offsetY: 130, clientX: 300, clientY: 130 });
    page.runFrames(); // Chart.js handles events in the next frame
    const opened = page.posted.filter((m) => m.type === 'openStep');
    assert.equal(opened.length, 1, JSON.stringify(page.posted));
    assert.ok(opened[0].type === 'openStep' && a.groups.some((g) => g.target === opened[0].target));

    // 100,000 steps: decimated lines, no error, and painted.
    page.receive({ type: 'analytics', view: view(big) });
    page.runFrames();
    assert.deepEqual(page.consoleErrors, []);
    assert.deepEqual(page.posted.filter((m) => m.type === 'painted').map((m) => m.type === 'painted' && m.groups), [a.groups.length, a.groups.length, 100_000]);
  });

  it('never asks the browser to parse HTML or code, and writes no inline style', () => {
    const files = ['analytics.ts', 'analyticsCharts.ts', 'dom.ts'].map((f) => fs.readFileSync(path.join(root, 'src', 'webview', f), 'utf8'));
    for (const text of files) {
      for (const sink of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'DOMParser', 'createContextualFragment', 'srcdoc', 'eval(', 'new Function', "setAttribute('style'", '.style.', '.style =', "createElement('style')"]) {
        assert.ok(!text.includes(sink), `the page uses ${sink}`);
      }
    }
    // Chart.js as bundled neither: no code from strings.
    assert.ok(!/\beval\(|new Function\(/.test(code), 'the bundle evaluates strings');
  });

  it('ships a minified bundle of at most 250 KB, as node esbuild.js --production builds it', () => {
    const { outputFiles } = buildSync({ entryPoints: [source], bundle: true, write: false, format: 'iife', platform: 'browser', target: 'es2022', minify: true, sourcemap: false, logLevel: 'silent' });
    const size = outputFiles[0].contents.byteLength;
    assert.ok(size <= 250 * 1024, `${size} bytes`);
    assert.ok(size > 50 * 1024, `${size} bytes: Chart.js is in it`);
  });
});
