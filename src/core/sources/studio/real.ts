/**
 * What Autonomous Software Studio really writes: `data/orchestrator.db` (one `sessions` row per
 * session, the whole latest state in state_json) and, beside it, LangGraph's `checkpoints.db`,
 * whose threads are the sessions and whose checkpoints are the steps. A bare checkpoints.db is
 * read on its own: its threads are the containers.
 */
import * as l10n from '@vscode/l10n';
import * as path from 'path';
import { StepDbError } from '../../errors';
import { level } from '../figures';
import type { ChangeItem, DetailSection, Detection, HistoryNode, HistorySource, LevelInfo, NodeRef, Page, SourceContext, SqlReader, SqlRow, TextRef } from '../types';
import { CheckpointStore, formatState, formatWrites, nextNodes, type ThreadStep } from './checkpoints';
import { firstLine, makeRef, metrics, node, page, parseRef, statusOf } from './common';
import { boolOf, capText, formatShown, localTimeNote, numberOf, parseTime, parsedTimeFact, prettyJson, text, type ParsedTime } from './values';
import { failures } from '../../messages';

interface SessionRow {
  id: string;
  mission: string | null;
  project: string | null;
  status: string | null;
  phase: string | null;
  created: ParsedTime;
  updated: ParsedTime;
  iterations: number | null;
  qaPassed: boolean | null;
  workDir: string | null;
  stateJson: string | null;
  warnings: string[];
}

function readSession(r: SqlRow): SessionRow {
  const warnings: string[] = [];
  const created = parseTime(r.created_at);
  const updated = parseTime(r.updated_at);
  if (created.raw !== null && !created.date) warnings.push(l10n.t('created_at holds {0}, not a time.', JSON.stringify(created.raw)));
  if (updated.raw !== null && !updated.date) warnings.push(l10n.t('updated_at holds {0}, not a time.', JSON.stringify(updated.raw)));
  const stateJson = text(r.state_json);
  if (stateJson !== null && prettyJson(stateJson) === null) warnings.push(l10n.t('state_json is not valid JSON; it is shown as stored.'));
  return {
    id: text(r.session_id) ?? '', mission: text(r.user_mission), project: text(r.project_name), status: text(r.status), phase: text(r.current_phase),
    created, updated, iterations: numberOf(r.iteration_count, 'iteration_count', warnings), qaPassed: boolOf(r.qa_passed, 'qa_passed', warnings),
    workDir: text(r.work_dir), stateJson, warnings,
  };
}

const REAL_LEVELS: readonly LevelInfo[] = [
  level('session', () => l10n.t('session'), () => l10n.t('sessions')),
  level('checkpoint', () => l10n.t('checkpoint'), () => l10n.t('checkpoints')),
];
const BARE_LEVELS: readonly LevelInfo[] = [
  level('thread', () => l10n.t('thread'), () => l10n.t('threads')),
  level('checkpoint', () => l10n.t('checkpoint'), () => l10n.t('checkpoints')),
];

/** Whether `p` names a file under `projects/<threadId>/`, and that file's path from there. */
function artifactPath(p: string, threadId: string): string | null {
  const norm = path.posix.normalize(p.replace(/\\/g, '/'));
  const prefix = `projects/${threadId}/`;
  const at = norm.indexOf(prefix);
  if (at < 0 || (at > 0 && norm[at - 1] !== '/')) return null;
  const rel = norm.slice(at + prefix.length);
  if (!rel || rel.split('/').some((s) => s === '..' || s === '')) return null;
  return rel;
}

/** File paths a state mentions (top-level strings and lists of strings) that lie under the session's folder. */
function artifactsIn(values: Record<string, unknown>, threadId: string): Map<string, string> {
  const out = new Map<string, string>();
  const add = (v: unknown): void => {
    if (typeof v !== 'string') return;
    const rel = artifactPath(v, threadId);
    if (rel && !out.has(rel)) out.set(rel, v);
  };
  for (const [k, v] of Object.entries(values)) {
    if (k.startsWith('branch:')) continue;
    if (Array.isArray(v)) v.forEach(add);
    else add(v);
  }
  return out;
}

