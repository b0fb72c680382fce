/**
 * Constellation (shaal/ralph-cc, `~/.constellation/constellation.db`) as a history source.
 *
 * Levels: project → agent → iteration. A project lists its root agents; an agent lists its
 * sub-agents (by `parent_id`, within the same project) and then its iterations. Containers are
 * newest first (projects by `updated_at`, else `created_at`; agents by `created_at`), iterations
 * in time order.
 *
 * An iteration is one assistant message and every message after it up to the next assistant
 * message of the same agent (its tool messages; a user message there is shown with it but is no
 * tool result), in the order `created_at`, then rowid; a message whose time cannot be read sorts
 * after all others. Messages before an agent's first assistant message (its prompt) belong to the
 * agent. Iterations are the steps.
 *
 * Outputs belong to an iteration by time: an output of the agent whose `created_at` lies in
 * [its assistant message's time, the next assistant message's time) is one of its changes. An
 * output with the same time as an assistant message goes to the iteration that message opens
 * (the later one); outputs before the first iteration or without a readable time are listed in
 * the agent's details; outputs without an agent in the project's. Events bind the same way.
 *
 * Agents no project reaches (project_id NULL, empty, or naming a project that no longer exists:
 * the app deletes a project's agents with it only on its own connection, which turns foreign keys
 * on; a connection that does not, such as the sqlite3 shell, leaves them) are listed under one
 * synthetic top-level node, "(no project)" (ref `project:@none`: `@` keys are rowids elsewhere,
 * so it never names a real project), after the projects and only when such agents exist. Under
 * it they nest like a project's agents (sub-agents by `parent_id`, among agents of the same
 * project_id; then iterations), and each carries a warning saying which project is gone. Its
 * metrics are its agents' totals, as a project's are.
 *
 * Metrics. The app never updates the counters (`cost_total`, `total_tokens`, `total_cost`,
 * `iteration_count` stay 0), so a counter is only a fallback: tokens and cost are the sums over
 * the assistant and tool messages (`usage.input_tokens` / `output_tokens`, `cost`; the user's
 * prompt is already inside the next call's input); when no message records any, a counter counts
 * only when it is above 0; otherwise the metric is null (not recorded), never $0.
 *
 * Stored text is returned raw (the views escape it); texts are cut at DETAIL_CAP in details and
 * TEXT_CAP in `text()`, with a note. Broken JSON, values of the wrong type, unknown statuses and
 * unreadable times become warnings on the node, never exceptions.
 */
import * as l10n from '@vscode/l10n';
import type {
  ChangeItem, DetailFact, DetailMessage, DetailSection, Detection, HistoryNode, HistorySource, LevelInfo, NodeMetrics, NodeRef, NodeStatus, Page,
  SchemaShape, SourceAdapter, SqlReader, SqlRow, SqlValue, TextRef, TokenCounts,
} from '../types';
import {
  AGENT_STATUSES, DETAIL_CAP, NO_TIME, PROJECT_STATUSES, TEXT_CAP, addTokens, asNumber, asText, capped, cappedText, checkNumber, firstLine,
  formatCost, formatDuration, formatTokens, isObject, mapStatus, parseJson, prettyJson, quote, timeMs, toDate, typeName, usageTokens,
  withCapNote,
} from './values';
import { counted, level, timeFact, timeText } from '../figures';
import { missingParentWarning, orphanGroupDescription, syntheticInPage } from '../orphans';
import { failures } from '../../messages';

export { TEXT_CAP, DETAIL_CAP } from './values';

export const CONSTELLATION_COLUMNS = {
  projects: ['id', 'name', 'description', 'status', 'prompt_path', 'settings', 'cost_total', 'iteration_count', 'created_at', 'updated_at', 'ended_at'],
  agents: ['id', 'project_id', 'parent_id', 'name', 'status', 'config', 'current_task', 'total_tokens', 'total_cost', 'iteration_count', 'depth', 'created_at', 'updated_at'],
  agent_history: ['id', 'agent_id', 'role', 'content', 'tool_calls', 'tool_results', 'usage', 'cost', 'created_at'],
  outputs: ['id', 'project_id', 'agent_id', 'type', 'path', 'content', 'previous_content', 'checksum', 'created_at'],
  events: ['id', 'project_id', 'agent_id', 'type', 'data', 'created_at'],
} as const;
type Table = keyof typeof CONSTELLATION_COLUMNS;
const REQUIRED: Table[] = ['projects', 'agents'];
const OPTIONAL: Table[] = ['agent_history', 'outputs', 'events'];

const DEFAULT_LIMIT = 200;
/** Most events in one timeline, outputs in one list. */
const LIST_CAP = 2000;

/** The key of the "(no project)" node in `project:<key>`: never a real project's (those `@` keys are rowids). */
const NO_PROJECT_KEY = '@none';
export const NO_PROJECT_REF = `project:${NO_PROJECT_KEY}`;
/** The "(no project)" node's label in English, as tests and the command line compare it; the tree shows noProjectLabel(). */
export const NO_PROJECT_LABEL = '(no project)';
export const noProjectLabel = (): string => l10n.t('(no project)');

/** An agent no listed project reaches: project_id NULL, not text, empty, or naming no project. */
const ORPHAN_AGENT = `(typeof(agents.project_id) <> 'text' OR agents.project_id = '' OR NOT EXISTS (SELECT 1 FROM projects p WHERE p.id = agents.project_id))`;

export const CONSTELLATION_LEVELS: readonly LevelInfo[] = [
  level('project', () => l10n.t('project'), () => l10n.t('projects')),
  level('agent', () => l10n.t('agent'), () => l10n.t('agents')),
  level('iteration', () => l10n.t('iteration'), () => l10n.t('iterations')),
];

function hasColumns(shape: SchemaShape, table: Table): boolean {
  const cols = shape.tables.get(table);
  return !!cols && CONSTELLATION_COLUMNS[table].every((c) => cols.has(c));
}

export const constellationAdapter: SourceAdapter = {
  system: 'constellation',
  detect(shape: SchemaShape): Detection | null {
    if (!REQUIRED.every((t) => hasColumns(shape, t))) return null;
    // A table of that name with other columns is another program's.
    if (OPTIONAL.some((t) => shape.tables.has(t) && !hasColumns(shape, t))) return null;
    return { system: 'constellation', variant: 'written' };
  },
  open(reader: SqlReader, detection: Detection): HistorySource {
    const present = new Set<Table>();
    for (const t of [...REQUIRED, ...OPTIONAL]) {
      const cols = new Set(reader.all('SELECT lower(name) AS name FROM pragma_table_info(?)', [t]).map((r) => String(r.name)));
      if (cols.size === 0) continue;
      const missing = CONSTELLATION_COLUMNS[t].filter((c) => !cols.has(c));
      if (missing.length) {
        throw failures.constellationColumnsMissing({ table: t, columns: missing }, `table ${t}`);
      }
      present.add(t);
    }
    for (const t of REQUIRED) {
      if (!present.has(t)) throw failures.notConstellation({ table: t }, `table ${t}`);
    }
    return new ConstellationSource(reader, detection, present);
  },
};

// ---------------------------------------------------------------------------------------------
// Keys and refs

/** A row's key in refs: its text id, or `@<rowid>` when the id is not usable text. */
function keyOf(id: SqlValue | undefined, rid: SqlValue | undefined): string {
  return typeof id === 'string' && id !== '' && !id.startsWith('@') ? id : `@${String(rid)}`;
}

function whereKey(key: string): { sql: string; param: SqlValue } {
  if (key.startsWith('@')) {
    const n = Number(key.slice(1));
    return { sql: 'rowid = ?', param: Number.isInteger(n) ? n : -1 };
  }
  return { sql: 'id = ?', param: key };
}

