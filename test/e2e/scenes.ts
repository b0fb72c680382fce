/**
 * End-to-end scenes: what a user sees in the workbench, run in order in one window opened on a
 * workspace with a steps.db. Each scene starts from whatever the last one left (reset() closes
 * widgets), checks what it shows by waiting for it, and takes its screenshots. Add a scene by
 * appending to `scenes`.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { Locator } from 'playwright-core';
import { DATABASE_PROBLEMS } from '../fixtures/databaseProblems';
import { appendDemoStep, type DemoWorkspace } from '../fixtures/demoWorkspace';
import type { LaforgeFixture } from '../fixtures/laforgeToday';
import type { ConstellationFixture } from '../fixtures/constellation';
import type { LlmoFixture } from '../fixtures/llmOrchestration';
import type { StudioRealFixture } from '../fixtures/studio';
import type { ThemeName } from '../harness/themes';
import { databaseProblems, demo, demoWithAgents, laforge, otherSystems, withoutStepsDb, type WorkspaceKind } from '../harness/workspaces';
import { DEMO_DESCRIPTION, LAFORGE_DESCRIPTION, SYSTEMS_DESCRIPTION } from '../integration/suites';
import { escapeRegExp, Workbench } from './workbench';

/** What a scene knows of its session besides the window. */
export interface SceneContext {
  /** The workspace folder the window has open, for scenes that act as another program would. */
  workspace: string;
}

export interface Scene {
  name: string;
  run(wb: Workbench, session: SceneContext): Promise<void>;
}

/** Opens the Step History container and waits for a step row, so the tree has loaded. */
async function openSteps(wb: Workbench, row: string) {
  await wb.reset();
  const sideBar = await wb.openViewContainer('Step History');
  await wb.treeRow(row).waitFor({ state: 'visible', timeout: 30_000 });
  return sideBar;
}

