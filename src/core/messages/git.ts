/**
 * The sentences of the failures met running git (core/git.ts): values refused before any git
 * process runs, a repository folder that cannot be opened, git's own failures read from its
 * stderr, and output Step History could not read. One maker each, named for what happened.
 */
import * as l10n from '@vscode/l10n';
import { git } from './make';

/** The output of git Step History could not read: which one, so the sentence names it. */
export type GitOutput =
  | 'gitFolders'
  | 'commitList'
  | 'commitCount'
  | 'notesRef'
  | 'notesList'
  | 'refList'
  | 'stashList'
  | 'stashCommit'
  | 'diff'
  | 'status'
  | 'worktreeList'
  | 'blame'
  | 'fileHistory';

export const gitFailures = {
  // Values refused before git runs (`value`, `ref` and `file` are quoted as they were given)
  notACommitHash: git<{ value: string }>('INVALID_COMMIT', (f) => l10n.t('{0} is not a commit hash.', f.value)),
  notAStepHistoryRef: git<{ ref: string }>('GIT_FAILED', (f) => l10n.t('{0} is not a Step History ref.', f.ref)),

  // The repository folder
  noRepositoryFolder: git<Record<string, never>>('REPOSITORY_MISSING', () => l10n.t('No repository folder was given.')),
  folderMissing: git<{ folder: string }>('REPOSITORY_MISSING', (f) => l10n.t('The folder {0} does not exist.', f.folder)),
  folderIsFile: git<{ folder: string }>('NOT_A_REPOSITORY', (f) => l10n.t('{0} is a file, not a git work tree.', f.folder)),
  notAWorkTree: git<{ folder: string | null }>('NOT_A_REPOSITORY', (f) =>
    f.folder === null ? l10n.t('This folder is not inside a git work tree.') : l10n.t('{0} is not inside a git work tree.', f.folder),
  ),
  gitMissing: git<Record<string, never>>('GIT_MISSING', () => l10n.t('Git is not installed or not on PATH.')),

  // Commits and their files (`commit` is a short hash)
  unknownCommit: git<{ commit: string | null }>('UNKNOWN_COMMIT', (f) =>
    f.commit === null ? l10n.t('A commit is not in this repository.') : l10n.t('Commit {0} is not in this repository.', f.commit),
  ),
  notInCommit: git<{ file: string; commit: string | null }>('NOT_IN_COMMIT', (f) =>
    f.commit === null ? l10n.t('{0} is not a file in commit (unknown).', f.file) : l10n.t('{0} is not a file in commit {1}.', f.file, f.commit),
  ),

  // Writes refused or stopped
  wrongBranch: git<{ branch: string | null; expected: string }>('GIT_FAILED', (f) =>
    f.branch === null
      ? l10n.t('The branch checked out is none (detached HEAD), not {0}.', f.expected)
      : l10n.t('The branch checked out is {0}, not {1}.', f.branch, f.expected),
  ),
  stashListChanged: git<{ stash: string }>('GIT_FAILED', (f) => l10n.t('The stash list changed while Step History was dropping stash {0}.', f.stash)),

  // Git's own failure (`said`: the first line of its stderr), and output that could not be read
  gitFailed: git<{ said: string | null }>('GIT_FAILED', (f) => (f.said === null ? l10n.t('Git failed. See the log for details.') : l10n.t('Git failed: {0}', f.said))),
  gitOutputUnreadable: git<{ output: GitOutput }>('GIT_FAILED', (f) => {
    switch (f.output) {
      case 'gitFolders':
        return l10n.t('Git printed the git folders Step History could not read.');
      case 'commitList':
        return l10n.t('Git printed a commit list Step History could not read.');
      case 'commitCount':
        return l10n.t('Git printed a commit count Step History could not read.');
      case 'notesRef':
        return l10n.t('Git printed a notes ref Step History could not read.');
      case 'notesList':
        return l10n.t('Git printed a list of notes Step History could not read.');
      case 'refList':
        return l10n.t('Git printed a ref list Step History could not read.');
      case 'stashList':
        return l10n.t('Git printed a stash list Step History could not read.');
      case 'stashCommit':
        return l10n.t('Git printed a stash commit Step History could not read.');
      case 'diff':
        return l10n.t('Git printed a diff Step History could not read.');
      case 'status':
        return l10n.t('Git printed a status Step History could not read.');
      case 'worktreeList':
        return l10n.t('Git printed a list of work trees Step History could not read.');
      case 'blame':
        return l10n.t('Git printed a blame Step History could not read.');
      case 'fileHistory':
        return l10n.t('Git printed a file history Step History could not read.');
    }
  }),
};
