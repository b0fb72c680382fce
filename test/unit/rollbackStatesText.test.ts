import * as assert from 'assert';
import type { RollbackJournal } from '../../src/core/rollback';
import type { KeptBackup, KeptJournal, KeptStash, KeptState } from '../../src/core/rollbackRetention';
import { deleteConfirmation, formatBytes, keptStateItem, keptStateSteps } from '../../src/ui/rollbackStatesText';

const now = new Date('2026-03-10T12:00:00Z');
const sha = (c: string) => c.repeat(40);

const journal: RollbackJournal = {
  id: '20260307T120000000Z-a1b2c3',
  createdAt: '2026-03-07T12:00:00.000Z',
  updatedAt: '2026-03-07T12:00:01.000Z',
  phase: 'done',
  target: { dbPath: '/w/ledgerline/steps.db', repositoryPath: '/w/ledgerline', projectId: 'ledgerline', stepId: 17 },
  stepLabel: 'S17',
  stepIds: [17, 18, 19, 20, 21, 22, 23],
  branch: 'main',
  oldHead: sha('a'),
  resetTo: sha('b'),
  backupRef: 'refs/step-history/backup/20260307T120000000Z-a1b2c3',
  stashRef: 'refs/step-history/stash/20260307T120000000Z-a1b2c3',
  stashCommit: sha('c'),
  database: { size: 4096, mtimeMs: 0, changeCounter: 1 },
  protect: true,
};

const base = {
  rollbackId: journal.id,
  repositoryRoot: '/w/ledgerline',
  time: new Date(journal.createdAt),
  journal,
  stepLabel: 'S17',
  neededFor: 'undo' as const,
};
const journalState: KeptJournal = { ...base, kind: 'journal', file: '/g/rollbacks/rollback-20260307T120000000Z-a1b2c3.json', bytes: 1434 };
const backup: KeptBackup = { ...base, kind: 'backup', ref: journal.backupRef, commit: sha('a'), commitsOnNoBranch: 7 };
const stash: KeptStash = { ...base, kind: 'stash', ref: journal.stashRef!, commit: sha('c'), stashIndex: 1, files: 2 };
const orphan: KeptBackup = {
  rollbackId: '20251224T180000000Z-d4e5f6',
  repositoryRoot: '/w/ledgerline',
  time: new Date('2025-12-24T18:00:00Z'),
  journal: null,
  stepLabel: null,
  neededFor: null,
  kind: 'backup',
  ref: 'refs/step-history/backup/20251224T180000000Z-d4e5f6',
  commit: sha('d'),
};

describe('kept rollback states as Quick Pick items', () => {
  it('names the steps from the journal, from a stash message, or says they are unknown', () => {
    assert.equal(keptStateSteps(journalState), 'S17–S23 of ledgerline');
    assert.equal(keptStateSteps({ ...orphan, stepLabel: 'S12' }), 'from S12 on');
    assert.equal(keptStateSteps(orphan), 'steps unknown');
  });

  it('says what each state is, for which steps, when, how big, and what needs it', () => {
    assert.deepEqual(keptStateItem(journalState, now), {
      label: '$(file) Journal',
      description: 'S17–S23 of ledgerline · 3d ago',
      detail: `1.4 KB · rollback finished · needed to undo it · ${journalState.file}`,
    });
    assert.deepEqual(keptStateItem(backup, now), {
      label: '$(git-commit) Backup ref',
      description: 'S17–S23 of ledgerline · 3d ago',
      detail: `7 commits on no branch · rollback finished · needed to undo it · ${journal.backupRef}`,
    });
    assert.equal(keptStateItem(stash, now).detail, `2 files, stash@{1} · rollback finished · needed to undo it · ${journal.stashRef}`);
    assert.equal(keptStateItem(orphan, now).detail, `ref · no journal · ${orphan.ref}`);
    assert.equal(keptStateItem(orphan, now).description, 'steps unknown · 2mo ago');
  });

  it('words sizes and states that differ', () => {
    assert.match(keptStateItem({ ...backup, commitsOnNoBranch: 1 }, now).detail, /^1 commit on no branch · /);
    assert.match(keptStateItem({ ...backup, commitsOnNoBranch: 0 }, now).detail, /^all its commits are on a branch · /);
    assert.match(keptStateItem({ ...stash, stashIndex: null, files: 1 }, now).detail, new RegExp(`^1 file, only in ${journal.stashRef}`));
    assert.equal(keptStateItem({ ...stash, ref: null, files: undefined }, now).detail, `stash, stash@{1} · rollback finished · needed to undo it · stash ccccccc`);
    const unfinished = { ...journalState, journal: { ...journal, phase: 'git-reset' as const }, neededFor: 'finish' as const };
    assert.match(keptStateItem(unfinished, now).detail, / · rollback did not finish · needed to finish or revert it · /);
    const undone = { ...journalState, journal: { ...journal, phase: 'undone' as const }, neededFor: null };
    assert.equal(keptStateItem(undone, now).detail, `1.4 KB · rollback undone · ${journalState.file}`);
  });

  it('formats bytes', () => {
    assert.deepEqual([0, 1023, 1024, 1536, 5 * 1024 * 1024, -1].map(formatBytes), ['0 B', '1023 B', '1.0 KB', '1.5 KB', '5.0 MB', '?']);
  });
});

describe('the confirmation before deleting kept rollback states', () => {
  it('lists the states still needed and what deleting them loses', () => {
    const unfinished: KeptState = { ...stash, journal: { ...journal, phase: 'backed-up' }, neededFor: 'finish' };
    const { message, detail } = deleteConfirmation([backup, unfinished, orphan]);
    assert.equal(message, 'Delete 3 kept rollback states?');
    assert.equal(
      detail,
      [
        '2 of them are still needed:',
        '• the backup ref of the rollback of S17–S23 of ledgerline, needed to undo it',
        '• the stash of the rollback of S17–S23 of ledgerline, needed to finish or revert it',
        '',
        'Git may then remove commits only a backup ref keeps and work only a stash keeps when it next collects garbage.',
      ].join('\n'),
    );
  });

  it('says so when nothing needs them, and what a journal is for', () => {
    const old = { ...journalState, neededFor: null };
    const { message, detail } = deleteConfirmation([old]);
    assert.equal(message, 'Delete 1 kept rollback state?');
    assert.equal(detail, 'No undo, finish or revert needs it.\nWithout its journal a rollback can no longer be finished, reverted or undone from Step History.');
    assert.match(deleteConfirmation([journalState]).detail, /^It is still needed:\n• the journal of the rollback of S17–S23 of ledgerline, needed to undo it\n/);
    assert.match(deleteConfirmation([journalState, backup]).detail, /^All of them are still needed:\n/);
  });
});