export class StudioRealSource implements HistorySource {
  readonly levels: readonly LevelInfo[];
  private readonly sessions: SessionRow[] = [];
  private readonly store: CheckpointStore | null = null;
  private readonly siblingWarnings: string[] = [];
  private readonly ownReader: (SqlReader & { close?(): void }) | null = null;
  private readonly containers: { id: string; session: SessionRow | null }[] = [];
  private readonly topLevel: string;

  constructor(reader: SqlReader, readonly detection: Detection, private readonly context: SourceContext) {
    const bare = detection.variant !== 'orchestrator';
    this.topLevel = bare ? 'thread' : 'session';
    this.levels = bare ? BARE_LEVELS : REAL_LEVELS;
    if (bare) {
      this.store = new CheckpointStore(reader, detection.variant === 'checkpoints-fallback' ? 'fallback' : 'langgraph');
    } else {
      let rows: SqlRow[];
      try {
        rows = reader.all('SELECT * FROM sessions');
      } catch (err) {
        throw failures.sessionsUnreadable({ path: context.path }, String(err));
      }
      this.sessions = rows.map(readSession);
      let sibling: SqlReader | null = null;
      try {
        sibling = context.openSibling?.('checkpoints.db') ?? null;
      } catch (err) {
        // Too large to read is the whole database's refusal, with its remedy, not a gap in it.
        if (err instanceof StepDbError && err.code === 'TOO_LARGE') throw err;
        this.siblingWarnings.push(l10n.t('checkpoints.db beside {0} could not be opened: {1}', path.basename(context.path), err instanceof Error ? err.message : String(err)));
      }
      if (sibling) {
        this.ownReader = sibling;
        try {
          this.store = new CheckpointStore(sibling);
        } catch {
          this.siblingWarnings.push(l10n.t('checkpoints.db beside it holds no LangGraph checkpoints table.'));
        }
      }
    }
    const threads = this.store?.threads() ?? [];
    const newestFirst = (a: { t: number | null; k: string }, b: { t: number | null; k: string }): number =>
      (b.t ?? -Infinity) - (a.t ?? -Infinity) || (a.k < b.k ? 1 : a.k > b.k ? -1 : 0);
    const items: { id: string; session: SessionRow | null; t: number | null; k: string }[] = this.sessions.map((s) => ({ id: s.id, session: s, t: s.created.date?.getTime() ?? null, k: s.created.raw ?? '' }));
    const known = new Set(this.sessions.map((s) => s.id));
    for (const th of threads) {
      if (known.has(th.threadId)) continue;
      const first = this.store?.steps(th.threadId)[0]?.checkpoint.time.date ?? null;
      items.push({ id: th.threadId, session: null, t: first?.getTime() ?? null, k: th.lastId });
    }
    items.sort(newestFirst);
    this.containers = items.map(({ id, session }) => ({ id, session }));
  }

  private steps(threadId: string): ThreadStep[] {
    return this.store?.hasThread(threadId) ? this.store.steps(threadId) : [];
  }

  private containerNode(c: { id: string; session: SessionRow | null }): HistoryNode {
    const s = c.session;
    const ref = makeRef(this.topLevel, c.id);
    if (!s) {
      const steps = this.steps(c.id);
      const count = steps.length;
      const start = steps[0]?.checkpoint.time.date ?? null;
      const end = steps[steps.length - 1]?.checkpoint.time.date ?? null;
      return node({ ref, level: this.topLevel, label: l10n.t('thread {0}', c.id), description: count === 1 ? l10n.t('{0} checkpoint', count) : l10n.t('{0} checkpoints', count), status: 'unknown', rawStatus: null, metrics: metrics(start, end), hasChildren: count > 0 });
    }
    const done = s.status === 'completed' || s.status === 'failed';
    return node({
      ref, level: this.topLevel, label: firstLine(s.mission ?? s.project ?? s.id), description: [s.project, s.phase].filter(Boolean).join(' · '),
      // Whether its thread has a checkpoint is one query; its steps are decoded only when opened.
      status: statusOf(s.status), rawStatus: s.status, metrics: metrics(s.created.date, done ? s.updated.date : null), hasChildren: this.store?.hasThread(c.id) ?? false, warnings: s.warnings,
    });
  }

