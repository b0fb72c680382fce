/**
 * The step database survives every rollback, undo, finish and revert, whatever the index and
 * the work tree hold; a leftover WAL is folded in, not refused; the steps' own commits are not
 * foreign. Real repositories, real databases written and checked by python3's sqlite3, and a
 * crash injected at every phase boundary and every file-system step.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  executeRollback,
  finishRollback,
  planRollback,
  readJournals,
  revertRollback,
  undoRollback,
  type ExecuteOptions,
  type RollbackPlan,
} from '../../src/core/rollback';
import { appendDemoStep } from '../fixtures/demoWorkspace';
import { SqliteProcess } from '../fixtures/stepFixtures';
import { allRows, cleanupTempDirs, demo, git, integrity, rejectsWith, snapshot, sqlite, tempDir, write, type Demo } from '../support/rollbackWorkspace';

after(function () {
  this.timeout(120_000);
  cleanupTempDirs();
});

/** The database is no longer ignored: an untracked file in the work tree, as many agents keep it. */
function unignoreDatabase(dir: string): void {
  const exclude = path.join(dir, '.git', 'info', 'exclude');
  const kept = fs.readFileSync(exclude, 'utf8').split('\n').filter((line) => !line.startsWith('steps.db'));
  fs.writeFileSync(exclude, kept.join('\n'));
}

/** git status with the index's object ids, untracked and ignored files; the database's own lines left out. */
function indexState(dir: string): string {
  return git(dir, 'status', '--porcelain=v2', '--untracked-files=all', '--ignored')
    .split('\n')
    .filter((line) => !/\bsteps\.db/.test(line))
    .join('\n');
}

/** The database as real SQLite reads it, from a copy of its files (so that reading changes nothing); null when it is missing. */
function databaseState(db: string): { integrity: unknown; rows: unknown[][] } | null {
  if (!fs.existsSync(db)) return null;
  const copy = path.join(tempDir('db-copy'), 'steps.db');
  for (const suffix of ['', '-wal', '-shm', '-journal']) {
    if (fs.existsSync(db + suffix)) fs.copyFileSync(db + suffix, copy + suffix);
  }
  return { integrity: integrity(copy), rows: allRows(copy) };
}

/** Rows with `active` (the second column) cleared for the rolled-back ids. */
function rolledBack(rows: unknown[][], ids: readonly number[]): unknown[][] {
  return rows.map((r) => (ids.includes(Number(r[0])) ? [r[0], 0, ...r.slice(2)] : r));
}

interface Scenario {
  d: Demo;
  plan: RollbackPlan;
  head: string;
  files: Map<string, string>;
  index: string;
  rows: unknown[][];
  expectedRows: unknown[][];
}

/** Records the state before, plans the rollback to S17 and checks that the plan may go ahead with protection. */
async function prepare(d: Demo): Promise<Scenario> {
  const rows = databaseState(d.db)!.rows;
  const plan = await planRollback(d.target(17), { journalDir: d.journalDir });
  assert.deepEqual(plan.refusals, []);
  assert.ok(plan.needsProtection);
  return {
    d,
    plan,
    head: git(d.dir, 'rev-parse', 'HEAD'),
    files: snapshot(d.dir),
    index: indexState(d.dir),
    rows,
    expectedRows: rolledBack(rows, plan.stepsToDeactivate.map((s) => s.id)),
  };
}

/**
 * Everything at once, in a WAL database left with committed frames by a writer that exited:
 * a staged rename and deletion, an unstaged change, untracked and ignored files, and the
 * database untracked in the work tree.
 */
async function busyWorkTree(): Promise<Scenario> {
  const d = demo('wal');
  appendDemoStep(d.dir, { keepWal: true, now: new Date('2026-03-01T12:20:00Z') });
  assert.ok(fs.statSync(`${d.db}-wal`).size > 32, 'the last step is only in the -wal');
  unignoreDatabase(d.dir);
  git(d.dir, 'mv', 'README.md', 'README.txt');
  git(d.dir, 'rm', '-q', 'CHANGELOG.md');
  write(d.dir, 'src/cli.ts', '// edited by hand, not staged\n');
  write(d.dir, 'notes/todo.txt', 'keep me\n');
  write(d.dir, 'debug.log', 'ignored output\n');
  assert.match(git(d.dir, 'status', '--porcelain', '--untracked-files=all'), /^\?\? steps\.db$/m);
  return prepare(d);
}

