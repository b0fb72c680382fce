import type * as vscode from 'vscode';
import type { Logger } from '../core/log';

/** A Logger writing to the extension's log channel, each line tagged with its component. */
export function componentLogger(channel: vscode.LogOutputChannel, component: string): Logger {
  const prefix = `[${component}] `;
  return {
    trace: (m) => channel.trace(prefix + m),
    debug: (m) => channel.debug(prefix + m),
    info: (m) => channel.info(prefix + m),
    warn: (m) => channel.warn(prefix + m),
    error: (m) => channel.error(prefix + m),
  };
}
