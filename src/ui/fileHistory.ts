/**
 * Show Step History for File: the steps that changed a file (core/fileHistory.ts), newest
 * first, the rolled-back ones marked, in a quick pick; choosing one opens that file's diff in
 * that step through `stepHistory.openFileDiff`, as the Steps view's file rows do. From the
 * Explorer's and an editor tab's menus the file is the argument; from the palette, the active
 * editor's.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { databaseForFile } from '../core/fileDatabase';
import { fileHistory, fileOfStep, type FileHistory, type FileStep } from '../core/fileHistory';
import type { Logger } from '../core/log';
import type { StepDatabase, StepDatabases } from '../core/stepDatabase';
import { safeText } from '../shared/safeText';
import { withWindowProgress } from './diffs';
import { stepPickText } from './format';
import { notMergedText } from '../core/stepCommits';
import { guarded } from './showError';
import { noCommitsSentence } from './stepBlameText';
import { stepTitles } from './stepTitles';
import type { FileNode } from './treeNodes';

/** What the last Show Step History for File showed, for Step History's integration tests. */
export interface FileHistoryProbe {
  readonly last: ShownFileHistory | undefined;
}

export interface ShownFileHistory {
  /** The file's absolute path. */
  file: string;
  databaseId: string;
  title: string;
  placeholder: string;
  items: { label: string; description: string; detail: string; stepId: number; path: string; rolledBack: boolean }[];
}

interface StepItem extends vscode.QuickPickItem {
  entry: FileStep;
}

export function registerFileHistory(context: vscode.ExtensionContext, databases: StepDatabases, log: Logger): FileHistoryProbe {
  const probe: { last: ShownFileHistory | undefined } = { last: undefined };
  const show = async (arg?: unknown): Promise<void> => {
    const uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
    if (!uri || uri.scheme !== 'file') {
      void vscode.window.showInformationMessage(vscode.l10n.t('Open a file to see the steps that changed it.'));
      return;
    }
    const name = path.basename(uri.fsPath);
    const found = await withWindowProgress(vscode.l10n.t('Reading the step history of {0}…', name), async () => {
      const owner = await databaseForFile(databases.all, uri.fsPath);
      if (owner?.kind !== 'laforge') return owner;
      const history = await fileHistory(owner.database, owner.path, { log });
      return { kind: 'history' as const, database: owner.database, history, titles: await stepTitles(owner.database, history.steps.map((s) => s.step), log) };
    });
    if (found?.kind !== 'history') {
      void vscode.window.showInformationMessage(
        found?.kind === 'otherSystems'
          ? noCommitsSentence(found.systems, name)
          : vscode.l10n.t('No LaForge step database in this workspace belongs to the repository of {0}.', name),
      );
      return;
    }
    const { database, history, titles } = found;
    if (history.steps.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No step changed {0}.', name));
      return;
    }
    const items = history.steps.map((entry): StepItem => ({ ...stepItemText(entry, history, titles.get(entry.step.id)), entry }));
    const title = vscode.l10n.t('Step History of {0}', name);
    const placeholder = placeholderText(name, history);
    probe.last = {
      file: uri.fsPath,
      databaseId: database.id,
      title,
      placeholder,
      items: items.map((i) => ({ label: i.label, description: i.description ?? '', detail: i.detail ?? '', stepId: i.entry.step.id, path: i.entry.path, rolledBack: i.entry.rolledBack })),
    };
    const picked = await vscode.window.showQuickPick(items, { title, placeHolder: placeholder, matchOnDescription: true, matchOnDetail: true });
    if (picked) await openStepFile(database, picked.entry, history);
  };
  context.subscriptions.push(vscode.commands.registerCommand('stepHistory.showFileHistory', guarded(log, 'showFileHistory', show)));
  return probe;
}

/** `$(discard) S12 · <title>`, `completed · <model> · <start> · src/a.ts → src/b.ts`, `<task> — <project>`. */
function stepItemText(entry: FileStep, history: FileHistory, title: string | undefined): vscode.QuickPickItem {
  const text = stepPickText(entry.step, { project: entry.step.projectId, title });
  const where =
    entry.oldPath !== undefined
      ? `${safeText(entry.oldPath)} → ${safeText(entry.path)}`
      : entry.path !== history.path
        ? vscode.l10n.t('as {0}', safeText(entry.path))
        : undefined;
  return {
    label: entry.rolledBack ? `$(discard) ${text.label}` : text.label,
    description: [text.description, notMergedText(entry.unmerged), where].filter(Boolean).join(' · '),
    detail: text.detail,
  };
}

function placeholderText(name: string, history: FileHistory): string {
  const others = history.otherCommits.length;
  if (others === 0) return vscode.l10n.t('Pick a step to see its changes to {0}', name);
  return others === 1
    ? vscode.l10n.t('Pick a step to see its changes to {0} (1 commit no step made changed it too)', name)
    : vscode.l10n.t('Pick a step to see its changes to {0} ({1} commits no step made changed it too)', name, others);
}

/** The file's diff in the step, by its path there, as the Steps view's file row opens it. */
async function openStepFile(database: StepDatabase, entry: FileStep, history: FileHistory): Promise<void> {
  const files = await withWindowProgress(vscode.l10n.t('Reading {0}\'s changes…', entry.step.label), () => database.changedFiles(entry.step));
  const file = fileOfStep(files, [entry.path, ...(entry.oldPath === undefined ? [] : [entry.oldPath]), history.path], entry.path);
  if (!file) {
    const name = path.basename(entry.path);
    void vscode.window.showInformationMessage(
      entry.via === 'merge'
        ? vscode.l10n.t('{0} changed {1} only in its merge commit, so its own changes do not include it.', entry.step.label, name)
        : vscode.l10n.t('{0}\'s changes, from its commit before to its own commit, do not include {1}.', entry.step.label, name),
    );
    return;
  }
  const node: FileNode = { kind: 'file', database, projectId: entry.step.projectId, step: entry.step, file };
  await vscode.commands.executeCommand('stepHistory.openFileDiff', node);
}
