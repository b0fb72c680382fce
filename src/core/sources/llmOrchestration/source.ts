/**
 * LLM Orchestration's history as Step History shows it: workflow → run → response.
 *
 * - Workflows newest first (created_at, then id, descending). Runs whose workflow row is gone
 *   (foreign keys are never enforced, so deleting a workflow leaves its runs) are listed under
 *   one synthetic top-level node, "(deleted workflow)", after the workflows, only when such runs
 *   exist.
 * - Runs newest first (started_at, then id, descending). A run is a container.
 * - Responses whose run row is gone (run_id NULL, or naming a deleted run: DELETE /api/runs/:id
 *   deletes a run's responses and then the run, but a run still executing goes on writing
 *   responses with its id) are listed under a synthetic run-level node, "(deleted run)", after the
 *   runs of the workflow they belong to, only when such responses exist. The workflow is told from
 *   the payloads, as the workflows list them now: the responses of one deleted run stay together,
 *   under the one workflow that lists every payload they answer; a response with run_id NULL goes
 *   under the one workflow that lists its payload. When no workflow, or more than one, does (the
 *   workflow was deleted too, the payload is shared or gone), they go under "(deleted workflow)",
 *   after its runs. Each such response has a warning; its details say where it is listed and why.
 * - Responses, the steps, in the order they were written (created_at, then id, ascending):
 *   executeWorkflowAsync answers the payloads one by one in the workflow's payload order of the
 *   moment, so this is that order even when the workflow was edited later. A response whose
 *   payload row is gone is still listed, labelled with the payload id, with a warning.
 * - Metrics: a run's duration from started_at/completed_at; a response's tokens, duration and
 *   model from its metadata, null where absent; a run's tokens are its responses' sums (null
 *   when none has counts), its model the distinct models its responses name. No cost is
 *   recorded anywhere: costUsd is always null.
 *
 * Refs: `workflow:<id>`, `workflow:(deleted)`, `run:<id>`, `run:(deleted):<workflowId>` (the
 * "(deleted run)" node of a workflow), `run:(deleted)` (the one under "(deleted workflow)"),
 * `response:<id>` (also for a response whose run is gone). Text refs:
 * `content:<responseId>`, `response-metadata:<id>`, `run-metadata:<id>`.
 */
import * as l10n from '@vscode/l10n';
import { dateTime, formatDuration as duration, formatExactCount, formatTokens as tokensText, notRecorded } from '../../figures';
import { formatTokens, counted, level, timeFact } from '../figures';
import type {
  ChangeItem,
  DetailFact,
  DetailSection,
  Detection,
  HistoryNode,
  HistorySource,
  LevelInfo,
  NodeMetrics,
  NodeRef,
  NodeStatus,
  Page,
  SqlReader,
  SqlRow,
  SqlValue,
  TextRef,
  TokenCounts,
} from '../types';
import {
  addTokens,
  asNumber,
  asString,
  asText,
  formatLlmConfig,
  KNOWN_RUN_STATUSES,
  mapRunStatus,
  parseJsonObject,
  parseTime,
  prettyJson,
  responseFacts,
  runModels,
  type ParsedJson,
  type ResponseFacts,
} from './parse';
import { missingParentWarning, orphanGroupDescription, syntheticInPage } from '../orphans';

export const LEVELS: readonly LevelInfo[] = [
  level('workflow', () => l10n.t('workflow'), () => l10n.t('workflows')),
  level('run', () => l10n.t('run'), () => l10n.t('runs')),
  level('response', () => l10n.t('response'), () => l10n.t('responses')),
];

export const DELETED_WORKFLOW_REF = 'workflow:(deleted)';
/** The "(deleted workflow)" node's label in English, as tests compare it; the tree shows deletedWorkflowLabel(). */
export const DELETED_WORKFLOW_LABEL = '(deleted workflow)';
export const deletedWorkflowLabel = (): string => l10n.t('(deleted workflow)');
/** The "(deleted run)" node under "(deleted workflow)"; a workflow's own is `run:(deleted):<workflowId>`. */
export const DELETED_RUN_REF = 'run:(deleted)';
/** The "(deleted run)" node's label in English, as tests compare it; the tree shows deletedRunLabel(). */
export const DELETED_RUN_LABEL = '(deleted run)';
export const deletedRunLabel = (): string => l10n.t('(deleted run)');
/** text() returns at most this many bytes of a stored text, then a note. */
export const TEXT_LIMIT = 5 * 1024 * 1024;
/** Details carry at most this many bytes of a response's content. */
export const DETAILS_TEXT_LIMIT = 1024 * 1024;
const DEFAULT_LIMIT = 200;
/** Most run ids a "(deleted run)" node's details name. */
const LIST_CAP = 200;

const decoder = new TextDecoder('utf-8', { fatal: false });
const utf8 = (bytes: Uint8Array): string => decoder.decode(bytes);

/** How many of `bytes` end on a whole UTF-8 character (a sequence cut at the end is left out). */
function wholeCharacters(bytes: Uint8Array): number {
  const n = bytes.length;
  for (let back = 1; back <= Math.min(4, n); back++) {
    const b = bytes[n - back];
    if ((b & 0xc0) === 0x80) continue; // a continuation byte
    const size = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return size > back ? n - back : n;
  }
  return n;
}

type Parsed =
  | { level: 'workflow'; id: SqlValue; deleted: false }
  | { level: 'workflow'; id: null; deleted: true }
  /** A "(deleted run)" node: `workflow` is the workflow it is under, null for "(deleted workflow)". */
  | { level: 'run'; id: null; deleted: true; workflow: SqlValue | null }
  | { level: 'run' | 'response'; id: SqlValue; deleted?: undefined };

/** `5` binds as an integer, anything else as the text it is. */
const bindId = (text: string): SqlValue => (/^-?\d{1,15}$/.test(text) ? Number(text) : text);
/** Tokens counted in only some of the responses: `1,200 tokens · counted in 2 of 3 responses`; the tokens alone when counted in all or none. */
function tokensCounted(tokens: string, n: number, of: number): string {
  if (!(n > 0 && n < of)) return tokens;
  return of === 1 ? l10n.t('{0} · counted in {1} of {2} response', tokens, n, formatExactCount(of)) : l10n.t('{0} · counted in {1} of {2} responses', tokens, n, formatExactCount(of));
}

const idText = (v: SqlValue): string => asText(v) ?? 'null';

/** The ref of the "(deleted run)" node under workflow `workflowId`, or under "(deleted workflow)" for null. */
export const deletedRunRef = (workflowId: SqlValue | null): NodeRef => (workflowId === null ? DELETED_RUN_REF : `${DELETED_RUN_REF}:${idText(workflowId)}`);

