/**
 * The status bar item: the latest active step of the current project (`$(history) S42 · 3m ago`),
 * opening its details on click. The current project is the most recent one of the database
 * that belongs to the active editor's workspace folder, else of the first readable database.
 * For another system's database, its newest step (an iteration, a checkpoint, a response).
 */
import * as vscode from 'vscode';
import { logFailure } from '../core/errors';
import type { Logger } from '../core/log';
import type { Step } from '../core/model';
import type { StepCommit } from '../core/stepCommits';
import { latestStep } from '../core/sources/walk';
import { historyNodeText, nodeStatusText, relativeTime, relativeTimeSpoken, statusWord, stepTooltipMarkdown } from './format';
import { isOtherSystem, type StepDatabase, type StepDatabases } from '../core/stepDatabase';
import type { ItemNode, StepNode } from './treeNodes';

export const STATUS_BAR_ID = 'stepHistory.latestStep';

interface Shown {
  node: StepNode | ItemNode;
}

/** The databases to try, best first: the active editor's folder's, then the rest in order. */
function candidates(databases: StepDatabases): StepDatabase[] {
  const ready = databases.all.filter((d) => d.state.kind === 'ready');
  const uri = vscode.window.activeTextEditor?.document.uri;
  const folder = uri ? vscode.workspace.getWorkspaceFolder(uri) : undefined;
  if (!folder) return ready;
  const own = ready.filter((d) => d.workspaceFolder?.uri.toString() === folder.uri.toString());
  return [...own, ...ready.filter((d) => !own.includes(d))];
}

/** The current project's latest active step; undefined when no database can be read. */
async function currentStep(databases: StepDatabases, log: Logger): Promise<StepNode | ItemNode | undefined> {
  for (const database of candidates(databases)) {
    try {
      if (isOtherSystem(database)) {
        const item = await latestStep(database);
        if (item) return { kind: 'item', database, item, parent: null };
        continue;
      }
      const [project] = await database.projects();
      if (!project) continue;
      const step = await database.latestActiveStep(project.id);
      if (!step) continue;
      // The tooltip names the step's own commit; without git it still shows the step.
      const commit: StepCommit | undefined = await database.stepCommit(step).catch((err: unknown) => {
        logFailure(log, `${step.label}'s commit in ${database.repositoryPath}`, err);
        return undefined;
      });
      return { kind: 'step', database, projectId: project.id, step, commit };
    } catch (err) {
      logFailure(log, `latest step of ${database.path}`, err, 'warn');
    }
  }
  return undefined;
}

/** The item's text, any system's: `$(history) S42 · 3m ago`, `$(sync~spin) S43 running · just now`. */
function barText(label: string, running: boolean, start: Date | null): string {
  const shown = running ? vscode.l10n.t('{0} running', label) : label;
  return `${running ? '$(sync~spin)' : '$(history)'} ${shown}${start ? ` · ${relativeTime(start)}` : ''}`;
}

const text = (step: Step): string => barText(step.label, step.status === 'RUNNING', step.startTime);

/** What the status bar item shows, for the integration tests. */
export interface StatusBarProbe {
  shown(): { text: string; accessibilityLabel: string | undefined; node: StepNode | ItemNode } | undefined;
}

export function registerStatusBar(context: vscode.ExtensionContext, databases: StepDatabases, log: Logger): StatusBarProbe {
  const item = vscode.window.createStatusBarItem(STATUS_BAR_ID, vscode.StatusBarAlignment.Left, 10);
  item.name = vscode.l10n.t('Step History');
  let shown: Shown | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  // Several updates may overlap (events arrive in bursts); only the latest one is shown.
  let generation = 0;

  const render = () => {
    if (!shown) return;
    const { node } = shown;
    if (node.kind === 'item') return renderItem(node);
    const { step } = node;
    item.text = text(step);
    const tooltip = new vscode.MarkdownString(
      stepTooltipMarkdown(step, {
        commit: node.commit,
        project: node.projectId,
        database: databases.all.length > 1 ? node.database.label : undefined,
      }),
    );
    tooltip.isTrusted = false;
    tooltip.supportHtml = false;
    item.tooltip = tooltip;
    item.accessibilityInformation = {
      label: step.startTime
        ? vscode.l10n.t({ message: 'Latest step {0}, {1}, started {2}', args: [step.label, statusWord(step.status), relativeTimeSpoken(step.startTime)], comment: '{0} a step label (S12), {1} its status, {2} when it started (3 minutes ago)' })
        : vscode.l10n.t({ message: 'Latest step {0}, {1}', args: [step.label, statusWord(step.status)], comment: '{0} a step label (S12), {1} its status' }),
    };
    item.command = { command: 'stepHistory.openDetails', title: vscode.l10n.t('Open Step Details'), arguments: [node] };
  };

  const renderItem = (node: ItemNode) => {
    const step = node.item;
    const level = node.database.source?.levels.find((l) => l.key === step.level)?.singular ?? 'step';
    const words = historyNodeText(step, level);
    const running = step.status === 'running';
    const start = step.metrics.start;
    // A stored label's `$(…)` is text, not an icon.
    const label = words.label.replace(/\$\(/g, '\\$(');
    item.text = barText(label, running, start);
    const tooltip = new vscode.MarkdownString(words.tooltip);
    tooltip.isTrusted = false;
    tooltip.supportHtml = false;
    item.tooltip = tooltip;
    item.accessibilityInformation = {
      label: start
        ? vscode.l10n.t({ message: 'Latest {0} {1}, {2}, started {3}', args: [level, words.label, nodeStatusText(step), relativeTimeSpoken(start)], comment: "{0} the source's word for the item (step, run), {1} its label, {2} its status, {3} when it started (3 minutes ago)" })
        : vscode.l10n.t({ message: 'Latest {0} {1}, {2}', args: [level, words.label, nodeStatusText(step)], comment: "{0} the source's word for the item (step, run), {1} its label, {2} its status" }),
    };
    item.command = { command: 'stepHistory.openDetails', title: vscode.l10n.t('Open Details'), arguments: [node] };
  };

  const setTimer = (on: boolean) => {
    if (on && !timer) {
      timer = setInterval(render, 60_000);
      // Never keep the extension host (or a test process) alive for a clock.
      timer.unref?.();
    } else if (!on && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  const update = async () => {
    const mine = ++generation;
    let node: StepNode | ItemNode | undefined;
    try {
      node = databases.all.length ? await currentStep(databases, log) : undefined;
    } catch (err) {
      logFailure(log, 'status bar', err);
    }
    if (mine !== generation) return;
    shown = node ? { node } : undefined;
    if (shown) {
      render();
      item.show();
    } else {
      item.hide();
    }
    setTimer(shown !== undefined);
  };

  context.subscriptions.push(
    item,
    { dispose: () => setTimer(false) },
    databases.onDidChangeDatabases(() => void update()),
    databases.onDidChangeDatabase(() => void update()),
    vscode.window.onDidChangeActiveTextEditor(() => void update()),
  );
  void update();
  return { shown: () => shown && { text: item.text, accessibilityLabel: item.accessibilityInformation?.label, node: shown.node } };
}
