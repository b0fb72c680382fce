/**
 * The messages between the extension host and the Analytics page, one union per direction.
 * Imported by both bundles, so: no `vscode`, no DOM, plain data only. The figures are sent as
 * numbers (core/analytics.ts's StepAnalytics, its groups packed in columns) and the page writes them through the
 * same formatter as the tree and the details (core/figures.ts), in the user's language from
 * the bundle sent with them. Every string that came from a database (a model's name, a step's
 * label) is data: the page shows it with textContent, never as HTML.
 */
import type { AnalyticsGroup, AnalyticsGrouping, AnalyticsRange, StepAnalytics } from '../core/analytics';

export type { AnalyticsGrouping, AnalyticsRange, StepAnalytics };

export const ANALYTICS_RANGES: readonly AnalyticsRange[] = ['7d', '30d', 'all'];
export const ANALYTICS_GROUPINGS: readonly AnalyticsGrouping[] = ['step', 'day', 'week'];

export interface AnalyticsView {
  /** What the figures are of, as the tab says: `demo (steps.db)`, `all projects of agents/steps.db`. */
  scopeText: string;
  /** `LaForge`, `Constellation`, … */
  systemName: string;
  range: AnalyticsRange;
  grouping: AnalyticsGrouping;
  /** When the figures were read (ms since the epoch): the page's "updated" line. */
  readAtMs: number;
  analytics: StepAnalytics;
  /**
   * The extension's translations (vscode.l10n.bundle), for the page's own words and the
   * formatter's; undefined in English.
   */
  l10nContents?: Record<string, string | { message: string; comment: string[] }>;
}

/** The numbers of a group, each a column of the posted figures. */
const GROUP_NUMBERS = [
  'startMs', 'steps', 'failures', 'rollbacks', 'usageSteps', 'unrecordedSteps', 'costSteps', 'promptTokens',
  'completionTokens', 'totalTokens', 'cost', 'durationMs', 'durationSteps', 'cumulativeTotalTokens', 'cumulativeCost',
] as const satisfies readonly (keyof AnalyticsGroup)[];

type GroupNumber = (typeof GROUP_NUMBERS)[number];

/**
 * StepAnalytics as posted to the page: its groups as columns, each number column one
 * Float64Array's ArrayBuffer (NaN for a start not known). VS Code (1.57 and later) hands an
 * ArrayBuffer to the page without serializing it, so 100,000 steps' groups cost a few MB
 * instead of 30 MB of JSON to write and read again.
 */
export interface PackedAnalytics extends Omit<StepAnalytics, 'groups'> {
  groups: { count: number; keys: string[]; targets: (string | null)[]; numbers: Record<GroupNumber, ArrayBuffer> };
}

export function packAnalytics(a: StepAnalytics): PackedAnalytics {
  const count = a.groups.length;
  const numbers = {} as Record<GroupNumber, ArrayBuffer>;
  for (const name of GROUP_NUMBERS) {
    const column = new Float64Array(count);
    for (let i = 0; i < count; i++) column[i] = a.groups[i][name] ?? Number.NaN;
    numbers[name] = column.buffer;
  }
  return { ...a, groups: { count, keys: a.groups.map((g) => g.key), targets: a.groups.map((g) => g.target), numbers } };
}

/** The groups of posted figures, read in place from their columns: what the page needs of an array (an array is one). */
export interface GroupList {
  readonly length: number;
  /** The group at `index`, a new object on each call. */
  at(index: number): AnalyticsGroup | undefined;
  /** `f` of each group, in order. The group passed may be one object refilled for each index: `f` must not keep it. */
  map<U>(f: (group: AnalyticsGroup, index: number) => U): U[];
}

/** The figures as the page reads them: the groups left in their columns until a table asks for some. */
export type PageAnalytics = Omit<StepAnalytics, 'groups'> & { groups: GroupList };

