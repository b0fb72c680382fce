import * as assert from 'node:assert/strict';
import { StepFieldError } from '../../src/core/errors';
import {
  BINARY_NOTICE, changesTitle, decodeDocumentRef, documentText, encodeDocumentRef, planFileDiff, stepComparison, withUntracked, workingTreeBase,
} from '../../src/core/diffPlan';
import type { ChangedFile } from '../../src/core/git';
import { stepFromRow, type Step } from '../../src/core/model';
import { stepCommitIndex } from '../../src/core/stepCommits';
import { hex, stepRow } from '../fixtures/stepFixtures';

const before = '1'.repeat(40);
const after = '2'.repeat(40);
const file = (f: Partial<ChangedFile> & { path: string }): ChangedFile => ({ status: 'modified', added: 1, removed: 1, binary: false, ...f });

describe('diff plan: one file', () => {
  it('diffs a modified file from the commit before to the commit after', () => {
    const plan = planFileDiff(file({ path: 'src/a.ts' }), before, { kind: 'commit', commit: after }, 'S12');
    assert.deepEqual(plan.left, { kind: 'commit', commit: before, path: 'src/a.ts', binary: false });
    assert.deepEqual(plan.right, { kind: 'commit', commit: after, path: 'src/a.ts', binary: false });
    assert.equal(plan.title, 'src/a.ts (S12)');
  });

  it('puts nothing on the left of an added file and nothing on the right of a deleted one', () => {
    const added = planFileDiff(file({ path: 'n.ts', status: 'added' }), before, { kind: 'commit', commit: after }, 'S1');
    assert.deepEqual(added.left, { kind: 'absent', path: 'n.ts' });
    assert.equal(added.right.kind, 'commit');
    const deleted = planFileDiff(file({ path: 'd.ts', status: 'deleted' }), before, { kind: 'workingTree' }, 'S1');
    assert.deepEqual(deleted.right, { kind: 'absent', path: 'd.ts' });
    assert.equal(deleted.left.kind, 'commit');
  });

  it('shows a renamed file under its old path on the left', () => {
    const plan = planFileDiff(file({ path: 'new.ts', oldPath: 'old.ts', status: 'renamed' }), before, { kind: 'commit', commit: after }, 'S3');
    assert.equal(plan.left.path, 'old.ts');
    assert.equal(plan.right.path, 'new.ts');
    assert.equal(plan.title, 'old.ts → new.ts (S3)');
  });

  it('uses the work-tree file on the right when comparing with the work tree', () => {
    const plan = planFileDiff(file({ path: 'a.ts' }), after, { kind: 'workingTree' }, 'S3 ↔ Working Tree');
    assert.deepEqual(plan.right, { kind: 'workingTree', path: 'a.ts' });
  });

  it('marks known binary files so their content is never read', () => {
    const plan = planFileDiff(file({ path: 'i.png', binary: true, added: null, removed: null }), before, { kind: 'commit', commit: after }, 'S3');
    assert.equal(plan.left.kind === 'commit' && plan.left.binary, true);
  });

  it('titles the multi-file editor', () => {
    assert.equal(changesTitle('S12', 14), 'S12: 14 files changed');
    assert.equal(changesTitle('S12', 1), 'S12: 1 file changed');
    // The multi-file diff editor counts the files itself: "S12 · Changes (14 files)", not "… 14 files changed (14 files)".
    assert.equal(changesTitle('S12', 14, true), 'S12 · Changes');
  });
});

describe('diff plan: document references', () => {
  it('round-trips through a URI query, including odd paths', () => {
    for (const ref of [
      { database: '/w/steps.db', commit: before, path: 'src/a b/ü?#&.ts' },
      { database: 'C:\\w\\steps.db', commit: null, path: 'x' },
      { database: 'd', commit: after, path: 'bin', binary: true },
    ]) {
      assert.deepEqual(decodeDocumentRef(encodeDocumentRef(ref)), ref);
    }
  });

  it('refuses queries that are not ours, or name something that is not a commit hash', () => {
    for (const bad of ['', 'x', '{}', '[]', 'null', JSON.stringify({ db: 'd', commit: 'HEAD', path: 'a' }), JSON.stringify({ db: 'd', commit: before, path: '' }), JSON.stringify({ db: 1, commit: before, path: 'a' })]) {
      assert.equal(decodeDocumentRef(bad), undefined, bad);
    }
  });
});

describe('diff plan: content', () => {
  it('decodes UTF-8 and drops a BOM', () => {
    assert.equal(documentText(Buffer.from('\ufeffcafé 日本\n', 'utf8')), 'café 日本\n');
  });

  it('shows one line instead of binary content', () => {
    assert.equal(documentText(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2])), BINARY_NOTICE);
    assert.equal(documentText(Buffer.alloc(0)), '');
  });
});

describe('diff plan: which commits', () => {
  /** What a repository without notes or step branches answers: the recorded commit, or none. */
  const recorded = (step: Step) => stepCommitIndex({ notes: [], branches: [] }).resolve(step);

  it('compares a finished step from its commit after, a running one from its commit before', () => {
    const done = stepFromRow(stepRow(5));
    assert.equal(workingTreeBase(done, recorded(done)), done.commitAfter);
    const running = stepFromRow(stepRow(6, { end_time: null, commit_sha_after: '' }));
    assert.equal(running.status, 'RUNNING');
    assert.equal(workingTreeBase(running, recorded(running)), running.commitBefore);
  });

  it('compares a step LaForge recorded with commit after = commit before from the commit its note names', () => {
    const step = stepFromRow(stepRow(5, { commit_sha_after: hex(5, 40) }));
    assert.equal(step.commitAfter, step.commitBefore);
    const noted = 'ab'.repeat(20);
    const commit = stepCommitIndex({ notes: [{ object: noted, text: 'Step-id: S5\n' }], branches: [] }).resolve(step);
    assert.deepEqual([commit.source, commit.commit], ['note', noted]);
    assert.equal(workingTreeBase(step, commit), noted);
    const s9 = stepFromRow(stepRow(9, { commit_sha_after: hex(9, 40) }));
    const c = stepComparison({ step: s9, commit: recorded(s9) }, { step, commit });
    assert.deepEqual([c.from, c.to], [noted, s9.commitBefore]);
  });

  it('refuses a finished step without a valid commit after, with the model sentence', () => {
    const bad = stepFromRow(stepRow(7, { commit_sha_after: '--output=x' }));
    assert.throws(() => workingTreeBase(bad, recorded(bad)), (e: unknown) => e instanceof StepFieldError && e.message === `S7 has no valid commit after: "--output=x" is not a commit hash.`);
  });

  it('compares two steps from the older one\'s commit after to the newer one\'s, in either order', () => {
    const s5 = stepFromRow(stepRow(5));
    const s9 = stepFromRow(stepRow(9));
    for (const [a, b] of [[s5, s9], [s9, s5]]) {
      const c = stepComparison({ step: a, commit: recorded(a) }, { step: b, commit: recorded(b) });
      assert.equal(c.older, s5);
      assert.equal(c.from, s5.commitAfter);
      assert.equal(c.to, s9.commitAfter);
      assert.equal(c.label, 'S5 ↔ S9');
    }
  });

  it('adds untracked files as added, once, in path order', () => {
    const merged = withUntracked([file({ path: 'b.ts' })], ['c.ts', 'a.ts', 'b.ts']);
    assert.deepEqual(merged.map((f) => [f.path, f.status]), [['a.ts', 'added'], ['b.ts', 'modified'], ['c.ts', 'added']]);
  });
});
