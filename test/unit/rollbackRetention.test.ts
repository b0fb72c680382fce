/**
 * How long kept rollback states live, on real repositories and real step databases (the demo
 * workspace), in temp folders removed afterwards: pruning by count and by age, what undo and
 * revert release, listing and deleting chosen states.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  executeRollback,
  finishRollback,
  lastRollback,
  pendingRollbacks,
  planRollback,
  readJournals,
  revertRollback,
  undoRollback,
  type RollbackJournal,
} from '../../src/core/rollback';
import {
  deleteKeptStates,
  listKeptStates,
  normalizePolicy,
  pruneKeptStates,
  releaseRollbackStates,
  rollbackIdTime,
  selectForPruning,
  type KeptState,
} from '../../src/core/rollbackRetention';
import { cleanupTempDirs, demo as demoOf, git, snapshot, tempDir, write, type Demo } from '../support/rollbackWorkspace';

const demo = (journalDir?: string) => demoOf('finished', { journalDir });

const DAY = 24 * 60 * 60 * 1000;

const refsOf = (dir: string) => git(dir, 'for-each-ref', '--format=%(refname)', 'refs/step-history/').split('\n').filter(Boolean).sort();
const stashList = (dir: string) => git(dir, 'stash', 'list', '--format=%H').split('\n').filter(Boolean);
const journalIds = (journalDir: string) =>
  (fs.existsSync(journalDir) ? fs.readdirSync(journalDir) : []).map((f) => /^rollback-(.+)\.json$/.exec(f)?.[1]).filter((id): id is string => !!id).sort();

/** A rollback id for `time`, as Step History makes them. */
const idAt = (time: Date, suffix = 'a1b2c3') => `${time.toISOString().replace(/[-:.]/g, '')}-${suffix}`;


/** Rolls back to `stepId`; with `edit`, README.md is changed first so that the rollback keeps it in a stash. */
async function rollBack(d: Demo, stepId: number, options: { edit?: boolean; crashAt?: string } = {}): Promise<RollbackJournal> {
  if (options.edit) write(d.dir, 'README.md', `edited before rolling back to S${stepId}\n`);
  const plan = await planRollback(d.target(stepId));
  assert.deepEqual(plan.refusals, []);
  const afterPhase = (phase: string) => {
    if (phase === options.crashAt) throw new Error('simulated crash');
  };
  if (options.crashAt) {
    await assert.rejects(executeRollback(plan, { journalDir: d.journalDir, protect: true, afterPhase }), /simulated crash/);
    const pending = (await pendingRollbacks(d.journalDir)).find((j) => j.target.stepId === stepId);
    assert.ok(pending);
    return pending;
  }
  const result = await executeRollback(plan, { journalDir: d.journalDir, protect: true });
  assert.equal(result.journal.phase, 'done');
  return result.journal;
}

/** The refs a rollback made, as they should be while it is kept. */
const refsOfRollback = (j: RollbackJournal) => [j.backupRef, ...(j.stashRef ? [j.stashRef] : [])];

after(function () {
  this.timeout(120_000);
  cleanupTempDirs();
});

