/**
 * LaForge's projects and steps as the history model's nodes: refs, statuses, metrics. Light
 * (no sql.js): the views draw LaForge's rows with the same words and icons as every system's.
 */
import * as l10n from '@vscode/l10n';
import type { Step, StepStatus } from '../../model';
import { projectLabel } from '../../projectKey';
import type { ProjectSummary } from '../../stepStore';
import { level } from '../figures';
import type { HistoryNode, LevelInfo, NodeMetrics, NodeRef, NodeStatus } from '../types';

/** A LaForge database's levels: projects, and their steps. */
export const LAFORGE_LEVELS: readonly LevelInfo[] = [
  level('project', () => l10n.t('project'), () => l10n.t('projects')),
  level('step', () => l10n.t('step'), () => l10n.t('steps')),
];

const STATUS: Readonly<Record<StepStatus, NodeStatus>> = {
  RUNNING: 'running',
  COMPLETED: 'completed',
  FAILED: 'failed',
  'ROLLED BACK': 'rolledBack',
};

/** A LaForge step's status as the history model says it. */
export const laforgeStatus = (status: StepStatus): NodeStatus => STATUS[status];

export const projectRef = (projectId: string): NodeRef => `project:${encodeURIComponent(projectId)}`;
export const stepRef = (id: number): NodeRef => `step:${id}`;

/** A ref's level and key, or null when it is not one of LaForge's. */
export function parseLaforgeRef(ref: NodeRef): { level: 'project'; projectId: string } | { level: 'step'; id: number } | null {
  if (ref.startsWith('project:')) {
    try {
      return { level: 'project', projectId: decodeURIComponent(ref.slice('project:'.length)) };
    } catch {
      return null;
    }
  }
  const m = /^step:(-?\d{1,16})$/.exec(ref);
  return m ? { level: 'step', id: Number(m[1]) } : null;
}

export function projectNode(p: ProjectSummary): HistoryNode {
  const rolledBack = p.stepCount - p.activeCount;
  return {
    ref: projectRef(p.id),
    level: 'project',
    label: projectLabel(p.id),
    description: projectDescription(p.stepCount, rolledBack),
    status: 'unknown',
    rawStatus: null,
    metrics: { start: p.lastStart, end: null, durationMs: null, tokens: null, costUsd: null, model: null },
    hasChildren: p.stepCount > 0,
    isStep: false,
    warnings: [],
  };
}

/** A project's second line: `3 steps · 1 rolled back`. */
function projectDescription(steps: number, rolledBack: number): string {
  if (!rolledBack) return steps === 1 ? l10n.t('{0} step', steps) : l10n.t('{0} steps', steps);
  return steps === 1 ? l10n.t('{0} step · {1} rolled back', steps, rolledBack) : l10n.t('{0} steps · {1} rolled back', steps, rolledBack);
}

export const modelOf = (step: Step): string | null => step.agentConfig?.model || step.agentConfigName || null;

export function stepMetrics(step: Step): NodeMetrics {
  const usage = step.tokenUsage;
  return {
    start: step.startTime,
    end: step.endTime,
    durationMs: step.durationMs,
    tokens: usage ? { prompt: usage.promptTokens, completion: usage.completionTokens, total: usage.totalTokens } : null,
    costUsd: usage ? usage.cost : null,
    model: modelOf(step),
  };
}

export function stepNode(step: Step): HistoryNode {
  return {
    ref: stepRef(step.id),
    level: 'step',
    label: step.label,
    description: modelOf(step) ?? undefined,
    status: STATUS[step.status],
    rawStatus: step.status,
    metrics: stepMetrics(step),
    hasChildren: false,
    isStep: true,
    warnings: step.warnings.map((w) => w.message),
    gitRange: { before: step.commitBefore, after: step.commitAfter },
  };
}

