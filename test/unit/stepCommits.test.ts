/**
 * Each step's own commit, on real repositories built the way LaForge at HEAD leaves them
 * (a note `Step-id: S<N>` on the step's commit, fast-forward and real merges, a kept branch
 * `step-S<N>` for a failed step, commit_sha_after = commit_sha_before in a database written
 * by python3's sqlite3), in temp folders removed afterwards.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { blobId, blobKeyOf, GitRepository, hexBytes, NoteListing } from '../../src/core/git';
import { planRollback } from '../../src/core/rollback';
import type { Step } from '../../src/core/model';
import { isNoCommit, refsKey, stepBranchTips, stepChange, stepCommitSourceText, stepEnd, StepCommitResolver, watchStepRefs } from '../../src/core/stepCommits';
import { StepStore } from '../../src/core/stepStore';
import { recordingLogger } from '../fixtures/recordingLogger';
import { LAFORGE_NAME_SCHEMA, makeTempDir } from '../fixtures/stepFixtures';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } }).trim();
}

interface Built {
  dir: string;
  db: string;
  /** Step id → [commit before, the step's commit or null]. */
  expected: Map<number, { before: string; commit: string | null }>;
}

/** A compact LaForge at HEAD: lease (row, HEAD), work on step-S<N>, commit + note, merge or keep, finalize. */
class LaForgeRepo {
  readonly dir = makeTempDir();
  readonly rows: (string | number | null)[][] = [];
  readonly expected = new Map<number, { before: string; commit: string | null }>();
  private clock = 1_760_000_000;

  constructor(objectFormat: 'sha1' | 'sha256' = 'sha1') {
    dirs.push(this.dir);
    git(this.dir, 'init', '-q', '-b', 'main', `--object-format=${objectFormat}`);
    git(this.dir, 'config', 'user.email', 'laforge@example.com');
    git(this.dir, 'config', 'user.name', 'LaForge');
    git(this.dir, 'config', 'commit.gpgsign', 'false');
    this.write('README.md', 'readme\n');
    this.write('lib/util.ts', Array.from({ length: 30 }, (_, i) => `export const line${i} = ${i};`).join('\n') + '\n');
    this.commit('initial');
  }

  write(file: string, text: string): void {
    fs.mkdirSync(path.dirname(path.join(this.dir, file)), { recursive: true });
    fs.writeFileSync(path.join(this.dir, file), text);
  }

  commit(message: string): string {
    const when = `${this.clock++} +0000`;
    execFileSync('git', ['add', '-A'], { cwd: this.dir });
    execFileSync('git', ['commit', '-q', '-m', message], { cwd: this.dir, env: { ...process.env, GIT_AUTHOR_DATE: when, GIT_COMMITTER_DATE: when } });
    return git(this.dir, 'rev-parse', 'HEAD');
  }

  head = (): string => git(this.dir, 'rev-parse', 'HEAD');

  /**
   * One step. `work` edits files on branch step-S<N>; `meanwhile` commits on main before the
   * merge (a real merge commit then); `fail` keeps the branch unmerged.
   */
  step(id: number, opts: { work?: () => void; meanwhile?: () => void; fail?: boolean; noNote?: boolean } = {}): void {
    const before = this.head();
    const branch = `step-S${id}`;
    git(this.dir, 'checkout', '-q', '-b', branch);
    opts.work?.();
    let commit: string | null = null;
    if (git(this.dir, 'status', '--porcelain') !== '') {
      commit = this.commit(`LaForge step S${id} - Automated changes`);
      if (!opts.noNote) git(this.dir, 'notes', 'add', '-m', `Step-id: S${id}`, commit);
    }
    git(this.dir, 'checkout', '-q', 'main');
    if (opts.meanwhile) opts.meanwhile();
    if (!opts.fail) {
      git(this.dir, 'merge', '-q', '--no-edit', branch, '-m', `Automerge ${branch} into main`);
      git(this.dir, 'branch', '-D', branch);
    }
    this.expected.set(id, { before, commit });
    this.row(id, before, before, opts.fail ? 1 : 0);
  }

