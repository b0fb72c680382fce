// Placeholder until the status bar item lands.
import type * as vscode from 'vscode';
import type { Logger } from '../core/log';
import type { StepDatabases } from './stepDatabases';

export function registerStatusBar(_context: vscode.ExtensionContext, _databases: StepDatabases, _log: Logger): void {}