const demoScenes: Scene[] = [
  {
    name: 'workspace-open',
    async run(wb) {
      await wb.sideBar().locator('.monaco-list-row', { hasText: 'steps.db' }).waitFor({ state: 'visible' });
      await wb.screenshot('workspace-open');
    },
  },
  {
    name: 'command-palette',
    async run(wb) {
      await wb.reset();
      // Rows the palette's first screen shows (it lists the commands by name and draws only those in view).
      await wb.paletteRow('Step History', 'Step History: Open Step Details');
      await wb.quickPickRow('Step History: Compare Two Steps…').waitFor({ state: 'visible' });
      await wb.screenshot('command-palette');
    },
  },
  {
    name: 'show-log',
    async run(wb) {
      await wb.reset();
      await wb.runCommand('Step History: Show Log');
      // The Output panel opens on the extension's log channel.
      const panel = wb.panel();
      await panel.waitFor({ state: 'visible' });
      await panel.locator('select[aria-label="Switch Output"] option:checked', { hasText: /^Step History$/ }).first().waitFor({ state: 'attached' });
      await wb.screenshot('show-log');
    },
  },
  {
    name: 'steps-tree',
    async run(wb) {
      await openSteps(wb, 'S22');
      for (const label of ['S9', 'S16', 'S14']) await wb.treeRow(label).waitFor({ state: 'visible' });
      await wb.screenshot('steps-tree');
    },
  },
  {
    name: 'filter-failed',
    async run(wb) {
      const sideBar = await openSteps(wb, 'S22');
      await wb.runCommandAndPick('Step History: Filter Steps…', 'Failed steps only');
      // Across the view: how many steps it lists of how many, and the project's count follows.
      await sideBar.getByText(/^\d+ of \d+ steps · failed$/).waitFor({ state: 'visible', timeout: 30_000 });
      await wb.treeRow('ledgerline').filter({ hasText: /\d+ of \d+ steps/ }).waitFor({ state: 'visible', timeout: 30_000 });
      await wb.screenshot('filter-failed');
      await sideBar.getByRole('button', { name: 'Clear Filter' }).first().click();
      await sideBar.getByText(/^\d+ of \d+ steps · failed$/).waitFor({ state: 'hidden', timeout: 30_000 });
    },
  },
  {
    name: 'step-files-and-diff',
    async run(wb) {
      await openSteps(wb, 'S22');
      await wb.treeRow('S13').click();
      await wb.page.keyboard.press('ArrowRight');
      const file = wb.treeRow('i18n.ts');
      await file.waitFor({ state: 'visible', timeout: 20_000 });
      await wb.screenshot('step-files');
      await file.click();
      await wb.editorTab(/src\/i18n\.ts \(S13\)/).waitFor({ state: 'visible', timeout: 20_000 });
      await wb.page.locator('.monaco-diff-editor').first().waitFor({ state: 'visible' });
      await wb.screenshot('file-diff');
    },
  },
  {
    name: 'multi-file-diff',
    async run(wb) {
      await wb.reset();
      await wb.runCommandAndPick('Step History: Show Step Changes', 'S6');
      await wb.editorTab(/S6 · Changes \(30 files\)/).waitFor({ state: 'visible', timeout: 30_000 });
      await wb.page.locator('.monaco-diff-editor').first().waitFor({ state: 'visible', timeout: 30_000 });
      await wb.screenshot('multi-file-diff');
    },
  },
  {
    name: 'details-panel',
    async run(wb) {
      await wb.reset();
      await wb.runCommandAndPick('Step History: Open Step Details', 'S19');
      await wb.editorTab(/S19 · Step Details/).waitFor({ state: 'visible', timeout: 20_000 });
      const page = wb.webview();
      // The system prompt holds HTML; the page shows it as text.
      await page.getByText('<script>alert("x")</script>', { exact: false }).first().waitFor({ state: 'visible', timeout: 20_000 });
      await wb.screenshot('details-panel');
    },
  },
  {
    name: 'rollback-and-undo',
    async run(wb, { workspace }) {
      // The running step finishes and one more completes, as LaForge would; then the user
      // edits a file without committing, so the rollback has work to keep safe.
      const appended = appendDemoStep(workspace);
      fs.appendFileSync(path.join(workspace, 'src', 'cli.ts'), '\n// an edit of my own, not committed\n');
      await openSteps(wb, appended.label);

      await wb.runCommandAndPick('Step History: Roll Back to Step…', 'S20');
      await wb.editorTab(/Rollback plan for S20/).waitFor({ state: 'visible', timeout: 30_000 });
      const dialog = wb.page.locator('.monaco-dialog-box');
      await dialog.waitFor({ state: 'visible', timeout: 30_000 });
      await dialog.getByText(/S20/).first().waitFor({ state: 'visible' });
      await wb.screenshot('rollback-confirm');
      await dialog.getByRole('button', { name: 'Keep My Work Safe and Roll Back' }).click();
      await dialog.waitFor({ state: 'hidden' });

      const toasts = wb.page.locator('.notifications-toasts');
      const undo = toasts.getByRole('button', { name: 'Undo', exact: true });
      await undo.waitFor({ state: 'visible', timeout: 60_000 });
      await wb.treeRow('S20').filter({ hasText: 'rolled back' }).waitFor({ state: 'visible', timeout: 30_000 });
      await wb.screenshot('rollback-done');

      await undo.click();
      await dialog.waitFor({ state: 'visible', timeout: 30_000 });
      await dialog.getByRole('button', { name: 'Undo Rollback' }).click();
      await dialog.waitFor({ state: 'hidden' });
      for (const label of ['S20', 'S21', appended.label]) {
        await wb.treeRow(label).filter({ hasNotText: 'rolled back' }).waitFor({ state: 'visible', timeout: 60_000 });
      }
      await wb.screenshot('rollback-undone');
    },
  },
];

const welcomeScenes: Scene[] = [
  {
    name: 'welcome-view',
    async run(wb) {
      await wb.reset();
      const sideBar = await wb.openViewContainer('Step History');
      await sideBar.getByText('No agent database found').waitFor({ state: 'visible', timeout: 30_000 });
      await sideBar.getByText(/LaForge, Constellation, Autonomous Software Studio and LLM Orchestration/).waitFor({ state: 'visible' });
      await sideBar.getByRole('button', { name: 'Open Step Database…' }).waitFor({ state: 'visible' });
      await wb.screenshot('welcome-view');
    },
  },
];