/** The database committed into the repository (a commit no step made), with an unstaged change. */
async function trackedDatabase(): Promise<Scenario> {
  const d = demo('finished');
  unignoreDatabase(d.dir);
  git(d.dir, 'add', 'steps.db');
  git(d.dir, 'commit', '-q', '-m', 'Keep the step database in the repository');
  write(d.dir, 'src/cli.ts', '// edited by hand, not staged\n');
  return prepare(d);
}

function assertAsBefore(s: Scenario, when: string): void {
  assert.equal(git(s.d.dir, 'rev-parse', 'HEAD'), s.head, `${when}: HEAD`);
  assert.deepEqual(snapshot(s.d.dir), s.files, `${when}: every file byte for byte`);
  assert.equal(indexState(s.d.dir), s.index, `${when}: index, untracked and ignored files`);
  assert.equal(integrity(s.d.db), 'ok', `${when}: integrity_check`);
  assert.deepEqual(allRows(s.d.db), s.rows, `${when}: every row`);
}

function assertRolledBack(s: Scenario, when: string): void {
  assert.equal(git(s.d.dir, 'rev-parse', 'HEAD'), s.plan.resetTo, `${when}: HEAD`);
  assert.equal(integrity(s.d.db), 'ok', `${when}: integrity_check`);
  assert.deepEqual(allRows(s.d.db), s.expectedRows, `${when}: every row`);
}

/** Right after a crash the database reads as before or as after, never anything else; missing only while a kept copy exists. */
async function assertOldOrNew(s: Scenario, when: string): Promise<void> {
  const state = databaseState(s.d.db);
  if (state === null) {
    const journals = await readJournals(s.d.journalDir);
    const kept = journals.flatMap((j) => [...(j.kept ?? []), ...(j.restoring?.kept ?? [])]).find((k) => k.path === s.d.db);
    assert.ok(kept && fs.existsSync(kept.copy), `${when}: the database is missing and no copy of it is kept`);
    return;
  }
  assert.equal(state.integrity, 'ok', `${when}: integrity_check`);
  const same = (rows: unknown[][]) => JSON.stringify(rows) === JSON.stringify(state.rows);
  assert.ok(same(s.rows) || same(s.expectedRows), `${when}: the database is neither the old one nor the new one`);
}

function noDatabaseInStashes(dir: string): void {
  const stashes = git(dir, 'for-each-ref', '--format=%(objectname)', 'refs/step-history/stash/').split('\n').filter(Boolean);
  for (const stash of stashes) {
    const untracked = git(dir, 'log', '-1', '--format=%P', stash).split(' ').length >= 3 ? git(dir, 'ls-tree', '-r', '--name-only', `${stash}^3`) : '';
    assert.doesNotMatch(untracked, /steps\.db/, 'the stash took the database as an untracked file');
    assert.doesNotMatch(git(dir, 'diff', '--name-only', `${stash}^1`, stash), /steps\.db/, 'the stash took a change of the database');
  }
}

const crashAt = (point: string) => (step: string) => {
  if (step === point) throw new Error(`simulated crash at ${point}`);
};

/** Options that stop a rollback or undo at `point`: a step name, or `phase:<phase>` once that phase is journaled. */
function crashOptions(point: string): Pick<ExecuteOptions, 'onStep' | 'afterPhase'> {
  const crash = crashAt(point);
  return { onStep: crash, afterPhase: (phase) => crash(`phase:${phase}`) };
}

/** Every phase and file-system step a clean rollback and undo of `make()` pass through, in order. */
async function stepsOf(make: () => Promise<Scenario>): Promise<{ rollback: string[]; undo: string[] }> {
  const s = await make();
  const rollback: string[] = [];
  const undo: string[] = [];
  const result = await executeRollback(s.plan, { journalDir: s.d.journalDir, protect: true, onStep: (p) => void rollback.push(p), afterPhase: (p) => void rollback.push(`phase:${p}`) });
  assertRolledBack(s, 'clean rollback');
  noDatabaseInStashes(s.d.dir);
  await undoRollback(result.journal, { journalDir: s.d.journalDir, onStep: (p) => void undo.push(p) });
  assertAsBefore(s, 'clean undo');
  return { rollback, undo };
}

