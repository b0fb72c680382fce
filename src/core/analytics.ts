/**
 * The figures of the Analytics panel, for every system: per step, day or week; by model; the
 * slowest and most expensive steps. Each step's figures are read once (StepFigures): for a
 * LaForge database from one scan of the rows (analyticsStepsSql), each value read by model.ts's
 * own readers, so that every figure agrees with the tree and the details; for the other systems
 * from their nodes (sourceAnalytics.ts).
 * One fold (foldAnalytics) makes the figures of either, for any range and grouping. Token
 * usage that is not recorded (LaForge writes zeros then) is counted apart, never as zero.
 */
import { parseDbDate, parseTokenUsage, resolveDuration, stepLabel } from './model';
import type { SqlValue } from './sources/types';

export type AnalyticsGrouping = 'step' | 'day' | 'week';
export type AnalyticsRange = '7d' | '30d' | 'all';

export const DAY_MS = 86_400_000;
const RANGE_DAYS: Record<AnalyticsRange, number | null> = { '7d': 7, '30d': 30, all: null };

/** The start of a range ending at `now` (ms since the epoch), or null for all of it. */
export function rangeSince(range: AnalyticsRange, now: number): number | null {
  const days = RANGE_DAYS[range];
  return days === null ? null : now - days * DAY_MS;
}

export interface AnalyticsOptions {
  /** A LaForge project's key (projectKey.ts); every project of the database when undefined. */
  projectId?: string;
  /** Another system's history: the steps under this node (a session, a workflow); all of them when undefined. */
  ref?: string;
  /** Only steps that started at or after this time (ms since the epoch); null for every step, undated ones included. */
  sinceMs: number | null;
  /** Per step, or per UTC day, or per UTC week (weeks start on Monday). */
  grouping: AnalyticsGrouping;
}

export interface AnalyticsCounters {
  steps: number;
  /** Steps that ended with a non-zero exit code and were not rolled back: the store's FAILED. */
  failures: number;
  /** Steps rolled back (active = 0). */
  rollbacks: number;
  /** Steps whose row records token usage; the token and cost sums are theirs alone. */
  usageSteps: number;
  /** Steps whose row records no token usage: not counted as zero anywhere. */
  unrecordedSteps: number;
  /** Steps whose recorded usage has a non-zero cost. */
  costSteps: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  cost: number;
  /** Sum of the durations known (stored, else end minus start), and how many steps have one. */
  durationMs: number;
  durationSteps: number;
}

export interface AnalyticsGroup extends AnalyticsCounters {
  /** `S12` for a LaForge step, another system's step's label; `YYYY-MM-DD` (UTC) for a day, or for the Monday that starts a week. */
  key: string;
  /** Grouped per step: the step, as the panel names it to open it (a LaForge step's id, another system's node ref); else null. */
  target: string | null;
  /** The step's start, or the day's or week's first millisecond (UTC); null for a step whose start cannot be read. */
  startMs: number | null;
  /** Running totals over the groups so far, this one included. */
  cumulativeTotalTokens: number;
  cumulativeCost: number;
}

export interface ModelFigures extends AnalyticsCounters {
  /** The config's model, else the config name, else "unknown", as aggregates() names it. */
  model: string;
  /** failures / steps. */
  failureRate: number;
  /** The median of the known durations; null when none is known. */
  medianDurationMs: number | null;
}

export interface RankedStep {
  /** The step, as the panel names it to open it: a LaForge step's id, another system's node ref. */
  target: string;
  label: string;
  /** Duration in ms (slowest) or cost (most expensive). */
  value: number;
}

export interface StepAnalytics {
  grouping: AnalyticsGrouping;
  sinceMs: number | null;
  /** Oldest first: per step by step id (another system's by start, undated last, ties in tree order), per day or week by start. */
  groups: AnalyticsGroup[];
  totals: AnalyticsCounters;
  /** Steps whose start time cannot be read: in totals, models and rankings, in no day or week (only when sinceMs is null). */
  undatedSteps: number;
  /** Most steps first, then by name. */
  byModel: ModelFigures[];
  /** The 10 longest steps, longest first (ties by id; another system's in tree order). */
  slowest: RankedStep[];
  /** The 10 steps of highest recorded cost, highest first (ties by id; another system's in tree order). */
  mostExpensive: RankedStep[];
}

