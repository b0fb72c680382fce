import * as assert from 'assert';
import * as vscode from 'vscode';
import { reportMetric, stepHistory, WITHOUT_DATABASE } from './support';

describe(WITHOUT_DATABASE, () => {
  it('has the workspace this suite needs: a folder with files but no steps.db', async () => {
    assert.strictEqual(vscode.workspace.workspaceFolders?.length, 1, 'expected one open workspace folder');
    assert.ok((await vscode.workspace.findFiles('**/*')).length > 0, 'the workspace should not be empty');
    assert.deepStrictEqual(await vscode.workspace.findFiles('**/steps.db'), []);
  });

  it('is installed but stays inactive after startup', () => {
    // The runner starts after onStartupFinished: every workspaceContains check has run by then.
    const extension = stepHistory();
    assert.strictEqual(extension.isActive, false, 'Step History activated in a workspace without a step database');
  });

  it('activates on demand, registers its commands, and reports its activation time', async () => {
    const extension = stepHistory();
    assert.strictEqual(extension.isActive, false, 'precondition: not active yet');
    const started = performance.now();
    const api = (await extension.activate()) as { apiVersion?: unknown };
    const activationMs = performance.now() - started;
    reportMetric('activationMs', Math.round(activationMs * 10) / 10);
    assert.strictEqual(api?.apiVersion, 1);
    assert.ok((await vscode.commands.getCommands(true)).includes('stepHistory.showLog'), 'stepHistory.showLog is not registered');
  });
});
