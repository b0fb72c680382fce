import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { stepHistory, waitFor, WITH_DATABASE } from './support';

describe(WITH_DATABASE, () => {
  it('has the workspace this suite needs: one folder holding a steps.db', async () => {
    assert.strictEqual(vscode.workspace.workspaceFolders?.length, 1, 'expected one open workspace folder');
    const found = await vscode.workspace.findFiles('**/steps.db');
    assert.strictEqual(found.length, 1, `expected one steps.db, found ${found.map((u) => u.fsPath).join(', ') || 'none'}`);
  });

  it('is installed from the VSIX with only what runs', () => {
    const dir = stepHistory().extensionPath;
    for (const file of ['package.json', 'package.nls.json', 'dist/extension.js', 'dist/sql-wasm.wasm', 'media/icon.png', 'media/history.svg']) {
      assert.ok(fs.existsSync(path.join(dir, file)), `${file} is missing from the installed extension`);
    }
    // vsce may rename these (LICENSE becomes LICENSE.txt), so match by name, ignoring case and extension.
    const topLevel = fs.readdirSync(dir).map((f) => f.toLowerCase().replace(/\.(md|txt)$/, ''));
    for (const doc of ['readme', 'changelog', 'license']) {
      assert.ok(topLevel.includes(doc), `${doc} is missing from the installed extension (found ${topLevel.join(', ')})`);
    }
    for (const unwanted of ['src', 'test', 'node_modules', 'tsconfig.json', 'esbuild.js', 'dist/extension.js.map']) {
      assert.ok(!fs.existsSync(path.join(dir, unwanted)), `${unwanted} should not be in the VSIX`);
    }
  });

  it('activates on its own because the workspace contains steps.db', async () => {
    const extension = stepHistory();
    // The test runner starts after startup finished, so workspaceContains has been evaluated.
    await waitFor('Step History to activate', () => extension.isActive, 15_000);
  });

  it('returns its API from activation', () => {
    const api = stepHistory().exports as Record<string, unknown>;
    assert.strictEqual(api?.apiVersion, 1);
    for (const member of ['databases', 'projects', 'steps', 'step', 'changedFiles', 'refresh', 'onDidChange']) {
      assert.strictEqual(typeof api[member], 'function', `the API has no ${member}()`);
    }
  });

  it('registers its commands and its Steps view', async () => {
    const commands = new Set(await vscode.commands.getCommands(true));
    for (const id of ['stepHistory.showLog', 'workbench.view.extension.stepHistory', 'stepHistory.steps.focus']) {
      assert.ok(commands.has(id), `command ${id} is not registered`);
    }
  });

  it('opens its view container and focuses the Steps view', async () => {
    await vscode.commands.executeCommand('workbench.view.extension.stepHistory');
    await vscode.commands.executeCommand('stepHistory.steps.focus');
  });

  it('runs Show Log without an error', async () => {
    await vscode.commands.executeCommand('stepHistory.showLog');
  });
});
