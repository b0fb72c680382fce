/**
 * What the rollback commands say: the plan as a Markdown document, the confirmation's
 * detail, the undo and recovery sentences. Pure functions with no `vscode` import, so they
 * are tested in plain Node. Every value that comes from a database or from git (paths,
 * commit subjects, branch and project names) is escaped or put in a code span, so it shows
 * as the text it is and never as Markdown or HTML, and its control characters as escapes
 * (safeText). Their words go through `@vscode/l10n`, each sentence whole; the Markdown around
 * a heading or a list item stays outside.
 */
import * as l10n from '@vscode/l10n';
import { basename } from 'path';
import type { StatusEntry } from '../core/git';
import { repositoryRefusal, type JournalPhase, type RollbackJournal, type RollbackPlan } from '../core/rollback';
import { safeText } from '../shared/safeText';
import { changeWordInText, escapeMarkdown, projectName, stepDescription, stepLabel, stepModel } from './format';
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

export const shortSha = (sha: string | null | undefined): string => (sha ? shortHash(sha) : l10n.t({ message: 'none', comment: 'no commit' }));

/** `S20–S22` for a run of ids, `S3, S5, S9` otherwise, `S7` for one. */
export function stepRange(ids: readonly number[]): string {
  const sorted = [...ids].sort((a, b) => a - b);
  if (sorted.length === 0) return l10n.t('no steps');
  if (sorted.length === 1) return `S${sorted[0]}`;
  const contiguous = sorted.every((id, i) => i === 0 || id === sorted[i - 1] + 1);
  return contiguous ? `S${sorted[0]}–S${sorted[sorted.length - 1]}` : sorted.map((id) => `S${id}`).join(', ');
}

/** A list of at most `limit` Markdown bullet lines, then "and N more". */
function bullets<T>(items: readonly T[], line: (item: T) => string, limit = PLAN_LIST_LIMIT): string[] {
  const lines = items.slice(0, limit).map((item) => `- ${line(item)}`);
  if (items.length > limit) lines.push(`- ${l10n.t('… and {0} more', items.length - limit)}`);
  return lines;
}

const entryLine = (entry: StatusEntry): string =>
  entry.oldPath
    ? l10n.t('{0} — {1} from {2}', codeSpan(entry.path), changeWordInText(entry.status), codeSpan(entry.oldPath))
    : `${codeSpan(entry.path)} — ${changeWordInText(entry.status)}`;

/** What happens to the step database's own files: never stashed or reset; kept and put back when git tracks it; a leftover log folded in. */
function databaseLines(plan: RollbackPlan): string[] {
  const lines: string[] = [];
  const inTree = plan.protectedPaths.filter((p) => !p.endsWith('-wal') && !p.endsWith('-shm') && !p.endsWith('-journal'));
  if (inTree.length > 0) {
    lines.push(
      l10n.t(
        'Inside the work tree: {0}. No stash, reset or checkout takes, moves or overwrites the database, its `-wal`, `-shm` and `-journal`, or the rollback journals.',
        inTree.map(codeSpan).join(', '),
      ),
    );
  }
  if (plan.protectedKept.length > 0) {
    lines.push(
      '',
      l10n.t(
        'Git tracks {0} (or the reset target has it): a reset would put an old version in its place, so its current bytes are kept beside the rollback journal and put back right after the reset, before the steps are marked.',
        plan.protectedKept.map(codeSpan).join(', '),
      ),
    );
  }
  if (plan.leftoverWal) {
    lines.push(
      '',
      l10n.t('Its write-ahead log was left by a program that has exited: it is folded into the database file before the steps are marked, and a copy of the log is kept beside the rollback journal.'),
    );
  }
  return lines;
}

