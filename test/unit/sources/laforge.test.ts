import * as assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { makeLaforgeOld, makeLaforgeToday, type LaforgeFixture } from '../../fixtures/laforgeToday';
import { StepDbError } from '../../../src/core/errors';
import { LAFORGE_LEVELS, laforgeAdapter, LaforgeSource, parseLaforgeRef, projectRef, stepRef } from '../../../src/core/sources/laforge';
import { openSource, type OpenedFile } from '../../../src/core/sources/openSource';
import { detectSource } from '../../../src/core/sources/registry';
import { openSnapshot, schemaShape } from '../../../src/core/sources/snapshot';
import type { DetailSection, HistoryNode } from '../../../src/core/sources/types';

const facts = (sections: DetailSection[], title: string): Map<string, string> => {
  const section = sections.find((s) => s.title === title);
  assert.ok(section && section.kind === 'facts', `a "${title}" facts section`);
  return new Map(section.facts.map((f) => [f.label, f.value]));
};

describe('LaForge as one adapter among four (core/sources/laforge)', function () {
  this.timeout(120_000);
  let today: LaforgeFixture;
  let old: LaforgeFixture;
  let opened: OpenedFile;

  before(async () => {
    today = makeLaforgeToday();
    old = makeLaforgeOld();
    opened = await openSource(today.dbPath);
  });
  after(() => {
    opened?.close();
    today?.rm();
    old?.rm();
  });

  it('is detected first by the registry, from the steps table, in both of LaForge\'s schemas', async () => {
    for (const [fixture, variant] of [
      [today, 'agent_config_name'],
      [old, 'agent_config_json'],
    ] as const) {
      const snap = await openSnapshot(fixture.dbPath);
      try {
        const found = detectSource(schemaShape(snap.db, fixture.dbPath));
        assert.equal(found?.adapter, laforgeAdapter);
        assert.deepEqual(found?.detection, { system: 'laforge', variant });
      } finally {
        snap.db.close();
      }
    }
  });

  it('opens through the one open with its store, its levels and the rollback capability', () => {
    assert.deepEqual(opened.detection, { system: 'laforge', variant: 'agent_config_name' });
    assert.ok(opened.source instanceof LaforgeSource);
    assert.ok(opened.store, 'LaForge keeps its store for rollback plans and filtered counts');
    assert.equal(opened.source.levels, LAFORGE_LEVELS);
    assert.deepEqual(opened.source.capabilities, { rollback: true });
    assert.ok(opened.fingerprint.db, 'the snapshot\'s fingerprint');
  });

  it('lists projects, then a project\'s steps newest first, paged, with the counts that match', () => {
    const { source, store } = opened;
    const projects = source.children(null);
    assert.deepEqual(projects.map((p) => p.ref), [projectRef(today.projectId)]);
    assert.equal(source.count(null), 1);
    const project = projects[0];
    assert.equal(project.level, 'project');
    assert.equal(project.isStep, false);
    assert.equal(project.hasChildren, true);
    assert.equal(source.count(project.ref), today.steps.length);

    const all = source.children(project.ref, { limit: 1000 });
    assert.deepEqual(all.map((n) => n.label), [...today.steps].reverse().map((s) => s.label));
    assert.deepEqual(all.map((n) => n.ref), store!.steps(today.projectId, { limit: 1000 }).map((s) => stepRef(s.id)));
    // Pages join up to the whole list.
    const paged: HistoryNode[] = [];
    for (let offset = 0; offset < all.length; offset += 5) paged.push(...source.children(project.ref, { offset, limit: 5 }));
    assert.deepEqual(paged.map((n) => n.ref), all.map((n) => n.ref));
    assert.deepEqual(source.children(project.ref, { offset: all.length }), []);
  });

  it('gives each step its status, metrics and git range as LaForge wrote them', () => {
    const { source } = opened;
    for (const step of today.steps) {
      const node = source.node(stepRef(step.id));
      assert.ok(node, `${step.label} is found by its ref`);
      assert.equal(node.isStep, true);
      assert.equal(node.label, step.label);
      // The recorded after as stored, when it is a commit hash (a running step's is empty).
      assert.deepEqual(node.gitRange, { before: step.commitBefore, after: /^[0-9a-f]{40}$/.test(step.commitAfterInDb) ? step.commitAfterInDb : null });
      assert.equal(node.metrics.start?.getTime(), step.startTime.getTime());
      assert.equal(node.metrics.end?.getTime() ?? null, step.endTime?.getTime() ?? null);
      // LaForge today writes zeros for every step's usage: not recorded, never a zero.
      assert.equal(node.metrics.tokens, null);
      assert.equal(node.metrics.costUsd, null);
      assert.equal(node.metrics.model, step.agentConfigName);
      const expected = !step.finished ? 'running' : step.exitCode !== 0 && step.exitCode !== null ? 'failed' : 'completed';
      assert.equal(node.status, expected, `${step.label}'s status`);
    }
    assert.equal(source.node(stepRef(9_999_999)), undefined);
    assert.equal(source.node('workflow:1'), undefined);
  });

  it('says a rolled-back step is rolled back, and reads the old schema\'s recorded usage', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'laforge-src-')), 'steps.db');
    try {
      fs.copyFileSync(old.dbPath, file);
      const withUsage = old.steps.find((s) => s.tokens !== null);
      assert.ok(withUsage, 'the old fixture records usage on a step');
      const target = old.steps[old.steps.length - 1];
      execFileSync('python3', ['-c', 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("UPDATE steps SET active = 0 WHERE id = ?", (int(sys.argv[2]),)); c.commit()', file, String(target.id)]);
      const o = await openSource(file);
      try {
        const rolled = o.source.node(stepRef(target.id));
        assert.equal(rolled?.status, 'rolledBack');
        assert.equal(rolled?.rawStatus, 'ROLLED BACK');
        const project = o.source.children(null)[0];
        assert.match(project.description ?? '', /· 1 rolled back$/);
        const used = o.source.node(stepRef(withUsage.id));
        assert.deepEqual(used?.metrics.tokens, { prompt: withUsage.tokens!.promptTokens, completion: withUsage.tokens!.completionTokens, total: withUsage.tokens!.totalTokens });
        assert.equal(used?.metrics.costUsd, withUsage.tokens!.cost);
      } finally {
        o.close();
      }
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });

  it('gives details as sections: the step\'s facts, not recorded where nothing was, and the project\'s totals', () => {
    const { source } = opened;
    const step = today.steps[0];
    const f = facts(source.details(stepRef(step.id)), 'Step');
    assert.equal(f.get('Step'), step.label);
    assert.equal(f.get('Tokens'), 'not recorded');
    assert.equal(f.get('Cost'), 'not recorded');
    assert.equal(f.get('Commit before'), step.commitBefore);
    assert.equal(f.get('Configuration'), step.agentConfigName);
    const p = facts(source.details(projectRef(today.projectId)), 'Project');
    assert.match(p.get('Steps') ?? '', new RegExp(`^${today.steps.length} \\(0 rolled back\\)$`));
    assert.equal(p.get('Tokens'), 'not recorded');
    assert.throws(() => source.details(stepRef(9_999_999)), (e: unknown) => e instanceof StepDbError && /S9999999 is no longer in the database/.test(e.message));
    assert.deepEqual(source.changes(stepRef(step.id)), [], 'a LaForge step\'s changes are its git range, read by the views');
  });

  it('reads refs back, and refuses refs of other shapes', () => {
    assert.deepEqual(parseLaforgeRef(projectRef('a/b c')), { level: 'project', projectId: 'a/b c' });
    assert.deepEqual(parseLaforgeRef(stepRef(12)), { level: 'step', id: 12 });
    assert.equal(parseLaforgeRef('step:12; DROP'), null);
    assert.equal(parseLaforgeRef('project:%E0%A4%A'), null);
  });

  it('says which columns a steps table lacks, as before, rather than that no system wrote it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'laforge-src-'));
    const file = path.join(dir, 'steps.db');
    try {
      execFileSync('python3', ['-c', 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("CREATE TABLE steps (id INTEGER PRIMARY KEY, note TEXT)"); c.commit()', file]);
      await assert.rejects(openSource(file), (e: unknown) => e instanceof StepDbError && e.code === 'UNSUPPORTED_SCHEMA' && /has no commit_sha_before, project_id columns/.test(e.message));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