function parseRef(ref: string): { level: string; key: string } | null {
  const at = ref.indexOf(':');
  if (at <= 0) return null;
  return { level: ref.slice(0, at), key: ref.slice(at + 1) };
}

const T = (col: string) => timeMs(col);
const SORT = (col: string) => `coalesce(${timeMs(col)}, ${NO_TIME})`;

/** A position in an agent's message order. */
interface Bound {
  ts: number;
  rid: number;
}

const before = (a: Bound, b: Bound) => a.ts < b.ts || (a.ts === b.ts && a.rid < b.rid);

// ---------------------------------------------------------------------------------------------
// SQL

const PROJECT_COLS = `rowid AS rid, id, ${capped('name', DETAIL_CAP)}, ${capped('description', DETAIL_CAP)}, status, prompt_path,
  ${capped('settings', DETAIL_CAP)}, cost_total, iteration_count, created_at, updated_at, ended_at,
  ${T('created_at')} AS created_ms, ${T('updated_at')} AS updated_ms, ${T('ended_at')} AS ended_ms`;
const AGENT_COLS = `rowid AS rid, id, project_id, parent_id, ${capped('name', DETAIL_CAP)}, status, ${capped('config', DETAIL_CAP)},
  ${capped('current_task', DETAIL_CAP)}, total_tokens, total_cost, iteration_count, depth, created_at, updated_at,
  ${T('created_at')} AS created_ms, ${T('updated_at')} AS updated_ms`;

const USAGE_OK = `typeof(usage) = 'text' AND json_valid(usage)`;
const COUNTED = `lower(role) IN ('assistant', 'tool')`;
/** Totals over a set of agent_history rows. */
const AGG = `count(*) AS messages,
  coalesce(sum(lower(role) = 'assistant'), 0) AS assistants,
  sum(CASE WHEN ${COUNTED} AND ${USAGE_OK} AND json_type(usage, '$.input_tokens') IN ('integer', 'real') THEN json_extract(usage, '$.input_tokens') END) AS prompt,
  sum(CASE WHEN ${COUNTED} AND ${USAGE_OK} AND json_type(usage, '$.output_tokens') IN ('integer', 'real') THEN json_extract(usage, '$.output_tokens') END) AS completion,
  sum(CASE WHEN ${COUNTED} AND typeof(cost) IN ('integer', 'real') THEN cost END) AS cost,
  coalesce(sum(usage IS NOT NULL AND NOT (${USAGE_OK})), 0) AS bad_usage,
  coalesce(sum(cost IS NOT NULL AND typeof(cost) NOT IN ('integer', 'real')), 0) AS bad_cost`;

/** An agent's messages with their place in its order (light columns, for nodes). */
const MSG_LITE = `SELECT rowid AS rid, id, role, ${T('created_at')} AS t, ${SORT('created_at')} AS ts, created_at, usage, cost,
    substr(content, 1, 2000) AS head,
    CASE WHEN typeof(tool_calls) = 'text' AND json_valid(tool_calls) AND json_type(tool_calls) = 'array' THEN json_array_length(tool_calls) END AS calls_n,
    (tool_calls IS NOT NULL AND NOT (typeof(tool_calls) = 'text' AND json_valid(tool_calls))) AS bad_calls,
    (tool_results IS NOT NULL AND NOT (typeof(tool_results) = 'text' AND json_valid(tool_results))) AS bad_results
  FROM agent_history WHERE agent_id = ?`;
const MSG_FULL = `SELECT rowid AS rid, id, role, ${T('created_at')} AS t, ${SORT('created_at')} AS ts, created_at, usage, cost,
    ${capped('content', DETAIL_CAP)}, ${capped('tool_calls', DETAIL_CAP)}, ${capped('tool_results', DETAIL_CAP)}
  FROM agent_history WHERE agent_id = ?`;

interface Totals {
  messages: number;
  assistants: number;
  tokens: TokenCounts | null;
  cost: number | null;
  badUsage: number;
  badCost: number;
}

function totalsOf(row: SqlRow | undefined): Totals {
  const prompt = asNumber(row?.prompt);
  const completion = asNumber(row?.completion);
  return {
    messages: asNumber(row?.messages) ?? 0,
    assistants: asNumber(row?.assistants) ?? 0,
    tokens: prompt === null && completion === null ? null : { prompt, completion, total: (prompt ?? 0) + (completion ?? 0) },
    cost: asNumber(row?.cost),
    badUsage: asNumber(row?.bad_usage) ?? 0,
    badCost: asNumber(row?.bad_cost) ?? 0,
  };
}

const EMPTY_TOTALS: Totals = { messages: 0, assistants: 0, tokens: null, cost: null, badUsage: 0, badCost: 0 };

function totalsWarnings(t: Totals, warnings: string[]): void {
  if (t.badUsage) warnings.push(l10n.t('{0} message(s) have usage that is not JSON; their tokens are not counted.', t.badUsage));
  if (t.badCost) warnings.push(l10n.t('{0} message(s) have a cost that is not a number; it is not counted.', t.badCost));
}

function metrics(start: Date | null, end: Date | null, tokens: TokenCounts | null, costUsd: number | null, model: string | null): NodeMetrics {
  const durationMs = start && end && end.getTime() >= start.getTime() ? end.getTime() - start.getTime() : null;
  return { start, end, durationMs, tokens, costUsd, model };
}

function timeWarning(row: SqlRow, col: string, warnings: string[], what = col): void {
  if (row[col] !== null && row[col] !== undefined && row[`${col.replace(/_at$/, '')}_ms`] === null) {
    warnings.push(l10n.t('{0} {1} is not a time.', what, quote(asText(row[col]))));
  }
}

// ---------------------------------------------------------------------------------------------
// The source

interface AgentTree {
  roots: string[];
  children: Map<string, string[]>;
  rid: Map<string, number>;
  notes: Map<string, string>;
}

interface AgentInfo {
  row: SqlRow;
  key: string;
  /** The id agent_history, outputs and events use; null when the row has no text id. */
  id: string | null;
  projectKey: string | null;
  status: NodeStatus;
  rawStatus: string | null;
  config: Record<string, unknown> | null;
  model: string | null;
  warnings: string[];
}

interface Msg {
  row: SqlRow;
  bound: Bound;
  role: string;
  time: Date | null;
}

interface Iteration {
  agent: AgentInfo;
  index: number;
  assistant: Msg;
  /** The next assistant message's place; null for the agent's last iteration. */
  next: Bound | null;
  messages: Msg[];
  outputs: SqlRow[];
}

const msgOf = (row: SqlRow): Msg => ({
  row,
  bound: { ts: asNumber(row.ts) ?? Number(NO_TIME), rid: asNumber(row.rid) ?? 0 },
  role: (asText(row.role) ?? '').toLowerCase(),
  time: toDate(row.t),
});

class ConstellationSource implements HistorySource {
  readonly levels = CONSTELLATION_LEVELS;
  private readonly trees = new Map<string, AgentTree>();

  constructor(
    private readonly db: SqlReader,
    readonly detection: Detection,
    private readonly present: ReadonlySet<Table>,
  ) {}

  // Tree --------------------------------------------------------------------------------------

