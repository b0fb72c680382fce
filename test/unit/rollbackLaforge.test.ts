/**
 * Rollback where LaForge's project folder says more: its project.json's main_branch, and the
 * older LaForge's task database backups (`tasks-S<N>.db`), restored as its own rollback did.
 * Real repositories and databases written by python3's sqlite3.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { executeRollback, finishRollback, planRollback, readJournals, revertRollback, undoRollback, type ExecuteOptions } from '../../src/core/rollback';
import { cleanupTempDirs, demo, git, integrity, sqlite, type Demo } from '../support/rollbackWorkspace';

after(function () {
  this.timeout(120_000);
  cleanupTempDirs();
});

function projectJson(d: Demo, mainBranch: string): void {
  const project = { id: 'ledgerline', name: 'Ledgerline', repository_path: d.dir, main_branch: mainBranch, created_at: '2026-03-01T12:00:00Z', updated_at: '2026-03-01T12:00:00Z' };
  fs.writeFileSync(path.join(path.dirname(d.db), 'project.json'), JSON.stringify(project, null, 2));
}

/** A task database as LaForge keeps one: a `tasks` table, written by the real engine. */
function taskDatabase(file: string, titles: string[]): void {
  sqlite(file, ['CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT NOT NULL)', ...titles.map((t, i) => `INSERT INTO tasks VALUES (${i + 1}, '${t}')`)]);
}

/** A demo workspace with LaForge's tasks.db and the older LaForge's copy of it from before S17, beside its steps.db. */
function withTaskDatabases(): { d: Demo; tasks: string; backup: string; current: Buffer } {
  const d = demo();
  const tasks = path.join(path.dirname(d.db), 'tasks.db');
  const backup = path.join(path.dirname(d.db), 'tasks-S17.db');
  taskDatabase(tasks, ['now']);
  taskDatabase(backup, ['before S17']);
  return { d, tasks, backup, current: fs.readFileSync(tasks) };
}

const taskTitles = (file: string) => sqlite(file, [], 'SELECT title FROM tasks ORDER BY id').map((r) => r[0]);

describe("rollback and LaForge's project folder", function () {
  this.timeout(120_000);

  it("refuses while HEAD is on another branch than project.json's main_branch, saying which", async () => {
    const d = demo();
    projectJson(d, 'main');
    assert.deepEqual((await planRollback(d.target(17))).refusals, []);
    git(d.dir, 'checkout', '-q', '-b', 'feature');
    const plan = await planRollback(d.target(17));
    assert.deepEqual(plan.refusals.map((r) => r.code), ['NOT_MAIN_BRANCH']);
    assert.match(plan.refusals[0].message, /feature is checked out, but this LaForge project merges its steps into main/);
    assert.equal(plan.refusals[0].remedy, 'Check out main, then roll back.');
  });

  it('names the task database backup in the plan, restores it only on request with the current one kept, and undo puts that back', async () => {
    const { d, tasks, backup, current } = withTaskDatabases();

    const plan = await planRollback(d.target(17), { journalDir: d.journalDir });
    assert.deepEqual(plan.taskDatabase, { backup, current: tasks });
    assert.equal((await planRollback(d.target(18))).taskDatabase, null, 'no tasks-S18.db');
    assert.deepEqual(plan.untrackedKept, [], 'the task databases are not work to keep');

    const left = await executeRollback(plan, { journalDir: d.journalDir });
    assert.ok(fs.readFileSync(tasks).equals(current), 'without restoreTasks the task database is left alone');
    await undoRollback(left.journal, { journalDir: d.journalDir });

    const again = await planRollback(d.target(17), { journalDir: d.journalDir });
    const result = await executeRollback(again, { journalDir: d.journalDir, restoreTasks: true });
    assert.ok(fs.readFileSync(tasks).equals(fs.readFileSync(backup)), 'tasks.db is the backup');
    assert.deepEqual(taskTitles(tasks), ['before S17']);
    assert.ok(result.journal.tasks?.kept && fs.readFileSync(result.journal.tasks.kept.copy).equals(current), 'the current task database is kept');
    await undoRollback(result.journal, { journalDir: d.journalDir });
    assert.ok(fs.readFileSync(tasks).equals(current), 'undo puts the task database back, byte for byte');
    assert.equal(integrity(tasks), 'ok');
  });

  for (const [point, recovery] of [
    ['tasks-kept', 'finish'],
    ['tasks-kept', 'revert'],
    ['tasks-restored', 'finish'],
    ['tasks-restored', 'revert'],
  ] as const) {
    it(`recovers a task database restore stopped at ${point}: ${recovery}`, async () => {
      const { d, tasks, current } = withTaskDatabases();
      const plan = await planRollback(d.target(17), { journalDir: d.journalDir });
      const crash: ExecuteOptions['onStep'] = (step) => {
        if (step === point) throw new Error(`simulated crash at ${point}`);
      };
      await assert.rejects(executeRollback(plan, { journalDir: d.journalDir, restoreTasks: true, onStep: crash }), /simulated crash/);
      const [journal] = await readJournals(d.journalDir);
      if (recovery === 'finish') {
        await finishRollback(journal, { journalDir: d.journalDir });
        assert.deepEqual(taskTitles(tasks), ['before S17']);
      } else {
        await revertRollback(journal, { journalDir: d.journalDir });
        assert.ok(fs.readFileSync(tasks).equals(current), 'revert leaves the task database as it was');
      }
    });
  }
});