function faultMatrix(name: string, make: () => Promise<Scenario>, mustPass: { rollback: string[]; undo: string[] }): void {
  describe(`a crash at each step of a rollback and its undo: ${name}`, function () {
    this.timeout(600_000);

    it('passes through every step named, losing nothing; finished or reverted from any of them, nothing is lost', async () => {
      const steps = await stepsOf(make);
      for (const p of mustPass.rollback) assert.ok(steps.rollback.includes(p), `the rollback never reached ${p}: ${steps.rollback.join(', ')}`);
      for (const p of mustPass.undo) assert.ok(steps.undo.includes(p), `the undo never reached ${p}: ${steps.undo.join(', ')}`);

      for (const point of steps.rollback) {
        for (const recovery of ['finish', 'revert'] as const) {
          const when = `crash at ${point}, then ${recovery}`;
          const s = await make();
          const options: ExecuteOptions = { journalDir: s.d.journalDir, protect: true, ...crashOptions(point) };
          await assert.rejects(executeRollback(s.plan, options), /simulated crash/, when);
          await assertOldOrNew(s, when);
          noDatabaseInStashes(s.d.dir);
          const journal = (await readJournals(s.d.journalDir))[0];
          if (journal.phase === 'undone') {
            assertAsBefore(s, `${when}: closed before changing anything`);
            s.d.dispose();
            continue;
          }
          const again = { journalDir: s.d.journalDir, protect: true };
          if (recovery === 'finish') {
            const done = journal.phase === 'done' ? { journal } : await finishRollback(journal, again);
            assertRolledBack(s, when);
            await undoRollback(done.journal, again);
          } else if (journal.phase === 'done') {
            await undoRollback(journal, again);
          } else {
            await revertRollback(journal, again);
          }
          assertAsBefore(s, when);
          s.d.dispose();
        }
      }

      for (const point of steps.undo) {
        const when = `crash at ${point} of the undo, then undo again`;
        const s = await make();
        const result = await executeRollback(s.plan, { journalDir: s.d.journalDir, protect: true });
        await assert.rejects(undoRollback(result.journal, { journalDir: s.d.journalDir, onStep: crashAt(point) }), /simulated crash/, when);
        await assertOldOrNew(s, when);
        await undoRollback(result.journal, { journalDir: s.d.journalDir });
        assertAsBefore(s, when);
        s.d.dispose();
      }
    });
  });
}

faultMatrix('staged rename and deletion, unstaged, untracked and ignored files, the database untracked with a leftover WAL', busyWorkTree, {
  rollback: ['stash-pushed', 'branch-reset', 'wal-kept', 'wal-folded', 'wal-removed', 'database-temp-written', 'database-replaced', 'phase:git-reset'],
  undo: ['undo-branch-reset', 'undo-stash-applied', 'database-replaced'],
});

faultMatrix('the database tracked by git', trackedDatabase, {
  rollback: ['stash-pushed', 'files-kept', 'branch-reset', 'files-restored', 'database-temp-written', 'database-replaced'],
  undo: ['undo-files-kept', 'undo-branch-reset', 'undo-files-restored', 'database-replaced'],
});

