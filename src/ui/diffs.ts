/**
 * Diffs of steps: a content provider on the `step-history` scheme that serves a file as
 * stored in a commit, and the commands that open one file's diff, a step's changes, a step
 * against the work tree, and two steps against each other.
 *
 * Opening a diff runs no git per file: the editors ask the provider for a side's content
 * when they show it, so a step touching thousands of files opens as fast as its file list.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  BINARY_NOTICE,
  changesTitle,
  decodeDocumentRef,
  documentText,
  encodeDocumentRef,
  planFileDiff,
  sideName,
  stepComparison,
  workingTreeBase,
  type DiffTarget,
  type FileDiffPlan,
  type FileSide,
} from '../core/diffPlan';
import { describeError, logFailure } from '../core/errors';
import type { ChangedFile } from '../core/git';
import type { Logger } from '../core/log';
import { isNoCommit, stepChange } from '../core/stepCommits';
import { pickStep } from './pickStep';
import { guarded, showError } from './showError';
import type { StepDatabase, StepDatabases } from '../core/stepDatabase';
import { isChangeNode, isFileNode, isItemNode, isStepNode, referencedStep, type ChangeNode, type ItemNode, type StepNode } from './treeNodes';
import { safeText } from '../shared/safeText';
import { changePath } from './fileDecorations';
import { workingTreeChanges } from '../core/workingTreeCompare';
import { shortHash } from '../core/figures';
import { failures } from '../core/messages';

export const DIFF_SCHEME = 'step-history';

const FALLBACK_NOTICE_KEY = 'stepHistory.changesEditorFallbackNoticeShown';

/** Opens a set of changed files in the multi-file diff editor; what other commands reuse. */
export interface ChangesOpener {
  openChanges(database: StepDatabase, root: string, label: string, files: readonly ChangedFile[], from: string, to: DiffTarget): Promise<void>;
}

export function registerDiffs(context: vscode.ExtensionContext, databases: StepDatabases, log: Logger): ChangesOpener {
  const provider = new StepFileContentProvider(databases, log);
  const diffs = new StepDiffs(context, databases, log);
  context.subscriptions.push(
    vscode.workspace.registerTextDocumentContentProvider(DIFF_SCHEME, provider),
    vscode.commands.registerCommand('stepHistory.openFileDiff', guarded(log, 'openFileDiff', (node?: unknown) => diffs.openFileDiff(node))),
    vscode.commands.registerCommand('stepHistory.showChanges', guarded(log, 'showChanges', (node?: unknown) => diffs.showChanges(node))),
    vscode.commands.registerCommand(
      'stepHistory.compareWithWorkingTree',
      guarded(log, 'compareWithWorkingTree', (node?: unknown) => diffs.compareWithWorkingTree(node)),
    ),
    vscode.commands.registerCommand(
      'stepHistory.compareSteps',
      guarded(log, 'compareSteps', (a?: unknown, b?: unknown) => diffs.compareSteps(a, b)),
    ),
  );
  return diffs;
}

/**
 * The URI of a file at a commit, served by StepFileContentProvider. The path makes the tab
 * label and the language, the query says what to serve. In a comparison with a work tree
 * (`workTree`) it is the work-tree file's own URI on this scheme, so that the multi-file diff
 * editor sees the same file on both sides (see sideName in core/diffPlan).
 */
function commitUri(database: StepDatabase, commit: string | null, filePath: string, binary = false, workTree?: string): vscode.Uri {
  const query = encodeDocumentRef({ database: database.id, commit, path: filePath, binary });
  if (workTree !== undefined) return vscode.Uri.file(sideName({ path: filePath }, workTree)).with({ scheme: DIFF_SCHEME, query });
  return vscode.Uri.from({ scheme: DIFF_SCHEME, path: sideName({ path: filePath }, undefined), query });
}

/** The two sides of a change another system's step made; undefined for a side that does not exist. */
function changeUris(node: ChangeNode): { left: vscode.Uri | undefined; right: vscode.Uri | undefined } {
  const side = (text: string | null) => (text === null ? undefined : storedTextUri(node, text));
  return { left: side(node.change.before), right: side(node.change.after) };
}

