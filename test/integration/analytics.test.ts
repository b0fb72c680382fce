/**
 * The Analytics panel in a real VS Code, on the demo workspace: what the host posts to the
 * page (checked against the sqlite3 CLI's counts on the same file), the page's messages
 * (another range and grouping, a step opened, an export), the page drawing its charts, and
 * a live update when a real SQLite writer changes a step.
 */
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { StepHistoryApi } from '../../src/extension';
import type { AnalyticsView } from '../../src/shared/analyticsProtocol';
import type { StepDetailsView } from '../../src/shared/detailsProtocol';
import type { ProjectNode, TreeNode } from '../../src/ui/treeNodes';
import type { DemoWorkspace } from '../fixtures/demoWorkspace';
import { DEMO_DESCRIPTION, IN_DEMO } from './suites';
import { stepHistory, waitFor } from './support';

describe(IN_DEMO, function () {
  this.timeout(60_000);
  let api: StepHistoryApi;
  let demo: DemoWorkspace;
  let root: string;

  const probe = () => api.testing.analytics;
  /** The sqlite3 CLI's answer on the demo database, as rows of values. */
  const cli = (sql: string) =>
    (JSON.parse(execFileSync('sqlite3', ['-readonly', '-json', demo.dbPath, sql], { encoding: 'utf8' }) || '[]') as Record<string, number>[])[0];

  async function project(): Promise<ProjectNode> {
    const top = ((await api.testing.stepsTree.getChildren()) ?? []) as TreeNode[];
    const found = top.find((n): n is ProjectNode => n.kind === 'project' && n.project.id === demo.projectId);
    assert.ok(found, 'the demo project is at the top of the tree');
    return found;
  }

  /** The next figures posted that satisfy `test`. */
  async function posted(what: string, test: (view: AnalyticsView) => boolean = () => true): Promise<AnalyticsView> {
    let view: AnalyticsView | undefined;
    await waitFor(what, () => {
      view = probe().lastPosted();
      return view !== undefined && test(view);
    }, 30_000);
    return view!;
  }

  before(async () => {
    root = vscode.workspace.workspaceFolders![0].uri.fsPath;
    demo = JSON.parse(fs.readFileSync(path.join(root, DEMO_DESCRIPTION), 'utf8'));
    api = (await stepHistory().activate()) as StepHistoryApi;
    await waitFor('the demo database to be found', () => api.databases().length > 0, 30_000);
    await api.projects(api.databases()[0].id);
  });

  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('posts the project\'s figures as the sqlite3 CLI counts them, and the page draws them', async () => {
    await probe().receive({ type: 'options', range: 'all', grouping: 'step' });
    await vscode.commands.executeCommand('stepHistory.showAnalytics', await project());
    const view = await posted('the project\'s figures', (v) => v.grouping === 'step' && v.range === 'all');
    const expected = cli(`SELECT count(*) AS steps, sum(active = 0) AS rollbacks FROM steps WHERE project_id = '${demo.projectId}'`);
    assert.strictEqual(view.analytics.totals.steps, expected.steps);
    assert.strictEqual(view.analytics.totals.rollbacks, expected.rollbacks);
    assert.strictEqual(view.analytics.totals.failures, demo.failedStepIds.filter((id) => !demo.rolledBackStepIds.includes(id)).length);
    assert.strictEqual(view.analytics.groups.length, expected.steps, 'one group per step');
    assert.ok(view.scopeText.includes(path.basename(demo.dbPath)), `the scope names the database: ${view.scopeText}`);
    assert.strictEqual(view.systemName, 'LaForge');
    // The real page, in the real editor, drew the charts of these groups.
    await waitFor('the page to draw the charts', () => probe().lastPainted()?.groups === view.analytics.groups.length, 30_000);
  });

  it('reads the figures again per day when the page asks, and keeps that choice', async () => {
    await vscode.commands.executeCommand('stepHistory.showAnalytics', await project());
    await posted('the first figures');
    await probe().receive({ type: 'options', range: '30d', grouping: 'day' });
    const view = await posted('the figures per day', (v) => v.grouping === 'day' && v.range === '30d');
    const days = cli(
      `SELECT count(DISTINCT date(start_time)) AS days FROM steps WHERE project_id = '${demo.projectId}' AND julianday(start_time) >= julianday('now', '-30 days')`,
    ).days;
    assert.strictEqual(view.analytics.groups.length, days);
    assert.ok(view.analytics.groups.every((g) => /^\d{4}-\d{2}-\d{2}$/.test(g.key) && g.target === null));
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('stepHistory.showAnalytics', await project());
    await posted('figures in a new panel, per day still', (v) => v.grouping === 'day' && v.range === '30d');
    await probe().receive({ type: 'options', range: 'all', grouping: 'step' });
  });

  it('opens a step\'s details from the figures, and ignores a step it did not show', async () => {
    await vscode.commands.executeCommand('stepHistory.showAnalytics', await project());
    const view = await posted('the figures', (v) => v.analytics.slowest.length > 0);
    const slowest = view.analytics.slowest[0];
    await probe().receive({ type: 'openStep', target: slowest.target });
    await waitFor(`details of ${slowest.label}`, () => {
      const details = api.testing.details.lastPosted() as { type?: string; details?: StepDetailsView } | undefined;
      return details?.type === 'details' && details.details?.label === slowest.label;
    }, 20_000);
    const before = api.testing.details.lastPosted();
    await probe().receive({ type: 'openStep', target: '999999' });
    await probe().receive({ type: 'openStep', target: '--output=/tmp/x' });
    assert.strictEqual(api.testing.details.lastPosted(), before, 'no other details opened');
  });

  it('saves the figures shown as CSV and as JSON, unrecorded usage as empty cells', async () => {
    await vscode.commands.executeCommand('stepHistory.showAnalytics', await project());
    const view = await posted('the figures per step', (v) => v.grouping === 'step');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'analytics-export-'));
    try {
      const csv = path.join(dir, 'figures.csv');
      probe().exportTo(vscode.Uri.file(csv));
      await probe().receive({ type: 'export', format: 'csv' });
      const lines = fs.readFileSync(csv, 'utf8').trimEnd().split('\r\n');
      assert.strictEqual(lines.length, view.analytics.groups.length + 1, 'a header and one line per group');
      assert.ok(lines[0].startsWith('group,start,steps,failures,rollbacks'));
      const unrecorded = view.analytics.groups.filter((g) => g.usageSteps === 0).map((g) => g.key);
      for (const line of lines.slice(1).filter((l) => unrecorded.includes(l.split(',')[0]))) {
        assert.match(line, /^[^,]*,[^,]*,1,\d,\d,0,1,,,,,/, `an unrecorded step's usage is empty, not zero: ${line}`);
      }
      const json = path.join(dir, 'figures.json');
      probe().exportTo(vscode.Uri.file(json));
      await probe().receive({ type: 'export', format: 'json' });
      const saved = JSON.parse(fs.readFileSync(json, 'utf8'));
      assert.deepStrictEqual(saved.totals, view.analytics.totals);
      assert.strictEqual(saved.groups.length, view.analytics.groups.length);
      assert.strictEqual(saved.system, 'LaForge');
    } finally {
      probe().exportTo(undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('updates the open panel when a real SQLite writer changes a step, keeping the grouping', async () => {
    await vscode.commands.executeCommand('stepHistory.showAnalytics', await project());
    await probe().receive({ type: 'options', range: 'all', grouping: 'week' });
    const before = await posted('the figures per week', (v) => v.grouping === 'week');
    const { id, usage } = cli(
      `SELECT id, token_usage_json AS usage FROM steps WHERE project_id = '${demo.projectId}' AND json_extract(token_usage_json, '$.total_tokens') > 0 ORDER BY id LIMIT 1`,
    ) as unknown as { id: number; usage: string };
    const sql = (statement: string) => execFileSync('sqlite3', [demo.dbPath, statement]);
    sql(`UPDATE steps SET token_usage_json = json_set(token_usage_json, '$.total_tokens', json_extract(token_usage_json, '$.total_tokens') + 1000) WHERE id = ${id}`);
    try {
      const after = await posted('the new total', (v) => v.analytics.totals.totalTokens === before.analytics.totals.totalTokens + 1000);
      assert.strictEqual(after.grouping, 'week', 'the live update keeps the grouping');
      assert.strictEqual(after.range, 'all');
    } finally {
      sql(`UPDATE steps SET token_usage_json = '${usage.replace(/'/g, "''")}' WHERE id = ${id}`);
    }
    await posted('the total as it was', (v) => v.analytics.totals.totalTokens === before.analytics.totals.totalTokens);
    await probe().receive({ type: 'options', range: 'all', grouping: 'step' });
  });
});
