import * as vscode from 'vscode';
import { describeError, isPassingState, logFailure } from '../core/errors';
import type { Logger } from '../core/log';

/**
 * The one place a failure reaches the user: its sentence in a notification with
 * "Show Log", its detail in the log. A passing state (isPassingState: a step still running,
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
  const choice = await vscode.window.showErrorMessage(message, 'Show Log');
  if (choice === 'Show Log') await vscode.commands.executeCommand('stepHistory.showLog');
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
