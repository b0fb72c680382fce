// Placeholder until the step details panel lands.
import type * as vscode from 'vscode';
import type { Logger } from '../core/log';
import type { StepDatabases } from './stepDatabases';

/** What the integration tests read of the details panel. */
export interface DetailsPanelProbe {
  /** The last details message posted to the page, or undefined when no panel is open. */
  lastPosted(): unknown;
}

export function registerDetailsPanel(_context: vscode.ExtensionContext, _databases: StepDatabases, _log: Logger): DetailsPanelProbe {
  return { lastPosted: () => undefined };
}
