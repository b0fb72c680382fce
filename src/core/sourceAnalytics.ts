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
 * What LaForge's SQL path and this one share (the counters, the model order, the rankings, the
 * day and week) is analytics.ts's. No `vscode` here: the store worker runs it.
 */
import {
  checkAnalyticsOptions, emptyCounters, isoDay, modelFigures, periodStart, sortModels, topRanked,
  type AnalyticsCounters, type AnalyticsGroup, type AnalyticsOptions, type RankCandidate, type StepAnalytics,
} from './analytics';
import { failures } from './messages';
import type { HistoryNode, HistorySource, NodeRef } from './sources/types';
import { MAX_DEPTH } from './sources/walk';

/** Nodes read per children() call: large, so that a long level takes few queries. */
const PAGE = 1000;

/** What one step adds to the counters. */
interface StepFigures {
  startMs: number | null;
  failed: boolean;
  rolledBack: boolean;
  /** Null when the step records no usage. */
  usage: { prompt: number; completion: number; total: number; cost: number | null } | null;
  durationMs: number | null;
  model: string;
}

const finite = (x: number | null | undefined): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
const timeOf = (d: Date | null): number | null => (d instanceof Date ? finite(d.getTime()) : null);

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

function add(c: AnalyticsCounters, s: StepFigures): void {
  c.steps++;
  if (s.failed) c.failures++;
  if (s.rolledBack) c.rollbacks++;
  if (s.usage) {
    c.usageSteps++;
    c.promptTokens += s.usage.prompt;
    c.completionTokens += s.usage.completion;
    c.totalTokens += s.usage.total;
    if (s.usage.cost !== null) {
      c.cost += s.usage.cost;
      if (s.usage.cost !== 0) c.costSteps++;
    }
  } else {
    c.unrecordedSteps++;
  }
  if (s.durationMs !== null) {
    c.durationMs += s.durationMs;
    c.durationSteps++;
  }
}

/** The middle value of sorted numbers, or the mean of the middle two; null for none. */
function median(values: number[]): number | null {
  if (values.length === 0) return null;
  values.sort((a, b) => a - b);
  const mid = values.length >> 1;
  return values.length % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
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
  const { grouping, sinceMs } = options;
  const totals = emptyCounters();
  let undatedSteps = 0;
  const groups = new Map<string, AnalyticsGroup & { order: number }>();
  const steps: (AnalyticsGroup & { order: number })[] = [];
  const models = new Map<string, { counters: AnalyticsCounters; durations: number[] }>();
  const slowest: RankCandidate[] = [];
  const expensive: RankCandidate[] = [];
  let order = 0;

  const group = (key: string, target: string | null, startMs: number | null): AnalyticsGroup & { order: number } => ({
    key, target, startMs, ...emptyCounters(), cumulativeTotalTokens: 0, cumulativeCost: 0, order,
  });

  forEachStep(source, options.ref, (node) => {
    const s = figuresOf(node);
    if (sinceMs !== null && (s.startMs === null || s.startMs < sinceMs)) return;
    order++;
    add(totals, s);
    if (s.startMs === null) undatedSteps++;
    if (grouping === 'step') {
      const g = group(node.label, node.ref, s.startMs);
      add(g, s);
      steps.push(g);
    } else if (s.startMs !== null) {
      const start = periodStart(s.startMs, grouping);
      const key = isoDay(start);
      let g = groups.get(key);
      if (!g) groups.set(key, (g = group(key, null, start)));
      add(g, s);
    }
    let model = models.get(s.model);
    if (!model) models.set(s.model, (model = { counters: emptyCounters(), durations: [] }));
    add(model.counters, s);
    if (s.durationMs !== null) {
      model.durations.push(s.durationMs);
      slowest.push({ target: node.ref, label: node.label, value: s.durationMs, order });
    }
    const cost = s.usage?.cost ?? null;
    if (cost !== null && cost > 0) expensive.push({ target: node.ref, label: node.label, value: cost, order });
  });

  const ordered = grouping === 'step' ? steps : [...groups.values()];
  // Undated steps (per step only) last; ties in tree order.
  ordered.sort((a, b) =>
    a.startMs === null || b.startMs === null ? Number(a.startMs === null) - Number(b.startMs === null) || a.order - b.order : a.startMs - b.startMs || a.order - b.order,
  );
  let tokens = 0;
  let cost = 0;
  const result: AnalyticsGroup[] = ordered.map(({ order: _, ...g }) => {
    tokens += g.totalTokens;
    cost += g.cost;
    return { ...g, cumulativeTotalTokens: tokens, cumulativeCost: cost };
  });
  return {
    grouping,
    sinceMs,
    groups: result,
    totals,
    undatedSteps,
    byModel: sortModels([...models].map(([name, m]) => modelFigures(name, m.counters, median(m.durations)))),
    slowest: topRanked(slowest),
    mostExpensive: topRanked(expensive),
  };
}