export function groupColumns(p: PackedAnalytics): PageAnalytics {
  const c = Object.fromEntries(GROUP_NUMBERS.map((name) => [name, new Float64Array(p.groups.numbers[name])])) as Record<GroupNumber, Float64Array>;
  const { count, keys, targets } = p.groups;
  // A group made at an index: one object literal's shape for every group.
  const fill = (i: number): AnalyticsGroup => {
    const group = {} as AnalyticsGroup;
    group.key = keys[i];
    group.target = targets[i];
    group.startMs = Number.isNaN(c.startMs[i]) ? null : c.startMs[i];
    group.steps = c.steps[i];
    group.failures = c.failures[i];
    group.rollbacks = c.rollbacks[i];
    group.usageSteps = c.usageSteps[i];
    group.unrecordedSteps = c.unrecordedSteps[i];
    group.costSteps = c.costSteps[i];
    group.promptTokens = c.promptTokens[i];
    group.completionTokens = c.completionTokens[i];
    group.totalTokens = c.totalTokens[i];
    group.cost = c.cost[i];
    group.durationMs = c.durationMs[i];
    group.durationSteps = c.durationSteps[i];
    group.cumulativeTotalTokens = c.cumulativeTotalTokens[i];
    group.cumulativeCost = c.cumulativeCost[i];
    return group;
  };
  // map()'s group: one object whose fields read the columns at its index, moved along them.
  const cursor = { i: 0 } as { i: number } & AnalyticsGroup;
  const at = (name: GroupNumber) => ({ get: () => c[name][cursor.i], enumerable: true });
  Object.defineProperties(cursor, {
    key: { get: () => keys[cursor.i], enumerable: true },
    target: { get: () => targets[cursor.i], enumerable: true },
    startMs: { get: () => (Number.isNaN(c.startMs[cursor.i]) ? null : c.startMs[cursor.i]), enumerable: true },
    ...Object.fromEntries(GROUP_NUMBERS.filter((n) => n !== 'startMs').map((n) => [n, at(n)])),
  });
  const groups: GroupList = {
    length: count,
    at: (index) => {
      const i = index < 0 ? count + index : index;
      return i >= 0 && i < count ? fill(i) : undefined;
    },
    map: <U>(f: (group: AnalyticsGroup, index: number) => U): U[] => {
      const out = new Array<U>(count);
      for (let i = 0; i < count; i++) {
        cursor.i = i;
        out[i] = f(cursor, i);
      }
      return out;
    },
  };
  return { ...p, groups };
}

/** Every group made, as the host had them. */
export function unpackAnalytics(p: PackedAnalytics): StepAnalytics {
  const { groups, ...rest } = groupColumns(p);
  return { ...rest, groups: Array.from({ length: groups.length }, (_, i) => groups.at(i)!) };
}

/** Host → page. */
export type HostMessage =
  | { type: 'loading'; scopeText: string }
  | { type: 'analytics'; view: Omit<AnalyticsView, 'analytics'> & { analytics: PackedAnalytics } }
  | { type: 'error'; message: string };

/** Page → host. The page sends `ready` first, and again whenever it is reloaded. */
export type PageMessage =
  | { type: 'ready' }
  /** The user chose another range or grouping: the host reads the figures again. */
  | { type: 'options'; range: AnalyticsRange; grouping: AnalyticsGrouping }
  /** A step of a table, or of a chart, was chosen: its details open. `target` as the view gave it. */
  | { type: 'openStep'; target: string }
  /** Save the figures shown (this range and grouping) as a file. */
  | { type: 'export'; format: 'csv' | 'json' }
  /** The charts of an `analytics` message are drawn: how long after it arrived (ms), and how many groups it held. */
  | { type: 'painted'; ms: number; groups: number };

/** The host's check of what the page sends: anything else is ignored. */
export function isPageMessage(value: unknown): value is PageMessage {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  switch (m.type) {
    case 'ready':
      return true;
    case 'options':
      return (ANALYTICS_RANGES as readonly unknown[]).includes(m.range) && (ANALYTICS_GROUPINGS as readonly unknown[]).includes(m.grouping);
    case 'openStep':
      return typeof m.target === 'string' && m.target.length > 0 && m.target.length <= 1000;
    case 'export':
      return m.format === 'csv' || m.format === 'json';
    case 'painted':
      return typeof m.ms === 'number' && Number.isFinite(m.ms) && m.ms >= 0 && typeof m.groups === 'number' && Number.isSafeInteger(m.groups);
    default:
      return false;
  }
}