describe('the step database inside the work tree', function () {
  this.timeout(120_000);

  for (const [name, change] of [
    ['a staged rename (git mv)', (dir: string) => git(dir, 'mv', 'README.md', 'README.txt')],
    ['a staged deletion (git rm)', (dir: string) => git(dir, 'rm', '-q', 'CHANGELOG.md')],
  ] as const) {
    it(`stays in place through Keep My Work Safe and Roll Back with ${name}, and undo brings back every file`, async () => {
      const d = demo();
      unignoreDatabase(d.dir);
      change(d.dir);
      write(d.dir, 'notes/todo.txt', 'keep me\n');
      const s = await prepare(d);
      const result = await executeRollback(s.plan, { journalDir: d.journalDir, protect: true });
      assert.ok(result.journal.stashRef, 'the work was stashed');
      assert.ok(fs.existsSync(d.db), 'the database is where it was');
      assertRolledBack(s, 'after the rollback');
      noDatabaseInStashes(d.dir);
      assert.match(git(d.dir, 'status', '--porcelain', '--untracked-files=all'), /^\?\? steps\.db$/m);
      await undoRollback(result.journal, { journalDir: d.journalDir });
      assertAsBefore(s, 'after the undo');
    });
  }

  it('keeps a tracked database\'s current bytes through the reset, and does not list it as a change or as work to keep', async () => {
    const s = await trackedDatabase();
    assert.deepEqual(s.plan.protectedKept, ['steps.db']);
    assert.ok(!s.plan.filesToChange.some((f) => f.path === 'steps.db'));
    assert.ok(![...s.plan.staged, ...s.plan.unstaged].some((e) => e.path === 'steps.db'));
    const result = await executeRollback(s.plan, { journalDir: s.d.journalDir, protect: true });
    assert.equal(result.journal.kept?.length, 1);
    assertRolledBack(s, 'after the rollback');
    await undoRollback(result.journal, { journalDir: s.d.journalDir });
    assertAsBefore(s, 'after the undo');
  });

  it('never lists the database, its sidecar files or the journal folder as work at risk', async () => {
    const d = demo();
    unignoreDatabase(d.dir);
    fs.writeFileSync(`${d.db}-journal`, Buffer.alloc(0));
    const journalDir = path.join(d.dir, '.step-history');
    write(journalDir, 'rollback-x.json', '{}');
    const plan = await planRollback(d.target(17), { journalDir });
    assert.deepEqual(plan.refusals, []);
    assert.deepEqual(plan.untrackedKept, []);
    assert.equal(plan.needsProtection, false);
    assert.deepEqual(plan.protectedPaths, ['steps.db', 'steps.db-wal', 'steps.db-shm', 'steps.db-journal', '.step-history']);
  });

  it('puts back a database that an earlier version stashed with the work, so that Finish completes', async () => {
    const d = demo();
    unignoreDatabase(d.dir);
    write(d.dir, 'README.md', 'edited by hand\n');
    const s = await prepare(d);
    await assert.rejects(executeRollback(s.plan, { journalDir: d.journalDir, protect: true, ...crashOptions('phase:git-reset') }));
    // What an earlier version left: the database only in the stash the journal names, gone from the work tree.
    const [journal] = await readJournals(d.journalDir);
    git(d.dir, 'stash', 'push', '--include-untracked', '-m', 'an earlier stash', '--', 'steps.db');
    assert.ok(!fs.existsSync(d.db));
    const stash = git(d.dir, 'rev-parse', 'refs/stash');
    git(d.dir, 'update-ref', journal.stashRef!, stash);
    const journalPath = path.join(d.journalDir, `rollback-${journal.id}.json`);
    fs.writeFileSync(journalPath, JSON.stringify({ ...journal, stashCommit: stash }));

    await finishRollback({ ...journal, stashCommit: stash }, { journalDir: d.journalDir, protect: true });
    assertRolledBack(s, 'after finishing');
  });

  it('says where the database was when it is gone and nothing kept it', async () => {
    const d = demo();
    const plan = await planRollback(d.target(17), { journalDir: d.journalDir });
    await assert.rejects(executeRollback(plan, { journalDir: d.journalDir, ...crashOptions('phase:git-reset') }));
    const [journal] = await readJournals(d.journalDir);
    fs.rmSync(d.db);
    const err = await rejectsWith(finishRollback(journal, { journalDir: d.journalDir }), 'DATABASE_MISSING');
    assert.ok(err.message.includes(d.db));
    const reverted = await revertRollback(journal, { journalDir: d.journalDir }).catch((e: Error) => e);
    assert.ok(reverted instanceof Error && /DATABASE_MISSING|is missing/.test(`${(reverted as { code?: string }).code} ${reverted.message}`));
  });
});

