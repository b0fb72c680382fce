/**
 * Step logs in the editor: the summaries the views show beside a step's figures (read in the
 * background, one listing of the logs folder per database until it changes), the read-only
 * documents on the `step-history-log` scheme that show a log and follow it while it grows,
 * and the Open Step Log command.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { logFailure } from '../core/errors';
import type { Logger } from '../core/log';
import { findStepLog, listStepLogs, readStepLogText, StepLogSummaries, stepLogsFolder, type StepLogFile, type StepLogSummary } from '../core/stepLog';
import { safeText } from '../shared/safeText';
import { logTruncationNote, stepLogMarkdown, type LogCostTotals } from './format';
import { pickStep } from './pickStep';
import { showError } from './showError';
import type { StepDatabase, StepDatabases } from '../core/stepDatabase';
import { isFileNode, isStepNode, referencedStep, type StepNode } from './treeNodes';

export const STEP_LOG_SCHEME = 'step-history-log';
/** A log larger than this shows only its end, with a note. */
export const SHOWN_LOG_BYTES = 5 * 1024 * 1024;
const FOLLOW_DEBOUNCE_MS = 300;

export interface StepLogInfo {
  file: StepLogFile;
  /** null while the step runs, or when the agent stopped without a summary. */
  summary: StepLogSummary | null;
}

export type StepLogFormat = 'markdown' | 'plain';

/** The summaries of step logs, per database, read in the background for the views. */
export class StepLogs implements vscode.Disposable {
  private readonly summaries = new StepLogSummaries();
  private readonly listings = new Map<string, Promise<Map<number, StepLogFile>>>();
  /** `databaseId|stepId` → what is known: info, null for no log; absent while unknown. */
  private readonly known = new Map<string, StepLogInfo | null>();
  private readonly loading = new Map<string, Promise<StepLogInfo | null>>();
  private readonly loaded = new vscode.EventEmitter<string>();
  /** Fires with a database's id when summaries of its steps were read; the views redraw them. */
  readonly onDidLoad = this.loaded.event;
  private pendingFire = new Set<string>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    databases: StepDatabases,
    private readonly log: Logger,
  ) {
    // A step that finished has a summary now; a new step may have a log.
    this.subscriptions.push(databases.onDidChangeDatabase((database) => this.forget(database.id)));
  }

  forget(databaseId: string): void {
    this.listings.delete(databaseId);
    for (const key of [...this.known.keys()]) if (key.startsWith(`${databaseId}|`)) this.known.delete(key);
  }

  /** What is known of a step's log now: undefined when not yet, and then it is read and onDidLoad fires. */
  peek(database: StepDatabase, stepId: number): StepLogInfo | null | undefined {
    const key = `${database.id}|${stepId}`;
    if (this.known.has(key)) return this.known.get(key);
    void this.info(database, stepId).then((info) => {
      if (!info?.summary) return;
      this.pendingFire.add(database.id);
      // One redraw for a page of steps read together.
      setTimeout(() => {
        const ids = [...this.pendingFire];
        this.pendingFire.clear();
        for (const id of ids) this.loaded.fire(id);
      }, 50);
    });
    return undefined;
  }

  /** A step's log and its summary, or null when it has none. Failures are logged and read as none. */
  info(database: StepDatabase, stepId: number): Promise<StepLogInfo | null> {
    const key = `${database.id}|${stepId}`;
    if (this.known.has(key)) return Promise.resolve(this.known.get(key)!);
    let running = this.loading.get(key);
    if (!running) {
      running = this.read(database, stepId)
        .then((info) => {
          this.known.set(key, info);
          return info;
        })
        .finally(() => this.loading.delete(key));
      this.loading.set(key, running);
    }
    return running;
  }

  /** What the logs add to a project's cost: the steps among `stepIds` whose log gives one. */
  async costOf(database: StepDatabase, stepIds: number[]): Promise<LogCostTotals> {
    const listing = await this.listing(database);
    const totals: LogCostTotals = { steps: 0, cost: 0 };
    const withLogs = stepIds.filter((id) => listing.has(id));
    // A few at a time: a project may have thousands of logs.
    for (let i = 0; i < withLogs.length; i += 8) {
      const infos = await Promise.all(withLogs.slice(i, i + 8).map((id) => this.info(database, id)));
      for (const info of infos) {
        if (info?.summary?.costUsd) {
          totals.steps++;
          totals.cost += info.summary.costUsd;
        }
      }
    }
    return totals;
  }

  private listing(database: StepDatabase): Promise<Map<number, StepLogFile>> {
    let listing = this.listings.get(database.id);
    if (!listing) {
      listing = listStepLogs(stepLogsFolder(database.path)).catch((err: unknown) => {
        logFailure(this.log, `step logs of ${database.path}`, err, 'warn');
        return new Map<number, StepLogFile>();
      });
      this.listings.set(database.id, listing);
    }
    return listing;
  }

  private async read(database: StepDatabase, stepId: number): Promise<StepLogInfo | null> {
    const file = (await this.listing(database)).get(stepId);
    if (!file) return null;
    try {
      return { file, summary: await this.summaries.summary(file) };
    } catch (err) {
      logFailure(this.log, `summary of ${file.path}`, err, 'warn');
      return { file, summary: null };
    }
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.loaded.dispose();
  }
}

interface LogDocumentRef {
  path: string;
  format: StepLogFormat;
}

/** `step-history-log:/S12 log.md?<ref>`: the tab reads `S12 log`, the extension says how to show it. */
export function stepLogUri(file: string, label: string, format: StepLogFormat): vscode.Uri {
  const ref: LogDocumentRef = { path: file, format };
  return vscode.Uri.from({
    scheme: STEP_LOG_SCHEME,
    path: `/${label} log${format === 'markdown' ? '.md' : '.log'}`,
    query: JSON.stringify(ref),
  });
}