  row(id: number, before: string, after: string, exit: number): void {
    this.rows.push([id, id > 1 ? id - 1 : null, before, after, exit]);
  }

  database(): string {
    const db = path.join(this.dir, 'steps.db');
    const script = `
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript(sys.argv[2])
for (i, parent, before, after, code) in json.loads(sys.argv[3]):
    db.execute("INSERT INTO steps (id, active, parent_step_id, commit_sha_before, commit_sha_after, agent_config_name, start_time, end_time, duration_ms, token_usage_json, exit_code, project_id) VALUES (?, 1, ?, ?, ?, 'coder', ?, ?, 1000, ?, ?, 'p1')",
        (i, parent, before, after, '2026-11-20 09:%02d:00.123456789-08:00' % i, '2026-11-20 09:%02d:30.5-08:00' % i,
         '{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0,"cost":0}', code))
db.commit()
db.close()
`;
    execFileSync('python3', ['-c', script, db, LAFORGE_NAME_SCHEMA, JSON.stringify(this.rows)]);
    return db;
  }
}

function build(): Built {
  const r = new LaForgeRepo();
  // S1: a fast-forward merge.
  r.step(1, { work: () => (r.write('src/a.ts', 'export const a = 1;\n'), r.write('README.md', 'readme, with a\n')) });
  // S2: someone commits on main meanwhile, so the merge is a real merge commit; a rename and a delete.
  r.step(2, {
    work: () => {
      fs.renameSync(path.join(r.dir, 'lib/util.ts'), path.join(r.dir, 'lib/helpers.ts'));
      fs.appendFileSync(path.join(r.dir, 'lib/helpers.ts'), 'export const extra = 1;\n');
      fs.rmSync(path.join(r.dir, 'src/a.ts'));
    },
    meanwhile: () => (r.write('docs/notes.md', 'by hand\n'), r.commit('someone else')),
  });
  // S3: failed; its branch is kept, unmerged.
  r.step(3, { work: () => r.write('src/broken.ts', 'export const broken = true;\n'), fail: true });
  // S4: changed nothing, so no commit and no note; merged (a no-op) and deleted.
  r.step(4);
  // S5: failed without a commit: its branch is kept at the commit before.
  r.step(5, { fail: true });
  // S6: a commit on its kept branch but no note (a note that failed to be written).
  r.step(6, { work: () => r.write('src/six.ts', 'six\n'), fail: true, noNote: true });
  // S7: older LaForge recorded a real commit after.
  const before7 = r.head();
  r.write('src/seven.ts', 'seven\n');
  const after7 = r.commit('older LaForge step 7');
  r.expected.set(7, { before: before7, commit: after7 });
  r.row(7, before7, after7, 0);
  return { dir: r.dir, db: r.database(), expected: r.expected };
}

async function loadSteps(db: string): Promise<Step[]> {
  const store = await StepStore.open(db);
  try {
    return store.steps(store.projects()[0].id, { limit: 100 }).sort((a, b) => a.id - b.id);
  } finally {
    store.close();
  }
}

const gitLines = (log: ReturnType<typeof recordingLogger>) => log.lines.filter((l) => l.level === 'debug' && /^\[git\] git /.test(l.message));

