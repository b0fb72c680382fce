/**
 * Autonomous Software Studio's documented schema (scripts/init-db.sql) in a SQLite development
 * copy: sessions, their agent executions (the steps), artifacts with versions, checkpoints and
 * the audit log. JSONB columns are TEXT holding JSON, timestamps text, booleans 0/1.
 *
 * An execution's changes are the artifact versions it made. The table stores no content, only
 * each version's record and content_hash: an older version is shown as its record ("content not
 * stored"), the newest as its file under the session's work_dir when that can be read, with
 * whether the file still matches the version's hash (workFiles.ts).
 */
import * as l10n from '@vscode/l10n';
import type { ChangeItem, DetailSection, Detection, HistoryNode, HistorySource, LevelInfo, NodeRef, Page, SourceContext, SqlReader, SqlRow, TextRef } from '../types';
import { level } from '../figures';
import { firstLine, makeRef, metrics, node, page, parseRef, statusOf } from './common';
import { boolOf, capText, isRecord, jsonOf, localTimeNote, numberOf, parseTime, parsedTimeFact, prettyJson, text, type ParsedTime } from './values';
import { readWorkFile, type WorkFile } from './workFiles';
import { failures } from '../../messages';

const LEVELS: readonly LevelInfo[] = [
  level('session', () => l10n.t('session'), () => l10n.t('sessions')),
  level('execution', () => l10n.t('agent execution'), () => l10n.t('agent executions')),
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
  /** The next version of the same file; null for the newest, the only one that can be on disk. */
  next: Artifact | null;
}

/** What can be shown of an artifact version: an older one's record only, the newest's file when it can be read. */
type VersionContent = { kind: 'older'; newest: Artifact } | WorkFile;

const has = (reader: SqlReader, table: string): boolean => !!reader.get(`SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?`, [table]);
const timeOf = (t: ParsedTime): number => t.date?.getTime() ?? -Infinity;

export class StudioDocumentedSource implements HistorySource {
  readonly levels = LEVELS;
  private readonly sessions: SqlRow[];
  private readonly executions = new Map<string, Execution[]>();
  private readonly artifacts = new Map<string, Artifact[]>();
  private readonly artifactById = new Map<string, Artifact>();