/** A stored text's document, named by the change's path; without `text`, an empty document. */
function storedTextUri(node: ChangeNode, text?: string): vscode.Uri {
  const shown = changePath(node.change);
  return vscode.Uri.from({ scheme: DIFF_SCHEME, path: `/${shown}`, query: encodeDocumentRef({ database: node.database.id, commit: null, path: shown, text }) });
}

const emptyUri = (node: ChangeNode): vscode.Uri => storedTextUri(node);

/**
 * A side's URI; `workTree` is the folder of the work tree a comparison with the work tree
 * reads its right side from, undefined when both sides are commits. The single-file diff
 * editor needs a document on both sides, so an absent side is an empty document there; the
 * multi-file editor takes `undefined` and then shows the file as added or deleted.
 */
function sideUri(database: StepDatabase, workTree: string | undefined, side: FileSide, absentAs: 'empty' | 'undefined'): vscode.Uri | undefined {
  switch (side.kind) {
    case 'commit':
      return commitUri(database, side.commit, side.path, side.binary, workTree);
    case 'workingTree':
      if (workTree === undefined) throw new Error('a work-tree side needs the work tree\'s folder');
      return vscode.Uri.file(sideName(side, workTree));
    case 'absent':
      return absentAs === 'empty' ? commitUri(database, null, side.path, false, workTree) : undefined;
  }
}

/** Serves `step-history:` documents: a file's content at a commit, read from git when shown. */
class StepFileContentProvider implements vscode.TextDocumentContentProvider {
  /** Sentences on screen now: a moved repository would otherwise raise one per file shown. */
  private readonly showing = new Set<string>();

  constructor(
    private readonly databases: StepDatabases,
    private readonly log: Logger,
  ) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const ref = decodeDocumentRef(uri.query);
    if (!ref) return 'Step History cannot read this address.';
    if (ref.text !== undefined) return this.storedText(ref.database, ref.text);
    if (ref.commit === null) return '';
    if (ref.binary) return BINARY_NOTICE;
    try {
      const database = this.databases.get(ref.database);
      if (!database) {
        throw failures.databaseNotOpen({ database: ref.database });
      }
      const repository = await database.repository();
      return documentText(await repository.fileAt(ref.commit, ref.path));
    } catch (err) {
      const { message } = describeError(err);
      if (!this.showing.has(message)) {
        this.showing.add(message);
        void showError(err, this.log, `content of ${ref.path} at ${shortHash(ref.commit)}`).finally(() => this.showing.delete(message));
      } else {
        this.log.debug(`content of ${ref.path} at ${shortHash(ref.commit)}: ${message}`);
      }
      return message;
    }
  }

  /** A text another system's database stores; a sentence when it is gone or cannot be read. */
  private async storedText(databaseId: string, ref: string): Promise<string> {
    const database = this.databases.get(databaseId);
    if (!database) return `The database ${databaseId} is no longer open in Step History.`;
    try {
      return (await database.text(ref)) ?? '(This text is no longer in the database.)';
    } catch (err) {
      const { message } = describeError(err);
      logFailure(this.log, `stored text ${ref} of ${databaseId}`, err, 'warn');
      return message;
    }
  }
}

class StepDiffs implements ChangesOpener {
  /** One stored text's diff: a change another system's step made. */
  async openChangeDiff(node: ChangeNode, preserveFocus = false): Promise<void> {
    const { left, right } = changeUris(node);
    const title = `${safeText(node.change.path ?? node.change.label)} (${safeText(node.step.label)})`;
    await vscode.commands.executeCommand('vscode.diff', left ?? emptyUri(node), right ?? emptyUri(node), title, { preview: true, preserveFocus });
  }