  private stepNode(threadId: string, st: ThreadStep): HistoryNode {
    const cp = st.checkpoint;
    if (st.kind === 'task') {
      return node({
        ref: makeRef('task', threadId, cp.id, st.taskId ?? ''), level: 'checkpoint', label: st.node, description: firstLine(st.error ?? l10n.t('failed')),
        status: 'failed', rawStatus: '__error__', metrics: metrics(null, null), isStep: true,
      });
    }
    const prev = st.previous?.time.date ?? null;
    const phase = cp.channelValues.current_phase;
    return node({
      ref: makeRef('checkpoint', threadId, cp.id), level: 'checkpoint', label: st.node,
      description: [cp.source, cp.step !== null ? l10n.t('step {0}', cp.step) : null, typeof phase === 'string' ? l10n.t('phase {0}', phase) : null].filter(Boolean).join(' · '),
      status: 'completed', rawStatus: cp.source, metrics: metrics(prev, cp.time.date), isStep: true, warnings: cp.warnings,
    });
  }

  private find(ref: NodeRef): { threadId: string; container?: { id: string; session: SessionRow | null }; step?: ThreadStep } | null {
    const p = parseRef(ref);
    if (!p) return null;
    if (p.level === this.topLevel && p.parts.length === 1) {
      const c = this.containers.find((x) => x.id === p.parts[0]);
      return c ? { threadId: c.id, container: c } : null;
    }
    if ((p.level === 'checkpoint' && p.parts.length === 2) || (p.level === 'task' && p.parts.length === 3)) {
      const [threadId, cpId, taskId] = p.parts;
      const key = p.level === 'task' ? `${cpId}/${taskId}` : cpId;
      const step = this.steps(threadId).find((s) => s.key === key && (p.level === 'task') === (s.kind === 'task'));
      return step ? { threadId, step } : null;
    }
    return null;
  }

  children(parent: NodeRef | null, p?: Page): HistoryNode[] {
    if (parent === null) return page(this.containers, p).map((c) => this.containerNode(c));
    const f = this.find(parent);
    if (!f?.container) return [];
    return page(this.steps(f.threadId), p).map((s) => this.stepNode(f.threadId, s));
  }

  count(parent: NodeRef | null): number {
    if (parent === null) return this.containers.length;
    const f = this.find(parent);
    return f?.container ? this.steps(f.threadId).length : 0;
  }

  node(ref: NodeRef): HistoryNode | undefined {
    const f = this.find(ref);
    if (!f) return undefined;
    if (f.container) return this.containerNode(f.container);
    return f.step ? this.stepNode(f.threadId, f.step) : undefined;
  }

  details(ref: NodeRef): DetailSection[] {
    const f = this.find(ref);
    if (!f) return [];
    if (f.container) return this.containerDetails(f.container);
    return f.step ? this.stepDetails(f.threadId, f.step) : [];
  }

