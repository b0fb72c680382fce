/**
 * The Steps tree's model in plain Node, against an in-memory StepDatabases: paging, reloads
 * that keep what was shown and the nodes' identity, the filter, the rolled-back toggle,
 * finding a step beyond the loaded pages, and errors shown as messages.
 */
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { ChangedFile } from '../../src/core/git';
import { silentLogger, type Logger } from '../../src/core/log';
import { requireCommitAfter, stepFromRow, type Step } from '../../src/core/model';
import { stepChange, stepCommitIndex, type StepCommit } from '../../src/core/stepCommits';
import { StepStore, type ProjectSummary } from '../../src/core/stepStore';
import { filterMessage, liveWorktreeText, projectItemText, stepDecoration, stepPickText, stepTooltipMarkdown } from '../../src/ui/format';
import type { DatabaseState, StepDatabase, StepDatabases, StepPageOptions } from '../../src/core/stepDatabase';
import { StepsTreeModel, type TreeChange } from '../../src/ui/stepsTreeModel';
import type { MessageNode, ProjectNode, StepNode, TreeNode } from '../../src/ui/treeNodes';
import { recordingLogger } from '../fixtures/recordingLogger';
import { makeTempDir, stepRow, UNTYPED_PROJECT_SCHEMA, writeProjectRows } from '../fixtures/stepFixtures';
import { makeLaforgeToday, type LaforgeFixture, type LaforgeFixtureStep } from '../fixtures/laforgeToday';
import { nameStatusLine } from '../fixtures/nameStatus';
import { storeDatabase } from '../fixtures/storeDatabase';
import { waitFor } from '../fixtures/waitFor';

type Listener<T> = (e: T) => unknown;
function emitter<T>() {
  const listeners = new Set<Listener<T>>();
  return {
    event: (l: Listener<T>) => (listeners.add(l), { dispose: () => void listeners.delete(l) }),
    fire: (e: T) => listeners.forEach((l) => l(e)),
  };
}

class FakeDatabase {
  state: DatabaseState = { kind: 'ready' };
  rows: Step[] = [];
  queries: StepPageOptions[] = [];
  constructor(
    readonly id: string,
    readonly label = id,
  ) {}
  get path() {
    return `/work/${this.id}`;
  }
  add(id: number, overrides: Record<string, string | number | null> = {}) {
    this.rows.push(stepFromRow(stepRow(id, overrides)));
  }
  readonly source = { detection: { system: 'laforge' as const, variant: 'both' }, levels: [] };
  async load(): Promise<unknown> {
    return this.projects();
  }
  async projects(): Promise<ProjectSummary[]> {
    if (this.state.kind === 'error') throw new Error(this.state.message);
    const ids = [...new Set(this.rows.map((s) => s.projectId))];
    return ids.map((id) => {
      const steps = this.rows.filter((s) => s.projectId === id);
      return { id, stepCount: steps.length, activeCount: steps.filter((s) => s.active).length, lastStart: null };
    });
  }
  async stepCount(projectId: string, options: StepPageOptions = {}): Promise<number> {
    return (await this.matching(projectId, options)).length;
  }
  async steps(projectId: string, options: StepPageOptions = {}): Promise<Step[]> {
    this.queries.push(options);
    const { offset = 0, limit = 200 } = options;
    return (await this.matching(projectId, options)).slice(offset, offset + limit);
  }
  private async matching(projectId: string, options: StepPageOptions): Promise<Step[]> {
    const { activeOnly, filter } = options;
    return this.rows
      .filter((s) => s.projectId === projectId)
      .filter((s) => !activeOnly || s.active)
      .filter((s) => !filter?.failedOnly || s.status === 'FAILED')
      .filter((s) => !filter?.model || s.agentConfig?.model === filter.model)
      .filter((s) => !filter?.text || s.label.toLowerCase().includes(filter.text.toLowerCase()))
      .sort((a, b) => b.id - a.id);
  }
  /** Step commits a repository would give, by step id; otherwise the recorded one. */
  commits = new Map<number, StepCommit>();
  async stepCommit(step: Step): Promise<StepCommit> {
    return this.commits.get(step.id) ?? stepCommitIndex({ notes: [], branches: [] }).resolve(step);
  }
  async changedFiles(step: Step): Promise<ChangedFile[]> {
    if (this.commits.has(step.id)) stepChange(step, this.commits.get(step.id)!);
    else requireCommitAfter(step);
    return [{ path: `src/s${step.id}.ts`, status: 'modified', added: 1, removed: 0, binary: false }];
  }
  async commitSubjects(): Promise<Map<string, string>> {
    return new Map();
  }
  async laforgeProject() {
    return undefined;
  }
  async stepWorktree(): Promise<undefined> {
    return undefined;
  }
}