/** The LaForge fixture the harness left beside the workspace's repository. */
function laforgeFixture(workspace: string): LaforgeFixture {
  return JSON.parse(fs.readFileSync(path.join(workspace, LAFORGE_DESCRIPTION), 'utf8')) as LaforgeFixture;
}

/** A project as LaForge at HEAD leaves it, found under ~/.laforge: steps, their own changes, a log, an unmerged step, a plan. */
const laforgeScenes: Scene[] = [
  {
    name: 'laforge-steps-tree',
    async run(wb, { workspace }) {
      const fixture = laforgeFixture(workspace);
      const newest = fixture.steps[fixture.steps.length - 1];
      await openSteps(wb, newest.label);
      await wb.treeRow(fixture.steps[0].label).waitFor({ state: 'visible' });
      await wb.screenshot('laforge-steps-tree');
    },
  },
  {
    name: 'laforge-step-files-and-diff',
    async run(wb, { workspace }) {
      const fixture = laforgeFixture(workspace);
      const step = [...fixture.steps].reverse().find((s) => s.outcome === 'fast-forward' && s.nameStatus.some((l) => /^[AM]\t/.test(l)))!;
      const file = step.nameStatus.find((l) => /^[AM]\t/.test(l))!.split('\t')[1];
      await openSteps(wb, fixture.steps[fixture.steps.length - 1].label);
      await wb.treeRow(step.label).click();
      await wb.page.keyboard.press('ArrowRight');
      const row = wb.treeRow(path.basename(file));
      await row.waitFor({ state: 'visible', timeout: 20_000 });
      await wb.screenshot('laforge-step-files');
      await row.click();
      await wb.page.locator('.monaco-diff-editor').first().waitFor({ state: 'visible', timeout: 20_000 });
      await wb.screenshot('laforge-file-diff');
    },
  },
  {
    name: 'laforge-running-step',
    async run(wb, { workspace }) {
      const fixture = laforgeFixture(workspace);
      const running = fixture.steps.find((s) => s.id === fixture.runningStepId)!;
      const file = running.nameStatus[0].split('\t').pop()!;
      await openSteps(wb, running.label);
      await wb.treeRow(running.label).filter({ hasText: /live · \d+ files?/ }).waitFor({ state: 'visible', timeout: 20_000 });
      await wb.treeRow(running.label).click();
      await wb.page.keyboard.press('ArrowRight');
      await wb.treeRow(path.basename(file)).waitFor({ state: 'visible', timeout: 20_000 });
      await wb.screenshot('laforge-running-step');
    },
  },
  {
    name: 'laforge-unmerged-step',
    async run(wb, { workspace }) {
      const fixture = laforgeFixture(workspace);
      const unmerged = fixture.steps.find((s) => s.finished && s.commit && s.branchKept && !s.mergeCommit)!;
      await openSteps(wb, fixture.steps[fixture.steps.length - 1].label);
      await wb.treeRow(unmerged.label).filter({ hasText: `not merged (step-${unmerged.label})` }).waitFor({ state: 'visible', timeout: 20_000 });
      await wb.screenshot('laforge-unmerged-step');
    },
  },
  {
    name: 'laforge-step-log',
    async run(wb, { workspace }) {
      const fixture = laforgeFixture(workspace);
      const step = fixture.steps.find((s) => s.finished && s.logSummary)!;
      await wb.reset();
      await wb.runCommandAndPick('Step History: Open Step Log', step.label);
      await wb.editorTab(new RegExp(step.label)).waitFor({ state: 'visible', timeout: 20_000 });
      await wb.screenshot('laforge-step-log');
    },
  },
  {
    name: 'laforge-rollback-plan',
    async run(wb, { workspace }) {
      const fixture = laforgeFixture(workspace);
      const person = fixture.personCommits[0];
      await wb.reset();
      await wb.runCommandAndPick('Step History: Roll Back to Step…', fixture.steps[0].label);
      await wb.editorTab(new RegExp(`Rollback plan for ${fixture.steps[0].label}`)).waitFor({ state: 'visible', timeout: 30_000 });
      // The plan's only commit to keep safe is the person's, named by its subject.
      const personCommit = wb.webview().getByText(person.message.split('\n')[0], { exact: false }).first();
      await personCommit.waitFor({ state: 'visible', timeout: 30_000 });
      await wb.webview().getByText(/^Commits no step recorded \(\d+\)$/).scrollIntoViewIfNeeded();
      await wb.screenshot('laforge-rollback-plan');
    },
  },
];

