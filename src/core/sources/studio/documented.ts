/**
 * Autonomous Software Studio's documented schema (scripts/init-db.sql) in a SQLite development
 * copy: sessions, their agent executions (the steps), artifacts with versions, checkpoints and
 * the audit log. JSONB columns are TEXT holding JSON, timestamps text, booleans 0/1.
 */
import { StepDbError } from '../../errors';
import type { ChangeItem, DetailSection, Detection, HistoryNode, HistorySource, LevelInfo, NodeRef, Page, SqlReader, SqlRow, TextRef } from '../types';
import { firstLine, makeRef, metrics, node, page, parseRef, statusOf } from './common';
import { boolOf, capText, isRecord, jsonOf, LOCAL_TIME_NOTE, numberOf, parseTime, prettyJson, text, timeFact, type ParsedTime } from './values';

const LEVELS: readonly LevelInfo[] = [
  { key: 'session', singular: 'session', plural: 'sessions' },
  { key: 'execution', singular: 'agent execution', plural: 'agent executions' },
];

/** The agent whose phase makes each artifact type. */
const AGENT_OF_ARTIFACT: Record<string, string> = { prd: 'pm', tech_spec: 'arch', scaffold: 'arch', code: 'eng', test: 'qa', bug_report: 'qa' };

interface Execution {
  id: string;
  sessionId: string;
  agent: string | null;
  status: string | null;
  started: ParsedTime;
  completed: ParsedTime;
  durationSeconds: number | null;
  tokens: number | null;
  metadata: Record<string, unknown> | null;
  row: SqlRow;
  warnings: string[];
}

interface Artifact {
  id: string;
  sessionId: string;
  type: string | null;
  filePath: string;
  hash: string | null;
  version: number | null;
  created: ParsedTime;
  agent: string | null;
  /** The execution that made it, when it can be told. */
  executionId: string | null;
  previous: Artifact | null;
}

const has = (reader: SqlReader, table: string): boolean => !!reader.get(`SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?`, [table]);
const timeOf = (t: ParsedTime): number => t.date?.getTime() ?? -Infinity;

export class StudioDocumentedSource implements HistorySource {
  readonly levels = LEVELS;
  private readonly sessions: SqlRow[];
  private readonly executions = new Map<string, Execution[]>();
  private readonly artifacts = new Map<string, Artifact[]>();
  private readonly artifactById = new Map<string, Artifact>();

  constructor(private readonly reader: SqlReader, readonly detection: Detection) {
    try {
      this.sessions = reader.all('SELECT * FROM sessions');
    } catch (err) {
      throw new StepDbError('UNSUPPORTED_SCHEMA', 'The sessions table cannot be read.', String(err));
    }
    this.sessions.sort((a, b) => timeOf(parseTime(b.created_at)) - timeOf(parseTime(a.created_at)) || String(b.session_id).localeCompare(String(a.session_id)));
    for (const r of has(reader, 'agent_executions') ? reader.all('SELECT * FROM agent_executions') : []) {
      const warnings: string[] = [];
      const metadata = jsonOf(r.metadata, 'metadata', warnings);
      const status = text(r.status);
      const tokens = numberOf(r.tokens_used, 'tokens_used', warnings);
      const ex: Execution = {
        id: String(r.id), sessionId: text(r.session_id) ?? '', agent: text(r.agent_type), status, started: parseTime(r.started_at), completed: parseTime(r.completed_at),
        durationSeconds: numberOf(r.duration_seconds, 'duration_seconds', warnings),
        // The column defaults to 0: a running execution's 0 is no count yet.
        tokens: tokens === 0 && status === 'running' ? null : tokens,
        metadata: isRecord(metadata) ? metadata : null, row: r, warnings,
      };
      const list = this.executions.get(ex.sessionId) ?? [];
      list.push(ex);
      this.executions.set(ex.sessionId, list);
    }
    for (const list of this.executions.values()) list.sort((a, b) => timeOf(a.started) - timeOf(b.started) || Number(a.id) - Number(b.id));
    for (const r of has(reader, 'artifacts') ? reader.all('SELECT * FROM artifacts ORDER BY id') : []) {
      const meta = jsonOf(r.metadata, 'metadata', []);
      const a: Artifact = {
        id: String(r.id), sessionId: text(r.session_id) ?? '', type: text(r.artifact_type), filePath: text(r.file_path) ?? '', hash: text(r.content_hash),
        version: numberOf(r.version, 'version', []), created: parseTime(r.created_at),
        agent: isRecord(meta) && typeof meta.agent === 'string' ? meta.agent : null, executionId: null, previous: null,
      };
      const list = this.artifacts.get(a.sessionId) ?? [];
      list.push(a);
      this.artifacts.set(a.sessionId, list);
      this.artifactById.set(a.id, a);
    }
    for (const [sessionId, list] of this.artifacts) {
      list.sort((a, b) => (a.version ?? 0) - (b.version ?? 0) || timeOf(a.created) - timeOf(b.created) || Number(a.id) - Number(b.id));
      const last = new Map<string, Artifact>();
      for (const a of list) {
        const key = `${a.type}\u0000${a.filePath}`;
        a.previous = last.get(key) ?? null;
        last.set(key, a);
        a.executionId = this.madeBy(a, this.executions.get(sessionId) ?? [])?.id ?? null;
      }
    }
  }

