/**
 * Step blame on real repositories and real databases: each line's step through the step's note
 * (LaForge today, by its fixture), a rename, a merge LaForge made, a person's commit, a line not
 * committed yet, a rolled-back step, a step recorded with its commit after and a range of two
 * commits (the documented schema, written by the sqlite3 CLI), a conflict resolved in LaForge's
 * merge commit; files skipped for their size or bytes, and a file git does not track.
 */
import * as assert from 'assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GitRepository } from '../../src/core/git';
import { blameFile, type FileBlame, type LineOwner, type StepLookup } from '../../src/core/stepBlame';
import { StepCommitResolver } from '../../src/core/stepCommits';
import { StepStore } from '../../src/core/stepStore';
import { makeLaforgeToday, type LaforgeFixture } from '../fixtures/laforgeToday';
import { DOCUMENTED_SCHEMA, stepRow, writeWithSqlite } from '../fixtures/stepFixtures';
import { commitAll, git, makeRepo, removeRepositories, write } from '../support/gitRepo';

const wasmPath = require.resolve('sql.js/dist/sql-wasm.wasm');

/** A StepLookup over a real store and repository, as a workspace database answers. */
async function lookupOf(dbPath: string, repoPath: string): Promise<{ lookup: StepLookup; store: StepStore }> {
  const store = await StepStore.open(dbPath, { wasmPath });
  const repo = await GitRepository.open(repoPath);
  const resolver = new StepCommitResolver(repo);
  return {
    store,
    lookup: {
      commitIndex: () => resolver.index(),
      stepsWithIds: async (ids) => store.stepsWithIds(ids),
      stepsWithCommits: async (commits) => store.stepsWithCommits(commits),
      hasRecordedRanges: async () => store.hasRecordedRanges(),
      repository: async () => repo,
    },
  };
}

/** Each line as `S<N> via` for a step's, the author for a commit no step made, `uncommitted`. */
function described(blame: FileBlame): string[] {
  assert.strictEqual(blame.kind, 'blamed');
  return blame.owners.map(ownerText);
}
function ownerText(o: LineOwner): string {
  return o.kind === 'step' ? `${o.step.label} ${o.via}` : o.kind === 'commit' ? `commit by ${o.commit.author}` : 'uncommitted';
}

const LIMIT = { maxBytes: 1 << 20 };

