/**
 * What the blame hover and the current line's annotation say about a line's owner: the step
 * (its label, title, status, model, start, tokens and cost, commit, and links to its details,
 * changes and log), a commit no step made (its author, commit, date and summary), or a line not
 * committed yet. Pure, no `vscode` import; every figure through the tree's formatters, every
 * text from a database or git escaped for Markdown (escapeMarkdown) or made safe (safeText).
 */
import * as l10n from '@vscode/l10n';
import type { BlameCommit } from '../core/blame';
import type { LineOwner } from '../core/stepBlame';
import { bothTimes, rowTime, shortHash } from '../core/figures';
import { safeText } from '../shared/safeText';
import { escapeMarkdown, statusWord, stepLabel, stepModel, tokenUsageText } from './format';
import type { StepReference } from './treeNodes';

/** The commands the hover's links run: the only ones its Markdown is trusted to run. */
export const BLAME_HOVER_COMMANDS = ['stepHistory.openDetails', 'stepHistory.showChanges', 'stepHistory.openStepLog'] as const;

export interface BlameHoverContext {
  /** The step's title (stepTitle's), when it has one. */
  title?: string;
  /** What the links pass their command; without it, no links. */
  reference?: StepReference;
  now?: Date;
}

/** A command link: its JSON argument in the URI, as VS Code's command links take it. */
const link = (text: string, command: string, arg: unknown): string => `[${text}](command:${command}?${encodeURIComponent(JSON.stringify([arg]))})`;

const commitTime = (commit: BlameCommit, now?: Date): string | undefined =>
  commit.authorTimeMs === null ? undefined : bothTimes(new Date(commit.authorTimeMs), now);

/** The hover's lines, each Markdown; joined with a Markdown line break they make the hover. */
export function blameHoverLines(owner: LineOwner, context: BlameHoverContext = {}): string[] {
  const row = (name: string, value: string) => `**${name}:** ${escapeMarkdown(value)}`;
  if (owner.kind === 'uncommitted') return [l10n.t('Not committed yet')];
  if (owner.kind === 'commit') {
    const { commit } = owner;
    const when = commitTime(commit, context.now);
    const head = [`**${escapeMarkdown(commit.author || l10n.t('unknown author'))}**`, `\`${shortHash(commit.commit!)}\``, ...(when ? [escapeMarkdown(when)] : [])];
    return [head.join(' · '), ...(commit.summary ? [escapeMarkdown(commit.summary)] : []), l10n.t('No step made this commit.')];
  }
  const { step } = owner;
  const lines = [context.title ? `**${escapeMarkdown(step.label)}** · ${escapeMarkdown(context.title)}` : `**${escapeMarkdown(step.label)}**`];
  if (!step.active) lines.push(`$(discard) ${escapeMarkdown(l10n.t('{0} was rolled back.', step.label))}`);
  else lines.push(row(l10n.t('Status'), statusWord(step.status)));
  const model = stepModel(step);
  if (model) lines.push(row(l10n.t('Model'), model));
  lines.push(row(l10n.t('Started'), step.startTime ? bothTimes(step.startTime, context.now) : l10n.t('unknown')));
  lines.push(row(l10n.t('Tokens'), tokenUsageText(step)));
  lines.push(row(l10n.t('Commit'), `${shortHash(owner.commit.commit!)} ${owner.commit.summary}`.trim()));
  const ref = context.reference;
  if (ref) {
    lines.push(
      [
        link(`$(info) ${escapeMarkdown(l10n.t('Open Step Details'))}`, 'stepHistory.openDetails', ref),
        link(`$(diff) ${escapeMarkdown(l10n.t('Show Step Changes'))}`, 'stepHistory.showChanges', ref),
        link(`$(output) ${escapeMarkdown(l10n.t('Open Step Log'))}`, 'stepHistory.openStepLog', ref),
      ].join(' · '),
    );
  }
  return lines;
}

/** The hover in a repository whose databases are only other systems', which record no commits: `systems` are their names. */
export function noCommitsHoverLines(systems: readonly string[]): string[] {
  return [escapeMarkdown(noCommitsSentence(systems))];
}

/**
 * That the systems whose databases cover a file record no git commits: so which step wrote a
 * line (no `file`) or changed `file` is not known. One system or several (`A, B and C`).
 */
export function noCommitsSentence(systems: readonly string[], file?: string): string {
  if (systems.length <= 1) {
    const [system = ''] = systems;
    return file === undefined
      ? l10n.t('{0} records no git commits, so which of its steps wrote this line is not known.', system)
      : l10n.t('{0} records no git commits, so which of its steps changed {1} is not known.', system, file);
  }
  const names = l10n.t('{0} and {1}', systems.slice(0, -1).join(', '), systems[systems.length - 1]);
  return file === undefined
    ? l10n.t('{0} record no git commits, so which of their steps wrote this line is not known.', names)
    : l10n.t('{0} record no git commits, so which of their steps changed {1} is not known.', names, file);
}

/** The current line's annotation, plain text: `S12 · Add CSV import · 3h ago`, `Ada Lovelace · Nov 2 14:05`, or not committed yet. */
export function blameAnnotation(owner: LineOwner, title: string | undefined, now: Date = new Date()): string {
  if (owner.kind === 'uncommitted') return l10n.t('Not committed yet');
  if (owner.kind === 'commit') {
    const { author, authorTimeMs } = owner.commit;
    const who = safeText(author) || l10n.t('unknown author');
    return authorTimeMs === null ? who : `${who} · ${rowTime(new Date(authorTimeMs), now)}`;
  }
  const { step } = owner;
  const parts = [stepLabel(step, title)];
  if (!step.active) parts.push(l10n.t('rolled back'));
  if (step.startTime) parts.push(rowTime(step.startTime, now));
  return parts.join(' · ');
}