function fakeDatabases(...dbs: FakeDatabase[]) {
  const list = emitter<void>();
  const one = emitter<StepDatabase>();
  const databases = {
    all: dbs as unknown as StepDatabase[],
    get: (id: string) => databases.all.find((d) => d.id === id),
    discovered: true,
    onDidChangeDatabases: list.event,
    onDidChangeDatabase: one.event,
    refresh: async () => undefined,
    add: async () => {
      throw new Error('no');
    },
    dispose() {},
  };
  return { databases: databases as unknown as StepDatabases, changed: (db: FakeDatabase) => one.fire(db as unknown as StepDatabase), listChanged: () => list.fire() };
}

function setup(db: FakeDatabase, settings = { pageSize: 2, showRolledBack: true }, log: Logger = silentLogger) {
  const fake = fakeDatabases(db);
  const model = new StepsTreeModel(fake.databases, settings, log);
  const changes: TreeChange[] = [];
  model.onDidChange((c) => changes.push(c));
  return { model, changes, ...fake };
}

const labels = (nodes: TreeNode[]) =>
  nodes.map((n) => (n.kind === 'step' ? n.step.label : n.kind === 'message' ? `msg:${n.message}` : n.kind));

async function project(model: StepsTreeModel): Promise<ProjectNode> {
  const [node] = await model.getChildren();
  assert.strictEqual(node.kind, 'project');
  return node as ProjectNode;
}

/** Waits until the model has fired `count` changes (a change event is handled asynchronously). */
async function changesSettle(changes: TreeChange[], count: number) {
  for (let i = 0; i < 100 && changes.length < count; i++) await new Promise((r) => setImmediate(r));
  assert.strictEqual(changes.length, count, 'change events');
}