/** What one step adds to the figures, read once: from a LaForge row (analyticsStepsSql) or another system's node (sourceAnalytics.ts). */
export interface StepFigures {
  /** The step as the panel opens it: a LaForge step's id, another system's node ref. */
  target: string;
  /** `S12`, or the node's label. */
  label: string;
  startMs: number | null;
  failed: boolean;
  rolledBack: boolean;
  /** Null when the step records no usage; `cost` null when its usage has none. */
  usage: { prompt: number; completion: number; total: number; cost: number | null } | null;
  /** Stored, else end minus start when both are known and in order; null when unknown. */
  durationMs: number | null;
  /** The model's name, or "unknown". */
  model: string;
}

/** How the store reads its rows: SQL expressions over `steps`, each mirroring model.ts. */
export interface AnalyticsColumns {
  startTime: string;
  endTime: string;
  durationMs: string;
  tokenUsage: string;
  /** 1 when the row is a FAILED step, else 0. */
  failed: string;
  /** 1 when the row is active, else 0. */
  active: string;
  /** The model's name, or NULL. */
  model: string;
  /** The row's project key (projectKey.ts's projectKeySql). */
  project: string;
}

const GROUPINGS: readonly AnalyticsGrouping[] = ['step', 'day', 'week'];
/** How many steps each ranking lists. */
export const RANKED = 10;

/** The options may come from another thread: what the figures are computed from is checked first. */
export function checkAnalyticsOptions(options: AnalyticsOptions): void {
  if (!GROUPINGS.includes(options.grouping)) throw new TypeError(`unknown analytics grouping ${String(options.grouping)}`);
  if (options.sinceMs !== null && !Number.isFinite(options.sinceMs)) throw new TypeError(`analytics sinceMs ${options.sinceMs} is not a time`);
}

export function emptyCounters(): AnalyticsCounters {
  return {
    steps: 0, failures: 0, rollbacks: 0, usageSteps: 0, unrecordedSteps: 0, costSteps: 0,
    promptTokens: 0, completionTokens: 0, totalTokens: 0, cost: 0, durationMs: 0, durationSteps: 0,
  };
}

/** A model's figures from its counters and the median of its known durations. */
export function modelFigures(model: string, counters: AnalyticsCounters, medianDurationMs: number | null): ModelFigures {
  return { model, ...counters, failureRate: counters.steps === 0 ? 0 : counters.failures / counters.steps, medianDurationMs };
}

/** Most steps first, then by name. */
export function sortModels(models: ModelFigures[]): ModelFigures[] {
  return models.sort((a, b) => b.steps - a.steps || (a.model < b.model ? -1 : a.model > b.model ? 1 : 0));
}

/** A step a ranking may list, and its place in the order ties keep (a LaForge step's id, another system's walk). */
export type RankCandidate = RankedStep & { order: number };

/** The RANKED highest values, highest first, ties by order. */
export function topRanked(candidates: RankCandidate[]): RankedStep[] {
  return candidates
    .sort((a, b) => b.value - a.value || a.order - b.order)
    .slice(0, RANKED)
    .map(({ target, label, value }) => ({ target, label, value }));
}

/** The first millisecond of the UTC day, or of the UTC week (from Monday), that `ms` is in. */
export function periodStart(ms: number, grouping: 'day' | 'week'): number {
  const day = Math.floor(ms / DAY_MS);
  return (grouping === 'day' ? day : day - (((day + 3) % 7) + 7) % 7) * DAY_MS;
}

/** `YYYY-MM-DD`, the UTC day of `ms`. */
export const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/**
 * The statement reading every step's raw values, oldest id first, one row each (read by
 * stepFiguresOfRow): its project's key, times, duration, token usage, and whether it failed,
 * is active and which model it ran, in one scan.
 */
export function analyticsStepsSql(c: AnalyticsColumns): string {
  return (
    `SELECT id, ${c.project}, ${c.startTime}, ${c.endTime}, ${c.durationMs}, ${c.tokenUsage}, ` +
    `${c.failed}, ${c.active}, coalesce(${c.model}, 'unknown') FROM steps ORDER BY id`
  );
}

