/**
 * The first line of commits' messages, for step titles, cached per commit: a hash names one
 * message forever, so a line once read is never read again. Lines not yet known are read
 * together, in one git process per GitRepository.SUBJECTS_PER_PROCESS commits, so a page of
 * steps costs a constant number of git processes, and none once its commits are known.
 */
import type { GitRepository } from './git';

export class CommitSubjects {
  private readonly known = new Map<string, string>();
  /** Git processes started, for tests and the log. */
  reads = 0;

  constructor(
    private readonly repo: Pick<GitRepository, 'commitFirstLines'>,
    private readonly limit = 20_000,
  ) {}

  /**
   * Each commit's first line, keyed by the commit as given; a commit the repository does not
   * have is left out (and asked again next time: it may be fetched). Rejects with a GitError.
   */
  async of(commits: readonly string[]): Promise<Map<string, string>> {
    const missing = [...new Set(commits.filter((c) => this.lookup(c) === undefined))];
    if (missing.length > 0) {
      this.reads++;
      const read = await this.repo.commitFirstLines(missing);
      for (const [sha, line] of read) this.remember(sha, line);
      // An abbreviated hash as stored (older databases) maps to the full hash git printed.
      for (const commit of missing) {
        const full = [...read.keys()].find((sha) => sha.startsWith(commit.toLowerCase()));
        if (full !== undefined && full !== commit.toLowerCase()) this.remember(commit.toLowerCase(), read.get(full)!);
      }
    }
    const result = new Map<string, string>();
    for (const commit of commits) {
      const line = this.lookup(commit);
      if (line !== undefined) result.set(commit, line);
    }
    return result;
  }

  private lookup(commit: string): string | undefined {
    return this.known.get(commit.toLowerCase());
  }

  private remember(sha: string, line: string): void {
    this.known.delete(sha);
    this.known.set(sha, line);
    while (this.known.size > this.limit) this.known.delete(this.known.keys().next().value!);
  }
}