/** One browser session per workspace, each running its scenes in order. */
/** The other systems' fixtures, as the harness described them beside the workspace. */
function systemsFixtures(workspace: string): { llmo: LlmoFixture; studio: StudioRealFixture; constellation: ConstellationFixture } {
  return JSON.parse(fs.readFileSync(path.join(workspace, SYSTEMS_DESCRIPTION), 'utf8'));
}

/** Expands a tree row with the keyboard and waits for a row under it. */
async function expandTo(wb: Workbench, row: string, child: string): Promise<void> {
  await wb.treeRow(row).click();
  await wb.page.keyboard.press('ArrowRight');
  await wb.treeRow(child).waitFor({ state: 'visible', timeout: 20_000 });
}

const otherSystemsScenes: Scene[] = [
  {
    name: 'systems-tree',
    async run(wb, { workspace }) {
      const { llmo, studio, constellation } = systemsFixtures(workspace);
      await openSteps(wb, llmo.workflows.find((w) => !w.deleted)!.name);
      await wb.treeRow(studio.sessions[0].userMission.split('\n')[0]).waitFor({ state: 'visible', timeout: 30_000 });
      await wb.treeRow(constellation.projects[0].name).waitFor({ state: 'visible', timeout: 30_000 });
      await wb.screenshot('systems-tree');
    },
  },
  {
    name: 'llmo-response',
    async run(wb, { workspace }) {
      const { llmo } = systemsFixtures(workspace);
      const run = llmo.runs.find((r) => r.status === 'completed' && !r.workflowDeleted && r.responseIds.length > 0)!;
      const response = llmo.responses.find((r) => r.id === run.responseIds[0])!;
      await openSteps(wb, run.workflowName);
      const runRow = wb.sideBar().locator('.monaco-list-row[aria-level="2"]').first();
      await wb.treeRow(run.workflowName).click();
      await wb.page.keyboard.press('ArrowRight');
      await runRow.waitFor({ state: 'visible', timeout: 20_000 });
      await runRow.click();
      await wb.page.keyboard.press('ArrowRight');
      const responseRow = wb.sideBar().locator('.monaco-list-row[aria-level="3"]').first();
      await responseRow.waitFor({ state: 'visible', timeout: 20_000 });
      await responseRow.click();
      await wb.page.keyboard.press('ArrowRight');
      await wb.treeRow('Response').waitFor({ state: 'visible', timeout: 20_000 });
      await wb.screenshot('llmo-run-responses');
      await wb.treeRow('Response').click();
      await wb.page.locator('.monaco-diff-editor').first().waitFor({ state: 'visible', timeout: 20_000 });
      await wb.page.getByText(response.content.split('\n')[0].slice(0, 30), { exact: false }).first().waitFor({ state: 'visible', timeout: 20_000 });
      await wb.screenshot('llmo-response-diff');
    },
  },
  {
    name: 'studio-checkpoints',
    async run(wb, { workspace }) {
      const { studio } = systemsFixtures(workspace);
      const session = studio.sessions.find((s) => s.scenario === 'completed')!;
      const label = session.userMission.split('\n')[0];
      await openSteps(wb, label);
      await expandTo(wb, label, 'pm');
      await wb.screenshot('studio-checkpoints');
      await expandTo(wb, 'pm', 'state');
      await wb.treeRow('state').click();
      await wb.page.locator('.monaco-diff-editor').first().waitFor({ state: 'visible', timeout: 20_000 });
      await wb.page.locator('.monaco-diff-editor .view-lines', { hasText: 'user_mission' }).first().waitFor({ state: 'visible', timeout: 20_000 });
      await wb.screenshot('studio-state-diff');
    },
  },
  {
    name: 'constellation-details',
    async run(wb, { workspace }) {
      const { constellation } = systemsFixtures(workspace);
      const project = constellation.projects.find((p) => constellation.agents.some((a) => a.projectId === p.id && constellation.iterations.some((it) => it.agentId === a.id)))!;
      const agent = constellation.agents.find((a) => a.projectId === project.id && a.parentId === null && constellation.iterations.some((it) => it.agentId === a.id))!;
      await openSteps(wb, project.name);
      await expandTo(wb, project.name, agent.name ?? '(unnamed agent)');
      await expandTo(wb, agent.name ?? '(unnamed agent)', '#1');
      await wb.screenshot('constellation-iterations');
      await wb.rowMenu('#1', 'Open Step Details');
      await wb.webview().locator('h1').first().waitFor({ state: 'visible', timeout: 20_000 });
      await wb.webview().getByText('Messages', { exact: false }).first().waitFor({ state: 'visible', timeout: 20_000 });
      await wb.screenshot('constellation-details');
    },
  },
];