export function parseRef(ref: NodeRef): Parsed | null {
  const i = ref.indexOf(':');
  if (i < 0) return null;
  const level = ref.slice(0, i);
  const id = ref.slice(i + 1);
  if (ref === DELETED_WORKFLOW_REF) return { level: 'workflow', id: null, deleted: true };
  if (ref === DELETED_RUN_REF) return { level: 'run', id: null, deleted: true, workflow: null };
  if (ref.startsWith(`${DELETED_RUN_REF}:`)) {
    const workflow = ref.slice(DELETED_RUN_REF.length + 1);
    return workflow ? { level: 'run', id: null, deleted: true, workflow: bindId(workflow) } : null;
  }
  if (!id) return null;
  if (level === 'workflow') return { level, id: bindId(id), deleted: false };
  if (level === 'run' || level === 'response') return { level, id: bindId(id) };
  return null;
}

function page(p?: Page): { limit: number; offset: number } {
  const limit = p?.limit === undefined ? DEFAULT_LIMIT : Math.max(0, Math.floor(Number(p.limit) || 0));
  const offset = Math.max(0, Math.floor(Number(p?.offset) || 0));
  return { limit, offset };
}

const noMetrics = (): NodeMetrics => ({ start: null, end: null, durationMs: null, tokens: null, costUsd: null, model: null });
const num = (v: SqlValue | undefined): number => asNumber(v) ?? 0;

/** A time column's fact: its time as every details page writes it, or why there is none. */
const columnTime = (label: string, v: SqlValue | undefined): DetailFact => timeFact(label, parseTime(v), v);

// ---------------------------------------------------------------------------------------------
// Queries

const WORKFLOW_COLUMNS = `
  w.id AS id, w.name AS name, w.created_at AS created_at, w.updated_at AS updated_at,
  (SELECT COUNT(*) FROM runs r WHERE r.workflow_id = w.id) AS n_runs,
  (SELECT COUNT(*) FROM workflow_payloads wp WHERE wp.workflow_id = w.id) AS n_payloads,
  (SELECT r.status FROM runs r WHERE r.workflow_id = w.id ORDER BY r.started_at DESC, r.id DESC LIMIT 1) AS last_status`;

const ORPHAN_RUN = `NOT EXISTS (SELECT 1 FROM workflows w WHERE w.id = r.workflow_id)`;
/** A response whose run row is gone (run_id NULL or naming no run). */
const ORPHAN_RESPONSE = `NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = x.run_id)`;

const RUN_COLUMNS = `
  r.id AS id, r.workflow_id AS workflow_id, r.status AS status, r.started_at AS started_at,
  r.completed_at AS completed_at, r.metadata AS metadata,
  (SELECT w.name FROM workflows w WHERE w.id = r.workflow_id LIMIT 1) AS workflow_name,
  EXISTS (SELECT 1 FROM workflows w WHERE w.id = r.workflow_id) AS workflow_exists`;

interface RunAggregate {
  tokens: TokenCounts | null;
  models: string[];
  /** Responses whose metadata gives token counts. */
  counted: number;
  responses: number;
}

const NO_RESPONSES: RunAggregate = { tokens: null, models: [], counted: 0, responses: 0 };

type Accumulator = RunAggregate & { modelSet: Set<string> };
const newAccumulator = (): Accumulator => ({ tokens: null, models: [], modelSet: new Set(), counted: 0, responses: 0 });

/** Adds one response's metadata to a run's (or a group's) sums. */
function accumulate(agg: Accumulator, metadata: SqlValue): void {
  agg.responses++;
  const facts = responseFacts(parseJsonObject(metadata).value);
  if (facts.tokens) agg.counted++;
  agg.tokens = addTokens(agg.tokens, facts.tokens);
  if (facts.model && !agg.modelSet.has(facts.model)) {
    agg.modelSet.add(facts.model);
    agg.models.push(facts.model);
  }
}

/** The "(deleted run)" group of "(deleted workflow)" in OrphanResponses.groups. */
const UNPLACED = '(deleted)';

/** Responses whose run is gone, grouped by where they are listed; computed once per snapshot. */
interface OrphanResponses {
  /** Response ids in the order written (created_at, id), by group: the workflow's id as text, or UNPLACED. */
  groups: Map<string, SqlValue[]>;
  /** Each orphan response's workflow (null: under "(deleted workflow)"), by response id as text. */
  home: Map<string, SqlValue | null>;
}

interface GroupAggregate extends RunAggregate {
  first: Date | null;
  last: Date | null;
}

const RESPONSE_COLUMNS = `
  x.id AS id, x.run_id AS run_id, x.payload_id AS payload_id, x.metadata AS metadata,
  x.created_at AS created_at, length(x.content) AS content_length,
  (SELECT p.name FROM payloads p WHERE p.id = x.payload_id LIMIT 1) AS payload_name,
  EXISTS (SELECT 1 FROM payloads p WHERE p.id = x.payload_id) AS payload_exists,
  EXISTS (SELECT 1 FROM runs r WHERE r.id = x.run_id) AS run_exists,
  (SELECT b.title FROM blocks b WHERE b.tags = 'response,payload_' || x.payload_id ORDER BY b.id LIMIT 1) AS response_block_title,
  (SELECT r.started_at FROM runs r WHERE r.id = x.run_id LIMIT 1) AS run_started_at`;

/** A response's own metadata, parsed once per row. */
interface ResponseInfo {
  row: SqlRow;
  meta: ParsedJson;
  facts: ResponseFacts;
  warnings: string[];
  label: string;
  /** The name its response block gives a deleted payload (`<name> - response`). */
  recoveredName: string | null;
}

interface RunInfo {
  row: SqlRow;
  meta: ParsedJson;
  status: NodeStatus;
  rawStatus: string | null;
  start: Date | null;
  end: Date | null;
  warnings: string[];
}

export class LlmOrchestrationSource implements HistorySource {
  readonly levels = LEVELS;

  /** Over one snapshot, so computed once. */
  private orphanCache: OrphanResponses | null = null;
  private runResponsesCache: Map<string, SqlValue[]> | null = null;
  private groupAggregateCache: Map<string, GroupAggregate> | null = null;

  constructor(
    readonly detection: Detection,
    private readonly db: SqlReader,
    private readonly now: () => Date = () => new Date(),
  ) {}

  // -------------------------------------------------------------------------------------------
  // The tree

