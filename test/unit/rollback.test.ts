/**
 * Rollback and undo on real repositories and real step databases (the demo workspace: git
 * plus a steps.db written by python3's sqlite3), in temp folders removed afterwards. Every
 * end-to-end case checks that no file content is lost and that SQLite's integrity_check
 * passes on the written database.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  executeRollback,
  finishRollback,
  foreignCommitShas,
  lastRollback,
  pendingRollbacks,
  planRollback,
  revertRollback,
  undoRollback,
  type RollbackPlan,
} from '../../src/core/rollback';
import { escapeMarkdown } from '../../src/ui/format';
import { planMarkdown } from '../../src/ui/rollbackText';
import { isPassingState } from '../../src/core/errors';
import { appendDemoStep } from '../fixtures/demoWorkspace';
import { SqliteProcess } from '../fixtures/stepFixtures';
import { StoreWorker } from '../../src/core/remoteStore';
import { activeIds, allRows, cleanupTempDirs, demo, git, gitOk, integrity, rejectsWith, snapshot, sqlite, stepHistoryRefs, tempDir, write, type Demo } from '../support/rollbackWorkspace';

after(function () {
  this.timeout(120_000);
  cleanupTempDirs();
});

describe('planRollback', function () {
  this.timeout(60_000);

  it('plans a rollback on a clean tree and changes nothing', async () => {
    const d = demo();
    const files = snapshot(d.dir);
    const dbBytes = fs.readFileSync(d.db);
    const head = git(d.dir, 'rev-parse', 'HEAD');
    const plan = await planRollback(d.target(17));
    assert.deepEqual(plan.refusals, []);
    assert.deepEqual(plan.stepsToDeactivate.map((s) => s.id), [17, 18, 19, 20, 21, 22, 23]);
    assert.equal(plan.resetTo, d.before(17));
    assert.equal(plan.head, head);
    assert.equal(plan.branch, 'main');
    assert.equal(plan.detached, false);
    const changed = git(d.dir, 'diff', '--name-only', '-z', head, plan.resetTo).split('\0').filter(Boolean);
    assert.deepEqual(plan.filesToChange.map((f) => f.path).sort(), changed.sort());
    assert.deepEqual([plan.staged, plan.unstaged, plan.untrackedOverwritten, plan.untrackedKept, plan.foreignCommits], [[], [], [], [], []]);
    assert.equal(plan.headOnLine, true);
    assert.equal(plan.needsProtection, false);
    assert.equal(plan.database.size, dbBytes.length);
    assert.equal(plan.database.changeCounter, dbBytes.readUInt32BE(24));
    assert.equal(
      plan.summary,
      `Roll back ledgerline to before S17: 7 steps (S17–S23) become inactive and main moves from ${head.slice(0, 7)} to ${plan.resetTo.slice(0, 7)}, changing ${changed.length} files.`,
    );
    assert.deepEqual(snapshot(d.dir), files);
    assert.ok(fs.readFileSync(d.db).equals(dbBytes));
    assert.equal(git(d.dir, 'rev-parse', 'HEAD'), head);
    assert.deepEqual(stepHistoryRefs(d.dir), []);
  });

  it('plans the same from the store worker\'s reading of the database as from the file, with a foreign commit found', async () => {
    const d = demo();
    write(d.dir, 'NOTES.md', 'by hand\n');
    git(d.dir, 'add', 'NOTES.md');
    git(d.dir, 'commit', '-q', '-m', 'A person\'s commit');
    const fromFile = await planRollback(d.target(17));
    const worker = new StoreWorker({ workerPath: path.join(__dirname, '..', '..', 'dist', 'storeWorker.js') });
    try {
      const store = await worker.open(d.db);
      const fromWorker = await planRollback(d.target(17), { store });
      assert.deepEqual(fromWorker, fromFile);
      assert.equal(fromWorker.foreignCommits.length, 1, 'the person\'s commit, found among every step\'s commits');
    } finally {
      worker.dispose();
    }
  });

  it('lists staged and unstaged changes, untracked files a reset would overwrite and those it keeps, and never ignored files', async () => {
    const d = demo();
    // S13 deleted locales/he.json and ar.json; they are back in the tree S13 started from.
    write(d.dir, 'README.md', 'edited by hand\n');
    write(d.dir, 'src/cli.ts', '// staged edit\n');
    git(d.dir, 'add', 'src/cli.ts');
    write(d.dir, 'locales/he.json', '{"mine": true}\n');
    write(d.dir, 'notes/todo.txt', 'keep me\n');
    write(d.dir, 'dist/cli.js', 'built\n');
    write(d.dir, 'debug.log', 'ignored\n');
    const plan = await planRollback(d.target(13));
    assert.deepEqual(plan.refusals, []);
    assert.deepEqual(plan.stepsToDeactivate.map((s) => s.id), [13, 17, 18, 19, 20, 21, 22, 23]);
    assert.deepEqual(plan.staged.map((e) => [e.path, e.status]), [['src/cli.ts', 'modified']]);
    assert.deepEqual(plan.unstaged.map((e) => [e.path, e.status]), [['README.md', 'modified']]);
    assert.deepEqual(plan.untrackedOverwritten, ['locales/he.json']);
    assert.deepEqual(plan.untrackedKept, ['notes/todo.txt']);
    assert.deepEqual(plan.ignoredOverwritten, []);
    const listed = JSON.stringify(plan);
    assert.ok(!listed.includes('dist/cli.js') && !listed.includes('debug.log'), 'ignored files are not listed');
    assert.equal(plan.needsProtection, true);
    assert.match(plan.summary, /; 2 uncommitted changes, 1 untracked file the reset would overwrite must be kept safe first\.$/);
  });

  it('lists an ignored file that the target tree would overwrite', async () => {
    const d = demo();
    // A file tracked in the target but ignored now: the reset would overwrite it.
    write(d.dir, '.git/info/exclude', fs.readFileSync(path.join(d.dir, '.git/info/exclude'), 'utf8') + 'locales/ar.json\n');
    write(d.dir, 'locales/ar.json', 'local copy\n');
    const plan = await planRollback(d.target(13));
    assert.deepEqual(plan.ignoredOverwritten, ['locales/ar.json']);
    assert.deepEqual(plan.untrackedOverwritten, []);
    assert.equal(plan.needsProtection, true);
  });

  it('finds a commit on the branch that no step made', async () => {
    const d = demo();
    write(d.dir, 'HANDMADE.md', 'by a person\n');
    git(d.dir, 'add', 'HANDMADE.md');
    git(d.dir, 'commit', '-q', '-m', 'A commit made by hand');
    const sha = git(d.dir, 'rev-parse', 'HEAD');
    const plan = await planRollback(d.target(17));
    assert.deepEqual(plan.refusals, []);
    assert.deepEqual(plan.foreignCommits.map((c) => [c.sha, c.subject]), [[sha, 'A commit made by hand']]);
    assert.equal(plan.needsProtection, true);
    assert.match(plan.summary, /1 commit no step made must be kept safe first\.$/);
  });

  it('refuses a target whose commit before is not a commit hash', async () => {
    const d = demo();
    sqlite(d.db, [`UPDATE steps SET commit_sha_before = '--output=/tmp/x; rm -rf ~' WHERE id = 17`]);
    const plan = await planRollback(d.target(17));
    assert.deepEqual(plan.refusals.map((r) => r.code), ['TARGET_COMMIT_INVALID']);
    assert.ok(plan.refusals[0].remedy.length > 0);
    assert.match(plan.summary, /^Cannot roll back ledgerline to before S17: /);
  });

  it('refuses a target whose commit is not in the repository', async () => {
    const d = demo();
    sqlite(d.db, [`UPDATE steps SET commit_sha_before = '${'deadbeef'.repeat(5)}' WHERE id = 17`]);
    const plan = await planRollback(d.target(17));
    assert.deepEqual(plan.refusals.map((r) => r.code), ['TARGET_COMMIT_MISSING']);
  });

  it('refuses while a step in the range is running', async () => {
    const d = demo('running');
    const plan = await planRollback(d.target(17));
    assert.deepEqual(plan.runningSteps.map((s) => s.id), [22]);
    assert.ok(plan.refusals.some((r) => r.code === 'STEP_RUNNING'));
    const err = await rejectsWith(executeRollback(plan, { journalDir: d.journalDir, protect: true }), 'REFUSED');
    assert.deepEqual(err.reasons, ['STEP_RUNNING']);
    assert.equal(isPassingState(err), true, 'a running step is a passing state, not a failure');
    assert.deepEqual(stepHistoryRefs(d.dir), []);
  });

  it('refuses a detached HEAD', async () => {
    const d = demo();
    git(d.dir, 'checkout', '-q', '--detach');
    const plan = await planRollback(d.target(17));
    assert.deepEqual(plan.refusals.map((r) => r.code), ['DETACHED_HEAD']);
    assert.equal(plan.detached, true);
  });

  it('refuses when HEAD is not on the line of the steps', async () => {
    const d = demo();
    git(d.dir, 'checkout', '-q', '-b', 'elsewhere', d.ws.rolledBackRef);
    const plan = await planRollback(d.target(17));
    assert.equal(plan.headOnLine, false);
    assert.deepEqual(plan.refusals.map((r) => r.code), ['HEAD_OFF_LINE']);
  });

  it('refuses a step that is already rolled back, and a step that does not exist', async () => {
    const d = demo();
    const plan = await planRollback(d.target(15));
    assert.ok(plan.refusals.some((r) => r.code === 'STEP_NOT_ACTIVE'));
    await rejectsWith(planRollback(d.target(999)), 'REFUSED');
  });

  it('refuses a folder that is not a git repository', async () => {
    const d = demo();
    const plan = await planRollback({ ...d.target(17), repositoryPath: tempDir('plain') });
    assert.deepEqual(plan.refusals.map((r) => r.code), ['NOT_A_REPOSITORY']);
  });

  describe('where the repository cannot be opened', () => {
    /** The plan as the editor and the command line show it. */
    const shown = (plan: RollbackPlan) => planMarkdown(plan, { databaseLabel: 'steps.db' });
    const assertNothingReadOfGit = (plan: RollbackPlan) => {
      const md = shown(plan);
      for (const wrong of ['not on a branch', 'not on the line', 'HEAD', '## Branch', '## Files that change', '## Uncommitted changes', 'No tracked file changes']) {
        assert.ok(!md.includes(wrong), `the plan says ${JSON.stringify(wrong)}, which follows from the missing repository:\n${md}`);
      }
      assert.equal(plan.headOnLine, false);
      assert.deepEqual([plan.branch, plan.head, plan.filesToChange, plan.foreignCommits], [null, null, [], []]);
      return md;
    };

    it('says plainly that a folder without git has no git repository, and nothing about a branch', async () => {
      const d = demo();
      fs.rmSync(path.join(d.dir, '.git'), { recursive: true, force: true });
      const files = snapshot(d.dir);
      const dbBytes = fs.readFileSync(d.db);
      const plan = await planRollback(d.target(17));
      const sentence = `${d.dir} has no git repository, so Step History cannot roll back its steps.`;
      assert.deepEqual(plan.refusals.map((r) => [r.code, r.message]), [['NOT_A_REPOSITORY', sentence]]);
      assert.match(plan.refusals[0].remedy, /open the folder of the git repository the agent committed its steps in/);
      assert.equal(plan.summary, `Cannot roll back ledgerline to before S17: ${sentence}`);
      const md = assertNothingReadOfGit(plan);
      assert.ok(md.includes(`**${escapeMarkdown(sentence)}**`), md);
      assert.ok(md.includes('Without a git repository there is no branch to move'), md);
      // Refused: nothing is marked, so the steps are those a rollback would mark.
      assert.ok(md.includes('## Steps a rollback would mark rolled back (7)'), md);
      await rejectsWith(executeRollback(plan, { journalDir: d.journalDir, protect: true }), 'REFUSED');
      assert.deepEqual(snapshot(d.dir), files);
      assert.ok(fs.readFileSync(d.db).equals(dbBytes));
    });

    it('puts the missing repository before a running step: waiting for the step would not help', async () => {
      const d = demo('running');
      fs.rmSync(path.join(d.dir, '.git'), { recursive: true, force: true });
      const plan = await planRollback(d.target(17));
      assert.deepEqual(plan.refusals.map((r) => r.code), ['NOT_A_REPOSITORY', 'STEP_RUNNING']);
      assert.match(plan.summary, /^Cannot roll back ledgerline to before S17: \S+ has no git repository, so Step History cannot roll back its steps\.$/);
      assert.ok(assertNothingReadOfGit(plan).includes('**S22** is still running'));
      const err = await rejectsWith(executeRollback(plan, { journalDir: d.journalDir, protect: true }), 'REFUSED');
      assert.equal(isPassingState(err), false, 'no repository is a failure, whatever else is passing');
    });

    it('says that the repository folder is gone when it was moved', async () => {
      const d = demo();
      const moved = path.join(path.dirname(d.dir), 'moved-away');
      const plan = await planRollback({ ...d.target(17), repositoryPath: moved });
      assert.deepEqual(plan.refusals.map((r) => [r.code, r.message]), [
        ['REPOSITORY_MISSING', `The repository folder ${moved} does not exist, so Step History cannot roll back its steps.`],
      ]);
      assert.match(plan.refusals[0].remedy, /moved or renamed/);
      assertNothingReadOfGit(plan);
    });

    it('says that git is missing when it cannot run, rather than anything about the repository', async () => {
      const d = demo();
      const saved = process.env.PATH;
      process.env.PATH = tempDir('emptybin');
      let plan: RollbackPlan;
      try {
        plan = await planRollback(d.target(17));
      } finally {
        process.env.PATH = saved;
      }
      assert.deepEqual(plan.refusals.map((r) => [r.code, r.message]), [['GIT_MISSING', 'Git is not installed or not on PATH, so Step History cannot roll back its steps.']]);
      assert.match(plan.refusals[0].remedy, /^Install git/);
      const md = assertNothingReadOfGit(plan);
      assert.ok(md.includes('Without git, the branch'), md);
    });
  });

  it('plans to fold a -wal left by a writer that has exited instead of refusing; refuses with a choice where holders cannot be known', async () => {
    const d = demo('wal');
    appendDemoStep(d.dir, { keepWal: true, now: new Date('2026-03-01T12:20:00Z') });
    assert.ok(fs.statSync(`${d.db}-wal`).size > 32);
    const plan = await planRollback(d.target(17));
    assert.deepEqual(plan.stepsToDeactivate.map((s) => s.id), [17, 18, 19, 20, 21, 22, 23, 24]);
    assert.deepEqual(plan.refusals, []);
    assert.equal(plan.leftoverWal, true);

    const unknown = await planRollback(d.target(17), { holders: () => null });
    assert.deepEqual(unknown.refusals.map((r) => [r.code, r.overridable]), [['DATABASE_WAL_UNKNOWN', true]]);
    assert.match(unknown.refusals[0].message, /cannot tell whether the program that wrote it still has it open/);
    assert.match(unknown.refusals[0].remedy, /could be lost/);
  });

  it('refuses while another program holds a WAL database open, even with its log checkpointed', async () => {
    const d = demo('wal');
    const conn = new SqliteProcess(d.db);
    try {
      await conn.query('SELECT count(*) FROM steps');
      await conn.query('PRAGMA wal_checkpoint(TRUNCATE)');
      assert.equal(fs.statSync(`${d.db}-wal`).size, 0);
      const plan = await planRollback(d.target(17));
      assert.deepEqual(plan.refusals.map((r) => r.code), ['DATABASE_BUSY']);
      assert.match(plan.refusals[0].message, /another program has it open/);
    } finally {
      await conn.close().catch(() => conn.kill());
    }
    assert.deepEqual((await planRollback(d.target(17))).refusals, []);
  });

  it('calls an interrupted transaction (a -journal nobody holds) a failure to act on, not a state to wait out', async () => {
    const d = demo();
    // A hot journal: a header whose bytes are not all zero, left by a writer that stopped.
    fs.writeFileSync(`${d.db}-journal`, Buffer.from('d9d505f920a163d7', 'hex'));
    try {
      const nobody = await planRollback(d.target(17), { holders: () => [] });
      assert.deepEqual(nobody.refusals.map((r) => [r.code, r.interrupted]), [['DATABASE_BUSY', true]]);
      assert.match(nobody.refusals[0].remedy, /the transaction was interrupted: open the database once with SQLite/);
      const refused = await rejectsWith(executeRollback(nobody, { journalDir: d.journalDir, holders: () => [] }), 'REFUSED');
      assert.equal(isPassingState(refused), false, 'nothing ends it but the user');
      // Where nobody can tell who holds it, a writer may still be at work: that is waited out.
      const unknown = await planRollback(d.target(17), { holders: () => null });
      assert.deepEqual(unknown.refusals.map((r) => [r.code, r.interrupted]), [['DATABASE_BUSY', undefined]]);
      assert.equal(isPassingState(await rejectsWith(executeRollback(unknown, { journalDir: d.journalDir, holders: () => null }), 'REFUSED')), true);
    } finally {
      fs.rmSync(`${d.db}-journal`, { force: true });
    }
  });

  it('refuses while another program holds a rollback-journal database open, naming it', async function () {
    if (!fs.existsSync('/proc/self/fd')) this.skip(); // only Linux says who holds a file
    const d = demo();
    const conn = new SqliteProcess(d.db);
    try {
      await conn.query('SELECT count(*) FROM steps');
      assert.ok(!fs.existsSync(`${d.db}-journal`) && !fs.existsSync(`${d.db}-wal`), 'an idle writer leaves no file behind');
      const plan = await planRollback(d.target(17));
      assert.deepEqual(plan.refusals.map((r) => r.code), ['DATABASE_BUSY']);
      assert.match(plan.refusals[0].message, /another program has it open: python3? \(pid \d+\)/);
      assert.equal(isPassingState(await rejectsWith(executeRollback(plan, { journalDir: d.journalDir }), 'REFUSED')), true, 'a writer holding the database is a passing state');
    } finally {
      await conn.close().catch(() => conn.kill());
    }
    assert.deepEqual((await planRollback(d.target(17))).refusals, []);
  });

  it('says what happens to a single step', async () => {
    const d = demo();
    const plan = await planRollback(d.target(23));
    assert.match(plan.summary, /^Roll back ledgerline to before S23: 1 step \(S23\) becomes inactive and main moves from \w{7} to \w{7}, changing 1 file\.$/);
  });

  it('refuses while a writer is in the middle of a transaction (hot journal)', async () => {
    const d = demo();
    execFileSync('python3', ['-c', `
import os, sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
db.execute("UPDATE steps SET exit_code = 7")
os._exit(0)`, d.db]);
    assert.ok(fs.existsSync(`${d.db}-journal`));
    const plan = await planRollback(d.target(17));
    assert.deepEqual(plan.refusals.map((r) => r.code), ['DATABASE_BUSY']);
  });
});

