/**
 * The Analytics panel: charts of one project, session or workflow, or of a whole database,
 * any system's. The figures are computed in the store worker (StepDatabase.analytics) and
 * posted as numbers; the page draws and writes them (src/webview/analytics.ts). The panel
 * reads them again, throttled, when the database changes, keeping the user's range and
 * grouping; it saves them as CSV or JSON, and opens a step's details from a table or a bar.
 */
import * as vscode from 'vscode';
import { rangeSince, type AnalyticsGrouping, type AnalyticsRange, type StepAnalytics } from '../core/analytics';
import { analyticsCsv, analyticsFileName, analyticsJson, type AnalyticsExportContext } from '../core/analyticsExport';
import { describeError, logFailure } from '../core/errors';
import type { Logger } from '../core/log';
import { isOtherSystem, type StepDatabase, type StepDatabases } from '../core/stepDatabase';
import { SYSTEM_NAMES } from '../core/sources/types';
import { isPageMessage, packAnalytics, type AnalyticsView, type HostMessage, type PageMessage } from '../shared/analyticsProtocol';
import { safeText } from '../shared/safeText';
import { projectName } from './format';
import { guarded, showError } from './showError';
import { isItemNode, isProjectNode, isStepNode, type ItemNode, type StepNode } from './treeNodes';
import { WebviewHost } from './webviewHost';

/** What the panel shows figures of. */
export interface AnalyticsScope {
  database: StepDatabase;
  /** A LaForge project. */
  projectId?: string;
  /** Another system's node (a session, a workflow). */
  ref?: string;
  /** How the views name it: the project's name, the node's label; undefined for the whole database. */
  name?: string;
}

/** What the integration tests read of the panel, and how they speak as its page. */
export interface AnalyticsPanelProbe {
  /** The last figures posted to the page, or undefined when no panel is open. */
  lastPosted(): AnalyticsView | undefined;
  /** The last `painted` the page reported. */
  lastPainted(): { ms: number; groups: number } | undefined;
  /** A message as if the page sent it, through the same check. Resolves once handled. */
  receive(message: unknown): Promise<void>;
  /** The file an export would be saved to, instead of asking (tests only); undefined asks again. */
  exportTo(uri: vscode.Uri | undefined): void;
}

const VIEW_TYPE = 'stepHistory.analytics';
const OPTIONS_KEY = 'stepHistory.analytics.options';
/** Live updates: at most one reading per this long while an agent writes. */
const THROTTLE_MS = 1000;

export function registerAnalyticsPanel(context: vscode.ExtensionContext, databases: StepDatabases, log: Logger): AnalyticsPanelProbe {
  const panel = new AnalyticsPanel(context, databases, log);
  context.subscriptions.push(
    panel,
    vscode.commands.registerCommand(
      'stepHistory.showAnalytics',
      guarded(log, 'showAnalytics', async (arg?: unknown) => {
        const scope = scopeOf(arg) ?? (await pickScope(databases));
        if (scope) panel.show(scope);
      }),
    ),
  );
  return panel.probe;
}

/** The scope a tree item or a details link names. */
function scopeOf(arg: unknown): AnalyticsScope | undefined {
  if (isProjectNode(arg)) return { database: arg.database, projectId: arg.project.id, name: arg.name ?? projectName(arg.project.id) };
  if (isStepNode(arg)) return { database: arg.database, projectId: arg.step.projectId, name: projectName(arg.step.projectId) };
  if (isItemNode(arg)) {
    const node = (arg as ItemNode).item;
    // A step of another system: the container it is in; a container: itself.
    if (node.isStep) return arg.parent ? { database: arg.database, ref: arg.parent } : { database: arg.database };
    return { database: arg.database, ref: node.ref, name: node.label };
  }
  return undefined;
}

interface ScopePick extends vscode.QuickPickItem {
  scope: AnalyticsScope;
}

/** How many of another system's top-level nodes the pick offers. */
const PICKED_CONTAINERS = 100;