  children(parent: NodeRef | null, p?: Page): HistoryNode[] {
    const { limit, offset } = page(p);
    if (parent === null) {
      const rows = this.db.all(`SELECT ${WORKFLOW_COLUMNS} FROM workflows w ORDER BY w.created_at DESC, w.id DESC LIMIT ? OFFSET ?`, [limit, offset]);
      const nodes = rows.map((row) => this.workflowNode(row));
      const workflows = this.workflowCount();
      // The synthetic node comes after the workflows: index `workflows` in the whole list.
      if (syntheticInPage(workflows, offset, limit)) {
        const deleted = this.deletedWorkflowNode();
        if (deleted) nodes.push(deleted);
      }
      return nodes;
    }
    const ref = parseRef(parent);
    if (!ref) return [];
    if (ref.level === 'workflow') {
      const deleted = 'deleted' in ref && ref.deleted;
      const where = deleted ? ORPHAN_RUN : 'r.workflow_id = ?';
      const params: SqlValue[] = deleted ? [] : [ref.id];
      const rows = this.db.all(`SELECT ${RUN_COLUMNS} FROM runs r WHERE ${where} ORDER BY r.started_at DESC, r.id DESC LIMIT ? OFFSET ?`, [...params, limit, offset]);
      const aggregates = this.runAggregates(rows.map((row) => row.id));
      const nodes = rows.map((row) => this.runNode(row, aggregates.get(idText(row.id))));
      // The "(deleted run)" node comes after the runs, when there is one.
      const group = this.groupKey(deleted ? null : ref.id);
      if (group !== null && this.orphanResponses().groups.has(group)) {
        const runs = deleted ? this.orphanRunCount() : this.runCount(ref.id);
        if (syntheticInPage(runs, offset, limit)) {
          const node = this.deletedRunNode(group);
          if (node) nodes.push(node);
        }
      }
      return nodes;
    }
    if (ref.level === 'run' && ref.deleted) {
      const group = this.groupKey(ref.workflow);
      const ids = (group !== null && this.orphanResponses().groups.get(group)) || [];
      return this.responsesById(ids.slice(offset, offset + limit)).map((row) => this.responseNode(this.responseInfo(row)));
    }
    if (ref.level === 'run') {
      const ids = this.runResponses().get(idText(ref.id)) ?? [];
      return this.responsesById(ids.slice(offset, offset + limit)).map((row) => this.responseNode(this.responseInfo(row)));
    }
    return [];
  }

  count(parent: NodeRef | null): number {
    if (parent === null) return this.workflowCount() + (this.deletedWorkflowShown() ? 1 : 0);
    const ref = parseRef(parent);
    if (!ref) return 0;
    if (ref.level === 'workflow') {
      const deleted = 'deleted' in ref && ref.deleted;
      const group = this.groupKey(deleted ? null : ref.id);
      const extra = group !== null && this.orphanResponses().groups.has(group) ? 1 : 0;
      return (deleted ? this.orphanRunCount() : this.runCount(ref.id)) + extra;
    }
    if (ref.level === 'run' && ref.deleted) {
      const group = this.groupKey(ref.workflow);
      return (group !== null && this.orphanResponses().groups.get(group)?.length) || 0;
    }
    if (ref.level === 'run') return this.runResponses().get(idText(ref.id))?.length ?? 0;
    return 0;
  }

  node(ref: NodeRef): HistoryNode | undefined {
    const parsed = parseRef(ref);
    if (!parsed) return undefined;
    if (parsed.level === 'workflow') {
      if ('deleted' in parsed && parsed.deleted) return this.deletedWorkflowNode() ?? undefined;
      const row = this.db.get(`SELECT ${WORKFLOW_COLUMNS} FROM workflows w WHERE w.id = ? LIMIT 1`, [parsed.id]);
      return row && this.workflowNode(row);
    }
    if (parsed.level === 'run' && parsed.deleted) {
      const group = this.groupKey(parsed.workflow);
      return (group !== null && this.deletedRunNode(group)) || undefined;
    }
    if (parsed.level === 'run') {
      const row = this.runRow(parsed.id);
      return row && this.runNode(row, this.runAggregates([row.id]).get(idText(row.id)));
    }
    const row = this.responseRow(parsed.id);
    return row && this.responseNode(this.responseInfo(row));
  }

  private workflowCount(): number {
    return num(this.db.get('SELECT COUNT(*) AS n FROM workflows')?.n);
  }

  private runCount(workflowId: SqlValue): number {
    return num(this.db.get('SELECT COUNT(*) AS n FROM runs r WHERE r.workflow_id = ?', [workflowId])?.n);
  }

  private orphanRunCount(): number {
    return num(this.db.get(`SELECT COUNT(*) AS n FROM runs r WHERE ${ORPHAN_RUN}`)?.n);
  }

  /** "(deleted workflow)" is listed when runs of deleted workflows, or responses of deleted runs placed under it, exist. */
  private deletedWorkflowShown(): boolean {
    return this.orphanRunCount() > 0 || this.orphanResponses().groups.has(UNPLACED);
  }

  /**
   * The group key of the "(deleted run)" node under a workflow (null: under "(deleted workflow)"),
   * or null when the workflow does not exist: a group is only ever listed under a workflow row.
   */
  private groupKey(workflowId: SqlValue | null): string | null {
    if (workflowId === null) return UNPLACED;
    const row = this.db.get('SELECT w.id AS id FROM workflows w WHERE w.id = ? LIMIT 1', [workflowId]);
    return row ? idText(row.id) : null;
  }

  /**
   * Every response whose run is gone, and where it is listed. One pass over the responses (the
   * app's schema has no index on responses.run_id) and one over workflow_payloads, once per snapshot.
   */
  private orphanResponses(): OrphanResponses {
    if (this.orphanCache) return this.orphanCache;
    const groups = new Map<string, SqlValue[]>();
    const home = new Map<string, SqlValue | null>();
    const rows = this.db.all(`SELECT x.id AS id, x.run_id AS run_id, x.payload_id AS payload_id FROM responses x WHERE ${ORPHAN_RESPONSE} ORDER BY x.created_at, x.id`);
    if (rows.length) {
      // The workflows that list each payload now (existing workflows only).
      const listedBy = new Map<string, SqlValue[]>();
      for (const r of this.db.all(
        `SELECT DISTINCT wp.payload_id AS payload_id, w.id AS workflow_id FROM workflow_payloads wp JOIN workflows w ON w.id = wp.workflow_id
         WHERE wp.payload_id IS NOT NULL ORDER BY w.id`,
      )) {
        const key = idText(r.payload_id);
        listedBy.set(key, [...(listedBy.get(key) ?? []), r.workflow_id]);
      }
      // The payloads each deleted run's responses answer.
      const runPayloads = new Map<string, Set<string>>();
      for (const r of rows) {
        if (r.run_id === null) continue;
        const key = idText(r.run_id);
        const set = runPayloads.get(key) ?? new Set<string>();
        if (r.payload_id !== null) set.add(idText(r.payload_id));
        runPayloads.set(key, set);
      }
      /** The one workflow that lists every one of `payloads`; null when none or several do, or there are none. */
      const onlyWorkflow = (payloads: Iterable<string>): SqlValue | null => {
        let candidates: SqlValue[] | null = null;
        for (const p of payloads) {
          const listing = listedBy.get(p) ?? [];
          candidates = candidates === null ? listing : candidates.filter((w) => listing.some((x) => idText(x) === idText(w)));
          if (candidates.length === 0) return null;
        }
        return candidates !== null && candidates.length === 1 ? candidates[0] : null;
      };
      const runHome = new Map<string, SqlValue | null>();
      for (const r of rows) {
        let h: SqlValue | null;
        if (r.run_id === null) {
          h = r.payload_id === null ? null : onlyWorkflow([idText(r.payload_id)]);
        } else {
          const key = idText(r.run_id);
          if (!runHome.has(key)) runHome.set(key, onlyWorkflow(runPayloads.get(key) ?? []));
          h = runHome.get(key) ?? null;
        }
        const group = h === null ? UNPLACED : idText(h);
        groups.set(group, [...(groups.get(group) ?? []), r.id]);
        home.set(idText(r.id), h);
      }
    }
    this.orphanCache = { groups, home };
    return this.orphanCache;
  }

