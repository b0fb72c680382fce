/**
 * The other systems' databases in a real VS Code, found where each keeps its file by the
 * default `stepHistory.databases` patterns (test/harness/workspaces.ts `otherSystems`): the
 * tree level by level, a step's change as a diff of stored texts, details as sections.
 */
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { StepHistoryApi } from '../../src/extension';
import type { AnalyticsView } from '../../src/shared/analyticsProtocol';
import type { ChangeNode, ItemNode, TreeNode } from '../../src/ui/treeNodes';
import type { LlmoFixture } from '../fixtures/llmOrchestration';
import type { StudioRealFixture } from '../fixtures/studio';
import type { ConstellationFixture } from '../fixtures/constellation';
import { IN_OTHER_SYSTEMS, SYSTEMS_DESCRIPTION } from './suites';
import { stepHistory, waitFor } from './support';

describe(IN_OTHER_SYSTEMS, function () {
  this.timeout(90_000);
  let api: StepHistoryApi;
  let llmo: LlmoFixture;
  let studio: StudioRealFixture;
  let constellation: ConstellationFixture;

  const tree = () => api.testing.stepsTree;
  const children = async (node?: TreeNode) => ((await tree().getChildren(node)) ?? []) as TreeNode[];
  const same = (a: string, b: string) => fs.realpathSync(a) === fs.realpathSync(b);

  before(async () => {
    const root = vscode.workspace.workspaceFolders![0].uri.fsPath;
    ({ llmo, studio, constellation } = JSON.parse(fs.readFileSync(path.join(root, SYSTEMS_DESCRIPTION), 'utf8')) as {
      llmo: LlmoFixture;
      studio: StudioRealFixture;
      constellation: ConstellationFixture;
    });
    api = (await stepHistory().activate()) as StepHistoryApi;
    await waitFor('LLM Orchestration\'s database to be found', () => api.databases().some((d) => same(d.path, llmo.dbPath)), 30_000);
  });

  /** The diff editor a command just opened. */
  async function openedDiff(what: string): Promise<vscode.TabInputTextDiff> {
    let diff: vscode.TabInputTextDiff | undefined;
    await waitFor(what, () => {
      const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
      diff = input instanceof vscode.TabInputTextDiff ? input : undefined;
      return diff !== undefined;
    }, 20_000);
    return diff!;
  }

  /** The top-level nodes of one database, once it has been read. */
  async function topOf(dbPath: string): Promise<ItemNode[]> {
    let found: ItemNode[] = [];
    await waitFor(`the nodes of ${path.basename(dbPath)}`, async () => {
      found = (await children()).filter((n): n is ItemNode => n.kind === 'item' && same(n.database.path, dbPath));
      return found.length > 0;
    }, 30_000);
    return found;
  }

  it('finds LLM Orchestration\'s data/llm_orchestration.db and lists its workflows, the runs of deleted ones apart, but not its backups', async () => {
    assert.ok(!api.databases().some((d) => d.path.includes(`${path.sep}backups${path.sep}`)), 'backups are not listed');
    const top = await topOf(llmo.dbPath);
    const database = top[0].database;
    assert.strictEqual(database.source?.detection.system, 'llmOrchestration');
    const live = llmo.workflows.filter((w) => !w.deleted);
    assert.deepStrictEqual(
      top.map((n) => n.item.label),
      [...[...live].sort((a, b) => (a.createdAt === b.createdAt ? b.id - a.id : a.createdAt < b.createdAt ? 1 : -1)).map((w) => w.name), '(deleted workflow)'],
    );
  });

  it('opens a workflow to its runs and a run to its responses, and a response\'s text as a diff, HTML as text', async () => {
    const response = llmo.responses.find((r) => r.content.includes('<script>'))!;
    const run = llmo.runs.find((r) => r.id === response.runId)!;
    const top = await topOf(llmo.dbPath);
    const workflow = top.find((n) => n.item.label === (run.workflowDeleted ? '(deleted workflow)' : run.workflowName))!;
    const runs = (await children(workflow)).filter((n): n is ItemNode => n.kind === 'item');
    assert.strictEqual(runs.length, llmo.runs.filter((r) => r.workflowId === run.workflowId).length);
    const runNode = runs.find((n) => n.item.ref === `run:${run.id}`)!;
    assert.ok(runNode, `run ${run.id} is listed`);
    const responses = (await children(runNode)).filter((n): n is ItemNode => n.kind === 'item');
    assert.deepStrictEqual(responses.map((n) => n.item.ref), run.responseIds.map((id) => `response:${id}`));
    const responseNode = responses.find((n) => n.item.ref === `response:${response.id}`)!;
    const change = (await children(responseNode)).find((n): n is ChangeNode => n.kind === 'change')!;
    assert.ok(change, 'the response opens to its text');
    const item = await tree().getTreeItem(change);
    assert.strictEqual(item.command?.command, 'stepHistory.openFileDiff');
    try {
      await vscode.commands.executeCommand('stepHistory.openFileDiff', change);
      const diff = await openedDiff('the diff of the response');
      const text = (await vscode.workspace.openTextDocument(diff.modified)).getText();
      assert.strictEqual(text, response.content, 'the stored text, byte for byte, HTML included');
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });

  it('shows a response\'s details as sections, and a broken metadata text as a warning', async () => {
    const broken = llmo.responses.find((r) => r.brokenMetadata)!;
    const database = (await topOf(llmo.dbPath))[0].database;
    const item = (await database.node(`response:${broken.id}`))!;
    assert.ok(item.warnings.some((w) => /metadata/i.test(w)), JSON.stringify(item.warnings));
    try {
      await vscode.commands.executeCommand('stepHistory.openDetails', { kind: 'item', database, item, parent: `run:${broken.runId}` });
      await waitFor('the details page', () => {
        const posted = api.testing.details.lastPosted() as { type?: string; details?: { ref?: string } } | undefined;
        return posted?.type === 'history' && posted.details?.ref === item.ref;
      }, 20_000);
      const posted = api.testing.details.lastPosted() as { details: { kindText: string; sections: { kind: string; title: string }[] } };
      assert.match(posted.details.kindText, /LLM Orchestration/);
      assert.ok(posted.details.sections.some((s) => s.kind === 'warnings'), JSON.stringify(posted.details.sections.map((s) => s.kind)));
      assert.ok(posted.details.sections.some((s) => s.kind === 'text'), 'the content as a text section');
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });

  it('shows a workflow\'s Analytics: its responses counted as the sqlite3 CLI counts them, drawn by the page', async () => {
    const top = await topOf(llmo.dbPath);
    const workflow = top.find((n) => n.item.ref.startsWith('workflow:') && n.item.hasChildren && !n.item.label.startsWith('('))!;
    const id = workflow.item.ref.slice('workflow:'.length);
    const cli = (sql: string) => Number(execFileSync('sqlite3', ['-readonly', llmo.dbPath, sql], { encoding: 'utf8' }).trim());
    const responses = cli(`SELECT count(*) FROM responses WHERE run_id IN (SELECT id FROM runs WHERE workflow_id = ${Number(id)})`);
    // As the app wrote them: a backend without counts leaves tokens null and both counts 0.
    const runIds = new Set(llmo.runs.filter((r) => String(r.workflowId) === id).map((r) => r.id));
    const recorded = llmo.responses.filter(
      (r) => runIds.has(r.runId) && !r.brokenMetadata && (r.metadata.tokens !== null || r.metadata.promptTokens !== 0 || r.metadata.completionTokens !== 0),
    ).length;
    try {
      await api.testing.analytics.receive({ type: 'options', range: 'all', grouping: 'step' });
      await vscode.commands.executeCommand('stepHistory.showAnalytics', workflow);
      let view: AnalyticsView | undefined;
      await waitFor('the workflow\'s figures', () => {
        view = api.testing.analytics.lastPosted();
        return view?.scopeText.includes(workflow.item.label) === true;
      }, 30_000);
      assert.strictEqual(view!.systemName, 'LLM Orchestration');
      assert.strictEqual(view!.analytics.totals.steps, responses);
      assert.strictEqual(view!.analytics.totals.usageSteps, recorded, 'a response without tokens in its metadata is counted apart');
      assert.ok(view!.analytics.groups.every((g) => g.target?.startsWith('response:')), 'each per-step group opens its response');
      await waitFor('the page to draw the charts', () => api.testing.analytics.lastPainted()?.groups === view!.analytics.groups.length, 30_000);
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });

  it('finds Autonomous Software Studio\'s data/orchestrator.db, its sessions, and each checkpoint of checkpoints.db as a step whose state change is a diff', async () => {
    const top = await topOf(studio.orchestratorDbPath);
    assert.strictEqual(top[0].database.source?.detection.system, 'studio');
    assert.strictEqual(top.length, studio.sessions.length);
    const completed = studio.sessions.find((s) => s.scenario === 'completed')!;
    const session = top.find((n) => n.item.label === completed.userMission.split('\n')[0])!;
    assert.ok(session, `the session "${completed.userMission}" is listed: ${JSON.stringify(top.map((n) => n.item.label))}`);
    const steps = (await children(session)).filter((n): n is ItemNode => n.kind === 'item');
    assert.strictEqual(steps.length, completed.checkpoints.length, 'one step per checkpoint');
    const pm = steps.find((n) => n.item.label === 'pm')!;
    const change = (await children(pm)).find((n): n is ChangeNode => n.kind === 'change' && n.change.label === 'state')!;
    assert.ok(change, 'pm changed the state');
    try {
      await vscode.commands.executeCommand('stepHistory.openFileDiff', change);
      const diff = await openedDiff('the diff of the state');
      const after = (await vscode.workspace.openTextDocument(diff.modified)).getText();
      assert.ok(after.includes(JSON.stringify(completed.userMission)), 'the state after pm holds the mission');
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });

  it('finds Constellation\'s ~/.constellation/constellation.db while the app runs (rows only in its -wal), its projects, agents and iterations, and a file output as a diff', async () => {
    const top = await topOf(constellation.dbPath);
    assert.strictEqual(top[0].database.source?.detection.system, 'constellation');
    assert.deepStrictEqual(new Set(top.map((n) => n.item.ref)), new Set(constellation.projects.map((p) => `project:${p.id}`)));
    for (const id of constellation.walOnly?.projects ?? []) assert.ok(top.some((n) => n.item.ref === `project:${id}`), `project ${id}, only in the -wal, is listed`);
    const iteration = constellation.iterations.find((it) => it.outputs.some((o) => o.type === 'file' && o.previousContent !== null && o.content !== null))!;
    const output = iteration.outputs.find((o) => o.type === 'file' && o.previousContent !== null && o.content !== null)!;
    const database = top[0].database;
    const item = (await database.node(`iteration:${iteration.assistant.id}`))!;
    assert.ok(item?.isStep, 'the iteration is a step');
    const change = (await children({ kind: 'item', database, item, parent: `agent:${iteration.agentId}` })).find(
      (n): n is ChangeNode => n.kind === 'change' && n.change.path === output.path,
    )!;
    assert.ok(change, `the iteration wrote ${output.path}`);
    assert.strictEqual(change.change.status, 'modified');
    try {
      await vscode.commands.executeCommand('stepHistory.openFileDiff', change);
      const diff = await openedDiff('the diff of the output');
      assert.strictEqual((await vscode.workspace.openTextDocument(diff.original)).getText(), output.previousContent);
      assert.strictEqual((await vscode.workspace.openTextDocument(diff.modified)).getText(), output.content);
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });

  it('follows a database as its system writes it: a workflow LLM Orchestration adds, a checkpoint the Studio\'s graph writes into checkpoints.db', async () => {
    const python = (script: string, ...args: string[]) => execFileSync('python3', ['-c', script, ...args], { stdio: 'pipe' });
    await topOf(llmo.dbPath);
    python(
      "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nc.execute(\"INSERT INTO workflows (name, created_at, updated_at) VALUES ('Added while open', '2026-11-20 18:00:00', '2026-11-20 18:00:00')\")\nc.commit()",
      llmo.dbPath,
    );
    await waitFor('the new workflow in the tree', async () => (await topOf(llmo.dbPath)).some((n) => n.item.label === 'Added while open'), 20_000);

    const completed = studio.sessions.find((s) => s.scenario === 'completed')!;
    const session = async () => (await topOf(studio.orchestratorDbPath)).find((n) => n.item.label === completed.userMission.split('\n')[0])!;
    const steps = async () => (await children(await session())).filter((n): n is ItemNode => n.kind === 'item').length;
    assert.strictEqual(await steps(), completed.checkpoints.length);
    const last = completed.checkpoints[completed.checkpoints.length - 1];
    python(
      [
        'import sqlite3, sys',
        'c = sqlite3.connect(sys.argv[1])',
        "c.execute(\"INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, checkpoint_type, checkpoint_blob, metadata_type, metadata_blob, parent_checkpoint_id, created_at) SELECT thread_id, checkpoint_ns, 'ffffffff-ffff-6fff-ffff-ffffffffffff', checkpoint_type, checkpoint_blob, metadata_type, metadata_blob, checkpoint_id, created_at FROM checkpoints WHERE checkpoint_id = ?\", (sys.argv[2],))",
        'c.commit()',
      ].join('\n'),
      studio.checkpointsDbPath,
      last.checkpointId,
    );
    await waitFor('the new checkpoint under its session', async () => (await steps()) === completed.checkpoints.length + 1, 20_000);
  });

  it('compares an LLM Orchestration response with the same payload\'s response in another run of its workflow', async () => {
    const [olderId, newerId] = llmo.comparison.responseIds;
    const older = llmo.responses.find((r) => r.id === olderId)!;
    const newer = llmo.responses.find((r) => r.id === newerId)!;
    const database = (await topOf(llmo.dbPath))[0].database;
    const item = (await database.node(`response:${newer.id}`))!;
    const counterparts = await database.counterparts(item.ref);
    assert.ok(counterparts.some((c) => c.ref === `response:${older.id}`), JSON.stringify(counterparts.map((c) => c.ref)));
    try {
      // The command asks which one in a quick pick: take the first offered, checked below.
      const comparing = vscode.commands.executeCommand('stepHistory.compareSteps', { kind: 'item', database, item, parent: `run:${newer.runId}` });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      await comparing;
      const diff = await openedDiff('the comparison');
      const first = llmo.responses.find((r) => `response:${r.id}` === counterparts[0].ref)!;
      assert.strictEqual((await vscode.workspace.openTextDocument(diff.original)).getText(), first.content);
      assert.strictEqual((await vscode.workspace.openTextDocument(diff.modified)).getText(), newer.content);
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });

  it('shows another system\'s newest step in the status bar, opening its details, and reads every system through the API\'s one model', async () => {
    await topOf(llmo.dbPath);
    let shown: ReturnType<StepHistoryApi['testing']['statusBar']['shown']>;
    await waitFor('the status bar to show a step', () => {
      shown = api.testing.statusBar.shown();
      return shown?.node.kind === 'item';
    }, 30_000);
    const node = shown!.node as ItemNode;
    assert.ok(node.item.isStep, `${node.item.ref} is a step`);
    assert.ok(shown!.text.startsWith('$(history) ') || shown!.text.startsWith('$(sync~spin) '), shown!.text);
    assert.ok(shown!.text.includes(node.item.label.replace(/\$\(/g, '\\$(')), shown!.text);
    // No step of that database started later: read every one through the API.
    const databaseId = node.database.id;
    const starts: number[] = [];
    const walk = async (parent: string | null, depth: number): Promise<void> => {
      for (const n of await api.nodes(databaseId, parent, { limit: 10_000 })) {
        if (n.isStep && n.metrics.start) starts.push(new Date(n.metrics.start).getTime());
        if (n.hasChildren && depth < 8) await walk(n.ref, depth + 1);
      }
    };
    await walk(null, 0);
    assert.ok(starts.length > 0);
    assert.strictEqual(node.item.metrics.start && new Date(node.item.metrics.start).getTime(), Math.max(...starts), 'the newest step');

    const info = api.databases().find((d) => d.id === databaseId)!;
    assert.strictEqual(info.system, node.database.source?.detection.system);
    assert.deepStrictEqual(info.levels?.map((l) => l.key), node.database.source?.levels.map((l) => l.key));
    assert.deepStrictEqual((await api.node(databaseId, node.item.ref))?.label, node.item.label);
    assert.ok((await api.details(databaseId, node.item.ref)).length > 0, 'its details as sections');
    // A database the API does not have is a typed rejection with a sentence, not an unexpected error.
    await assert.rejects(api.nodes('/no/such/steps.db', null), (e: Error & { code?: string }) => e.name === 'ApiError' && e.code === 'UNKNOWN_DATABASE' && /has no database \/no\/such\/steps\.db/.test(e.message));
    try {
      await vscode.commands.executeCommand('stepHistory.openDetails', node);
      await waitFor('the details page of the status bar\'s step', () => {
        const posted = api.testing.details.lastPosted() as { type?: string; details?: { ref?: string } } | undefined;
        return posted?.type === 'history' && posted.details?.ref === node.item.ref;
      }, 20_000);
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });

  it('says in the blame hover that another system records no git commits, for a file in its folder', async () => {
    const root = vscode.workspace.workspaceFolders![0].uri.fsPath;
    const file = path.join(root, 'notes-for-blame.md');
    fs.writeFileSync(file, '# Notes\n\nwritten by hand\n');
    try {
      const uri = vscode.Uri.file(file);
      await vscode.window.showTextDocument(uri);
      let said: string | undefined;
      await waitFor('the blame hover of a file in the other systems\' folder', async () => {
        const hovers = (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(2, 0))) ?? [];
        said = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))).find((t) => /records? no git commits/.test(t));
        return said !== undefined;
      }, 20_000);
      assert.match(said!, /LLM Orchestration/);
      // Markdown, its period escaped: every system whose folder holds the file, named once.
      assert.match(said!, /^(?:[A-Z][\w ]+, )*[A-Z][\w ]+ and [A-Z][\w ]+ record no git commits, so which of their steps wrote this line is not known\\\.$/);
      assert.doesNotMatch(said!, /\bS\d+\b|Not committed yet/);
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      fs.rmSync(file, { force: true });
    }
  });
});