/** A row of analyticsStepsSql's statement, with its project's key: each value read as model.ts reads it for the tree and the details. */
export function stepFiguresOfRow(r: SqlValue[]): StepFigures & { project: string } {
  const id = Number(r[0]);
  const start = parseDbDate(r[2]);
  const usage = parseTokenUsage(r[5]).value;
  return {
    target: String(id),
    label: stepLabel(id),
    project: String(r[1]),
    startMs: start ? start.getTime() : null,
    failed: Number(r[6]) !== 0,
    rolledBack: Number(r[7]) === 0,
    usage: usage ? { prompt: usage.promptTokens, completion: usage.completionTokens, total: usage.totalTokens, cost: usage.cost } : null,
    durationMs: resolveDuration(r[4], start, parseDbDate(r[3])),
    model: String(r[8]),
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

/** The middle value of the numbers, or the mean of the middle two; null for none. */
function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Keeps `list` the RANKED highest candidates offered so far, highest first, ties in the order offered. */
function offer(list: RankCandidate[], candidate: RankCandidate): void {
  if (list.length === RANKED && !(candidate.value > list[RANKED - 1].value)) return;
  let at = list.length;
  while (at > 0 && list[at - 1].value < candidate.value) at--;
  list.splice(at, 0, candidate);
  if (list.length > RANKED) list.pop();
}

export interface FoldOptions {
  grouping: AnalyticsGrouping;
  sinceMs: number | null;
  /** Per step: the groups in the order the steps come (LaForge's, by id), or by start (undated last, ties in that order). */
  stepOrder: 'given' | 'start';
}

/**
 * Every figure of the panel from the steps' figures, in one pass, for every system: the steps
 * before `sinceMs` (and undated ones, once it is given) left out; per step, UTC day or week
 * (from Monday, undated steps in no day or week); the totals; by model with the median
 * duration; the ten slowest and most expensive, ties in the order the steps come.
 */
export function foldAnalytics(steps: Iterable<StepFigures>, options: FoldOptions): StepAnalytics {
  const { grouping, sinceMs } = options;
  const totals = emptyCounters();
  let undatedSteps = 0;
  type Group = AnalyticsGroup & { order: number };
  const periods = new Map<number, Group>();
  const perStep: Group[] = [];
  const models = new Map<string, { counters: AnalyticsCounters; durations: number[] }>();
  const slowest: RankCandidate[] = [];
  const expensive: RankCandidate[] = [];
  let order = 0;
  const group = (key: string, target: string | null, startMs: number | null): Group => ({
    key, target, startMs, ...emptyCounters(), cumulativeTotalTokens: 0, cumulativeCost: 0, order,
  });

  for (const s of steps) {
    if (sinceMs !== null && (s.startMs === null || s.startMs < sinceMs)) continue;
    order++;
    add(totals, s);
    if (s.startMs === null) undatedSteps++;
    if (grouping === 'step') {
      const g = group(s.label, s.target, s.startMs);
      add(g, s);
      perStep.push(g);
    } else if (s.startMs !== null) {
      const start = periodStart(s.startMs, grouping);
      let g = periods.get(start);
      if (!g) periods.set(start, (g = group(isoDay(start), null, start)));
      add(g, s);
    }
    let model = models.get(s.model);
    if (!model) models.set(s.model, (model = { counters: emptyCounters(), durations: [] }));
    add(model.counters, s);
    if (s.durationMs !== null) {
      model.durations.push(s.durationMs);
      offer(slowest, { target: s.target, label: s.label, value: s.durationMs, order });
    }
    const cost = s.usage?.cost ?? null;
    if (cost !== null && cost > 0) offer(expensive, { target: s.target, label: s.label, value: cost, order });
  }

  const ordered = grouping === 'step' ? perStep : [...periods.values()].sort((a, b) => a.startMs! - b.startMs!);
  if (grouping === 'step' && options.stepOrder === 'start') {
    ordered.sort((a, b) =>
      a.startMs === null || b.startMs === null ? Number(a.startMs === null) - Number(b.startMs === null) || a.order - b.order : a.startMs - b.startMs || a.order - b.order,
    );
  }
  let tokens = 0;
  let cost = 0;
  const groups: AnalyticsGroup[] = ordered.map(({ order: _, ...g }) => {
    tokens += g.totalTokens;
    cost += g.cost;
    return { ...g, cumulativeTotalTokens: tokens, cumulativeCost: cost };
  });
  return {
    grouping,
    sinceMs,
    groups,
    totals,
    undatedSteps,
    byModel: sortModels([...models].map(([name, m]) => modelFigures(name, m.counters, median(m.durations)))),
    slowest: topRanked(slowest),
    mostExpensive: topRanked(expensive),
  };
}