  /** Each group's token sums, models and first and last response times, in one pass. */
  private groupAggregates(): Map<string, GroupAggregate> {
    if (this.groupAggregateCache) return this.groupAggregateCache;
    const { home } = this.orphanResponses();
    const found = new Map<string, Accumulator & { first: Date | null; last: Date | null }>();
    if (home.size) {
      const rows = this.db.all(`SELECT x.id AS id, x.metadata AS metadata, x.created_at AS created_at FROM responses x WHERE ${ORPHAN_RESPONSE} ORDER BY x.created_at, x.id`);
      for (const r of rows) {
        const key = idText(r.id);
        if (!home.has(key)) continue;
        const h = home.get(key) ?? null;
        const group = h === null ? UNPLACED : idText(h);
        let agg = found.get(group);
        if (!agg) found.set(group, (agg = { ...newAccumulator(), first: null, last: null }));
        accumulate(agg, r.metadata);
        const t = parseTime(r.created_at);
        if (t && (!agg.first || t < agg.first)) agg.first = t;
        if (t && (!agg.last || t > agg.last)) agg.last = t;
      }
    }
    this.groupAggregateCache = found;
    return found;
  }

  /**
   * Each run's response ids in the order written (created_at, id), by run id as text; computed
   * once per snapshot, in one pass. The app's schema has no index on responses.run_id, so a
   * query per run would scan the whole table each time: expanding every run of a large database
   * (what Analytics does) would cost runs × responses.
   */
  private runResponses(): Map<string, SqlValue[]> {
    if (this.runResponsesCache) return this.runResponsesCache;
    const index = new Map<string, SqlValue[]>();
    for (const r of this.db.all('SELECT x.id AS id, x.run_id AS run_id FROM responses x WHERE x.run_id IS NOT NULL ORDER BY x.created_at, x.id')) {
      const key = idText(r.run_id);
      const ids = index.get(key);
      if (ids) ids.push(r.id);
      else index.set(key, [r.id]);
    }
    return (this.runResponsesCache = index);
  }

  /** Response rows by id, in the order of `ids`. */
  private responsesById(ids: readonly SqlValue[]): SqlRow[] {
    if (ids.length === 0) return [];
    const rows = this.db.all(`SELECT ${RESPONSE_COLUMNS} FROM responses x WHERE x.id IN (${ids.map(() => '?').join(', ')})`, [...ids]);
    const byId = new Map(rows.map((r) => [idText(r.id), r]));
    const out: SqlRow[] = [];
    for (const id of ids) {
      const row = byId.get(idText(id));
      if (row) out.push(row);
    }
    return out;
  }

  private runRow(id: SqlValue): SqlRow | undefined {
    return this.db.get(`SELECT ${RUN_COLUMNS} FROM runs r WHERE r.id = ? LIMIT 1`, [id]);
  }

  private responseRow(id: SqlValue): SqlRow | undefined {
    return this.db.get(`SELECT ${RESPONSE_COLUMNS} FROM responses x WHERE x.id = ? LIMIT 1`, [id]);
  }

  // -------------------------------------------------------------------------------------------
  // Nodes

  /** A workflow's status is its newest run's; `unknown` when it has none. */
  private workflowNode(row: SqlRow): HistoryNode {
    const runs = num(row.n_runs);
    const payloads = num(row.n_payloads);
    const orphans = this.orphanResponses().groups.get(idText(row.id))?.length ?? 0;
    const lastStatus = asText(row.last_status);
    const name = asText(row.name);
    const warnings: string[] = [];
    const created = parseTime(row.created_at);
    if (row.created_at !== null && !created) warnings.push(l10n.t('Its created_at, {0}, is not a time.', String(asText(row.created_at))));
    return {
      ref: `workflow:${idText(row.id)}`,
      level: 'workflow',
      label: name ?? l10n.t('Workflow {0}', idText(row.id)),
      description: `${counted(runs, (c) => l10n.t('{0} run', c), (c) => l10n.t('{0} runs', c))} · ${counted(payloads, (c) => l10n.t('{0} payload', c), (c) => l10n.t('{0} payloads', c))}${orphans ? ` · ${orphanGroupDescription(orphans, 'response')}` : ''}`,
      status: runs ? mapRunStatus(lastStatus) : 'unknown',
      rawStatus: runs ? lastStatus : null,
      metrics: { ...noMetrics(), start: created },
      hasChildren: runs > 0 || orphans > 0,
      isStep: false,
      warnings,
    };
  }

  private deletedWorkflowNode(): HistoryNode | null {
    const runs = this.orphanRunCount();
    const responses = this.orphanResponses().groups.get(UNPLACED)?.length ?? 0;
    if (!runs && !responses) return null;
    const last = runs ? this.db.get(`SELECT r.status AS status FROM runs r WHERE ${ORPHAN_RUN} ORDER BY r.started_at DESC, r.id DESC LIMIT 1`) : undefined;
    const lastStatus = asText(last?.status ?? null);
    const parts: string[] = [];
    if (runs) parts.push(orphanGroupDescription(runs, 'run'));
    if (responses) parts.push(orphanGroupDescription(responses, 'response'));
    return {
      ref: DELETED_WORKFLOW_REF,
      level: 'workflow',
      label: deletedWorkflowLabel(),
      description: parts.join(' · '),
      status: runs ? mapRunStatus(lastStatus) : 'unknown',
      rawStatus: lastStatus,
      metrics: noMetrics(),
      hasChildren: true,
      isStep: false,
      warnings: [],
    };
  }

