/**
 * Titles for a list of steps where the tree's nodes are not at hand (quick picks, the rollback
 * plan): each step's own commit, the first lines of those commits in a constant number of git
 * processes, and, for the steps without one, their logs' final messages (one listing of the
 * logs folder, then only those steps' logs). The choice itself is stepTitle's.
 */
import { logFailure } from '../core/errors';
import type { Logger } from '../core/log';
import type { Step } from '../core/model';
import { listStepLogs, StepLogSummaries, stepLogsFolder } from '../core/stepLog';
import { stepTitle, titleNeedsLog } from './format';
import type { StepDatabase } from '../core/stepDatabase';

const summaries = new StepLogSummaries(2000);

/** Each step's title by step id; a step with nothing to say is left out. Never rejects: what cannot be read is logged. */
export async function stepTitles(database: StepDatabase, steps: readonly Step[], log: Logger): Promise<Map<number, string>> {
  const subjects = new Map<number, string>();
  try {
    const commits = await Promise.all(steps.map((step) => database.stepCommit(step)));
    const shas = commits.map((c) => c.commit).filter((c): c is string => c !== null);
    const lines = shas.length ? await database.commitSubjects(shas) : new Map<string, string>();
    steps.forEach((step, i) => {
      const line = commits[i].commit ? lines.get(commits[i].commit!) : undefined;
      if (line !== undefined) subjects.set(step.id, line);
    });
  } catch (err) {
    logFailure(log, `the steps' commit messages in ${database.repositoryPath}`, err, 'warn');
  }
  const finalMessages = new Map<number, string>();
  const needLog = steps.filter((step) => titleNeedsLog(subjects.get(step.id)));
  if (needLog.length > 0) {
    try {
      const files = await listStepLogs(stepLogsFolder(database.path));
      for (const step of needLog) {
        const file = files.get(step.id);
        const summary = file && (await summaries.summary(file));
        if (summary?.finalMessage) finalMessages.set(step.id, summary.finalMessage);
      }
    } catch (err) {
      logFailure(log, `step logs of ${database.path}`, err, 'warn');
    }
  }
  const titles = new Map<number, string>();
  for (const step of steps) {
    const title = stepTitle(subjects.get(step.id), finalMessages.get(step.id));
    if (title !== undefined) titles.set(step.id, title);
  }
  return titles;
}
