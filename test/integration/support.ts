/** Helpers shared by the integration tests, which run inside a real VS Code extension host. */
import * as vscode from 'vscode';

export const EXTENSION_ID = 'step-history.step-history';

export { WITH_DATABASE, WITHOUT_DATABASE } from './suites';

export function stepHistory(): vscode.Extension<unknown> {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  if (!extension) {
    const installed = vscode.extensions.all.map((e) => e.id).filter((id) => !id.startsWith('vscode.'));
    throw new Error(`${EXTENSION_ID} is not installed; non-builtin extensions: ${installed.join(', ') || 'none'}`);
  }
  return extension;
}

export { waitFor } from '../fixtures/waitFor';

/** Numbers a test measures; the runner writes them to the results file and the harness prints them. */
export const metrics: Record<string, number> = {};

export function reportMetric(name: string, value: number): void {
  metrics[name] = value;
}