describe('selectForPruning and the policy', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const r = (id: string, daysAgo: number, neededFor: 'finish' | 'undo' | null = null, repositoryRoot = '/repo') => ({
    rollbackId: id,
    repositoryRoot,
    time: new Date(now.getTime() - daysAgo * DAY),
    neededFor,
  });

  it('keeps the newest keepCount of each repository and anything younger than keepDays', () => {
    const rollbacks = [r('a', 1), r('b', 40), r('c', 50), r('d', 60), r('e', 45, null, '/other'), r('f', 70, null, '/other')];
    const ids = (policy: { keepCount: number; keepDays: number }) => selectForPruning(rollbacks, policy, now).map((x) => x.rollbackId);
    assert.deepEqual(ids({ keepCount: 2, keepDays: 30 }), ['c', 'd']);
    assert.deepEqual(ids({ keepCount: 1, keepDays: 30 }), ['b', 'c', 'd', 'f']);
    assert.deepEqual(ids({ keepCount: 0, keepDays: 55 }), ['d', 'f']);
    assert.deepEqual(ids({ keepCount: 10, keepDays: 0 }), []);
    assert.deepEqual(ids({ keepCount: 0, keepDays: 0 }), ['a', 'b', 'e', 'c', 'd', 'f']);
  });

  it('never selects a rollback that Finish, Revert or Undo needs, however old', () => {
    const rollbacks = [r('new', 0), r('unfinished', 400, 'finish'), r('undoable', 300, 'undo'), r('old', 300)];
    assert.deepEqual(
      selectForPruning(rollbacks, { keepCount: 0, keepDays: 0 }, now).map((x) => x.rollbackId),
      ['new', 'old'],
    );
  });

  it('counts needed rollbacks among the newest kept', () => {
    // The unfinished one is the newest: with keepCount 1 it takes the place.
    const rollbacks = [r('unfinished', 40, 'finish'), r('older', 41)];
    assert.deepEqual(selectForPruning(rollbacks, { keepCount: 1, keepDays: 30 }, now).map((x) => x.rollbackId), ['older']);
  });

  it('takes whole numbers of at least 0, and the defaults for anything else', () => {
    assert.deepEqual(normalizePolicy(undefined), { keepCount: 20, keepDays: 30 });
    assert.deepEqual(normalizePolicy({ keepCount: -3, keepDays: 2.7 }), { keepCount: 0, keepDays: 2 });
    assert.deepEqual(normalizePolicy({ keepCount: Number.NaN, keepDays: '9' as unknown as number }), { keepCount: 20, keepDays: 30 });
  });

  it('reads the time in a rollback id', () => {
    assert.equal(rollbackIdTime('20260101T120000123Z-1a2b3c')?.toISOString(), '2026-01-01T12:00:00.123Z');
    assert.equal(rollbackIdTime(idAt(new Date('2025-07-04T03:02:01.009Z')))?.toISOString(), '2025-07-04T03:02:01.009Z');
    assert.equal(rollbackIdTime('my-own-backup'), null);
    assert.equal(rollbackIdTime('20261399T250000000Z-x'), null);
  });
});