  /** The execution of the artifact's agent whose run spans the artifact's time (one second of slack at its end). */
  private madeBy(a: Artifact, executions: Execution[]): Execution | null {
    const agent = a.agent ?? (a.type ? AGENT_OF_ARTIFACT[a.type] : undefined);
    const t = a.created.date?.getTime();
    if (!agent || t === undefined) return null;
    return executions.find((e) => e.agent === agent && e.started.date && e.completed.date && e.started.date.getTime() <= t && t <= e.completed.date.getTime() + 1000) ?? null;
  }

  private sessionNode(r: SqlRow): HistoryNode {
    const warnings: string[] = [];
    const id = text(r.session_id) ?? '';
    const status = text(r.status);
    const created = parseTime(r.created_at);
    const updated = parseTime(r.updated_at);
    numberOf(r.iteration_count, 'iteration_count', warnings);
    boolOf(r.qa_passed, 'qa_passed', warnings);
    const n = this.executions.get(id)?.length ?? 0;
    const done = status === 'completed' || status === 'failed' || status === 'expired';
    return node({
      ref: makeRef('session', id), level: 'session', label: firstLine(text(r.user_mission) ?? text(r.project_name) ?? id),
      description: [text(r.project_name), text(r.current_phase)].filter(Boolean).join(' · '), status: statusOf(status), rawStatus: status,
      metrics: metrics(created.date, done ? updated.date : null), hasChildren: n > 0, warnings,
    });
  }

  private executionNode(e: Execution): HistoryNode {
    const m = metrics(e.started.date, e.completed.date, e.durationSeconds === null ? null : Math.round(e.durationSeconds * 1000));
    if (e.tokens !== null) {
      const num = (k: string): number | null => (e.metadata && typeof e.metadata[k] === 'number' ? (e.metadata[k] as number) : null);
      m.tokens = { prompt: num('tokens_input'), completion: num('tokens_output'), total: e.tokens };
    }
    if (e.metadata && typeof e.metadata.model === 'string') m.model = e.metadata.model;
    const summary = text(e.row.output_summary) ?? text(e.row.error_message) ?? text(e.row.input_summary);
    return node({
      ref: makeRef('execution', e.id), level: 'execution', label: e.agent ?? 'agent', description: summary ? firstLine(summary) : undefined,
      status: statusOf(e.status), rawStatus: e.status, metrics: m, isStep: true, warnings: e.warnings,
    });
  }

  private findSession(id: string): SqlRow | undefined {
    return this.sessions.find((r) => text(r.session_id) === id);
  }

  private findExecution(id: string): Execution | undefined {
    for (const list of this.executions.values()) {
      const e = list.find((x) => x.id === id);
      if (e) return e;
    }
    return undefined;
  }

  children(parent: NodeRef | null, p?: Page): HistoryNode[] {
    if (parent === null) return page(this.sessions, p).map((r) => this.sessionNode(r));
    const ref = parseRef(parent);
    if (ref?.level !== 'session') return [];
    return page(this.executions.get(ref.parts[0]) ?? [], p).map((e) => this.executionNode(e));
  }