/** The palette's pick: each readable database whole, then its projects (or its top-level sessions, workflows). */
async function pickScope(databases: StepDatabases): Promise<AnalyticsScope | undefined> {
  const load = async (): Promise<ScopePick[]> => {
    const picks: ScopePick[] = [];
    for (const database of databases.all) {
      if (database.state.kind === 'error') continue;
      try {
        await database.load();
      } catch {
        continue; // its row in the tree says why
      }
      const system = database.source ? SYSTEM_NAMES[database.source.detection.system] : '';
      picks.push({ label: database.label, kind: vscode.QuickPickItemKind.Separator, scope: { database } });
      picks.push({ label: vscode.l10n.t('$(database) All of {0}', database.label), description: system, scope: { database } });
      if (isOtherSystem(database)) {
        for (const node of await database.children(null, { limit: PICKED_CONTAINERS })) {
          if (node.isStep) continue;
          picks.push({ label: safeText(node.label), description: safeText(node.description ?? ''), scope: { database, ref: node.ref, name: node.label } });
        }
      } else {
        for (const project of await database.projects()) {
          const name = projectName(project.id);
          picks.push({ label: vscode.l10n.t('$(project) {0}', name), scope: { database, projectId: project.id, name } });
        }
      }
    }
    return picks;
  };
  const picks = await load();
  const choices = picks.filter((p) => p.kind !== vscode.QuickPickItemKind.Separator);
  if (choices.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No step database is open: there are no figures to show.'));
    return undefined;
  }
  if (choices.length === 1) return choices[0].scope;
  const picked = await vscode.window.showQuickPick(picks, {
    title: vscode.l10n.t('Show Analytics'),
    placeHolder: vscode.l10n.t('Pick a project, a session or a whole database'),
    matchOnDescription: true,
  });
  return picked?.scope;
}

/** What the tab and the page call the scope. */
function scopeText(scope: AnalyticsScope): string {
  const name = scope.name === undefined ? undefined : safeText(scope.name).slice(0, 80);
  return name === undefined ? vscode.l10n.t('all of {0}', scope.database.label) : vscode.l10n.t('{0} in {1}', name, scope.database.label);
}

interface Options {
  range: AnalyticsRange;
  grouping: AnalyticsGrouping;
}

class AnalyticsPanel implements vscode.Disposable {
  private readonly host: WebviewHost<HostMessage, PageMessage>;
  private scope: AnalyticsScope | undefined;
  private options: Options;
  /** The figures shown and how they were read: what an export saves. */
  private shown: { analytics: StepAnalytics; context: AnalyticsExportContext } | undefined;
  private posted: AnalyticsView | undefined;
  private painted: { ms: number; groups: number } | undefined;
  private exportTarget: vscode.Uri | undefined;
  /** Each reading takes a number; only the newest posts, so overlapping reads never show stale figures. */
  private generation = 0;
  private throttle: NodeJS.Timeout | undefined;
  private lastRead = 0;
  private readonly subscriptions: vscode.Disposable[] = [];