describe('pruneKeptStates', function () {
  this.timeout(120_000);

  it('prunes by count: the oldest finished rollbacks go, the newest undoable and an unfinished one stay and still work', async () => {
    const d = demo();
    // The user's own stash, older than every rollback: never touched.
    write(d.dir, 'CHANGELOG.md', 'my own change\n');
    git(d.dir, 'stash', 'push', '-q', '-m', 'mine');
    const mine = git(d.dir, 'rev-parse', 'refs/stash');

    const a = await rollBack(d, 23, { edit: true });
    const b = await rollBack(d, 22, { edit: true });
    write(d.dir, 'README.md', 'edited before rolling back to S21\n');
    const editedC = snapshot(d.dir);
    const c = await rollBack(d, 21);
    write(d.dir, 'README.md', 'edited before rolling back to S20\n');
    const editedD = snapshot(d.dir);
    const unfinished = await rollBack(d, 20, { crashAt: 'git-reset' });
    for (const j of [a, b, c]) assert.ok(j.stashRef && j.stashCommit);
    assert.ok(unfinished.stashCommit);
    assert.equal(stashList(d.dir).length, 5);

    const lines: string[] = [];
    const log = { trace() {}, debug() {}, info: (m: string) => void lines.push(m), warn: (m: string) => void lines.push(`WARN ${m}`), error() {} };
    const result = await pruneKeptStates({ journalDir: d.journalDir, repositories: [d.dir], policy: { keepCount: 1, keepDays: 0 }, log });

    assert.deepEqual(result.failures, []);
    assert.deepEqual(
      result.removed.map((s) => `${s.rollbackId} ${s.kind}`).sort(),
      [a, b].flatMap((j) => [`${j.id} journal`, `${j.id} backup`, `${j.id} stash`]).sort(),
    );
    assert.equal(result.keptRollbacks, 2);
    assert.equal(result.keptNeeded, 2);
    assert.deepEqual(refsOf(d.dir), [...refsOfRollback(c), ...refsOfRollback(unfinished)].sort());
    assert.deepEqual(stashList(d.dir), [unfinished.stashCommit, c.stashCommit, mine]);
    assert.deepEqual(journalIds(d.journalDir), [c.id, unfinished.id].sort());
    const summary = lines.filter((l) => l.startsWith('[retention] pruned'));
    assert.equal(summary.length, 1, lines.join('\n'));
    assert.match(summary[0], /^\[retention\] pruned 2 journals, 2 backup refs, 2 stashes \(2 stash entries\) of 2 rollbacks \(keeping the newest 1 per repository and any younger than 0 days\); kept 2 rollbacks, 2 of them needed to finish, revert or undo$/);

    // Pruning again removes nothing more.
    assert.deepEqual((await pruneKeptStates({ journalDir: d.journalDir, repositories: [d.dir], policy: { keepCount: 0, keepDays: 0 } })).removed, []);

    // The unfinished rollback can still be finished, then undone; and then the one before it.
    const [pending] = await pendingRollbacks(d.journalDir);
    assert.equal(pending.id, unfinished.id);
    await finishRollback(pending, { journalDir: d.journalDir, protect: true });
    await undoRollback((await lastRollback(d.journalDir))!, { journalDir: d.journalDir });
    assert.deepEqual(snapshot(d.dir), editedD);
    // The work kept before S21's rollback is in README.md again; it goes back into a stash for the next undo.
    assert.equal(fs.readFileSync(path.join(d.dir, 'README.md'), 'utf8'), 'edited before rolling back to S20\n');
    git(d.dir, 'checkout', '-q', '--', 'README.md');
    const last = await lastRollback(d.journalDir);
    assert.equal(last?.id, c.id);
    await undoRollback(last!, { journalDir: d.journalDir });
    assert.deepEqual(snapshot(d.dir), editedC);
    assert.deepEqual(refsOf(d.dir), []);
    assert.deepEqual(stashList(d.dir), [mine]);
  });

  it('prunes by age: old states that nothing needs go, the newest undoable stays however old, young orphans stay', async () => {
    const d = demo();
    const a = await rollBack(d, 23);
    const b = await rollBack(d, 22);
    const c = await rollBack(d, 21);
    await undoRollback(c, { journalDir: d.journalDir });
    // c is undone: only its journal is left.
    assert.deepEqual(refsOf(d.dir), [a.backupRef, b.backupRef].sort());
    const later = new Date(Date.now() + 40 * DAY);
    const oldOrphan = `refs/step-history/backup/${idAt(new Date(later.getTime() - 45 * DAY))}`;
    const youngOrphan = `refs/step-history/stash/${idAt(new Date(later.getTime() - 2 * DAY), 'd4e5f6')}`;
    git(d.dir, 'update-ref', oldOrphan, 'HEAD~1');
    git(d.dir, 'update-ref', youngOrphan, 'HEAD~2');
    const scope = { journalDir: d.journalDir, repositories: [d.dir], policy: { keepCount: 0, keepDays: 30 } };

    // Today everything is younger than 30 days.
    assert.deepEqual((await pruneKeptStates(scope)).removed, []);
    assert.equal(refsOf(d.dir).length, 4);

    // 40 days later: a (finished, not the newest), c's journal and the old orphan go; b is the one Undo needs.
    const result = await pruneKeptStates({ ...scope, now: later });
    assert.deepEqual(result.failures, []);
    assert.deepEqual(
      result.removed.map((s) => `${s.rollbackId} ${s.kind}`).sort(),
      [`${a.id} journal`, `${a.id} backup`, `${c.id} journal`, `${oldOrphan.split('/').pop()} backup`].sort(),
    );
    assert.deepEqual(refsOf(d.dir), [b.backupRef, youngOrphan].sort());
    assert.deepEqual(journalIds(d.journalDir), [b.id]);
    assert.equal((await lastRollback(d.journalDir))?.id, b.id);
    await undoRollback(b, { journalDir: d.journalDir });
    assert.deepEqual(refsOf(d.dir), [youngOrphan]);
  });

  it('leaves alone the journals of repositories outside its scope, folders that are not repositories and a missing journal folder', async () => {
    const shared = tempDir('shared-journals');
    const inside = demo(shared);
    const outside = demo(shared);
    const older = await rollBack(outside, 23);
    await rollBack(outside, 22);
    const mine = await rollBack(inside, 23);
    const plain = tempDir('plain');
    const result = await pruneKeptStates({ journalDir: shared, repositories: [inside.dir, plain], policy: { keepCount: 0, keepDays: 0 } });
    assert.deepEqual(result.removed, []);
    assert.equal(result.keptRollbacks, 1);
    assert.deepEqual(refsOf(inside.dir), [mine.backupRef]);
    assert.equal(journalIds(shared).length, 3);

    // In its own scope, the older rollback of the other repository goes.
    const theirs = await pruneKeptStates({ journalDir: shared, repositories: [outside.dir], policy: { keepCount: 0, keepDays: 0 } });
    assert.deepEqual(theirs.removed.map((s) => `${s.rollbackId} ${s.kind}`).sort(), [`${older.id} backup`, `${older.id} journal`]);
    assert.equal(journalIds(shared).length, 2);

    const none = await pruneKeptStates({ journalDir: path.join(shared, 'missing'), repositories: [plain, path.join(plain, 'gone')], policy: {} });
    assert.deepEqual([none.removed, none.keptRollbacks], [[], 0]);
  });
});

