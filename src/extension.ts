import * as l10n from '@vscode/l10n';
import * as vscode from 'vscode';
import { createApi, type StepHistoryApi } from './ui/api';
import { registerAnalyticsPanel } from './ui/analyticsPanel';
import { registerDetailsPanel } from './ui/detailsPanel';
import { registerDiffs } from './ui/diffs';
import { registerFileHistory } from './ui/fileHistory';
import { componentLogger } from './ui/log';
import { registerRollback } from './ui/rollback';
import { registerStatusBar } from './ui/statusBar';
import { registerStepBlame } from './ui/stepBlame';
import { registerStepLogs } from './ui/stepLogs';
import { registerStepsTree, STEPS_VIEW_ID } from './ui/stepsTree';
import { registerTreeCommands } from './ui/treeCommands';
import { WorkspaceStepDatabases } from './ui/workspaceDatabases';

export type { StepHistoryApi } from './ui/api';
export type { RollbackOptions, RollbackOutcome, RollbackTargetArgument, UndoOutcome } from './ui/rollback';

/** Composes the services; nothing else runs here. sql.js loads on the first database open. */
export function activate(context: vscode.ExtensionContext): StepHistoryApi {
  // The views' pure modules translate through @vscode/l10n, from the editor's bundle for its language.
  if (vscode.l10n.bundle) l10n.config({ contents: vscode.l10n.bundle });
  const channel = vscode.window.createOutputChannel('Step History', { log: true });
  context.subscriptions.push(channel, vscode.commands.registerCommand('stepHistory.showLog', () => channel.show()));
  const log = (component: string) => componentLogger(channel, component);

  const databases = new WorkspaceStepDatabases({ context, log: log('databases') });
  context.subscriptions.push(databases);
  const stepLogs = registerStepLogs(context, databases, log('step logs'));
  const tree = registerStepsTree(context, databases, log('tree'), stepLogs.logs);
  registerTreeCommands(context, { databases, tree, viewId: STEPS_VIEW_ID, log: log('tree') });
  const statusBar = registerStatusBar(context, databases, log('status'));
  const diffs = registerDiffs(context, databases, log('diff'));
  const details = registerDetailsPanel(context, databases, log('details'), stepLogs.logs);
  const analytics = registerAnalyticsPanel(context, databases, log('analytics'));
  const rollbacks = registerRollback(context, databases, log('rollback commands'), diffs);
  const fileHistory = registerFileHistory(context, databases, log('file history'));
  const stepBlame = registerStepBlame(context, databases, log('blame'));

  return createApi(databases, rollbacks, { stepsTree: tree.provider, details, analytics, stepLogs: stepLogs.probe, statusBar, fileHistory, stepBlame });
}

export function deactivate(): void {}
