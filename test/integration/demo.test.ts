/**
 * The editor on the demo workspace: a real git repository whose steps.db (written by the
 * real SQLite engine) records 22 steps, with a failed step, a rolled-back branch, a running
 * step, broken JSON and HTML in a field. The harness leaves the workspace's description
 * beside it, so every expectation here comes from how the workspace was made, not from the
 * code under test.
 */
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { decodeDocumentRef } from '../../src/core/diffPlan';
import type { StepHistoryApi } from '../../src/extension';
import type { FileNode, ProjectNode, StepNode, TreeNode } from '../../src/ui/treeNodes';
import type { StepDetailsView } from '../../src/shared/detailsProtocol';
import { appendDemoStep, type DemoWorkspace } from '../fixtures/demoWorkspace';
import { DEMO_DESCRIPTION, IN_DEMO } from './suites';
import { stepHistory, waitFor } from './support';

describe(IN_DEMO, function () {
  this.timeout(60_000);
  let api: StepHistoryApi;
  let demo: DemoWorkspace;
  let root: string;

  const tree = () => api.testing.stepsTree;
  const children = async (node?: TreeNode) => ((await tree().getChildren(node)) ?? []) as TreeNode[];
  const item = (node: TreeNode) => tree().getTreeItem(node) as vscode.TreeItem;
  const label = (node: TreeNode) => {
    const l = item(node).label;
    return typeof l === 'string' ? l : l?.label;
  };
  const databaseId = () => api.databases().find((d) => fs.realpathSync(d.path) === fs.realpathSync(demo.dbPath))!.id;

  async function project(): Promise<ProjectNode> {
    const top = await children();
    const found = top.find((n): n is ProjectNode => n.kind === 'project' && n.project.id === demo.projectId);
    assert.ok(found, `no project ${demo.projectId} at the top of the tree: ${top.map((n) => `${n.kind}:${label(n)}`).join(', ')}`);
    return found;
  }

  async function stepNode(id: number): Promise<StepNode> {
    const steps = (await children(await project())).filter((n): n is StepNode => n.kind === 'step');
    const found = steps.find((n) => n.step.id === id);
    assert.ok(found, `S${id} is not in the tree: ${steps.map((n) => n.step.label).join(' ')}`);
    return found;
  }

  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, maxBuffer: 1 << 26 });

  before(async () => {
    root = vscode.workspace.workspaceFolders![0].uri.fsPath;
    demo = JSON.parse(fs.readFileSync(path.join(root, DEMO_DESCRIPTION), 'utf8'));
    api = (await stepHistory().activate()) as StepHistoryApi;
    await waitFor('the demo database to be found', () => api.databases().length > 0, 30_000);
    // Databases open on first use; the hidden view has not used this one yet.
    await api.projects(databaseId());
  });

  it('finds the demo database and reads its project and steps', async () => {
    const db = api.databases().find((d) => d.id === databaseId())!;
    assert.strictEqual(fs.realpathSync(db.path), fs.realpathSync(demo.dbPath));
    assert.strictEqual(fs.realpathSync(db.repositoryPath), fs.realpathSync(demo.path));
    const projects = await api.projects(db.id);
    assert.deepStrictEqual(projects.map((p) => p.id), [demo.projectId]);
    assert.strictEqual(projects[0].stepCount, demo.stepCount);
    const steps = await api.steps(db.id, demo.projectId, { limit: 500 });
    assert.deepStrictEqual(steps.map((s) => s.id), demo.steps.map((s) => s.id).reverse(), 'newest first');
    for (const expected of demo.steps) {
      const step = steps.find((s) => s.id === expected.id)!;
      assert.strictEqual(step.active, expected.active, `${expected.label} active`);
      assert.strictEqual(step.commitAfter, expected.commitAfter, `${expected.label} commit after`);
    }
  });

  it('shows the steps in the tree, newest first, with an icon and menu kind for each status', async () => {
    const nodes = (await children(await project())).filter((n): n is StepNode => n.kind === 'step');
    // Each step is titled by its own commit's subject; the running step has none yet.
    assert.deepStrictEqual(nodes.map((n) => label(n)), demo.steps.map((s) => (s.commitAfter ? `${s.label} · ${s.title}` : s.label)).reverse());
    const contextOf = (id: number) => nodes.find((n) => n.step.id === id) && item(nodes.find((n) => n.step.id === id)!).contextValue;
    for (const id of demo.failedStepIds) assert.strictEqual(contextOf(id), 'step.failed');
    for (const id of demo.rolledBackStepIds) assert.strictEqual(contextOf(id), 'step.rolledBack');
    assert.strictEqual(contextOf(demo.runningStepId), 'step.running');
    const running = item(nodes.find((n) => n.step.id === demo.runningStepId)!);
    assert.strictEqual((running.iconPath as vscode.ThemeIcon).id, 'sync~spin');
    // Every id is unique, so VS Code can keep expansion and selection across refreshes.
    const ids = nodes.map((n) => item(n).id);
    assert.strictEqual(new Set(ids).size, ids.length);
  });

  it("opens a step to the files it changed, rolled-back steps included", async () => {
    for (const id of [demo.manyFilesStepId, demo.renameStepId, demo.rolledBackStepIds[0]]) {
      const expected = demo.steps.find((s) => s.id === id)!;
      const files = (await children(await stepNode(id))).filter((n): n is FileNode => n.kind === 'file');
      assert.deepStrictEqual(
        files.map((f) => f.file.path).sort(),
        expected.files.map((f) => f.path).sort(),
        `files of ${expected.label}`,
      );
      const open = item(files[0]).command;
      assert.strictEqual(open?.command, 'stepHistory.openFileDiff');
    }
  });

  it('explains, inside the tree, why a running step has no files yet', async () => {
    const below = await children(await stepNode(demo.runningStepId));
    assert.strictEqual(below.length, 1);
    assert.strictEqual(below[0].kind, 'message');
    assert.match(String(label(below[0])), /still running/);
  });

  it("opens a file's diff with the step's before and after contents", async () => {
    const step = demo.steps.find((s) => s.status === 'COMPLETED' && s.files.some((f) => f.status === 'modified' && !f.binary))!;
    const file = step.files.find((f) => f.status === 'modified' && !f.binary)!;
    const node = (await children(await stepNode(step.id))).find((n): n is FileNode => n.kind === 'file' && n.file.path === file.path)!;
    await vscode.commands.executeCommand('stepHistory.openFileDiff', node);
    await waitFor('the diff editor', () => vscode.window.tabGroups.activeTabGroup.activeTab?.input instanceof vscode.TabInputTextDiff);
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab!;
    const input = tab.input as vscode.TabInputTextDiff;
    assert.strictEqual(tab.label, `${file.path} (${step.label})`);
    const left = await vscode.workspace.openTextDocument(input.original);
    const right = await vscode.workspace.openTextDocument(input.modified);
    assert.strictEqual(left.getText(), git('show', `${step.commitBefore}:${file.path}`).toString('utf8'));
    assert.strictEqual(right.getText(), git('show', `${step.commitAfter}:${file.path}`).toString('utf8'));
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('diffs an added file against empty', async () => {
    const step = demo.steps.find((s) => s.status === 'COMPLETED' && s.files.some((f) => f.status === 'added' && !f.binary))!;
    const file = step.files.find((f) => f.status === 'added' && !f.binary)!;
    const node = (await children(await stepNode(step.id))).find((n): n is FileNode => n.kind === 'file' && n.file.path === file.path)!;
    await vscode.commands.executeCommand('stepHistory.openFileDiff', node);
    await waitFor('the diff editor', () => vscode.window.tabGroups.activeTabGroup.activeTab?.input instanceof vscode.TabInputTextDiff);
    const input = vscode.window.tabGroups.activeTabGroup.activeTab!.input as vscode.TabInputTextDiff;
    assert.strictEqual((await vscode.workspace.openTextDocument(input.original)).getText(), '');
    assert.strictEqual(
      (await vscode.workspace.openTextDocument(input.modified)).getText(),
      git('show', `${step.commitAfter}:${file.path}`).toString('utf8'),
    );
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  /** The steps the fixture says changed the file under any of `names`, newest first (the running step has no commit yet). */
  const stepsChanging = (names: string[]) =>
    demo.steps.filter((s) => s.commitAfter !== null && s.files.some((f) => names.includes(f.path) || (f.oldPath !== undefined && names.includes(f.oldPath)))).reverse();

  /** Runs Show Step History for File and waits for its pick list; `pick` takes the first item, else the list is closed. */
  async function showFileHistory(arg: vscode.Uri | undefined, pick: boolean) {
    const before = api.testing.fileHistory.last;
    let settled = false;
    const running = Promise.resolve(vscode.commands.executeCommand('stepHistory.showFileHistory', ...(arg ? [arg] : []))).finally(() => (settled = true));
    await waitFor('the file history', () => api.testing.fileHistory.last !== before, 30_000);
    const shown = api.testing.fileHistory.last!;
    // The pick list opens right after it is recorded: asked again until the command has ended.
    await waitFor('the pick list to be taken', async () => {
      await vscode.commands.executeCommand(pick ? 'workbench.action.acceptSelectedQuickOpenItem' : 'workbench.action.closeQuickOpen');
      await new Promise((resolve) => setTimeout(resolve, 100));
      return settled;
    });
    await running;
    return shown;
  }

  it("lists the steps that changed a file, newest first, the rolled-back one marked, and opens the chosen step's diff of it", async () => {
    const file = 'package.json';
    const expected = stepsChanging([file]);
    assert.ok(expected.some((s) => !s.active), 'a rolled-back step changed package.json');
    const shown = await showFileHistory(vscode.Uri.file(path.join(root, file)), true);
    assert.strictEqual(shown.title, `Step History of ${file}`);
    assert.deepStrictEqual(shown.items.map((i) => i.stepId), expected.map((s) => s.id));
    expected.forEach((step, i) => {
      const item = shown.items[i];
      assert.strictEqual(item.rolledBack, !step.active, step.label);
      assert.strictEqual(item.label, `${step.active ? '' : '$(discard) '}${step.label} · ${step.title}`);
      assert.strictEqual(/\brolled back\b/.test(item.description), !step.active, item.description);
    });

    // The first item, the newest step: rolled back, its commit off the branch.
    const newest = expected[0];
    await waitFor('the diff editor', () => vscode.window.tabGroups.activeTabGroup.activeTab?.input instanceof vscode.TabInputTextDiff);
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab!;
    const input = tab.input as vscode.TabInputTextDiff;
    assert.strictEqual(tab.label, `${file} (${newest.label})`);
    assert.strictEqual((await vscode.workspace.openTextDocument(input.original)).getText(), git('show', `${newest.commitBefore}:${file}`).toString('utf8'));
    assert.strictEqual((await vscode.workspace.openTextDocument(input.modified)).getText(), git('show', `${newest.commitAfter}:${file}`).toString('utf8'));
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it("from the palette, takes the active editor's file and follows it back through its rename", async () => {
    const renamed = demo.steps.find((s) => s.id === demo.renameStepId)!.files.find((f) => f.status === 'renamed')!;
    await vscode.window.showTextDocument(vscode.Uri.file(path.join(root, renamed.path)));
    try {
      const shown = await showFileHistory(undefined, false);
      const expected = stepsChanging([renamed.path, renamed.oldPath!]);
      assert.strictEqual(shown.title, `Step History of ${path.basename(renamed.path)}`);
      assert.deepStrictEqual(shown.items.map((i) => i.stepId), expected.map((s) => s.id));
      for (const item of shown.items) {
        const expectedPath = item.stepId < demo.renameStepId ? renamed.oldPath : renamed.path;
        assert.strictEqual(item.path, expectedPath, `S${item.stepId}`);
        if (item.stepId === demo.renameStepId) assert.ok(item.description.endsWith(`${renamed.oldPath} → ${renamed.path}`), item.description);
        if (item.stepId < demo.renameStepId) assert.ok(item.description.endsWith(`as ${renamed.oldPath}`), item.description);
      }
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });

  it('compares a step with the work tree: each file with its own status, none of the step database\'s files', async () => {
    const step = demo.steps.find((s) => s.commitAfter === demo.head)!;
    assert.ok(step, 'a step left the repository at HEAD');
    const exclude = path.join(root, '.git', 'info', 'exclude');
    const excluded = fs.readFileSync(exclude, 'utf8');
    const tracked = git('ls-files', '-z').toString('utf8').split('\0').filter(Boolean);
    const [modified, deleted, renamed] = ['README.md', 'CHANGELOG.md', 'tsconfig.json'];
    for (const file of [modified, deleted, renamed]) {
      assert.ok(tracked.includes(file) && !demo.uncommittedFiles.includes(file), `${file} is tracked and unchanged`);
    }
    const contents = new Map([modified, deleted].map((f) => [f, fs.readFileSync(path.join(root, f))]));
    const made = ['notes.md', 'steps.db-journal', '.steps.db.step-history-0a1b2c3d.tmp'].map((f) => path.join(root, f));
    const STATUS_LETTER: Record<string, string> = { added: 'A', modified: 'M', deleted: 'D', renamed: 'R' };
    // The tab lists the files with both sides (VS Code leaves an added or deleted one out of textDiffs) and counts them all in its label.
    type MultiDiff = { textDiffs: { original?: vscode.Uri; modified?: vscode.Uri }[] };
    const multiDiff = (): MultiDiff | undefined => {
      const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input as Partial<MultiDiff> | undefined;
      return input && Array.isArray(input.textDiffs) ? (input as MultiDiff) : undefined;
    };
    const real = (p: string) => fs.realpathSync(p);
    // Each file as the multi-file diff editor shows it: "R" when the two sides' paths differ, "D" without a right side, "A" without a left one.
    const shown = (diff: MultiDiff) =>
      diff.textDiffs
        .map(({ original, modified: right }) => {
          const file = right ? path.relative(real(root), real(right.fsPath)).split(path.sep).join('/') : decodeDocumentRef(original!.query)!.path;
          const letter = original && right ? (original.path !== right.path ? 'R' : 'M') : right ? 'A' : 'D';
          return `${letter} ${file}`;
        })
        .sort();
    try {
      // A new user's repository: the step database in the work tree, not ignored.
      fs.writeFileSync(exclude, excluded.split('\n').filter((l) => !l.startsWith('steps.db')).join('\n'));
      fs.appendFileSync(path.join(root, modified), '\nOne more line.\n');
      fs.rmSync(path.join(root, deleted));
      git('mv', renamed, 'tsconfig.base.json');
      fs.writeFileSync(made[0], '# Notes\n');
      fs.writeFileSync(made[1], ''); // empty: no transaction in it
      fs.writeFileSync(made[2], 'an image Step History was writing\n');
      assert.ok(git('status', '--porcelain', '--untracked-files=all').toString('utf8').includes('?? steps.db\n'), 'git sees steps.db as untracked');

      // What git itself sees, but for the step database's files; the running step's work is in the work tree too.
      const letters = git('diff', '--name-status', '-M', step.commitAfter!, '--').toString('utf8').trim().split('\n')
        .map((l) => l.split('\t'))
        .map(([s, a, b]) => (s.startsWith('R') ? `R ${b}` : `${s} ${a}`));
      const untracked = git('ls-files', '--others', '--exclude-standard').toString('utf8').trim().split('\n').filter((f) => !f.startsWith('steps.db') && !f.startsWith('.steps.db.'));
      const expected = [...letters, ...untracked.map((f) => `A ${f}`)].sort();
      for (const line of [`M ${modified}`, `D ${deleted}`, 'R tsconfig.base.json', 'A notes.md', ...demo.steps.find((s) => s.id === demo.runningStepId)!.files.map((f) => `${STATUS_LETTER[f.status]} ${f.path}`)]) {
        assert.ok(expected.includes(line), `${line} in ${expected.join(', ')}`);
      }

      const bothSides = expected.filter((line) => line.startsWith('M ') || line.startsWith('R '));
      await vscode.commands.executeCommand('stepHistory.compareWithWorkingTree', await stepNode(step.id));
      // VS Code adds the count of files it was given, once: "S21 ↔ Working Tree · Changes (6 files)".
      const label = `${step.label} ↔ Working Tree · Changes (${expected.length} files)`;
      await waitFor(`the multi-file diff "${label}" with its files`, () => {
        const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
        return tab?.label === label && multiDiff()?.textDiffs.length === bothSides.length;
      }, 20_000).catch((err: Error) => {
        const diff = multiDiff();
        throw new Error(`${err.message}; the tab is ${JSON.stringify(vscode.window.tabGroups.activeTabGroup.activeTab?.label)} with ${JSON.stringify(diff && shown(diff))}`);
      });
      assert.deepStrictEqual(shown(multiDiff()!), bothSides, 'a modified file is not shown as renamed, a rename is');
      const renamedDiff = multiDiff()!.textDiffs.find((d) => d.modified && d.original && d.original.path !== d.modified.path)!;
      assert.strictEqual(decodeDocumentRef(renamedDiff.original!.query)?.path, renamed, 'a rename shows its old path on the left');
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      git('mv', 'tsconfig.base.json', renamed);
      for (const [file, bytes] of contents) fs.writeFileSync(path.join(root, file), bytes);
      for (const file of made) fs.rmSync(file, { force: true });
      fs.writeFileSync(exclude, excluded);
    }
    assert.strictEqual(git('status', '--porcelain', '--', modified, deleted, renamed, 'tsconfig.base.json').toString('utf8'), '', 'the work tree is as it was');
  });

  it('sends the details panel the step, with HTML from the database kept as text', async () => {
    const id = demo.htmlPromptStepId;
    await vscode.commands.executeCommand('stepHistory.openDetails', await stepNode(id));
    let details: StepDetailsView | undefined;
    await waitFor(`details of S${id} with its files`, () => {
      const posted = api.testing.details.lastPosted() as { type?: string; details?: StepDetailsView } | undefined;
      details = posted?.type === 'details' ? posted.details : undefined;
      return !!details && details.id === id && details.files.state === 'ok';
    }, 20_000);
    const expected = demo.steps.find((s) => s.id === id)!;
    const text = JSON.stringify(details);
    assert.ok(text.includes('<script>alert(\\"x\\")</script>'), 'the system prompt is passed as the text the database holds');
    assert.ok(text.includes(expected.commitBefore), 'commit before');
    assert.ok(text.includes(expected.model ?? '\u0000'), 'model');
    for (const f of expected.files) assert.ok(text.includes(JSON.stringify(f.path)), `changed file ${f.path}`);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('shows a step appended by a real SQLite writer without a manual refresh', async () => {
    const before = (await children(await project())).length;
    const appended = appendDemoStep(root);
    await waitFor(
      `${appended.label} in the tree`,
      async () => (await children(await project())).some((n) => n.kind === 'step' && n.step.id === appended.id),
      20_000,
    );
    assert.ok((await children(await project())).length > before);
    const finished = (await api.step(databaseId(), demo.runningStepId))!;
    assert.strictEqual(finished.status, 'COMPLETED', 'the previously running step reads as finished');
  });

  it('shows a corrupt database as an error in the view, and keeps working', async () => {
    const broken = path.join(root, 'broken', 'steps.db');
    fs.mkdirSync(path.dirname(broken), { recursive: true });
    const good = fs.readFileSync(demo.dbPath);
    const bytes = Buffer.from(good.subarray(0, 4096 * 2));
    bytes.fill(0xa5, 100, 4096 * 2); // keep the header, wreck the schema page
    fs.writeFileSync(broken, bytes);
    try {
      await api.refresh();
      await waitFor('the broken database to be listed in error', async () => {
        await children(); // what the view does when it shows: opens every database
        return api.databases().some((d) => fs.realpathSync(d.path) === fs.realpathSync(broken) && d.state.kind === 'error');
      }, 20_000);
      const state = api.databases().find((d) => fs.realpathSync(d.path) === fs.realpathSync(broken))!.state;
      assert.ok(state.kind === 'error' && /damaged|not a SQLite|cannot read/i.test(state.message), JSON.stringify(state));
      const messages = (await children()).filter((n) => n.kind === 'message');
      assert.ok(messages.some((m) => m.kind === 'message' && m.severity === 'error'), 'the view shows the error');
      // The good database still answers.
      const steps = await api.steps(databaseId(), demo.projectId, { limit: 5 });
      assert.strictEqual(steps.length, 5);
    } finally {
      fs.rmSync(path.dirname(broken), { recursive: true, force: true });
    }
  });
});