  readonly probe: AnalyticsPanelProbe = {
    lastPosted: () => this.posted,
    lastPainted: () => this.painted,
    receive: async (message) => {
      if (isPageMessage(message)) await this.handle(message);
      else this.log.warn(`ignored a message from the Analytics page: ${JSON.stringify(message)?.slice(0, 200)}`);
    },
    exportTo: (uri) => {
      this.exportTarget = uri;
    },
  };

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly databases: StepDatabases,
    private readonly log: Logger,
  ) {
    this.options = context.workspaceState.get<Options>(OPTIONS_KEY) ?? { range: 'all', grouping: 'step' };
    this.host = new WebviewHost<HostMessage, PageMessage>(context, {
      viewType: VIEW_TYPE,
      script: 'analytics.js',
      style: 'analytics.css',
      icon: 'history.svg',
      documentTitle: 'Step Analytics',
      isPageMessage,
      onMessage: (message) => this.handle(message).catch((err: unknown) => showError(err, this.log, `analytics page ${message.type}`)),
      onDidDispose: () => {
        this.scope = undefined;
        this.shown = undefined;
        this.posted = undefined;
        this.painted = undefined;
        this.cancelThrottle();
      },
      log,
    });
    this.subscriptions.push(
      databases.onDidChangeDatabase((database) => {
        if (this.host.isOpen && this.scope?.database.id === database.id) this.scheduleLoad();
      }),
    );
  }

  show(scope: AnalyticsScope): void {
    this.scope = scope;
    this.shown = undefined;
    this.host.show(vscode.l10n.t('{0} · Analytics', scope.name === undefined ? scope.database.label : safeText(scope.name).slice(0, 40)));
    void this.load();
  }

  /** A change while an agent writes: read again at most once per THROTTLE_MS, the last change always read. */
  private scheduleLoad(): void {
    if (this.throttle) return;
    const wait = Math.max(0, this.lastRead + THROTTLE_MS - Date.now());
    this.throttle = setTimeout(() => {
      this.throttle = undefined;
      void this.load({ quiet: true });
    }, wait);
  }

  private cancelThrottle(): void {
    if (this.throttle) clearTimeout(this.throttle);
    this.throttle = undefined;
  }

  /** Reads the figures and posts them; `quiet` (a live update) keeps the page's charts up meanwhile. */
  private async load({ quiet = false } = {}): Promise<void> {
    const scope = this.scope;
    if (!scope) return;
    const generation = ++this.generation;
    const isCurrent = () => generation === this.generation && this.scope === scope;
    const text = scopeText(scope);
    if (!quiet) this.host.post({ type: 'loading', scopeText: text });
    this.lastRead = Date.now();
    const { range, grouping } = this.options;
    try {
      const database = this.databases.get(scope.database.id) ?? scope.database;
      const readAt = new Date();
      const analytics = await database.analytics({ projectId: scope.projectId, ref: scope.ref, sinceMs: rangeSince(range, readAt.getTime()), grouping });
      if (!isCurrent()) return;
      const systemName = database.source ? SYSTEM_NAMES[database.source.detection.system] : '';
      this.shown = { analytics, context: { scope: text, system: systemName, database: database.label, range, grouping, readAt } };
      this.posted = { scopeText: text, systemName, range, grouping, readAtMs: readAt.getTime(), analytics, l10nContents: vscode.l10n.bundle };
      this.host.post({ type: 'analytics', view: { ...this.posted, analytics: packAnalytics(analytics) } });
    } catch (err) {
      if (!isCurrent()) return;
      logFailure(this.log, `analytics of ${text}`, err);
      this.posted = undefined;
      this.host.post({ type: 'error', message: describeError(err).message });
    }
  }

  private async handle(message: PageMessage): Promise<void> {
    switch (message.type) {
      case 'ready':
        return; // answered by the host
      case 'options':
        if (message.range === this.options.range && message.grouping === this.options.grouping && this.posted) return;
        this.options = { range: message.range, grouping: message.grouping };
        await this.context.workspaceState.update(OPTIONS_KEY, this.options);
        return this.load({ quiet: true });
      case 'openStep':
        return this.openStep(message.target);
      case 'export':
        return this.export(message.format);
      case 'painted':
        this.painted = { ms: message.ms, groups: message.groups };
        this.log.debug(`analytics page drew ${message.groups} groups in ${message.ms.toFixed(1)} ms`);
        return;
    }
  }

  /** A step of the figures shown: its details. A target the figures do not hold is ignored. */
  private async openStep(target: string): Promise<void> {
    const scope = this.scope;
    const shown = this.shown?.analytics;
    if (!scope || !shown) return;
    const known = shown.slowest.some((s) => s.target === target) || shown.mostExpensive.some((s) => s.target === target) || shown.groups.some((g) => g.target === target);
    if (!known) {
      this.log.warn(`the Analytics page asked for a step it was not shown: ${target.slice(0, 100)}`);
      return;
    }
    const database = this.databases.get(scope.database.id) ?? scope.database;
    if (isOtherSystem(database)) {
      const item = await database.node(target);
      if (!item) return void vscode.window.showWarningMessage(vscode.l10n.t('This step is no longer in {0}.', database.label));
      const node: ItemNode = { kind: 'item', database, item, parent: null };
      await vscode.commands.executeCommand('stepHistory.openDetails', node);
      return;
    }
    const step = await database.step(Number(target));
    if (!step) return void vscode.window.showWarningMessage(vscode.l10n.t('This step is no longer in {0}.', database.label));
    const node: StepNode = { kind: 'step', database, projectId: step.projectId, step };
    await vscode.commands.executeCommand('stepHistory.openDetails', node);
  }

  private async export(format: 'csv' | 'json'): Promise<void> {
    const shown = this.shown;
    if (!shown) return;
    let uri = this.exportTarget;
    if (!uri) {
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
      const name = analyticsFileName(shown.context, format);
      uri = await vscode.window.showSaveDialog({
        title: vscode.l10n.t('Export Analytics'),
        defaultUri: folder ? vscode.Uri.joinPath(folder, name) : undefined,
        filters: format === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] },
        saveLabel: vscode.l10n.t('Export'),
      });
      if (!uri) return;
    }
    const text = format === 'csv' ? analyticsCsv(shown.analytics) : analyticsJson(shown.analytics, shown.context);
    try {
      await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
    } catch (err) {
      logFailure(this.log, `exporting analytics to ${uri.fsPath}`, err);
      void vscode.window.showErrorMessage(vscode.l10n.t('The figures could not be saved to {0}: {1}', uri.fsPath, describeError(err).message));
      return;
    }
    this.log.info(`exported analytics of ${shown.context.scope} (${shown.analytics.groups.length} groups) to ${uri.fsPath}`);
    void vscode.window.setStatusBarMessage(vscode.l10n.t('Analytics saved to {0}', vscode.workspace.asRelativePath(uri)), 3000);
  }

  dispose(): void {
    this.cancelThrottle();
    this.host.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}
