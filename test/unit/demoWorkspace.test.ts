import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { GitRepository } from '../../src/core/git';
import { StepStore } from '../../src/core/stepStore';
import { appendDemoStep, DEMO_SCHEMA, DemoWorkspace, makeDemoWorkspace } from '../fixtures/demoWorkspace';
import { DOCUMENTED_SCHEMA, makeTempDir } from '../fixtures/stepFixtures';

const gitText = (dir: string, ...args: string[]) =>
  execFileSync('git', args, { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } }).trim();

describe('demo workspace', function () {
  this.timeout(60_000);
  const NOW = new Date('2026-03-10T12:00:00Z');
  const temps: string[] = [];
  let ws: DemoWorkspace;
  let store: StepStore;

  const fresh = () => {
    const dir = makeTempDir();
    temps.push(dir);
    return path.join(dir, 'demo');
  };

  before(async () => {
    ws = makeDemoWorkspace(fresh(), { now: NOW });
    store = await StepStore.open(ws.dbPath);
  });

  after(() => {
    store?.close();
    for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('embeds the documented LaForge schema unchanged', () => {
    assert.strictEqual(DEMO_SCHEMA.trim(), DOCUMENTED_SCHEMA.trim());
  });

  it('opens with StepStore: 20+ steps with every status, as described', () => {
    const steps = store.steps(ws.projectId, { limit: 1000 });
    assert.ok(steps.length >= 20);
    assert.strictEqual(steps.length, ws.stepCount);
    assert.deepStrictEqual(store.projects().map((p) => p.id), [ws.projectId]);
    const ids = (status: string) => steps.filter((s) => s.status === status).map((s) => s.id).sort((a, b) => a - b);
    assert.deepStrictEqual(ids('FAILED'), ws.failedStepIds);
    assert.deepStrictEqual(ids('ROLLED BACK'), ws.rolledBackStepIds);
    assert.deepStrictEqual(ids('RUNNING'), [ws.runningStepId]);
    for (const expected of ws.steps) {
      const s = store.step(expected.id)!;
      assert.strictEqual(s.status, expected.status, s.label);
      assert.strictEqual(s.parentStepId, expected.parentStepId, s.label);
      assert.strictEqual(s.commitBefore, expected.commitBefore, s.label);
      assert.strictEqual(s.commitAfter, expected.commitAfter, s.label);
      assert.strictEqual(s.startTime?.getTime(), expected.startTime.getTime(), s.label);
      if (expected.model) assert.strictEqual(s.agentConfig?.model, expected.model, s.label);
    }
  });

  it('has a continuation after the rollback, a running step and models that vary', () => {
    const last = ws.rolledBackStepIds[ws.rolledBackStepIds.length - 1];
    assert.strictEqual(store.step(last + 1)!.parentStepId, ws.rolledBackStepIds[0] - 1);
    const running = store.step(ws.runningStepId)!;
    assert.strictEqual(running.endTime, null);
    assert.strictEqual(running.commitAfter, null);
    assert.ok(NOW.getTime() - running.startTime!.getTime() < 10 * 60_000);
    const first = store.step(1)!.startTime!.getTime();
    assert.ok(NOW.getTime() - first > 9 * 24 * 3_600_000 && NOW.getTime() - first <= 10 * 24 * 3_600_000);
    const models = new Set(store.steps(ws.projectId, { limit: 1000 }).map((s) => s.agentConfig?.model).filter(Boolean));
    assert.ok(models.size >= 2 && models.size <= 3, [...models].join());
  });

  it('warns about the broken config only, and keeps HTML in a prompt as text', () => {
    const warned = store.steps(ws.projectId, { limit: 1000 }).filter((s) => s.warnings.length > 0);
    assert.deepStrictEqual(warned.map((s) => s.id), [ws.brokenConfigStepId]);
    assert.match(store.step(ws.htmlPromptStepId)!.agentConfig!.systemPrompt!, /<script>alert\("x"\)<\/script>/);
  });

  it('records real commits with Step-id notes; rolled-back commits stay reachable off the branch', async () => {
    const repo = await GitRepository.open(ws.path);
    for (const s of ws.steps) {
      assert.ok(await repo.commitExists(s.commitBefore), `${s.label} before`);
      if (s.commitAfter) {
        assert.ok(await repo.commitExists(s.commitAfter), `${s.label} after`);
        assert.strictEqual(gitText(ws.path, 'notes', 'show', s.commitAfter), `Step-id: ${s.label}`);
      }
    }
    const active = ws.steps.filter((s) => s.active && s.commitAfter);
    const commits = await repo.commitsBetween(ws.steps[0].commitBefore, ws.head);
    assert.deepStrictEqual(commits.map((c) => c.stepId), active.map((s) => s.label));
    const onBranch = (sha: string) => {
      try {
        execFileSync('git', ['merge-base', '--is-ancestor', sha, 'HEAD'], { cwd: ws.path });
        return true;
      } catch {
        return false;
      }
    };
    for (const id of ws.rolledBackStepIds) {
      const sha = ws.steps[id - 1].commitAfter!;
      assert.ok(!onBranch(sha), `S${id} should be off the branch`);
      gitText(ws.path, 'merge-base', '--is-ancestor', sha, ws.rolledBackRef);
    }
    const head = await repo.head();
    assert.deepStrictEqual({ sha: head.sha, branch: head.branch }, { sha: ws.head, branch: ws.branch });
  });

  it('changes the files each step says, 30 in the big one, binary and spaces included', async () => {
    const repo = await GitRepository.open(ws.path);
    const big = ws.steps[ws.manyFilesStepId - 1];
    assert.strictEqual((await repo.changedFiles(big.commitBefore, big.commitAfter!)).length, 30);
    for (const s of ws.steps.filter((x) => x.commitAfter)) {
      const files = (await repo.changedFiles(s.commitBefore, s.commitAfter!))
        .map((f) => ({ path: f.path, status: f.status, ...(f.oldPath ? { oldPath: f.oldPath } : {}), ...(f.binary ? { binary: true } : {}) }))
        .sort((a, b) => (a.path < b.path ? -1 : 1));
      assert.deepStrictEqual(files, s.files, s.label);
    }
    assert.ok(ws.steps[ws.spacesInNameStepId - 1].files.some((f) => f.path === 'docs/Getting Started.md'));
    const status = await repo.status();
    assert.deepStrictEqual([...status.unstaged.map((e) => e.path), ...status.untracked].sort(), ws.uncommittedFiles);
  });

  it('is the same workspace, commit for commit, for the same `now`', () => {
    const again = makeDemoWorkspace(fresh(), { now: NOW });
    assert.deepStrictEqual(again.steps.map((s) => s.commitAfter), ws.steps.map((s) => s.commitAfter));
  });

  it('appends steps with a separate SQLite writer, in rollback-journal and WAL mode', async () => {
    const demo = makeDemoWorkspace(fresh(), { now: NOW });
    const first = appendDemoStep(demo.path, { now: new Date(NOW.getTime() + 60_000) });
    assert.strictEqual(first.id, demo.stepCount + 1);
    assert.strictEqual(first.finishedStepId, demo.runningStepId);
    assert.strictEqual(first.journalMode, 'delete');
    let s = await StepStore.open(demo.dbPath);
    assert.strictEqual(s.step(demo.runningStepId)!.status, 'COMPLETED');
    assert.strictEqual(s.step(first.id)!.status, 'COMPLETED');
    assert.strictEqual(s.step(first.id)!.parentStepId, demo.runningStepId);
    s.close();

    const second = appendDemoStep(demo.path, { journalMode: 'wal', keepWal: true, running: true, now: new Date(NOW.getTime() + 120_000) });
    assert.strictEqual(second.journalMode, 'wal');
    assert.ok(fs.statSync(demo.dbPath + '-wal').size > 0, 'the new row is in the -wal file');
    s = await StepStore.open(demo.dbPath);
    assert.strictEqual(s.stepCount(demo.projectId), demo.stepCount + 2);
    assert.strictEqual(s.step(second.id)!.status, 'RUNNING');
    s.close();
    const repo = await GitRepository.open(demo.path);
    assert.deepStrictEqual((await repo.status()).untracked, [`notes/step-${second.id}.md`]);
  });
});