  private containerDetails(c: { id: string; session: SessionRow | null }): DetailSection[] {
    const out: DetailSection[] = [];
    const s = c.session;
    const steps = this.steps(c.id);
    if (s) {
      out.push({
        kind: 'facts', title: l10n.t('Session'), facts: [
          { label: l10n.t('Session id'), value: s.id },
          { label: l10n.t('Mission'), value: s.mission ?? '—' },
          { label: l10n.t('Project'), value: s.project ?? '—' },
          { label: l10n.t('Status'), value: s.status ?? '—' },
          { label: l10n.t('Phase'), value: s.phase ?? '—' },
          { label: l10n.t('Iterations'), value: s.iterations === null ? '—' : String(s.iterations) },
          { label: l10n.t('QA passed'), value: s.qaPassed === null ? '—' : s.qaPassed ? l10n.t('yes') : l10n.t('no') },
          { label: l10n.t('Work folder'), value: s.workDir ?? '—' },
          parsedTimeFact(l10n.t('Created'), s.created),
          parsedTimeFact(l10n.t('Last saved'), s.updated),
          { label: l10n.t('Checkpoints'), value: this.store ? String(steps.filter((x) => x.kind === 'checkpoint').length) : l10n.t('no checkpoints.db beside orchestrator.db') },
        ],
      });
      if (s.stateJson !== null) {
        const pretty = prettyJson(s.stateJson);
        out.push({ kind: 'text', title: l10n.t('Latest state (state_json)'), text: pretty ?? capText(s.stateJson), format: pretty === null ? 'plain' : 'json' });
      }
      if (s.created.local || s.updated.local) out.push({ kind: 'text', title: l10n.t('Times'), text: localTimeNote(), format: 'plain' });
    } else {
      out.push({ kind: 'facts', title: l10n.t('Thread'), facts: [{ label: l10n.t('Thread id'), value: c.id }, { label: l10n.t('Checkpoints'), value: String(steps.filter((x) => x.kind === 'checkpoint').length) }] });
    }
    if (steps.length) {
      out.push({ kind: 'timeline', title: l10n.t('Checkpoints'), events: steps.map((st) => ({ time: st.kind === 'task' ? null : st.checkpoint.time.date, label: st.kind === 'task' ? l10n.t('{0} failed', st.node) : st.node, detail: st.kind === 'task' ? st.error ?? undefined : `${st.checkpoint.source ?? ''} ${st.checkpoint.id}`.trim() })) });
    }
    const latest = [...steps].reverse().find((x) => x.kind === 'checkpoint');
    if (latest) {
      const files = [...artifactsIn(latest.checkpoint.channelValues, c.id).keys()];
      if (files.length) out.push({ kind: 'facts', title: l10n.t('Artifacts the state names'), facts: files.map((f) => ({ label: f, value: this.readArtifact(c.id, f) === null ? l10n.t('not found') : l10n.t('present') })) });
    }
    const warnings = [...(s?.warnings ?? []), ...this.siblingWarnings];
    const other = this.store?.otherNamespaces.get(c.id);
    if (other) warnings.push(l10n.t('{0} checkpoint(s) of subgraph namespaces are not listed.', other));
    if (warnings.length) out.push({ kind: 'warnings', title: l10n.t('Warnings'), warnings });
    return out;
  }