  children(parent: NodeRef | null, page: Page = {}): HistoryNode[] {
    const offset = Math.max(0, Math.floor(page.offset ?? 0));
    const limit = Math.max(0, Math.floor(page.limit ?? DEFAULT_LIMIT));
    if (limit === 0) return [];
    if (parent === null) {
      const nodes = this.db
        .all(`SELECT ${PROJECT_COLS} FROM projects ORDER BY coalesce(updated_ms, created_ms) IS NULL, coalesce(updated_ms, created_ms) DESC, rowid DESC LIMIT ? OFFSET ?`, [limit, offset])
        .map((r) => this.projectNode(r));
      // "(no project)" comes after the projects: index `projectCount()` in the whole list.
      if (syntheticInPage(this.projectCount(), offset, limit)) {
        const none = this.noProjectNode();
        if (none) nodes.push(none);
      }
      return nodes;
    }
    const p = parseRef(parent);
    if (!p) return [];
    if (p.level === 'project' && p.key === NO_PROJECT_KEY) {
      const tree = this.orphanTree();
      return tree.roots.slice(offset, offset + limit).flatMap((k) => this.agentNodeByRid(tree.rid.get(k)!) ?? []);
    }
    if (p.level === 'project') {
      const project = this.projectRow(p.key);
      if (!project) return [];
      const tree = this.tree(project);
      return tree.roots.slice(offset, offset + limit).flatMap((k) => this.agentNodeByRid(tree.rid.get(k)!) ?? []);
    }
    if (p.level === 'agent') {
      const agent = this.agentInfo(p.key);
      if (!agent) return [];
      const tree = this.treeOfAgent(agent);
      const subs = tree.children.get(agent.key) ?? [];
      const out: HistoryNode[] = subs.slice(offset, offset + limit).flatMap((k) => this.agentNodeByRid(tree.rid.get(k)!) ?? []);
      const left = limit - Math.max(0, Math.min(subs.length - offset, limit));
      if (left > 0) {
        out.push(...this.iterationPage(agent, Math.max(0, offset - subs.length), left).map((it) => this.iterationNode(it)));
      }
      return out;
    }
    return [];
  }

  count(parent: NodeRef | null): number {
    if (parent === null) return this.projectCount() + (this.orphanTree().rid.size > 0 ? 1 : 0);
    const p = parseRef(parent);
    if (!p) return 0;
    if (p.level === 'project' && p.key === NO_PROJECT_KEY) return this.orphanTree().roots.length;
    if (p.level === 'project') {
      const project = this.projectRow(p.key);
      return project ? this.tree(project).roots.length : 0;
    }
    if (p.level === 'agent') {
      const agent = this.agentInfo(p.key);
      if (!agent) return 0;
      return (this.treeOfAgent(agent).children.get(agent.key)?.length ?? 0) + this.assistantCount(agent);
    }
    return 0;
  }

  node(ref: NodeRef): HistoryNode | undefined {
    const p = parseRef(ref);
    if (!p) return undefined;
    if (p.level === 'project' && p.key === NO_PROJECT_KEY) return this.noProjectNode() ?? undefined;
    if (p.level === 'project') {
      const row = this.projectRow(p.key);
      return row ? this.projectNode(row) : undefined;
    }
    if (p.level === 'agent') {
      const agent = this.agentInfo(p.key);
      return agent ? this.agentNode(agent) : undefined;
    }
    if (p.level === 'iteration') {
      const it = this.iteration(p.key);
      return it ? this.iterationNode(it) : undefined;
    }
    return undefined;
  }

  // Projects ----------------------------------------------------------------------------------

  private projectRow(key: string): SqlRow | undefined {
    const w = whereKey(key);
    return this.db.get(`SELECT ${PROJECT_COLS} FROM projects WHERE ${w.sql}`, [w.param]);
  }

  private projectCount(): number {
    return asNumber(this.db.get('SELECT count(*) AS n FROM projects')?.n) ?? 0;
  }

  private projectTotals(row: SqlRow): Totals {
    const id = typeof row.id === 'string' ? row.id : null;
    if (!id || !this.present.has('agent_history')) return EMPTY_TOTALS;
    return totalsOf(this.db.get(`SELECT ${AGG} FROM agent_history WHERE agent_id IN (SELECT id FROM agents WHERE project_id = ?)`, [id]));
  }

  private projectParts(row: SqlRow) {
    const warnings: string[] = [];
    const { status, raw } = mapStatus(row.status, PROJECT_STATUSES, 'project', warnings);
    const settings = parseJson(row.settings, 'settings', warnings, asNumber(row.settings_len));
    if (settings !== undefined && !isObject(settings)) warnings.push(l10n.t('settings is JSON {0}, not an object.', Array.isArray(settings) ? 'array' : typeof settings));
    const settingsObj = isObject(settings) ? settings : null;
    const costTotal = checkNumber(row, 'cost_total', warnings);
    checkNumber(row, 'iteration_count', warnings);
    for (const c of ['created_at', 'updated_at', 'ended_at']) timeWarning(row, c, warnings);
    if (typeof row.id !== 'string' || row.id === '') warnings.push(l10n.t('id holds {0}, not a text id: its agents cannot be found.', typeName(row.id)));
    const name = asText(row.name);
    if (name === null || name.trim() === '') warnings.push(l10n.t('The project has no name.'));
    const totals = this.projectTotals(row);
    totalsWarnings(totals, warnings);
    const cost = totals.cost ?? (costTotal !== null && costTotal > 0 ? costTotal : null);
    const model = settingsObj && typeof settingsObj.model === 'string' ? settingsObj.model : null;
    const final = status === 'completed' || status === 'failed' || status === 'stopped';
    const m = metrics(toDate(row.created_ms), final ? toDate(row.ended_ms) : null, totals.tokens, cost, model);
    return { warnings, status, raw, settingsObj, costTotal, totals, m, name };
  }

  private projectNode(row: SqlRow): HistoryNode {
    const { warnings, status, raw, m, name, totals } = this.projectParts(row);
    const tree = this.tree(row);
    const agents = tree.rid.size;
    const desc = [raw ?? l10n.t('no status'), agents ? counted(agents, (c) => l10n.t('{0} agent', c), (c) => l10n.t('{0} agents', c)) : l10n.t('no agents')];
    if (totals.assistants) desc.push(counted(totals.assistants, (c) => l10n.t('{0} iteration', c), (c) => l10n.t('{0} iterations', c)));
    return {
      ref: `project:${keyOf(row.id, row.rid)}`, level: 'project', label: name && name.trim() !== '' ? name : l10n.t('(unnamed project)'),
      description: desc.join(' · '), status, rawStatus: raw, metrics: m, hasChildren: tree.roots.length > 0, isStep: false, warnings,
    };
  }

  /** The project's agents as a forest: parent links within the project, loops and dangling parents cut. */
  private tree(project: SqlRow): AgentTree {
    const pkey = keyOf(project.id, project.rid);
    const cached = this.trees.get(pkey);
    if (cached) return cached;
    const rows = typeof project.id === 'string' && project.id !== ''
      ? this.db.all(`SELECT rowid AS rid, id, parent_id, project_id, ${T('created_at')} AS t FROM agents WHERE project_id = ?`, [project.id])
      : [];
    const tree = buildTree(rows);
    this.trees.set(pkey, tree);
    return tree;
  }

  /** The agents no project reaches, as a forest: parent links among agents of the same project_id. */
  private orphanTree(): AgentTree {
    const cached = this.trees.get(NO_PROJECT_KEY);
    if (cached) return cached;
    const tree = buildTree(this.db.all(`SELECT rowid AS rid, id, parent_id, project_id, ${T('created_at')} AS t FROM agents WHERE ${ORPHAN_AGENT}`));
    this.trees.set(NO_PROJECT_KEY, tree);
    return tree;
  }