  count(parent: NodeRef | null): number {
    if (parent === null) return this.sessions.length;
    const ref = parseRef(parent);
    return ref?.level === 'session' ? this.executions.get(ref.parts[0])?.length ?? 0 : 0;
  }

  node(ref: NodeRef): HistoryNode | undefined {
    const p = parseRef(ref);
    if (p?.level === 'session') {
      const r = this.findSession(p.parts[0]);
      return r ? this.sessionNode(r) : undefined;
    }
    if (p?.level === 'execution') {
      const e = this.findExecution(p.parts[0]);
      return e ? this.executionNode(e) : undefined;
    }
    return undefined;
  }

  details(ref: NodeRef): DetailSection[] {
    const p = parseRef(ref);
    if (p?.level === 'session') {
      const r = this.findSession(p.parts[0]);
      return r ? this.sessionDetails(r) : [];
    }
    if (p?.level === 'execution') {
      const e = this.findExecution(p.parts[0]);
      return e ? this.executionDetails(e) : [];
    }
    return [];
  }

  private sessionDetails(r: SqlRow): DetailSection[] {
    const warnings: string[] = [];
    const id = text(r.session_id) ?? '';
    const created = parseTime(r.created_at);
    const updated = parseTime(r.updated_at);
    const iterations = numberOf(r.iteration_count, 'iteration_count', warnings);
    const qa = boolOf(r.qa_passed, 'qa_passed', warnings);
    const out: DetailSection[] = [{
      kind: 'facts', title: 'Session', facts: [
        { label: 'Session id', value: id },
        { label: 'Mission', value: text(r.user_mission) ?? '—' },
        { label: 'Project', value: text(r.project_name) ?? '—' },
        { label: 'Status', value: text(r.status) ?? '—' },
        { label: 'Phase', value: text(r.current_phase) ?? '—' },
        { label: 'Iterations', value: iterations === null ? '—' : String(iterations) },
        { label: 'QA passed', value: qa === null ? '—' : qa ? 'yes' : 'no' },
        { label: 'Work folder', value: text(r.work_dir) ?? '—' },
        { label: 'Created', value: timeFact(created) },
        { label: 'Updated', value: timeFact(updated) },
      ],
    }];
    for (const [column, title] of [['state_json', 'State (state_json)'], ['metadata', 'Metadata']] as const) {
      const raw = text(r[column]);
      if (raw === null) continue;
      const pretty = prettyJson(raw);
      if (pretty === null) warnings.push(`${column} is not valid JSON; it is shown as stored.`);
      out.push({ kind: 'text', title, text: pretty ?? capText(raw), format: pretty === null ? 'plain' : 'json' });
    }
    const artifacts = this.artifacts.get(id) ?? [];
    if (artifacts.length) {
      out.push({
        kind: 'timeline', title: 'Artifacts', events: artifacts.map((a) => ({
          time: a.created.date, label: `${a.filePath} v${a.version ?? '?'}`,
          detail: [a.type, a.hash ? `sha256 ${a.hash}` : null, a.executionId ? `by execution ${a.executionId}` : null].filter(Boolean).join(' · '),
        })),
      });
    }
    if (has(this.reader, 'checkpoints')) {
      const cps = this.reader.all('SELECT * FROM checkpoints WHERE thread_id = ? ORDER BY id', [id]);
      if (cps.length) {
        const byParent = new Map<string, number>();
        cps.forEach((c) => { const pid = text(c.parent_checkpoint_id); if (pid) byParent.set(pid, (byParent.get(pid) ?? 0) + 1); });
        out.push({
          kind: 'timeline', title: 'Checkpoints', events: cps.map((c) => {
            const meta = jsonOf(c.metadata, 'checkpoint metadata', warnings);
            const m = isRecord(meta) ? meta : {};
            const data = text(c.checkpoint_data);
            const pretty = data === null ? null : prettyJson(data);
            const label = [typeof m.node === 'string' ? m.node : null, typeof m.source === 'string' ? m.source : null, typeof m.step === 'number' ? `step ${m.step}` : null].filter(Boolean).join(' · ') || (text(c.checkpoint_id) ?? '');
            return { time: parseTime(c.created_at).date, label, detail: `${text(c.checkpoint_id)} ← ${text(c.parent_checkpoint_id) ?? 'root'}\n${pretty ?? data ?? ''}` };
          }),
        });
      }
    }
    if (has(this.reader, 'audit_log')) {
      const events = this.reader.all('SELECT * FROM audit_log WHERE session_id = ? ORDER BY created_at, id', [id]);
      if (events.length) {
        out.push({
          kind: 'timeline', title: 'Audit log', events: events.map((e) => ({
            time: parseTime(e.created_at).date, label: [text(e.event_type), text(e.user_action)].filter(Boolean).join(': '),
            detail: [text(e.details), text(e.ip_address) ? `from ${text(e.ip_address)}` : null].filter(Boolean).join(' · ') || undefined,
          })),
        });
      }
    }
    if (created.local || updated.local) out.push({ kind: 'text', title: 'Times', text: LOCAL_TIME_NOTE, format: 'plain' });
    if (warnings.length) out.push({ kind: 'warnings', title: 'Warnings', warnings });
    return out;
  }