/** The plan's section on the steps still running. */
function runningLines(plan: RollbackPlan): string[] {
  const lines = plan.runningSteps.length ? bullets(plan.runningSteps, (s) => l10n.t('**{0}** is still running', escapeMarkdown(s.label))) : [l10n.t('None.')];
  return [`## ${l10n.t('Running steps ({0})', plan.runningSteps.length)}`, '', ...lines, ''];
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

/** The editor's wording: its buttons and commands, in bold. */
export const editorPlanWording = (): PlanWording => ({
  protect: `**${l10n.t('Keep My Work Safe and Roll Back')}**`,
  undo: `**${l10n.t('Undo Last Rollback')}**`,
  showChanges: l10n.t('{0} in the confirmation opens them in a diff, from HEAD to the reset target.', `**${l10n.t('Show Changes')}**`),
});

/**
 * The plan as Markdown: what the rollback will do and what it found, before anything
 * changes. Meant for a read-only document; nothing in it is trusted or runs.
 */
export function planMarkdown(plan: RollbackPlan, context: PlanDocumentContext): string {
  const out: string[] = [];
  const { target, step } = plan;
  const wording = context.wording ?? editorPlanWording();
  out.push(`# ${l10n.t('Roll back {0} to before {1}', escapeMarkdown(projectName(target.projectId)), escapeMarkdown(step.label))}`, '');
  out.push(escapeMarkdown(plan.summary), '');
  out.push(l10n.t('Database {0}, repository {1}.', codeSpan(context.databaseLabel), codeSpan(target.repositoryPath)), '');

  if (plan.refusals.length > 0) {
    out.push(`## ${l10n.t('Refused: nothing will change')}`, '');
    for (const r of plan.refusals) out.push(`- **${escapeMarkdown(r.message)}** ${escapeMarkdown(r.remedy)}`);
    out.push('');
  } else if (plan.needsProtection) {
    out.push(`## ${l10n.t('Your work is kept safe first')}`, '');
    out.push(
      l10n.t(
        'There is work that a plain reset would lose. {0} first puts the uncommitted changes and the untracked files a reset would overwrite in a stash kept under a named ref, and keeps the commits below under a backup ref; {1} brings them back.',
        wording.protect,
        wording.undo,
      ),
      '',
    );
  }

  // A refused plan changes nothing: its steps are the ones a rollback would mark.
  const marked = plan.refusals.length > 0
    ? l10n.t('Steps a rollback would mark rolled back ({0})', plan.stepsToDeactivate.length)
    : l10n.t('Steps marked rolled back ({0})', plan.stepsToDeactivate.length);
  out.push(`## ${marked}`, '');
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
        ? l10n.t('Without git, the branch, the files a rollback would change and uncommitted work cannot be read, so they are not listed.')
        : l10n.t('Without a git repository there is no branch to move and no files a rollback would change, so they are not listed.'),
      '',
    );
    out.push(...runningLines(plan));
    return out.join('\n');
  }

  out.push(`## ${l10n.t('Branch')}`, '');
  if (plan.branch) {
    out.push(l10n.t("{0} moves from {1} to {2}, {3}'s commit before.", codeSpan(plan.branch), codeSpan(shortSha(plan.head)), codeSpan(shortSha(plan.resetTo)), escapeMarkdown(step.label)));
  } else if (plan.detached) {
    out.push(l10n.t('HEAD is detached at {0}; the reset target is {1}.', codeSpan(shortSha(plan.head)), codeSpan(shortSha(plan.resetTo))));
  } else {
    out.push(l10n.t('HEAD is not on a branch; the reset target is {0}.', codeSpan(shortSha(plan.resetTo))));
  }
  if (!plan.headOnLine) out.push('', l10n.t('**HEAD is not on the line of these steps**: the branch has moved away from the commits they recorded.'));
  out.push('');

  out.push(`## ${l10n.t('Files that change ({0})', plan.filesToChange.length)}`, '');
  if (plan.filesToChange.length === 0) out.push(l10n.t('No tracked file changes between HEAD and the reset target.'));
  else {
    if (wording.showChanges) out.push(wording.showChanges, '');
    out.push(
      ...bullets(plan.filesToChange, (f) => {
        const counts = f.binary ? l10n.t('binary') : f.added === null ? '' : `+${f.added} −${f.removed ?? 0}`;
        const [path, how] = [codeSpan(f.path), changeWordInText(f.status)];
        if (f.oldPath && f.oldPath !== f.path) {
          const from = codeSpan(f.oldPath);
          return counts ? l10n.t('{0} — {1} from {2} ({3})', path, how, from, counts) : l10n.t('{0} — {1} from {2}', path, how, from);
        }
        return counts ? `${path} — ${how} (${counts})` : `${path} — ${how}`;
      }),
    );
  }
  out.push('');

  const uncommitted = plan.staged.length + plan.unstaged.length;
  out.push(`## ${l10n.t('Uncommitted changes ({0})', uncommitted)}`, '');
  if (uncommitted === 0) out.push(l10n.t('None.'));
  if (plan.staged.length > 0) out.push(l10n.t('Staged:'), '', ...bullets(plan.staged, entryLine), '');
  if (plan.unstaged.length > 0) out.push(l10n.t('Not staged:'), '', ...bullets(plan.unstaged, entryLine));
  out.push('');

  out.push(`## ${l10n.t('Untracked files a reset would overwrite ({0})', plan.untrackedOverwritten.length)}`, '');
  out.push(...(plan.untrackedOverwritten.length ? bullets(plan.untrackedOverwritten, codeSpan) : [l10n.t('None.')]), '');

  if (plan.ignoredOverwritten.length > 0) {
    out.push(`## ${l10n.t('Ignored files a reset would overwrite ({0})', plan.ignoredOverwritten.length)}`, '');
    out.push(...bullets(plan.ignoredOverwritten, codeSpan), '');
  }

  if (plan.untrackedKept.length > 0) {
    out.push(`## ${l10n.t('Untracked files left as they are ({0})', plan.untrackedKept.length)}`, '');
    out.push(...bullets(plan.untrackedKept, codeSpan), '');
  }

  const database = databaseLines(plan);
  if (database.length > 0) out.push(`## ${l10n.t('The step database')}`, '', ...database, '');
  if (plan.taskDatabase) {
    out.push(
      `## ${l10n.t('The task database')}`,
      '',
      l10n.t(
        "{0}, the copy of the task database LaForge made before {1}, is beside the step database. The confirmation offers to put it in place of {2}, as LaForge's own rollback did; the current one is kept first, and {3} puts it back.",
        codeSpan(basename(plan.taskDatabase.backup)),
        escapeMarkdown(step.label),
        codeSpan(basename(plan.taskDatabase.current)),
        `**${l10n.t('Undo Last Rollback')}**`,
      ),
      '',
    );
  }

  out.push(`## ${l10n.t('Commits no step recorded ({0})', plan.foreignCommits.length)}`, '');
  if (plan.foreignCommits.length === 0) out.push(l10n.t('None: every commit on the branch after these steps belongs to a step.'));
  else {
    out.push(l10n.t("Someone else's work after the last step; it leaves the branch but stays under the backup ref."), '');
    out.push(...bullets(plan.foreignCommits, (c) => `${codeSpan(shortSha(c.sha))} ${escapeMarkdown(c.subject)}`));
  }
  out.push('');

  out.push(...runningLines(plan));

  out.push(l10n.t('Other ignored files are never touched.'), '');
  return out.join('\n');
}