  /** The project row an agent belongs to (by its exact project_id); undefined for an agent no project reaches. */
  private projectOfAgent(agent: AgentInfo): SqlRow | undefined {
    if (agent.projectKey === null) return undefined;
    return this.db.get(`SELECT ${PROJECT_COLS} FROM projects WHERE id = ?`, [agent.projectKey]);
  }

  /** The forest the agent is listed in: its project's, or "(no project)"'s. */
  private treeOfAgent(agent: AgentInfo): AgentTree {
    const project = this.projectOfAgent(agent);
    return project ? this.tree(project) : this.orphanTree();
  }

  /** The "(no project)" node; null when every agent has its project. */
  private noProjectNode(): HistoryNode | null {
    const tree = this.orphanTree();
    if (tree.rid.size === 0) return null;
    const { warnings, totals, m } = this.noProjectParts();
    const desc = [orphanGroupDescription(tree.rid.size, 'agent')];
    if (totals.assistants) desc.push(counted(totals.assistants, (c) => l10n.t('{0} iteration', c), (c) => l10n.t('{0} iterations', c)));
    return {
      ref: NO_PROJECT_REF, level: 'project', label: noProjectLabel(), description: desc.join(' · '),
      // There is no project row, and so no project status.
      status: 'unknown', rawStatus: null, metrics: m, hasChildren: tree.roots.length > 0, isStep: false, warnings,
    };
  }

  /** "(no project)"'s totals: its agents' messages, else their counters when above 0, as for a project. */
  private noProjectParts() {
    const warnings: string[] = [];
    const totals = this.present.has('agent_history')
      ? totalsOf(this.db.get(`SELECT ${AGG} FROM agent_history WHERE agent_id IN (SELECT id FROM agents WHERE ${ORPHAN_AGENT})`))
      : EMPTY_TOTALS;
    totalsWarnings(totals, warnings);
    const counters = this.db.get(
      `SELECT min(${T('created_at')}) AS start_ms,
         sum(CASE WHEN typeof(total_tokens) IN ('integer', 'real') THEN total_tokens END) AS tokens,
         sum(CASE WHEN typeof(total_cost) IN ('integer', 'real') THEN total_cost END) AS cost
       FROM agents WHERE ${ORPHAN_AGENT}`,
    );
    const counterTokens = asNumber(counters?.tokens);
    const counterCost = asNumber(counters?.cost);
    const tokens = totals.tokens ?? (counterTokens !== null && counterTokens > 0 ? { prompt: null, completion: null, total: counterTokens } : null);
    const cost = totals.cost ?? (counterCost !== null && counterCost > 0 ? counterCost : null);
    const m = metrics(toDate(counters?.start_ms), null, tokens, cost, null);
    return { warnings, totals, m };
  }

  // Agents ------------------------------------------------------------------------------------

  private agentInfoFromRow(row: SqlRow): AgentInfo {
    const warnings: string[] = [];
    const { status, raw } = mapStatus(row.status, AGENT_STATUSES, 'agent', warnings);
    const config = parseJson(row.config, 'config', warnings, asNumber(row.config_len));
    if (config !== undefined && !isObject(config)) warnings.push(l10n.t('config is JSON {0}, not an object.', Array.isArray(config) ? 'array' : typeof config));
    const configObj = isObject(config) ? config : null;
    for (const c of ['total_tokens', 'total_cost', 'iteration_count', 'depth']) checkNumber(row, c, warnings);
    for (const c of ['created_at', 'updated_at']) timeWarning(row, c, warnings);
    const id = typeof row.id === 'string' && row.id !== '' ? row.id : null;
    if (!id) warnings.push(l10n.t('id holds {0}, not a text id: its messages cannot be found.', typeName(row.id)));
    const projectKey = typeof row.project_id === 'string' && row.project_id !== '' ? row.project_id : null;
    return {
      row, key: keyOf(row.id, row.rid), id, projectKey, status, rawStatus: raw, config: configObj,
      model: configObj && typeof configObj.model === 'string' ? configObj.model : null, warnings,
    };
  }

  private agentInfo(key: string): AgentInfo | undefined {
    const w = whereKey(key);
    const row = this.db.get(`SELECT ${AGENT_COLS} FROM agents WHERE ${w.sql}`, [w.param]);
    return row ? this.agentInfoFromRow(row) : undefined;
  }

  private agentNodeByRid(rid: number): HistoryNode | undefined {
    const row = this.db.get(`SELECT ${AGENT_COLS} FROM agents WHERE rowid = ?`, [rid]);
    return row ? this.agentNode(this.agentInfoFromRow(row)) : undefined;
  }

  private agentTotals(agent: AgentInfo): Totals {
    if (!agent.id || !this.present.has('agent_history')) return EMPTY_TOTALS;
    return totalsOf(this.db.get(`SELECT ${AGG} FROM agent_history WHERE agent_id = ?`, [agent.id]));
  }

  private assistantCount(agent: AgentInfo): number {
    if (!agent.id || !this.present.has('agent_history')) return 0;
    return asNumber(this.db.get(`SELECT count(*) AS n FROM agent_history WHERE agent_id = ? AND lower(role) = 'assistant'`, [agent.id])?.n) ?? 0;
  }

  private agentParts(agent: AgentInfo) {
    const warnings = [...agent.warnings];
    const project = this.projectOfAgent(agent);
    const tree = project ? this.tree(project) : this.orphanTree();
    if (!project) {
      const pid = agent.row.project_id;
      warnings.push(missingParentWarning('project', 'project_id', pid === null || pid === undefined ? null : asText(pid) ?? ''));
    } else if (!tree.rid.has(agent.key)) {
      warnings.push(l10n.t('project_id {0} is not a project of this database.', quote(asText(agent.row.project_id))));
    }
    const note = tree.notes.get(agent.key);
    if (note) warnings.push(note);
    const totals = this.agentTotals(agent);
    totalsWarnings(totals, warnings);
    const totalTokens = asNumber(agent.row.total_tokens);
    const totalCost = asNumber(agent.row.total_cost);
    const tokens = totals.tokens ?? (totalTokens !== null && totalTokens > 0 ? { prompt: null, completion: null, total: totalTokens } : null);
    const cost = totals.cost ?? (totalCost !== null && totalCost > 0 ? totalCost : null);
    const final = agent.status === 'completed' || agent.status === 'failed';
    const m = metrics(toDate(agent.row.created_ms), final ? toDate(agent.row.updated_ms) : null, tokens, cost, agent.model);
    const subs = tree.children.get(agent.key)?.length ?? 0;
    return { warnings, totals, m, subs, tree, project };
  }

  private agentNode(agent: AgentInfo): HistoryNode {
    const { warnings, totals, m, subs } = this.agentParts(agent);
    const name = asText(agent.row.name);
    const depth = asNumber(agent.row.depth);
    const role = agent.row.parent_id === null ? l10n.t('root agent') : depth !== null ? l10n.t('sub-agent, depth {0}', depth) : l10n.t('sub-agent');
    const desc = [role];
    const spec = agent.config?.specialization;
    if (typeof spec === 'string' && spec) desc.push(spec);
    desc.push(agent.rawStatus ?? l10n.t('no status'));
    desc.push(totals.messages ? counted(totals.messages, (c) => l10n.t('{0} message', c), (c) => l10n.t('{0} messages', c)) : l10n.t('no messages'));
    if (subs) desc.push(counted(subs, (c) => l10n.t('{0} sub-agent', c), (c) => l10n.t('{0} sub-agents', c)));
    return {
      ref: `agent:${agent.key}`, level: 'agent', label: name && name.trim() !== '' ? name : l10n.t('(unnamed agent)'), description: desc.join(' · '),
      status: agent.status, rawStatus: agent.rawStatus, metrics: m, hasChildren: subs > 0 || totals.assistants > 0, isStep: false, warnings,
    };
  }