  /** The "(deleted run)" node of a group; null when the group is empty. */
  private deletedRunNode(group: string): HistoryNode | null {
    const ids = this.orphanResponses().groups.get(group);
    if (!ids?.length) return null;
    const agg = this.groupAggregates().get(group);
    return {
      ref: group === UNPLACED ? DELETED_RUN_REF : `${DELETED_RUN_REF}:${group}`,
      level: 'run',
      label: deletedRunLabel(),
      description: orphanGroupDescription(ids.length, 'response'),
      // The run rows, and their statuses, are gone.
      status: 'unknown',
      rawStatus: null,
      metrics: {
        start: agg?.first ?? null,
        end: agg?.last ?? null,
        // The responses may come from several runs: no one run's duration.
        durationMs: null,
        tokens: agg?.tokens ?? null,
        costUsd: null,
        model: agg?.models.length ? agg.models.join(', ') : null,
      },
      hasChildren: true,
      isStep: false,
      warnings: [],
    };
  }

  private runInfo(row: SqlRow): RunInfo {
    const meta = parseJsonObject(row.metadata);
    const rawStatus = asText(row.status);
    const status = mapRunStatus(rawStatus);
    const warnings: string[] = [];
    if (meta.problem) warnings.push(meta.problem);
    if (status === 'unknown') {
      warnings.push(rawStatus === null ? l10n.t('It has no status.') : l10n.t('Its status, {0}, is none of {1}.', JSON.stringify(rawStatus), KNOWN_RUN_STATUSES.join(', ')));
    }
    const start = parseTime(row.started_at) ?? parseTime(meta.value?.started_at);
    const end = parseTime(row.completed_at) ?? parseTime(meta.value?.completed_at);
    if (row.started_at !== null && !parseTime(row.started_at)) warnings.push(l10n.t('Its started_at, {0}, is not a time.', String(asText(row.started_at))));
    if (row.completed_at !== null && !parseTime(row.completed_at)) warnings.push(l10n.t('Its completed_at, {0}, is not a time.', String(asText(row.completed_at))));
    if (!num(row.workflow_exists)) {
      warnings.push(missingParentWarning('workflow', 'workflow_id', row.workflow_id === null ? null : idText(row.workflow_id)));
    }
    return { row, meta, status, rawStatus, start, end, warnings };
  }

  /**
   * Each run's response count, token sums and models, from its responses' metadata, for a
   * page of runs in one query: the app's schema has no index on responses.run_id, so one
   * pass over the responses serves the whole page rather than one pass per run.
   */
  private runAggregates(runIds: readonly SqlValue[]): Map<string, RunAggregate> {
    const found = new Map<string, Accumulator>();
    if (runIds.length === 0) return found;
    const rows = this.db.all(
      `SELECT x.run_id AS run_id, x.metadata AS metadata FROM responses x WHERE x.run_id IN (${runIds.map(() => '?').join(', ')}) ORDER BY x.run_id, x.created_at, x.id`,
      [...runIds],
    );
    for (const r of rows) {
      const key = idText(r.run_id);
      let agg = found.get(key);
      if (!agg) found.set(key, (agg = newAccumulator()));
      accumulate(agg, r.metadata);
    }
    return found;
  }

  private runNode(row: SqlRow, aggregate: RunAggregate | undefined): HistoryNode {
    const info = this.runInfo(row);
    const agg = aggregate ?? NO_RESPONSES;
    const responses = agg.responses;
    const total = asNumber(info.meta.value?.total_payloads);
    const parts: string[] = [];
    if (!num(row.workflow_exists)) {
      const name = asString(info.meta.value?.workflow_name);
      parts.push(name ?? (row.workflow_id === null ? l10n.t('no workflow') : l10n.t('workflow {0}', idText(row.workflow_id))));
    }
    parts.push(total !== null ? (total === 1 ? l10n.t('{0} of {1} payload', responses, formatExactCount(total)) : l10n.t('{0} of {1} payloads', responses, formatExactCount(total))) : counted(responses, (c) => l10n.t('{0} response', c), (c) => l10n.t('{0} responses', c)));
    const startLabel = info.start ? dateTime(info.start) : null;
    if (startLabel) parts.push(startLabel);
    return {
      ref: `run:${idText(row.id)}`,
      level: 'run',
      label: l10n.t('Run {0}', idText(row.id)),
      description: parts.join(' · '),
      status: info.status,
      rawStatus: info.rawStatus,
      metrics: {
        start: info.start,
        end: info.end,
        durationMs: info.start && info.end ? info.end.getTime() - info.start.getTime() : null,
        tokens: agg.tokens,
        costUsd: null,
        model: agg.models.length ? agg.models.join(', ') : null,
      },
      hasChildren: responses > 0,
      isStep: false,
      warnings: info.warnings,
    };
  }

  private responseInfo(row: SqlRow): ResponseInfo {
    const meta = parseJsonObject(row.metadata);
    const facts = responseFacts(meta.value);
    const warnings: string[] = [];
    if (!num(row.run_exists)) warnings.push(missingParentWarning('run', 'run_id', row.run_id === null ? null : idText(row.run_id)));
    if (meta.problem) warnings.push(meta.problem);
    if (meta.raw === null) warnings.push(l10n.t('It has no metadata (NULL): no tokens, duration or model are recorded.'));
    const payloadId = row.payload_id;
    const payloadName = asText(row.payload_name);
    let label: string;
    let recoveredName: string | null = null;
    if (payloadId === null) {
      label = l10n.t('Payload (none)');
      warnings.push(l10n.t('It names no payload (payload_id is NULL).'));
    } else if (!num(row.payload_exists)) {
      label = l10n.t('Payload {0} (deleted)', idText(payloadId));
      const title = asText(row.response_block_title);
      const m = title ? /^(.*) - response$/s.exec(title) : null;
      recoveredName = m ? m[1] : null;
      warnings.push(
        recoveredName !== null
          ? l10n.t('Its payload (id {0}) has been deleted; its response block calls it {1}.', idText(payloadId), JSON.stringify(recoveredName))
          : l10n.t('Its payload (id {0}) has been deleted; its name is stored nowhere else.', idText(payloadId)),
      );
    } else {
      label = payloadName ?? l10n.t('Payload {0}', idText(payloadId));
    }
    if (row.created_at !== null && !parseTime(row.created_at)) warnings.push(l10n.t('Its created_at, {0}, is not a time.', String(asText(row.created_at))));
    return { row, meta, facts, warnings, label, recoveredName };
  }

