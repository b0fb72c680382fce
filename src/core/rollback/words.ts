/**
 * How rollback's sentences name things: a project, a commit, a run of steps. Their words go
 * through `@vscode/l10n`.
 */
import * as l10n from '@vscode/l10n';
import { stepLabel } from '../model';
import { projectLabel } from '../projectKey';
import { safeText } from '../../shared/safeText';
import { shortHash } from '../figures';

/** A project as the views name it, its control characters escaped: for sentences. */
export const projectName = (key: string): string => safeText(projectLabel(key));

/** A commit's short hash; `(none)` for no commit. */
export const short = (sha: string | null | undefined): string => (sha ? shortHash(sha) : l10n.t({ message: '(none)', comment: 'no commit, in place of its hash' }));

/** "S14–S16" for a run of ids, "S14, S15, S18" otherwise (shortened past eight). */
export function describeStepIds(ids: readonly number[]): string {
  if (ids.length === 0) return l10n.t('no steps');
  const sorted = [...ids].sort((a, b) => a - b);
  const contiguous = sorted.every((id, i) => i === 0 || id === sorted[i - 1] + 1);
  if (sorted.length === 1) return stepLabel(sorted[0]);
  if (contiguous) return `${stepLabel(sorted[0])}–${stepLabel(sorted[sorted.length - 1])}`;
  const shown = sorted.slice(0, 8).map(stepLabel).join(', ');
  return sorted.length > 8 ? l10n.t({ message: '{0} and {1} more', args: [shown, sorted.length - 8], comment: 'the first eight step labels, then how many more steps' }) : shown;
}
