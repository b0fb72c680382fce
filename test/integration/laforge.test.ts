/**
 * A project as LaForge at HEAD leaves it (test/fixtures/laforgeToday.ts): found through
 * `~/.laforge/projects` (the harness gives this session a HOME of its own), each step's own
 * changes in the tree, and a rollback plan whose only foreign commit is the person's.
 */
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ChangedFile } from '../../src/core/git';
import { planRollback } from '../../src/core/rollback';
import type { StepHistoryApi } from '../../src/extension';
import type { FileNode, ProjectNode, StepNode, TreeNode } from '../../src/ui/treeNodes';
import type { LaforgeFixture } from '../fixtures/laforgeToday';
import { IN_LAFORGE, LAFORGE_DESCRIPTION } from './suites';
import { stepHistory, waitFor } from './support';

/** A changed file as `git diff --name-status -M` prints it, without the similarity score. */
function nameStatus(file: ChangedFile): string {
  const letter = { added: 'A', modified: 'M', deleted: 'D', renamed: 'R', copied: 'C', typeChanged: 'T', unmerged: 'U', unknown: 'X' }[file.status];
  return file.oldPath && file.oldPath !== file.path ? `${letter}\t${file.oldPath}\t${file.path}` : `${letter}\t${file.path}`;
}
const withoutScore = (line: string) => line.replace(/^([RC])\d+\t/, '$1\t');

