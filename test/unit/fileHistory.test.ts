/**
 * A file's step history on real repositories: LaForge's own trail (makeLaforgeToday: notes,
 * fast-forwards and merge commits, commit_sha_after = commit_sha_before), a rename followed back,
 * a commit a person made, a rollback done as LaForge does it (the branch reset, the rows made
 * inactive, the commits kept by their notes), a path that starts like an option; and the demo
 * workspace, whose rows record commit_sha_after. Every expectation comes from how the fixture
 * was built, or from plain git.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileHistory, fileOfStep, type FileHistory } from '../../src/core/fileHistory';
import { GitRepository, parseFileHistory, type ChangedFile } from '../../src/core/git';
import { StepStore } from '../../src/core/stepStore';
import { makeDemoWorkspace, type DemoWorkspace } from '../fixtures/demoWorkspace';
import { makeLaforgeToday, type LaforgeFixture, type LaforgeStepSpec } from '../fixtures/laforgeToday';
import { gitStoreDatabase } from '../fixtures/storeDatabase';
import { commitAll, commitOnBranch, git as gitIn, makeRepo, removeRepositories, write } from '../support/gitRepo';
import { git, gitOk, sqlite } from '../support/rollbackWorkspace';

const wasmPath = require.resolve('sql.js/dist/sql-wasm.wasm');

/** S1 adds src/money.ts, S3 edits it in a merge commit, S4 renames it src/cash.ts, a person edits it during S5, S6 edits it, S7 edits it and is rolled back with S8. */
const SCENARIO: LaforgeStepSpec[] = [
  { outcome: 'fast-forward', title: 'Add money', write: { 'src/money.ts': 'export const money = 1;\n', '--output=x.ts': 'named like an option\n' } },
  { outcome: 'fast-forward', title: 'Add the ledger', write: { 'src/ledger.ts': 'export const ledger = [];\n' } },
  { outcome: 'merge-commit', title: 'Round money', write: { 'src/money.ts': 'export const money = Math.round(1.5);\n' }, person: { message: 'Add a licence', write: { LICENSE: 'MIT\n' } } },
  { outcome: 'fast-forward', title: 'Call money cash', rename: [['src/money.ts', 'src/cash.ts']] },
  { outcome: 'merge-commit', title: 'Write notes', write: { 'docs/notes.md': 'notes\n' }, person: { message: 'Fix cash by hand', write: { 'src/cash.ts': 'export const money = Math.round(2.5);\n' } } },
  { outcome: 'fast-forward', title: 'Format cash', write: { 'src/cash.ts': 'export const money = Math.round(2.5); // formatted\n' } },
  { outcome: 'fast-forward', title: 'Keep cash in cents', write: { 'src/cash.ts': 'export const cents = 250;\n' } },
  { outcome: 'fast-forward', title: 'Touch the README', write: { 'README.md': '# readme\n' } },
];

const summary = (history: FileHistory) =>
  history.steps.map((s) => ({ id: s.step.id, via: s.via, path: s.path, oldPath: s.oldPath, rolledBack: s.rolledBack }));