/** The demo workspace as the harness described it beside its repository. */
function demoFixture(workspace: string): DemoWorkspace {
  return JSON.parse(fs.readFileSync(path.join(workspace, DEMO_DESCRIPTION), 'utf8')) as DemoWorkspace;
}

/** A tree row's icon: the codicon class it shows (`codicon-warning`, `codicon-pass`, …). */
function rowIcon(wb: Workbench, label: string): Locator {
  return wb.treeRow(label).locator('.custom-view-tree-node-item-icon');
}

/**
 * Rests the pointer on `target` until VS Code's hover shows `text`. A hover can fail to come up
 * when the pointer arrives while another widget closes, so the pointer leaves and comes back, a
 * few times.
 */
async function hoverUntil(wb: Workbench, target: Locator, text: string | RegExp): Promise<void> {
  const hover = wb.page.locator('.monaco-hover, .workbench-hover', { hasText: text }).first();
  for (let attempt = 1; ; attempt++) {
    await wb.page.mouse.move(900, 600);
    await target.hover();
    try {
      await hover.waitFor({ state: 'visible', timeout: 5_000 });
      return;
    } catch (err) {
      if (attempt === 4) throw err;
    }
  }
}

/** The notification toasts in the window's bottom right. */
function toasts(wb: Workbench): Locator {
  return wb.page.locator('.notifications-toasts');
}

/**
 * What the findings of one review look like now, in the demo workspace (S22 still running,
 * failed steps, S22's work uncommitted in the working tree). Each scene's screenshot is of one
 * finding, at the side bar's default width.
 */
const oneVoiceScenes: Scene[] = [
  {
    name: 'filter-counts',
    async run(wb, { workspace }) {
      const fixture = demoFixture(workspace);
      const failed = fixture.failedStepIds.length;
      const counted = `${failed} of ${fixture.stepCount} ${fixture.stepCount === 1 ? 'step' : 'steps'}`;
      const sideBar = await openSteps(wb, 'S22');
      await wb.runCommandAndPick('Step History: Filter Steps…', 'Failed steps only');
      // The view's message says how many of how many, and the project's row the same count.
      await sideBar.getByText(`${counted} · failed`, { exact: true }).waitFor({ state: 'visible', timeout: 30_000 });
      await wb.treeRow('ledgerline').filter({ hasText: counted }).waitFor({ state: 'visible', timeout: 30_000 });
      // Clear Filter is on the view's title bar, beside Filter Steps….
      const clear = sideBar.locator('.composite.title .actions-container').getByRole('button', { name: 'Clear Filter' });
      await hoverUntil(wb, clear, 'Clear Filter');
      await wb.screenshot('filter-counts');
      await clear.click();
      await sideBar.getByText(`${counted} · failed`, { exact: true }).waitFor({ state: 'hidden', timeout: 30_000 });
    },
  },
  {
    name: 'compare-with-working-tree',
    async run(wb) {
      await openSteps(wb, 'S21');
      await wb.rowMenu('S21', 'Compare Step with Working Tree');
      await wb.editorTab(/^S21 ↔ Working Tree · Changes \(\d+ files?\)/).waitFor({ state: 'visible', timeout: 30_000 });
      const editor = wb.page.locator('.part.editor');
      await editor.locator('.monaco-diff-editor').first().waitFor({ state: 'visible', timeout: 30_000 });
      // A modified file's header in the multi-file diff: no status letter (a renamed one shows
      // "R" and its old name, struck through, beside the new one).
      const header = editor.locator('.file-path', { has: wb.page.locator('.title.modified .label-name', { hasText: /^money\.ts$/ }) }).first();
      await header.waitFor({ state: 'visible', timeout: 20_000 });
      const status = (await header.locator('.status').textContent())?.trim();
      const oldName = (await header.locator('.title.original .label-name').textContent())?.trim();
      if (status || oldName) throw new Error(`money.ts, modified, shows as "${status}" from "${oldName}"`);
      if ((await editor.getByText('steps.db', { exact: false }).count()) > 0) throw new Error('the comparison lists steps.db');
      await wb.screenshot('compare-with-working-tree');
    },
  },
  {
    name: 'rollback-waits-for-running-step',
    async run(wb) {
      await wb.reset();
      await wb.runCommandAndPick('Step History: Roll Back to Step…', 'S20');
      await wb.editorTab(/Rollback plan for S20/).waitFor({ state: 'visible', timeout: 30_000 });
      await wb.webview().getByText(/^Roll back \S+ to before S20$/).first().waitFor({ state: 'visible', timeout: 30_000 });
      // Not an error: a progress notification that waits for S22, with Cancel.
      const waiting = toasts(wb).locator('.notification-toast', {
        hasText: 'S22 is still running. Waiting for it to finish before you can roll back to S20',
      });
      await waiting.waitFor({ state: 'visible', timeout: 30_000 });
      const cancel = waiting.getByRole('button', { name: 'Cancel' });
      await cancel.waitFor({ state: 'visible' });
      if (await toasts(wb).locator('.codicon-error').first().isVisible()) throw new Error('an error notification is showing');
      await wb.screenshot('rollback-waits-for-running-step');
      await cancel.click();
      await waiting.waitFor({ state: 'hidden', timeout: 20_000 });
    },
  },
];