  // Iterations --------------------------------------------------------------------------------

  /** Iterations `offset`… of an agent, at most `limit`, in time order. */
  private iterationPage(agent: AgentInfo, offset: number, limit: number): Iteration[] {
    if (!agent.id || !this.present.has('agent_history')) return [];
    const rows = this.db.all(`SELECT * FROM (${MSG_LITE}) WHERE lower(role) = 'assistant' ORDER BY ts, rid LIMIT ? OFFSET ?`, [agent.id, limit + 1, offset]);
    const assistants = rows.slice(0, limit).map(msgOf);
    const next = rows.length > limit ? msgOf(rows[limit]).bound : null;
    return this.fillIterations(agent, assistants, next, offset + 1);
  }

  private iteration(key: string): Iteration | undefined {
    if (!this.present.has('agent_history')) return undefined;
    const w = whereKey(key);
    const head = this.db.get(`SELECT agent_id FROM agent_history WHERE ${w.sql} AND lower(role) = 'assistant'`, [w.param]);
    const agentId = head && typeof head.agent_id === 'string' ? head.agent_id : null;
    if (!agentId) return undefined;
    const agentRow = this.db.get(`SELECT ${AGENT_COLS} FROM agents WHERE id = ?`, [agentId]);
    if (!agentRow) return undefined;
    const agent = this.agentInfoFromRow(agentRow);
    const row = this.db.get(`SELECT * FROM (${MSG_LITE}) WHERE ${w.sql.replace('rowid', 'rid')}`, [agentId, w.param]);
    if (!row) return undefined;
    const a = msgOf(row);
    const index = (asNumber(this.db.get(`SELECT count(*) AS n FROM (${MSG_LITE}) WHERE lower(role) = 'assistant' AND (ts, rid) < (?, ?)`, [agentId, a.bound.ts, a.bound.rid])?.n) ?? 0) + 1;
    const nextRow = this.db.get(`SELECT ts, rid FROM (${MSG_LITE}) WHERE lower(role) = 'assistant' AND (ts, rid) > (?, ?) ORDER BY ts, rid LIMIT 1`, [agentId, a.bound.ts, a.bound.rid]);
    const next = nextRow ? msgOf(nextRow).bound : null;
    return this.fillIterations(agent, [a], next, index)[0];
  }

  /** The messages and outputs of consecutive iterations starting at `assistants`, up to `next`. */
  private fillIterations(agent: AgentInfo, assistants: Msg[], next: Bound | null, firstIndex: number): Iteration[] {
    if (assistants.length === 0) return [];
    const its: Iteration[] = assistants.map((a, i) => ({
      agent, index: firstIndex + i, assistant: a, next: i + 1 < assistants.length ? assistants[i + 1].bound : next, messages: [], outputs: [],
    }));
    const from = assistants[0].bound;
    const upper = next ? ' AND (ts, rid) < (?, ?)' : '';
    const params: SqlValue[] = [agent.id, from.ts, from.rid, ...(next ? [next.ts, next.rid] : [])];
    const msgs = this.db.all(`SELECT * FROM (${MSG_LITE}) WHERE (ts, rid) >= (?, ?)${upper} ORDER BY ts, rid`, params).map(msgOf);
    let k = 0;
    for (const m of msgs) {
      while (k + 1 < its.length && !before(m.bound, its[k + 1].assistant.bound)) k++;
      its[k].messages.push(m);
    }
    for (const o of this.outputsInWindow(agent, from.ts, next?.ts ?? null, false)) {
      const t = asNumber(o.t)!;
      let j = -1;
      for (let i = 0; i < its.length && its[i].assistant.bound.ts <= t; i++) j = i;
      if (j >= 0) its[j].outputs.push(o);
    }
    return its;
  }

  private outputsInWindow(agent: AgentInfo, from: number, to: number | null, full: boolean): SqlRow[] {
    if (!agent.id || !this.present.has('outputs')) return [];
    const cols = full
      ? `rowid AS rid, id, type, path, checksum, created_at, content IS NOT NULL AS has_after, previous_content IS NOT NULL AS has_before, ${T('created_at')} AS t`
      : `rowid AS rid, id, type, path, ${T('created_at')} AS t`;
    const upper = to !== null ? ' AND t < ?' : '';
    return this.db.all(
      `SELECT * FROM (SELECT ${cols} FROM outputs WHERE agent_id = ?) WHERE t IS NOT NULL AND t >= ?${upper} ORDER BY t, rid`,
      [agent.id, from, ...(to !== null ? [to] : [])],
    );
  }

  private iterationParts(it: Iteration) {
    const warnings: string[] = [];
    let tokens: TokenCounts | null = null;
    let cost: number | null = null;
    let end: Date | null = null;
    for (const m of it.messages) {
      const mine: string[] = [];
      const isHead = m.bound.rid === it.assistant.bound.rid;
      const label = isHead ? l10n.t('The assistant message') : m.role ? l10n.t('A {0} message', m.role) : l10n.t('A message message');
      if (m.role !== 'assistant' && m.role !== 'tool' && m.role !== 'user') mine.push(l10n.t('role {0} is not user, assistant or tool.', quote(asText(m.row.role))));
      if (m.role === 'assistant' || m.role === 'tool') {
        tokens = addTokens(tokens, usageTokens(parseJson(m.row.usage, 'usage', mine)));
        const c = checkNumber(m.row, 'cost', mine);
        if (c !== null) cost = (cost ?? 0) + c;
      } else {
        parseJson(m.row.usage, 'usage', mine);
      }
      if (asNumber(m.row.bad_calls)) mine.push(l10n.t('tool_calls is not valid JSON.'));
      if (asNumber(m.row.bad_results)) mine.push(l10n.t('tool_results is not valid JSON.'));
      if (m.row.created_at !== null && m.time === null) mine.push(l10n.t('created_at {0} is not a time; it is ordered by rowid after the timed messages.', quote(asText(m.row.created_at))));
      for (const w of mine) warnings.push(`${label}: ${w}`);
      if (!isHead && m.time && (!end || m.time > end)) end = m.time;
    }
    for (const o of it.outputs) {
      const t = toDate(o.t);
      if (t && (!end || t > end)) end = t;
    }
    const tools = it.messages.filter((m) => m.role === 'tool');
    const callsN = asNumber(it.assistant.row.calls_n);
    const status: NodeStatus = it.next !== null ? 'completed' : it.agent.status === 'running' ? 'running' : it.agent.status === 'failed' ? 'failed' : 'completed';
    const m = metrics(it.assistant.time, end, tokens, cost, it.agent.model);
    return { warnings, tools, callsN, status, m };
  }

  private iterationNode(it: Iteration): HistoryNode {
    const { warnings, tools, callsN, status, m } = this.iterationParts(it);
    const line = firstLine(asText(it.assistant.row.head));
    const desc: string[] = [];
    const calls = callsN ?? tools.length;
    desc.push(calls || tools.length ? counted(calls, (c) => l10n.t('{0} tool call', c), (c) => l10n.t('{0} tool calls', c)) : l10n.t('no tool calls'));
    if (it.outputs.length) desc.push(counted(it.outputs.length, (c) => l10n.t('{0} output', c), (c) => l10n.t('{0} outputs', c)));
    return {
      ref: `iteration:${keyOf(it.assistant.row.id, it.assistant.row.rid)}`, level: 'iteration', label: line ? `#${it.index} ${line}` : `#${it.index}`,
      description: desc.join(' · '), status, rawStatus: null, metrics: m, hasChildren: false, isStep: true, warnings,
    };
  }

