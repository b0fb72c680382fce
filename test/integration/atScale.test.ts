/**
 * Measurements in a real VS Code on a steps.db of 100,000 steps, for `npm run bench` (which
 * runs this session alone: `npm test` never does). The Analytics panel is opened afresh each
 * time and the page reports how long after the figures arrived it had drawn every chart; the
 * same is measured per week (a few dozen groups), the reference of the same run. Each
 * measurement also checks what was drawn: every step's group.
 */
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { StepHistoryApi } from '../../src/extension';
import type { AnalyticsGrouping } from '../../src/shared/analyticsProtocol';
import type { ProjectNode, TreeNode } from '../../src/ui/treeNodes';
import { AT_SCALE } from './suites';
import { reportMetric, stepHistory, waitFor } from './support';

const STEPS = 100_000;
const RUNS = 5;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

describe(AT_SCALE, function () {
  this.timeout(600_000);
  let api: StepHistoryApi;
  let project: ProjectNode;

  before(async () => {
    api = (await stepHistory().activate()) as StepHistoryApi;
    await waitFor('the database to be found', () => api.databases().length > 0, 60_000);
    await waitFor('its project in the tree', async () => {
      const top = ((await api.testing.stepsTree.getChildren()) ?? []) as TreeNode[];
      project = top.find((n): n is ProjectNode => n.kind === 'project')!;
      return project !== undefined;
    }, 120_000);
  });

  /** Opens a new panel of the project per `grouping` and waits until the page drew the figures posted; the page's time. */
  async function firstPaint(grouping: AnalyticsGrouping): Promise<{ ms: number; groups: number }> {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await api.testing.analytics.receive({ type: 'options', range: 'all', grouping });
    await vscode.commands.executeCommand('stepHistory.showAnalytics', project);
    let painted: { ms: number; groups: number } | undefined;
    await waitFor(`the page to draw the figures per ${grouping}`, () => {
      const posted = api.testing.analytics.lastPosted();
      painted = api.testing.analytics.lastPainted();
      return posted !== undefined && posted.grouping === grouping && painted !== undefined && painted.groups === posted.analytics.groups.length;
    }, 120_000);
    return painted!;
  }

  it('draws the Analytics panel of 100,000 steps per step, and per week', async () => {
    const perStep: number[] = [];
    const perWeek: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const step = await firstPaint('step');
      assert.strictEqual(step.groups, STEPS, 'one group per step');
      perStep.push(step.ms);
      perWeek.push((await firstPaint('week')).ms);
    }
    reportMetric('analyticsFirstPaintPerStepMs', median(perStep));
    reportMetric('analyticsFirstPaintPerWeekMs', median(perWeek));
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
