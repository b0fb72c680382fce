/**
 * What a user can do about a failure, chosen by its code in one place: the notification's
 * buttons and the tree's error rows offer these, the detail always going to the log. Pure: the
 * editor turns each action into its command (src/ui/showError.ts).
 */
import { GitError, RollbackError, StepDbError } from './errors';

export type RemedyAction =
  /** Open the folder of the git repository the steps were committed in. */
  | 'openFolder'
  /** Git's download page: git is missing. */
  | 'installGit'
  /** The setting the failure names (its id), or Step History's settings. */
  | 'openSettings'
  /** Pick another database file. */
  | 'openDatabase'
  | 'showLog';

export interface Remedy {
  action: RemedyAction;
  /** A setting's id for `openSettings`. */
  setting?: string;
}

/** The actions a failure offers, the most useful first; "Show Log" last, always. */
export function remediesOf(err: unknown): Remedy[] {
  const first: Remedy[] = [];
  if (err instanceof GitError) {
    if (err.code === 'GIT_MISSING') first.push({ action: 'installGit' });
    if (err.code === 'NOT_A_REPOSITORY' || err.code === 'REPOSITORY_MISSING') first.push({ action: 'openFolder' });
  } else if (err instanceof StepDbError) {
    if (err.code === 'TOO_LARGE') first.push({ action: 'openSettings', setting: 'stepHistory.maxDatabaseSizeMb' });
    if (err.code === 'NOT_SQLITE' || err.code === 'UNSUPPORTED_SCHEMA' || err.code === 'FILE_MISSING') first.push({ action: 'openDatabase' });
  } else if (err instanceof RollbackError) {
    const reasons = new Set(err.reasons);
    if (reasons.has('GIT_MISSING')) first.push({ action: 'installGit' });
    if (reasons.has('NOT_A_REPOSITORY') || reasons.has('REPOSITORY_MISSING')) first.push({ action: 'openFolder' });
  }
  return [...first, { action: 'showLog' }];
}
