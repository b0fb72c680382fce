/**
 * Rollback and undo in the editor, on the demo workspace. The suite's root title is the demo
 * suite's, so it runs in the same session, after demo.test.ts (files load in name order):
 * by then an appended step has completed the demo's running step. Every check compares with
 * what git and the files on disk say, read before the operation.
 */
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { StepHistoryApi } from '../../src/extension';
import type { ProjectNode, StepNode, TreeNode } from '../../src/ui/treeNodes';
import { appendDemoStep, type DemoWorkspace } from '../fixtures/demoWorkspace';
import { DEMO_DESCRIPTION, IN_DEMO } from './suites';
import { stepHistory, waitFor } from './support';

/** Every file under `root` but git's own and the step database's, with its bytes. */
function snapshot(root: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      const relative = path.relative(root, full);
      if (relative === '.git' || relative.startsWith('steps.db')) continue;
      if (entry.isDirectory()) walk(full);
      else files.set(relative, fs.readFileSync(full));
    }
  };
  walk(root);
  return files;
}

function assertSameFiles(actual: Map<string, Buffer>, expected: Map<string, Buffer>, what: string): void {
  const missing = [...expected.keys()].filter((f) => !actual.has(f));
  const extra = [...actual.keys()].filter((f) => !expected.has(f));
  const changed = [...expected.keys()].filter((f) => actual.has(f) && !actual.get(f)!.equals(expected.get(f)!));
  assert.deepStrictEqual({ missing, extra, changed }, { missing: [], extra: [], changed: [] }, what);
}