/**
 * The findings about databases read badly, in a folder without git holding a good database, a
 * file that is not SQLite and a database with damaged rows (fixtures/databaseProblems.ts).
 */
const oneVoiceDatabaseScenes: Scene[] = [
  {
    name: 'database-error-row',
    async run(wb) {
      const { good, notSqlite } = DATABASE_PROBLEMS;
      await openSteps(wb, good.steps[good.steps.length - 1]);
      // The reason first, the database's label after it; the path in the tooltip.
      const row = wb.sideBar().locator('.monaco-list-row', { has: wb.page.locator('.label-name', { hasText: /is not a SQLite database\.$/ }) }).first();
      await row.waitFor({ state: 'visible', timeout: 30_000 });
      await row.locator('.label-description', { hasText: notSqlite.label }).waitFor({ state: 'visible' });
      await row.locator('.codicon-error').waitFor({ state: 'visible' });
      await hoverUntil(wb, row, `/${notSqlite.label}`);
      await wb.screenshot('database-error-row');
      // Choosing the row runs its first remedy: Open Step Database….
      await row.click();
      const dialog = wb.page.locator('.quick-input-widget', { hasText: 'Open Step Database' });
      await dialog.waitFor({ state: 'visible', timeout: 20_000 });
      await wb.screenshot('database-error-remedy');
      await wb.reset();
      await dialog.waitFor({ state: 'hidden' });
    },
  },
  {
    name: 'step-warnings',
    async run(wb) {
      const { damaged } = DATABASE_PROBLEMS;
      await openSteps(wb, damaged.projectId);
      await expandTo(wb, damaged.projectId, damaged.fine);
      // A step whose row has warnings shows the warning icon, not the green check.
      for (const label of [damaged.brokenJson, damaged.badCommit]) await rowIcon(wb, label).and(wb.page.locator('.codicon-warning')).waitFor({ state: 'visible' });
      if (await rowIcon(wb, damaged.fine).and(wb.page.locator('.codicon-warning')).isVisible()) throw new Error(`${damaged.fine} shows a warning`);
      await hoverUntil(wb, wb.treeRow(damaged.brokenJson), /agent configuration is not valid JSON/);
      await wb.screenshot('step-warnings');
    },
  },
  {
    name: 'rollback-without-git',
    async run(wb) {
      const { good } = DATABASE_PROBLEMS;
      await wb.reset();
      await wb.page.mouse.move(900, 400);
      await wb.runCommandAndPick('Step History: Roll Back to Step…', good.steps[1]);
      await wb.editorTab(new RegExp(`Rollback plan for ${good.steps[1]}`)).waitFor({ state: 'visible', timeout: 30_000 });
      await wb.webview().getByText(/has no git repository/).first().waitFor({ state: 'visible', timeout: 30_000 });
      await toasts(wb).getByRole('button', { name: 'Open Folder…' }).waitFor({ state: 'visible', timeout: 20_000 });
      await wb.screenshot('rollback-without-git');
    },
  },
];

