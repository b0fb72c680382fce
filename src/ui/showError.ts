import * as vscode from 'vscode';
import { describeError, isPassingState, logFailure } from '../core/errors';
import type { Logger } from '../core/log';
import { remediesOf, type Remedy } from '../core/remedies';

/** Each remedy as a command: the notification's button runs it, and so does choosing a tree's error row. */
export function remedyCommand(remedy: Remedy): vscode.Command {
  switch (remedy.action) {
    case 'openFolder':
      return { title: vscode.l10n.t('Open Folder…'), command: 'workbench.action.files.openFolder' };
    case 'installGit':
      return { title: vscode.l10n.t('Install Git'), command: 'vscode.open', arguments: [vscode.Uri.parse('https://git-scm.com/downloads')] };
    case 'openSettings':
      return remedy.setting
        ? { title: vscode.l10n.t('Open Settings'), command: 'workbench.action.openSettings', arguments: [remedy.setting] }
        : { title: vscode.l10n.t('Open Settings'), command: 'stepHistory.openSettings' };
    case 'openDatabase':
      return { title: vscode.l10n.t('Open Step Database…'), command: 'stepHistory.openDatabase' };
    case 'showLog':
      return { title: vscode.l10n.t('Show Log'), command: 'stepHistory.showLog' };
  }
}

/**
 * The one place a failure reaches the user: its sentence in a notification with the actions
 * its code offers (remediesOf: "Open Folder…", "Install Git", "Open Settings", …, and
 * "Show Log"), its detail in the log. A passing state (isPassingState: a step still running,
 * the database busy, another rollback under way) is no failure: it is a warning without
 * buttons, which VS Code hides by itself after a few seconds (an error with a button would
 * stay until closed, long after the state is over); VS Code replaces a notification with the
 * same sentence rather than stacking it. Never throws.
 */
export async function showError(err: unknown, log: Logger, context?: string): Promise<void> {
  const { message } = describeError(err);
  logFailure(log, context, err);
  if (isPassingState(err)) {
    await vscode.window.showWarningMessage(message);
    return;
  }
  const buttons = remediesOf(err).map(remedyCommand);
  const choice = await vscode.window.showErrorMessage(message, ...buttons.map((b) => b.title));
  const chosen = buttons.find((b) => b.title === choice);
  try {
    if (chosen) await vscode.commands.executeCommand(chosen.command, ...(chosen.arguments ?? []));
  } catch (failed) {
    log.warn(`${choice}: ${String(failed)}`);
  }
}

/** Wraps a command handler so a failure becomes showError instead of an unhandled rejection. */
export function guarded<A extends unknown[]>(log: Logger, name: string, handler: (...args: A) => unknown) {
  return async (...args: A): Promise<void> => {
    try {
      await handler(...args);
    } catch (err) {
      await showError(err, log, name);
    }
  };
}
