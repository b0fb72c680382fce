/**
 * The figures of the Analytics panel, for a LaForge database: per step, day or week; by
 * model; the slowest and most expensive steps. SQLite computes them all in one statement
 * over one scan of the rows (a materialized CTE read by each figure family), from
 * expressions that read each value as model.ts does (modelSql.ts), so that every figure
 * agrees with the tree and the details. Token usage that is not recorded (LaForge writes
 * zeros then) is counted apart, never as zero.
 *
 * The other systems' figures are folded from their nodes (sourceAnalytics.ts); what both
 * share is here: the options' check, the counters, how models and rankings are ordered.
 */
import { stepLabel } from './model';
import { dateMsSql, integerSql, tokenUsageSql } from './modelSql';
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
  /** The condition selecting the rows, with its parameters. */
  where: { sql: string; params: SqlValue[] };
}

const GROUPINGS: readonly AnalyticsGrouping[] = ['step', 'day', 'week'];
/** How many steps each ranking lists. */
export const RANKED = 10;
const COUNTERS = 12;

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

/** The statement that computes every figure; its rows are read by analyticsFromRows. */
export function analyticsSql(c: AnalyticsColumns, options: AnalyticsOptions): { sql: string; params: SqlValue[] } {
  checkAnalyticsOptions(options);
  const recorded = tokenUsageSql.recorded(['prompt', 'completion', 'total', 'cost']);
  const range = options.sinceMs === null ? '' : ' WHERE start_ms >= ?';
  const day = `((start_ms - ((start_ms % ${DAY_MS}) + ${DAY_MS}) % ${DAY_MS}) / ${DAY_MS})`;
  const groupKey =
    options.grouping === 'step' ? 'id' : options.grouping === 'day' ? day : `(${day} - ((${day} + 3) % 7 + 7) % 7)`;
  const groupStart = options.grouping === 'step' ? 'min(start_ms)' : `g * ${DAY_MS}`;
  const groupWhere = options.grouping === 'step' ? '' : ' WHERE start_ms IS NOT NULL';
  const counters =
    `count(*), coalesce(sum(failed), 0), coalesce(sum(rolled_back), 0), coalesce(sum(${recorded}), 0), coalesce(sum(NOT ${recorded}), 0), ` +
    `coalesce(sum(cost <> 0), 0), coalesce(sum(prompt), 0), coalesce(sum(completion), 0), coalesce(sum(total), 0), ` +
    `coalesce(sum(cost), 0), coalesce(sum(duration), 0), count(duration)`;
  const cumulative = (x: string) => `sum(sum(${x})) OVER (ORDER BY g ROWS UNBOUNDED PRECEDING)`;
  const pad = (n: number) => Array(n).fill('NULL').join(', ');
  const sql =
    `WITH raw AS MATERIALIZED (SELECT id, ${dateMsSql(c.startTime)} AS start_ms, ${c.endTime} AS end_raw, ` +
    `${integerSql(c.durationMs)} AS stored_duration, ${c.failed} AS failed, 1 - ${c.active} AS rolled_back, ` +
    `coalesce(${c.model}, 'unknown') AS model, ${tokenUsageSql.object(c.tokenUsage)} AS tokens FROM steps WHERE ${c.where.sql}), ` +
    `base AS MATERIALIZED (SELECT id, start_ms, failed, rolled_back, model, ` +
    `${tokenUsageSql.member('tokens', 'prompt_tokens')} AS prompt, ${tokenUsageSql.member('tokens', 'completion_tokens')} AS completion, ` +
    `${tokenUsageSql.member('tokens', 'total_tokens')} AS total, ${tokenUsageSql.member('tokens', 'cost')} AS cost, ` +
    `CASE WHEN stored_duration >= 0 THEN stored_duration WHEN start_ms IS NOT NULL THEN ` +
    `(SELECT e - start_ms FROM (SELECT ${dateMsSql('end_raw')} AS e) WHERE e >= start_ms) END AS duration FROM raw${range}), ` +
    `medians AS (SELECT model, avg(duration) AS median FROM (SELECT model, duration, ` +
    `row_number() OVER (PARTITION BY model ORDER BY duration) AS rn, count(*) OVER (PARTITION BY model) AS n ` +
    `FROM base WHERE duration IS NOT NULL) WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY model) ` +
    // Each family's rows: kind, key, start, the counters, two more figures.
    `SELECT 'g', g, ${groupStart}, ${counters}, ${cumulative('total')}, ${cumulative('cost')} ` +
    `FROM (SELECT ${groupKey} AS g, * FROM base${groupWhere}) GROUP BY g ` +
    `UNION ALL SELECT 't', NULL, NULL, ${counters}, coalesce(sum(start_ms IS NULL), 0), NULL FROM base ` +
    `UNION ALL SELECT 'm', c.*, medians.median, NULL FROM (SELECT model, NULL, ${counters} FROM base GROUP BY model) c ` +
    `LEFT JOIN medians ON medians.model = c.model ` +
    `UNION ALL SELECT * FROM (SELECT 's', id, NULL, ${pad(COUNTERS)}, duration, NULL FROM base WHERE duration IS NOT NULL ` +
    `ORDER BY duration DESC, id LIMIT ${RANKED}) ` +
    `UNION ALL SELECT * FROM (SELECT 'e', id, NULL, ${pad(COUNTERS)}, cost, NULL FROM base WHERE cost > 0 ` +
    `ORDER BY cost DESC, id LIMIT ${RANKED})`;
  return { sql, params: [...c.where.params, ...(options.sinceMs === null ? [] : [options.sinceMs])] };
}

