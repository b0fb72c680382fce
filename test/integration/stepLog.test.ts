/**
 * Open Step Log in the real editor, on the demo workspace: a step given a log written as
 * LaForge writes it (logs/step-S<N>-<stamp>.log beside steps.db) opens read-only, follows the
 * file as it grows, and a step without a log opens nothing.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { StepHistoryApi } from '../../src/extension';
import type { StepNode } from '../../src/ui/treeNodes';
import type { DemoWorkspace } from '../fixtures/demoWorkspace';
import { formatChunk, sessionLines, writeStepLog } from '../fixtures/stepLogs';
import { DEMO_DESCRIPTION, IN_DEMO } from './suites';
import { stepHistory, waitFor } from './support';

describe(IN_DEMO, function () {
  this.timeout(60_000);

  describe('Open Step Log', () => {
    let api: StepHistoryApi;
    let demo: DemoWorkspace;
    let logsFolder: string;

    const node = async (id: number): Promise<StepNode> => {
      const database = api.databases().find((d) => fs.realpathSync(d.path) === fs.realpathSync(demo.dbPath))!;
      const step = await api.step(database.id, id);
      assert.ok(step, `S${id} is in the demo database`);
      const provider = api.testing.stepsTree;
      const projects = (await provider.getChildren()) ?? [];
      const project = projects.find((n) => n.kind === 'project' && n.database.id === database.id);
      assert.ok(project && project.kind === 'project');
      return { kind: 'step', database: project.database, projectId: step.projectId, step };
    };
    const logDocuments = () => vscode.workspace.textDocuments.filter((d) => d.uri.scheme === 'step-history-log');

    before(async () => {
      const root = vscode.workspace.workspaceFolders![0].uri.fsPath;
      demo = JSON.parse(fs.readFileSync(path.join(root, DEMO_DESCRIPTION), 'utf8'));
      api = (await stepHistory().activate()) as StepHistoryApi;
      await waitFor('the demo database to be found', () => api.databases().length > 0, 30_000);
      logsFolder = path.join(path.dirname(demo.dbPath), 'logs');
    });

    after(() => fs.rmSync(logsFolder, { recursive: true, force: true }));

    it('opens the log of a running step read-only, and follows it as it grows', async () => {
      const running = demo.runningStepId;
      const file = writeStepLog(logsFolder, running, new Date(), sessionLines({ turns: 2 }));
      await vscode.workspace.getConfiguration('stepHistory').update('stepLog.format', 'plain', vscode.ConfigurationTarget.Global);
      try {
        const uri = (await vscode.commands.executeCommand('stepHistory.openStepLog', await node(running))) as vscode.Uri | undefined;
        assert.ok(uri, 'the command resolves to the log document');
        assert.strictEqual(uri.scheme, 'step-history-log');
        const document = await vscode.workspace.openTextDocument(uri);
        assert.ok(document.getText().includes('Turn 2: reading the code before changing it.'), document.getText().slice(0, 300));
        assert.ok(!document.getText().includes('✅ Success'), 'no summary yet');
        assert.strictEqual(vscode.window.activeTextEditor?.document.uri.toString(), uri.toString(), 'shown in an editor');
        await waitFor('the log to be followed', () => api.testing.stepLogs.following() > 0);

        fs.appendFileSync(file, formatChunk(sessionLines({ turns: 0, result: { numTurns: 2, durationMs: 5000, costUsd: 0.0421, text: 'Finished the report.' } }).slice(1).join('\n') + '\n'));
        await waitFor('the document to show what the step wrote since', () => document.getText().includes('✅ Success • 2 turns • 5.0s • $0.0421'));
        assert.ok(document.getText().endsWith('Finished the report.\n\n'));

        await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
      } finally {
        await vscode.workspace.getConfiguration('stepHistory').update('stepLog.format', undefined, vscode.ConfigurationTarget.Global);
      }
    });

    it('renders the log as Markdown by default', async () => {
      const step = demo.steps.find((s) => s.status === 'COMPLETED')!;
      // The workspace's description is JSON: its times are strings.
      const started = new Date(step.startTime);
      writeStepLog(logsFolder, step.id, started, sessionLines({ turns: 1, result: { numTurns: 1, costUsd: 0.1, text: 'Done <b>now</b>.' } }));
      const uri = (await vscode.commands.executeCommand('stepHistory.openStepLog', await node(step.id))) as vscode.Uri | undefined;
      assert.ok(uri && uri.path.endsWith('.md'), `a Markdown document: ${uri?.toString()}`);
      const document = await vscode.workspace.openTextDocument(uri);
      assert.ok(document.getText().includes('Done \\<b>now\\</b>.'), 'HTML in the log is text');
      assert.ok(logDocuments().some((d) => d.uri.toString() === uri.toString()));
    });

    it('opens nothing for a step without a log', async () => {
      const without = demo.steps.find((s) => s.id !== demo.runningStepId && s.status === 'FAILED')!;
      const before = logDocuments().length;
      const result = await vscode.commands.executeCommand('stepHistory.openStepLog', await node(without.id));
      assert.strictEqual(result, undefined);
      assert.strictEqual(logDocuments().length, before);
    });
  });
});