/**
 * The Analytics panel on two systems' real data: the demo's LaForge project and, beside it
 * under agents/, LLM Orchestration's database. Each chart is drawn by Chart.js in the theme's
 * chart colours; the tables are one key away.
 */
const analyticsScenes: Scene[] = [
  {
    name: 'analytics-laforge',
    async run(wb, { workspace }) {
      const fixture = demoFixture(workspace);
      await wb.reset();
      await wb.runCommandAndPick('Step History: Show Analytics', fixture.projectId);
      await wb.editorTab(/· Analytics/).waitFor({ state: 'visible', timeout: 30_000 });
      const page = wb.webview();
      await page.getByRole('heading', { name: 'Tokens per step' }).waitFor({ state: 'visible', timeout: 30_000 });
      await page.locator('canvas[role="img"]').first().waitFor({ state: 'visible', timeout: 20_000 });
      await page.getByRole('heading', { name: 'Slowest steps' }).waitFor({ state: 'visible' });
      await wb.screenshot('analytics-laforge');
    },
  },
  {
    name: 'analytics-table',
    async run(wb) {
      const page = wb.webview();
      // The table of the tokens chart, from the keyboard: its toggle is the next stop after the chart.
      const toggle = page.getByRole('button', { name: 'Show table' }).first();
      await toggle.focus();
      await toggle.press('Enter');
      await page.getByRole('columnheader', { name: 'Cumulative tokens' }).waitFor({ state: 'visible', timeout: 20_000 });
      await wb.screenshot('analytics-table');
      await page.getByRole('button', { name: 'Hide table' }).first().press('Enter');
    },
  },
  {
    name: 'analytics-per-day',
    async run(wb) {
      const page = wb.webview();
      await page.getByRole('combobox', { name: 'Grouping' }).selectOption({ label: 'Per day' });
      await page.getByRole('heading', { name: 'Tokens per day' }).waitFor({ state: 'visible', timeout: 30_000 });
      await wb.screenshot('analytics-per-day');
      await page.getByRole('combobox', { name: 'Grouping' }).selectOption({ label: 'Per step' });
      await page.getByRole('heading', { name: 'Tokens per step' }).waitFor({ state: 'visible', timeout: 30_000 });
    },
  },
  {
    name: 'analytics-llm-orchestration',
    async run(wb, { workspace }) {
      const { llmo } = JSON.parse(fs.readFileSync(path.join(workspace, '.git', 'step-history-agents.json'), 'utf8')) as { llmo: LlmoFixture };
      await wb.reset();
      await wb.runCommandAndPick('Step History: Show Analytics', `All of ${path.relative(workspace, llmo.dbPath).split(path.sep).join('/')}`);
      await wb.editorTab(/llm_orchestration\.db · Analytics/).waitFor({ state: 'visible', timeout: 30_000 });
      const page = wb.webview();
      await page.getByText('LLM Orchestration', { exact: false }).first().waitFor({ state: 'visible', timeout: 30_000 });
      await page.getByRole('heading', { name: 'Tokens per step' }).waitFor({ state: 'visible', timeout: 30_000 });
      await page.locator('canvas[role="img"]').first().waitFor({ state: 'visible', timeout: 20_000 });
      await wb.screenshot('analytics-llm-orchestration');
    },
  },
];

/**
 * The demo workspace's file whose first line a completed step wrote last, with that step: the
 * line's commit from plain `git blame`, the step the one whose recorded commit it is.
 */