describe(IN_LAFORGE, function () {
  this.timeout(90_000);
  let api: StepHistoryApi;
  let fixture: LaforgeFixture;
  let databaseId: string;

  const tree = () => api.testing.stepsTree;
  const children = async (node?: TreeNode) => ((await tree().getChildren(node)) ?? []) as TreeNode[];

  before(async () => {
    const root = vscode.workspace.workspaceFolders![0].uri.fsPath;
    fixture = JSON.parse(fs.readFileSync(path.join(root, LAFORGE_DESCRIPTION), 'utf8'));
    api = (await stepHistory().activate()) as StepHistoryApi;
    const same = (a: string, b: string) => fs.realpathSync(a) === fs.realpathSync(b);
    await waitFor('the LaForge project to be found under ~/.laforge', () => api.databases().some((d) => same(d.path, fixture.dbPath)), 30_000);
    databaseId = api.databases().find((d) => same(d.path, fixture.dbPath))!.id;
    assert.ok((await api.projects(databaseId)).some((p) => p.id === fixture.projectId), 'the database lists the project');
  });

  async function projectNode(): Promise<ProjectNode> {
    let found: ProjectNode | undefined;
    await waitFor('the project in the tree', async () => {
      found = (await children()).find((n): n is ProjectNode => n.kind === 'project' && n.project.id === fixture.projectId);
      return found !== undefined;
    }, 20_000);
    return found!;
  }

  it('finds the project through ~/.laforge/projects, with its repository the workspace folder', () => {
    const db = api.databases().find((d) => d.id === databaseId)!;
    assert.strictEqual(fs.realpathSync(db.repositoryPath), fs.realpathSync(fixture.repoPath));
  });

  it('shows under every step exactly the files git diff --name-status -M <before> <step commit> lists', async () => {
    const project = await projectNode();
    const stepNodes = new Map(
      (await children(project))
        .filter((n): n is StepNode => n.kind === 'step')
        .map((n) => [n.step.id, n]),
    );
    const committed = fixture.steps.filter((s) => s.commit && s.nameStatus.length > 0);
    assert.ok(committed.length >= 5, 'the scenario has steps with changes');
    for (const step of committed) {
      const node = stepNodes.get(step.id);
      assert.ok(node, `${step.label} is in the tree`);
      const files = (await children(node)).filter((n): n is FileNode => n.kind === 'file').map((n) => nameStatus(n.file));
      assert.deepStrictEqual(files.sort(), step.nameStatus.map(withoutScore).sort(), `${step.label}'s files`);
      const viaApi = (await api.changedFiles(databaseId, step.id)).map(nameStatus);
      assert.deepStrictEqual(viaApi.sort(), step.nameStatus.map(withoutScore).sort(), `${step.label}'s files through the API`);
    }
  });

  it('plans a rollback of the whole project whose only commits to keep safe are the person\'s', async () => {
    const first = fixture.steps.find((s) => s.finished && s.commitBefore)!;
    const plan = await planRollback(
      { dbPath: fixture.dbPath, repositoryPath: fixture.repoPath, projectId: fixture.projectId, stepId: first.id },
      { wasmPath: path.join(stepHistory().extensionPath, 'dist', 'sql-wasm.wasm') },
    );
    const persons = new Set(fixture.personCommits.map((c) => c.sha));
    assert.ok(persons.size > 0, 'the scenario has a person\'s commit');
    assert.deepStrictEqual(
      plan.foreignCommits.map((c) => c.sha).sort(),
      [...persons].sort(),
      plan.foreignCommits.map((c) => `${c.sha.slice(0, 7)} ${c.subject}`).join('; '),
    );
  });

  it('opens a step\'s log, the document holding its summary line', async () => {
    const withLog = fixture.steps.find((s) => s.finished && s.logSummary && fs.existsSync(s.logFile));
    assert.ok(withLog, 'the scenario writes logs with a summary');
    const project = await projectNode();
    const node = (await children(project)).find((n): n is StepNode => n.kind === 'step' && n.step.id === withLog!.id);
    assert.ok(node, `${withLog!.label} is in the tree`);
    const uri = (await vscode.commands.executeCommand('stepHistory.openStepLog', node)) as vscode.Uri | undefined;
    assert.ok(uri, 'the log opened');
    const doc = await vscode.workspace.openTextDocument(uri!);
    assert.ok(doc.getText().includes(withLog!.logSummary!), `the document is ${withLog!.label}'s log`);
  });

  it('shows the running step\'s work tree files live, a file the agent writes appearing, each diffed against the file on disk', async () => {
    const running = fixture.steps.find((s) => s.id === fixture.runningStepId);
    assert.ok(running?.worktreePath, 'the scenario has a running step with its work tree');
    const project = await projectNode();
    const node = (await children(project)).find((n): n is StepNode => n.kind === 'step' && n.step.id === running!.id);
    assert.ok(node, `${running!.label} is in the tree`);
    const files = async () => (await children(node)).filter((n): n is FileNode => n.kind === 'file');
    assert.deepStrictEqual((await files()).map((n) => nameStatus(n.file)), running!.nameStatus);

    const added = path.join(running!.worktreePath!, 'docs', 'json.md');
    assert.ok(!fs.existsSync(added));
    fs.mkdirSync(path.dirname(added), { recursive: true });
    fs.writeFileSync(added, '# JSON output\n');
    try {
      await waitFor('the written file under the running step', async () => (await files()).some((n) => n.file.path === 'docs/json.md'), 20_000);
      const file = (await files()).find((n) => n.file.path === 'docs/json.md')!;
      await vscode.commands.executeCommand('stepHistory.openFileDiff', file);
      await waitFor('the diff of the work tree file', () => {
        const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
        return input instanceof vscode.TabInputTextDiff && input.modified.scheme === 'file' && fs.realpathSync(input.modified.fsPath) === fs.realpathSync(added);
      });
    } finally {
      fs.rmSync(added, { force: true });
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });

  it('follows the git refs: a kept step branch deleted by hand and made again shows in the tree without a database change', async () => {
    const unmerged = fixture.steps.find((s) => s.finished && s.commit && s.branchKept && !s.mergeCommit)!;
    const project = await projectNode();
    const description = async () => {
      const node = (await children(project)).find((n): n is StepNode => n.kind === 'step' && n.step.id === unmerged.id)!;
      return String((await tree().getTreeItem(node)).description ?? '');
    };
    const marker = `not merged (step-${unmerged.label})`;
    assert.ok((await description()).includes(marker), await description());
    const git = (...args: string[]) => execFileSync('git', args, { cwd: fixture.repoPath, encoding: 'utf8' }).trim();
    const tip = git('rev-parse', `refs/heads/step-${unmerged.label}`);
    git('branch', '-D', `step-${unmerged.label}`);
    try {
      await waitFor('the step no longer marked not merged', async () => !(await description()).includes(marker), 20_000);
    } finally {
      git('branch', `step-${unmerged.label}`, tip);
    }
    await waitFor('the step marked not merged again', async () => (await description()).includes(marker), 20_000);
  });

  it('shows a running step\'s changes so far in one multi-file diff (Show Step Changes)', async () => {
    const running = fixture.steps.find((s) => s.id === fixture.runningStepId)!;
    const project = await projectNode();
    const node = (await children(project)).find((n): n is StepNode => n.kind === 'step' && n.step.id === running.id)!;
    const live = await node.database.stepWorktree(node.step);
    assert.deepStrictEqual(live?.files.map(nameStatus), running.nameStatus, 'the work tree holds the running step\'s files');
    // VS Code adds the count of files to a multi-file diff's title, once: "S22, live · Changes (2 files)".
    const title = `${running.label}, live · Changes (${running.nameStatus.length} ${running.nameStatus.length === 1 ? 'file' : 'files'})`;
    try {
      await vscode.commands.executeCommand('stepHistory.showChanges', node);
      const labels = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs.map((t) => t.label));
      await waitFor(`a tab "${title}"`, () => labels().some((l) => l === title || l.startsWith(`${title} (`)), 20_000).catch((err: Error) => {
        throw new Error(`${err.message}; the tabs are ${JSON.stringify(labels())}`);
      });
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });
});
