/**
 * The Steps view: StepsTreeProvider adapts StepsTreeModel's nodes into TreeItems; the model
 * owns the data, paging, filter and change events. registerStepsTree wires both to the view,
 * the settings, the context keys and the tree's commands.
 */
import * as vscode from 'vscode';
import type { Logger } from '../core/log';
import type { Step } from '../core/model';
import { notMergedText } from '../core/stepCommits';
import { safeText } from '../shared/safeText';
import { changeResourceUri, fileResourceUri, registerFileDecorations, stepResourceUri } from './fileDecorations';
import {
  changeWord,
  changeWordInText,
  describeFilter,
  filterMessage,
  fileTooltip,
  historyNodeText,
  statusIcon,
  liveWorktreeText,
  projectItemText,
  splitPath,
  stepAccessibilityLabel,
  stepDescription,
  stepLabel,
  stepTitle,
  stepTooltipMarkdown,
  WARNING_ICON_COLOR,
} from './format';
import type { StepDatabases } from '../core/stepDatabase';
import type { StepLogs } from './stepLogs';
import { StepsTreeModel, fileKey, projectKey, stepKey, type StepsTreeSettings } from './stepsTreeModel';
import type { ChangeNode, FileNode, ItemMoreNode, ItemNode, LoadMoreNode, MessageNode, ProjectNode, StepNode, TreeNode } from './treeNodes';
import type { HistoryNode } from '../core/sources/types';
import { laforgeStatus } from '../core/sources/laforge/nodes';
import { remedyCommand } from './showError';

export const STEPS_VIEW_ID = 'stepHistory.steps';

export interface StepsTree {
  readonly provider: vscode.TreeDataProvider<TreeNode>;
  readonly view: vscode.TreeView<TreeNode>;
  readonly model: StepsTreeModel;
  /**
   * Shows a step in the tree, loading pages until it is there, and selects it. Resolves to
   * false, after telling the user why, when the filter or the rolled-back toggle hides it.
   */
  reveal(databaseId: string, stepId: number, projectId?: string): Promise<boolean>;
}

/** `step.completed`, `step.failed`, `step.running`, `step.rolledBack`: menus match `/^step\./`. */
export function stepContextValue(step: Step): string {
  switch (step.status) {
    case 'RUNNING':
      return 'step.running';
    case 'FAILED':
      return 'step.failed';
    case 'ROLLED BACK':
      return 'step.rolledBack';
    default:
      return 'step.completed';
  }
}