  private responseMetrics(info: ResponseInfo): NodeMetrics {
    const end = parseTime(info.row.created_at);
    const d = info.facts.durationMs;
    return {
      // created_at is written right after the answer: the answer started duration_ms before.
      start: end && d !== null ? new Date(end.getTime() - d) : null,
      end,
      durationMs: d,
      tokens: info.facts.tokens,
      costUsd: null,
      model: info.facts.model,
    };
  }

  private responseNode(info: ResponseInfo, withRun = false): HistoryNode {
    const { row, facts } = info;
    const parts: string[] = [];
    if (!num(row.run_exists)) {
      parts.push(row.run_id === null ? l10n.t('No run') : l10n.t('Run {0} (deleted)', idText(row.run_id)));
    } else if (withRun) {
      const started = parseTime(row.run_started_at);
      parts.push(started ? l10n.t('Run {0} · {1}', idText(row.run_id), dateTime(started)) : l10n.t('Run {0}', idText(row.run_id)));
    }
    if (info.recoveredName !== null) parts.push(info.recoveredName);
    if (facts.tokens?.total != null) parts.push(tokensText(facts.tokens.total));
    const d = facts.durationMs === null ? null : duration(facts.durationMs);
    if (d) parts.push(d);
    if (facts.finishReason && facts.finishReason !== 'stop') parts.push(l10n.t('finish: {0}', facts.finishReason));
    return {
      ref: `response:${idText(row.id)}`,
      level: 'response',
      label: info.label,
      description: parts.join(' · ') || undefined,
      // A response row is written only once its payload has answered.
      status: 'completed',
      rawStatus: null,
      metrics: this.responseMetrics(info),
      hasChildren: false,
      isStep: true,
      warnings: info.warnings,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Details

  details(ref: NodeRef): DetailSection[] {
    const parsed = parseRef(ref);
    if (!parsed) return [];
    if (parsed.level === 'workflow') return 'deleted' in parsed && parsed.deleted ? this.deletedWorkflowDetails() : this.workflowDetails(parsed.id);
    if (parsed.level === 'run' && parsed.deleted) {
      const group = this.groupKey(parsed.workflow);
      return group === null ? [] : this.deletedRunDetails(group);
    }
    if (parsed.level === 'run') return this.runDetails(parsed.id);
    return this.responseDetails(parsed.id);
  }

  private workflowDetails(id: SqlValue): DetailSection[] {
    const row = this.db.get(`SELECT ${WORKFLOW_COLUMNS} FROM workflows w WHERE w.id = ? LIMIT 1`, [id]);
    if (!row) return [];
    const node = this.workflowNode(row);
    const payloads = this.db.all(
      `SELECT wp.payload_id AS payload_id, wp.order_index AS order_index,
         (SELECT p.name FROM payloads p WHERE p.id = wp.payload_id LIMIT 1) AS name,
         EXISTS (SELECT 1 FROM payloads p WHERE p.id = wp.payload_id) AS present
       FROM workflow_payloads wp WHERE wp.workflow_id = ? ORDER BY wp.order_index, wp.rowid`,
      [id],
    );
    const sections: DetailSection[] = [];
    if (node.warnings.length) sections.push({ kind: 'warnings', title: l10n.t('Warnings'), warnings: node.warnings });
    sections.push({
      kind: 'facts',
      title: l10n.t('Workflow'),
      facts: [
        { label: l10n.t('Name'), value: asText(row.name) ?? notRecorded() },
        { label: l10n.t('Id'), value: idText(row.id) },
        columnTime(l10n.t('Created'), row.created_at),
        columnTime(l10n.t('Updated'), row.updated_at),
        { label: l10n.t('Runs'), value: String(num(row.n_runs)) },
      ],
    });
    sections.push({
      kind: 'facts',
      title: l10n.t('Payloads now'),
      facts: payloads.map((p, i) => ({
        label: String(i + 1),
        value: num(p.present) ? l10n.t('{0} (id {1})', asText(p.name) ?? l10n.t('(no name)'), idText(p.payload_id)) : l10n.t('payload {0} (deleted)', idText(p.payload_id)),
      })),
    });
    return sections;
  }

  private deletedWorkflowDetails(): DetailSection[] {
    const runs = this.orphanRunCount();
    const responses = this.orphanResponses().groups.get(UNPLACED)?.length ?? 0;
    if (!runs && !responses) return [];
    const facts: DetailFact[] = [{ label: l10n.t('Runs'), value: String(runs) }];
    if (runs) {
      const ids = this.db.all(`SELECT DISTINCT r.workflow_id AS id FROM runs r WHERE ${ORPHAN_RUN} ORDER BY r.workflow_id`).map((r) => idText(r.id));
      facts.push({ label: l10n.t('Workflow ids'), value: ids.join(', ') });
    }
    if (responses) facts.push({ label: l10n.t('Responses of deleted runs'), value: l10n.t('{0}, under {1}', responses, deletedRunLabel()) });
    facts.push({ label: l10n.t('Why'), value: l10n.t('LLM Orchestration never turns foreign keys on, so deleting a workflow leaves its runs and their responses.') });
    return [{ kind: 'facts', title: deletedWorkflowLabel(), facts }];
  }

  private deletedRunDetails(group: string): DetailSection[] {
    const node = this.deletedRunNode(group);
    if (!node) return [];
    const ids = this.orphanResponses().groups.get(group) ?? [];
    const agg = this.groupAggregates().get(group);
    // The run ids they name, in the order first written.
    const runIds: string[] = [];
    const rows = this.responsesById(ids.slice(0, LIST_CAP));
    for (const r of rows) {
      const label = r.run_id === null ? 'NULL' : idText(r.run_id);
      if (!runIds.includes(label)) runIds.push(label);
    }
    const workflow = group === UNPLACED ? null : this.db.get('SELECT w.name AS name FROM workflows w WHERE w.id = ? LIMIT 1', [bindId(group)]);
    const facts: DetailFact[] = [
      { label: l10n.t('Responses'), value: String(ids.length) },
      { label: l10n.t('Run ids'), value: runIds.join(', ') + (ids.length > LIST_CAP ? ', …' : '') },
      {
        label: l10n.t('Workflow'),
        value:
          group === UNPLACED
            ? l10n.t('unknown: no single workflow lists their payloads now')
            : l10n.t('{0} (id {1}), the one workflow that lists their payloads now', asText(workflow?.name ?? null) ?? l10n.t('(no name)'), group),
      },
      timeFact(l10n.t('First written'), node.metrics.start, null),
      timeFact(l10n.t('Last written'), node.metrics.end, null),
      {
        label: l10n.t('Tokens'),
        value: agg ? tokensCounted(formatTokens(node.metrics.tokens), agg.counted, agg.responses) : formatTokens(node.metrics.tokens),
      },
      { label: l10n.t('Models'), value: node.metrics.model ?? notRecorded() },
      {
        label: l10n.t('Why'),
        value:
          l10n.t('Their run rows are gone. LLM Orchestration deletes a run\'s responses and then the run, but a run still executing goes on writing responses with its id; foreign keys are never on, so nothing refuses them. A run_id that is NULL was written outside the app.'),
      },
      {
        label: l10n.t('Placed'),
        value:
          l10n.t('The responses of one deleted run are listed under the one workflow that lists every payload they answer (a response with run_id NULL: its payload); when no workflow or several do, under {0}.', deletedWorkflowLabel()),
      },
    ];
    return [{ kind: 'facts', title: deletedRunLabel(), facts }];
  }

  private runDetails(id: SqlValue): DetailSection[] {
    const row = this.runRow(id);
    if (!row) return [];
    const info = this.runInfo(row);
    const agg = this.runAggregates([row.id]).get(idText(row.id)) ?? NO_RESPONSES;
    const node = this.runNode(row, agg);
    const meta = info.meta.value;
    const responses = agg.responses;
    const facts: DetailFact[] = [];
    const workflowName = asText(row.workflow_name) ?? asString(meta?.workflow_name);
    const workflowGone = !num(row.workflow_exists);
    facts.push({
      label: l10n.t('Workflow'),
      value:
        row.workflow_id === null
          ? l10n.t('none (workflow_id is NULL)')
          : workflowGone
            ? l10n.t('{0} (id {1}, deleted)', workflowName ?? l10n.t('(no name)'), idText(row.workflow_id))
            : l10n.t('{0} (id {1})', workflowName ?? l10n.t('(no name)'), idText(row.workflow_id)),
    });
    facts.push({ label: l10n.t('Status'), value: info.rawStatus !== null && info.rawStatus !== info.status ? l10n.t('{0} (stored as {1})', info.status, info.rawStatus) : info.status });
    facts.push(columnTime(l10n.t('Started'), row.started_at));
    if (info.status === 'running') {
      const age = info.start ? duration(this.now().getTime() - info.start.getTime()) : null;
      facts.push({
        label: l10n.t('Still running'),
        value:
          !info.start
            ? l10n.t('Marked {0}, with no completion recorded. LLM Orchestration keeps this status for good when its server stops mid-run.', info.rawStatus ?? 'running')
            : age
              ? l10n.t('Marked {0} since {1} ({2} ago), with no completion recorded. LLM Orchestration keeps this status for good when its server stops mid-run.', info.rawStatus ?? 'running', dateTime(info.start), age)
              : l10n.t('Marked {0} since {1}, with no completion recorded. LLM Orchestration keeps this status for good when its server stops mid-run.', info.rawStatus ?? 'running', dateTime(info.start)),
      });
    }
    facts.push(columnTime(l10n.t('Completed'), row.completed_at));
    facts.push({ label: l10n.t('Duration'), value: node.metrics.durationMs === null ? notRecorded() : duration(node.metrics.durationMs) });
    const total = asNumber(meta?.total_payloads);
    facts.push({ label: l10n.t('Payloads'), value: l10n.t('{0} ({1})', total === null ? notRecorded() : total, counted(responses, (c) => l10n.t('{0} response', c), (c) => l10n.t('{0} responses', c))) });
    facts.push({ label: l10n.t('Tokens'), value: tokensCounted(formatTokens(node.metrics.tokens), agg.counted, agg.responses) });
    const { models, problem: modelsProblem } = runModels(meta);
    if (models) {
      facts.push({ label: l10n.t('Models'), value: models.map((m) => `${m.payloadName ?? '?'}: ${m.model ?? l10n.t('unknown')}`).join('; ') || l10n.t('none') });
    } else if (node.metrics.model) {
      facts.push({ label: l10n.t('Models'), value: node.metrics.model });
    }
    const error = meta ? asString(meta.error) ?? (meta.error != null ? JSON.stringify(meta.error) : null) : null;
    if (error !== null) facts.push({ label: l10n.t('Error'), value: error });
    else if (info.status === 'failed') {
      facts.push({ label: l10n.t('Error'), value: info.meta.raw === null ? l10n.t('not stored: the run\'s metadata is NULL (runs started from the UI keep it NULL)') : notRecorded() });
    }
    const completedJson = parseTime(meta?.completed_at);
    if (completedJson) facts.push(timeFact(l10n.t('Completed (metadata)'), completedJson, meta?.completed_at));
    facts.push({ label: l10n.t('Metadata'), value: info.meta.raw === null ? 'NULL' : info.meta.problem ? l10n.t('damaged (see Warnings)') : l10n.t('JSON (below)') });

    const sections: DetailSection[] = [];
    const warnings = modelsProblem ? [...info.warnings, modelsProblem] : info.warnings;
    if (warnings.length) sections.push({ kind: 'warnings', title: l10n.t('Warnings'), warnings });
    sections.push({ kind: 'facts', title: l10n.t('Run {0}', idText(row.id)), facts });
    if (info.meta.raw !== null) {
      sections.push({ kind: 'text', title: l10n.t('Metadata'), text: prettyJson(info.meta), format: info.meta.parsed === undefined ? 'plain' : 'json' });
    }
    if (models) sections.push({ kind: 'text', title: l10n.t('Models'), text: JSON.stringify(models.map((m) => ({ payloadName: m.payloadName, modelInfo: m.modelInfo })), null, 2), format: 'json' });
    return sections;
  }

  private responseDetails(id: SqlValue): DetailSection[] {
    const row = this.responseRow(id);
    if (!row) return [];
    const info = this.responseInfo(row);
    const { facts: f } = info;
    const run = this.runRow(row.run_id);
    const facts: DetailFact[] = [];
    facts.push({ label: l10n.t('Payload'), value:
        row.payload_id === null
          ? l10n.t('none')
          : num(row.payload_exists)
            ? l10n.t('{0} (id {1})', asText(row.payload_name) ?? l10n.t('(no name)'), idText(row.payload_id))
            : info.recoveredName !== null
              ? l10n.t('{0} (id {1}, deleted)', info.recoveredName, idText(row.payload_id))
              : l10n.t('(id {0}, deleted)', idText(row.payload_id)),
    });
    facts.push({
      label: l10n.t('Run'),
      value: run ? l10n.t('Run {0} ({1})', idText(row.run_id), asText(run.status) ?? l10n.t('no status')) : row.run_id === null ? l10n.t('none (run_id is NULL)') : l10n.t('{0} (deleted)', idText(row.run_id)),
    });
    if (run) {
      facts.push({ label: l10n.t('Workflow'), value: run.workflow_id === null ? l10n.t('none') : l10n.t('{0} (id {1})', asText(run.workflow_name) ?? l10n.t('(deleted)'), idText(run.workflow_id)) });
    } else {
      const home = this.orphanResponses().home.get(idText(row.id)) ?? null;
      const name = home === null ? null : asText(this.db.get('SELECT w.name AS name FROM workflows w WHERE w.id = ? LIMIT 1', [home])?.name ?? null);
      facts.push({
        label: l10n.t('Listed under'),
        value:
          home === null
            ? row.run_id === null
              ? l10n.t('{0} › {1}: no single workflow lists its payload now', deletedWorkflowLabel(), deletedRunLabel())
              : l10n.t('{0} › {1}: no single workflow lists the payloads of its run now', deletedWorkflowLabel(), deletedRunLabel())
            : row.run_id === null
              ? l10n.t('{0} (id {1}) › {2}: the one workflow that lists its payload now', name ?? l10n.t('(no name)'), idText(home), deletedRunLabel())
              : l10n.t('{0} (id {1}) › {2}: the one workflow that lists the payloads of its run now', name ?? l10n.t('(no name)'), idText(home), deletedRunLabel()),
      });
    }
    facts.push(columnTime(l10n.t('Written'), row.created_at));
    facts.push({ label: l10n.t('Tokens'), value: formatTokens(f.tokens) });
    facts.push({ label: l10n.t('Duration'), value: f.durationMs === null ? notRecorded() : duration(f.durationMs) });
    facts.push({ label: l10n.t('Tokens/s'), value: f.tokensPerSecond === null ? notRecorded() : String(f.tokensPerSecond) });
    facts.push({ label: l10n.t('Finish reason'), value: f.finishReason ?? notRecorded() });
    if (f.responseType) facts.push({ label: l10n.t('Response type'), value: f.responseType });
    facts.push({ label: l10n.t('Model'), value: f.modelFromInfo ?? (f.modelInfoProblem ? l10n.t('unknown ({0})', f.modelInfoProblem) : notRecorded()) });
    facts.push({ label: l10n.t('LLM config'), value: f.llmConfig ? formatLlmConfig(f.llmConfig) || l10n.t('empty') : notRecorded() });
    const length = asNumber(row.content_length);
    if (length !== null) facts.push({ label: l10n.t('Length'), value: counted(length, (c) => l10n.t('{0} character', c), (c) => l10n.t('{0} characters', c)) });

    const sections: DetailSection[] = [];
    if (info.warnings.length) sections.push({ kind: 'warnings', title: l10n.t('Warnings'), warnings: info.warnings });
    sections.push({ kind: 'facts', title: l10n.t('Response'), facts });
    const content = this.content(row.id, DETAILS_TEXT_LIMIT);
    sections.push({ kind: 'text', title: l10n.t('Content'), text: content ?? l10n.t('(no content: NULL)'), format: 'plain' });
    if (info.meta.raw !== null) {
      sections.push({ kind: 'text', title: l10n.t('Metadata'), text: prettyJson(info.meta), format: info.meta.parsed === undefined ? 'plain' : 'json' });
    }
    return sections;
  }

  // -------------------------------------------------------------------------------------------
  // Changes, texts, counterparts

  changes(ref: NodeRef): ChangeItem[] {
    const parsed = parseRef(ref);
    if (!parsed || parsed.level !== 'response') return [];
    const row = this.db.get('SELECT x.id AS id FROM responses x WHERE x.id = ? LIMIT 1', [parsed.id]);
    if (!row) return [];
    return [{ id: 'response', label: l10n.t('Response'), status: 'added', before: null, after: `content:${idText(row.id)}` }];
  }

  text(ref: TextRef): string | null {
    const i = ref.indexOf(':');
    if (i < 0) return null;
    const kind = ref.slice(0, i);
    const id = bindId(ref.slice(i + 1));
    if (kind === 'content') return this.content(id, TEXT_LIMIT);
    if (kind === 'response-metadata') return this.capped('responses', 'metadata', id, TEXT_LIMIT);
    if (kind === 'run-metadata') return this.capped('runs', 'metadata', id, TEXT_LIMIT);
    return null;
  }

  private content(id: SqlValue, limit: number): string | null {
    return this.capped('responses', 'content', id, limit);
  }

  /**
   * A stored text, read as bytes (sql.js would cut text at its first NUL) and decoded as UTF-8;
   * cut at `limit` bytes, on a character boundary, with a note saying how long it is.
   */
  private capped(table: 'responses' | 'runs', column: 'content' | 'metadata', id: SqlValue, limit: number): string | null {
    const row = this.db.get(
      `SELECT substr(CAST(${column} AS BLOB), 1, ?) AS head, length(CAST(${column} AS BLOB)) AS len, typeof(${column}) AS type FROM ${table} WHERE id = ? LIMIT 1`,
      [limit, id],
    );
    if (!row || row.type === 'null') return null;
    const bytes = row.head instanceof Uint8Array ? row.head : new TextEncoder().encode(asText(row.head) ?? '');
    const len = asNumber(row.len) ?? bytes.length;
    if (len <= limit) return utf8(bytes);
    return l10n.t('{0}\n\n[Step History shows the first {1} of its {2} bytes.]', utf8(bytes.subarray(0, wholeCharacters(bytes))), limit, len);
  }

  /** The same payload's responses in other runs of the same workflow, newest run first. */
  counterparts(ref: NodeRef): HistoryNode[] {
    const parsed = parseRef(ref);
    if (!parsed || parsed.level !== 'response') return [];
    const self = this.db.get(
      `SELECT x.id AS id, x.run_id AS run_id, x.payload_id AS payload_id,
         (SELECT r.workflow_id FROM runs r WHERE r.id = x.run_id LIMIT 1) AS workflow_id
       FROM responses x WHERE x.id = ? LIMIT 1`,
      [parsed.id],
    );
    if (!self || self.payload_id === null || self.workflow_id === null || self.workflow_id === undefined) return [];
    const rows = this.db.all(
      `SELECT ${RESPONSE_COLUMNS} FROM responses x JOIN runs r ON r.id = x.run_id
       WHERE x.payload_id = ? AND r.workflow_id = ? AND x.run_id IS NOT ? AND x.id IS NOT ?
       ORDER BY r.started_at DESC, r.id DESC, x.created_at DESC, x.id DESC
       LIMIT ?`,
      [self.payload_id, self.workflow_id, self.run_id, self.id, DEFAULT_LIMIT],
    );
    return rows.map((row) => this.responseNode(this.responseInfo(row), true));
  }
}