  constructor(private readonly reader: SqlReader, readonly detection: Detection, private readonly context: SourceContext) {
    try {
      this.sessions = reader.all('SELECT * FROM sessions');
    } catch (err) {
      throw failures.sessionsUnreadable({ path: null }, String(err));
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
        agent: isRecord(meta) && typeof meta.agent === 'string' ? meta.agent : null, executionId: null, previous: null, next: null,
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
        if (a.previous) a.previous.next = a;
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
      ref: makeRef('execution', e.id), level: 'execution', label: e.agent ?? l10n.t('agent'), description: summary ? firstLine(summary) : undefined,
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
      kind: 'facts', title: l10n.t('Session'), facts: [
        { label: l10n.t('Session id'), value: id },
        { label: l10n.t('Mission'), value: text(r.user_mission) ?? '—' },
        { label: l10n.t('Project'), value: text(r.project_name) ?? '—' },
        { label: l10n.t('Status'), value: text(r.status) ?? '—' },
        { label: l10n.t('Phase'), value: text(r.current_phase) ?? '—' },
        { label: l10n.t('Iterations'), value: iterations === null ? '—' : String(iterations) },
        { label: l10n.t('QA passed'), value: qa === null ? '—' : qa ? l10n.t('yes') : l10n.t('no') },
        { label: l10n.t('Work folder'), value: text(r.work_dir) ?? '—' },
        parsedTimeFact(l10n.t('Created'), created),
        parsedTimeFact(l10n.t('Updated'), updated),
      ],
    }];
    for (const [column, title] of [['state_json', 'State (state_json)'], ['metadata', 'Metadata']] as const) {
      const raw = text(r[column]);
      if (raw === null) continue;
      const pretty = prettyJson(raw);
      if (pretty === null) warnings.push(l10n.t('{0} is not valid JSON; it is shown as stored.', column));
      out.push({ kind: 'text', title, text: pretty ?? capText(raw), format: pretty === null ? 'plain' : 'json' });
    }
    const artifacts = this.artifacts.get(id) ?? [];
    if (artifacts.length) {
      out.push({
        kind: 'timeline', title: l10n.t('Artifacts'), events: artifacts.map((a) => ({
          time: a.created.date, label: `${a.filePath} v${a.version ?? '?'}`,
          detail: [a.type, a.hash ? l10n.t('sha256 {0}', a.hash) : null, a.executionId ? l10n.t('by execution {0}', a.executionId) : null].filter(Boolean).join(' · '),
        })),
      });
    }
    if (has(this.reader, 'checkpoints')) {
      const cps = this.reader.all('SELECT * FROM checkpoints WHERE thread_id = ? ORDER BY id', [id]);
      if (cps.length) {
        const byParent = new Map<string, number>();
        cps.forEach((c) => { const pid = text(c.parent_checkpoint_id); if (pid) byParent.set(pid, (byParent.get(pid) ?? 0) + 1); });
        out.push({
          kind: 'timeline', title: l10n.t('Checkpoints'), events: cps.map((c) => {
            const meta = jsonOf(c.metadata, 'checkpoint metadata', warnings);
            const m = isRecord(meta) ? meta : {};
            const data = text(c.checkpoint_data);
            const pretty = data === null ? null : prettyJson(data);
            const label = [typeof m.node === 'string' ? m.node : null, typeof m.source === 'string' ? m.source : null, typeof m.step === 'number' ? l10n.t('step {0}', m.step) : null].filter(Boolean).join(' · ') || (text(c.checkpoint_id) ?? '');
            return { time: parseTime(c.created_at).date, label, detail: `${text(c.checkpoint_id)} ← ${text(c.parent_checkpoint_id) ?? l10n.t('root')}\n${pretty ?? data ?? ''}` };
          }),
        });
      }
    }
    if (has(this.reader, 'audit_log')) {
      const events = this.reader.all('SELECT * FROM audit_log WHERE session_id = ? ORDER BY created_at, id', [id]);
      if (events.length) {
        out.push({
          kind: 'timeline', title: l10n.t('Audit log'), events: events.map((e) => ({
            time: parseTime(e.created_at).date, label: [text(e.event_type), text(e.user_action)].filter(Boolean).join(': '),
            detail: [text(e.details), text(e.ip_address) ? l10n.t('from {0}', String(text(e.ip_address))) : null].filter(Boolean).join(' · ') || undefined,
          })),
        });
      }
    }
    if (created.local || updated.local) out.push({ kind: 'text', title: l10n.t('Times'), text: localTimeNote(), format: 'plain' });
    if (warnings.length) out.push({ kind: 'warnings', title: l10n.t('Warnings'), warnings });
    return out;
  }

  private executionDetails(e: Execution): DetailSection[] {
    const n = this.executionNode(e);
    const out: DetailSection[] = [{
      kind: 'facts', title: l10n.t('Agent execution'), facts: [
        { label: l10n.t('Agent'), value: e.agent ?? '—' },
        { label: l10n.t('Status'), value: e.status ?? '—' },
        parsedTimeFact(l10n.t('Started'), e.started),
        parsedTimeFact(l10n.t('Completed'), e.completed),
        { label: l10n.t('Duration'), value: e.durationSeconds === null ? '—' : `${e.durationSeconds} s` },
        { label: l10n.t('Tokens'), value: e.tokens === null ? '—' : String(e.tokens) },
        { label: l10n.t('Model'), value: n.metrics.model ?? '—' },
      ],
    }];
    for (const [column, title] of [['input_summary', 'Input'], ['output_summary', 'Output'], ['error_message', 'Error']] as const) {
      const t = text(e.row[column]);
      if (t !== null) out.push({ kind: 'text', title, text: capText(t), format: 'plain' });
    }
    const meta = text(e.row.metadata);
    if (meta !== null) out.push({ kind: 'text', title: l10n.t('Metadata'), text: prettyJson(meta) ?? capText(meta), format: prettyJson(meta) === null ? 'plain' : 'json' });
    const made = (this.artifacts.get(e.sessionId) ?? []).filter((a) => a.executionId === e.id);
    const warnings = [...e.warnings];
    if (made.length) {
      out.push({
        kind: 'facts', title: l10n.t('Artifacts made'), facts: made.map((a) => {
          const content = this.contentOf(a);
          const warning = contentWarning(a, content, this.workDirOf(a));
          if (warning) warnings.push(warning);
          const note = content.kind === 'onDisk' ? contentNote(content) : l10n.t('content not stored ({0})', contentNote(content));
          return { label: a.filePath, value: `v${a.version ?? '?'} (${a.type ?? l10n.t('artifact')}) · ${note}` };
        }),
      });
    }
    if (e.started.local || e.completed.local) out.push({ kind: 'text', title: l10n.t('Times'), text: localTimeNote(), format: 'plain' });
    if (warnings.length) out.push({ kind: 'warnings', title: l10n.t('Warnings'), warnings });
    return out;
  }

  private workDirOf(a: Artifact): string | null {
    const session = this.findSession(a.sessionId);
    return session ? text(session.work_dir) : null;
  }

  /** The newest version's file under work_dir, read now: it can be edited or removed at any time. */
  private contentOf(a: Artifact): VersionContent {
    if (a.next) {
      let newest = a.next;
      while (newest.next) newest = newest.next;
      return { kind: 'older', newest };
    }
    return readWorkFile(this.context, this.workDirOf(a), a.filePath, a.hash);
  }

  /**
   * The artifact versions the execution made; each compares the version before (its record) with
   * this one: the newest version's file as it is on disk when it can be read, else its record.
   */
  changes(ref: NodeRef): ChangeItem[] {
    const p = parseRef(ref);
    if (p?.level !== 'execution') return [];
    const e = this.findExecution(p.parts[0]);
    if (!e) return [];
    return (this.artifacts.get(e.sessionId) ?? []).filter((a) => a.executionId === e.id).map((a) => {
      const content = this.contentOf(a);
      const version = `v${a.version ?? '?'}`;
      const label =
        content.kind !== 'onDisk'
          ? `${a.filePath} ${version}`
          : content.hash === 'matches'
            ? l10n.t('{0} {1} (on disk, matches {1})', a.filePath, version)
            : content.hash === 'differs'
              ? l10n.t('{0} {1} (on disk, edited since {1})', a.filePath, version)
              : l10n.t('{0} {1} (on disk, not checked against {1})', a.filePath, version);
      return {
        id: `artifact:${a.id}`, label, path: a.filePath,
        status: a.previous ? 'modified' : 'added', before: a.previous ? makeRef('artifact', a.previous.id) : null,
        after: makeRef(content.kind === 'onDisk' ? 'artifact-file' : 'artifact', a.id),
      };
    });
  }

  /**
   * `artifact:<id>`: a version as the database records it (type, path, version, hash, time) and
   * why its content is not shown; `artifact-file:<id>`: the newest version's file as it is on disk
   * now, or its record when the file can no longer be read.
   */
  text(ref: TextRef): string | null {
    const p = parseRef(ref);
    if (p?.level !== 'artifact' && p?.level !== 'artifact-file') return null;
    const a = this.artifactById.get(p.parts[0]);
    if (!a) return null;
    const content = this.contentOf(a);
    if (p.level === 'artifact-file' && content.kind === 'onDisk') return content.text;
    return [
      l10n.t('file: {0}', a.filePath), l10n.t('type: {0}', a.type ?? '—'), l10n.t('version: {0}', a.version ?? '—'), l10n.t('content_hash: {0}', a.hash ?? '—'), l10n.t('created_at: {0}', a.created.raw ?? '—'),
      l10n.t('content: not stored in the database, only content_hash ({0})', contentNote(content)),
    ].join('\n') + '\n';
  }
}

