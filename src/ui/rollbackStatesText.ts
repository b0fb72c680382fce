/**
 * What Manage Kept Rollback States… says: one Quick Pick item per kept state, and the modal
 * confirmation before deleting. Pure functions with no `vscode` import, tested in plain Node.
 */
import type { KeptState, RollbackNeed } from '../core/rollbackRetention';
import { relativeTime } from './format';
import { stepRange } from './rollbackText';
import { shortHash } from '../core/figures';

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** `S17–S23 of ledgerline` from the journal; `from S17 on` from a stash's message; else `steps unknown`. */
export function keptStateSteps(state: KeptState): string {
  const j = state.journal;
  if (j) return `${stepRange(j.stepIds)} of ${j.target.projectId}`;
  if (state.stepLabel) return `from ${state.stepLabel} on`;
  return 'steps unknown';
}

/** `512 B`, `1.4 KB`, `2.0 MB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

const KIND_LABEL: Record<KeptState['kind'], string> = {
  journal: '$(file) Journal',
  backup: '$(git-commit) Backup ref',
  stash: '$(archive) Stash',
};

function rollbackStatus(state: KeptState): string {
  const phase = state.journal?.phase;
  if (!phase) return 'no journal';
  if (phase === 'done') return 'rollback finished';
  if (phase === 'undone') return 'rollback undone';
  return 'rollback did not finish';
}

const NEED_WORDS: Record<RollbackNeed, string> = {
  finish: 'needed to finish or revert it',
  undo: 'needed to undo it',
};

function size(state: KeptState): string {
  switch (state.kind) {
    case 'journal':
      return formatBytes(state.bytes);
    case 'backup':
      return state.commitsOnNoBranch === undefined ? 'ref' : state.commitsOnNoBranch === 0 ? 'all its commits are on a branch' : `${plural(state.commitsOnNoBranch, 'commit')} on no branch`;
    case 'stash': {
      const files = state.files === undefined ? 'stash' : plural(state.files, 'file');
      return state.stashIndex === null ? `${files}, only in ${state.ref}` : `${files}, stash@{${state.stashIndex}}`;
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
  const where = state.kind === 'journal' ? state.file : state.kind === 'backup' ? state.ref : (state.ref ?? `stash ${shortHash(state.commit)}`);
  const parts = [size(state), rollbackStatus(state)];
  if (state.neededFor) parts.push(NEED_WORDS[state.neededFor]);
  parts.push(where);
  return {
    label: KIND_LABEL[state.kind],
    description: `${keptStateSteps(state)} · ${relativeTime(state.time, now)}`,
    detail: parts.join(' · '),
  };
}

const KIND_WORD: Record<KeptState['kind'], string> = { journal: 'journal', backup: 'backup ref', stash: 'stash' };

/**
 * The modal confirmation: a question naming how many states, and a detail that lists the ones
 * a rollback still needs (and for what), then what deleting loses.
 */
export function deleteConfirmation(states: readonly KeptState[]): { message: string; detail: string } {
  const message = `Delete ${plural(states.length, 'kept rollback state')}?`;
  const needed = states.filter((s) => s.neededFor !== null);
  const lines: string[] = [];
  if (needed.length > 0) {
    const who = states.length === 1 ? 'It is' : needed.length === states.length ? 'All of them are' : plural(needed.length, 'of them is', 'of them are');
    lines.push(`${who} still needed:`);
    for (const s of needed) lines.push(`• the ${KIND_WORD[s.kind]} of the rollback of ${keptStateSteps(s)}, ${NEED_WORDS[s.neededFor!]}`);
    lines.push('');
  } else {
    lines.push(`No undo, finish or revert needs ${states.length === 1 ? 'it' : 'them'}.`);
  }
  const losing: string[] = [];
  if (states.some((s) => s.kind === 'backup')) losing.push('commits only a backup ref keeps');
  if (states.some((s) => s.kind === 'stash')) losing.push('work only a stash keeps');
  if (losing.length) lines.push(`Git may then remove ${losing.join(' and ')} when it next collects garbage.`);
  if (states.some((s) => s.kind === 'journal')) lines.push('Without its journal a rollback can no longer be finished, reverted or undone from Step History.');
  return { message, detail: lines.join('\n').replace(/\n\n\n+/g, '\n\n') };
}
