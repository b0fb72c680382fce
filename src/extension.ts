import * as path from 'path';
import * as vscode from 'vscode';
import type { Logger } from './core/log';
import type { StepStore } from './core/stepStore';
import { registerStepsView } from './ui/stepsView';

/** What `activate` returns to tests and to other extensions. */
export interface StepHistoryApi {
  readonly apiVersion: 1;
  /** Opens a step database read-only. sql.js and its WASM load on the first call, not at activation. */
  openStepDatabase(dbPath: string): Promise<StepStore>;
}

export function activate(context: vscode.ExtensionContext): StepHistoryApi {
  const log = vscode.window.createOutputChannel('Step History', { log: true });
  context.subscriptions.push(
    log,
    vscode.commands.registerCommand('stepHistory.showLog', () => log.show()),
    registerStepsView(),
  );

  const wasmPath = path.join(context.extensionPath, 'dist', 'sql-wasm.wasm');
  const storeLog = tagged(log, 'store');

  return {
    apiVersion: 1,
    async openStepDatabase(dbPath: string) {
      const { StepStore } = await import('./core/stepStore');
      return StepStore.open(dbPath, { wasmPath, log: storeLog });
    },
  };
}

export function deactivate(): void {}

function tagged(channel: vscode.LogOutputChannel, component: string): Logger {
  const prefix = `[${component}] `;
  return {
    trace: (m) => channel.trace(prefix + m),
    debug: (m) => channel.debug(prefix + m),
    info: (m) => channel.info(prefix + m),
    warn: (m) => channel.warn(prefix + m),
    error: (m) => channel.error(prefix + m),
  };
}