  // Details -----------------------------------------------------------------------------------

  details(ref: NodeRef): DetailSection[] {
    const p = parseRef(ref);
    if (!p) return [];
    if (p.level === 'project' && p.key === NO_PROJECT_KEY) return this.noProjectDetails();
    if (p.level === 'project') {
      const row = this.projectRow(p.key);
      return row ? this.projectDetails(row) : [];
    }
    if (p.level === 'agent') {
      const agent = this.agentInfo(p.key);
      return agent ? this.agentDetails(agent) : [];
    }
    if (p.level === 'iteration') {
      const it = this.iteration(p.key);
      return it ? this.iterationDetails(it) : [];
    }
    return [];
  }

  private projectDetails(row: SqlRow): DetailSection[] {
    const { warnings, status, raw, settingsObj, costTotal, totals, m, name } = this.projectParts(row);
    const tree = this.tree(row);
    const facts: DetailFact[] = [
      { label: l10n.t('Id'), value: asText(row.id) ?? l10n.t('(none; row {0})', String(row.rid)) },
      { label: l10n.t('Name'), value: name ?? l10n.t('(none)') },
      { label: l10n.t('Description'), value: cappedText(row, 'description', DETAIL_CAP) || l10n.t('(none)') },
      { label: l10n.t('Status'), value: `${raw ?? 'NULL'} (${status})` },
      { label: l10n.t('Prompt file'), value: asText(row.prompt_path) ?? l10n.t('(none)') },
      columnTime(l10n.t('Created'), row, 'created_at'),
      columnTime(l10n.t('Updated'), row, 'updated_at'),
      columnTime(l10n.t('Ended'), row, 'ended_at'),
      { label: l10n.t('Duration'), value: formatDuration(m.durationMs) },
      { label: l10n.t('Model'), value: m.model ?? l10n.t('not set') },
    ];
    const budget = settingsObj?.budgetLimit ?? settingsObj?.budget;
    if (budget !== undefined) facts.push({ label: l10n.t('Budget'), value: typeof budget === 'number' ? formatCost(budget) : JSON.stringify(budget) });
    if (settingsObj?.maxIterations !== undefined) facts.push({ label: l10n.t('Max iterations'), value: JSON.stringify(settingsObj.maxIterations) });
    facts.push(
      { label: l10n.t('Agents'), value: String(tree.rid.size) },
      { label: l10n.t('Iterations'), value: String(totals.assistants) },
      { label: l10n.t('Messages'), value: String(totals.messages) },
      { label: l10n.t('Tokens'), value: formatTokens(m.tokens) },
      { label: l10n.t('Cost'), value: formatCost(m.costUsd) },
      { label: l10n.t('Recorded cost_total'), value: costTotal === null ? asText(row.cost_total) ?? 'NULL' : formatCost(costTotal) },
      { label: l10n.t('Recorded iteration_count'), value: asText(row.iteration_count) ?? 'NULL' },
    );
    const sections: DetailSection[] = [{ kind: 'facts', title: l10n.t('Project'), facts }];
    const settings = asText(row.settings);
    if (settings !== null) sections.push({ kind: 'text', title: l10n.t('Settings'), text: withCapNote(prettyJson(settings), asNumber(row.settings_len), DETAIL_CAP), format: 'json' });
    const id = typeof row.id === 'string' ? row.id : null;
    sections.push(this.timeline(l10n.t('Events'), id ? 'project_id = ?' : null, id, null, null, warnings));
    if (id && this.present.has('outputs')) {
      const loose = this.db.all(
        `SELECT rowid AS rid, id, type, path, created_at, ${T('created_at')} AS t FROM outputs WHERE project_id = ? AND (agent_id IS NULL OR agent_id NOT IN (SELECT id FROM agents WHERE id IS NOT NULL)) ORDER BY ${SORT('created_at')}, rowid LIMIT ${LIST_CAP + 1}`,
        [id],
      );
      if (loose.length) sections.push(outputList(l10n.t('Outputs without an agent'), loose, warnings));
    }
    if (warnings.length) sections.push({ kind: 'warnings', title: l10n.t('Warnings'), warnings });
    return sections;
  }

  private noProjectDetails(): DetailSection[] {
    const tree = this.orphanTree();
    if (tree.rid.size === 0) return [];
    const { warnings, totals, m } = this.noProjectParts();
    const ids = this.db.all(`SELECT DISTINCT project_id FROM agents WHERE ${ORPHAN_AGENT} ORDER BY project_id LIMIT ${LIST_CAP + 1}`)
      .map((r) => (r.project_id === null ? 'NULL' : quote(asText(r.project_id))));
    const facts: DetailFact[] = [
      { label: l10n.t('Agents'), value: String(tree.rid.size) },
      { label: l10n.t('Root agents'), value: String(tree.roots.length) },
      { label: l10n.t('Project ids'), value: ids.slice(0, LIST_CAP).join(', ') + (ids.length > LIST_CAP ? ', …' : '') },
      { label: l10n.t('Iterations'), value: String(totals.assistants) },
      { label: l10n.t('Messages'), value: String(totals.messages) },
      { label: l10n.t('Tokens'), value: formatTokens(m.tokens) },
      { label: l10n.t('Cost'), value: formatCost(m.costUsd) },
      {
        label: l10n.t('Why'),
        value:
          l10n.t('Their project rows are gone, or their project_id names none. Constellation deletes a project\'s agents with it only on its own connection, which turns foreign keys on; a program that opens the file without them (the sqlite3 shell, a database browser) leaves the agents behind.'),
      },
    ];
    const sections: DetailSection[] = [{ kind: 'facts', title: noProjectLabel(), facts }];
    if (warnings.length) sections.push({ kind: 'warnings', title: l10n.t('Warnings'), warnings });
    return sections;
  }

