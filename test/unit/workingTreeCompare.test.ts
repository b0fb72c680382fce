/**
 * Compare Step with Working Tree: which files it lists (real repositories in temp folders), and
 * the status the multi-file diff editor shows for each, from the sides' names.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { multiDiffStatus, planFileDiff, sideName } from '../../src/core/diffPlan';
import { GitRepository, type ChangedFile } from '../../src/core/git';
import { isStepDatabaseFile, stepDatabaseFiles, workingTreeChanges, workingTreeFiles } from '../../src/core/workingTreeCompare';
import { commitAll, git, makeRepo, removeRepositories, write } from '../support/gitRepo';

const lines = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix} line ${i}`).join('\n') + '\n';
const SIDECARS = ['', '-wal', '-shm', '-journal'];

/** What the multi-file diff editor shows for each listed file, as `<status> <path>` (`<old> → <new>` for a rename). */
function shown(files: readonly ChangedFile[], base: string, workTree: string): string[] {
  return files.map((file) => {
    const plan = planFileDiff(file, base, { kind: 'workingTree' }, 'S1 ↔ Working Tree');
    const name = file.oldPath ? `${file.oldPath} → ${file.path}` : file.path;
    return `${multiDiffStatus(plan, workTree)} ${name}`;
  });
}

after(() => {
  removeRepositories();
});

describe('Compare Step with Working Tree: the files listed and their statuses', () => {
  /** A project with its step database in the work tree, untracked (not ignored), as a new user has it. */
  function project(options: { trackDatabase: boolean }): { dir: string; base: string; dbPath: string } {
    const dir = makeRepo(options.trackDatabase ? 'tracked-db' : 'untracked-db');
    write(dir, 'keep.txt', 'unchanged\n');
    write(dir, 'src/modify.ts', 'one\ntwo\n');
    write(dir, 'delete.txt', lines('delete', 3));
    write(dir, 'rename.txt', lines('rename', 20));
    if (options.trackDatabase) {
      for (const suffix of SIDECARS) write(dir, `steps.db${suffix}`, `database${suffix} v1\n`);
      write(dir, 'tasks.db', 'tasks v1\n');
      write(dir, 'logs/step-S1-20250101-100000.log', '# S1\n');
    }
    const base = commitAll(dir, 'S1');
    write(dir, 'src/modify.ts', 'one\nTWO\nthree\n');
    fs.rmSync(path.join(dir, 'delete.txt'));
    git(dir, 'mv', 'rename.txt', 'renamed.txt');
    write(dir, 'src/added.ts', 'new\n');
    // What the agent and Step History leave beside the database.
    for (const suffix of SIDECARS) write(dir, `steps.db${suffix}`, `database${suffix} v2\n`);
    write(dir, '.steps.db.step-history-0a1b2c3d.tmp', 'image being written\n');
    write(dir, 'tasks.db', 'tasks v2\n');
    write(dir, 'tasks-S2.db', 'tasks before S2\n');
    write(dir, 'logs/step-S1-20250101-100000.log', '# S1\nmore\n');
    write(dir, 'logs/step-S2-20250101-110000.log', '# S2\n');
    // Files with such names elsewhere are the project's.
    write(dir, 'docs/steps.db', 'a file of the project\n');
    write(dir, 'logs/build.log', 'the project\'s own log\n');
    return { dir, base, dbPath: path.join(dir, 'steps.db') };
  }

  it('shows a modified file as modified, an untracked one as added, a deleted one as deleted, a rename as renamed, and none of the database\'s files', async () => {
    const { dir, base, dbPath } = project({ trackDatabase: false });
    const repo = await GitRepository.open(dir);
    const files = await workingTreeChanges(repo, base, [dbPath]);
    assert.deepEqual(shown(files, base, repo.root), [
      'deleted delete.txt',
      'added docs/steps.db',
      'added logs/build.log',
      'renamed rename.txt → renamed.txt',
      'added src/added.ts',
      'modified src/modify.ts',
    ]);
    assert.deepEqual(
      files.map((f) => [f.path, f.status]),
      [['delete.txt', 'deleted'], ['docs/steps.db', 'added'], ['logs/build.log', 'added'], ['renamed.txt', 'renamed'], ['src/added.ts', 'added'], ['src/modify.ts', 'modified']],
    );
  });

  it('leaves out the database and its sidecars when they are tracked too, but not the tracked files LaForge keeps beside it', async () => {
    const { dir, base, dbPath } = project({ trackDatabase: true });
    const repo = await GitRepository.open(dir);
    const files = await workingTreeChanges(repo, base, [dbPath]);
    assert.deepEqual(shown(files, base, repo.root), [
      'deleted delete.txt',
      'added docs/steps.db',
      'added logs/build.log',
      'modified logs/step-S1-20250101-100000.log',
      'renamed rename.txt → renamed.txt',
      'added src/added.ts',
      'modified src/modify.ts',
      'modified tasks.db',
    ]);
  });

  it('leaves out every step database given, found through a symbolic link too, and nothing for one outside the repository', async () => {
    const dir = makeRepo('several');
    write(dir, 'a.txt', 'a\n');
    const base = commitAll(dir, 'S1');
    write(dir, 'a.txt', 'A\n');
    for (const suffix of SIDECARS) {
      write(dir, `steps.db${suffix}`, 'x');
      write(dir, `apps/llm/data/llm_orchestration.db${suffix}`, 'x');
    }
    write(dir, 'apps/llm/data/.llm_orchestration.db.step-history-89abcdef.tmp', 'x');
    write(dir, 'apps/llm/data/notes.md', 'the project\'s\n');
    const outside = makeRepo('outside');
    const link = path.join(outside, 'link');
    fs.symlinkSync(dir, link);
    const repo = await GitRepository.open(dir);
    const files = await workingTreeChanges(repo, base, [
      path.join(link, 'steps.db'),
      path.join(dir, 'apps', 'llm', 'data', 'llm_orchestration.db'),
      path.join(outside, 'steps.db'),
    ]);
    assert.deepEqual(shown(files, base, repo.root), ['modified a.txt', 'added apps/llm/data/notes.md']);
  });

  it('lists the database\'s files when no database is given: the filter is what leaves them out', async () => {
    const { dir, base } = project({ trackDatabase: false });
    const repo = await GitRepository.open(dir);
    const paths = (await workingTreeChanges(repo, base, [])).map((f) => f.path);
    for (const suffix of SIDECARS) assert.ok(paths.includes(`steps.db${suffix}`), `steps.db${suffix} in ${paths.join(', ')}`);
  });
});