describe('a leftover write-ahead log', function () {
  this.timeout(120_000);

  it('is folded into the database when no program holds it: real SQLite sees every row, and the log\'s bytes are kept', async () => {
    const d = demo('wal');
    appendDemoStep(d.dir, { keepWal: true, now: new Date('2026-03-01T12:20:00Z') });
    const wal = fs.readFileSync(`${d.db}-wal`);
    const rows = databaseState(d.db)!.rows;
    assert.equal(rows.length, 24, 'S24 is only in the -wal');
    const plan = await planRollback(d.target(17), { journalDir: d.journalDir });
    assert.deepEqual(plan.refusals, []);
    const result = await executeRollback(plan, { journalDir: d.journalDir });
    assert.ok(!fs.existsSync(`${d.db}-wal`) || fs.statSync(`${d.db}-wal`).size === 0);
    assert.equal(integrity(d.db), 'ok');
    assert.deepEqual(allRows(d.db), rolledBack(rows, plan.stepsToDeactivate.map((s) => s.id)));
    assert.equal(sqlite(d.db, [], 'PRAGMA journal_mode')[0][0], 'wal');
    const kept = result.journal.keptWal ?? [];
    assert.equal(kept.length, 1);
    assert.ok(fs.readFileSync(kept[0].copy).equals(wal), 'the -wal is kept byte for byte');
  });

  it('where holders cannot be known, refuses with the choice stated, and goes ahead when the user takes it', async () => {
    const d = demo('wal');
    appendDemoStep(d.dir, { keepWal: true, now: new Date('2026-03-01T12:20:00Z') });
    const rows = databaseState(d.db)!.rows;
    const unknown = () => null;
    const plan = await planRollback(d.target(17), { journalDir: d.journalDir, holders: unknown });
    assert.deepEqual(plan.refusals.map((r) => r.code), ['DATABASE_WAL_UNKNOWN']);
    await rejectsWith(executeRollback(plan, { journalDir: d.journalDir, holders: unknown }), 'REFUSED');
    assert.deepEqual(databaseState(d.db)!.rows, rows);
    const result = await executeRollback(plan, { journalDir: d.journalDir, holders: unknown, assumeNoWriter: true });
    assert.equal(integrity(d.db), 'ok');
    assert.deepEqual(allRows(d.db), rolledBack(rows, plan.stepsToDeactivate.map((s) => s.id)));
    await undoRollback(result.journal, { journalDir: d.journalDir, holders: unknown });
    assert.deepEqual(allRows(d.db), rows);
  });

  it('is refused while a real sqlite3 process holds the database open, naming it', async () => {
    const d = demo('wal');
    const conn = new SqliteProcess(d.db);
    try {
      await conn.exec('UPDATE steps SET duration_ms = duration_ms + 1 WHERE id = 1');
      assert.ok(fs.statSync(`${d.db}-wal`).size > 32);
      const plan = await planRollback(d.target(17), { journalDir: d.journalDir });
      assert.deepEqual(plan.refusals.map((r) => r.code), ['DATABASE_BUSY']);
      assert.match(plan.refusals[0].message, /another program has it open: \S+ \(pid \d+\)/);
    } finally {
      await conn.close().catch(() => conn.kill());
    }
  });
});

describe("the steps' own commits, as LaForge records them today", function () {
  this.timeout(120_000);

  it('counts commits with a Step-id note of a step in the range, and Automerge merges of them, as the steps\' own; only a person\'s commit is foreign', async () => {
    const d = demo();
    // LaForge today: the real commit carries a note, and the database says after = before.
    const made = sqlite(d.db, [], "SELECT id, commit_sha_after FROM steps WHERE id >= 17 AND commit_sha_after != '' ORDER BY id");
    assert.ok(made.length >= 5);
    for (const [id, sha] of made) git(d.dir, 'notes', 'add', '-f', '-m', `Step-id: S${id}`, String(sha));
    sqlite(d.db, ['UPDATE steps SET commit_sha_after = commit_sha_before']);

    // A person commits on the branch while S24 runs on its own branch; S24 merges in with a real merge.
    const lease = git(d.dir, 'rev-parse', 'HEAD');
    write(d.dir, 'HANDMADE.md', 'made by hand\n');
    git(d.dir, 'add', 'HANDMADE.md');
    git(d.dir, 'commit', '-q', '-m', 'A commit made by hand');
    const person = git(d.dir, 'rev-parse', 'HEAD');
    git(d.dir, 'checkout', '-q', '-b', 'step-S24', lease);
    write(d.dir, 'notes/step-24.md', 'S24\n');
    git(d.dir, 'add', 'notes/step-24.md');
    git(d.dir, 'commit', '-q', '-m', 'Write the notes of step 24');
    git(d.dir, 'notes', 'add', '-m', 'Step-id: S24', 'HEAD');
    git(d.dir, 'checkout', '-q', 'main');
    git(d.dir, 'merge', '-q', '--no-ff', '-m', 'Automerge step-S24 into main', 'step-S24');
    git(d.dir, 'branch', '-q', '-D', 'step-S24');
    sqlite(d.db, [
      `INSERT INTO steps (id, commit_sha_before, commit_sha_after, agent_config_json, start_time, end_time, duration_ms, exit_code, project_id, parent_step_id)
       VALUES (24, '${lease}', '${lease}', '{}', '2026-03-01 12:30:00', '2026-03-01 12:31:00', 60000, 0, 'ledgerline', 23)`,
    ]);

    const plan = await planRollback(d.target(17), { journalDir: d.journalDir });
    assert.deepEqual(plan.refusals, []);
    assert.deepEqual(plan.foreignCommits.map((c) => c.sha), [person], plan.foreignCommits.map((c) => c.subject).join('; '));

    // Rolling back S24 alone: its commit and its merge are its own, the person's commit (made after S24 began) is not.
    const onlyS24 = await planRollback(d.target(24), { journalDir: d.journalDir });
    assert.deepEqual(onlyS24.foreignCommits.map((c) => c.sha), [person]);
    assert.equal(onlyS24.stepsToDeactivate.length, 1);
  });
});