/** The confirmation's detail (plain text): what is kept safe, and where. */
export function confirmationDetail(plan: RollbackPlan): string {
  const lines: string[] = [];
  const steps = stepRange(plan.stepsToDeactivate.map((s) => s.id));
  const files = plan.filesToChange.length;
  lines.push(files === 1 ? l10n.t('Steps {0} are marked rolled back; 1 file change.', steps) : l10n.t('Steps {0} are marked rolled back; {1} files change.', steps, files));
  if (plan.needsProtection) {
    const work = [...plan.staged, ...plan.unstaged].map((e) => e.path);
    // Only what the reset would overwrite is stashed; other untracked files stay where they are.
    const untracked = plan.untrackedOverwritten.length + plan.ignoredOverwritten.length;
    if (work.length > 0 || untracked > 0) {
      const listed = work.slice(0, 5).map((p) => safeText(p)).join(', ');
      const shown = work.length > 5 ? l10n.t('{0}, and {1} more', listed, work.length - 5) : listed;
      const changes = work.length === 1 ? l10n.t('1 uncommitted change ({0})', shown) : l10n.t('{0} uncommitted changes ({1})', work.length, shown);
      const overwritten = untracked === 1 ? l10n.t('1 untracked file the reset would overwrite') : l10n.t('{0} untracked files the reset would overwrite', untracked);
      lines.push(
        work.length > 0 && untracked > 0
          ? l10n.t('Stashed first, under refs/step-history/stash/: {0} and {1}.', changes, overwritten)
          : l10n.t('Stashed first, under refs/step-history/stash/: {0}.', work.length > 0 ? changes : overwritten),
      );
    }
    if (plan.foreignCommits.length > 0) {
      const shown = plan.foreignCommits.slice(0, 5).map((c) => `${shortSha(c.sha)} ${safeText(c.subject.replace(/\s+/g, ' '))}`);
      if (plan.foreignCommits.length > 5) shown.push(l10n.t('and {0} more', plan.foreignCommits.length - 5));
      lines.push(
        plan.foreignCommits.length === 1
          ? l10n.t('Kept under a backup ref (refs/step-history/backup/): 1 commit no step recorded: {0}.', shown.join('; '))
          : l10n.t('Kept under a backup ref (refs/step-history/backup/): {0} commits no step recorded: {1}.', plan.foreignCommits.length, shown.join('; ')),
      );
    }
  }
  lines.push(l10n.t('{0} puts everything back.', l10n.t('Undo Last Rollback')));
  return lines.join('\n\n');
}

