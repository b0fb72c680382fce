/**
 * LLM Orchestration's history as Step History shows it: workflow → run → response.
 *
 * - Workflows newest first (created_at, then id, descending). Runs whose workflow row is gone
 *   (foreign keys are never enforced, so deleting a workflow leaves its runs) are listed under
 *   one synthetic top-level node, "(deleted workflow)", after the workflows, only when such runs
 *   exist.
 * - Runs newest first (started_at, then id, descending). A run is a container.
 * - Responses, the steps, in the order they were written (created_at, then id, ascending):
 *   executeWorkflowAsync answers the payloads one by one in the workflow's payload order of the
 *   moment, so this is that order even when the workflow was edited later. A response whose
 *   payload row is gone is still listed, labelled with the payload id, with a warning.
 * - Metrics: a run's duration from started_at/completed_at; a response's tokens, duration and
 *   model from its metadata, null where absent; a run's tokens are its responses' sums (null
 *   when none has counts), its model the distinct models its responses name. No cost is
 *   recorded anywhere: costUsd is always null.
 *
 * Refs: `workflow:<id>`, `workflow:(deleted)`, `run:<id>`, `response:<id>`. Text refs:
 * `content:<responseId>`, `response-metadata:<id>`, `run-metadata:<id>`.
 */
import { formatDuration } from '../../stepDetails';
import type {
  ChangeItem,
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
  formatTime,
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

export const LEVELS: readonly LevelInfo[] = [
  { key: 'workflow', singular: 'workflow', plural: 'workflows' },
  { key: 'run', singular: 'run', plural: 'runs' },
  { key: 'response', singular: 'response', plural: 'responses' },
];

export const DELETED_WORKFLOW_REF = 'workflow:(deleted)';
export const DELETED_WORKFLOW_LABEL = '(deleted workflow)';
/** text() returns at most this many bytes of a stored text, then a note. */
export const TEXT_LIMIT = 5 * 1024 * 1024;
/** Details carry at most this many bytes of a response's content. */
export const DETAILS_TEXT_LIMIT = 1024 * 1024;
const DEFAULT_LIMIT = 200;

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
  | { level: 'run' | 'response'; id: SqlValue };

/** `5` binds as an integer, anything else as the text it is. */
const bindId = (text: string): SqlValue => (/^-?\d{1,15}$/.test(text) ? Number(text) : text);
const idText = (v: SqlValue): string => asText(v) ?? 'null';

export function parseRef(ref: NodeRef): Parsed | null {
  const i = ref.indexOf(':');
  if (i < 0) return null;
  const level = ref.slice(0, i);
  const id = ref.slice(i + 1);
  if (ref === DELETED_WORKFLOW_REF) return { level: 'workflow', id: null, deleted: true };
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
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const num = (v: SqlValue | undefined): number => asNumber(v) ?? 0;
const NOT_RECORDED = 'not recorded';

const timeFact = (v: SqlValue | undefined): string => {
  const t = parseTime(v);
  const raw = asText(v ?? null);
  if (t) return formatTime(t);
  return raw === null ? NOT_RECORDED : `${raw} (not a time)`;
};

function formatTokens(t: TokenCounts | null): string {
  if (!t || (t.total === null && t.prompt === null && t.completion === null)) return NOT_RECORDED;
  const total = t.total ?? (t.prompt !== null && t.completion !== null ? t.prompt + t.completion : null);
  const parts = [];
  if (t.prompt !== null) parts.push(`${t.prompt} prompt`);
  if (t.completion !== null) parts.push(`${t.completion} completion`);
  return `${total ?? '?'}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

// ---------------------------------------------------------------------------------------------
// Queries

const WORKFLOW_COLUMNS = `
  w.id AS id, w.name AS name, w.created_at AS created_at, w.updated_at AS updated_at,
  (SELECT COUNT(*) FROM runs r WHERE r.workflow_id = w.id) AS n_runs,
  (SELECT COUNT(*) FROM workflow_payloads wp WHERE wp.workflow_id = w.id) AS n_payloads,
  (SELECT r.status FROM runs r WHERE r.workflow_id = w.id ORDER BY r.started_at DESC, r.id DESC LIMIT 1) AS last_status`;

const ORPHAN_RUN = `NOT EXISTS (SELECT 1 FROM workflows w WHERE w.id = r.workflow_id)`;

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

const RESPONSE_COLUMNS = `
  x.id AS id, x.run_id AS run_id, x.payload_id AS payload_id, x.metadata AS metadata,
  x.created_at AS created_at, length(x.content) AS content_length,
  (SELECT p.name FROM payloads p WHERE p.id = x.payload_id LIMIT 1) AS payload_name,
  EXISTS (SELECT 1 FROM payloads p WHERE p.id = x.payload_id) AS payload_exists,
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
      if (offset <= workflows && workflows < offset + limit) {
        const deleted = this.deletedWorkflowNode();
        if (deleted) nodes.push(deleted);
      }
      return nodes;
    }
    const ref = parseRef(parent);
    if (!ref) return [];
    if (ref.level === 'workflow') {
      const where = 'deleted' in ref && ref.deleted ? ORPHAN_RUN : 'r.workflow_id = ?';
      const params: SqlValue[] = 'deleted' in ref && ref.deleted ? [] : [ref.id];
      const rows = this.db.all(`SELECT ${RUN_COLUMNS} FROM runs r WHERE ${where} ORDER BY r.started_at DESC, r.id DESC LIMIT ? OFFSET ?`, [...params, limit, offset]);
      const aggregates = this.runAggregates(rows.map((row) => row.id));
      return rows.map((row) => this.runNode(row, aggregates.get(idText(row.id))));
    }
    if (ref.level === 'run') {
      const rows = this.db.all(`SELECT ${RESPONSE_COLUMNS} FROM responses x WHERE x.run_id = ? ORDER BY x.created_at, x.id LIMIT ? OFFSET ?`, [ref.id, limit, offset]);
      return rows.map((row) => this.responseNode(this.responseInfo(row)));
    }
    return [];
  }

  count(parent: NodeRef | null): number {
    if (parent === null) return this.workflowCount() + (this.orphanRunCount() > 0 ? 1 : 0);
    const ref = parseRef(parent);
    if (!ref) return 0;
    if (ref.level === 'workflow') {
      if ('deleted' in ref && ref.deleted) return this.orphanRunCount();
      return num(this.db.get('SELECT COUNT(*) AS n FROM runs r WHERE r.workflow_id = ?', [ref.id])?.n);
    }
    if (ref.level === 'run') return num(this.db.get('SELECT COUNT(*) AS n FROM responses x WHERE x.run_id = ?', [ref.id])?.n);
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

  private orphanRunCount(): number {
    return num(this.db.get(`SELECT COUNT(*) AS n FROM runs r WHERE ${ORPHAN_RUN}`)?.n);
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
    const lastStatus = asText(row.last_status);
    const name = asText(row.name);
    const warnings: string[] = [];
    const created = parseTime(row.created_at);
    if (row.created_at !== null && !created) warnings.push(`Its created_at, ${asText(row.created_at)}, is not a time.`);
    return {
      ref: `workflow:${idText(row.id)}`,
      level: 'workflow',
      label: name ?? `Workflow ${idText(row.id)}`,
      description: `${plural(runs, 'run')} · ${plural(payloads, 'payload')}`,
      status: runs ? mapRunStatus(lastStatus) : 'unknown',
      rawStatus: runs ? lastStatus : null,
      metrics: { ...noMetrics(), start: created },
      hasChildren: runs > 0,
      isStep: false,
      warnings,
    };
  }

  private deletedWorkflowNode(): HistoryNode | null {
    const runs = this.orphanRunCount();
    if (!runs) return null;
    const last = this.db.get(`SELECT r.status AS status FROM runs r WHERE ${ORPHAN_RUN} ORDER BY r.started_at DESC, r.id DESC LIMIT 1`);
    const lastStatus = asText(last?.status ?? null);
    return {
      ref: DELETED_WORKFLOW_REF,
      level: 'workflow',
      label: DELETED_WORKFLOW_LABEL,
      description: `${plural(runs, 'run')} whose workflow is gone`,
      status: mapRunStatus(lastStatus),
      rawStatus: lastStatus,
      metrics: noMetrics(),
      hasChildren: true,
      isStep: false,
      warnings: [],
    };
  }

  private runInfo(row: SqlRow): RunInfo {
    const meta = parseJsonObject(row.metadata, 'Its metadata');
    const rawStatus = asText(row.status);
    const status = mapRunStatus(rawStatus);
    const warnings: string[] = [];
    if (meta.problem) warnings.push(meta.problem);
    if (status === 'unknown') {
      warnings.push(rawStatus === null ? 'It has no status.' : `Its status, ${JSON.stringify(rawStatus)}, is none of ${KNOWN_RUN_STATUSES.join(', ')}.`);
    }
    const start = parseTime(row.started_at) ?? parseTime(meta.value?.started_at);
    const end = parseTime(row.completed_at) ?? parseTime(meta.value?.completed_at);
    if (row.started_at !== null && !parseTime(row.started_at)) warnings.push(`Its started_at, ${asText(row.started_at)}, is not a time.`);
    if (row.completed_at !== null && !parseTime(row.completed_at)) warnings.push(`Its completed_at, ${asText(row.completed_at)}, is not a time.`);
    if (!num(row.workflow_exists)) {
      warnings.push(row.workflow_id === null ? 'It belongs to no workflow (workflow_id is NULL).' : `Its workflow (id ${idText(row.workflow_id)}) has been deleted.`);
    }
    return { row, meta, status, rawStatus, start, end, warnings };
  }

  /**
   * Each run's response count, token sums and models, from its responses' metadata, for a
   * page of runs in one query: the app's schema has no index on responses.run_id, so one
   * pass over the responses serves the whole page rather than one pass per run.
   */
  private runAggregates(runIds: readonly SqlValue[]): Map<string, RunAggregate> {
    const found = new Map<string, RunAggregate & { modelSet: Set<string> }>();
    if (runIds.length === 0) return found;
    const rows = this.db.all(
      `SELECT x.run_id AS run_id, x.metadata AS metadata FROM responses x WHERE x.run_id IN (${runIds.map(() => '?').join(', ')}) ORDER BY x.run_id, x.created_at, x.id`,
      [...runIds],
    );
    for (const r of rows) {
      const key = idText(r.run_id);
      let agg = found.get(key);
      if (!agg) found.set(key, (agg = { tokens: null, models: [], modelSet: new Set(), counted: 0, responses: 0 }));
      agg.responses++;
      const facts = responseFacts(parseJsonObject(r.metadata, '').value);
      if (facts.tokens) agg.counted++;
      agg.tokens = addTokens(agg.tokens, facts.tokens);
      if (facts.model && !agg.modelSet.has(facts.model)) {
        agg.modelSet.add(facts.model);
        agg.models.push(facts.model);
      }
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
      parts.push(name ?? (row.workflow_id === null ? 'no workflow' : `workflow ${idText(row.workflow_id)}`));
    }
    parts.push(total !== null ? `${responses} of ${plural(total, 'payload')}` : plural(responses, 'response'));
    const startLabel = info.start ? formatTime(info.start) : null;
    if (startLabel) parts.push(startLabel);
    return {
      ref: `run:${idText(row.id)}`,
      level: 'run',
      label: `Run ${idText(row.id)}`,
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
    const meta = parseJsonObject(row.metadata, 'Its metadata');
    const facts = responseFacts(meta.value);
    const warnings: string[] = [];
    if (meta.problem) warnings.push(meta.problem);
    if (meta.raw === null) warnings.push('It has no metadata (NULL): no tokens, duration or model are recorded.');
    const payloadId = row.payload_id;
    const payloadName = asText(row.payload_name);
    let label: string;
    let recoveredName: string | null = null;
    if (payloadId === null) {
      label = 'Payload (none)';
      warnings.push('It names no payload (payload_id is NULL).');
    } else if (!num(row.payload_exists)) {
      label = `Payload ${idText(payloadId)} (deleted)`;
      const title = asText(row.response_block_title);
      const m = title ? /^(.*) - response$/s.exec(title) : null;
      recoveredName = m ? m[1] : null;
      warnings.push(
        `Its payload (id ${idText(payloadId)}) has been deleted` +
          (recoveredName !== null ? `; its response block calls it ${JSON.stringify(recoveredName)}.` : '; its name is stored nowhere else.'),
      );
    } else {
      label = payloadName ?? `Payload ${idText(payloadId)}`;
    }
    if (row.created_at !== null && !parseTime(row.created_at)) warnings.push(`Its created_at, ${asText(row.created_at)}, is not a time.`);
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
    if (withRun) {
      const started = parseTime(row.run_started_at);
      parts.push(`Run ${idText(row.run_id)}${started ? ` · ${formatTime(started)}` : ''}`);
    }
    if (info.recoveredName !== null) parts.push(info.recoveredName);
    if (facts.tokens?.total != null) parts.push(plural(facts.tokens.total, 'token'));
    const d = formatDuration(facts.durationMs);
    if (d) parts.push(d);
    if (facts.finishReason && facts.finishReason !== 'stop') parts.push(`finish: ${facts.finishReason}`);
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
    if (node.warnings.length) sections.push({ kind: 'warnings', title: 'Warnings', warnings: node.warnings });
    sections.push({
      kind: 'facts',
      title: 'Workflow',
      facts: [
        { label: 'Name', value: asText(row.name) ?? NOT_RECORDED },
        { label: 'Id', value: idText(row.id) },
        { label: 'Created', value: timeFact(row.created_at) },
        { label: 'Updated', value: timeFact(row.updated_at) },
        { label: 'Runs', value: String(num(row.n_runs)) },
      ],
    });
    sections.push({
      kind: 'facts',
      title: 'Payloads now',
      facts: payloads.map((p, i) => ({
        label: String(i + 1),
        value: num(p.present) ? `${asText(p.name) ?? '(no name)'} (id ${idText(p.payload_id)})` : `payload ${idText(p.payload_id)} (deleted)`,
      })),
    });
    return sections;
  }

  private deletedWorkflowDetails(): DetailSection[] {
    const runs = this.orphanRunCount();
    if (!runs) return [];
    const ids = this.db.all(`SELECT DISTINCT r.workflow_id AS id FROM runs r WHERE ${ORPHAN_RUN} ORDER BY r.workflow_id`).map((r) => idText(r.id));
    return [
      {
        kind: 'facts',
        title: DELETED_WORKFLOW_LABEL,
        facts: [
          { label: 'Runs', value: String(runs) },
          { label: 'Workflow ids', value: ids.join(', ') },
          { label: 'Why', value: 'LLM Orchestration never turns foreign keys on, so deleting a workflow leaves its runs and their responses.' },
        ],
      },
    ];
  }

  private runDetails(id: SqlValue): DetailSection[] {
    const row = this.runRow(id);
    if (!row) return [];
    const info = this.runInfo(row);
    const agg = this.runAggregates([row.id]).get(idText(row.id)) ?? NO_RESPONSES;
    const node = this.runNode(row, agg);
    const meta = info.meta.value;
    const responses = agg.responses;
    const facts: { label: string; value: string }[] = [];
    const workflowName = asText(row.workflow_name) ?? asString(meta?.workflow_name);
    const workflowGone = !num(row.workflow_exists);
    facts.push({
      label: 'Workflow',
      value:
        row.workflow_id === null
          ? 'none (workflow_id is NULL)'
          : `${workflowName ?? '(no name)'} (id ${idText(row.workflow_id)}${workflowGone ? ', deleted' : ''})`,
    });
    facts.push({ label: 'Status', value: `${info.status}${info.rawStatus !== null && info.rawStatus !== info.status ? ` (stored as ${info.rawStatus})` : ''}` });
    facts.push({ label: 'Started', value: timeFact(row.started_at) });
    if (info.status === 'running') {
      const age = info.start ? formatDuration(this.now().getTime() - info.start.getTime()) : null;
      facts.push({
        label: 'Still running',
        value:
          `Marked ${info.rawStatus ?? 'running'}${info.start ? ` since ${formatTime(info.start)}${age ? ` (${age} ago)` : ''}` : ''}, with no completion recorded. ` +
          'LLM Orchestration keeps this status for good when its server stops mid-run.',
      });
    }
    facts.push({ label: 'Completed', value: row.completed_at === null ? NOT_RECORDED : timeFact(row.completed_at) });
    facts.push({ label: 'Duration', value: formatDuration(node.metrics.durationMs) ?? NOT_RECORDED });
    const total = asNumber(meta?.total_payloads);
    facts.push({ label: 'Payloads', value: total === null ? `${NOT_RECORDED} (${plural(responses, 'response')})` : `${total} (${plural(responses, 'response')})` });
    const partial = agg.counted > 0 && agg.counted < agg.responses ? ` · counted in ${agg.counted} of ${plural(agg.responses, 'response')}` : '';
    facts.push({ label: 'Tokens', value: formatTokens(node.metrics.tokens) + partial });
    const { models, problem: modelsProblem } = runModels(meta);
    if (models) {
      facts.push({ label: 'Models', value: models.map((m) => `${m.payloadName ?? '?'}: ${m.model ?? 'unknown'}`).join('; ') || 'none' });
    } else if (node.metrics.model) {
      facts.push({ label: 'Models', value: node.metrics.model });
    }
    const error = meta ? asString(meta.error) ?? (meta.error != null ? JSON.stringify(meta.error) : null) : null;
    if (error !== null) facts.push({ label: 'Error', value: error });
    else if (info.status === 'failed') {
      facts.push({ label: 'Error', value: info.meta.raw === null ? 'not stored: the run\'s metadata is NULL (runs started from the UI keep it NULL)' : NOT_RECORDED });
    }
    const completedJson = parseTime(meta?.completed_at);
    if (completedJson) facts.push({ label: 'Completed (metadata)', value: formatTime(completedJson) });
    facts.push({ label: 'Metadata', value: info.meta.raw === null ? 'NULL' : info.meta.problem ? 'damaged (see Warnings)' : 'JSON (below)' });

    const sections: DetailSection[] = [];
    const warnings = modelsProblem ? [...info.warnings, modelsProblem] : info.warnings;
    if (warnings.length) sections.push({ kind: 'warnings', title: 'Warnings', warnings });
    sections.push({ kind: 'facts', title: `Run ${idText(row.id)}`, facts });
    if (info.meta.raw !== null) {
      sections.push({ kind: 'text', title: 'Metadata', text: prettyJson(info.meta), format: info.meta.parsed === undefined ? 'plain' : 'json' });
    }
    if (models) sections.push({ kind: 'text', title: 'Models', text: JSON.stringify(models.map((m) => ({ payloadName: m.payloadName, modelInfo: m.modelInfo })), null, 2), format: 'json' });
    return sections;
  }

  private responseDetails(id: SqlValue): DetailSection[] {
    const row = this.responseRow(id);
    if (!row) return [];
    const info = this.responseInfo(row);
    const { facts: f } = info;
    const run = this.runRow(row.run_id);
    const facts: { label: string; value: string }[] = [];
    facts.push({ label: 'Payload', value: row.payload_id === null ? 'none' : num(row.payload_exists) ? `${asText(row.payload_name) ?? '(no name)'} (id ${idText(row.payload_id)})` : `${info.recoveredName !== null ? `${info.recoveredName} ` : ''}(id ${idText(row.payload_id)}, deleted)` });
    facts.push({ label: 'Run', value: run ? `Run ${idText(row.run_id)} (${asText(run.status) ?? 'no status'})` : `${idText(row.run_id)} (not found)` });
    if (run) {
      facts.push({ label: 'Workflow', value: run.workflow_id === null ? 'none' : `${asText(run.workflow_name) ?? '(deleted)'} (id ${idText(run.workflow_id)})` });
    }
    facts.push({ label: 'Written', value: timeFact(row.created_at) });
    facts.push({ label: 'Tokens', value: formatTokens(f.tokens) });
    facts.push({ label: 'Duration', value: formatDuration(f.durationMs) ?? NOT_RECORDED });
    facts.push({ label: 'Tokens/s', value: f.tokensPerSecond === null ? NOT_RECORDED : String(f.tokensPerSecond) });
    facts.push({ label: 'Finish reason', value: f.finishReason ?? NOT_RECORDED });
    if (f.responseType) facts.push({ label: 'Response type', value: f.responseType });
    facts.push({ label: 'Model', value: f.modelFromInfo ?? (f.modelInfoProblem ? `unknown (${f.modelInfoProblem})` : NOT_RECORDED) });
    facts.push({ label: 'LLM config', value: f.llmConfig ? formatLlmConfig(f.llmConfig) || 'empty' : NOT_RECORDED });
    const length = asNumber(row.content_length);
    if (length !== null) facts.push({ label: 'Length', value: plural(length, 'character') });

    const sections: DetailSection[] = [];
    if (info.warnings.length) sections.push({ kind: 'warnings', title: 'Warnings', warnings: info.warnings });
    sections.push({ kind: 'facts', title: 'Response', facts });
    const content = this.content(row.id, DETAILS_TEXT_LIMIT);
    sections.push({ kind: 'text', title: 'Content', text: content ?? '(no content: NULL)', format: 'plain' });
    if (info.meta.raw !== null) {
      sections.push({ kind: 'text', title: 'Metadata', text: prettyJson(info.meta), format: info.meta.parsed === undefined ? 'plain' : 'json' });
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
    return [{ id: 'response', label: 'Response', status: 'added', before: null, after: `content:${idText(row.id)}` }];
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
    return `${utf8(bytes.subarray(0, wholeCharacters(bytes)))}\n\n[Step History shows the first ${limit} of its ${len} bytes.]`;
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
