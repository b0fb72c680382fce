/**
 * The step details panel: one webview, reused for every step. The host gathers a step, its
 * commits and its changed files (a git failure becomes a sentence in that section), builds
 * the view with `stepDetailsView` and posts it once the page has said `ready`. The page is
 * not kept alive while hidden: when it comes back it says `ready` again and gets the
 * current step.
 */
import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
import { describeError, logFailure } from '../core/errors';
import type { Logger } from '../core/log';
import type { Step } from '../core/model';
import { stepChange, type StepCommit } from '../core/stepCommits';
import { stepDetailsView, type Fetched } from '../core/stepDetails';
import { isPageMessage, type HostMessage, type PageMessage } from '../shared/detailsProtocol';
import { pickStep } from './pickStep';
import { stepTitle } from './format';
import { guarded, showError } from './showError';
import type { StepDatabase, StepDatabases } from './stepDatabases';
import type { StepLogs } from './stepLogs';
import { isItemNode, isStepNode, type FileNode, type StepNode } from './treeNodes';
import { historyDetailsView } from './format';
import { SYSTEM_NAMES } from '../core/sources/types';
import { safeText } from '../shared/safeText';

/** What the integration tests read of the details panel. */
export interface DetailsPanelProbe {
  /** The last details message posted to the page, or undefined when no panel is open. */
  lastPosted(): unknown;
}

const VIEW_TYPE = 'stepHistory.details';

export function registerDetailsPanel(context: vscode.ExtensionContext, databases: StepDatabases, log: Logger, logs?: StepLogs): DetailsPanelProbe {
  const details = new DetailsPanel(context, databases, log, logs);
  context.subscriptions.push(
    details,
    vscode.commands.registerCommand(
      'stepHistory.openDetails',
      guarded(log, 'openDetails', async (arg?: unknown) => {
        if (isItemNode(arg)) return details.showItem(arg.database, arg.item.ref, arg.item.label);
        const node = isStepNode(arg) ? arg : await pickStep(databases, { title: 'Open Step Details' });
        if (node) details.show(node.database, node.step.id);
      }),
    ),
  );
  return { lastPosted: () => details.lastPosted };
}

class DetailsPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  private current: { database: StepDatabase; stepId: number; step?: Step; projectId?: string; ref?: string } | undefined;
  /** The message the page should show now; posted on `ready` if the page was not ready. */
  private pending: HostMessage | undefined;
  /** Each load takes a number; only the newest load posts, so overlapping refreshes never show stale data. */
  private generation = 0;
  private readonly subscriptions: vscode.Disposable[] = [];
  lastPosted: Extract<HostMessage, { type: 'details' | 'history' }> | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly databases: StepDatabases,
    private readonly log: Logger,
    private readonly logs?: StepLogs,
  ) {
    this.subscriptions.push(
      databases.onDidChangeDatabase((database) => {
        if (this.panel && this.current?.database.id === database.id) void this.load();
      }),
    );
  }

  show(database: StepDatabase, stepId: number): void {
    this.current = { database, stepId };
    if (this.panel) {
      this.panel.reveal(undefined, false);
    } else {
      this.panel = this.createPanel();
    }
    this.panel.title = `S${stepId} · Step Details`;
    void this.load();
  }

  /** A node of another system's database: its details as sections. */
  showItem(database: StepDatabase, ref: string, label: string): void {
    this.current = { database, stepId: -1, ref };
    if (this.panel) this.panel.reveal(undefined, false);
    else this.panel = this.createPanel();
    this.panel.title = `${safeText(label).slice(0, 40)} · Details`;
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

  private createPanel(): vscode.WebviewPanel {
    const extensionUri = this.context.extensionUri;
    const scriptRoot = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
    const mediaRoot = vscode.Uri.joinPath(extensionUri, 'media');
    const panel = vscode.window.createWebviewPanel(
      VIEW_TYPE,
      'Step Details',
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
      { enableScripts: true, enableCommandUris: false, localResourceRoots: [scriptRoot, mediaRoot] },
    );
    panel.iconPath = vscode.Uri.joinPath(mediaRoot, 'history.svg');
    this.ready = false;
    panel.webview.html = pageHtml(panel.webview, vscode.Uri.joinPath(scriptRoot, 'details.js'), vscode.Uri.joinPath(mediaRoot, 'details.css'));
    panel.webview.onDidReceiveMessage((message: unknown) => this.receive(message));
    panel.onDidDispose(() => {
      this.panel = undefined;
      this.ready = false;
      this.pending = undefined;
      this.lastPosted = undefined;
      this.current = undefined;
    });
    return panel;
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
    this.pending = message;
    if (!this.ready) return;
    this.send(message);
  }

  private send(message: HostMessage): void {
    const panel = this.panel;
    if (!panel) {
      this.log.debug(`not posting ${message.type}: the panel is closed`);
      return;
    }
    if (message.type === 'details' || message.type === 'history') this.lastPosted = message;
    try {
      panel.webview.postMessage(message).then(
        (delivered) => {
          if (!delivered) this.log.debug(`${message.type} not delivered: the page is hidden; it is sent again when the page is ready`);
        },
        (err: unknown) => this.log.debug(`posting ${message.type} failed: ${String(err)}`),
      );
    } catch (err) {
      // A panel disposed between the check and the call throws here.
      this.log.debug(`posting ${message.type} failed: ${String(err)}`);
    }
  }

  private receive(raw: unknown): void {
    if (!isPageMessage(raw)) {
      this.log.warn(`ignored a message from the details page: ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    this.handle(raw).catch((err: unknown) => showError(err, this.log, `details page ${raw.type}`));
  }

  private async handle(message: PageMessage): Promise<void> {
    const current = this.current;
    switch (message.type) {
      case 'ready':
        this.ready = true;
        if (this.pending) this.send(this.pending);
        return;
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
      case 'copy':
        await vscode.env.clipboard.writeText(message.text);
        void vscode.window.setStatusBarMessage('Copied to the clipboard', 2000);
        return;
    }
  }

  dispose(): void {
    this.panel?.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}

function pageHtml(webview: vscode.Webview, script: vscode.Uri, style: vscode.Uri): string {
  const nonce = crypto.randomBytes(18).toString('base64');
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource}`,
    `style-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${webview.asWebviewUri(style).toString()}">
<title>Step Details</title>
</head>
<body>
<main id="root" aria-live="polite"><p class="muted">Loading…</p></main>
<script nonce="${nonce}" src="${webview.asWebviewUri(script).toString()}"></script>
</body>
</html>`;
}
