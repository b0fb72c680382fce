// Placeholder until per-step diffs land.
import type * as vscode from 'vscode';
import type { Logger } from '../core/log';
import type { StepDatabases } from './stepDatabases';

export function registerDiffs(_context: vscode.ExtensionContext, _databases: StepDatabases, _log: Logger): void {}