  private agentDetails(agent: AgentInfo): DetailSection[] {
    const { warnings, totals, m, subs, project } = this.agentParts(agent);
    const r = agent.row;
    const parentKey = typeof r.parent_id === 'string' ? r.parent_id : null;
    const parent = parentKey ? this.db.get(`SELECT name FROM agents WHERE id = ?`, [parentKey]) : undefined;
    const cfg = agent.config;
    const facts: DetailFact[] = [
      { label: l10n.t('Id'), value: asText(r.id) ?? l10n.t('(none; row {0})', String(r.rid)) },
      { label: l10n.t('Name'), value: asText(r.name) ?? l10n.t('(none)') },
      {
        label: l10n.t('Project'),
        value: project
          ? `${asText(project.name) ?? l10n.t('(unnamed)')} (${agent.projectKey})`
          : r.project_id === null
            ? l10n.t('NULL (listed under {0})', noProjectLabel())
            : r.project_id === ''
              ? l10n.t('empty (listed under {0})', noProjectLabel())
              : l10n.t('{0}, deleted (listed under {1})', quote(asText(r.project_id)), noProjectLabel()),
      },
      { label: l10n.t('Parent agent'), value: parentKey ? (parent ? `${asText(parent.name) ?? l10n.t('(unnamed)')} (${parentKey})` : l10n.t('{0} (not found)', parentKey)) : l10n.t('none (root agent)') },
      { label: l10n.t('Depth'), value: asText(r.depth) ?? 'NULL' },
      { label: l10n.t('Status'), value: `${agent.rawStatus ?? 'NULL'} (${agent.status})` },
      { label: l10n.t('Current task'), value: cappedText(r, 'current_task', DETAIL_CAP) ?? l10n.t('(none)') },
      columnTime(l10n.t('Created'), r, 'created_at'),
      columnTime(l10n.t('Updated'), r, 'updated_at'),
      { label: l10n.t('Model'), value: agent.model ?? l10n.t('not set') },
    ];
    for (const [label, key] of [['Temperature', 'temperature'], ['Max tokens', 'maxTokens'], ['Max tokens', 'max_tokens'], ['Max iterations', 'maxIterations'], ['Specialization', 'specialization'], ['Enabled tools', 'enabledTools']] as const) {
      if (cfg && cfg[key] !== undefined) facts.push({ label, value: typeof cfg[key] === 'string' ? (cfg[key] as string) : JSON.stringify(cfg[key]) });
    }
    facts.push(
      { label: l10n.t('Sub-agents'), value: String(subs) },
      { label: l10n.t('Iterations'), value: String(totals.assistants) },
      { label: l10n.t('Messages'), value: String(totals.messages) },
      { label: l10n.t('Tokens'), value: formatTokens(m.tokens) },
      { label: l10n.t('Cost'), value: formatCost(m.costUsd) },
      { label: l10n.t('Recorded counters'), value: l10n.t('total_tokens {0}, total_cost {1}, iteration_count {2}', asText(r.total_tokens) ?? 'NULL', asText(r.total_cost) ?? 'NULL', asText(r.iteration_count) ?? 'NULL') },
    );
    const sections: DetailSection[] = [{ kind: 'facts', title: l10n.t('Agent'), facts }];
    const config = asText(r.config);
    if (config !== null) sections.push({ kind: 'text', title: l10n.t('Config'), text: withCapNote(prettyJson(config), asNumber(r.config_len), DETAIL_CAP), format: 'json' });

    if (totals.messages === 0) {
      sections.push({ kind: 'text', title: l10n.t('Messages'), text: l10n.t('No messages recorded yet.'), format: 'plain' });
    } else {
      const first = this.db.get(`SELECT ts, rid FROM (${MSG_LITE}) WHERE lower(role) = 'assistant' ORDER BY ts, rid LIMIT 1`, [agent.id]);
      const bound = first ? msgOf(first).bound : null;
      const rows = this.db.all(
        `SELECT * FROM (${MSG_FULL})${bound ? ' WHERE (ts, rid) < (?, ?)' : ''} ORDER BY ts, rid LIMIT ${LIST_CAP}`,
        bound ? [agent.id, bound.ts, bound.rid] : [agent.id],
      );
      if (rows.length) {
        sections.push({ kind: 'messages', title: bound ? l10n.t('Messages before the first iteration') : l10n.t('Messages (no assistant message yet)'), messages: rows.map((x) => detailMessage(msgOf(x), warnings)) });
      }
      if (totals.assistants) sections.push({ kind: 'text', title: l10n.t('Iterations'), text: l10n.t('{0}: open one for its messages and changes.', counted(totals.assistants, (c) => l10n.t('{0} iteration', c), (c) => l10n.t('{0} iterations', c))), format: 'plain' });
    }
    if (agent.id && this.present.has('outputs')) {
      const first = totals.assistants ? this.db.get(`SELECT min(ts) AS ts FROM (${MSG_LITE}) WHERE lower(role) = 'assistant'`, [agent.id]) : undefined;
      const from = asNumber(first?.ts);
      const loose = this.db.all(
        `SELECT * FROM (SELECT rowid AS rid, id, type, path, created_at, ${T('created_at')} AS t FROM outputs WHERE agent_id = ?) WHERE t IS NULL${from !== null ? ' OR t < ?' : ' OR 1'} ORDER BY t IS NULL, t, rid LIMIT ${LIST_CAP + 1}`,
        from !== null ? [agent.id, from] : [agent.id],
      );
      if (loose.length) sections.push(outputList(totals.assistants ? l10n.t('Outputs outside any iteration') : l10n.t('Outputs'), loose, warnings));
    }
    sections.push(this.timeline(l10n.t('Events'), agent.id ? 'agent_id = ?' : null, agent.id, null, null, warnings));
    if (warnings.length) sections.push({ kind: 'warnings', title: l10n.t('Warnings'), warnings });
    return sections;
  }

  private iterationDetails(it: Iteration): DetailSection[] {
    const { warnings, tools, callsN, status, m } = this.iterationParts(it);
    const a = it.assistant;
    const facts: DetailFact[] = [
      { label: l10n.t('Iteration'), value: `#${it.index}` },
      { label: l10n.t('Message id'), value: asText(a.row.id) ?? l10n.t('(none; row {0})', String(a.row.rid)) },
      { label: l10n.t('Agent'), value: `${asText(it.agent.row.name) ?? l10n.t('(unnamed)')} (${it.agent.key})` },
      { label: l10n.t('Status'), value: status },
      timeFact(l10n.t('Started'), a.time, a.row.created_at),
      // Worked out from the next message, not stored.
      timeFact(l10n.t('Ended'), m.end, null),
      { label: l10n.t('Duration'), value: formatDuration(m.durationMs) },
      { label: l10n.t('Model'), value: m.model ?? l10n.t('not set') },
      { label: l10n.t('Tokens'), value: formatTokens(m.tokens) },
      { label: l10n.t('Cost'), value: formatCost(m.costUsd) },
      { label: l10n.t('Tool calls'), value: callsN === null ? (a.row.bad_calls ? l10n.t('unreadable') : l10n.t('none')) : String(callsN) },
      { label: l10n.t('Tool results'), value: String(tools.length) },
      { label: l10n.t('Outputs'), value: String(it.outputs.length) },
    ];
    const sections: DetailSection[] = [{ kind: 'facts', title: l10n.t('Iteration'), facts }];
    const upper = it.next ? ' AND (ts, rid) < (?, ?)' : '';
    const rows = this.db.all(
      `SELECT * FROM (${MSG_FULL}) WHERE (ts, rid) >= (?, ?)${upper} ORDER BY ts, rid`,
      [it.agent.id, a.bound.ts, a.bound.rid, ...(it.next ? [it.next.ts, it.next.rid] : [])],
    );
    const ignored: string[] = [];
    sections.push({ kind: 'messages', title: l10n.t('Messages'), messages: rows.map((x) => detailMessage(msgOf(x), ignored)) });
    if (it.outputs.length) {
      const out = this.outputsInWindow(it.agent, a.bound.ts, it.next?.ts ?? null, true).filter((o) => it.outputs.some((x) => x.rid === o.rid));
      sections.push(outputList(l10n.t('Outputs'), out, warnings));
    }
    if (it.agent.id && this.present.has('events')) {
      const tl = this.timeline(l10n.t('Events'), 'agent_id = ?', it.agent.id, a.bound.ts, it.next?.ts ?? null, warnings);
      if (tl.kind === 'timeline') sections.push(tl);
    }
    if (warnings.length) sections.push({ kind: 'warnings', title: l10n.t('Warnings'), warnings });
    return sections;
  }