describe('StepCommitResolver', function () {
  this.timeout(60_000);
  let built: Built;
  let steps: Step[];

  before(async () => {
    built = build();
    steps = await loadSteps(built.db);
  });

  it('reads steps whose commit after equals their commit before, as LaForge writes them', () => {
    assert.equal(steps.length, 7);
    for (const step of steps.filter((s) => s.id <= 6)) assert.equal(step.commitAfter, step.commitBefore);
  });

  it('resolves each step to its note, its kept branch, its recorded commit, or none', async () => {
    const repo = await GitRepository.open(built.dir);
    const index = await new StepCommitResolver(repo).index();
    const got = steps.map((s) => {
      const c = index.resolve(s);
      return [s.label, c.source, c.commit, c.branch, c.notMerged];
    });
    const e = (id: number) => built.expected.get(id)!.commit;
    assert.deepEqual(got, [
      ['S1', 'note', e(1), null, false],
      ['S2', 'note', e(2), null, false],
      ['S3', 'note', e(3), 'step-S3', true],
      ['S4', 'none', null, null, false],
      ['S5', 'none', null, 'step-S5', false],
      ['S6', 'branch', e(6), 'step-S6', true],
      ['S7', 'recorded', e(7), null, false],
    ]);
    assert.deepEqual(
      steps.map((s) => stepCommitSourceText(index.resolve(s))),
      ['from its Step-id note', 'from its Step-id note', 'from its Step-id note', 'none', 'none', 'from branch step-S6', 'recorded'],
    );
  });

  it("gives every step with changes exactly the files git diff --name-status -M lists from its commit before to its commit", async () => {
    const repo = await GitRepository.open(built.dir);
    const index = await new StepCommitResolver(repo).index();
    let compared = 0;
    for (const step of steps) {
      const commit = index.resolve(step);
      const expected = built.expected.get(step.id)!;
      if (expected.commit === null) {
        assert.throws(() => stepChange(step, commit), (err: unknown) => isNoCommit(err) && (err as Error).message === `${step.label} made no commit.`);
        // What the step left behind is where it started.
        assert.equal(stepEnd(step, commit), expected.before);
        continue;
      }
      const { before, after } = stepChange(step, commit);
      assert.equal(before, expected.before);
      assert.equal(after, expected.commit);
      const files = await repo.changedFiles(before, after);
      const ours = files.map((f) => `${f.status.charAt(0).toUpperCase()}\t${f.oldPath ? `${f.oldPath}\t` : ''}${f.path}`).sort();
      const theirs = git(built.dir, 'diff', '--name-status', '-M', before, after)
        .split('\n')
        .map((l) => l.replace(/^R\d+/, 'R'))
        .sort();
      assert.deepEqual(ours, theirs, step.label);
      assert.ok(files.length > 0, step.label);
      compared++;
    }
    assert.equal(compared, 5);
    // The merge commit of S2 is not S2's change: someone else's docs/notes.md is not in it.
    const s2 = stepChange(steps[1], index.resolve(steps[1]));
    assert.ok(!(await repo.changedFiles(s2.before, s2.after)).some((f) => f.path === 'docs/notes.md'));
  });

  it('runs the same number of git processes for 3 steps as for 40, and none when nothing changed', async () => {
    const counts: number[] = [];
    for (const extra of [0, 37]) {
      const r = new LaForgeRepo();
      for (let i = 1; i <= 3 + extra; i++) r.step(i, { work: () => r.write(`f${i}.txt`, `${i}\n`), fail: i === 2 || i % 5 === 0 });
      const log = recordingLogger();
      const repo = await GitRepository.open(r.dir, { log });
      const before = gitLines(log).length;
      const resolver = new StepCommitResolver(repo, log);
      const index = await resolver.index();
      for (let i = 1; i <= 3 + extra; i++) {
        const c = index.resolve({ id: i, commitBefore: r.expected.get(i)!.before, commitAfter: r.expected.get(i)!.before, status: 'COMPLETED' });
        assert.equal(c.commit, r.expected.get(i)!.commit, `S${i}`);
      }
      counts.push(gitLines(log).length - before);
      assert.ok(!gitLines(log).some((l) => / cat-file /.test(l.message)), 'no cat-file for LaForge\'s notes');
      const again = gitLines(log).length;
      assert.equal(await resolver.index(), index);
      assert.equal(gitLines(log).length, again, 'no git process when nothing changed');
    }
    assert.equal(counts[0], counts[1]);
    // notes get-ref, notes list, for-each-ref --no-merged: the git folders come with opening
    // the repository, the step branches' tips from the ref files, and LaForge's note texts are
    // known by their blob ids, so no cat-file.
    assert.equal(counts[0], 3);
  });

  it('asks git nothing about step branches when there are none', async () => {
    const r = new LaForgeRepo();
    for (let i = 1; i <= 3; i++) r.step(i, { work: () => r.write(`f${i}.txt`, `${i}\n`) });
    const log = recordingLogger();
    const index = await new StepCommitResolver(await GitRepository.open(r.dir, { log }), log).index();
    for (let i = 1; i <= 3; i++) {
      const c = index.resolve({ id: i, commitBefore: r.expected.get(i)!.before, commitAfter: null, status: 'COMPLETED' });
      assert.deepEqual([c.source, c.commit, c.notMerged], ['note', r.expected.get(i)!.commit, false], `S${i}`);
    }
    assert.deepEqual(gitLines(log).filter((l) => / for-each-ref /.test(l.message)), []);
  });

  it('says when the refs moved, and watches the files that move them', async () => {
    const r = new LaForgeRepo();
    r.step(1, { work: () => r.write('one.txt', '1\n') });
    r.step(2, { work: () => r.write('two.txt', '2\n'), fail: true });
    const resolver = new StepCommitResolver(await GitRepository.open(r.dir));
    assert.equal(resolver.refsState(), null, 'nothing read yet');
    await resolver.index();
    let state = resolver.refsState();
    assert.ok(state);
    let events = 0;
    const watch = watchStepRefs(resolver.gitDirs!, () => events++);
    const settle = () => new Promise((resolve) => setTimeout(resolve, 300));
    try {
      // git status rewrites the index: an event perhaps, but nothing that decides a step's commit.
      git(r.dir, 'status', '--porcelain');
      await settle();
      assert.equal(resolver.refsState(), state, 'git status moves no ref');
      for (const move of [
        () => git(r.dir, 'notes', 'add', '-f', '-m', 'Step-id: S2', r.head()),
        () => git(r.dir, 'branch', '-f', 'step-S2', 'HEAD'),
        () => git(r.dir, 'branch', '-D', 'step-S2'),
        () => r.step(3, { work: () => r.write('three.txt', '3\n') }),
        () => git(r.dir, 'pack-refs', '--all'),
      ]) {
        events = 0;
        move();
        await settle();
        assert.ok(events > 0, `an event for ${move}`);
        const now = resolver.refsState();
        assert.notEqual(now, state, `moved by ${move}`);
        state = now;
      }
    } finally {
      watch.dispose();
    }
  });

  it('reads again when a note is added, a step branch moves or HEAD moves, and only then', async () => {
    const r = new LaForgeRepo();
    r.step(1, { work: () => r.write('one.txt', '1\n'), noNote: true });
    r.step(2, { work: () => r.write('two.txt', '2\n'), fail: true });
    const log = recordingLogger();
    const repo = await GitRepository.open(r.dir, { log });
    const resolver = new StepCommitResolver(repo, log);
    const s1 = { id: 1, commitBefore: r.expected.get(1)!.before, commitAfter: r.expected.get(1)!.before, status: 'COMPLETED' as const };
    const s2 = { id: 2, commitBefore: r.expected.get(2)!.before, commitAfter: r.expected.get(2)!.before, status: 'FAILED' as const };
    assert.equal((await resolver.index()).resolve(s1).source, 'none');

    git(r.dir, 'notes', 'add', '-m', 'Step-id: S1', r.expected.get(1)!.commit!);
    let count = gitLines(log).length;
    const noted = (await resolver.index()).resolve(s1);
    assert.deepEqual([noted.source, noted.commit], ['note', r.expected.get(1)!.commit]);
    assert.equal(gitLines(log).length - count, 2, 'notes list, for-each-ref --no-merged (LaForge\'s note text needs no cat-file)');

    // The kept branch gets another commit.
    git(r.dir, 'checkout', '-q', 'step-S2');
    r.write('two.txt', '2, again\n');
    const retry = r.commit('retry');
    git(r.dir, 'checkout', '-q', 'main');
    const moved = (await resolver.index()).resolve(s2);
    assert.deepEqual([moved.source, moved.commit, moved.notMerged], ['note', r.expected.get(2)!.commit, true]);
    git(r.dir, 'notes', 'remove', r.expected.get(2)!.commit!);
    const fromBranch = (await resolver.index()).resolve(s2);
    assert.deepEqual([fromBranch.source, fromBranch.commit], ['branch', retry]);

    // Merging it by hand moves HEAD: no longer "not merged".
    git(r.dir, 'merge', '-q', '--no-edit', 'step-S2');
    assert.equal((await resolver.index()).resolve(s2).notMerged, false);

    // Packed refs (git gc, pack-refs) read again and answer the same.
    git(r.dir, 'pack-refs', '--all');
    assert.equal((await resolver.index()).resolve(s2).commit, retry);
    count = gitLines(log).length;
    await resolver.index();
    await resolver.index();
    assert.equal(gitLines(log).length, count, 'nothing changed: no git process');
  });

  it('resolves notes whose text is not LaForge\'s exact shape, reading each such note once', async () => {
    const r = new LaForgeRepo();
    const texts = ['Reviewed by hand.\nStep-id: S1\n', '  Step-id:   S2  \n', 'Step-id: 3\n', 'Step-id: S4', 'Step-id: S5\n\nwith more words\n', 'no step here\n'];
    for (let i = 1; i <= texts.length; i++) r.step(i, { work: () => r.write(`f${i}.txt`, `${i}\n`), noNote: true });
    for (let i = 1; i <= texts.length; i++) {
      // `notes add -C <blob>` keeps the text byte for byte: no newline is added or removed.
      const blob = execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: r.dir, input: texts[i - 1], encoding: 'utf8' }).trim();
      git(r.dir, 'notes', 'add', '-C', blob, r.expected.get(i)!.commit!);
    }
    const log = recordingLogger();
    const resolver = new StepCommitResolver(await GitRepository.open(r.dir, { log }), log);
    const step = (id: number) => ({ id, commitBefore: r.expected.get(id)!.before, commitAfter: r.expected.get(id)!.before, status: 'COMPLETED' as const });
    const index = await resolver.index();
    for (let i = 1; i <= 5; i++) assert.deepEqual([index.resolve(step(i)).source, index.resolve(step(i)).commit], ['note', r.expected.get(i)!.commit], `S${i}`);
    assert.equal(index.resolve(step(6)).source, 'none');
    const catFiles = () => gitLines(log).filter((l) => / cat-file /.test(l.message)).length;
    // "Step-id: S4" without its newline is one of LaForge's shapes, known by its blob id.
    assert.equal(catFiles(), 1);
    assert.ok(log.lines.some((l) => /6 note\(s\) on refs\/notes\/commits \(5 read\)/.test(l.message)), 'five notes read by git');

    // HEAD moves: everything is listed again, but no note text is read again.
    r.write('later.txt', 'later\n');
    r.commit('someone else');
    const again = await resolver.index();
    assert.notEqual(again, index);
    for (let i = 1; i <= 5; i++) assert.equal(again.resolve(step(i)).commit, r.expected.get(i)!.commit, `S${i}`);
    assert.equal(catFiles(), 1);
  });

  it('resolves a note for a step id far above the number of notes', async () => {
    const r = new LaForgeRepo();
    r.step(1, { work: () => r.write('one.txt', '1\n'), noNote: true });
    git(r.dir, 'notes', 'add', '-m', 'Step-id: S987654', r.expected.get(1)!.commit!);
    const index = await new StepCommitResolver(await GitRepository.open(r.dir)).index();
    const c = index.resolve({ id: 987_654, commitBefore: r.expected.get(1)!.before, commitAfter: null, status: 'COMPLETED' });
    assert.deepEqual([c.source, c.commit], ['note', r.expected.get(1)!.commit]);
  });

  it('tells apart LaForge notes whose blob ids begin alike (S8678 and S9026 share 7 hex digits)', async () => {
    const texts = ['Step-id: S8678\n', 'Step-id: S9026\n'];
    const ids = texts.map((t) => blobId(t, 'sha1'));
    assert.equal(blobKeyOf(ids[0]), blobKeyOf(ids[1]), 'the two blob ids share their key');
    assert.notEqual(ids[0], ids[1]);
    // 9,026 commits on main, each noted with its step, written by one git fast-import.
    const dir = makeTempDir();
    dirs.push(dir);
    git(dir, 'init', '-q', '-b', 'main');
    const steps = 9_026;
    const stream: string[] = [];
    for (let i = 1; i <= steps; i++) {
      const message = `step ${i}`;
      stream.push(`commit refs/heads/main\nmark :${i}\ncommitter LaForge <laforge@example.com> ${1_760_000_000 + i} +0000\ndata ${message.length}\n${message}\n\n`);
    }
    stream.push('commit refs/notes/commits\ncommitter LaForge <laforge@example.com> 1800000000 +0000\ndata 5\nnotes\n');
    for (let i = 1; i <= steps; i++) stream.push(`N inline :${i}\ndata ${`Step-id: S${i}\n`.length}\nStep-id: S${i}\n`);
    stream.push('\n');
    execFileSync('git', ['fast-import', '--quiet', '--export-marks=marks'], { cwd: dir, input: stream.join(''), maxBuffer: 1 << 26 });
    const commitOf = new Map(
      fs.readFileSync(path.join(dir, 'marks'), 'utf8').trim().split('\n').map((line) => {
        const [mark, sha] = line.split(' ');
        return [Number(mark.slice(1)), sha] as const;
      }),
    );
    const index = await new StepCommitResolver(await GitRepository.open(dir)).index();
    for (let id = 1; id <= steps; id++) {
      const c = index.resolve({ id, commitBefore: null, commitAfter: null, status: 'COMPLETED' });
      if (c.source !== 'note' || c.commit !== commitOf.get(id)) assert.fail(`S${id} resolved to ${c.source} ${c.commit}, not its noted commit ${commitOf.get(id)}`);
    }
  });

  it('resolves notes in a SHA-256 repository, LaForge\'s and others', async () => {
    const r = new LaForgeRepo('sha256');
    r.step(1, { work: () => r.write('one.txt', '1\n') });
    r.step(2, { work: () => r.write('two.txt', '2\n'), fail: true, noNote: true });
    git(r.dir, 'notes', 'add', '-m', 'Checked.\n\nStep-id: S2', r.expected.get(2)!.commit!);
    r.step(3, { work: () => r.write('three.txt', '3\n'), fail: true });
    assert.equal(r.expected.get(1)!.commit!.length, 64);
    const log = recordingLogger();
    const index = await new StepCommitResolver(await GitRepository.open(r.dir, { log }), log).index();
    const got = [1, 2, 3].map((id) => {
      const c = index.resolve({ id, commitBefore: r.expected.get(id)!.before, commitAfter: r.expected.get(id)!.before, status: 'COMPLETED' });
      return [c.source, c.commit, c.branch, c.notMerged];
    });
    assert.deepEqual(got, [
      ['note', r.expected.get(1)!.commit, null, false],
      ['note', r.expected.get(2)!.commit, 'step-S2', true],
      ['note', r.expected.get(3)!.commit, 'step-S3', true],
    ]);
    // Only the note that is not LaForge's text was read, in SHA-256 as in SHA-1.
    assert.ok(log.lines.some((l) => /3 note\(s\) on refs\/notes\/commits \(1 read\)/.test(l.message)));
  });

  it('honours core.notesRef', async () => {
    const r = new LaForgeRepo();
    r.step(1, { work: () => r.write('one.txt', '1\n'), noNote: true });
    const commit = r.expected.get(1)!.commit!;
    git(r.dir, 'notes', '--ref=refs/notes/laforge', 'add', '-m', 'Step-id: S1', commit);
    const resolver = new StepCommitResolver(await GitRepository.open(r.dir));
    const s1 = { id: 1, commitBefore: r.expected.get(1)!.before, commitAfter: r.expected.get(1)!.before, status: 'COMPLETED' as const };
    assert.equal((await resolver.index()).resolve(s1).source, 'none');
    git(r.dir, 'config', 'core.notesRef', 'refs/notes/laforge');
    const c = (await resolver.index()).resolve(s1);
    assert.deepEqual([c.source, c.commit], ['note', commit]);
  });

  it('does not call a running step not merged, and a running step has no commit yet', async () => {
    const r = new LaForgeRepo();
    const before = r.head();
    git(r.dir, 'checkout', '-q', '-b', 'step-S1');
    r.write('wip.txt', 'wip\n');
    r.commit('work in progress');
    git(r.dir, 'checkout', '-q', 'main');
    const index = await new StepCommitResolver(await GitRepository.open(r.dir)).index();
    const running = index.resolve({ id: 1, commitBefore: before, commitAfter: null, status: 'RUNNING' });
    assert.equal(running.notMerged, false);
    assert.equal(running.branch, 'step-S1');
    const none = index.resolve({ id: 2, commitBefore: before, commitAfter: null, status: 'RUNNING' });
    const step = { ...steps[0], id: 2, label: 'S2', commitBefore: before, commitAfter: null, status: 'RUNNING' as const };
    assert.throws(() => stepChange(step, none), /S2 is still running and has no commit yet\./);
    assert.equal(stepEnd(step, none), before);
  });

  it('reads the step branches\' tips from the ref files as git for-each-ref lists them, loose or packed', async () => {
    const r = new LaForgeRepo();
    for (let i = 1; i <= 3; i++) r.step(i, { work: () => r.write(`f${i}.txt`, `${i}\n`), fail: true });
    const { commonDir } = await (await GitRepository.open(r.dir)).gitDirs();
    const theirs = () => git(r.dir, 'for-each-ref', '--format=%(refname:short) %(objectname)', 'refs/heads/step-S*').split('\n').filter(Boolean);
    const ours = () => stepBranchTips(commonDir)!.map((b) => `${b.name} ${b.commit}`);
    assert.equal(ours().length, 3);
    assert.deepEqual(ours(), theirs());
    git(r.dir, 'pack-refs', '--all');
    assert.ok(!fs.existsSync(path.join(commonDir, 'refs', 'heads', 'step-S1')), 'packed');
    assert.deepEqual(ours(), theirs());
    // A loose ref over its packed line, a packed branch deleted, a new one sorting before the rest.
    git(r.dir, 'branch', '-f', 'step-S2', 'main');
    git(r.dir, 'branch', '-D', 'step-S3');
    git(r.dir, 'branch', 'step-S10', r.expected.get(1)!.commit!);
    git(r.dir, 'branch', 'step-S4/extra', 'main');
    assert.deepEqual(ours(), theirs());
    assert.deepEqual(ours().map((l) => l.split(' ')[0]), ['step-S1', 'step-S10', 'step-S2']);
    assert.deepEqual(stepBranchTips(commonDir)!.map((b) => b.stepId), [1, 10, 2]);

    // A symbolic step branch is left to git, and the steps still resolve as git lists the branches
    // (S1's commit is on its kept branch only: not merged).
    git(r.dir, 'symbolic-ref', 'refs/heads/step-S5', 'refs/heads/step-S10');
    assert.equal(stepBranchTips(commonDir), null);
    const index = await new StepCommitResolver(await GitRepository.open(r.dir)).index();
    const s5 = index.resolve({ id: 5, commitBefore: r.expected.get(3)!.before, commitAfter: null, status: 'COMPLETED' });
    assert.deepEqual([s5.source, s5.commit, s5.branch, s5.notMerged], ['branch', r.expected.get(1)!.commit, 'step-S5', true]);
  });

  it('keys the cache on the ref files: a changed step branch changes the key', async () => {
    const r = new LaForgeRepo();
    r.step(1, { work: () => r.write('one.txt', '1\n'), fail: true });
    const repo = await GitRepository.open(r.dir);
    const folders = await repo.gitDirs();
    const key = refsKey(folders, 'refs/notes/commits');
    assert.ok(key);
    assert.equal(refsKey(folders, 'refs/notes/commits'), key);
    git(r.dir, 'branch', '-f', 'step-S1', 'main');
    assert.notEqual(refsKey(folders, 'refs/notes/commits'), key);
  });
});