describe('foreignCommitShas', () => {
  it('finds a commit made between two steps and one after the last, on a straight line', () => {
    const c = (n: number) => String(n).repeat(40).slice(0, 40);
    // 1 <- 2 (step A) <- 3 (by hand) <- 4 (step B) <- 5 (by hand); the reset goes to 1.
    const graph = new Map([[c(2), [c(1)]], [c(3), [c(2)]], [c(4), [c(3)]], [c(5), [c(4)]]]);
    const steps = [
      { commitBefore: c(1), commitAfter: c(2) },
      { commitBefore: c(3), commitAfter: c(4) },
      { commitBefore: c(4), commitAfter: null },
    ];
    assert.deepEqual([...foreignCommitShas(graph, steps)].sort(), [c(3), c(5)]);
  });

  it('counts the commits in (before, after] of each step as the step\'s, through merges', () => {
    // a <- b <- m(b, x) <- c ; x <- y ; the step went from b to m (merging x); c is someone else's.
    const graph = new Map([
      ['c'.repeat(40), ['d'.repeat(40)]],
      ['d'.repeat(40), ['b'.repeat(40), 'e'.repeat(40)]],
      ['e'.repeat(40), ['f'.repeat(40)]],
      ['f'.repeat(40), []],
      ['b'.repeat(40), []],
    ]);
    const foreign = foreignCommitShas(graph, [{ commitBefore: 'b'.repeat(40), commitAfter: 'd'.repeat(12) }]);
    assert.deepEqual([...foreign].sort(), ['b'.repeat(40), 'c'.repeat(40)]);
  });
});