/** A node's icon, any system's: its status as the history model says it, and whether its row has warnings. */
function nodeIcon(item: Pick<HistoryNode, 'status' | 'isStep' | 'warnings'>): vscode.ThemeIcon {
  const icon = statusIcon(item.status, item.isStep, item.warnings.length);
  return new vscode.ThemeIcon(icon.id, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
}

const stepIcon = (step: Step): vscode.ThemeIcon => nodeIcon({ status: laforgeStatus(step.status), isStep: true, warnings: step.warnings.map((w) => w.message) });

/** A changed file as a screen reader says it: `money.ts in src, renamed, from src/amount.ts`. */
function fileSpoken(name: string, folder: string, status: string, from?: string): string {
  const spoken = folder ? vscode.l10n.t('{0} in {1}, {2}', name, folder, status) : vscode.l10n.t('{0}, {1}', name, status);
  return from ? vscode.l10n.t('{0}, from {1}', spoken, from) : spoken;
}

export class StepsTreeProvider implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly changes = new vscode.EventEmitter<TreeNode[] | undefined>();
  readonly onDidChangeTreeData = this.changes.event;
  private readonly fromModel: { dispose(): void };
  private readonly fromLogs: { dispose(): void } | undefined;
  /** Step items drawn without their log's figures, by database, to redraw once those are read. */
  private readonly awaitingLogs = new Map<string, Set<StepNode>>();

  constructor(
    private readonly model: StepsTreeModel,
    private readonly databases: StepDatabases,
    private readonly logs?: StepLogs,
  ) {
    this.fromModel = model.onDidChange((nodes) => this.changes.fire(nodes));
    this.fromLogs = logs?.onDidLoad((databaseId) => {
      const waiting = this.awaitingLogs.get(databaseId);
      if (!waiting?.size) return;
      this.awaitingLogs.delete(databaseId);
      this.changes.fire([...waiting]);
    });
  }

  /** Redraws every item from the data already loaded, so relative times ("3m ago") stay true. */
  redraw(): void {
    this.changes.fire(undefined);
  }

  dispose(): void {
    this.fromModel.dispose();
    this.fromLogs?.dispose();
    this.changes.dispose();
  }

  /** A project's tooltip, with its totals, read when the pointer rests on it. */
  async resolveTreeItem(item: vscode.TreeItem, node: TreeNode): Promise<vscode.TreeItem> {
    if (node.kind !== 'project') return item;
    const { database, project } = node;
    try {
      const aggregates = await database.aggregates(project.id);
      const logs = this.logs ? await this.logs.costOf(database, aggregates.unrecordedStepIds) : { steps: 0, cost: 0 };
      item.tooltip = projectItemText({ ...project, name: node.name, shown: node.shown }, database, this.databases.all.length > 1, { counters: aggregates.totals, logs }).tooltip;
    } catch {
      // The tooltip without totals; the tree shows why the database cannot be read.
    }
    return item;
  }

  /** The figures of the step's log, when read; otherwise it is read and the item drawn again. */
  private logFigures(node: StepNode) {
    if (!this.logs) return undefined;
    const info = this.logs.peek(node.database, node.step.id);
    if (info === undefined) {
      let waiting = this.awaitingLogs.get(node.database.id);
      if (!waiting) this.awaitingLogs.set(node.database.id, (waiting = new Set()));
      waiting.add(node);
    }
    return info?.summary ?? undefined;
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    switch (node.kind) {
      case 'project':
        return this.projectItem(node);
      case 'step':
        return this.stepItem(node);
      case 'file':
        return this.fileItem(node);
      case 'loadMore':
        return this.loadMoreItem(node);
      case 'message':
        return this.messageItem(node);
      case 'item':
        return this.historyItem(node);
      case 'change':
        return this.changeItem(node);
      case 'itemMore':
        return this.itemMoreItem(node);
    }
  }

  getChildren(node?: TreeNode): vscode.ProviderResult<TreeNode[]> {
    if (node && node.kind !== 'project') return this.model.getChildren(node);
    // Databases and pages of steps can take a moment: show the view's progress bar.
    return vscode.window.withProgress({ location: { viewId: STEPS_VIEW_ID } }, () => this.model.getChildren(node));
  }

  getParent(node: TreeNode): TreeNode | undefined {
    return this.model.getParent(node);
  }

  private projectItem(node: ProjectNode): vscode.TreeItem {
    const { project, database } = node;
    const first = this.databases.all[0];
    const expanded = first?.id === database.id && this.model.firstProjectId(database.id) === project.id;
    const text = projectItemText({ ...project, name: node.name, shown: node.shown }, database, this.databases.all.length > 1);
    const item = new vscode.TreeItem(
      text.label,
      expanded ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed,
    );
    item.id = projectKey(database.id, project.id);
    item.description = text.description;
    item.tooltip = text.tooltip;
    item.iconPath = text.warning
      ? new vscode.ThemeIcon('warning', new vscode.ThemeColor(WARNING_ICON_COLOR))
      : new vscode.ThemeIcon('project');
    item.contextValue = 'project';
    item.accessibilityInformation = { label: text.accessibilityLabel };
    return item;
  }

  private stepItem(node: StepNode): vscode.TreeItem {
    const { step, database } = node;
    const now = new Date();
    const log = this.logFigures(node);
    const title = stepTitle(node.subject, log?.finalMessage);
    const item = new vscode.TreeItem(stepLabel(step, title), vscode.TreeItemCollapsibleState.Collapsed);
    item.id = stepKey(database.id, node.projectId, step);
    const live = node.live && liveWorktreeText(node.live);
    // "not merged" first: at the sidebar's default width the end of the description is cut off.
    item.description = [live?.description, notMergedText(node.commit), stepDescription(step, now, log)].filter(Boolean).join(' · ');
    const tooltipText = stepTooltipMarkdown(step, {
      commit: node.commit,
      project: node.projectId,
      database: this.databases.all.length > 1 ? database.label : undefined,
      log,
      title,
    });
    const tooltip = new vscode.MarkdownString(live ? `${tooltipText}\n\n${live.tooltipMarkdown}` : tooltipText);
    tooltip.isTrusted = false;
    tooltip.supportHtml = false;
    item.tooltip = tooltip;
    item.iconPath = stepIcon(step);
    item.resourceUri = stepResourceUri(database.id, node.projectId, step.label, step.status === 'ROLLED BACK', step.warnings.length);
    item.contextValue = stepContextValue(step);
    item.accessibilityInformation = { label: stepAccessibilityLabel(step, now, log, title) };
    return item;
  }

  private fileItem(node: FileNode): vscode.TreeItem {
    const { file } = node;
    const { name, folder } = splitPath(safeText(file.path));
    const item = new vscode.TreeItem(name, vscode.TreeItemCollapsibleState.None);
    item.id = fileKey(node, file);
    item.description = folder;
    item.resourceUri = fileResourceUri(node);
    item.iconPath = vscode.ThemeIcon.File;
    item.tooltip = fileTooltip(file);
    item.contextValue = `file.${file.status}`;
    item.command = { command: 'stepHistory.openFileDiff', title: vscode.l10n.t('Open Changes'), arguments: [node] };
    item.accessibilityInformation = { label: fileSpoken(name, folder, changeWordInText(file.status), file.oldPath && file.oldPath !== file.path ? safeText(file.oldPath) : undefined) };
    return item;
  }

  private loadMoreItem(node: LoadMoreNode): vscode.TreeItem {
    const item = new vscode.TreeItem('Load more…', vscode.TreeItemCollapsibleState.None);
    item.id = `${projectKey(node.database.id, node.projectId)}|loadMore`;
    item.description = vscode.l10n.t('{0} shown, next {1}', node.offset, this.model.pageSize);
    item.iconPath = new vscode.ThemeIcon('more');
    item.contextValue = 'loadMore';
    item.command = { command: 'stepHistory.loadMore', title: vscode.l10n.t('Load More Steps'), arguments: [node] };
    item.accessibilityInformation = { label: vscode.l10n.t('Load {0} more steps; {1} shown', this.model.pageSize, node.offset) };
    return item;
  }

  private historyItem(node: ItemNode): vscode.TreeItem {
    const { item, database } = node;
    const level = database.source?.levels.find((l) => l.key === item.level);
    const text = historyNodeText(item, level?.singular ?? item.level);
    // At the top, with more than one database shown, say which one it is in, as projects do.
    const where = node.parent === null && this.databases.all.length > 1 ? safeText(database.label) : '';
    const expandable = item.hasChildren || item.isStep;
    const tree = new vscode.TreeItem(text.label, expandable ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    tree.id = `${database.id}|${item.ref}`;
    tree.description = [text.description, where].filter(Boolean).join(' · ');
    const tooltip = new vscode.MarkdownString(text.tooltip);
    tooltip.isTrusted = false;
    tooltip.supportHtml = false;
    tree.tooltip = tooltip;
    tree.iconPath = nodeIcon(item);
    tree.resourceUri = stepResourceUri(database.id, node.parent ?? '', item.ref, false, item.warnings.length);
    tree.contextValue = item.isStep ? `item.step.${item.status}` : `item.container.${item.status}`;
    tree.accessibilityInformation = { label: text.accessibilityLabel };
    return tree;
  }

  private changeItem(node: ChangeNode): vscode.TreeItem {
    const { change } = node;
    const shown = safeText(change.path ?? change.label);
    const { name, folder } = change.path ? splitPath(shown) : { name: shown, folder: '' };
    const item = new vscode.TreeItem(name, vscode.TreeItemCollapsibleState.None);
    item.id = `${node.database.id}|${node.step.ref}|change|${change.id}`;
    item.description = folder;
    item.iconPath = change.path ? vscode.ThemeIcon.File : new vscode.ThemeIcon('diff');
    if (change.path) item.resourceUri = changeResourceUri(node);
    // The label says more than the path when it has one (`docs/PRD.md v3 (on disk, edited since v3)`).
    const label = change.path && change.label !== change.path ? `\n${safeText(change.label)}` : '';
    item.tooltip = `${shown} · ${changeWord(change.status)}${label}`;
    item.contextValue = `change.${change.status}`;
    item.command = { command: 'stepHistory.openFileDiff', title: vscode.l10n.t('Open Changes'), arguments: [node] };
    item.accessibilityInformation = { label: fileSpoken(name, folder, changeWordInText(change.status)) };
    return item;
  }

  private itemMoreItem(node: ItemMoreNode): vscode.TreeItem {
    const item = new vscode.TreeItem('Load more…', vscode.TreeItemCollapsibleState.None);
    item.id = `${node.database.id}|${node.parent ?? ''}|loadMore`;
    item.description = vscode.l10n.t('{0} shown, next {1}', node.offset, this.model.pageSize);
    item.iconPath = new vscode.ThemeIcon('more');
    item.contextValue = 'loadMore';
    item.command = { command: 'stepHistory.loadMore', title: vscode.l10n.t('Load More'), arguments: [node] };
    item.accessibilityInformation = { label: vscode.l10n.t('Load {0} more; {1} shown', this.model.pageSize, node.offset) };
    return item;
  }

  private messageItem(node: MessageNode): vscode.TreeItem {
    // Sentences may quote a stored value.
    const text = safeText(node.message);
    const item = new vscode.TreeItem(text, vscode.TreeItemCollapsibleState.None);
    item.id = node.id;
    if (node.description) item.description = safeText(node.description);
    // Each line made safe on its own, so the tooltip keeps its line breaks.
    item.tooltip = node.tooltip ? node.tooltip.split('\n').map((line) => safeText(line)).join('\n') : text;
    item.contextValue = 'message';
    if (this.model.isBusy(node)) item.iconPath = new vscode.ThemeIcon('loading~spin');
    else if (node.severity === 'error') item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'));
    else if (node.severity === 'warning') {
      item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor(WARNING_ICON_COLOR));
    } else item.iconPath = new vscode.ThemeIcon('info');
    // An error's first remedy runs when the row is chosen ("Open Folder…", "Open Settings"), and says so.
    if (node.remedy && node.remedy.action !== 'showLog') {
      item.command = remedyCommand(node.remedy);
      item.tooltip = vscode.l10n.t('{0}\n\nChoose this row: {1}', item.tooltip as string, item.command.title);
    }
    const about = node.description ? `, ${safeText(node.description)}` : '';
    item.accessibilityInformation = { label: node.severity === 'info' ? `${text}${about}` : `${node.severity}: ${text}${about}` };
    return item;
  }
}