describe('the step databases\' own files', () => {
  it('are each database with its sidecars, by repository path, and its folder', () => {
    const files = stepDatabaseFiles('/repo', ['/repo/steps.db', '/repo/a/b/orchestrator.db', '/elsewhere/steps.db', '/repo', '/repository/steps.db']);
    assert.deepEqual([...files.files].sort(), [
      'a/b/orchestrator.db', 'a/b/orchestrator.db-journal', 'a/b/orchestrator.db-shm', 'a/b/orchestrator.db-wal',
      'steps.db', 'steps.db-journal', 'steps.db-shm', 'steps.db-wal',
    ]);
    assert.deepEqual([...files.folders].sort(), ['', 'a/b']);
  });

  it('are found from Windows paths, git\'s root with forward slashes and another case', () => {
    const files = stepDatabaseFiles('C:/Work/Repo', ['c:\\work\\repo\\data\\steps.db'], path.win32);
    assert.ok(files.files.has('data/steps.db-wal'));
    assert.deepEqual([...files.folders], ['data']);
  });

  it('include Step History\'s temporary files, LaForge\'s task databases and step logs beside a database only when untracked', () => {
    const databases = stepDatabaseFiles('/repo', ['/repo/sub/steps.db']);
    const own = (file: string, untracked = true) => isStepDatabaseFile(file, databases, untracked);
    for (const file of ['sub/steps.db', 'sub/steps.db-wal', 'sub/steps.db-shm', 'sub/steps.db-journal']) {
      assert.ok(own(file) && own(file, false), file);
    }
    for (const file of ['sub/.steps.db.step-history-0123abcd.tmp', 'sub/.tasks.db.step-history-0123abcd.tmp', 'sub/tasks.db', 'sub/tasks.db-wal', 'sub/tasks-S12.db', 'sub/logs/step-S3-20250101-100000.log']) {
      assert.ok(own(file), file);
      assert.ok(!own(file, false), `${file} tracked`);
    }
    for (const file of ['steps.db', 'sub/steps.db.bak', 'sub/x/steps.db', 'sub/logs/other.log', 'logs/step-S3-20250101-100000.log', 'sub/x/logs/step-S3-1.log', 'tasks.db', 'sub/.steps.db.step-history-xyz.tmp', 'sub/tasks-S.db']) {
      assert.ok(!own(file), file);
    }
  });

  it('are left out of the listed files, tracked by path and untracked as well, the rest in path order', () => {
    const databases = stepDatabaseFiles('/repo', ['/repo/steps.db']);
    const file = (p: string, status: ChangedFile['status'] = 'modified'): ChangedFile => ({ path: p, status, added: 1, removed: 1, binary: false });
    const listed = workingTreeFiles([file('steps.db'), file('tasks.db'), file('src/a.ts')], ['steps.db-wal', 'tasks-S1.db', 'b.ts', '.steps.db.step-history-00000000.tmp'], databases);
    assert.deepEqual(listed.map((f) => [f.path, f.status]), [['b.ts', 'added'], ['src/a.ts', 'modified'], ['tasks.db', 'modified']]);
  });
});

describe('the status the multi-file diff editor shows', () => {
  const base = '1'.repeat(40);
  const changed = (f: Partial<ChangedFile> & { path: string }): ChangedFile => ({ status: 'modified', added: 1, removed: 1, binary: false, ...f });

  it('names both sides of a file compared with the work tree by its place in the work tree', () => {
    const root = path.join(os.tmpdir(), 'repo');
    const plan = planFileDiff(changed({ path: 'src/a.ts' }), base, { kind: 'workingTree' }, 'S1 ↔ Working Tree');
    assert.equal(sideName(plan.left, root), path.join(root, 'src', 'a.ts'));
    assert.equal(sideName(plan.left, root), sideName(plan.right, root));
    assert.equal(sideName(plan.left, undefined), '/src/a.ts');
  });

  it('is modified, added, deleted or renamed as the file is, against the work tree or a commit', () => {
    const root = path.join(os.tmpdir(), 'repo');
    const files = [
      changed({ path: 'm.ts' }),
      changed({ path: 'n.ts', status: 'added' }),
      changed({ path: 'd.ts', status: 'deleted' }),
      changed({ path: 'new.ts', oldPath: 'old.ts', status: 'renamed' }),
      changed({ path: 't.ts', status: 'typeChanged' }),
    ];
    const expected = ['modified', 'added', 'deleted', 'renamed', 'modified'];
    assert.deepEqual(files.map((f) => multiDiffStatus(planFileDiff(f, base, { kind: 'workingTree' }, 'S1'), root)), expected);
    const to = { kind: 'commit' as const, commit: '2'.repeat(40) };
    assert.deepEqual(files.map((f) => multiDiffStatus(planFileDiff(f, base, to, 'S1'), undefined)), expected);
  });
});