describe('StepsTreeModel', () => {
  it('pages steps newest first and appends a page on "Load more"', async () => {
    const db = new FakeDatabase('a');
    for (let i = 1; i <= 5; i++) db.add(i);
    const { model, changes } = setup(db);
    const p = await project(model);
    let children = await model.getChildren(p);
    assert.deepStrictEqual(labels(children), ['S5', 'S4', 'loadMore']);
    await model.loadMore(children[2] as never);
    assert.deepStrictEqual(changes.at(-1), [p], 'only the project refreshes');
    children = await model.getChildren(p);
    assert.deepStrictEqual(labels(children), ['S5', 'S4', 'S3', 'S2', 'loadMore']);
    await model.loadMore(children[4] as never);
    assert.deepStrictEqual(labels(await model.getChildren(p)), ['S5', 'S4', 'S3', 'S2', 'S1']);
  });

  it('on a database change reloads as many steps as were shown, keeping node identity, and refreshes only its projects', async () => {
    const db = new FakeDatabase('a');
    for (let i = 1; i <= 5; i++) db.add(i);
    const { model, changes, changed } = setup(db);
    const p = await project(model);
    const first = await model.getChildren(p);
    await model.loadMore(first[2] as never);
    const before = await model.getChildren(p);
    const s5 = before[0] as StepNode;

    db.add(6);
    db.rows[4] = stepFromRow(stepRow(5, { exit_code: 2 })); // S5 now failed
    changed(db);
    await changesSettle(changes, 2);
    assert.deepStrictEqual(changes[1], [p], 'the project subtree, not the root');
    const after = await model.getChildren(p);
    assert.deepStrictEqual(labels(after), ['S6', 'S5', 'S4', 'S3', 'loadMore']);
    assert.strictEqual(after[1], s5, 'S5 is the same node object');
    assert.strictEqual(s5.step.status, 'FAILED', 'with fresh data');
  });

  it('refreshes the root when the projects change', async () => {
    const db = new FakeDatabase('a');
    db.add(1);
    const { model, changes, changed } = setup(db);
    await project(model);
    db.add(2, { project_id: 'other' });
    changed(db);
    await changesSettle(changes, 1);
    assert.strictEqual(changes[0], undefined);
    assert.deepStrictEqual((await model.getChildren()).map((n) => (n as ProjectNode).project.id), ['demo', 'other']);
  });

  it('filters, says when nothing matches, and clears', async () => {
    const db = new FakeDatabase('a');
    db.add(1);
    db.add(2, { exit_code: 1 });
    db.add(3);
    const { model } = setup(db, { pageSize: 20, showRolledBack: true });
    const p = await project(model);
    model.setFilter({ failedOnly: true });
    assert.ok(model.filterActive);
    assert.deepStrictEqual(labels(await model.getChildren(p)), ['S2']);
    assert.deepStrictEqual(db.queries.at(-1)?.filter, { failedOnly: true });
    model.setFilter({ failedOnly: true, model: 'gpt-4o' });
    assert.deepStrictEqual(labels(await model.getChildren(p)), ['msg:No steps match the filter.']);
    assert.ok(model.nothingMatches());
    model.setFilter({});
    assert.ok(!model.nothingMatches());
    assert.deepStrictEqual(labels(await model.getChildren(p)), ['S3', 'S2', 'S1']);
    assert.strictEqual(db.queries.at(-1)?.filter, undefined);
  });

  it('counts what the filter and the rolled-back toggle list: the project says "1 of 4 steps", the view "1 of 4 steps · failed"', async () => {
    const db = new FakeDatabase('a');
    db.add(1);
    db.add(2, { exit_code: 1 });
    db.add(3, { active: 0 });
    db.add(4);
    const { model } = setup(db, { pageSize: 20, showRolledBack: true });
    const p = await project(model);
    assert.strictEqual(p.shown, undefined, 'without a filter every step is listed');
    assert.strictEqual(projectItemText({ ...p.project, shown: p.shown }, db, false).description, '4 steps');
    assert.strictEqual(filterMessage(model.filter, model.filterCounts(), model.nothingMatches()), undefined);

    model.setFilter({ failedOnly: true });
    const [filtered] = (await model.getChildren()) as ProjectNode[];
    assert.strictEqual(filtered, p, 'the same node, its count updated');
    assert.strictEqual(filtered.shown, 1);
    assert.strictEqual(projectItemText({ ...filtered.project, shown: filtered.shown }, db, false).description, '1 of 4 steps');
    assert.strictEqual(labels(await model.getChildren(filtered)).length, filtered.shown, 'it lists what it counts');
    assert.deepStrictEqual(model.filterCounts(), { shown: 1, total: 4 });
    assert.strictEqual(filterMessage(model.filter, model.filterCounts(), model.nothingMatches()), '1 of 4 steps · failed');

    model.setFilter({});
    model.updateSettings({ pageSize: 20, showRolledBack: false });
    const [hidden] = (await model.getChildren()) as ProjectNode[];
    assert.strictEqual(hidden.shown, 3);
    assert.strictEqual(projectItemText({ ...hidden.project, shown: hidden.shown }, db, false).description, '3 of 4 steps');
    assert.strictEqual(labels(await model.getChildren(hidden)).length, 3);

    model.setFilter({ model: 'nobody' });
    await model.getChildren();
    await model.getChildren(hidden);
    assert.strictEqual(filterMessage(model.filter, model.filterCounts(), model.nothingMatches()), 'No steps match the filter: nobody.');
  });

  it('hides rolled-back steps when asked and explains an all-rolled-back project', async () => {
    const db = new FakeDatabase('a');
    db.add(1, { active: 0 });
    db.add(2, { active: 0 });
    const { model } = setup(db);
    const p = await project(model);
    assert.deepStrictEqual(labels(await model.getChildren(p)), ['S2', 'S1']);
    model.updateSettings({ pageSize: 2, showRolledBack: false });
    assert.deepStrictEqual(labels(await model.getChildren(p)), ['msg:All 2 steps are rolled back and hidden.']);
    assert.strictEqual(db.queries.at(-1)?.activeOnly, true);
  });

  it('finds a step beyond the loaded pages, and its parents for reveal', async () => {
    const db = new FakeDatabase('a');
    for (let i = 1; i <= 7; i++) db.add(i);
    const { model, changes } = setup(db);
    const node = await model.findStep('a', 'demo', 2);
    assert.ok(node, 'found S2');
    assert.strictEqual(node.step.label, 'S2');
    const p = model.getParent(node) as ProjectNode;
    assert.strictEqual(p.kind, 'project');
    assert.strictEqual(model.getParent(p), undefined);
    assert.deepStrictEqual(changes.at(-1), [p], 'the grown project is refreshed');
    assert.ok((await model.getChildren(p)).includes(node), 'the tree returns the very node found');
    assert.strictEqual(await model.findStep('a', 'demo', 99), undefined);
  });

  it('shows a step\'s files, and its sentence when they cannot be read', async () => {
    const db = new FakeDatabase('a');
    db.add(1);
    db.add(2, { end_time: null, commit_sha_after: '' }); // still running
    const { model } = setup(db, { pageSize: 20, showRolledBack: true });
    const [s2, s1] = (await model.getChildren(await project(model))) as StepNode[];
    const files = await model.getChildren(s1);
    assert.deepStrictEqual(files.map((f) => f.kind === 'file' && f.file.path), ['src/s1.ts']);
    assert.strictEqual(model.getParent(files[0]), s1);
    const [msg] = (await model.getChildren(s2)) as MessageNode[];
    assert.strictEqual(msg.kind, 'message');
    assert.strictEqual(msg.message, 'S2 is still running and has no commit after yet.');
    assert.strictEqual(msg.severity, 'warning');
  });

  it("gives each step its own commit, says 'made no commit' as information, and marks an unmerged step", async () => {
    const db = new FakeDatabase('a');
    for (const id of [1, 2, 3]) db.add(id, { commit_sha_after: stepRow(id).commit_sha_before }); // LaForge today
    const noted = 'ab'.repeat(20);
    db.commits.set(1, { source: 'note', commit: noted, branch: null, notMerged: false });
    db.commits.set(2, { source: 'none', commit: null, branch: null, notMerged: false });
    db.commits.set(3, { source: 'note', commit: 'cd'.repeat(20), branch: 'step-S3', notMerged: true });
    const { model } = setup(db, { pageSize: 20, showRolledBack: true });
    const [s3, s2, s1] = (await model.getChildren(await project(model))) as StepNode[];
    assert.deepStrictEqual([s1.commit?.commit, s2.commit?.source, s3.commit?.notMerged], [noted, 'none', true]);
    assert.deepStrictEqual(labels(await model.getChildren(s1)), ['file']);
    const [msg] = (await model.getChildren(s2)) as MessageNode[];
    assert.deepStrictEqual([msg.message, msg.severity], ['S2 made no commit.', 'info']);
    const tooltip = stepTooltipMarkdown(s3.step, { commit: s3.commit });
    assert.ok(tooltip.includes('**Step commit:** cdcdcdc \\(from its Step\\-id note\\)'), tooltip);
    assert.ok(tooltip.includes('**Branch:** not merged \\(step\\-S3\\)'), tooltip);
    // Its note appears later (the repository moved): the files are read for the new commit.
    db.commits.set(2, { source: 'branch', commit: 'ef'.repeat(20), branch: 'step-S2', notMerged: true });
    model.refreshAll();
    const [, again] = (await model.getChildren(await project(model))) as StepNode[];
    assert.strictEqual(again, s2, 'the same node');
    assert.deepStrictEqual(labels(await model.getChildren(s2)), ['file']);
  });

  it("logs a running step's missing commit after as one info line with no stack, each time it is met", async () => {
    const db = new FakeDatabase('a');
    db.add(1, { end_time: null, commit_sha_after: '' }); // still running
    const log = recordingLogger();
    const { model, changed, changes } = setup(db, { pageSize: 20, showRolledBack: true }, log);
    const [s1] = (await model.getChildren(await project(model))) as StepNode[];
    await model.getChildren(s1);
    assert.deepStrictEqual(log.lines.filter((l) => l.level !== 'trace' && l.level !== 'debug'), [
      { level: 'info', message: 'files of S1 in /work/a: S1 is still running and has no commit after yet.' },
    ]);
    // Met again after a reload: one more line, still one line.
    changed(db);
    await changesSettle(changes, 1);
    const [again] = (await model.getChildren(await project(model))) as StepNode[];
    await model.getChildren(again);
    const lines = log.lines.filter((l) => l.level !== 'trace' && l.level !== 'debug');
    assert.strictEqual(lines.length, 2);
    for (const line of lines) {
      assert.strictEqual(line.level, 'info');
      assert.ok(!line.message.includes('\n') && !/\bat .+:\d+:\d+/.test(line.message), `no stack: ${line.message}`);
    }
  });

  it('shows a database in error, and one still loading, as messages: an error\'s reason first, the path it names only in the tooltip', async () => {
    const broken = new FakeDatabase('broken', 'broken/steps.db');
    broken.state = { kind: 'error', message: 'This file is not a SQLite database.', detail: 'x', remedy: { action: 'openDatabase' } };
    // A sentence that names the absolute path, as the readers' do: a sidebar would cut its reason off.
    const named = new FakeDatabase('named', 'named/steps.db');
    named.state = { kind: 'error', message: `The step database ${named.path} is damaged (SQLite calls it malformed).`, detail: 'y' };
    const loading = new FakeDatabase('loading', 'loading/steps.db');
    loading.state = { kind: 'loading' };
    const fake = fakeDatabases(broken, named, loading);
    const model = new StepsTreeModel(fake.databases, { pageSize: 20, showRolledBack: true }, silentLogger);
    const roots = (await model.getChildren()) as MessageNode[];
    assert.deepStrictEqual(
      roots.map((m) => [m.severity, m.message, m.description]),
      [
        ['error', 'This file is not a SQLite database.', 'broken/steps.db'],
        ['error', 'The step database is damaged (SQLite calls it malformed).', 'named/steps.db'],
        ['info', 'Loading loading/steps.db…', undefined],
      ],
    );
    assert.strictEqual(roots[1].tooltip, `The step database ${named.path} is damaged (SQLite calls it malformed).`, 'the path once, where the sentence names it');
    assert.strictEqual(roots[0].tooltip, `This file is not a SQLite database.\n${broken.path}`, 'the path after a sentence that does not name it');
    assert.ok(model.isBusy(roots[2]) && !model.isBusy(roots[0]));
    // Choosing the row does what its error's code offers.
    assert.deepStrictEqual(roots[0].remedy, { action: 'openDatabase' });
    assert.strictEqual(roots[1].remedy, undefined);
  });
});

