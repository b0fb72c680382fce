// Placeholder until the Steps tree lands: an empty tree, so the welcome view shows.
import * as vscode from 'vscode';
import type { Logger } from '../core/log';
import type { StepDatabases } from './stepDatabases';
import type { TreeNode } from './treeNodes';

export const STEPS_VIEW_ID = 'stepHistory.steps';

export interface StepsTree {
  readonly provider: vscode.TreeDataProvider<TreeNode>;
  readonly view: vscode.TreeView<TreeNode>;
}

export function registerStepsTree(context: vscode.ExtensionContext, _databases: StepDatabases, _log: Logger): StepsTree {
  const provider: vscode.TreeDataProvider<TreeNode> = { getTreeItem: () => new vscode.TreeItem(''), getChildren: () => [] };
  const view = vscode.window.createTreeView(STEPS_VIEW_ID, { treeDataProvider: provider });
  context.subscriptions.push(view);
  return { provider, view };
}