describe('note blob ids and note lists', function () {
  this.timeout(60_000);

  it('computes the blob id git hash-object gives, in SHA-1 and SHA-256 repositories', () => {
    for (const format of ['sha1', 'sha256'] as const) {
      const dir = makeTempDir();
      dirs.push(dir);
      git(dir, 'init', '-q', `--object-format=${format}`);
      for (const text of ['Step-id: S1\n', 'Step-id: S12345', '', 'Schritt: é\n']) {
        const theirs = execFileSync('git', ['hash-object', '--stdin'], { cwd: dir, input: text, encoding: 'utf8' }).trim();
        assert.equal(blobId(text, format), theirs, `${format} ${JSON.stringify(text)}`);
      }
    }
  });

  it('reads git notes list and refuses output that is not a list of notes', () => {
    const a = 'a'.repeat(40);
    const b = 'b'.repeat(40);
    const c = '0123456789abcdef'.repeat(4).slice(0, 40);
    assert.deepEqual(new NoteListing(Buffer.alloc(0)).toArray(), []);
    const two = new NoteListing(Buffer.from(`${a} ${b}\n${c} ${a}\n`));
    assert.deepEqual(two.toArray(), [
      { blob: a, object: b },
      { blob: c, object: a },
    ]);
    assert.equal(two.blobKey(1), blobKeyOf(c));
    assert.equal(two.blobKey(1), 0x0123456);
    assert.ok(two.blobIs(1, hexBytes(c)) && !two.blobIs(0, hexBytes(c)) && !two.blobIs(1, hexBytes(`${c.slice(0, 39)}f`)) && two.blobIs(1, hexBytes(a + c), 40) && !two.blobIs(1, hexBytes(a + c), 41));
    const long = 'c'.repeat(64);
    const sha256 = new NoteListing(Buffer.from(`${long} ${long}\n`));
    assert.deepEqual(sha256.toArray(), [{ blob: long, object: long }]);
    assert.equal(sha256.hashLength, 64);
    for (const bad of [`${a} ${b}`, `${a} ${b}\n${a} --help${'x'.repeat(34)}\n`, `${a}\n${b}\n`, `${a} ${b.slice(0, 39)}g\n`, `${a} ${b.slice(0, 38)}\n\n`, `${a} ${long}\n`, `${a} ${b.toUpperCase()}\n`, 'warning: no notes\n']) {
      assert.throws(() => new NoteListing(Buffer.from(bad)), (err: unknown) => err instanceof Error && /list of notes/.test(err.message), JSON.stringify(bad));
    }
  });
});

describe('the rollback plan with the steps’ own commits', function () {
  this.timeout(120_000);

  it('keeps HEAD on the line of steps whose commits are in notes and kept branches, and names only others’ commits as foreign', async () => {
    const built = build();
    const plan = await planRollback({ dbPath: built.db, repositoryPath: built.dir, projectId: 'p1', stepId: 2 });
    assert.deepEqual(plan.refusals.filter((r) => r.code === 'HEAD_OFF_LINE'), []);
    assert.equal(plan.resetTo, built.expected.get(2)!.before);
    const subjects = plan.foreignCommits.map((c) => c.subject);
    assert.ok(subjects.includes('someone else'), subjects.join());
    assert.ok(!subjects.some((s) => s.startsWith('LaForge step S2')), subjects.join());
    // The kept branches are untouched by planning.
    assert.deepEqual(git(built.dir, 'for-each-ref', '--format=%(refname:short)', 'refs/heads/step-S*').split('\n'), ['step-S3', 'step-S5', 'step-S6']);
  });
});