describe('StepsTreeModel over a real database', () => {
  let dir: string;
  let file: string;
  const stores: StepStore[] = [];
  const open = async () => {
    const store = await StepStore.open(file);
    stores.push(store);
    return store;
  };
  beforeEach(() => {
    dir = makeTempDir();
    file = path.join(dir, 'steps.db');
  });
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function treeOf(store: StepStore) {
    const database = storeDatabase(store);
    const model = new StepsTreeModel(fakeDatabases(database as unknown as FakeDatabase).databases, { pageSize: 20, showRolledBack: true }, silentLogger);
    return { model, database };
  }

  it('lists a project for every kind of project id, each expanding to as many steps as it says, with their warnings', async () => {
    // Written by the real SQLite engine into an untyped column, so each keeps its storage class.
    await writeProjectRows(file, UNTYPED_PROJECT_SCHEMA, [`'alpha'`, `NULL`, `''`, `42`, `1.5`, `X'0102'`, `NULL`]);
    const { model, database } = treeOf(await open());
    const projects = (await model.getChildren()) as ProjectNode[];
    const shown = projects.map((p) => projectItemText(p.project, database, false));
    assert.deepStrictEqual(
      shown.map((t) => [t.label, t.description, t.warning]),
      [
        ['(no project)', '3 steps', 'These steps have no project id.'],
        ["X'0102'", '1 step', "These steps' project id is binary data, not text."],
        ['1.5', '1 step', "These steps' project id is the number 1.5, not text."],
        ['42', '1 step', "These steps' project id is the number 42, not text."],
        ['alpha', '1 step', undefined],
      ],
    );
    for (const node of projects) {
      const children = await model.getChildren(node);
      assert.ok(children.every((c) => c.kind === 'step'), `only steps under ${node.project.id}: ${labels(children)}`);
      assert.strictEqual(children.length, node.project.stepCount, `${projectItemText(node.project, database, false).label} lists what it counts`);
      for (const { step } of children as StepNode[]) {
        const warned = node.project.id !== 'alpha';
        assert.strictEqual(step.warnings.some((w) => w.field === 'projectId'), warned, `${step.label}'s project warning`);
        // The tree marks a warned step, and its tooltip says why.
        assert.strictEqual(stepDecoration(false, step.warnings.length)?.badge, warned ? '⚠' : undefined);
        if (warned) assert.ok(stepTooltipMarkdown(step, { project: node.project.id }).includes('⚠'), 'the tooltip lists the warning');
      }
    }
    const none = (await model.getChildren(projects[0])) as StepNode[];
    assert.deepStrictEqual(none.map((n) => n.step.label), ['S7', 'S3', 'S2']);
    assert.strictEqual(none[0].step.warnings.find((w) => w.field === 'projectId')?.message, 'S7 has no project id; it is listed under (no project).');
    const found = await model.findStep(database.id, projects[3].project.id, 4);
    assert.strictEqual(found?.step.label, 'S4', 'a step of project 42 is found for reveal');
  });

  it('shows a project id with U+202E and NUL escaped, so "1 step" reads forwards and nothing shows as a box', async () => {
    const model = 'gpt\u202E-4o';
    await writeProjectRows(file, UNTYPED_PROJECT_SCHEMA, [`'evil' || char(8238) || 'x' || char(0) || 'y'`], [
      { agent_config_json: JSON.stringify({ model, metadata: { task: 'fix\u0000it\u202E' } }) },
    ]);
    const { model: tree, database } = treeOf(await open());
    const [node] = (await tree.getChildren()) as ProjectNode[];
    assert.strictEqual(node.project.id, 'evil\u202Ex\u0000y', 'the key is the stored text, NUL and all');
    const text = projectItemText(node.project, database, true);
    assert.strictEqual(text.label, 'evil\\u202Ex\\u0000y');
    assert.strictEqual(text.description, '1 step · steps.db');
    assert.strictEqual(text.accessibilityLabel, 'Project evil\\u202Ex\\u0000y, 1 step, in steps.db');
    for (const shown of [text.label, text.description, text.tooltip, text.accessibilityLabel]) {
      assert.ok(!/[\u0000\u202E]/.test(shown), `nothing raw in ${JSON.stringify(shown)}`);
    }
    const [stepNode] = (await tree.getChildren(node)) as StepNode[];
    const tooltip = stepTooltipMarkdown(stepNode.step, { project: stepNode.projectId });
    assert.ok(tooltip.includes('**Project:** evil\\\\u202Ex\\\\u0000y'), tooltip);
    assert.ok(tooltip.includes('**Model:** gpt\\\\u202E\\-4o'), tooltip);
    assert.ok(!/[\u0000\u202E]/.test(tooltip));
    const pick = stepPickText(stepNode.step, { project: stepNode.projectId, database: database.label });
    assert.deepStrictEqual([pick.label, pick.description.split(' · ').slice(0, 2), pick.detail], [
      'S1',
      ['completed', 'gpt\\u202E-4o'],
      'fix\\u0000it\\u202E — evil\\u202Ex\\u0000y — steps.db',
    ]);
  });
});

