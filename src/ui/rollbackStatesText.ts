/**
 * What Manage Kept Rollback States… says: one Quick Pick item per kept state, and the modal
 * confirmation before deleting. Pure functions with no `vscode` import, tested in plain Node.
 * Their words go through `@vscode/l10n`, each sentence whole.
 */
import * as l10n from '@vscode/l10n';
import type { KeptState, RollbackNeed } from '../core/rollbackRetention';
import { relativeTime } from './format';
import { stepRange } from './rollbackText';
import { shortHash } from '../core/figures';

/** `S17–S23 of ledgerline` from the journal; `from S17 on` from a stash's message; else `steps unknown`. */
export function keptStateSteps(state: KeptState): string {
  const j = state.journal;
  if (j) return l10n.t({ message: '{0} of {1}', args: [stepRange(j.stepIds), j.target.projectId], comment: 'steps S17–S23 of a project' });
  if (state.stepLabel) return l10n.t('from {0} on', state.stepLabel);
  return l10n.t('steps unknown');
}

/** `512 B`, `1.4 KB`, `2.0 MB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?';
  if (bytes < 1024) return l10n.t('{0} B', bytes);
  if (bytes < 1024 * 1024) return l10n.t('{0} KB', (bytes / 1024).toFixed(1));
  return l10n.t('{0} MB', (bytes / (1024 * 1024)).toFixed(1));
}

const KIND_LABEL: Record<KeptState['kind'], () => string> = {
  journal: () => `$(file) ${l10n.t('Journal')}`,
  backup: () => `$(git-commit) ${l10n.t('Backup ref')}`,
  stash: () => `$(archive) ${l10n.t('Stash')}`,
};

function rollbackStatus(state: KeptState): string {
  const phase = state.journal?.phase;
  if (!phase) return l10n.t('no journal');
  if (phase === 'done') return l10n.t('rollback finished');
  if (phase === 'undone') return l10n.t('rollback undone');
  return l10n.t('rollback did not finish');
}

const NEED_WORDS: Record<RollbackNeed, () => string> = {
  finish: () => l10n.t('needed to finish or revert it'),
  undo: () => l10n.t('needed to undo it'),
};

function size(state: KeptState): string {
  switch (state.kind) {
    case 'journal':
      return formatBytes(state.bytes);
    case 'backup': {
      const n = state.commitsOnNoBranch;
      if (n === undefined) return l10n.t({ message: 'ref', comment: 'a git ref, when how many commits only it keeps is unknown' });
      if (n === 0) return l10n.t('all its commits are on a branch');
      return n === 1 ? l10n.t('1 commit on no branch') : l10n.t('{0} commits on no branch', n);
    }
    case 'stash': {
      const n = state.files;
      if (state.stashIndex !== null) {
        const files = n === undefined ? l10n.t({ message: 'stash', comment: 'a git stash, when how many files it holds is unknown' }) : n === 1 ? l10n.t('1 file') : l10n.t('{0} files', n);
        return `${files}, stash@{${state.stashIndex}}`;
      }
      // Listed without a stash entry, a stash has its ref.
      const ref = String(state.ref);
      if (n === undefined) return l10n.t('stash, only in {0}', ref);
      return n === 1 ? l10n.t('1 file, only in {0}', ref) : l10n.t('{0} files, only in {1}', n, ref);
    }
  }
}

export interface KeptStateItemText {
  label: string;
  description: string;
  detail: string;
}

/**
 * A Quick Pick item for one state. Label: what it is; description: which steps and when;
 * detail: its size, the rollback's state, what still needs it, and the ref or file.
 */
export function keptStateItem(state: KeptState, now: Date = new Date()): KeptStateItemText {
  const where = state.kind === 'journal' ? state.file : state.kind === 'backup' ? state.ref : (state.ref ?? l10n.t('stash {0}', shortHash(state.commit)));
  const parts = [size(state), rollbackStatus(state)];
  if (state.neededFor) parts.push(NEED_WORDS[state.neededFor]());
  parts.push(where);
  return {
    label: KIND_LABEL[state.kind](),
    description: `${keptStateSteps(state)} · ${relativeTime(state.time, now)}`,
    detail: parts.join(' · '),
  };
}

/** A line of the confirmation on a state a rollback still needs: `• the journal of the rollback of S17–S23 of ledgerline, needed to undo it`. */
const NEEDED_LINES: Record<KeptState['kind'], Record<RollbackNeed, (steps: string) => string>> = {
  journal: {
    finish: (steps) => l10n.t('• the journal of the rollback of {0}, needed to finish or revert it', steps),
    undo: (steps) => l10n.t('• the journal of the rollback of {0}, needed to undo it', steps),
  },
  backup: {
    finish: (steps) => l10n.t('• the backup ref of the rollback of {0}, needed to finish or revert it', steps),
    undo: (steps) => l10n.t('• the backup ref of the rollback of {0}, needed to undo it', steps),
  },
  stash: {
    finish: (steps) => l10n.t('• the stash of the rollback of {0}, needed to finish or revert it', steps),
    undo: (steps) => l10n.t('• the stash of the rollback of {0}, needed to undo it', steps),
  },
};

/**
 * The modal confirmation: a question naming how many states, and a detail that lists the ones
 * a rollback still needs (and for what), then what deleting loses.
 */
export function deleteConfirmation(states: readonly KeptState[]): { message: string; detail: string } {
  const message = states.length === 1 ? l10n.t('Delete 1 kept rollback state?') : l10n.t('Delete {0} kept rollback states?', states.length);
  const needed = states.filter((s) => s.neededFor !== null);
  const lines: string[] = [];
  if (needed.length > 0) {
    lines.push(
      states.length === 1
        ? l10n.t('It is still needed:')
        : needed.length === states.length
          ? l10n.t('All of them are still needed:')
          : needed.length === 1
            ? l10n.t('1 of them is still needed:')
            : l10n.t('{0} of them are still needed:', needed.length),
    );
    for (const s of needed) lines.push(NEEDED_LINES[s.kind][s.neededFor!](keptStateSteps(s)));
    lines.push('');
  } else {
    lines.push(states.length === 1 ? l10n.t('No undo, finish or revert needs it.') : l10n.t('No undo, finish or revert needs them.'));
  }
  const backups = states.some((s) => s.kind === 'backup');
  const stashes = states.some((s) => s.kind === 'stash');
  if (backups && stashes) lines.push(l10n.t('Git may then remove commits only a backup ref keeps and work only a stash keeps when it next collects garbage.'));
  else if (backups) lines.push(l10n.t('Git may then remove commits only a backup ref keeps when it next collects garbage.'));
  else if (stashes) lines.push(l10n.t('Git may then remove work only a stash keeps when it next collects garbage.'));
  if (states.some((s) => s.kind === 'journal')) lines.push(l10n.t('Without its journal a rollback can no longer be finished, reverted or undone from Step History.'));
  return { message, detail: lines.join('\n').replace(/\n\n\n+/g, '\n\n') };
}
