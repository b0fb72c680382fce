/**
 * The figures of the Analytics panel for another system's history (Constellation, LLM
 * Orchestration, the Studio): the same StepAnalytics as LaForge's, by the definitions of
 * analytics.ts, folded from the nodes the adapter lists. One pass walks the tree under a node
 * (a project, a workflow, a session), or all of it, a page at a time, every level down to a
 * guard against a cycle in stored parent links; each step is read once, from its metrics:
 *
 * - a step is a node with `isStep` (a step nested under a step counts too); a failure is
 *   status 'failed', a rollback status 'rolledBack';
 * - usage is recorded when the tokens have a total, a prompt or a completion count, or a
 *   cost is recorded; null tokens and cost are unrecorded, counted apart and never as zero.
 *   A total not stored is the prompt plus the completion recorded;
 * - the duration is the stored one, else end minus start when both are known and in order;
 * - the model is the node's, else "unknown";
 * - per step, a group is a step (key its label, target its ref), oldest first by start,
 *   undated steps last, ties in tree order; per UTC day or week (from Monday) by start;
 * - undated steps count in the totals, models and rankings but in no day or week, and are
 *   left out once a range is given.
 *
 * The fold of these figures is LaForge's too (analytics.ts's foldAnalytics). No `vscode` here:
 * the store worker runs it.
 */
import { checkAnalyticsOptions, foldAnalytics, type AnalyticsOptions, type StepAnalytics, type StepFigures } from './analytics';
import { failures } from './messages';
import type { HistoryNode, HistorySource, NodeRef } from './sources/types';
import { MAX_DEPTH } from './sources/walk';

/** Nodes read per children() call: large, so that a long level takes few queries. */
const PAGE = 1000;

const finite = (x: number | null | undefined): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
const timeOf = (d: Date | null): number | null => (d instanceof Date ? finite(d.getTime()) : null);

/** A step node's figures, as analytics.ts counts them. */
function figuresOf(node: HistoryNode): StepFigures {
  const m = node.metrics;
  const startMs = timeOf(m.start);
  const endMs = timeOf(m.end);
  const prompt = finite(m.tokens?.prompt);
  const completion = finite(m.tokens?.completion);
  const total = finite(m.tokens?.total);
  const cost = finite(m.costUsd);
  const hasTokens = prompt !== null || completion !== null || total !== null;
  const stored = finite(m.durationMs);
  return {
    target: node.ref,
    label: node.label,
    startMs,
    failed: node.status === 'failed',
    rolledBack: node.status === 'rolledBack',
    usage:
      hasTokens || cost !== null
        ? { prompt: prompt ?? 0, completion: completion ?? 0, total: total ?? (prompt ?? 0) + (completion ?? 0), cost }
        : null,
    durationMs: stored !== null && stored >= 0 ? stored : startMs !== null && endMs !== null && endMs >= startMs ? endMs - startMs : null,
    model: m.model ?? 'unknown',
  };
}

/**
 * Calls `visit` for each step under `ref` (the node itself when it is a step), or of the whole
 * history when `ref` is undefined, in tree order. Throws failures.nodeGone (READ_FAILED) when
 * `ref` names no node.
 */
export function forEachStep(source: HistorySource, ref: NodeRef | undefined, visit: (step: HistoryNode) => void): void {
  const walk = (parent: NodeRef | null, depth: number): void => {
    if (depth >= MAX_DEPTH) return;
    for (let offset = 0; ; offset += PAGE) {
      const page = source.children(parent, { offset, limit: PAGE });
      for (const node of page) {
        if (node.isStep) visit(node);
        if (node.hasChildren) walk(node.ref, depth + 1);
      }
      if (page.length < PAGE) return;
    }
  };
  if (ref === undefined) return walk(null, 0);
  const node = source.node(ref);
  if (!node) throw failures.nodeGone({ ref }, `analytics of ${ref}: no such node`);
  if (node.isStep) visit(node);
  if (node.hasChildren) walk(node.ref, 1);
}

/** The Analytics panel's figures of `source`: of the steps under `options.ref`, or of every step. */
export function sourceAnalytics(source: HistorySource, options: AnalyticsOptions): StepAnalytics {
  checkAnalyticsOptions(options);
  const steps: StepFigures[] = [];
  forEachStep(source, options.ref, (node) => steps.push(figuresOf(node)));
  return foldAnalytics(steps, { grouping: options.grouping, sinceMs: options.sinceMs, stepOrder: 'start' });
}