  private changesEditor: Promise<boolean> | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly databases: StepDatabases,
    private readonly log: Logger,
  ) {}

  async openFileDiff(node: unknown): Promise<void> {
    if (isChangeNode(node)) return this.openChangeDiff(node);
    if (!isFileNode(node)) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Pick a changed file under a step in the Steps view to see its changes.'));
      return;
    }
    if (node.worktree) {
      // A running step's file: its commit before against the file on disk in the step's work tree.
      const plan = planFileDiff(node.file, node.worktree.base, { kind: 'workingTree' }, `${node.step.label}, live`);
      await this.openOne(node.database, node.worktree.path, plan, false);
      return;
    }
    const { before, after } = stepChange(node.step, await node.database.stepCommit(node.step));
    const plan = planFileDiff(node.file, before, { kind: 'commit', commit: after }, node.step.label);
    await this.openOne(node.database, undefined, plan, false);
  }

  /** Everything another system's step changed, in one multi-file diff. */
  private async showItemChanges(node: ItemNode): Promise<void> {
    const label = safeText(node.item.label);
    const changes = await withWindowProgress(vscode.l10n.t('Reading the changes of {0}…', label), () => node.database.changes(node.item.ref));
    if (changes.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('{0} recorded no changes.', label));
      return;
    }
    const nodes = changes.map((change): ChangeNode => ({ kind: 'change', database: node.database, step: node.item, change }));
    if (!(await this.hasChangesEditor()) || nodes.length === 1) {
      await this.openChangeDiff(nodes[0]);
      return;
    }
    const resources = nodes.map((n) => {
      const { left, right } = changeUris(n);
      return [(right ?? left)!, left, right];
    });
    await vscode.commands.executeCommand('vscode.changes', changesTitle(label, nodes.length, true), resources);
  }

  async showChanges(arg: unknown): Promise<void> {
    if (isItemNode(arg) && arg.item.isStep) return this.showItemChanges(arg);
    const node = await this.stepArgument(arg, 'Show Step Changes');
    if (!node) return;
    if (node.step.status === 'RUNNING') {
      await this.showLiveChanges(node);
      return;
    }
    let range: { before: string; after: string };
    try {
      range = stepChange(node.step, await node.database.stepCommit(node.step));
    } catch (err) {
      // "S14 made no commit." is a fact about the step, not a failure.
      if (!isNoCommit(err)) throw err;
      void vscode.window.showInformationMessage((err as Error).message);
      return;
    }
    const { before, after } = range;
    const files = await withWindowProgress(vscode.l10n.t('Reading {0}\'s changes…', node.step.label), () => node.database.changedFiles(node.step));
    if (files.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('{0} changed no files.', node.step.label));
      return;
    }
    const root = (await node.database.repository()).root;
    await this.openChanges(node.database, root, node.step.label, files, before, { kind: 'commit', commit: after });
  }

  /** A running step's changes so far: its work tree's files against its commit before. */
  private async showLiveChanges(node: StepNode): Promise<void> {
    const label = `${node.step.label}, live`;
    const live = await withWindowProgress(vscode.l10n.t('Reading {0}\'s changes so far…', node.step.label), () => node.database.stepWorktree(node.step));
    if (!live) {
      void vscode.window.showInformationMessage(vscode.l10n.t('{0} is still running, and its work tree is not in this repository\'s list of work trees, so its changes cannot be shown yet.', node.step.label));
      return;
    }
    if (live.files.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('{0} is still running and has changed no files yet.', node.step.label));
      return;
    }
    await this.openChanges(node.database, live.path, label, live.files, live.base, { kind: 'workingTree' });
  }

  async compareWithWorkingTree(arg: unknown): Promise<void> {
    const node = await this.stepArgument(arg, 'Compare Step with Working Tree');
    if (!node) return;
    const base = workingTreeBase(node.step, await node.database.stepCommit(node.step));
    const label = `${node.step.label} ↔ Working Tree`;
    const { root, files } = await withWindowProgress(vscode.l10n.t('Comparing {0} with the working tree…', node.step.label), async () => {
      const repository = await node.database.repository();
      // The step databases' own files are left out: the compared one's first, and any other the workspace has.
      const databases = [node.database.path, ...this.databases.all.map((d) => d.path)];
      return { root: repository.root, files: await workingTreeChanges(repository, base, databases) };
    });
    if (files.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('The working tree has the same files as {0}\'s commit {1}.', node.step.label, shortHash(base)));
      return;
    }
    await this.openChanges(node.database, root, label, files, base, { kind: 'workingTree' });
  }

  /**
   * From a tree item, `a` is that step and `b` the tree's selection (two selected steps
   * are compared directly); from the palette, both are picked.
   */
  /**
   * Another system's step beside the same kind of step elsewhere (the same payload's response
   * in another run): picked from its counterparts, the other's change → this one's.
   */
  private async compareItem(node: ItemNode): Promise<void> {
    const label = safeText(node.item.label);
    const counterparts = await withWindowProgress(vscode.l10n.t('Finding what {0} compares with…', label), () => node.database.counterparts(node.item.ref));
    if (counterparts.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('{0} has nothing of the same kind to compare with.', label));
      return;
    }
    type Item = vscode.QuickPickItem & { other: (typeof counterparts)[number] };
    const picked = await vscode.window.showQuickPick<Item>(
      counterparts.map((other) => ({ label: safeText(other.label), description: other.description ? safeText(other.description) : undefined, other })),
      { title: vscode.l10n.t('Compare {0} with…', label), placeHolder: vscode.l10n.t('Pick the step to compare it with'), matchOnDescription: true },
    );
    if (!picked) return;
    const [mine, theirs] = await Promise.all([node.database.changes(node.item.ref), node.database.changes(picked.other.ref)]);
    const change = mine[0];
    const other = theirs.find((c) => c.label === change?.label) ?? theirs[0];
    if (!change || !other) {
      void vscode.window.showInformationMessage(vscode.l10n.t('{0} or {1} recorded no text to compare.', label, safeText(picked.other.label)));
      return;
    }
    const left = changeUris({ kind: 'change', database: node.database, step: picked.other, change: other }).right;
    const right = changeUris({ kind: 'change', database: node.database, step: node.item, change }).right;
    const empty = emptyUri({ kind: 'change', database: node.database, step: node.item, change });
    await vscode.commands.executeCommand('vscode.diff', left ?? empty, right ?? empty, `${safeText(picked.other.label)} ↔ ${label}`, { preview: true });
  }

  async compareSteps(a: unknown, b: unknown): Promise<void> {
    if (isItemNode(a) && a.item.isStep) return this.compareItem(a);
    let first: StepNode | undefined;
    let second: StepNode | undefined;
    if (Array.isArray(b) && b.length === 2 && b.every(isStepNode)) [first, second] = b;
    else if (isStepNode(a)) first = a;
    else first = await pickStep(this.databases, { title: vscode.l10n.t('Compare Two Steps (1/2)'), placeHolder: vscode.l10n.t('Pick the first step') });
    if (!first) return;
    second ??= await pickStep(this.databases, {
      title: vscode.l10n.t('Compare {0} with… (2/2)', first.step.label),
      placeHolder: vscode.l10n.t('Pick the step to compare it with'),
      exclude: first,
    });
    if (!second) return;
    const one = first;
    const other = second;

    const [oneCommit, otherCommit] = await Promise.all([one.database.stepCommit(one.step), other.database.stepCommit(other.step)]);
    const comparison = stepComparison({ step: one.step, commit: oneCommit }, { step: other.step, commit: otherCommit });
    const { root, files } = await withWindowProgress(vscode.l10n.t('Comparing {0}…', comparison.label), async () => {
      const [repository, otherRepository] = await Promise.all([one.database.repository(), other.database.repository()]);
      if (repository.root !== otherRepository.root) return { root: undefined, files: [] as ChangedFile[] };
      return { root: repository.root, files: await repository.changedFiles(comparison.from, comparison.to) };
    });
    if (root === undefined) {
      void vscode.window.showWarningMessage(
        vscode.l10n.t('{0} and {1} belong to different git repositories, so they cannot be compared.', one.step.label, other.step.label),
      );
      return;
    }
    if (files.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('{0} and {1} left the same files.', comparison.older.label, comparison.newer.label));
      return;
    }
    const database = comparison.older === one.step ? one.database : other.database;
    await this.openChanges(database, root, comparison.label, files, comparison.from, { kind: 'commit', commit: comparison.to });
  }

  private async stepArgument(arg: unknown, title: string): Promise<StepNode | undefined> {
    if (isStepNode(arg)) return arg;
    return (await referencedStep(this.databases, arg)) ?? pickStep(this.databases, { title });
  }

  /** One file's diff; `workTree` as for sideUri. */
  private async openOne(database: StepDatabase, workTree: string | undefined, plan: FileDiffPlan, preserveFocus: boolean): Promise<void> {
    const left = sideUri(database, workTree, plan.left, 'empty');
    const right = sideUri(database, workTree, plan.right, 'empty');
    const options: vscode.TextDocumentShowOptions = { preview: true, preserveFocus };
    await vscode.commands.executeCommand('vscode.diff', left, right, plan.title, options);
  }

  /** The multi-file diff editor (VS Code 1.86+), or a pick list of the files where it is missing. */
  async openChanges(
    database: StepDatabase,
    root: string,
    label: string,
    files: readonly ChangedFile[],
    from: string,
    to: DiffTarget,
  ): Promise<void> {
    const plans = files.map((file) => planFileDiff(file, from, to, label));
    const workTree = to.kind === 'workingTree' ? root : undefined;
    this.log.info(`[diffs] ${label}: ${files.length} file(s) from ${shortHash(from)} to ${to.kind === 'commit' ? shortHash(to.commit) : 'the working tree'}`);
    if (await this.hasChangesEditor()) {
      const resources = plans.map((plan) => [
        vscode.Uri.file(path.join(root, plan.file.path)),
        sideUri(database, workTree, plan.left, 'undefined'),
        sideUri(database, workTree, plan.right, 'undefined'),
      ]);
      await vscode.commands.executeCommand('vscode.changes', changesTitle(label, files.length, true), resources);
      return;
    }
    await this.pickChangedFile(database, workTree, changesTitle(label, files.length), plans);
  }

  private hasChangesEditor(): Promise<boolean> {
    this.changesEditor ??= Promise.resolve(vscode.commands.getCommands(true)).then(
      (commands) => commands.includes('vscode.changes'),
      () => false,
    );
    return this.changesEditor;
  }

  /** Where the multi-file diff editor is missing: the files in a list that stays open, each opening its diff. */
  private async pickChangedFile(database: StepDatabase, workTree: string | undefined, title: string, plans: FileDiffPlan[]): Promise<void> {
    if (!this.context.globalState.get<boolean>(FALLBACK_NOTICE_KEY)) {
      void this.context.globalState.update(FALLBACK_NOTICE_KEY, true);
      void vscode.window.showInformationMessage(
        vscode.l10n.t('This version of VS Code has no multi-file diff editor (it arrived in 1.86), so Step History lists the changed files: pick one to see its diff.'),
      );
    }
    type Item = vscode.QuickPickItem & { plan: FileDiffPlan };
    const quickPick = vscode.window.createQuickPick<Item>();
    quickPick.title = title;
    quickPick.placeholder = 'Pick a file to see its changes';
    quickPick.matchOnDescription = true;
    quickPick.ignoreFocusOut = true;
    quickPick.items = plans.map((plan) => ({ label: plan.file.path, description: describeChange(plan.file), detail: plan.file.oldPath ? `from ${plan.file.oldPath}` : undefined, plan }));
    quickPick.onDidAccept(() => {
      const item = quickPick.selectedItems[0];
      if (item) {
        this.openOne(database, workTree, item.plan, true).catch((err: unknown) => showError(err, this.log, 'open file diff'));
      }
    });
    quickPick.onDidHide(() => quickPick.dispose());
    quickPick.show();
  }
}

/** Runs `task` with `title` in the status bar's progress, as every read behind a diff does. */
export function withWindowProgress<T>(title: string, task: () => Promise<T>): Promise<T> {
  return Promise.resolve(vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title }, task));
}

function describeChange(file: ChangedFile): string {
  const counts = file.binary ? 'binary' : file.added === null ? '' : `+${file.added} −${file.removed ?? 0}`;
  return [file.status, counts].filter(Boolean).join(' · ');
}