describe('Step blame (core/stepBlame)', function () {
  this.timeout(120_000);
  after(removeRepositories);

  describe('on a LaForge repository as LaForge writes it today', () => {
    let fixture: LaforgeFixture;
    let store: StepStore;
    let lookup: StepLookup;
    before(async () => {
      fixture = makeLaforgeToday();
      ({ store, lookup } = await lookupOf(fixture.dbPath, fixture.repoPath));
    });
    after(() => {
      store.close();
      fixture.rm();
    });
    const file = (p: string) => path.join(fixture.repoPath, p);
    const step = (title: string) => fixture.steps.find((s) => s.title === title)!;

    it('names the step whose note is on the commit, through the rename of a later step', async () => {
      // S2 wrote data/station.txt; S8 moved it unchanged: its lines are still S2's.
      assert.deepStrictEqual(described(await blameFile(lookup, file('test/fixtures/station.txt'), LIMIT)), ['S2 note', 'S2 note']);
      const parse = await blameFile(lookup, file('src/parse.ts'), LIMIT);
      const handled = step('Handle stations without low tides');
      assert.ok(described(parse).includes(`${handled.label} note`), described(parse).join(', '));
      const owner = (parse as Extract<FileBlame, { kind: 'blamed' }>).owners.find((o) => o.kind === 'step' && o.step.id === handled.id);
      assert.ok(owner && owner.kind === 'step');
      assert.strictEqual(owner.commit.commit, handled.commit, 'the step commit, as git blame names it');
    });

    it('names the step of a branch LaForge merged with a merge commit, and a person commit as no step', async () => {
      const stations = step('Add the station list');
      assert.strictEqual(stations.outcome, 'merge-commit');
      assert.deepStrictEqual(new Set(described(await blameFile(lookup, file('data/stations.json'), LIMIT))), new Set([`${stations.label} note`]));
      const licence = described(await blameFile(lookup, file('LICENSE'), LIMIT));
      assert.deepStrictEqual(new Set(licence), new Set(['commit by Sam Okafor']));
    });

    it('marks lines changed in the work tree as not committed, the others keep their step', async () => {
      const target = file('docs/sources.md');
      const before = described(await blameFile(lookup, target, LIMIT));
      const documented = step('Document the data sources');
      assert.deepStrictEqual(new Set(before), new Set([`${documented.label} note`]));
      const text = fs.readFileSync(target, 'utf8');
      fs.writeFileSync(target, text.replace('NOAA CO-OPS', 'NOAA CO-OPS (edited)') + 'A new line.\n');
      try {
        assert.deepStrictEqual(described(await blameFile(lookup, target, LIMIT)), [`${documented.label} note`, `${documented.label} note`, 'uncommitted', 'uncommitted']);
      } finally {
        fs.writeFileSync(target, text);
      }
    });

    it('gives a file git does not track as uncommitted, and skips large files, binary files and files outside the repository', async () => {
      write(fixture.repoPath, 'notes.txt', 'one\ntwo\n');
      write(fixture.repoPath, 'logo.bin', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]));
      write(fixture.repoPath, 'big.txt', 'x'.repeat(2048) + '\n');
      try {
        assert.deepStrictEqual(described(await blameFile(lookup, file('notes.txt'), LIMIT)), ['uncommitted', 'uncommitted']);
        assert.deepStrictEqual(await blameFile(lookup, file('logo.bin'), LIMIT), { kind: 'skipped', reason: 'binary', bytes: 6 });
        assert.deepStrictEqual(await blameFile(lookup, file('big.txt'), { maxBytes: 1024 }), { kind: 'skipped', reason: 'tooLarge', bytes: 2049 });
        assert.deepStrictEqual(await blameFile(lookup, path.join(fixture.root, 'elsewhere.txt'), LIMIT), { kind: 'skipped', reason: 'outsideRepository' });
      } finally {
        for (const f of ['notes.txt', 'logo.bin', 'big.txt']) fs.rmSync(file(f));
      }
    });
  });

  describe('on a repository whose database records each step\'s commits (the documented schema)', () => {
    let dir: string;
    let commits: Record<string, string>;
    let store: StepStore;
    let lookup: StepLookup;
    before(async () => {
      dir = makeRepo('step-blame-recorded');
      write(dir, 'app.ts', 'a\nb\nc\n');
      const base = commitAll(dir, 'Start');
      // S1: one commit, recorded as its commit after.
      write(dir, 'app.ts', 'a\nB by S1\nc\n');
      const s1 = commitAll(dir, 'S1 edits b');
      // S2: two commits; the database records the second.
      write(dir, 'app.ts', 'a\nB by S1\nc\nd by S2, first commit\n');
      const s2a = commitAll(dir, 'S2 part one');
      write(dir, 'app.ts', 'a\nB by S1\nc\nd by S2, first commit\ne by S2, second commit\n');
      const s2b = commitAll(dir, 'S2 part two');
      // A person's commit between steps.
      write(dir, 'app.ts', 'A by a person\nB by S1\nc\nd by S2, first commit\ne by S2, second commit\n');
      const person = commitAll(dir, 'A person edits a');
      // S3, rolled back in the database but left in the history; S4 conflicted and LaForge's
      // merge commit resolved the line.
      write(dir, 'app.ts', 'A by a person\nB by S1\nC by S3\nd by S2, first commit\ne by S2, second commit\n');
      const s3 = commitAll(dir, 'S3 edits c');
      git(dir, 'checkout', '-q', '-b', 'step-S4');
      write(dir, 'app.ts', 'A by S4\nB by S1\nC by S3\nd by S2, first commit\ne by S2, second commit\n');
      const s4 = commitAll(dir, 'S4 edits a');
      git(dir, 'checkout', '-q', 'main');
      write(dir, 'app.ts', 'A by a person, again\nB by S1\nC by S3\nd by S2, first commit\ne by S2, second commit\n');
      const person2 = commitAll(dir, 'A person edits a again');
      try {
        git(dir, 'merge', '-q', 'step-S4', '-m', 'Automerge step-S4 into main');
      } catch {
        write(dir, 'app.ts', 'A resolved in the merge\nB by S1\nC by S3\nd by S2, first commit\ne by S2, second commit\n');
        git(dir, 'add', 'app.ts');
        git(dir, 'commit', '-q', '-m', 'Automerge step-S4 into main');
      }
      const merge = git(dir, 'rev-parse', 'HEAD').trim();
      git(dir, 'branch', '-q', '-D', 'step-S4');
      commits = { base, s1, s2a, s2b, person, s3, s4, person2, merge };
      const db = path.join(makeRepo('step-blame-db'), 'steps.db');
      await writeWithSqlite(db, DOCUMENTED_SCHEMA, [
        stepRow(1, { commit_sha_before: base, commit_sha_after: s1 }),
        stepRow(2, { commit_sha_before: s1, commit_sha_after: s2b }),
        stepRow(3, { commit_sha_before: person, commit_sha_after: s3.slice(0, 12), active: 0 }),
        stepRow(4, { commit_sha_before: s3, commit_sha_after: s4 }),
      ]);
      ({ store, lookup } = await lookupOf(db, dir));
    });
    after(() => store.close());

    it('maps the recorded commit, a commit inside a recorded range, an abbreviated record, the merge that resolved a conflict, and a person\'s commit', async () => {
      const blame = await blameFile(lookup, path.join(dir, 'app.ts'), LIMIT);
      assert.deepStrictEqual(described(blame), ['S4 merge', 'S1 recorded', 'S3 recorded', 'S2 range', 'S2 recorded']);
      const owners = (blame as Extract<FileBlame, { kind: 'blamed' }>).owners;
      assert.strictEqual(owners[0].commit.commit, commits.merge);
      assert.strictEqual(owners[3].commit.commit, commits.s2a);
      const rolledBack = owners[2];
      assert.ok(rolledBack.kind === 'step' && rolledBack.step.active === false, 'S3 is rolled back in the database');
    });

    it('leaves a commit no step made as a commit', async () => {
      write(dir, 'other.ts', 'by a person\n');
      const only = commitAll(dir, 'A person adds other.ts');
      const blame = await blameFile(lookup, path.join(dir, 'other.ts'), LIMIT);
      assert.deepStrictEqual(described(blame), ['commit by Step History Tests']);
      assert.strictEqual((blame as Extract<FileBlame, { kind: 'blamed' }>).owners[0].commit.commit, only);
    });
  });
});