describe('executeRollback and undoRollback', function () {
  this.timeout(60_000);

  async function planned(d: Demo, stepId: number): Promise<RollbackPlan> {
    const plan = await planRollback(d.target(stepId));
    assert.deepEqual(plan.refusals, []);
    return plan;
  }

  it('rolls back a clean tree and undoes it, losing nothing', async () => {
    const d = demo();
    const files = snapshot(d.dir);
    const rows = allRows(d.db);
    const mode = 0o640;
    fs.chmodSync(d.db, mode);
    const head = git(d.dir, 'rev-parse', 'HEAD');
    const plan = await planned(d, 17);
    const progress: string[] = [];
    const result = await executeRollback(plan, { journalDir: d.journalDir, onProgress: (m) => progress.push(m) });
    assert.equal(result.journal.phase, 'done');
    assert.ok(progress.length >= 3);
    assert.equal(git(d.dir, 'rev-parse', 'HEAD'), plan.resetTo);
    assert.equal(git(d.dir, 'symbolic-ref', 'HEAD'), 'refs/heads/main');
    assert.equal(git(d.dir, 'status', '--porcelain'), '');
    assert.deepEqual(stepHistoryRefs(d.dir), [`${result.journal.backupRef} ${head}`]);
    assert.equal(integrity(d.db), 'ok');
    assert.deepEqual(activeIds(d.db), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    assert.equal(fs.statSync(d.db).mode & 0o777, mode);
    assert.deepEqual(fs.readdirSync(d.dir).filter((f) => f.includes('.tmp')), []);
    assert.deepEqual(await pendingRollbacks(d.journalDir), []);
    const last = await lastRollback(d.journalDir);
    assert.equal(last?.id, result.journal.id);

    const undone = await undoRollback(last!, { journalDir: d.journalDir });
    assert.equal(undone.journal.phase, 'undone');
    assert.equal(git(d.dir, 'rev-parse', 'HEAD'), head);
    assert.deepEqual(snapshot(d.dir), files);
    assert.equal(integrity(d.db), 'ok');
    assert.deepEqual(allRows(d.db), rows);
    assert.equal(await lastRollback(d.journalDir), undefined);
    await rejectsWith(undoRollback(undone.journal, { journalDir: d.journalDir }), 'NOTHING_TO_UNDO');
  });

  it('keeps modified, staged, untracked and ignored files safe with protection, and undo restores them byte for byte', async () => {
    const d = demo();
    write(d.dir, 'README.md', 'edited by hand\n');
    write(d.dir, 'src/cli.ts', '// staged edit\n');
    git(d.dir, 'add', 'src/cli.ts');
    write(d.dir, 'locales/he.json', '{"mine": true}\n');
    write(d.dir, 'notes/todo.txt', 'keep me\n');
    write(d.dir, 'dist/cli.js', Buffer.from([0, 1, 2, 255]));
    const files = snapshot(d.dir);
    const stagedBefore = git(d.dir, 'diff', '--cached', '--name-status');
    const plan = await planned(d, 13);
    assert.equal(plan.needsProtection, true);

    await rejectsWith(executeRollback(plan, { journalDir: d.journalDir }), 'NEEDS_PROTECTION');
    assert.deepEqual(snapshot(d.dir), files);
    assert.deepEqual(stepHistoryRefs(d.dir), []);

    const result = await executeRollback(plan, { journalDir: d.journalDir, protect: true });
    const { stashRef } = result.journal;
    assert.ok(stashRef);
    assert.equal(git(d.dir, 'rev-parse', 'HEAD'), plan.resetTo);
    // The stash holds the work exactly.
    assert.equal(git(d.dir, 'show', `${stashRef}:README.md`), 'edited by hand');
    assert.equal(git(d.dir, 'show', `${stashRef}^2:src/cli.ts`), '// staged edit');
    assert.equal(git(d.dir, 'show', `${stashRef}^3:locales/he.json`), '{"mine": true}');
    assert.match(git(d.dir, 'log', '-1', '--format=%s', stashRef), /Step History: before rolling back to S13/);
    // The reset put the target's files in place; untouched: the untracked file it kept and the ignored one.
    assert.equal(fs.readFileSync(path.join(d.dir, 'locales/he.json'), 'utf8'), git(d.dir, 'show', `${plan.resetTo}:locales/he.json`) + '\n');
    assert.equal(fs.readFileSync(path.join(d.dir, 'notes/todo.txt'), 'utf8'), 'keep me\n');
    assert.ok(fs.readFileSync(path.join(d.dir, 'dist/cli.js')).equals(Buffer.from([0, 1, 2, 255])));
    assert.equal(integrity(d.db), 'ok');
    assert.deepEqual(activeIds(d.db), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

    await undoRollback(result.journal, { journalDir: d.journalDir });
    assert.deepEqual(snapshot(d.dir), files);
    assert.equal(git(d.dir, 'diff', '--cached', '--name-status'), stagedBefore);
    assert.equal(integrity(d.db), 'ok');
    assert.equal(activeIds(d.db).length, 20);
    // Undo used the stash and the backup: neither is kept any longer.
    assert.deepEqual(stepHistoryRefs(d.dir), []);
    assert.ok(!git(d.dir, 'stash', 'list', '--format=%H').includes(result.journal.stashCommit!), 'the stash entry was dropped');
  });

  it('keeps a staged rename and deletion safe (stashing everything), and undo restores the index and the files', async () => {
    const d = demo();
    git(d.dir, 'mv', 'README.md', 'README.txt');
    git(d.dir, 'rm', '-q', 'CHANGELOG.md');
    write(d.dir, 'notes/todo.txt', 'keep me\n');
    const files = snapshot(d.dir);
    const index = git(d.dir, 'status', '--porcelain', '--untracked-files=all');
    const plan = await planned(d, 17);
    assert.deepEqual(plan.staged.map((e) => e.status).sort(), ['deleted', 'renamed']);
    const lines: string[] = [];
    const log = { trace() {}, debug() {}, info: (m: string) => void lines.push(m), warn: (m: string) => void lines.push(m), error() {} };
    const result = await executeRollback(plan, { journalDir: d.journalDir, protect: true, log });
    assert.ok(result.journal.stashRef);
    assert.equal(git(d.dir, 'status', '--porcelain', '--untracked-files=all'), '', lines.join('\n'));
    assert.equal(git(d.dir, 'show', `${result.journal.stashRef}^3:notes/todo.txt`), 'keep me');
    await undoRollback(result.journal, { journalDir: d.journalDir });
    assert.deepEqual(snapshot(d.dir), files);
    assert.equal(git(d.dir, 'status', '--porcelain', '--untracked-files=all'), index);
  });

  it('keeps a foreign commit reachable from the backup ref, and undo brings it back on the branch', async () => {
    const d = demo();
    write(d.dir, 'HANDMADE.md', 'by a person\n');
    git(d.dir, 'add', 'HANDMADE.md');
    git(d.dir, 'commit', '-q', '-m', 'A commit made by hand');
    const foreign = git(d.dir, 'rev-parse', 'HEAD');
    const files = snapshot(d.dir);
    const plan = await planned(d, 17);
    await rejectsWith(executeRollback(plan, { journalDir: d.journalDir }), 'NEEDS_PROTECTION');
    assert.equal(git(d.dir, 'rev-parse', 'HEAD'), foreign);

    const result = await executeRollback(plan, { journalDir: d.journalDir, protect: true });
    assert.equal(result.journal.stashRef, undefined);
    assert.ok(!gitOk(d.dir, 'merge-base', '--is-ancestor', foreign, 'main'));
    assert.ok(gitOk(d.dir, 'merge-base', '--is-ancestor', foreign, result.journal.backupRef));
    assert.ok(!fs.existsSync(path.join(d.dir, 'HANDMADE.md')));

    await undoRollback(result.journal, { journalDir: d.journalDir });
    assert.equal(git(d.dir, 'rev-parse', 'main'), foreign);
    assert.deepEqual(snapshot(d.dir), files);
    assert.equal(integrity(d.db), 'ok');
  });

  it('stops with DATABASE_CHANGED when a real SQLite writer changed the database after the plan, before touching git', async () => {
    const d = demo();
    const head = git(d.dir, 'rev-parse', 'HEAD');
    const files = snapshot(d.dir);
    const plan = await planned(d, 17);
    sqlite(d.db, [`UPDATE steps SET token_usage_json = '{"total_tokens": 1}' WHERE id = 1`]);
    const written = allRows(d.db);
    await rejectsWith(executeRollback(plan, { journalDir: d.journalDir }), 'DATABASE_CHANGED');
    assert.equal(git(d.dir, 'rev-parse', 'HEAD'), head);
    assert.deepEqual(snapshot(d.dir), files);
    assert.deepEqual(stepHistoryRefs(d.dir), []);
    assert.deepEqual(allRows(d.db), written);
    assert.equal(await lastRollback(d.journalDir), undefined);
  });

  it('does not replace a database written between the git reset and the database write; finishing later keeps that write', async () => {
    const d = demo();
    const plan = await planned(d, 17);
    const afterPhase = (phase: string) => {
      if (phase === 'git-reset') sqlite(d.db, [`UPDATE steps SET exit_code = 3 WHERE id = 2`]);
    };
    await rejectsWith(executeRollback(plan, { journalDir: d.journalDir, afterPhase }), 'DATABASE_CHANGED');
    assert.deepEqual(fs.readdirSync(d.dir).filter((f) => f.includes('.tmp')), []);
    const [pending] = await pendingRollbacks(d.journalDir);
    assert.equal(pending.phase, 'git-reset');
    assert.match(pending.lastError ?? '', /changed since it was read/);
    assert.equal(activeIds(d.db).length, 20);

    const finished = await finishRollback(pending, { journalDir: d.journalDir });
    assert.equal(finished.journal.phase, 'done');
    assert.deepEqual(activeIds(d.db), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    assert.equal(sqlite(d.db, [], 'SELECT exit_code FROM steps WHERE id = 2')[0][0], 3);
    assert.equal(integrity(d.db), 'ok');
  });

  it('writes a WAL database back in WAL mode, and refuses when its -wal changed after the plan', async () => {
    const d = demo('wal');
    const header = fs.readFileSync(d.db).subarray(18, 20);
    assert.deepEqual([...header], [2, 2]);
    assert.ok(!fs.existsSync(`${d.db}-wal`) || fs.statSync(`${d.db}-wal`).size === 0);
    const plan = await planned(d, 17);
    const result = await executeRollback(plan, { journalDir: d.journalDir });
    assert.deepEqual([...fs.readFileSync(d.db).subarray(18, 20)], [2, 2]);
    assert.equal(integrity(d.db), 'ok');
    assert.equal(sqlite(d.db, [], 'PRAGMA journal_mode')[0][0], 'wal');
    assert.deepEqual(activeIds(d.db), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    await undoRollback(result.journal, { journalDir: d.journalDir });
    assert.equal(activeIds(d.db).length, 20);

    // A writer that added a transaction to the -wal after the plan read the database: nothing is written.
    const plan2 = await planned(d, 17);
    appendDemoStep(d.dir, { keepWal: true, now: new Date('2026-03-01T12:30:00Z') });
    await rejectsWith(executeRollback(plan2, { journalDir: d.journalDir }), 'DATABASE_CHANGED');
    assert.equal(activeIds(d.db).length, 21);
  });

  it('recovers a rollback that crashed between the git reset and the database write: finish', async () => {
    const d = demo();
    const plan = await planned(d, 17);
    const crash = (phase: string) => {
      if (phase === 'git-reset') throw new Error('simulated crash');
    };
    await assert.rejects(executeRollback(plan, { journalDir: d.journalDir, afterPhase: crash }), /simulated crash/);
    assert.equal(git(d.dir, 'rev-parse', 'HEAD'), plan.resetTo);
    assert.equal(activeIds(d.db).length, 20);
    const pending = await pendingRollbacks(d.journalDir);
    assert.deepEqual(pending.map((j) => j.phase), ['git-reset']);
    assert.equal(await lastRollback(d.journalDir), undefined);

    const result = await finishRollback(pending[0], { journalDir: d.journalDir });
    assert.equal(result.journal.phase, 'done');
    assert.deepEqual(activeIds(d.db), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    assert.equal(integrity(d.db), 'ok');
    assert.deepEqual(await pendingRollbacks(d.journalDir), []);
    // Finishing again changes nothing.
    await finishRollback(result.journal, { journalDir: d.journalDir });
    assert.equal(git(d.dir, 'rev-parse', 'HEAD'), plan.resetTo);
  });

  it('recovers a rollback that crashed between the git reset and the database write: revert, with stashed work', async () => {
    const d = demo();
    write(d.dir, 'README.md', 'edited by hand\n');
    write(d.dir, 'notes/new.txt', 'new\n');
    const files = snapshot(d.dir);
    const rows = allRows(d.db);
    const head = git(d.dir, 'rev-parse', 'HEAD');
    const plan = await planned(d, 17);
    const crash = (phase: string) => {
      if (phase === 'git-reset') throw new Error('simulated crash');
    };
    await assert.rejects(executeRollback(plan, { journalDir: d.journalDir, protect: true, afterPhase: crash }));
    const [pending] = await pendingRollbacks(d.journalDir);
    assert.ok(pending.stashRef);

    const result = await revertRollback(pending, { journalDir: d.journalDir });
    assert.equal(result.journal.phase, 'undone');
    assert.equal(git(d.dir, 'rev-parse', 'HEAD'), head);
    assert.deepEqual(snapshot(d.dir), files);
    assert.deepEqual(allRows(d.db), rows);
    assert.deepEqual(await pendingRollbacks(d.journalDir), []);
  });

  it('reverts a rollback whose database was written but not marked done', async () => {
    const d = demo();
    const rows = allRows(d.db);
    const plan = await planned(d, 17);
    const crash = (phase: string) => {
      if (phase === 'database-written') throw new Error('simulated crash');
    };
    await assert.rejects(executeRollback(plan, { journalDir: d.journalDir, afterPhase: crash }));
    const [pending] = await pendingRollbacks(d.journalDir);
    assert.equal(pending.phase, 'database-written');
    await revertRollback(pending, { journalDir: d.journalDir });
    assert.deepEqual(allRows(d.db), rows);
    assert.equal(integrity(d.db), 'ok');
  });

  it('refuses to undo after new work: a new commit, or changes in the work tree', async () => {
    const d = demo();
    const plan = await planned(d, 17);
    const result = await executeRollback(plan, { journalDir: d.journalDir });

    write(d.dir, 'README.md', 'new work after the rollback\n');
    const files = snapshot(d.dir);
    await rejectsWith(undoRollback(result.journal, { journalDir: d.journalDir }), 'NEW_WORK');
    assert.deepEqual(snapshot(d.dir), files);

    git(d.dir, 'commit', '-q', '-am', 'New work on top');
    const head = git(d.dir, 'rev-parse', 'HEAD');
    const err = await rejectsWith(undoRollback(result.journal, { journalDir: d.journalDir }), 'NEW_WORK');
    assert.ok(err.remedy);
    assert.equal(git(d.dir, 'rev-parse', 'HEAD'), head);
    assert.deepEqual(activeIds(d.db), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
  });

  it('reads the steps for an undo as the store worker reads the database: a step recorded since refuses it, and without one it goes back', async () => {
    const d = demo();
    const plan = await planned(d, 17);
    const result = await executeRollback(plan, { journalDir: d.journalDir });
    const worker = new StoreWorker({ workerPath: path.join(__dirname, '..', '..', 'dist', 'storeWorker.js') });
    try {
      // A step the agent recorded after the rollback, with no commit of its own yet.
      const [[before]] = sqlite(d.db, [], 'SELECT commit_sha_before FROM steps WHERE id = 16') as [[string]];
      sqlite(d.db, [
        `INSERT INTO steps (id, active, commit_sha_before, agent_config_json, start_time, token_usage_json, project_id) ` +
          `SELECT 99, 1, '${before}', agent_config_json, start_time, token_usage_json, project_id FROM steps WHERE id = 16`,
      ]);
      const remote = await worker.open(d.db);
      let asked = 0;
      const store = { fingerprint: remote.fingerprint, projects: () => remote.projects(), step: (id: number) => remote.step(id), stepCount: (p?: string) => remote.stepCount(p), steps: (p: string, o?: { limit?: number }) => (asked++, remote.steps(p, o)) };
      const err = await rejectsWith(undoRollback(result.journal, { journalDir: d.journalDir, store }), 'NEW_WORK');
      assert.equal(asked, 1, 'the steps were read from the worker, not from the file again');
      assert.match(err.message, /1 new step \(S99\) was recorded since the rollback/);
      sqlite(d.db, ['DELETE FROM steps WHERE id = 99']);
      const undone = await undoRollback(result.journal, { journalDir: d.journalDir, store: await worker.open(d.db) });
      assert.equal(undone.journal.phase, 'undone');
      assert.equal(activeIds(d.db).length, 20);
      assert.equal(integrity(d.db), 'ok');
    } finally {
      worker.dispose();
    }
  });

  it('refuses to undo when an untracked file now sits where the old tree has a file', async () => {
    const d = demo();
    const plan = await planned(d, 17);
    const result = await executeRollback(plan, { journalDir: d.journalDir });
    write(d.dir, 'src/commands/export.ts', 'mine now\n');
    await rejectsWith(undoRollback(result.journal, { journalDir: d.journalDir }), 'NEW_WORK');
    assert.equal(fs.readFileSync(path.join(d.dir, 'src/commands/export.ts'), 'utf8'), 'mine now\n');
  });

  it('checks the work tree again right before the reset, and closes the journal of a rollback that changed nothing', async () => {
    const d = demo();
    const head = git(d.dir, 'rev-parse', 'HEAD');
    const plan = await planned(d, 17);
    const edit = (phase: string) => {
      if (phase === 'backed-up') write(d.dir, 'README.md', 'typed while the rollback started\n');
    };
    await rejectsWith(executeRollback(plan, { journalDir: d.journalDir, afterPhase: edit }), 'NEEDS_PROTECTION');
    assert.equal(git(d.dir, 'rev-parse', 'HEAD'), head);
    assert.equal(fs.readFileSync(path.join(d.dir, 'README.md'), 'utf8'), 'typed while the rollback started\n');
    assert.deepEqual(await pendingRollbacks(d.journalDir), []);
    assert.equal(activeIds(d.db).length, 20);
  });

  it('skips files in the journal folder that are not journals', async () => {
    const d = demo();
    fs.mkdirSync(d.journalDir, { recursive: true });
    fs.writeFileSync(path.join(d.journalDir, 'rollback-broken.json'), '{"id": ');
    fs.writeFileSync(path.join(d.journalDir, 'rollback-other.json'), '{"id": "x", "phase": "git-reset"}');
    assert.deepEqual(await pendingRollbacks(d.journalDir), []);
    assert.equal(await lastRollback(d.journalDir), undefined);
    assert.deepEqual(await pendingRollbacks(path.join(d.journalDir, 'missing')), []);
  });

  it('finishes a rollback interrupted right after its stash was made, and undo re-applies that stash', async () => {
    const d = demo();
    write(d.dir, 'README.md', 'edited by hand\n');
    const files = snapshot(d.dir);
    const plan = await planned(d, 17);
    const crash = (phase: string) => {
      if (phase === 'planned') throw new Error('simulated crash');
    };
    await assert.rejects(executeRollback(plan, { journalDir: d.journalDir, protect: true, afterPhase: crash }));
    const [pending] = await pendingRollbacks(d.journalDir);
    assert.equal(pending.phase, 'planned');
    // The stash push the crash interrupted, as git would have left it.
    git(d.dir, 'stash', 'push', '--include-untracked', '-m', `Step History: before rolling back to S17 (${pending.id})`);
    const stash = git(d.dir, 'rev-parse', 'refs/stash');

    const result = await finishRollback(pending, { journalDir: d.journalDir, protect: true });
    assert.equal(result.journal.phase, 'done');
    assert.equal(result.journal.stashCommit, stash);
    assert.equal(git(d.dir, 'rev-parse', result.journal.stashRef!), stash);
    await undoRollback(result.journal, { journalDir: d.journalDir });
    assert.deepEqual(snapshot(d.dir), files);
  });

  it('undoes only finished rollbacks, and finishes nothing already undone', async () => {
    const d = demo();
    const plan = await planned(d, 17);
    await assert.rejects(executeRollback(plan, { journalDir: d.journalDir, afterPhase: (p) => { if (p === 'git-reset') throw new Error('crash'); } }));
    const [pending] = await pendingRollbacks(d.journalDir);
    await rejectsWith(undoRollback(pending, { journalDir: d.journalDir }), 'NOTHING_TO_UNDO');
    const reverted = await revertRollback(pending, { journalDir: d.journalDir });
    await rejectsWith(finishRollback(reverted.journal, { journalDir: d.journalDir }), 'NOTHING_TO_UNDO');
    await rejectsWith(revertRollback(reverted.journal, { journalDir: d.journalDir }), 'NOTHING_TO_UNDO');
  });

  it('refuses while a merge has unresolved conflicts, even with protection', async () => {
    const d = demo();
    const head = git(d.dir, 'rev-parse', 'HEAD');
    git(d.dir, 'checkout', '-q', '-b', 'side', 'HEAD~1');
    write(d.dir, 'README.md', 'side\n');
    git(d.dir, 'commit', '-q', '-am', 'side');
    git(d.dir, 'checkout', '-q', 'main');
    write(d.dir, 'README.md', 'main\n');
    git(d.dir, 'commit', '-q', '-am', 'main');
    assert.ok(!gitOk(d.dir, 'merge', 'side'));
    const files = snapshot(d.dir);
    const plan = await planned(d, 17);
    assert.deepEqual(plan.unstaged.map((e) => [e.path, e.status]), [['README.md', 'unmerged']]);
    const err = await rejectsWith(executeRollback(plan, { journalDir: d.journalDir, protect: true }), 'REFUSED');
    assert.match(err.message, /1 file has unresolved merge conflicts \(README\.md\)/);
    assert.deepEqual(snapshot(d.dir), files);
    assert.notEqual(git(d.dir, 'rev-parse', 'HEAD'), head);
    assert.deepEqual(stepHistoryRefs(d.dir), []);
    assert.deepEqual(await pendingRollbacks(d.journalDir), []);
  });

  it('stops with BRANCH_MOVED when the branch moved between plan and execution', async () => {
    const d = demo();
    const plan = await planned(d, 17);
    git(d.dir, 'commit', '-q', '--allow-empty', '-m', 'moved');
    await rejectsWith(executeRollback(plan, { journalDir: d.journalDir, protect: true }), 'BRANCH_MOVED');
    assert.deepEqual(stepHistoryRefs(d.dir), []);
  });
});
