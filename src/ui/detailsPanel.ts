/**
 * The step details panel: one webview, reused for every step. The host gathers a step, its
 * commits and its changed files (a git failure becomes a sentence in that section), builds
 * the view with `stepDetailsView` and posts it once the page has said `ready`. The page is
 * not kept alive while hidden: when it comes back it says `ready` again and gets the
 * current step.
 */
import * as vscode from 'vscode';
import { describeError, logFailure } from '../core/errors';
import type { Logger } from '../core/log';
import type { Step } from '../core/model';
import { stepChange, type StepCommit } from '../core/stepCommits';
import { stepDetailsView, type Fetched } from '../core/stepDetails';
import { isPageMessage, type HostMessage, type PageMessage } from '../shared/detailsProtocol';
import { WebviewHost } from './webviewHost';
import { pickStep } from './pickStep';
import { stepTitle } from './format';
import { guarded, showError } from './showError';
import type { StepDatabase, StepDatabases } from '../core/stepDatabase';
import type { StepLogs } from './stepLogs';
import { isItemNode, isStepNode, referencedStep, type FileNode, type StepNode } from './treeNodes';
import { historyDetailsView } from './format';
import { SYSTEM_NAMES } from '../core/sources/types';
import { safeText } from '../shared/safeText';

/** What the integration tests read of the details panel. */
export interface DetailsPanelProbe {
  /** The last details message posted to the page, or undefined when no panel is open. */
  lastPosted(): unknown;
}

const VIEW_TYPE = 'stepHistory.details';
/** How many of another system's newest steps the palette's pick offers per database. */
const PICKED_PER_DATABASE = 200;

export function registerDetailsPanel(context: vscode.ExtensionContext, databases: StepDatabases, log: Logger, logs?: StepLogs): DetailsPanelProbe {
  const details = new DetailsPanel(context, databases, log, logs);
  context.subscriptions.push(
    details,
    vscode.commands.registerCommand(
      'stepHistory.openDetails',
      guarded(log, 'openDetails', async (arg?: unknown) => {
        const node = isStepNode(arg) || isItemNode(arg) ? arg : ((await referencedStep(databases, arg)) ?? (await pickStep(databases, { title: vscode.l10n.t('Open Step Details'), otherSystems: PICKED_PER_DATABASE })));
        if (node?.kind === 'item') details.showItem(node.database, node.item.ref, node.item.label);
        else if (node) details.show(node.database, node.step.id);
      }),
    ),
  );
  return { lastPosted: () => details.lastPosted };
}

class DetailsPanel implements vscode.Disposable {
  private readonly host: WebviewHost<HostMessage, PageMessage>;
  private current: { database: StepDatabase; stepId: number; step?: Step; projectId?: string; ref?: string } | undefined;
  /** Each load takes a number; only the newest load posts, so overlapping refreshes never show stale data. */
  private generation = 0;
  private readonly subscriptions: vscode.Disposable[] = [];
  lastPosted: Extract<HostMessage, { type: 'details' | 'history' }> | undefined;

  constructor(
    context: vscode.ExtensionContext,
    private readonly databases: StepDatabases,
    private readonly log: Logger,
    private readonly logs?: StepLogs,
  ) {
    this.host = new WebviewHost<HostMessage, PageMessage>(context, {
      viewType: VIEW_TYPE,
      script: 'details.js',
      style: 'details.css',
      icon: 'history.svg',
      documentTitle: 'Step Details',
      isPageMessage,
      onMessage: (message) => this.handle(message).catch((err: unknown) => showError(err, this.log, `details page ${message.type}`)),
      onDidDispose: () => {
        this.lastPosted = undefined;
        this.current = undefined;
      },
      log,
    });
    this.subscriptions.push(
      databases.onDidChangeDatabase((database) => {
        if (this.host.isOpen && this.current?.database.id === database.id) void this.load();
      }),
    );
  }

  show(database: StepDatabase, stepId: number): void {
    this.current = { database, stepId };
    this.host.show(`S${stepId} · Step Details`);
    void this.load();
  }

  /** A node of another system's database: its details as sections. */
  showItem(database: StepDatabase, ref: string, label: string): void {
    this.current = { database, stepId: -1, ref };
    this.host.show(`${safeText(label).slice(0, 40)} · Details`);
    void this.load();
  }

  private async loadItem(target: { database: StepDatabase; ref?: string }, isCurrent: () => boolean): Promise<void> {
    const ref = target.ref!;
    const database = this.databases.get(target.database.id) ?? target.database;
    const node = await database.node(ref);
    if (!isCurrent()) return;
    if (!node) {
      this.post({ type: 'error', message: `This is no longer in ${database.label}.` });
      return;
    }
    const [sections, changes] = await Promise.all([database.details(ref), node.isStep ? database.changes(ref) : Promise.resolve([])]);
    if (!isCurrent()) return;
    const source = database.source;
    const level = source?.levels.find((l) => l.key === node.level);
    const details = historyDetailsView(node, sections, {
      levelName: level?.singular ?? node.level,
      systemName: source ? SYSTEM_NAMES[source.detection.system] : '',
      changes: changes.length,
    });
    this.post({ type: 'history', details });
  }