function decodeRef(uri: vscode.Uri): LogDocumentRef | undefined {
  try {
    const ref = JSON.parse(uri.query) as Partial<LogDocumentRef>;
    if (typeof ref.path === 'string' && (ref.format === 'markdown' || ref.format === 'plain')) return { path: ref.path, format: ref.format };
  } catch {
    // Not one of ours.
  }
  return undefined;
}

/**
 * Serves step logs read-only, read asynchronously (a log of many megabytes shows its last
 * SHOWN_LOG_BYTES, with a note), and follows each open one: a change to the file makes the
 * document read again, until the document closes.
 */
class StepLogDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changes = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changes.event;
  private readonly watchers = new Map<string, { watcher: fs.FSWatcher; timer?: ReturnType<typeof setTimeout> }>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly log: Logger) {
    this.subscriptions.push(
      vscode.workspace.onDidCloseTextDocument((doc) => {
        if (doc.uri.scheme === STEP_LOG_SCHEME) this.unwatch(doc.uri.toString());
      }),
    );
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const ref = decodeRef(uri);
    if (!ref) return 'This is not a step log Step History knows.';
    let shown;
    try {
      shown = await readStepLogText(ref.path, SHOWN_LOG_BYTES);
    } catch (err) {
      logFailure(this.log, `step log ${ref.path}`, err, 'warn');
      this.unwatch(uri.toString());
      return `The step log ${ref.path} could not be read; see the log for details.`;
    }
    this.watch(uri, ref.path);
    if (ref.format === 'markdown') {
      const note = shown.skippedBytes > 0 ? `> ${logTruncationNote(shown.size - shown.skippedBytes, shown.size)}\n\n` : '';
      return note + stepLogMarkdown(shown.text);
    }
    const note = shown.skippedBytes > 0 ? `[${logTruncationNote(shown.size - shown.skippedBytes, shown.size)}]\n\n` : '';
    return note + safeText(shown.text, { multiline: true });
  }

  private watch(uri: vscode.Uri, file: string): void {
    const key = uri.toString();
    if (this.watchers.has(key)) return;
    try {
      const entry: { watcher: fs.FSWatcher; timer?: ReturnType<typeof setTimeout> } = {
        watcher: fs.watch(file, { persistent: false }, () => {
          if (entry.timer) clearTimeout(entry.timer);
          entry.timer = setTimeout(() => this.changes.fire(uri), FOLLOW_DEBOUNCE_MS);
        }),
      };
      entry.watcher.on('error', (err) => {
        this.log.debug(`stopped following ${file}: ${String(err)}`);
        this.unwatch(key);
      });
      this.watchers.set(key, entry);
      this.log.debug(`following ${path.basename(file)}`);
    } catch (err) {
      this.log.debug(`cannot follow ${file}: ${String(err)}`);
    }
  }

  private unwatch(key: string): void {
    const entry = this.watchers.get(key);
    if (!entry) return;
    if (entry.timer) clearTimeout(entry.timer);
    entry.watcher.close();
    this.watchers.delete(key);
  }

  /** How many logs are followed now, for the integration tests. */
  get following(): number {
    return this.watchers.size;
  }

  dispose(): void {
    for (const key of [...this.watchers.keys()]) this.unwatch(key);
    for (const s of this.subscriptions) s.dispose();
    this.changes.dispose();
  }
}

function readFormat(): StepLogFormat {
  return vscode.workspace.getConfiguration('stepHistory').get<string>('stepLog.format') === 'plain' ? 'plain' : 'markdown';
}

export interface StepLogsProbe {
  /** How many open log documents follow their file. */
  following(): number;
}

/**
 * Registers the log documents and `stepHistory.openStepLog`, which resolves to the document's
 * URI, or undefined when the step has no log (the user is told so) or none was picked.
 */
export function registerStepLogs(
  context: vscode.ExtensionContext,
  databases: StepDatabases,
  log: Logger,
): { logs: StepLogs; probe: StepLogsProbe } {
  const logs = new StepLogs(databases, log);
  const documents = new StepLogDocuments(log);
  context.subscriptions.push(logs, documents, vscode.workspace.registerTextDocumentContentProvider(STEP_LOG_SCHEME, documents));

  const open = async (arg?: unknown): Promise<vscode.Uri | undefined> => {
    let node: StepNode | undefined;
    if (isStepNode(arg)) node = arg;
    else if (isFileNode(arg)) node = { kind: 'step', database: arg.database, projectId: arg.projectId, step: arg.step };
    else node = (await referencedStep(databases, arg)) ?? (await pickStep(databases, { title: vscode.l10n.t('Open Step Log') }));
    if (!node) return undefined;
    const { database, step } = node;
    const file = await findStepLog(database.path, step.id);
    if (!file) {
      log.info(`${step.label} of ${database.path} has no log in ${stepLogsFolder(database.path)}`);
      void vscode.window.showInformationMessage(
        vscode.l10n.t('{0} has no log. Step History looks for logs/step-{0}-*.log beside {1}.', step.label, safeText(database.label)),
      );
      return undefined;
    }
    const format = readFormat();
    const uri = stepLogUri(file.path, step.label, format);
    if (format === 'markdown') {
      await vscode.commands.executeCommand('markdown.showPreview', uri);
    } else {
      const document = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(document, { preview: false });
    }
    return uri;
  };
  context.subscriptions.push(
    vscode.commands.registerCommand('stepHistory.openStepLog', async (arg?: unknown) => {
      try {
        return await open(arg);
      } catch (err) {
        await showError(err, log, 'openStepLog');
        return undefined;
      }
    }),
  );
  return { logs, probe: { following: () => documents.following } };
}