describe(IN_DEMO, function () {
  this.timeout(90_000);
  let api: StepHistoryApi;
  let demo: DemoWorkspace;
  let root: string;

  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, maxBuffer: 1 << 26 });
  const gitText = (...args: string[]) => git(...args).toString('utf8').trim();
  const databaseId = () => api.databases().find((d) => fs.realpathSync(d.path) === fs.realpathSync(demo.dbPath))!.id;
  const activeIds = async () =>
    (await api.steps(databaseId(), demo.projectId, { limit: 500 })).filter((s) => s.active).map((s) => s.id).sort((a, b) => a - b);

  const tree = () => api.testing.stepsTree;
  const children = async (node?: TreeNode) => ((await tree().getChildren(node)) ?? []) as TreeNode[];
  async function treeContexts(): Promise<Map<number, string | undefined>> {
    const project = (await children()).find((n): n is ProjectNode => n.kind === 'project' && n.project.id === demo.projectId);
    assert.ok(project, 'the demo project is in the tree');
    const steps = (await children(project)).filter((n): n is StepNode => n.kind === 'step');
    return new Map(steps.map((n) => [n.step.id, (tree().getTreeItem(n) as vscode.TreeItem).contextValue]));
  }

  before(async () => {
    root = vscode.workspace.workspaceFolders![0].uri.fsPath;
    demo = JSON.parse(fs.readFileSync(path.join(root, DEMO_DESCRIPTION), 'utf8'));
    api = (await stepHistory().activate()) as StepHistoryApi;
    await waitFor('the demo database to be found', () => api.databases().some((d) => fs.realpathSync(d.path) === fs.realpathSync(demo.dbPath)), 30_000);
    await api.projects(databaseId());
  });

  it('refuses to roll back over a running step, and changes nothing', async () => {
    const running = appendDemoStep(root, { running: true });
    await waitFor(`${running.label} running`, async () => (await api.step(databaseId(), running.id))?.status === 'RUNNING', 20_000);
    const head = gitText('rev-parse', 'HEAD');
    const files = snapshot(root);
    const database = fs.readFileSync(demo.dbPath);
    const active = await activeIds();

    await assert.rejects(
      async () =>
        vscode.commands.executeCommand('stepHistory.rollback', { dbPath: demo.dbPath, projectId: demo.projectId, stepId: 20 }, { confirm: false, protect: true }),
      (err: { code?: string; message?: string; remedy?: string }) => {
        assert.strictEqual(err.code, 'REFUSED', String(err.message));
        assert.match(String(err.message), new RegExp(`${running.label}|running`, 'i'));
        assert.ok(err.remedy, 'the refusal says what to do');
        return true;
      },
    );
    assert.strictEqual(gitText('rev-parse', 'HEAD'), head, 'the branch did not move');
    assertSameFiles(snapshot(root), files, 'no file changed');
    assert.ok(fs.readFileSync(demo.dbPath).equals(database), 'the database was not written');
    assert.deepStrictEqual(await activeIds(), active);
  });

  it('waits out a running step from the tree with a notification that ends when the step finishes, not an error', async () => {
    const running = (await api.steps(databaseId(), demo.projectId, { limit: 500 })).find((s) => s.status === 'RUNNING');
    assert.ok(running, 'the step appended above still runs');
    const project = (await children()).find((n): n is ProjectNode => n.kind === 'project' && n.project.id === demo.projectId)!;
    const node = (await children(project)).find((n): n is StepNode => n.kind === 'step' && n.step.id === 20);
    assert.ok(node, 'S20 is in the tree');
    const head = gitText('rev-parse', 'HEAD');
    const active = await activeIds();

    // From the tree: the user's own command, so a passing state is waited out with them, not thrown.
    const outcome = await vscode.commands.executeCommand('stepHistory.rollback', node, { confirm: false, protect: true });
    assert.deepStrictEqual(outcome, { outcome: 'cancelled' });
    assert.deepStrictEqual(api.testing.rollbacks.waiting(), [
      `${running.label} is still running. Waiting for it to finish before you can roll back to S20…`,
    ]);
    // Asked again while it waits: still one notification.
    await vscode.commands.executeCommand('stepHistory.rollback', node, { confirm: false, protect: true });
    assert.strictEqual(api.testing.rollbacks.waiting().length, 1);
    assert.strictEqual(gitText('rev-parse', 'HEAD'), head, 'the branch did not move');
    assert.deepStrictEqual(await activeIds(), active);

    // The step finishes (as LaForge would) and one more completes after it: the notification ends by itself.
    const appended = appendDemoStep(root);
    assert.strictEqual(appended.finishedStepId, running.id);
    await waitFor('the waiting notification to end', () => api.testing.rollbacks.waiting().length === 0, 30_000);
    assert.strictEqual(gitText('rev-parse', 'HEAD'), appended.commitAfter, 'nothing rolled back by itself');
    await waitFor(`${appended.label} in the database`, async () => (await api.step(databaseId(), appended.id)) !== undefined, 20_000);
    assert.deepStrictEqual(await activeIds(), [...active, appended.id].sort((a, b) => a - b));
  });

  it('rolls back to S20 keeping uncommitted work in a stash, then undoes it byte for byte', async () => {
    // One more step completes (as LaForge would), after the running one finished above.
    const appended = appendDemoStep(root);
    await waitFor(`${appended.label} in the database`, async () => (await api.step(databaseId(), appended.id)) !== undefined, 20_000);
    // Then the user edits a tracked file and starts an untracked one.
    const edited = 'src/cli.ts';
    const untracked = 'scratch/ideas.md';
    fs.appendFileSync(path.join(root, edited), '\n// my own edit, not committed\n');
    fs.mkdirSync(path.join(root, 'scratch'), { recursive: true });
    fs.writeFileSync(path.join(root, untracked), '# Ideas\n\nKeep these.\n');

    const target = demo.steps.find((s) => s.id === 20)!;
    const oldHead = gitText('rev-parse', 'HEAD');
    const before = snapshot(root);
    const statusBefore = gitText('status', '--porcelain');
    const activeBefore = await activeIds();
    const laterIds = activeBefore.filter((id) => id >= 20);
    assert.ok(laterIds.length >= 3, `S20 and later are active: ${activeBefore.join(' ')}`);

    const outcome = await api.rollback(databaseId(), demo.projectId, 20, { confirm: false, protect: true });
    assert.strictEqual(outcome.outcome, 'rolledBack');
    if (outcome.outcome !== 'rolledBack') return;
    const { journal } = outcome;

    // The branch is at S20's commit before, and the work tree is exactly that commit, plus
    // the untracked file no reset touches, left where it was.
    assert.strictEqual(gitText('rev-parse', 'HEAD'), target.commitBefore);
    assert.strictEqual(gitText('status', '--porcelain', '--untracked-files=all'), `?? ${untracked}`, 'the work tree equals the reset target');
    assert.ok(fs.readFileSync(path.join(root, untracked)).equals(before.get(untracked)!), 'the untracked file is untouched');
    for (const file of gitText('ls-tree', '-r', '--name-only', '-z', target.commitBefore).split('\0').filter(Boolean)) {
      assert.ok(fs.readFileSync(path.join(root, file)).equals(git('show', `${target.commitBefore}:${file}`)), `${file} as in ${target.commitBefore.slice(0, 7)}`);
    }
    // The uncommitted edit is in the stash, the old HEAD under the backup ref.
    assert.ok(journal.stashRef, 'a stash was made');
    assert.ok(git('show', `${journal.stashRef}:${edited}`).equals(before.get(edited)!), 'the edit is in the stash');
    assert.strictEqual(gitText('rev-parse', journal.backupRef), oldHead);

    // S20 and later read as rolled back, in the API and in the tree.
    await waitFor('S20 and later rolled back', async () => (await activeIds()).every((id) => id < 20), 20_000);
    await waitFor('the tree to show S20 and later rolled back', async () => {
      const contexts = await treeContexts();
      return laterIds.every((id) => contexts.get(id) === 'step.rolledBack') && contexts.get(19) !== 'step.rolledBack';
    }, 20_000);

    const undone = await api.undoLastRollback();
    assert.strictEqual(undone.outcome, 'undone');
    assert.strictEqual(gitText('rev-parse', 'HEAD'), oldHead, 'the branch is back');
    assertSameFiles(snapshot(root), before, 'every file is back, byte for byte');
    assert.strictEqual(gitText('status', '--porcelain'), statusBefore);
    await waitFor('the steps active again', async () => JSON.stringify(await activeIds()) === JSON.stringify(activeBefore), 20_000);
    await waitFor('the tree to show them active again', async () => {
      const contexts = await treeContexts();
      return laterIds.every((id) => contexts.get(id) !== 'step.rolledBack');
    }, 20_000);
    assert.deepStrictEqual(await api.undoLastRollback(), { outcome: 'nothingToUndo' });

    // Leave the workspace as the user had it minus the edits, for whatever runs next.
    git('checkout', '--', edited);
    fs.rmSync(path.join(root, 'scratch'), { recursive: true, force: true });
  });

  it('rolls back with a staged rename and the database untracked in the work tree, from the palette command, then undoes it: the database intact, every file byte for byte', async () => {
    // The database is no longer ignored: an untracked file, as many agents keep it.
    const exclude = path.join(root, '.git', 'info', 'exclude');
    const excludeBefore = fs.readFileSync(exclude, 'utf8');
    fs.writeFileSync(exclude, excludeBefore.split('\n').filter((line) => !line.startsWith('steps.db')).join('\n'));
    try {
      git('mv', 'README.md', 'README.txt');
      fs.writeFileSync(path.join(root, 'notes-untracked.txt'), 'mine\n');
      assert.match(gitText('status', '--porcelain', '--untracked-files=all'), /^\?\? steps\.db$/m);
      const oldHead = gitText('rev-parse', 'HEAD');
      const before = snapshot(root);
      const statusBefore = gitText('status', '--porcelain', '--untracked-files=all');
      const rowsBefore = execFileSync('python3', ['-c', 'import sqlite3,sys,json; print(json.dumps(sqlite3.connect(sys.argv[1]).execute("SELECT * FROM steps ORDER BY id").fetchall()))', demo.dbPath]).toString();
      const activeBefore = await activeIds();

      const outcome = (await vscode.commands.executeCommand('stepHistory.rollback', { dbPath: demo.dbPath, projectId: demo.projectId, stepId: 20 }, { confirm: false, protect: true })) as {
        outcome: string;
        journal?: { stashRef?: string };
      };
      assert.strictEqual(outcome.outcome, 'rolledBack');
      assert.ok(fs.existsSync(demo.dbPath), 'the database is where it was');
      assert.ok(outcome.journal?.stashRef, 'the work was stashed');
      assert.doesNotMatch(gitText('ls-tree', '-r', '--name-only', `${outcome.journal!.stashRef}^3`), /steps\.db/, 'the stash did not take the database');
      await waitFor('S20 and later rolled back', async () => (await activeIds()).every((id) => id < 20), 20_000);

      const undone = (await vscode.commands.executeCommand('stepHistory.undoRollback', { confirm: false })) as { outcome: string };
      assert.strictEqual(undone.outcome, 'undone');
      assert.strictEqual(gitText('rev-parse', 'HEAD'), oldHead, 'the branch is back');
      assertSameFiles(snapshot(root), before, 'every file is back, byte for byte');
      assert.strictEqual(gitText('status', '--porcelain', '--untracked-files=all'), statusBefore, 'the staged rename is staged again');
      await waitFor('the steps active again', async () => JSON.stringify(await activeIds()) === JSON.stringify(activeBefore), 20_000);
      const rowsAfter = execFileSync('python3', ['-c', 'import sqlite3,sys,json; print(json.dumps(sqlite3.connect(sys.argv[1]).execute("SELECT * FROM steps ORDER BY id").fetchall()))', demo.dbPath]).toString();
      assert.strictEqual(rowsAfter, rowsBefore, 'every row of the database as before');
      assert.strictEqual(execFileSync('python3', ['-c', 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])', demo.dbPath]).toString().trim(), 'ok');
    } finally {
      git('reset', '-q', '--', 'README.md', 'README.txt');
      if (fs.existsSync(path.join(root, 'README.txt'))) fs.renameSync(path.join(root, 'README.txt'), path.join(root, 'README.md'));
      fs.rmSync(path.join(root, 'notes-untracked.txt'), { force: true });
      fs.writeFileSync(exclude, excludeBefore);
    }
  });
});
