/**
 * A running step's live work tree, on the LaForge-at-HEAD fixture: its work tree found from
 * `git worktree list`, its files against the step's commit before (tracked and untracked,
 * COMMIT.md left out), and a watcher that sees the agent write.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GitRepository, parseWorktreeList } from '../../src/core/git';
import type { Step } from '../../src/core/model';
import { StepStore } from '../../src/core/stepStore';
import { watchFolder } from '../../src/core/folderWatch';
import { findStepWorktree, stepWorktree, worktreeChanges } from '../../src/core/worktrees';
import { makeLaforgeToday, type LaforgeFixture, type LaforgeFixtureStep } from '../fixtures/laforgeToday';
import { recordingLogger } from '../fixtures/recordingLogger';
import { nameStatusLine } from '../fixtures/nameStatus';
import { makeTempDir } from '../fixtures/stepFixtures';
import { waitFor } from '../fixtures/waitFor';

describe('a running step’s work tree', () => {
  let fx: LaforgeFixture;
  let store: StepStore;
  let repo: GitRepository;
  let running: LaforgeFixtureStep;
  let step: Step;

  before(async () => {
    fx = makeLaforgeToday({ root: makeTempDir(), now: new Date('2026-11-20T17:00:00Z') });
    store = await StepStore.open(fx.dbPath);
    repo = await GitRepository.open(fx.repoPath);
    running = fx.steps.find((s) => s.id === fx.runningStepId)!;
    step = (await store.step(running.id))!;
  });
  after(() => {
    store?.close();
    fx?.rm();
  });

  it('is listed by git on its step branch, outside the repository', async () => {
    const worktrees = await repo.worktrees();
    assert.equal(fs.realpathSync(worktrees[0].path), fs.realpathSync(fx.repoPath));
    assert.equal(worktrees[0].branch, `refs/heads/${fx.mainBranch}`);
    const found = findStepWorktree(worktrees, running.id);
    assert.ok(found, 'the running step’s work tree');
    assert.equal(fs.realpathSync(found.path), fs.realpathSync(running.worktreePath!));
    assert.equal(found.head, running.commitBefore);
    assert.ok(!path.resolve(found.path).startsWith(path.resolve(fx.repoPath) + path.sep));
    assert.equal(findStepWorktree(worktrees, 1), undefined, 'S1 merged and its work tree was removed');
  });

  it('lists the files the step changed so far, against its commit before, without COMMIT.md', async () => {
    assert.ok(fs.existsSync(path.join(running.worktreePath!, 'COMMIT.md')), 'the agent wrote COMMIT.md');
    const live = await stepWorktree(repo, step);
    assert.ok(live);
    assert.equal(fs.realpathSync(live.path), fs.realpathSync(running.worktreePath!));
    assert.equal(live.base, running.commitBefore);
    assert.deepEqual(live.files.map(nameStatusLine), running.nameStatus);
    assert.ok(running.nameStatus.length >= 2);
  });

  it('is none for a step that is not running, even when its work tree stayed behind', async () => {
    const timedOut = fx.steps.find((s) => s.outcome === 'timed-out' && s.worktreePath)!;
    assert.ok(findStepWorktree(await repo.worktrees(), timedOut.id), 'the timed-out step’s work tree is still listed');
    assert.equal(await stepWorktree(repo, (await store.step(timedOut.id))!), undefined);
  });

  it('is none, with one info line, when the work tree’s folder is gone', async () => {
    const moved = `${running.worktreePath!}-moved`;
    fs.renameSync(running.worktreePath!, moved);
    try {
      const log = recordingLogger();
      assert.equal(await stepWorktree(repo, step, { log }), undefined);
      assert.deepEqual(
        log.lines.filter((l) => l.level === 'info').map((l) => l.message),
        [`[worktrees] ${step.label} is running but no work tree on step-${step.label} is listed in ${repo.root}`],
      );
    } finally {
      fs.renameSync(moved, running.worktreePath!);
    }
  });

  it('sees a file the agent writes, and the watcher fires for it', async () => {
    const folder = running.worktreePath!;
    let events = 0;
    const watch = watchFolder(folder, () => events++);
    try {
      fs.mkdirSync(path.join(folder, 'docs'), { recursive: true });
      fs.writeFileSync(path.join(folder, 'docs', 'json.md'), '# JSON output\n');
      await waitFor('a change event under the work tree', () => events > 0);
      const files = await worktreeChanges(folder, running.commitBefore);
      assert.deepEqual(files.map(nameStatusLine), ['A\tdocs/json.md', ...running.nameStatus]);
    } finally {
      watch.dispose();
      fs.rmSync(path.join(folder, 'docs'), { recursive: true, force: true });
    }
  });
});

describe('parseWorktreeList', () => {
  it('reads branches, detached and bare work trees, locks and prunable entries', () => {
    const sha = 'a'.repeat(40);
    const out = [
      'worktree /repo', `HEAD ${sha}`, 'branch refs/heads/main', '',
      'worktree /tmp/laforge-worktree-step-S3-1', `HEAD ${sha}`, 'branch refs/heads/step-S3', 'locked', '',
      'worktree /tmp/gone', `HEAD ${sha}`, 'detached', 'prunable gitdir file points to non-existent location', '',
      'worktree /bare.git', 'bare', '', '',
    ].join('\0');
    assert.deepEqual(parseWorktreeList(out), [
      { path: '/repo', head: sha, branch: 'refs/heads/main', bare: false, detached: false, locked: false, prunable: false },
      { path: '/tmp/laforge-worktree-step-S3-1', head: sha, branch: 'refs/heads/step-S3', bare: false, detached: false, locked: true, prunable: false },
      { path: '/tmp/gone', head: sha, branch: null, bare: false, detached: true, locked: false, prunable: true },
      { path: '/bare.git', head: null, branch: null, bare: true, detached: false, locked: false, prunable: false },
    ]);
  });
});