describe('undo and revert release what they used', function () {
  this.timeout(120_000);

  it('undo deletes the backup ref, the stash ref and its stash entry (and only that one), and marks the journal undone', async () => {
    const d = demo();
    write(d.dir, 'CHANGELOG.md', 'older stash\n');
    git(d.dir, 'stash', 'push', '-q', '-m', 'mine, before');
    const before = git(d.dir, 'rev-parse', 'refs/stash');
    const j = await rollBack(d, 21, { edit: true });
    // Another stash on top, so that the rollback's entry is stash@{1}.
    write(d.dir, 'README.md', 'newer stash\n');
    git(d.dir, 'stash', 'push', '-q', '-m', 'mine, after');
    const afterwards = git(d.dir, 'rev-parse', 'refs/stash');
    assert.deepEqual(stashList(d.dir), [afterwards, j.stashCommit, before]);
    assert.deepEqual(refsOf(d.dir), refsOfRollback(j).sort());

    const result = await undoRollback(j, { journalDir: d.journalDir });
    assert.deepEqual(result.warnings, []);
    assert.equal(fs.readFileSync(path.join(d.dir, 'README.md'), 'utf8'), 'edited before rolling back to S21\n');
    assert.deepEqual(refsOf(d.dir), []);
    assert.deepEqual(stashList(d.dir), [afterwards, before]);
    const journals = await readJournals(d.journalDir);
    assert.deepEqual(journals.map((x) => [x.id, x.phase]), [[j.id, 'undone']]);
    // What is left is the journal, which nothing needs any more.
    const states = await listKeptStates({ journalDir: d.journalDir, repositories: [d.dir] });
    assert.deepEqual(states.map((s) => [s.kind, s.neededFor]), [['journal', null]]);
  });

  it('revert of a rollback stopped half-way deletes its refs and its stash entry', async () => {
    const d = demo();
    write(d.dir, 'README.md', 'mine\n');
    const files = snapshot(d.dir);
    const j = await rollBack(d, 19, { crashAt: 'git-reset' });
    assert.ok(j.stashCommit);
    await revertRollback(j, { journalDir: d.journalDir });
    assert.deepEqual(snapshot(d.dir), files);
    assert.deepEqual(refsOf(d.dir), []);
    assert.deepEqual(stashList(d.dir), []);
    assert.deepEqual((await readJournals(d.journalDir)).map((x) => x.phase), ['undone']);
  });

  it('keeps the stash when it did not apply cleanly, since it is then the only copy of that work', async () => {
    const d = demo();
    const j = await rollBack(d, 23, { edit: true });
    // What the stash ref names is now a stash that conflicts with the tree undo goes back to.
    const changed = git(d.dir, 'diff', '--name-only', j.resetTo, j.oldHead).split('\n').filter(Boolean)[0];
    write(d.dir, changed, 'conflicting work\n');
    git(d.dir, 'add', changed);
    git(d.dir, 'stash', 'push', '-q', '-m', 'conflicting');
    const conflicting = git(d.dir, 'rev-parse', 'refs/stash');
    git(d.dir, 'update-ref', j.stashRef!, conflicting);
    const result = await undoRollback(j, { journalDir: d.journalDir });
    assert.equal(result.warnings.length, 1, result.message);
    assert.deepEqual(refsOf(d.dir), [j.stashRef]);
    assert.equal(git(d.dir, 'rev-parse', j.stashRef!), conflicting);
    assert.deepEqual(stashList(d.dir), [conflicting, j.stashCommit]);
  });

  it('releases nothing for a journal that is not undone, and never throws', async () => {
    const d = demo();
    const j = await rollBack(d, 23, { edit: true });
    assert.deepEqual((await releaseRollbackStates(j)).released, []);
    assert.deepEqual(refsOf(d.dir), refsOfRollback(j).sort());
    const warnings: string[] = [];
    const log = { trace() {}, debug() {}, info() {}, warn: (m: string) => void warnings.push(m), error() {} };
    const gone = { ...j, phase: 'undone' as const, target: { ...j.target, repositoryPath: path.join(d.dir, 'no-such-folder') } };
    assert.deepEqual((await releaseRollbackStates(gone, { log })).released, []);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /could not remove what the undo of/);
  });
});