const num = (v: SqlValue): number => (v === null ? 0 : Number(v));

function countersOf(r: SqlValue[]): AnalyticsCounters {
  const n = r.slice(3, 3 + COUNTERS).map(num);
  return {
    steps: n[0], failures: n[1], rollbacks: n[2], usageSteps: n[3], unrecordedSteps: n[4], costSteps: n[5],
    promptTokens: n[6], completionTokens: n[7], totalTokens: n[8], cost: n[9], durationMs: n[10], durationSteps: n[11],
  };
}

/** The first millisecond of the UTC day, or of the UTC week (from Monday), that `ms` is in: analyticsSql's groups. */
export function periodStart(ms: number, grouping: 'day' | 'week'): number {
  const day = Math.floor(ms / DAY_MS);
  return (grouping === 'day' ? day : day - (((day + 3) % 7) + 7) % 7) * DAY_MS;
}

/** `YYYY-MM-DD`, the UTC day of `ms`. */
export const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** The figures from the rows of analyticsSql's statement. */
export function analyticsFromRows(rows: SqlValue[][], options: AnalyticsOptions): StepAnalytics {
  const result: StepAnalytics = {
    grouping: options.grouping,
    sinceMs: options.sinceMs,
    groups: [],
    totals: emptyCounters(),
    undatedSteps: 0,
    byModel: [],
    slowest: [],
    mostExpensive: [],
  };
  const extra = 3 + COUNTERS;
  const order = new Map<AnalyticsGroup, number>();
  const ranked = { s: [] as RankCandidate[], e: [] as RankCandidate[] };
  for (const r of rows) {
    switch (r[0]) {
      case 'g': {
        const key = Number(r[1]);
        const startMs = r[2] === null ? null : Number(r[2]);
        const perStep = options.grouping === 'step';
        const group: AnalyticsGroup = {
          key: perStep ? stepLabel(key) : isoDay(startMs!),
          target: perStep ? String(key) : null,
          startMs,
          ...countersOf(r),
          cumulativeTotalTokens: num(r[extra]),
          cumulativeCost: num(r[extra + 1]),
        };
        order.set(group, perStep ? key : startMs!);
        result.groups.push(group);
        break;
      }
      case 't':
        result.totals = countersOf(r);
        result.undatedSteps = num(r[extra]);
        break;
      case 'm':
        result.byModel.push(modelFigures(String(r[1]), countersOf(r), r[extra] === null ? null : Number(r[extra])));
        break;
      case 's':
      case 'e': {
        const id = Number(r[1]);
        ranked[r[0]].push({ order: id, target: String(id), label: stepLabel(id), value: num(r[extra]) });
        break;
      }
    }
  }
  // UNION ALL keeps no order across its parts: each list is put in its own.
  result.groups.sort((a, b) => order.get(a)! - order.get(b)!);
  sortModels(result.byModel);
  result.slowest = topRanked(ranked.s);
  result.mostExpensive = topRanked(ranked.e);
  return result;
}