/** Where an artifact version's content is, as a short phrase. */
function contentNote(c: VersionContent): string {
  switch (c.kind) {
    case 'older': return l10n.t('only the newest version, v{0}, can be on disk', c.newest.version ?? '?');
    case 'noWorkDir': return l10n.t('the session has no work_dir');
    case 'outside': return l10n.t('file_path lies outside the session\'s work_dir: not read');
    case 'notRead': return l10n.t('not on disk: no readable text file at file_path under work_dir');
    case 'onDisk':
      return c.hash === 'matches' ? l10n.t('on disk, matches content_hash')
        : c.hash === 'differs' ? l10n.t('on disk, edited since (its SHA-256 differs from content_hash)')
        : c.hash === 'none' ? l10n.t('on disk, no content_hash to check it against')
        : l10n.t('on disk, content_hash is not a SHA-256 digest and cannot be checked');
  }
}

/** A sentence for the execution's warnings when what is shown is not, or may not be, the version recorded. */
function contentWarning(a: Artifact, c: VersionContent, workDir: string | null): string | null {
  const v = `v${a.version ?? '?'}`;
  if (c.kind === 'outside') return l10n.t('{0} ({1}) lies outside the session\'s work_dir ({2}): it was not read.', a.filePath, v, workDir ?? '—');
  if (c.kind !== 'onDisk' || c.hash === 'matches') return null;
  if (c.hash === 'differs') return l10n.t('{0} has changed on disk since {1} was recorded (its SHA-256 differs from content_hash): what is shown is the file as it is now, not {2}.', a.filePath, v, v);
  if (c.hash === 'none') return l10n.t('{0} ({1}) has no content_hash: whether the file on disk is still {2} cannot be told.', a.filePath, v, v);
  return l10n.t('{0} ({1}): content_hash "{2}" is not a SHA-256 hex digest, so whether the file on disk is still {3} cannot be told.', a.filePath, v, String(a.hash), v);
}