describe('fileHistory', function () {
  this.timeout(120_000);
  const cleanups: (() => void)[] = [];
  after(() => {
    for (const clean of cleanups.splice(0)) clean();
  });

  describe('in a LaForge project, after a rollback', () => {
    let fixture: LaforgeFixture;
    let store: StepStore;

    before(async () => {
      fixture = makeLaforgeToday({ now: new Date('2026-11-20T18:00:00Z'), steps: SCENARIO });
      cleanups.push(() => fixture.rm());
      // `laforge step rollback <project> 7`: the branch back to S7's commit before, S7 and later inactive.
      git(fixture.repoPath, 'reset', '-q', '--hard', fixture.steps[6].commitBefore);
      sqlite(fixture.dbPath, ['UPDATE steps SET active = 0 WHERE id >= 7']);
      store = await StepStore.open(fixture.dbPath, { wasmPath });
      cleanups.push(() => store.close());
    });

    it('lists the steps that changed the file through its rename, newest first, the rolled-back one marked, and keeps the person\'s commit apart', async () => {
      const s = (id: number) => fixture.steps[id - 1];
      assert.ok(s(7).hasNote && s(7).commit, 'S7 committed and noted');
      assert.ok(!gitOk(fixture.repoPath, 'merge-base', '--is-ancestor', s(7).commit!, 'HEAD'), "S7's commit is off HEAD's history");
      assert.ok(s(3).mergeCommit && s(3).mergeCommit !== s(3).commit, 'S3 was merged by a merge commit');
      const database = gitStoreDatabase(store, fixture.repoPath);

      const history = await fileHistory(database, 'src/cash.ts');
      assert.deepEqual(summary(history), [
        { id: 7, via: 'changes', path: 'src/cash.ts', oldPath: undefined, rolledBack: true },
        { id: 6, via: 'note', path: 'src/cash.ts', oldPath: undefined, rolledBack: false },
        { id: 4, via: 'note', path: 'src/cash.ts', oldPath: 'src/money.ts', rolledBack: false },
        { id: 3, via: 'note', path: 'src/money.ts', oldPath: undefined, rolledBack: false },
        { id: 1, via: 'note', path: 'src/money.ts', oldPath: undefined, rolledBack: false },
      ]);
      assert.deepEqual(history.steps.map((e) => e.commit), [null, s(6).commit, s(4).commit, s(3).commit, s(1).commit]);
      const person = fixture.personCommits.find((c) => c.message === 'Fix cash by hand')!;
      assert.deepEqual(history.otherCommits.map((c) => [c.commit, c.summary, c.path]), [[person.sha, 'Fix cash by hand', 'src/cash.ts']]);
      assert.equal(history.otherCommits[0].authorTimeMs, Number(git(fixture.repoPath, 'log', '-1', '--format=%at', person.sha)) * 1000);
      // S8, rolled back too, touched only the README: its files were read and it is not listed.
      assert.ok(database.filesRead.some((step) => step.id === 8));
    });

    it('looks at only as many of the newest steps for rolled-back ones as it is told', async () => {
      const history = await fileHistory(gitStoreDatabase(store, fixture.repoPath), 'src/cash.ts', { rolledBackScan: 1 });
      assert.deepEqual(history.steps.map((e) => e.step.id), [6, 4, 3, 1], 'S7 is below the newest one');
    });

    it('reads a path that starts like an option as a path', async () => {
      const repository = await GitRepository.open(fixture.repoPath);
      const commits = await repository.fileHistory('--output=x.ts');
      assert.deepEqual(commits.map((c) => [c.commit, c.status, c.path]), [[fixture.steps[0].commit, 'added', '--output=x.ts']]);
      const history = await fileHistory(gitStoreDatabase(store, fixture.repoPath), '--output=x.ts');
      assert.deepEqual(summary(history), [{ id: 1, via: 'note', path: '--output=x.ts', oldPath: undefined, rolledBack: false }]);
    });

    it('gives nothing for a file git does not have, and refuses an empty path or one with a NUL before git runs', async () => {
      const repository = await GitRepository.open(fixture.repoPath);
      assert.deepEqual(await repository.fileHistory('src/never.ts'), []);
      assert.deepEqual((await fileHistory(gitStoreDatabase(store, fixture.repoPath), 'src/never.ts')).steps, []);
      for (const bad of ['', 'src/\0cash.ts']) {
        await assert.rejects(repository.fileHistory(bad), (err: Error & { code?: string }) => err.code === 'NOT_IN_COMMIT');
      }
    });
  });

  it('lists a failed step whose kept branch is not merged, found by its changes, and marks it so', async () => {
    const fixture = makeLaforgeToday({ now: new Date('2026-11-20T18:00:00Z') });
    cleanups.push(() => fixture.rm());
    const store = await StepStore.open(fixture.dbPath, { wasmPath });
    cleanups.push(() => store.close());
    // The scenario's failed step that edited src/cli.ts, its branch kept: HEAD never took its commit.
    const failed = fixture.steps.find((s) => s.outcome === 'agent-failed' && s.nameStatus.some((l) => l.endsWith('\tsrc/cli.ts')))!;
    assert.ok(failed.branchKept && failed.commit && !gitOk(fixture.repoPath, 'merge-base', '--is-ancestor', failed.commit, 'HEAD'), 'its commit is off HEAD');
    const wrote = fixture.steps.filter((s) => s.finished && s.commit && gitOk(fixture.repoPath, 'merge-base', '--is-ancestor', s.commit, 'HEAD') && s.nameStatus.some((l) => l.endsWith('\tsrc/cli.ts')));

    const history = await fileHistory(gitStoreDatabase(store, fixture.repoPath), 'src/cli.ts');
    assert.deepEqual(history.steps.map((s) => s.step.id), [failed.id, ...wrote.map((s) => s.id)].sort((a, b) => b - a));
    const entry = history.steps.find((s) => s.step.id === failed.id)!;
    assert.equal(entry.via, 'changes');
    assert.equal(entry.rolledBack, false);
    assert.equal(entry.unmerged?.branch, failed.branch);
    assert.equal(entry.unmerged?.notMerged, true);
    assert.ok(history.steps.filter((s) => s.step.id !== failed.id).every((s) => s.unmerged === undefined), 'the merged steps are not marked');
  });

  describe('in the demo workspace, whose rows record commit_sha_after', () => {
    let demo: DemoWorkspace;
    let store: StepStore;

    before(async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'step-history-file-history-'));
      cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
      demo = makeDemoWorkspace(dir, { now: new Date('2026-03-10T12:00:00Z') });
      store = await StepStore.open(demo.dbPath, { wasmPath });
      cleanups.push(() => store.close());
    });

    /** The fixture's own account: the finished steps whose files hold one of the names, newest first. */
    const expected = (names: string[]) =>
      demo.steps
        .filter((s) => s.commitAfter !== null && s.files.some((f) => names.includes(f.path) || (f.oldPath !== undefined && names.includes(f.oldPath))))
        .map((s) => s.id)
        .reverse();

    it('finds the steps by their recorded commits and the rolled-back one by its changes', async () => {
      const history = await fileHistory(gitStoreDatabase(store, demo.path), 'package.json');
      const rolledBack = demo.steps.filter((s) => !s.active).map((s) => s.id);
      assert.deepEqual(history.steps.map((e) => e.step.id), expected(['package.json']));
      assert.ok(history.steps.some((e) => e.rolledBack), 'a rolled-back step changed package.json');
      for (const entry of history.steps) {
        assert.equal(entry.rolledBack, rolledBack.includes(entry.step.id), entry.step.label);
        assert.equal(entry.via, entry.rolledBack ? 'changes' : 'recorded', entry.step.label);
      }
      assert.deepEqual(history.otherCommits.map((c) => c.summary), [], 'every commit is a step\'s');
    });

    it('follows the rename back and gives the path the file had in each step', async () => {
      const renamed = demo.steps.find((s) => s.id === demo.renameStepId)!.files.find((f) => f.status === 'renamed')!;
      const history = await fileHistory(gitStoreDatabase(store, demo.path), renamed.path);
      assert.deepEqual(history.steps.map((e) => e.step.id), expected([renamed.path, renamed.oldPath!]));
      const rename = history.steps.find((e) => e.step.id === demo.renameStepId)!;
      assert.deepEqual([rename.path, rename.oldPath], [renamed.path, renamed.oldPath]);
      const older = history.steps.filter((e) => e.step.id < demo.renameStepId);
      assert.ok(older.length > 0 && older.every((e) => e.path === renamed.oldPath), JSON.stringify(summary(history)));
    });
  });

  it('picks a step\'s file by the path it had there, else by any of its names', () => {
    const file = (p: string, oldPath?: string): ChangedFile => ({ path: p, oldPath, status: oldPath ? 'renamed' : 'modified', added: 1, removed: 0, binary: false });
    const files = [file('a.ts'), file('b.ts', 'old-b.ts'), file('c.ts')];
    assert.equal(fileOfStep(files, ['c.ts', 'a.ts'], 'b.ts'), files[1]);
    assert.equal(fileOfStep(files, ['x.ts'], 'old-b.ts'), files[1]);
    assert.equal(fileOfStep(files, ['x.ts', 'c.ts']), files[2]);
    assert.equal(fileOfStep(files, ['x.ts']), undefined);
  });

  it('lists a merge only where the merge itself changed the file: a resolved conflict, not a side taken whole', async () => {
    const dir = makeRepo('file-history-merge');
    cleanups.push(removeRepositories);
    write(dir, 'a.txt', 'one\n');
    const added = commitAll(dir, 'Add a.txt');
    const stepCommit = commitOnBranch(dir, 'step-S1', { 'a.txt': 'one from the step\n' }, 'The step edits a.txt');
    write(dir, 'b.txt', 'elsewhere\n');
    commitAll(dir, 'Someone edits b.txt');
    gitIn(dir, 'merge', '-q', '--no-edit', '-m', 'Automerge step-S1 into main', 'step-S1');
    const clean = gitIn(dir, 'rev-parse', 'HEAD').trim();
    const second = commitOnBranch(dir, 'step-S2', { 'a.txt': 'two from the step\n' }, 'The second step edits a.txt');
    write(dir, 'a.txt', 'two by hand\n');
    const byHand = commitAll(dir, 'Someone edits a.txt');
    assert.throws(() => gitIn(dir, 'merge', '-q', '--no-edit', 'step-S2'), 'a conflict');
    write(dir, 'a.txt', 'two, resolved\n');
    const resolved = commitAll(dir, 'Automerge step-S2 into main');

    const commits = await (await GitRepository.open(dir)).fileHistory('a.txt');
    // Commits made in the same second have no one order below the merge: compared as a set, HEAD first.
    const byHash = (rows: string[][]) => [...rows].sort((x, y) => x[0].localeCompare(y[0]));
    assert.deepEqual(byHash(commits.map((c) => [c.commit, c.summary, c.status])), byHash([
      [resolved, 'Automerge step-S2 into main', 'modified'],
      [byHand, 'Someone edits a.txt', 'modified'],
      [second, 'The second step edits a.txt', 'modified'],
      [stepCommit, 'The step edits a.txt', 'modified'],
      [added, 'Add a.txt', 'added'],
    ]));
    assert.equal(commits[0].commit, resolved);
    assert.equal(commits[commits.length - 1].commit, added);
    assert.ok(!commits.some((c) => c.commit === clean), 'the clean merge changed nothing of a.txt itself');
  });

  describe('parseFileHistory', () => {
    const a = 'a'.repeat(40);
    const b = 'b'.repeat(40);
    it('reads paths by position, a merge\'s letters, a rename, an empty subject, and leaves out a commit with no record', () => {
      const c = 'c'.repeat(40);
      const output = [
        a, '1700000000', '', '\nMM', b, // an empty subject; a merge that changed the file; a path that looks like a hash
        '', b, '1700000001', 'merge that took a side', // no record: left out
        `\n${c}`, '1699999999', 'Rename', '\nR087', 'M', 'src/new.ts', '', // the old path is "M"
      ].join('\0');
      assert.deepEqual(parseFileHistory(output), [
        { commit: a, summary: '', authorTimeMs: 1_700_000_000_000, path: b, status: 'modified' },
        { commit: c, summary: 'Rename', authorTimeMs: 1_699_999_999_000, path: 'src/new.ts', oldPath: 'M', status: 'renamed' },
      ]);
    });

    it('refuses output that is not a file history', () => {
      assert.throws(() => parseFileHistory('fatal: bad\0'), /file history/);
      assert.throws(() => parseFileHistory(`${a}\0not a time\0subject\0`), /file history/);
      assert.throws(() => parseFileHistory(`${a}\x001700000000\0subject\0R100\0only-old.ts`), /file history/);
      assert.deepEqual(parseFileHistory(''), []);
    });
  });
});