describe('listKeptStates and deleteKeptStates', function () {
  this.timeout(120_000);

  it('lists each rollback\'s journal, backup ref and stash, newest first, with their times, steps and sizes, and orphan refs', async () => {
    const d = demo();
    const a = await rollBack(d, 23);
    write(d.dir, 'README.md', 'unstaged\n');
    write(d.dir, 'src/cli.ts', '// staged\n');
    git(d.dir, 'add', 'src/cli.ts');
    const b = await rollBack(d, 21);
    const orphanTime = new Date('2025-12-24T18:00:00.000Z');
    const orphan = `refs/step-history/backup/${idAt(orphanTime)}`;
    git(d.dir, 'update-ref', orphan, a.oldHead);

    const states = await listKeptStates({ journalDir: d.journalDir, repositories: [d.dir], sizes: true });
    const root = git(d.dir, 'rev-parse', '--show-toplevel');
    assert.deepEqual(
      states.map((s) => [s.kind, s.rollbackId, s.neededFor, s.stepLabel]),
      [
        ['journal', b.id, 'undo', 'S21'],
        ['backup', b.id, 'undo', 'S21'],
        ['stash', b.id, 'undo', 'S21'],
        ['journal', a.id, null, 'S23'],
        ['backup', a.id, null, 'S23'],
        ['backup', idAt(orphanTime), null, null],
      ],
    );
    for (const s of states) assert.equal(s.repositoryRoot, root);
    const [bJournal, bBackup, bStash, aJournal, aBackup, orphanBackup] = states;
    assert.equal(bJournal.time.toISOString(), b.createdAt);
    assert.equal(aJournal.time.toISOString(), a.createdAt);
    assert.equal(orphanBackup.time.toISOString(), orphanTime.toISOString());
    assert.equal(orphanBackup.journal, null);
    assert.ok(bJournal.kind === 'journal' && bJournal.bytes === fs.statSync(path.join(d.journalDir, `rollback-${b.id}.json`)).size);
    assert.deepEqual(bJournal.journal?.stepIds, [21, 22]);
    // Commits only each backup ref keeps: S21's and S22's for b; those and S23's for a, which the orphan also reaches.
    const onNoBranch = (ref: string) => Number(git(d.dir, 'rev-list', '--count', ref, '--not', '--branches', '--tags', '--remotes'));
    assert.ok(bBackup.kind === 'backup' && aBackup.kind === 'backup' && orphanBackup.kind === 'backup');
    assert.equal(bBackup.commitsOnNoBranch, onNoBranch(b.backupRef));
    assert.equal(aBackup.commitsOnNoBranch, onNoBranch(a.backupRef));
    assert.equal(orphanBackup.commitsOnNoBranch, aBackup.commitsOnNoBranch);
    assert.deepEqual([bBackup.commitsOnNoBranch, aBackup.commitsOnNoBranch], [2, 3]);
    assert.ok(bStash.kind === 'stash');
    assert.deepEqual([bStash.ref, bStash.commit, bStash.stashIndex, bStash.files], [b.stashRef, b.stashCommit, 0, 2]);

    // Without sizes, no git process per state.
    const quick = await listKeptStates({ journalDir: d.journalDir, repositories: [d.dir] });
    assert.equal(quick.length, 6);
    assert.ok(quick.every((s) => (s.kind === 'backup' ? s.commitsOnNoBranch === undefined : s.kind === 'stash' ? s.files === undefined : true)));
  });

  it('deletes the states picked: a stash with its entry, a journal (its refs become orphans), and reports one that moved', async () => {
    const d = demo();
    const a = await rollBack(d, 23);
    const b = await rollBack(d, 22, { edit: true });
    const states = await listKeptStates({ journalDir: d.journalDir, repositories: [d.dir] });
    const pick = (id: string, kind: KeptState['kind']) => states.find((s) => s.rollbackId === id && s.kind === kind)!;

    git(d.dir, 'update-ref', a.backupRef, 'HEAD');
    const { deleted, failures } = await deleteKeptStates([pick(a.id, 'journal'), pick(b.id, 'stash'), pick(a.id, 'backup')], { journalDir: d.journalDir });
    assert.deepEqual(deleted.map((s) => `${s.rollbackId} ${s.kind}`).sort(), [`${a.id} journal`, `${b.id} stash`].sort());
    assert.equal(failures.length, 1);
    assert.match(failures[0], new RegExp(`backup ref ${a.backupRef}`));
    assert.deepEqual(stashList(d.dir), []);
    assert.deepEqual(refsOf(d.dir), [a.backupRef, b.backupRef].sort());
    assert.deepEqual(journalIds(d.journalDir), [b.id]);

    const left = await listKeptStates({ journalDir: d.journalDir, repositories: [d.dir] });
    assert.deepEqual(
      left.map((s) => [s.kind, s.rollbackId, s.journal === null, s.neededFor]),
      [
        ['journal', b.id, false, 'undo'],
        ['backup', b.id, false, 'undo'],
        ['backup', a.id, true, null],
      ],
    );
  });
});