/**
 * What the editor says while a rollback waits out the passing states that refused it (steps
 * still running, the step database busy), and once they are over. Plain text.
 */
export function passingStateSentences(plan: RollbackPlan): { waiting: string; over: string } {
  const labels = plan.runningSteps.map((s) => safeText(s.label));
  const running = labels.join(', ');
  const one = labels.length === 1;
  const busy = plan.refusals.find((r) => r.code === 'DATABASE_BUSY');
  const target = safeText(plan.step.label);
  if (labels.length > 0 && busy) {
    return {
      waiting: one
        ? l10n.t('{0} is still running and the step database is busy. Waiting for them to end before you can roll back to {1}…', running, target)
        : l10n.t('{0} are still running and the step database is busy. Waiting for them to end before you can roll back to {1}…', running, target),
      over: one
        ? l10n.t('{0} has finished and the step database is free: you can roll back to {1} now.', running, target)
        : l10n.t('{0} have finished and the step database is free: you can roll back to {1} now.', running, target),
    };
  }
  if (busy) {
    return {
      waiting: l10n.t('{0} Waiting for it to be free before you can roll back to {1}…', safeText(busy.message), target),
      over: l10n.t('The step database is free again: you can roll back to {0} now.', target),
    };
  }
  return {
    waiting: one
      ? l10n.t('{0} is still running. Waiting for it to finish before you can roll back to {1}…', running, target)
      : l10n.t('{0} are still running. Waiting for them to finish before you can roll back to {1}…', running, target),
    over: one ? l10n.t('{0} has finished: you can roll back to {1} now.', running, target) : l10n.t('{0} have finished: you can roll back to {1} now.', running, target),
  };
}

const PHASES: Record<JournalPhase, () => string> = {
  planned: () => l10n.t('before anything changed'),
  'backed-up': () => l10n.t('after the backup, before the branch was reset'),
  'git-reset': () => l10n.t('after the branch was reset, before the database was written'),
  'database-written': () => l10n.t('after the database was written'),
  done: () => l10n.t('finished'),
  undone: () => l10n.t('undone'),
};

export const phaseDescription = (phase: JournalPhase): string => PHASES[phase]?.() ?? phase;

/** The recovery notification: `A rollback of ledgerline to S12 stopped half-way (…).` */
export function pendingSentence(journal: RollbackJournal): string {
  return l10n.t('A rollback of {0} to {1} stopped half-way ({2}).', projectName(journal.target.projectId), journal.stepLabel, phaseDescription(journal.phase));
}

/** The undo confirmation, one sentence. */
export function undoSentence(journal: RollbackJournal): string {
  const [project, branch, head, steps] = [projectName(journal.target.projectId), safeText(journal.branch), shortSha(journal.oldHead), stepRange(journal.stepIds)];
  return journal.stashRef
    ? l10n.t('Undoing the rollback of {0} to {1} returns {2} to {3}, marks {4} active again, and re-applies the work kept in the stash.', project, journal.stepLabel, branch, head, steps)
    : l10n.t('Undoing the rollback of {0} to {1} returns {2} to {3}, marks {4} active again.', project, journal.stepLabel, branch, head, steps);
}
