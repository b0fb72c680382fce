import * as vscode from 'vscode';
import { describeError, logFailure } from '../core/errors';
import type { Logger } from '../core/log';

/**
 * The one place a failure reaches the user: its sentence in a notification with
 * "Show Log", its detail in the log. Never throws.
 */
export async function showError(err: unknown, log: Logger, context?: string): Promise<void> {
  const { message } = describeError(err);
  logFailure(log, context, err);
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