  private async load(): Promise<void> {
    const target = this.current;
    if (!target) return;
    const generation = ++this.generation;
    const isCurrent = () => generation === this.generation && this.current === target;
    const label = target.ref !== undefined ? 'the details' : `S${target.stepId}`;
    this.post({ type: 'loading', label });
    try {
      if (target.ref !== undefined) return await this.loadItem(target, isCurrent);
      const database = this.databases.get(target.database.id) ?? target.database;
      const step = await database.step(target.stepId);
      if (!isCurrent()) return;
      if (!step) {
        this.post({ type: 'error', message: `${label} is not in ${database.label}.` });
        return;
      }
      target.database = database;
      target.step = step;
      const resolved = await this.fetch(`${label} commit`, () => database.stepCommit(step));
      const stepCommit: StepCommit | undefined = resolved.ok ? resolved.value : undefined;
      const [commits, files, stepLog] = await Promise.all([
        this.fetch(`${label} commits`, async () => {
          if (!resolved.ok) throw new Error(resolved.message);
          const { before, after } = stepChange(step, resolved.value);
          return (await database.repository()).commitsBetween(before, after);
        }),
        this.fetch(`${label} files`, () => database.changedFiles(step)),
        this.logs?.info(database, step.id) ?? Promise.resolve(null),
      ]);
      const sha = stepCommit?.commit;
      const subject = sha ? (await database.commitSubjects([sha]).catch(() => new Map<string, string>())).get(sha) : undefined;
      if (!isCurrent()) return;
      const title = stepTitle(subject, stepLog?.summary?.finalMessage) ?? null;
      const details = stepDetailsView({ database: { id: database.id, label: database.label }, step, stepCommit, commits, files, log: stepLog, title });
      this.post({ type: 'details', details });
    } catch (err) {
      if (!isCurrent()) return;
      logFailure(this.log, label, err);
      this.post({ type: 'error', message: describeError(err).message });
    }
  }

  /** Runs a git-backed part; its failure becomes the section's sentence, with the detail in the log. */
  private async fetch<T>(what: string, run: () => Promise<T>): Promise<Fetched<T>> {
    try {
      return { ok: true, value: await run() };
    } catch (err) {
      logFailure(this.log, what, err, 'warn');
      return { ok: false, message: describeError(err).message };
    }
  }

  private post(message: HostMessage): void {
    if (message.type === 'details' || message.type === 'history') this.lastPosted = message;
    this.host.post(message);
  }

  private async handle(message: PageMessage): Promise<void> {
    const current = this.current;
    switch (message.type) {
      case 'ready':
        return; // answered by the host
      case 'openStep':
        if (current) this.show(current.database, message.stepId);
        return;
      case 'showItemChanges': {
        if (!current || current.ref !== message.ref) return;
        const item = await current.database.node(message.ref);
        if (item) await vscode.commands.executeCommand('stepHistory.showChanges', { kind: 'item', database: current.database, item, parent: null });
        return;
      }
      case 'openFile': {
        if (!current?.step || current.step.id !== message.stepId) return;
        const step = current.step;
        const file = (await current.database.changedFiles(step)).find((f) => f.path === message.path);
        if (!file) return;
        const node: FileNode = { kind: 'file', database: current.database, projectId: step.projectId, step, file };
        await vscode.commands.executeCommand('stepHistory.openFileDiff', node);
        return;
      }
      case 'showChanges': {
        if (!current?.step || current.step.id !== message.stepId) return;
        const node: StepNode = { kind: 'step', database: current.database, projectId: current.step.projectId, step: current.step };
        await vscode.commands.executeCommand('stepHistory.showChanges', node);
        return;
      }
      case 'openLog': {
        if (!current?.step || current.step.id !== message.stepId) return;
        const node: StepNode = { kind: 'step', database: current.database, projectId: current.step.projectId, step: current.step };
        await vscode.commands.executeCommand('stepHistory.openStepLog', node);
        return;
      }
      case 'showAnalytics': {
        if (!current) return;
        if (current.ref !== undefined) {
          const item = await current.database.node(current.ref);
          if (item) await vscode.commands.executeCommand('stepHistory.showAnalytics', { kind: 'item', database: current.database, item, parent: null });
        } else if (current.step) {
          const node: StepNode = { kind: 'step', database: current.database, projectId: current.step.projectId, step: current.step };
          await vscode.commands.executeCommand('stepHistory.showAnalytics', node);
        }
        return;
      }
      case 'copy':
        await vscode.env.clipboard.writeText(message.text);
        void vscode.window.setStatusBarMessage('Copied to the clipboard', 2000);
        return;
    }
  }

  dispose(): void {
    this.host.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}
