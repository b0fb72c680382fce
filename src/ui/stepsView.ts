import * as vscode from 'vscode';

export const STEPS_VIEW_ID = 'stepHistory.steps';

/**
 * The "Steps" tree. It has no items yet, so VS Code shows the view's welcome content
 * (package.json `viewsWelcome`); the tree of steps replaces this provider in a later change.
 */
export class StepsViewProvider implements vscode.TreeDataProvider<never> {
  getTreeItem(element: never): vscode.TreeItem {
    return element;
  }

  getChildren(): never[] {
    return [];
  }
}

export function registerStepsView(): vscode.Disposable {
  return vscode.window.registerTreeDataProvider(STEPS_VIEW_ID, new StepsViewProvider());
}
