/**
 * Builds what the step details page shows from a Step, its commits and its changed files.
 * Pure: the panel gathers the inputs (git failures as sentences) and posts the result.
 */
import type { CommitView, FileView, SectionView, StepDetailsView } from '../shared/detailsProtocol';
import type { ChangedFile, CommitInfo } from './git';
import type { Step } from './model';
import { agentResultText, type StepLogSummary } from './stepLog';
import { projectLabel } from './projectKey';
import { notMergedText, stepCommitSourceText, type StepCommit } from './stepCommits';
import { bothTimes, formatCost, formatDuration, formatExactCount, shortHash } from './figures';

/** A git-backed input: its value, or the sentence saying why it is missing. */
export type Fetched<T> = { ok: true; value: T } | { ok: false; message: string };

export interface StepDetailsInput {
  database: { id: string; label: string };
  step: Step;
  /** The step's own commit; undefined when git could not tell. */
  stepCommit?: StepCommit;
  commits: Fetched<CommitInfo[]>;
  files: Fetched<ChangedFile[]>;
  /** The step's log and its summary; null or left out when it has none. */
  log?: { summary: StepLogSummary | null } | null;
  /** What the step did, as the views title it (src/ui/format.ts stepTitle); null or left out when nothing says. */
  title?: string | null;
  /** The time relative times are read from; now unless given. */
  now?: Date;
}

/** More rows than this are summarised; the multi-file diff editor shows them all. */
export const FILE_LIMIT = 2000;
export const COMMIT_LIMIT = 500;

/** A duration as the details write it, null when none is recorded. */
const durationText = (ms: number | null): string | null => (ms === null || !Number.isFinite(ms) || ms < 0 ? null : formatDuration(ms));

function storedText(value: unknown): string {
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  return typeof value === 'string' ? value : String(value);
}

const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);

function section<T, V>(fetched: Fetched<T[]>, limit: number, view: (item: T) => V): SectionView<V> {
  if (!fetched.ok) return { state: 'error', message: fetched.message };
  return { state: 'ok', items: fetched.value.slice(0, limit).map(view), total: fetched.value.length };
}

const commitView = (c: CommitInfo): CommitView => ({ sha: c.sha, shortSha: shortHash(c.sha), subject: c.subject, stepId: c.stepId ?? null });

const fileView = (f: ChangedFile): FileView => ({
  path: f.path,
  oldPath: f.oldPath ?? null,
  status: f.status,
  added: f.added,
  removed: f.removed,
  binary: f.binary,
});

export function stepDetailsView({ database, step, stepCommit, commits, files, log, title, now = new Date() }: StepDetailsInput): StepDetailsView {
  const usage = step.tokenUsage;
  const summary = log?.summary ?? null;
  const config = step.agentConfig;
  const rawConfig = step.raw.agentConfig;
  const configUnreadable = config === null && step.warnings.some((w) => w.field === 'agentConfig');
  return {
    databaseId: database.id,
    databaseLabel: database.label,
    projectId: step.projectId,
    projectLabel: projectLabel(step.projectId),
    id: step.id,
    label: step.label,
    title: title ?? null,
    status: step.status,
    active: step.active,
    startTime: iso(step.startTime),
    endTime: iso(step.endTime),
    createdAt: iso(step.createdAt),
    startText: step.startTime && bothTimes(step.startTime, now),
    endText: step.endTime && bothTimes(step.endTime, now),
    createdText: step.createdAt && bothTimes(step.createdAt, now),
    durationMs: step.durationMs,
    durationText: durationText(step.durationMs),
    exitCode: step.exitCode,
    commitBefore: step.commitBefore,
    commitAfter: step.commitAfter,
    stepCommit: stepCommit
      ? {
          sha: stepCommit.commit,
          source: stepCommit.commit ? stepCommitSourceText(stepCommit) : step.status === 'RUNNING' ? 'none yet' : 'made no commit',
          notMerged: notMergedText(stepCommit) ?? null,
        }
      : null,
    agent: {
      name: step.agentConfigName,
      config: config
        ? {
            model: config.model ?? null,
            maxTokens: config.maxTokens ?? null,
            temperature: config.temperature ?? null,
            systemPrompt: config.systemPrompt ?? null,
            tools: [...(config.tools ?? [])],
            metadata: Object.entries(config.metadata ?? {}).map(([key, value]) => ({ key, value })),
          }
        : null,
      unreadable: configUnreadable ? storedText(rawConfig) : null,
    },
    tokens: usage && {
      prompt: usage.promptTokens,
      completion: usage.completionTokens,
      total: usage.totalTokens,
      cost: usage.cost,
      promptText: formatExactCount(usage.promptTokens),
      completionText: formatExactCount(usage.completionTokens),
      totalText: formatExactCount(usage.totalTokens),
      costText: formatCost(usage.cost),
    },
    log: log
      ? {
          summary: summary && {
            outcome: summary.outcome,
            resultText: agentResultText(summary),
            turns: summary.turns,
            durationText: durationText(summary.durationMs),
            costText: summary.costUsd === null ? null : formatCost(summary.costUsd),
            finalMessage: summary.finalMessage,
          },
        }
      : null,
    parent:
      step.parentStepId === null
        ? null
        : {
            id: step.parentStepId,
            label: `S${step.parentStepId}`,
            missing: step.warnings.some((w) => w.field === 'parentStepId'),
          },
    commits: section(commits, COMMIT_LIMIT, commitView),
    files: section(files, FILE_LIMIT, fileView),
    warnings: step.warnings.map((w) => ({ field: w.field, message: w.message })),
  };
}
