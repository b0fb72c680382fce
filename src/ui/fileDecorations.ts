/**
 * The status letter and SCM colour on the Steps tree's file items. Each file item's
 * resourceUri is on our own scheme and carries its change status, so this decorates
 * nothing else and needs no state; the icon theme still picks the icon by file name.
 */
import * as vscode from 'vscode';
import type { ChangeStatus } from '../core/git';
import { changeLetter, changeWord, stepDecoration } from './format';
import type { ChangeItem } from '../core/sources/types';
import type { ChangeNode, FileNode } from './treeNodes';

export const STEP_FILE_SCHEME = 'step-history-file';
/** Step items carry a URI on this scheme only so that a rolled-back step's label can be dimmed, and a warned one marked. */
export const STEP_ITEM_SCHEME = 'step-history-step';

const COLORS: Partial<Record<ChangeStatus, string>> = {
  added: 'gitDecoration.addedResourceForeground',
  modified: 'gitDecoration.modifiedResourceForeground',
  deleted: 'gitDecoration.deletedResourceForeground',
  renamed: 'gitDecoration.renamedResourceForeground',
  copied: 'gitDecoration.addedResourceForeground',
  typeChanged: 'gitDecoration.modifiedResourceForeground',
  unmerged: 'gitDecoration.conflictingResourceForeground',
};

const KNOWN: ReadonlySet<string> = new Set<ChangeStatus>([
  'added', 'modified', 'deleted', 'renamed', 'copied', 'typeChanged', 'unmerged', 'unknown',
]);

/** `step-history-file:/src/a.ts?db=…&step=12&status=modified`. */
export function fileResourceUri(node: FileNode): vscode.Uri {
  const query = new URLSearchParams({ db: node.database.id, step: String(node.step.id), status: node.file.status });
  return vscode.Uri.from({ scheme: STEP_FILE_SCHEME, path: `/${node.file.path}`, query: query.toString() });
}

/**
 * A change's path as a URI path takes it, without its leading slashes (a stored path may be
 * absolute, `/src/app.ts`; a URI without an authority cannot start with `//`).
 */
export const changePath = (change: ChangeItem): string => (change.path ?? change.label).replace(/^[/\\]+/, '') || change.id;

/** The same for a change another system's step made: its path, on our scheme, with its status. */
export function changeResourceUri(node: ChangeNode): vscode.Uri {
  const query = new URLSearchParams({ db: node.database.id, step: node.step.ref, change: node.change.id, status: node.change.status });
  return vscode.Uri.from({ scheme: STEP_FILE_SCHEME, path: `/${changePath(node.change)}`, query: query.toString() });
}

export function statusOfResourceUri(uri: vscode.Uri): ChangeStatus | undefined {
  if (uri.scheme !== STEP_FILE_SCHEME) return undefined;
  const status = new URLSearchParams(uri.query).get('status');
  return status !== null && KNOWN.has(status) ? (status as ChangeStatus) : undefined;
}

/** `step-history-step:/S12?db=…&rolledBack=1&warnings=2`: a TreeItem's label can only be coloured by a decoration. */
export function stepResourceUri(databaseId: string, projectId: string, stepLabel: string, rolledBack: boolean, warnings = 0): vscode.Uri {
  const query = new URLSearchParams({ db: databaseId, project: projectId });
  if (rolledBack) query.set('rolledBack', '1');
  if (warnings > 0) query.set('warnings', String(warnings));
  return vscode.Uri.from({ scheme: STEP_ITEM_SCHEME, path: `/${stepLabel}`, query: query.toString() });
}

export function registerFileDecorations(context: vscode.ExtensionContext): void {
  const provider: vscode.FileDecorationProvider = {
    provideFileDecoration(uri) {
      if (uri.scheme === STEP_ITEM_SCHEME) {
        const query = new URLSearchParams(uri.query);
        const decoration = stepDecoration(query.get('rolledBack') === '1', Number(query.get('warnings') ?? 0) || 0);
        if (!decoration) return undefined;
        return new vscode.FileDecoration(decoration.badge, decoration.tooltip, new vscode.ThemeColor(decoration.color));
      }
      const status = statusOfResourceUri(uri);
      if (!status) return undefined;
      const color = COLORS[status];
      return new vscode.FileDecoration(changeLetter(status), changeWord(status), color ? new vscode.ThemeColor(color) : undefined);
    },
  };
  context.subscriptions.push(vscode.window.registerFileDecorationProvider(provider));
}
