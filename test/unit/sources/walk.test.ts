import * as assert from 'node:assert/strict';
import { makeConstellation } from '../../fixtures/constellation';
import { makeLaforgeToday } from '../../fixtures/laforgeToday';
import { makeLlmOrchestration } from '../../fixtures/llmOrchestration';
import { makeStudioDocumented, makeStudioReal } from '../../fixtures/studio';
import { openSource, type OpenedFile } from '../../../src/core/sources/openSource';
import type { HistoryNode, HistorySource, NodeRef } from '../../../src/core/sources/types';
import { latestStep, recentModels, recentSteps, type HistoryPages } from '../../../src/core/sources/walk';

/** A source as the views read it: a page at a time, asynchronously, keeping the limit of each page asked for. */
function pages(source: HistorySource): HistoryPages & { limits: (number | undefined)[] } {
  const p = {
    limits: [] as (number | undefined)[],
    children: async (parent: NodeRef | null, page?: { offset?: number; limit?: number }) => (p.limits.push(page?.limit), source.children(parent, page)),
    count: async (parent: NodeRef | null) => source.count(parent),
  };
  return p;
}

/** Every step of a source, read whole. */
function allSteps(source: HistorySource, parent: NodeRef | null = null, depth = 0): HistoryNode[] {
  const out: HistoryNode[] = [];
  for (const n of source.children(parent, { limit: 100_000 })) {
    if (n.isStep) out.push(n);
    if (n.hasChildren && depth < 16) out.push(...allSteps(source, n.ref, depth + 1));
  }
  return out;
}

const start = (n: HistoryNode | undefined) => n?.metrics.start?.getTime() ?? -Infinity;

describe('walking a history (core/sources/walk): the newest step, and recent steps with their paths', function () {
  this.timeout(180_000);
  const made: { rm(): void }[] = [];
  const opened: OpenedFile[] = [];
  const systems: [string, () => string][] = [
    ['LaForge', () => { const f = makeLaforgeToday(); made.push(f); return f.dbPath; }],
    // The example's file: the app itself writes no messages, so no iterations.
    ['Constellation', () => { const f = makeConstellation({ kind: 'example' }); made.push(f); return f.dbPath; }],
    ['LLM Orchestration', () => { const f = makeLlmOrchestration(); made.push(f); return f.dbPath; }],
    ['Studio (documented)', () => { const f = makeStudioDocumented(); made.push(f); return f.dbPath; }],
    ['Studio (orchestrator.db)', () => { const f = makeStudioReal(); made.push(f); return f.orchestratorDbPath; }],
  ];
  after(() => {
    for (const o of opened) o.close();
    for (const f of made) f.rm();
  });

  for (const [name, make] of systems) {
    it(`finds ${name}'s newest step by pages, the one no other step started after`, async () => {
      const o = await openSource(make());
      opened.push(o);
      const every = allSteps(o.source);
      assert.ok(every.length > 1, `${name}'s fixture has steps`);
      const newest = Math.max(...every.map(start));
      const reader = pages(o.source);
      const found = await latestStep(reader);
      assert.ok(found?.isStep, `${name}: a step`);
      assert.equal(start(found), newest, `${name}: ${found?.ref} started last`);
      assert.ok(reader.limits.every((l) => l !== undefined && l <= 200), `${name}: pages only, never a whole level: ${reader.limits.join(', ')}`);

      // The filter's model pick: every model the steps name, when all are read.
      const models = [...new Set(every.map((n) => n.metrics.model).filter((m): m is string => m !== null))].sort((a, b) => a.localeCompare(b));
      assert.deepEqual(await recentModels(pages(o.source), every.length), models);

      const recent = await recentSteps(pages(o.source), 7);
      assert.equal(recent.length, Math.min(7, every.length));
      for (const { step, path } of recent) {
        assert.ok(step.isStep);
        // Its path leads to it: each node lists the next.
        let parent: NodeRef | null = null;
        for (const container of [...path, step]) {
          assert.ok(o.source.children(parent, { limit: 100_000 }).some((n) => n.ref === container.ref), `${container.ref} is under ${parent}`);
          parent = container.ref;
        }
      }
    });
  }

  it('has no newest step in a history with none', async () => {
    const empty: HistoryPages = { children: async () => [], count: async () => 0 };
    assert.equal(await latestStep(empty), undefined);
    assert.deepEqual(await recentSteps(empty, 10), []);
  });
});