function readSettings(): StepsTreeSettings {
  const config = vscode.workspace.getConfiguration('stepHistory');
  const pageSize = config.get<number>('pageSize');
  const showRolledBack = config.get<boolean>('showRolledBack');
  return {
    pageSize: typeof pageSize === 'number' && Number.isFinite(pageSize) ? Math.min(2000, Math.max(20, Math.floor(pageSize))) : 200,
    showRolledBack: typeof showRolledBack === 'boolean' ? showRolledBack : true,
  };
}

export function registerStepsTree(context: vscode.ExtensionContext, databases: StepDatabases, log: Logger, logs?: StepLogs): StepsTree {
  const model = new StepsTreeModel(databases, readSettings(), log);
  const provider = new StepsTreeProvider(model, databases, logs);
  const view = vscode.window.createTreeView(STEPS_VIEW_ID, { treeDataProvider: provider, showCollapseAll: true });
  // Once a minute while the view is on screen: descriptions say "3m ago".
  const clock = setInterval(() => view.visible && provider.redraw(), 60_000);
  clock.unref?.();
  context.subscriptions.push(model, view, provider, { dispose: () => clearInterval(clock) });
  registerFileDecorations(context);

  const showFilterMessage = () => {
    view.message = filterMessage(model.filter, model.filterCounts(), model.nothingMatches());
  };
  const showFilterState = () => {
    view.description = describeFilter(model.filter);
    showFilterMessage();
    void vscode.commands.executeCommand('setContext', 'stepHistory.filterActive', model.filterActive);
    void vscode.commands.executeCommand('setContext', 'stepHistory.showRolledBack', model.showRolledBack);
  };
  showFilterState();
  context.subscriptions.push(
    model.onDidChangeFilter(showFilterState),
    model.onDidLoadSteps(showFilterMessage),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('stepHistory.pageSize') || e.affectsConfiguration('stepHistory.showRolledBack')) {
        model.updateSettings(readSettings());
      }
    }),
  );

  const tree: StepsTree = {
    provider,
    view,
    model,
    async reveal(databaseId, stepId, projectId) {
      const database = databases.get(databaseId);
      if (!database) return false;
      let step: Step | undefined;
      if (projectId === undefined) {
        step = await database.step(stepId);
        if (!step) {
          void vscode.window.showInformationMessage(vscode.l10n.t('S{0} is no longer in {1}.', stepId, database.label));
          return false;
        }
        projectId = step.projectId;
      }
      const node = await model.findStep(databaseId, projectId, stepId);
      if (node) {
        await view.reveal(node, { select: true, focus: true, expand: true });
        return true;
      }
      step ??= await database.step(stepId);
      await explainHidden(model, step, `S${stepId}`, database.label);
      return false;
    },
  };
  return tree;
}

/** Why a step asked for is not in the tree, with the one action that would show it. */
async function explainHidden(model: StepsTreeModel, step: Step | undefined, label: string, where: string): Promise<void> {
  if (!step) {
    void vscode.window.showInformationMessage(vscode.l10n.t('{0} is no longer in {1}.', label, where));
    return;
  }
  if (step.status === 'ROLLED BACK' && !model.showRolledBack) {
    const show = vscode.l10n.t('Show Rolled-Back Steps');
    if ((await vscode.window.showInformationMessage(vscode.l10n.t('{0} is rolled back, and rolled-back steps are hidden.', label), show)) === show) {
      await vscode.commands.executeCommand('stepHistory.showRolledBack');
    }
    return;
  }
  if (model.filterActive) {
    const clear = vscode.l10n.t('Clear Filter');
    if ((await vscode.window.showInformationMessage(vscode.l10n.t('{0} does not match the filter.', label), clear)) === clear) {
      model.setFilter({});
    }
    return;
  }
  void vscode.window.showInformationMessage(vscode.l10n.t('{0} is not in the Steps view.', label));
}