  private executionDetails(e: Execution): DetailSection[] {
    const n = this.executionNode(e);
    const out: DetailSection[] = [{
      kind: 'facts', title: 'Agent execution', facts: [
        { label: 'Agent', value: e.agent ?? '—' },
        { label: 'Status', value: e.status ?? '—' },
        { label: 'Started', value: timeFact(e.started) },
        { label: 'Completed', value: timeFact(e.completed) },
        { label: 'Duration', value: e.durationSeconds === null ? '—' : `${e.durationSeconds} s` },
        { label: 'Tokens', value: e.tokens === null ? '—' : String(e.tokens) },
        { label: 'Model', value: n.metrics.model ?? '—' },
      ],
    }];
    for (const [column, title] of [['input_summary', 'Input'], ['output_summary', 'Output'], ['error_message', 'Error']] as const) {
      const t = text(e.row[column]);
      if (t !== null) out.push({ kind: 'text', title, text: capText(t), format: 'plain' });
    }
    const meta = text(e.row.metadata);
    if (meta !== null) out.push({ kind: 'text', title: 'Metadata', text: prettyJson(meta) ?? capText(meta), format: prettyJson(meta) === null ? 'plain' : 'json' });
    const made = (this.artifacts.get(e.sessionId) ?? []).filter((a) => a.executionId === e.id);
    if (made.length) out.push({ kind: 'facts', title: 'Artifacts made', facts: made.map((a) => ({ label: a.filePath, value: `v${a.version ?? '?'} (${a.type ?? 'artifact'})` })) });
    if (e.started.local || e.completed.local) out.push({ kind: 'text', title: 'Times', text: LOCAL_TIME_NOTE, format: 'plain' });
    if (e.warnings.length) out.push({ kind: 'warnings', title: 'Warnings', warnings: e.warnings });
    return out;
  }

  /** The artifact versions the execution made; each compares the version before (its record) with this one. */
  changes(ref: NodeRef): ChangeItem[] {
    const p = parseRef(ref);
    if (p?.level !== 'execution') return [];
    const e = this.findExecution(p.parts[0]);
    if (!e) return [];
    return (this.artifacts.get(e.sessionId) ?? []).filter((a) => a.executionId === e.id).map((a) => ({
      id: `artifact:${a.id}`, label: `${a.filePath} v${a.version ?? '?'}`, path: a.filePath,
      status: a.previous ? 'modified' : 'added', before: a.previous ? makeRef('artifact', a.previous.id) : null, after: makeRef('artifact', a.id),
    }));
  }

  /** An artifact version as the database records it (no content is stored: type, path, version, hash, time). */
  text(ref: TextRef): string | null {
    const p = parseRef(ref);
    if (p?.level !== 'artifact') return null;
    const a = this.artifactById.get(p.parts[0]);
    if (!a) return null;
    return [`file: ${a.filePath}`, `type: ${a.type ?? '—'}`, `version: ${a.version ?? '—'}`, `content_hash: ${a.hash ?? '—'}`, `created_at: ${a.created.raw ?? '—'}`].join('\n') + '\n';
  }
}