function blamedDemoFile(workspace: string): { file: string; step: DemoWorkspace['steps'][number] } {
  const fixture = demoFixture(workspace);
  for (const candidate of [...fixture.steps].reverse()) {
    if (candidate.status !== 'COMPLETED' || !candidate.commitAfter) continue;
    for (const change of candidate.files) {
      if (change.binary || change.status === 'deleted' || fixture.uncommittedFiles.includes(change.path) || !/\.ts$/.test(change.path)) continue;
      if (!fs.existsSync(path.join(workspace, change.path))) continue;
      const blame = execFileSync('git', ['blame', '--porcelain', '-L', '1,1', '--', change.path], { cwd: workspace, encoding: 'utf8' });
      const commit = blame.slice(0, 40);
      const step = fixture.steps.find((st) => st.commitAfter === commit);
      if (step && step.status === 'COMPLETED') return { file: change.path, step };
    }
  }
  throw new Error('no file of the demo workspace has a first line a completed step wrote');
}

/**
 * Which step wrote a line, in the demo workspace: the hover on a file's first line, with the
 * current line's annotation turned on for the session; then the file's step history.
 */
const stepBlameScenes: Scene[] = [
  {
    name: 'blame-hover',
    async run(wb, { workspace }) {
      const { file, step } = blamedDemoFile(workspace);
      await openSteps(wb, step.label);
      await wb.openFile(file);
      await wb.goToLine(1);
      const hover = wb.page.locator('.monaco-hover', { hasText: step.label }).first();
      // The hover comes from the keyboard (Show or Focus Hover), as a screen reader user gets it.
      for (let attempt = 1; ; attempt++) {
        await wb.page.keyboard.press('Control+K');
        await wb.page.keyboard.press('Control+I');
        try {
          await hover.waitFor({ state: 'visible', timeout: 10_000 });
          break;
        } catch (err) {
          if (attempt === 3) throw err;
          await wb.page.keyboard.press('Escape');
        }
      }
      await hover.getByText('Open Step Details').waitFor({ state: 'visible' });
      await wb.screenshot('blame-hover');
    },
  },
  {
    name: 'file-history',
    async run(wb, { workspace }) {
      const { file } = blamedDemoFile(workspace);
      const name = path.posix.basename(file);
      await wb.openFile(file);
      await wb.runCommand('Step History: Show Step History for File');
      const widget = wb.page.locator('.quick-input-widget', { hasText: `Step History of ${name}` });
      await widget.waitFor({ state: 'visible', timeout: 30_000 });
      const first = widget.locator('.monaco-list-row').first();
      await first.waitFor({ state: 'visible', timeout: 30_000 });
      await wb.screenshot('file-history');
      const label = (await first.locator('.label-name').first().textContent())?.trim() ?? '';
      const stepLabel = /S\d+/.exec(label)?.[0];
      if (!stepLabel) throw new Error(`the history's first row is "${label}", not a step`);
      await first.click();
      await wb.editorTab(new RegExp(`^${escapeRegExp(file)} \\(${stepLabel}\\)`)).waitFor({ state: 'visible', timeout: 30_000 });
      await wb.page.locator('.monaco-diff-editor').first().waitFor({ state: 'visible', timeout: 20_000 });
      await wb.screenshot('file-history-diff');
    },
  },
];

/** A session with `themes` runs its scenes once in each (harness/themes.ts), its screenshots named `NN-name-<theme>.png`. */
/** `settings`: user settings the session starts with, beside the harness's own. */
export const e2eSessions: { name: string; workspace: WorkspaceKind; scenes: Scene[]; themes?: ThemeName[]; settings?: Record<string, unknown> }[] = [
  { name: 'demo', workspace: demo, scenes: demoScenes },
  { name: 'no-database', workspace: withoutStepsDb, scenes: welcomeScenes },
  { name: 'laforge', workspace: laforge, scenes: laforgeScenes },
  { name: 'other-systems', workspace: otherSystems, scenes: otherSystemsScenes },
  { name: 'one-voice', workspace: demo, scenes: oneVoiceScenes, themes: ['light', 'dark'] },
  { name: 'one-voice-databases', workspace: databaseProblems, scenes: oneVoiceDatabaseScenes, themes: ['light', 'dark'] },
  { name: 'analytics', workspace: demoWithAgents, scenes: analyticsScenes, themes: ['light', 'dark', 'highContrast'] },
  { name: 'step-blame', workspace: demo, scenes: stepBlameScenes, themes: ['light', 'dark'], settings: { 'stepHistory.blame.currentLineAnnotation': true } },
];
