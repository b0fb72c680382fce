/**
 * The Steps tree for another system's database, on a real LLM Orchestration file written by
 * the real SQLite engine (test/fixtures/llmOrchestration.ts), read through its adapter.
 */
import * as assert from 'node:assert/strict';
import { silentLogger } from '../../src/core/log';
import { SourceTreeModel } from '../../src/ui/sourceTreeModel';
import type { StepFilter } from '../../src/core/stepDatabase';
import type { ItemMoreNode, ItemNode, MessageNode, TreeNode } from '../../src/ui/treeNodes';
import { makeLlmOrchestration, type LlmoFixture } from '../fixtures/llmOrchestration';
import { sourceDatabase } from '../fixtures/sourceDatabase';

describe('SourceTreeModel', function () {
  this.timeout(60_000);
  let fx: LlmoFixture;
  let db: Awaited<ReturnType<typeof sourceDatabase>>;
  before(async () => {
    fx = makeLlmOrchestration({ now: new Date('2026-11-20T17:00:00Z') });
    db = await sourceDatabase(fx.dbPath);
  });
  after(() => {
    db?.close();
    fx?.rm();
  });

  const items = (nodes: TreeNode[]) => nodes.filter((n): n is ItemNode => n.kind === 'item');

  it('lists the top level, a container\'s children, and a step\'s changes under it', async () => {
    const model = new SourceTreeModel(() => 200, silentLogger);
    const top = items(await model.roots(db));
    assert.deepEqual(top.map((n) => n.item.ref), (await db.children(null)).map((n) => n.ref));
    const workflow = top.find((n) => n.item.hasChildren)!;
    const runs = items(await model.children(workflow));
    assert.ok(runs.length > 0);
    assert.equal(model.getParent(runs[0]), workflow);
    const run = runs.find((n) => n.item.hasChildren)!;
    const responses = items(await model.children(run));
    const changes = (await model.children(responses[0])).filter((n) => n.kind === 'change');
    assert.deepEqual(changes.map((n) => n.kind === 'change' && n.change.label), ['Response']);
    // The same nodes come back for the same refs: the tree keeps what was expanded.
    assert.equal(items(await model.roots(db))[0], top[0]);
  });

  it('pages: a "Load more" after a page, and the next page after it', async () => {
    const model = new SourceTreeModel(() => 2, silentLogger);
    const run = fx.runs.find((r) => r.responseIds.length >= 3)!;
    const runNode: ItemNode = { kind: 'item', database: db, item: (await db.node(`run:${run.id}`))!, parent: null };
    let shown = await model.children(runNode);
    assert.equal(items(shown).length, 2);
    const more = shown.find((n): n is ItemMoreNode => n.kind === 'itemMore')!;
    assert.equal(more.offset, 2);
    await model.loadMore(more);
    shown = await model.children(runNode);
    assert.deepEqual(items(shown).map((n) => n.item.ref), run.responseIds.slice(0, 4).map((id) => `response:${id}`));
  });

  it('leaves out the steps the filter does not match, keeps containers, and says when nothing matches', async () => {
    let filter: StepFilter = {};
    const model = new SourceTreeModel(() => 200, silentLogger, () => filter);
    const run = fx.runs.find((r) => r.status === 'completed' && r.responseIds.length > 0)!;
    const runNode: ItemNode = { kind: 'item', database: db, item: (await db.node(`run:${run.id}`))!, parent: null };
    assert.equal(items(await model.children(runNode)).length, run.responseIds.length);
    filter = { failedOnly: true };
    model.restart();
    const shown = await model.children(runNode);
    assert.equal(items(shown).length, 0, 'responses are never failed');
    assert.match((shown[0] as MessageNode).message, /matches the filter/);
    filter = { text: fx.responses.find((r) => r.id === run.responseIds[0])!.payloadName };
    model.restart();
    assert.ok(items(await model.children(runNode)).some((n) => n.item.ref === `response:${run.responseIds[0]}`));
    assert.ok(items(await model.roots(db)).length > 0, 'containers stay');
  });

  it('shows a failure to list as an error row, and reads again after forget()', async () => {
    const model = new SourceTreeModel(() => 200, silentLogger);
    const broken = { ...db, children: async () => { throw new Error('the reader stopped'); } };
    const shown = await model.roots(broken);
    assert.equal(shown[0].kind, 'message');
    assert.equal((shown[0] as MessageNode).severity, 'error');
    model.forget(db.id);
    assert.ok(items(await model.roots(db)).length > 0);
  });
});