  /** Events matching `where` (one parameter), in time order, within [from, to) when given. */
  private timeline(title: string, where: string | null, param: string | null, from: number | null, to: number | null, warnings: string[]): DetailSection {
    if (!where || !this.present.has('events')) return { kind: 'text', title, text: l10n.t('No events recorded yet.'), format: 'plain' };
    const window = from !== null ? ` WHERE t IS NOT NULL AND t >= ?${to !== null ? ' AND t < ?' : ''}` : '';
    const params: SqlValue[] = [param, ...(from !== null ? [from] : []), ...(from !== null && to !== null ? [to] : [])];
    const rows = this.db.all(
      `SELECT * FROM (SELECT rowid AS rid, id, type, ${capped('data', DETAIL_CAP)}, created_at, ${T('created_at')} AS t FROM events WHERE ${where})${window} ORDER BY t IS NULL, t, rid LIMIT ${LIST_CAP + 1}`,
      params,
    );
    if (rows.length === 0) return { kind: 'text', title, text: from !== null ? l10n.t('No events in this iteration.') : l10n.t('No events recorded yet.'), format: 'plain' };
    if (rows.length > LIST_CAP) warnings.push(l10n.t('Only the first {0} events are shown.', LIST_CAP));
    const events = rows.slice(0, LIST_CAP).map((e) => {
      const mine: string[] = [];
      const data = asText(e.data);
      const len = asNumber(e.data_len);
      if (data !== null) parseJson(e.data, 'data', mine, len);
      if (e.created_at !== null && e.t === null) mine.push(l10n.t('created_at {0} is not a time.', quote(asText(e.created_at))));
      const label = asText(e.type) ?? l10n.t('(no type)');
      for (const w of mine) warnings.push(l10n.t('Event {0} ({1}): {2}', label, keyOf(e.id, e.rid), w));
      return { time: toDate(e.t), label, ...(data !== null ? { detail: withCapNote(prettyJson(data), len, DETAIL_CAP) } : {}) };
    });
    return { kind: 'timeline', title, events };
  }

  // Changes and texts -------------------------------------------------------------------------

  changes(ref: NodeRef): ChangeItem[] {
    const p = parseRef(ref);
    if (!p || p.level !== 'iteration') return [];
    const it = this.iteration(p.key);
    if (!it || it.outputs.length === 0) return [];
    const rows = this.outputsInWindow(it.agent, it.assistant.bound.ts, it.next?.ts ?? null, true).filter((o) => it.outputs.some((x) => x.rid === o.rid));
    return rows.map((o) => {
      const key = keyOf(o.id, o.rid);
      const type = asText(o.type);
      const path = asText(o.path);
      const hasAfter = !!asNumber(o.has_after);
      const hasBefore = !!asNumber(o.has_before);
      const status: ChangeItem['status'] = hasBefore && hasAfter ? 'modified' : hasAfter ? 'added' : hasBefore ? 'deleted' : 'unknown';
      const base = path && path !== '' ? path : type !== null ? `${type} ${key}` : l10n.t('output {0}', key);
      const label = type === 'file' ? base : type !== null ? `${base} (${type})` : l10n.t('{0} (output)', base);
      return {
        id: `output:${key}`, label, ...(path ? { path } : {}), status,
        before: hasBefore ? `output:${key}:before` : null,
        after: hasAfter ? `output:${key}:after` : null,
      };
    });
  }

  text(ref: TextRef): string | null {
    const m = /^output:(.+):(before|after)$/.exec(ref);
    if (!m || !this.present.has('outputs')) return null;
    const col = m[2] === 'before' ? 'previous_content' : 'content';
    const w = whereKey(m[1]);
    const row = this.db.get(`SELECT ${capped(col, TEXT_CAP, 'body')} FROM outputs WHERE ${w.sql}`, [w.param]);
    if (!row) return null;
    return cappedText(row, 'body', TEXT_CAP);
  }
}

// ---------------------------------------------------------------------------------------------

function buildTree(rows: SqlRow[]): AgentTree {
  const rid = new Map<string, number>();
  const parent = new Map<string, string | null>();
  const time = new Map<string, number | null>();
  const project = new Map<string, string | null>();
  for (const r of rows) {
    const k = keyOf(r.id, r.rid);
    rid.set(k, asNumber(r.rid) ?? 0);
    time.set(k, asNumber(r.t));
    project.set(k, asText(r.project_id ?? null));
  }
  const notes = new Map<string, string>();
  for (const r of rows) {
    const k = keyOf(r.id, r.rid);
    const p = r.parent_id;
    if (p === null) parent.set(k, null);
    else if (typeof p === 'string' && p !== k && rid.has(p) && project.get(p) === project.get(k)) parent.set(k, p);
    else {
      parent.set(k, null);
      notes.set(k, p === k
        ? l10n.t('parent_id is the agent itself; it is shown as a root agent.')
        : l10n.t('parent_id {0} is not an agent of this project; it is shown as a root agent.', quote(asText(p))));
    }
  }
  // An agent on a parent loop is shown as a root agent, so the tree stays finite.
  for (const k of rid.keys()) {
    let p = parent.get(k) ?? null;
    for (let steps = 0; p !== null && steps <= rid.size; steps++) {
      if (p === k) {
        notes.set(k, 'Its parent_id chain loops back to it; it is shown as a root agent.');
        break;
      }
      p = parent.get(p) ?? null;
    }
  }
  for (const k of notes.keys()) if (notes.get(k)!.startsWith('Its parent_id chain loops')) parent.set(k, null);
  const order = (a: string, b: string) => {
    const ta = time.get(a) ?? null;
    const tb = time.get(b) ?? null;
    if (ta === null || tb === null) return ta === null && tb === null ? rid.get(b)! - rid.get(a)! : ta === null ? 1 : -1;
    return tb - ta || rid.get(b)! - rid.get(a)!;
  };
  const roots: string[] = [];
  const children = new Map<string, string[]>();
  for (const k of rid.keys()) {
    const p = parent.get(k) ?? null;
    if (p === null) roots.push(k);
    else children.set(p, [...(children.get(p) ?? []), k]);
  }
  roots.sort(order);
  for (const list of children.values()) list.sort(order);
  return { roots, children, rid, notes };
}

/** A time column's fact, read from its `<name>_ms` twin (timeMs): the one format, or why there is none. */
function columnTime(label: string, row: SqlRow, col: string): DetailFact {
  return timeFact(label, toDate(row[`${col.replace(/_at$/, '')}_ms`]), row[col]);
}

function detailMessage(m: Msg, warnings: string[]): DetailMessage {
  const r = m.row;
  const mine: string[] = [];
  const extras: { label: string; text: string }[] = [];
  for (const [label, col] of [['Tool calls', 'tool_calls'], ['Tool results', 'tool_results']] as const) {
    const raw = asText(r[col]);
    if (raw === null) continue;
    const len = asNumber(r[`${col}_len`]);
    parseJson(r[col], col, mine, len);
    extras.push({ label, text: withCapNote(prettyJson(raw), len, DETAIL_CAP) });
  }
  const usageRaw = asText(r.usage);
  const usage = parseJson(r.usage, 'usage', mine);
  if (usageRaw !== null) extras.push({ label: l10n.t('Usage'), text: prettyJson(usageRaw) });
  const cost = checkNumber(r, 'cost', mine);
  for (const w of mine) warnings.push(l10n.t('Message {0}: {1}', keyOf(r.id, r.rid), w));
  return {
    role: asText(r.role) ?? l10n.t('(no role)'),
    text: cappedText(r, 'content', DETAIL_CAP) ?? '',
    ...(extras.length ? { extras } : {}),
    time: m.time,
    tokens: usageTokens(usage),
    costUsd: cost,
  };
}

function outputList(title: string, rows: SqlRow[], warnings: string[]): DetailSection {
  if (rows.length > LIST_CAP) warnings.push(l10n.t('Only the first {0} outputs of "{1}" are shown.', LIST_CAP, title));
  return {
    kind: 'facts', title,
    facts: rows.slice(0, LIST_CAP).map((o) => ({
      label: asText(o.path) ?? l10n.t('(no path) {0}', keyOf(o.id, o.rid)),
      value: `${asText(o.type) ?? 'NULL'} · ${timeText(toDate(o.t), o.created_at)}`,
    })),
  };
}
