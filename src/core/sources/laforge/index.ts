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
import * as l10n from '@vscode/l10n';
import { readFingerprint } from '../../fingerprint';
import { stepLabel, type Step } from '../../model';
import { projectLabel } from '../../projectKey';
import { schemaVariant, StepStore } from '../../stepStore';
import { notRecorded } from '../../figures';
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
        title: l10n.t('Project'),
        facts: [
          { label: l10n.t('Project'), value: projectLabel(projectId) },
          { label: l10n.t('Steps'), value: l10n.t('{0} ({1} rolled back)', project.stepCount, project.stepCount - project.activeCount) },
          { label: l10n.t('Failed'), value: String(t.failures) },
          { label: l10n.t('Time'), value: formatDuration(t.durationMs) },
          { label: l10n.t('Tokens'), value: t.usageSteps ? formatTokens({ prompt: t.promptTokens, completion: t.completionTokens, total: t.totalTokens }) : formatTokens(null) },
          { label: l10n.t('Cost'), value: t.usageSteps ? formatCost(t.cost) : formatCost(null) },
          ...(unrecorded > 0 && t.usageSteps > 0 ? [{ label: l10n.t('Not recorded'), value: l10n.t('tokens and cost of {0} of {1} steps', unrecorded, t.steps) }] : []),
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
      title: l10n.t('Step'),
      facts: [
        { label: l10n.t('Step'), value: step.label },
        { label: l10n.t('Project'), value: projectLabel(step.projectId) },
        { label: l10n.t('Status'), value: step.status },
        ...(step.parentStepId !== null ? [{ label: l10n.t('Parent step'), value: `S${step.parentStepId}` }] : []),
        timeFact(l10n.t('Started'), step.startTime, step.raw.startTime),
        timeFact(l10n.t('Ended'), step.endTime, step.raw.endTime),
        { label: l10n.t('Duration'), value: formatDuration(m.durationMs) },
        { label: l10n.t('Exit code'), value: step.exitCode === null ? notRecorded() : String(step.exitCode) },
        { label: l10n.t('Model'), value: m.model ?? notRecorded() },
        ...(step.agentConfigName ? [{ label: l10n.t('Configuration'), value: step.agentConfigName }] : []),
        { label: l10n.t('Tokens'), value: formatTokens(m.tokens) },
        { label: l10n.t('Cost'), value: formatCost(m.costUsd) },
        { label: l10n.t('Commit before'), value: step.commitBefore ?? l10n.t('none') },
        { label: l10n.t('Commit after (recorded)'), value: step.commitAfter ?? l10n.t('none') },
      ],
    },
  ];
  if (step.agentConfig?.systemPrompt) sections.push({ kind: 'text', title: l10n.t('System prompt'), text: step.agentConfig.systemPrompt, format: 'plain' });
  if (step.warnings.length) sections.push({ kind: 'warnings', title: l10n.t('Warnings'), warnings: step.warnings.map((w) => w.message) });
  return sections;
}