  private stepDetails(threadId: string, st: ThreadStep): DetailSection[] {
    const cp = st.checkpoint;
    const out: DetailSection[] = [];
    if (st.kind === 'task') {
      out.push({ kind: 'facts', title: l10n.t('Failed task'), facts: [
        { label: l10n.t('Node'), value: st.node },
        { label: l10n.t('Task id'), value: st.taskId ?? '—' },
        { label: l10n.t('Started from checkpoint'), value: cp.id },
        { label: l10n.t('Duration'), value: l10n.t('not recorded (a failed task leaves no checkpoint)') },
      ] });
      out.push({ kind: 'text', title: l10n.t('Error'), text: st.error ?? '', format: 'plain' });
      out.push({ kind: 'text', title: l10n.t('Writes'), text: capText(formatWrites(st.writes)), format: 'plain' });
      return out;
    }
    const facts = [
      { label: l10n.t('Node'), value: st.node },
      { label: l10n.t('Source'), value: cp.source ?? '—' },
      { label: l10n.t('Step'), value: cp.step === null ? '—' : String(cp.step) },
      { label: l10n.t('Checkpoint id'), value: cp.id },
      { label: l10n.t('Parent'), value: cp.parentId ?? '—' },
      { label: l10n.t('Thread'), value: threadId },
      parsedTimeFact(l10n.t('Time'), cp.time),
    ];
    if (cp.createdAt.raw !== null && cp.createdAt !== cp.time) facts.push(parsedTimeFact('created_at', cp.createdAt));
    const next = nextNodes(cp);
    facts.push({ label: l10n.t('Next'), value: next.length ? next.join(', ') : '—' });
    const updated = cp.checkpoint?.updated_channels;
    if (Array.isArray(updated)) facts.push({ label: l10n.t('Updated channels'), value: updated.map(String).join(', ') || '—' });
    facts.push({ label: l10n.t('Stored as'), value: l10n.t('{0}, {1} bytes', cp.type ?? l10n.t('untyped'), cp.bytes) });
    out.push({ kind: 'facts', title: l10n.t('Checkpoint'), facts });
    out.push({ kind: 'text', title: l10n.t('State'), text: formatState(cp), format: 'plain' });
    if (st.writes.length) out.push({ kind: 'text', title: l10n.t('Writes that made it'), text: capText(formatWrites(st.writes)), format: 'plain' });
    if (st.pending.length) out.push({ kind: 'text', title: l10n.t('Pending writes (no checkpoint after them)'), text: capText(formatWrites(st.pending)), format: 'plain' });
    out.push({ kind: 'text', title: l10n.t('Metadata'), text: formatShown(cp.metadata), format: 'plain' });
    if (cp.time.local || cp.createdAt.local) out.push({ kind: 'text', title: l10n.t('Times'), text: localTimeNote(), format: 'plain' });
    const files = this.fileChanges(threadId, st);
    if (files.length) out.push({ kind: 'text', title: l10n.t('Artifacts'), text: l10n.t('Artifact files are overwritten in place: what is shown is each file as it is now, not as this step left it.'), format: 'plain' });
    if (cp.warnings.length) out.push({ kind: 'warnings', title: l10n.t('Warnings'), warnings: cp.warnings });
    return out;
  }

  private readArtifact(threadId: string, rel: string): string | null {
    if (!this.context.readText) return null;
    const sub = `projects/${threadId}/${rel}`;
    const candidates = this.detection.variant === 'orchestrator' ? [`../${sub}`, sub] : [sub, `../${sub}`];
    for (const c of candidates) {
      const t = this.context.readText(c);
      if (t !== null) return t;
    }
    return null;
  }

  private fileChanges(threadId: string, st: ThreadStep): ChangeItem[] {
    if (st.kind !== 'checkpoint') return [];
    const now = artifactsIn(st.checkpoint.channelValues, threadId);
    const before = st.previous ? artifactsIn(st.previous.channelValues, threadId) : new Map<string, string>();
    const out: ChangeItem[] = [];
    for (const [rel, stated] of now) {
      if (before.has(rel) || this.readArtifact(threadId, rel) === null) continue;
      out.push({ id: `file:${rel}`, label: l10n.t('{0} (as it is now)', rel), path: stated, status: 'added', before: null, after: makeRef('file', threadId, rel) });
    }
    return out;
  }

  changes(ref: NodeRef): ChangeItem[] {
    const f = this.find(ref);
    const st = f?.step;
    if (!f || !st || st.kind !== 'checkpoint') return [];
    const out: ChangeItem[] = [];
    const after = formatState(st.checkpoint);
    const before = st.previous ? formatState(st.previous) : null;
    if (before !== after) {
      out.push({
        id: 'state', label: l10n.t('state'), status: before === null ? 'added' : 'modified',
        before: st.previous ? makeRef('state', f.threadId, st.previous.id) : null, after: makeRef('state', f.threadId, st.checkpoint.id),
      });
    }
    return out.concat(this.fileChanges(f.threadId, st));
  }

  text(ref: TextRef): string | null {
    const p = parseRef(ref);
    if (!p) return null;
    if (p.level === 'state' && p.parts.length === 2) {
      const st = this.steps(p.parts[0]).find((s) => s.kind === 'checkpoint' && s.checkpoint.id === p.parts[1]);
      return st ? formatState(st.checkpoint) : null;
    }
    if (p.level === 'file' && p.parts.length === 2) return this.readArtifact(p.parts[0], p.parts[1]);
    return null;
  }

  close(): void {
    this.ownReader?.close?.();
  }
}