describe('StepsTreeModel: a running step’s live work tree, on the LaForge-at-HEAD fixture', () => {
  let fx: LaforgeFixture;
  let store: StepStore;
  let running: LaforgeFixtureStep;
  const models: StepsTreeModel[] = [];

  before(async () => {
    fx = makeLaforgeToday({ root: makeTempDir(), now: new Date('2026-11-20T17:00:00Z') });
    store = await StepStore.open(fx.dbPath);
    running = fx.steps.find((s) => s.id === fx.runningStepId)!;
  });
  afterEach(() => {
    for (const model of models.splice(0)) model.dispose();
  });
  after(() => {
    store?.close();
    fx?.rm();
  });

  /** A tree over the fixture's database and repository; `ended` makes the running step read as completed. */
  function liveTree(ended = { value: false }) {
    const log = recordingLogger();
    const database = storeDatabase(store, 'steps.db', fx.repoPath);
    const steps = database.steps;
    database.steps = async (projectId, options) =>
      (await steps(projectId, options)).map((s) => (ended.value && s.id === running.id ? { ...s, status: 'COMPLETED' as const } : s));
    const fake = fakeDatabases(database as unknown as FakeDatabase);
    const model = new StepsTreeModel(fake.databases, { pageSize: 50, showRolledBack: true }, log, { liveDebounceMs: 50 });
    models.push(model);
    const changes: TreeChange[] = [];
    model.onDidChange((c) => changes.push(c));
    const runningNode = async () => {
      const [project] = (await model.getChildren()) as ProjectNode[];
      const steps = (await model.getChildren(project)) as StepNode[];
      return steps.find((n) => n.step.id === running.id)!;
    };
    return { model, log, changes, runningNode, changed: () => fake.changed(database as unknown as FakeDatabase) };
  }

  const fileLines = (children: TreeNode[]) => children.map((c) => (c.kind === 'file' ? nameStatusLine(c.file) : `message: ${c.kind === 'message' ? c.message : c.kind}`));

  it('shows the running step’s files in its work tree, each compared from its commit before, and says "live · 2 files"', async () => {
    const { model, runningNode } = liveTree();
    const node = await runningNode();
    assert.ok(node.live, 'the running step is shown live');
    assert.equal(fs.realpathSync(node.live.path), fs.realpathSync(running.worktreePath!));
    assert.equal(liveWorktreeText(node.live).description, `live · ${running.nameStatus.length} files`);
    assert.equal(running.nameStatus.length, 2);
    assert.ok(liveWorktreeText(node.live).tooltipMarkdown.includes(path.basename(running.worktreePath!).replace(/[-.]/g, (c) => `\\${c}`)));
    const children = await model.getChildren(node);
    assert.deepStrictEqual(fileLines(children), running.nameStatus);
    for (const child of children) {
      assert.equal(child.kind, 'file');
      if (child.kind !== 'file') continue;
      assert.deepStrictEqual(child.worktree, { path: node.live.path, base: running.commitBefore });
      assert.equal(model.getParent(child), node);
    }
    const finished = (await model.getChildren((await model.getChildren())[0])).find((n) => n.kind === 'step' && n.step.id === 1) as StepNode;
    assert.equal(finished.live, undefined, 'a finished step is not live');
  });

  it('shows a file the agent writes, once the work tree settles', async () => {
    const { model, changes, runningNode, log } = liveTree();
    const node = await runningNode();
    await model.getChildren(node);
    assert.ok(log.lines.some((l) => l.level === 'info' && l.message === `watching ${node.live!.path}, the work tree of running ${running.label}`));
    const added = path.join(running.worktreePath!, 'src', 'json.test.ts');
    fs.writeFileSync(added, '// checks --json\n');
    try {
      await waitFor('the new file under the running step', async () => fileLines(await model.getChildren(node)).includes('A\tsrc/json.test.ts'));
      assert.ok(changes.some((c) => c?.length === 1 && c[0] === node), 'the running step’s subtree was refreshed');
      assert.deepStrictEqual(fileLines(await model.getChildren(node)), ['M\tsrc/cli.ts', 'A\tsrc/json.test.ts', 'A\tsrc/json.ts']);
      assert.equal(liveWorktreeText(node.live!).description, 'live · 3 files');
    } finally {
      fs.rmSync(added);
    }
    model.dispose();
    assert.ok(log.lines.some((l) => l.level === 'info' && l.message === `stopped watching ${node.live!.path}, the work tree of ${running.label}`), 'disposing stops the watcher');
  });

  it('stops watching when the step is no longer running', async () => {
    const ended = { value: false };
    const { model, log, runningNode, changed } = liveTree(ended);
    const node = await runningNode();
    assert.ok(node.live);
    ended.value = true;
    changed();
    await waitFor('the step reloaded as completed', async () => (await runningNode()).step.status === 'COMPLETED');
    assert.equal(node.live, undefined);
    assert.ok(log.lines.some((l) => l.level === 'info' && l.message.startsWith(`stopped watching `)));
    assert.ok(!fileLines(await model.getChildren(node)).some((l) => !l.startsWith('message: ')), 'no live files under a completed step');
  });

  // Last: it removes the fixture's live work tree.
  it('stops watching, and shows no live files, once the work tree is removed', async () => {
    const { model, log, runningNode } = liveTree();
    const node = await runningNode();
    assert.ok(node.live);
    execFileSync('git', ['worktree', 'remove', '--force', running.worktreePath!], { cwd: fx.repoPath, stdio: 'ignore' });
    await waitFor('the work tree seen gone', () => node.live === undefined);
    assert.ok(log.lines.some((l) => l.level === 'info' && l.message === `stopped watching ${path.resolve(running.worktreePath!)}, the work tree of ${running.label}`));
    const children = await model.getChildren(node);
    // What a running step without a work tree showed before: a sentence, no files.
    assert.equal(children.length, 1);
    assert.match(fileLines(children)[0], new RegExp(`^message: ${running.label} is still running`));
  });
});
