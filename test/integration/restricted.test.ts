/**
 * Workspace trust: in Restricted Mode Step History still reads the step database, shows the
 * tree and serves diffs, but rolling back and undoing are unavailable and change nothing.
 * The harness opens the demo workspace with workspace trust on and the folder not trusted.
 */
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { StepHistoryApi } from '../../src/extension';
import type { DemoWorkspace } from '../fixtures/demoWorkspace';
import { DEMO_DESCRIPTION, IN_RESTRICTED_MODE } from './suites';
import { stepHistory, waitFor } from './support';

describe(IN_RESTRICTED_MODE, function () {
  this.timeout(60_000);
  let api: StepHistoryApi;
  let demo: DemoWorkspace;
  let root: string;
  let databaseId: string;
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();

  before(async () => {
    root = vscode.workspace.workspaceFolders![0].uri.fsPath;
    demo = JSON.parse(fs.readFileSync(path.join(root, DEMO_DESCRIPTION), 'utf8'));
    api = (await stepHistory().activate()) as StepHistoryApi;
    await waitFor('the demo database to be found', () => api.databases().length > 0, 30_000);
    databaseId = api.databases()[0].id;
  });

  it('runs in a workspace that is not trusted', () => {
    assert.strictEqual(vscode.workspace.isTrusted, false);
    assert.ok(stepHistory().isActive, 'Step History supports Restricted Mode in part, so it activates');
  });

  it('still reads the steps and their changed files', async () => {
    const steps = await api.steps(databaseId, demo.projectId, { limit: 500 });
    assert.strictEqual(steps.length, demo.stepCount);
    const many = demo.steps.find((s) => s.id === demo.manyFilesStepId)!;
    assert.strictEqual((await api.changedFiles(databaseId, many.id)).length, many.files.length);
  });

  it('refuses to roll back or undo, and changes nothing', async () => {
    const head = git('rev-parse', 'HEAD');
    const status = git('status', '--porcelain=v1');
    const dbBytes = fs.readFileSync(demo.dbPath);
    await assert.rejects(
      api.rollback(databaseId, demo.projectId, demo.steps[demo.steps.length - 3].id, { confirm: false, protect: true }),
      /Restricted Mode|trust/i,
    );
    await assert.rejects(api.undoLastRollback({ confirm: false }), /Restricted Mode|trust/i);
    assert.strictEqual(git('rev-parse', 'HEAD'), head);
    assert.strictEqual(git('status', '--porcelain=v1'), status);
    assert.ok(fs.readFileSync(demo.dbPath).equals(dbBytes), 'the database is untouched');
    assert.deepStrictEqual(git('for-each-ref', 'refs/step-history/'), '');
  });
});
