/**
 * LaForge (`steps.db`): one adapter among the four. Its file is read by StepStore, which
 * knows both of LaForge's schemas and every damaged value; this adapter gives the store's
 * projects and steps as the history model's nodes, so the worker, the CLI and any generic
 * view read LaForge as they read the other systems.
 *
 * The tree is project → step, steps newest first as LaForge lists them. A step's changes are
 * a git range (`gitRange`): the views resolve its own commit and read the files from git, so
 * `changes` lists none and `text` has none. LaForge is the one system whose steps can be
 * rolled back (`capabilities.rollback`); the store stays reachable for it (`store`).
 */
import { readFingerprint } from '../../fingerprint';
import { stepLabel, type Step } from '../../model';
import { projectLabel } from '../../projectKey';
import { schemaVariant, StepStore } from '../../stepStore';
import { formatCost, formatDuration, formatTokens, timeFact } from '../figures';
import type { ChangeItem, DetailSection, Detection, HistoryNode, HistorySource, NodeRef, Page, SchemaShape, SourceAdapter, SourceContext, SqlReader } from '../types';
import { LAFORGE_LEVELS, parseLaforgeRef, projectNode, stepMetrics, stepNode } from './nodes';
import { failures } from '../../messages';

export * from './nodes';

export const laforgeAdapter: SourceAdapter = {
  system: 'laforge',

  /** Any `steps` table: StepStore says which columns it lacks when it cannot read it, which says more than "unknown". */
  detect(shape: SchemaShape): Detection | null {
    const columns = shape.tables.get('steps');
    return columns ? { system: 'laforge', variant: schemaVariant(columns) } : null;
  },

  open(reader: SqlReader, detection: Detection, context: SourceContext): HistorySource {
    const snapshot = context.snapshot ?? { fingerprint: readFingerprint(context.path), framesApplied: 0 };
    return new LaforgeSource(StepStore.over(context.path, reader, snapshot), detection);
  },
};

export class LaforgeSource implements HistorySource {
  readonly levels = LAFORGE_LEVELS;
  readonly capabilities = { rollback: true };

  constructor(
    /** The store behind it: LaForge's own calls (steps by id, counts with filters, aggregates, rollback plans). */
    readonly store: StepStore,
    readonly detection: Detection,
  ) {}

  children(parent: NodeRef | null, page: Page = {}): HistoryNode[] {
    const offset = Math.max(0, page.offset ?? 0);
    const limit = Math.max(0, page.limit ?? 200);
    if (parent === null) return this.store.projects().slice(offset, offset + limit).map(projectNode);
    const p = parseLaforgeRef(parent);
    if (p?.level !== 'project') return [];
    return this.store.steps(p.projectId, { offset, limit }).map(stepNode);
  }

  count(parent: NodeRef | null): number {
    if (parent === null) return this.store.projects().length;
    const p = parseLaforgeRef(parent);
    return p?.level === 'project' ? this.store.stepCount(p.projectId) : 0;
  }

  node(ref: NodeRef): HistoryNode | undefined {
    const p = parseLaforgeRef(ref);
    if (p?.level === 'project') {
      const project = this.store.projects().find((x) => x.id === p.projectId);
      return project && projectNode(project);
    }
    if (p?.level === 'step') {
      const step = this.store.step(p.id);
      return step && stepNode(step);
    }
    return undefined;
  }

  details(ref: NodeRef): DetailSection[] {
    const p = parseLaforgeRef(ref);
    if (p?.level === 'project') return this.projectDetails(p.projectId);
    if (p?.level !== 'step') return [];
    const step = this.store.step(p.id);
    if (!step) throw failures.stepGone({ label: stepLabel(p.id) }, `no row with id ${p.id} in ${this.store.path}`);
    return stepDetails(step);
  }

  /** None as texts: a LaForge step's changes are its git range (HistoryNode.gitRange). */
  changes(): ChangeItem[] {
    return [];
  }

  text(): string | null {
    return null;
  }

  close(): void {
    this.store.close();
  }

  private projectDetails(projectId: string): DetailSection[] {
    const project = this.store.projects().find((x) => x.id === projectId);
    if (!project) return [];
    const t = this.store.aggregates(projectId).totals;
    const unrecorded = t.steps - t.usageSteps;
    return [
      {
        kind: 'facts',
        title: 'Project',
        facts: [
          { label: 'Project', value: projectLabel(projectId) },
          { label: 'Steps', value: `${project.stepCount} (${project.stepCount - project.activeCount} rolled back)` },
          { label: 'Failed', value: String(t.failures) },
          { label: 'Time', value: formatDuration(t.durationMs) },
          { label: 'Tokens', value: t.usageSteps ? formatTokens({ prompt: t.promptTokens, completion: t.completionTokens, total: t.totalTokens }) : formatTokens(null) },
          { label: 'Cost', value: t.usageSteps ? formatCost(t.cost) : formatCost(null) },
          ...(unrecorded > 0 && t.usageSteps > 0 ? [{ label: 'Not recorded', value: `tokens and cost of ${unrecorded} of ${t.steps} steps` }] : []),
        ],
      },
    ];
  }
}

function stepDetails(step: Step): DetailSection[] {
  const m = stepMetrics(step);
  const sections: DetailSection[] = [
    {
      kind: 'facts',
      title: 'Step',
      facts: [
        { label: 'Step', value: step.label },
        { label: 'Project', value: projectLabel(step.projectId) },
        { label: 'Status', value: step.status },
        ...(step.parentStepId !== null ? [{ label: 'Parent step', value: `S${step.parentStepId}` }] : []),
        timeFact('Started', step.startTime, step.raw.startTime),
        timeFact('Ended', step.endTime, step.raw.endTime),
        { label: 'Duration', value: formatDuration(m.durationMs) },
        { label: 'Exit code', value: step.exitCode === null ? 'not recorded' : String(step.exitCode) },
        { label: 'Model', value: m.model ?? 'not recorded' },
        ...(step.agentConfigName ? [{ label: 'Configuration', value: step.agentConfigName }] : []),
        { label: 'Tokens', value: formatTokens(m.tokens) },
        { label: 'Cost', value: formatCost(m.costUsd) },
        { label: 'Commit before', value: step.commitBefore ?? 'none' },
        { label: 'Commit after (recorded)', value: step.commitAfter ?? 'none' },
      ],
    },
  ];
  if (step.agentConfig?.systemPrompt) sections.push({ kind: 'text', title: 'System prompt', text: step.agentConfig.systemPrompt, format: 'plain' });
  if (step.warnings.length) sections.push({ kind: 'warnings', title: 'Warnings', warnings: step.warnings.map((w) => w.message) });
  return sections;
}
