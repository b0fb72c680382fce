/**
 * What the rollback commands say: the plan as a Markdown document, the confirmation's
 * detail, the undo and recovery sentences. Pure functions with no `vscode` import, so they
 * are tested in plain Node. Every value that comes from a database or from git (paths,
 * commit subjects, branch and project names) is escaped or put in a code span, so it shows
 * as the text it is and never as Markdown or HTML, and its control characters as escapes
 * (safeText).
 */
import { basename } from 'path';
import type { StatusEntry } from '../core/git';
import { repositoryRefusal, type JournalPhase, type RollbackJournal, type RollbackPlan } from '../core/rollback';
import { safeText } from '../shared/safeText';
import { changeWord, escapeMarkdown, projectName, stepDescription, stepLabel, stepModel } from './format';
import { shortHash } from '../core/figures';

/** How many entries a list in the plan shows before "and N more". */
export const PLAN_LIST_LIMIT = 200;

/**
 * A Markdown code span holding `text` literally: the fence is one backtick longer than the
 * longest run inside, line breaks become spaces and control characters escapes. Code spans
 * show HTML and Markdown as text.
 */
export function codeSpan(text: string): string {
  const flat = safeText(text.replace(/\r\n|\r|\n/g, ' '));
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') || flat.length === 0 ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

export const shortSha = (sha: string | null | undefined): string => (sha ? shortHash(sha) : 'none');

/** `S20–S22` for a run of ids, `S3, S5, S9` otherwise, `S7` for one. */
export function stepRange(ids: readonly number[]): string {
  const sorted = [...ids].sort((a, b) => a - b);
  if (sorted.length === 0) return 'no steps';
  if (sorted.length === 1) return `S${sorted[0]}`;
  const contiguous = sorted.every((id, i) => i === 0 || id === sorted[i - 1] + 1);
  return contiguous ? `S${sorted[0]}–S${sorted[sorted.length - 1]}` : sorted.map((id) => `S${id}`).join(', ');
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** A list of at most `limit` Markdown bullet lines, then "and N more". */
function bullets<T>(items: readonly T[], line: (item: T) => string, limit = PLAN_LIST_LIMIT): string[] {
  const lines = items.slice(0, limit).map((item) => `- ${line(item)}`);
  if (items.length > limit) lines.push(`- … and ${items.length - limit} more`);
  return lines;
}

const entryLine = (entry: StatusEntry): string =>
  `${codeSpan(entry.path)} — ${changeWord(entry.status).toLowerCase()}${entry.oldPath ? ` from ${codeSpan(entry.oldPath)}` : ''}`;

/** What happens to the step database's own files: never stashed or reset; kept and put back when git tracks it; a leftover log folded in. */
function databaseLines(plan: RollbackPlan): string[] {
  const lines: string[] = [];
  const inTree = plan.protectedPaths.filter((p) => !p.endsWith('-wal') && !p.endsWith('-shm') && !p.endsWith('-journal'));
  if (inTree.length > 0) {
    lines.push(`Inside the work tree: ${inTree.map(codeSpan).join(', ')}. No stash, reset or checkout takes, moves or overwrites the database, its \`-wal\`, \`-shm\` and \`-journal\`, or the rollback journals.`);
  }
  if (plan.protectedKept.length > 0) {
    lines.push(
      '',
      `Git tracks ${plan.protectedKept.map(codeSpan).join(', ')} (or the reset target has it): a reset would put an old version in its place, so its current bytes are kept beside the rollback journal and put back right after the reset, before the steps are marked.`,
    );
  }
  if (plan.leftoverWal) {
    lines.push(
      '',
      'Its write-ahead log was left by a program that has exited: it is folded into the database file before the steps are marked, and a copy of the log is kept beside the rollback journal.',
    );
  }
  return lines;
}

/** The plan's section on the steps still running. */
function runningLines(plan: RollbackPlan): string[] {
  const lines = plan.runningSteps.length ? bullets(plan.runningSteps, (s) => `**${escapeMarkdown(s.label)}** is still running`) : ['None.'];
  return [`## Running steps (${plan.runningSteps.length})`, '', ...lines, ''];
}

export interface PlanDocumentContext {
  /** The database as the views name it. */
  databaseLabel: string;
  /** How the actions are named where the plan is read; the editor's buttons by default. */
  wording?: PlanWording;
  /** The steps' titles by step id (see stepTitles): each step of the list is named by its own. */
  titles?: ReadonlyMap<number, string>;
}

export interface PlanWording {
  /** What keeps the work safe and rolls back. */
  protect: string;
  /** What undoes the rollback. */
  undo: string;
  /** The sentence on how to see the files' diff; null where there is none. */
  showChanges: string | null;
}

export const EDITOR_PLAN_WORDING: PlanWording = {
  protect: '**Keep My Work Safe and Roll Back**',
  undo: '**Undo Last Rollback**',
  showChanges: '**Show Changes** in the confirmation opens them in a diff, from HEAD to the reset target.',
};

/**
 * The plan as Markdown: what the rollback will do and what it found, before anything
 * changes. Meant for a read-only document; nothing in it is trusted or runs.
 */
export function planMarkdown(plan: RollbackPlan, context: PlanDocumentContext): string {
  const out: string[] = [];
  const { target, step } = plan;
  const wording = context.wording ?? EDITOR_PLAN_WORDING;
  out.push(`# Roll back ${escapeMarkdown(projectName(target.projectId))} to before ${escapeMarkdown(step.label)}`, '');
  out.push(escapeMarkdown(plan.summary), '');
  out.push(`Database ${codeSpan(context.databaseLabel)}, repository ${codeSpan(target.repositoryPath)}.`, '');

  if (plan.refusals.length > 0) {
    out.push('## Refused: nothing will change', '');
    for (const r of plan.refusals) out.push(`- **${escapeMarkdown(r.message)}** ${escapeMarkdown(r.remedy)}`);
    out.push('');
  } else if (plan.needsProtection) {
    out.push('## Your work is kept safe first', '');
    out.push(
      `There is work that a plain reset would lose. ${wording.protect} first puts ` +
        'the uncommitted changes and the untracked files a reset would overwrite in a stash kept under ' +
        `a named ref, and keeps the commits below under a backup ref; ${wording.undo} brings them back.`,
      '',
    );
  }

  // A refused plan changes nothing: its steps are the ones a rollback would mark.
  const marked = plan.refusals.length > 0 ? 'Steps a rollback would mark rolled back' : 'Steps marked rolled back';
  out.push(`## ${marked} (${plan.stepsToDeactivate.length})`, '');
  out.push(
    ...bullets(plan.stepsToDeactivate, (s) => {
      const task = s.agentConfig?.metadata?.task;
      const parts = [`**${escapeMarkdown(stepLabel(s, context.titles?.get(s.id)))}**`, escapeMarkdown(stepDescription(s))];
      const model = stepModel(s);
      if (model) parts.push(escapeMarkdown(model));
      return `${parts.join(' · ')}${task ? ` — ${escapeMarkdown(task)}` : ''}`;
    }),
    '',
  );

  // Without the repository nothing below was read: saying HEAD is off the line, or that no
  // file changes, would be findings the plan never made.
  const noRepository = repositoryRefusal(plan);
  if (noRepository) {
    out.push(
      noRepository.code === 'GIT_MISSING'
        ? 'Without git, the branch, the files a rollback would change and uncommitted work cannot be read, so they are not listed.'
        : 'Without a git repository there is no branch to move and no files a rollback would change, so they are not listed.',
      '',
    );
    out.push(...runningLines(plan));
    return out.join('\n');
  }

  out.push('## Branch', '');
  if (plan.branch) {
    out.push(`${codeSpan(plan.branch)} moves from ${codeSpan(shortSha(plan.head))} to ${codeSpan(shortSha(plan.resetTo))}, ${escapeMarkdown(step.label)}'s commit before.`);
  } else {
    out.push(`HEAD is ${plan.detached ? `detached at ${codeSpan(shortSha(plan.head))}` : 'not on a branch'}; the reset target is ${codeSpan(shortSha(plan.resetTo))}.`);
  }
  if (!plan.headOnLine) out.push('', '**HEAD is not on the line of these steps**: the branch has moved away from the commits they recorded.');
  out.push('');

  out.push(`## Files that change (${plan.filesToChange.length})`, '');
  if (plan.filesToChange.length === 0) out.push('No tracked file changes between HEAD and the reset target.');
  else {
    if (wording.showChanges) out.push(wording.showChanges, '');
    out.push(
      ...bullets(plan.filesToChange, (f) => {
        const counts = f.binary ? 'binary' : f.added === null ? '' : `+${f.added} −${f.removed ?? 0}`;
        const from = f.oldPath && f.oldPath !== f.path ? ` from ${codeSpan(f.oldPath)}` : '';
        return `${codeSpan(f.path)} — ${changeWord(f.status).toLowerCase()}${from}${counts ? ` (${counts})` : ''}`;
      }),
    );
  }
  out.push('');

  const uncommitted = plan.staged.length + plan.unstaged.length;
  out.push(`## Uncommitted changes (${uncommitted})`, '');
  if (uncommitted === 0) out.push('None.');
  if (plan.staged.length > 0) out.push('Staged:', '', ...bullets(plan.staged, entryLine), '');
  if (plan.unstaged.length > 0) out.push('Not staged:', '', ...bullets(plan.unstaged, entryLine));
  out.push('');

  out.push(`## Untracked files a reset would overwrite (${plan.untrackedOverwritten.length})`, '');
  out.push(...(plan.untrackedOverwritten.length ? bullets(plan.untrackedOverwritten, codeSpan) : ['None.']), '');

  if (plan.ignoredOverwritten.length > 0) {
    out.push(`## Ignored files a reset would overwrite (${plan.ignoredOverwritten.length})`, '');
    out.push(...bullets(plan.ignoredOverwritten, codeSpan), '');
  }

  if (plan.untrackedKept.length > 0) {
    out.push(`## Untracked files left as they are (${plan.untrackedKept.length})`, '');
    out.push(...bullets(plan.untrackedKept, codeSpan), '');
  }

  const database = databaseLines(plan);
  if (database.length > 0) out.push('## The step database', '', ...database, '');
  if (plan.taskDatabase) {
    out.push(
      '## The task database',
      '',
      `${codeSpan(basename(plan.taskDatabase.backup))}, the copy of the task database LaForge made before ${escapeMarkdown(step.label)}, is beside the step database. ` +
        `The confirmation offers to put it in place of ${codeSpan(basename(plan.taskDatabase.current))}, as LaForge's own rollback did; the current one is kept first, and **Undo Last Rollback** puts it back.`,
      '',
    );
  }

  out.push(`## Commits no step recorded (${plan.foreignCommits.length})`, '');
  if (plan.foreignCommits.length === 0) out.push('None: every commit on the branch after these steps belongs to a step.');
  else {
    out.push('Someone else\'s work after the last step; it leaves the branch but stays under the backup ref.', '');
    out.push(...bullets(plan.foreignCommits, (c) => `${codeSpan(shortSha(c.sha))} ${escapeMarkdown(c.subject)}`));
  }
  out.push('');

  out.push(...runningLines(plan));

  out.push('Other ignored files are never touched.', '');
  return out.join('\n');
}

/** The confirmation's detail (plain text): what is kept safe, and where. */
export function confirmationDetail(plan: RollbackPlan): string {
  const lines: string[] = [];
  lines.push(`Steps ${stepRange(plan.stepsToDeactivate.map((s) => s.id))} are marked rolled back; ${plural(plan.filesToChange.length, 'file')} change.`);
  if (plan.needsProtection) {
    const work = [...plan.staged, ...plan.unstaged].map((e) => e.path);
    // Only what the reset would overwrite is stashed; other untracked files stay where they are.
    const untracked = plan.untrackedOverwritten.length + plan.ignoredOverwritten.length;
    if (work.length > 0 || untracked > 0) {
      const shown = work.slice(0, 5).map((p) => safeText(p)).join(', ') + (work.length > 5 ? `, and ${work.length - 5} more` : '');
      const parts: string[] = [];
      if (work.length > 0) parts.push(`${plural(work.length, 'uncommitted change')} (${shown})`);
      if (untracked > 0) parts.push(`${plural(untracked, 'untracked file')} the reset would overwrite`);
      lines.push(`Stashed first, under refs/step-history/stash/: ${parts.join(' and ')}.`);
    }
    if (plan.foreignCommits.length > 0) {
      const shown = plan.foreignCommits.slice(0, 5).map((c) => `${shortSha(c.sha)} ${safeText(c.subject.replace(/\s+/g, ' '))}`);
      if (plan.foreignCommits.length > 5) shown.push(`and ${plan.foreignCommits.length - 5} more`);
      lines.push(`Kept under a backup ref (refs/step-history/backup/): ${plural(plan.foreignCommits.length, 'commit')} no step recorded: ${shown.join('; ')}.`);
    }
  }
  lines.push('Undo Last Rollback puts everything back.');
  return lines.join('\n\n');
}

/**
 * What the editor says while a rollback waits out the passing states that refused it (steps
 * still running, the step database busy), and once they are over. Plain text.
 */
export function passingStateSentences(plan: RollbackPlan): { waiting: string; over: string } {
  const labels = plan.runningSteps.map((s) => safeText(s.label));
  const running = labels.length > 0 ? `${labels.join(', ')} ${labels.length === 1 ? 'is' : 'are'} still running` : '';
  const busy = plan.refusals.find((r) => r.code === 'DATABASE_BUSY');
  const target = safeText(plan.step.label);
  if (running && busy) {
    return {
      waiting: `${running} and the step database is busy. Waiting for them to end before you can roll back to ${target}…`,
      over: `${labels.join(', ')} ${labels.length === 1 ? 'has' : 'have'} finished and the step database is free: you can roll back to ${target} now.`,
    };
  }
  if (busy) {
    return {
      waiting: `${safeText(busy.message)} Waiting for it to be free before you can roll back to ${target}…`,
      over: `The step database is free again: you can roll back to ${target} now.`,
    };
  }
  return {
    waiting: `${running}. Waiting for ${labels.length === 1 ? 'it' : 'them'} to finish before you can roll back to ${target}…`,
    over: `${labels.join(', ')} ${labels.length === 1 ? 'has' : 'have'} finished: you can roll back to ${target} now.`,
  };
}

const PHASES: Record<JournalPhase, string> = {
  planned: 'before anything changed',
  'backed-up': 'after the backup, before the branch was reset',
  'git-reset': 'after the branch was reset, before the database was written',
  'database-written': 'after the database was written',
  done: 'finished',
  undone: 'undone',
};

export const phaseDescription = (phase: JournalPhase): string => PHASES[phase] ?? phase;

/** The recovery notification: `A rollback of ledgerline to S12 stopped half-way (…).` */
export function pendingSentence(journal: RollbackJournal): string {
  return `A rollback of ${projectName(journal.target.projectId)} to ${journal.stepLabel} stopped half-way (${phaseDescription(journal.phase)}).`;
}

/** The undo confirmation, one sentence. */
export function undoSentence(journal: RollbackJournal): string {
  const stash = journal.stashRef ? ', and re-applies the work kept in the stash' : '';
  return (
    `Undoing the rollback of ${projectName(journal.target.projectId)} to ${journal.stepLabel} returns ${safeText(journal.branch)} to ` +
    `${shortSha(journal.oldHead)}, marks ${stepRange(journal.stepIds)} active again${stash}.`
  );
}
