/**
 * LangGraph checkpoints as Autonomous Software Studio leaves them in `checkpoints.db`, in either
 * shape: the studio's own fallback saver (checkpoint_type/checkpoint_blob, metadata_type/
 * metadata_blob, created_at; writes with value_type/value_blob/task_path) or the official
 * langgraph-checkpoint-sqlite (type/checkpoint/metadata; writes with idx/type/value).
 *
 * A thread's steps: each checkpoint of its root namespace, parents before children (ties by
 * checkpoint id, which uuid6 makes time-ordered), and after a checkpoint each task that left an
 * `__error__` write there (a node that raised leaves no checkpoint, only that write).
 */
import * as l10n from '@vscode/l10n';
import type { SqlReader, SqlRow } from '../types';
import { decodeTyped, formatShown, isRecord, opaque, parseTime, ShownMap, ShownOpaque, text, toShown, type ParsedTime, type Shown } from './values';

export type CheckpointShape = 'fallback' | 'langgraph';

/** Which saver wrote a checkpoints table, from its column names. */
export function checkpointShapeOf(columns: ReadonlySet<string> | undefined): CheckpointShape | null {
  if (!columns || !columns.has('thread_id') || !columns.has('checkpoint_id')) return null;
  if (columns.has('checkpoint_blob') && columns.has('checkpoint_type')) return 'fallback';
  if (columns.has('checkpoint') && columns.has('type')) return 'langgraph';
  return null;
}

function columnsOf(reader: SqlReader, table: string): Set<string> {
  try {
    return new Set(reader.all(`SELECT name FROM pragma_table_info(?)`, [table]).map((r) => String(r.name).toLowerCase()));
  } catch {
    return new Set();
  }
}

export interface WriteRec {
  taskId: string;
  idx: number | null;
  channel: string;
  type: string | null;
  bytes: number;
  value: Shown;
  taskPath: string | null;
}

export interface CheckpointRec {
  id: string;
  parentId: string | null;
  type: string | null;
  bytes: number;
  /** Checkpoint.ts (UTC with offset), else the fallback saver's created_at (local). */
  time: ParsedTime;
  createdAt: ParsedTime;
  source: string | null;
  step: number | null;
  metadata: Shown;
  /** The decoded checkpoint; null when it could not be decoded (`undecodable` says how). */
  checkpoint: Record<string, unknown> | null;
  undecodable: ShownOpaque | null;
  channelValues: Record<string, unknown>;
  warnings: string[];
}

export interface ThreadStep {
  kind: 'checkpoint' | 'task';
  /** The checkpoint id; for a failed task `<checkpoint id>/<task id>`. */
  key: string;
  /** The checkpoint itself, or for a failed task the checkpoint it started from. */
  checkpoint: CheckpointRec;
  /** The checkpoint before it (its parent); null for the first. */
  previous: CheckpointRec | null;
  node: string;
  /** Writes of the task(s) that produced this step. */
  writes: WriteRec[];
  /** Writes left on this checkpoint by tasks that produced no checkpoint after it (not errors). */
  pending: WriteRec[];
  /** A failed task's `__error__` value. */
  error: string | null;
  taskId: string | null;
}

export interface ThreadSummary {
  threadId: string;
  checkpoints: number;
  /** The newest checkpoint id (uuid6: time-ordered), for sorting threads. */
  lastId: string;
  lastCreatedAt: string | null;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Reads one checkpoints.db; decoded threads are kept. */
export class CheckpointStore {
  readonly shape: CheckpointShape;
  private readonly cpCols: Set<string>;
  private readonly writeCols: Set<string>;
  private readonly cache = new Map<string, ThreadStep[]>();
  /** Checkpoints in other namespaces (subgraphs), per thread: counted, not listed. */
  readonly otherNamespaces = new Map<string, number>();

  constructor(private readonly reader: SqlReader, shape?: CheckpointShape) {
    this.cpCols = columnsOf(reader, 'checkpoints');
    this.writeCols = columnsOf(reader, 'writes');
    const found = shape ?? checkpointShapeOf(this.cpCols);
    if (!found) throw new Error('not a LangGraph checkpoints table');
    this.shape = found;
  }

  private nsFilter(cols: Set<string>): string {
    return cols.has('checkpoint_ns') ? ` AND (checkpoint_ns = '' OR checkpoint_ns IS NULL)` : '';
  }

  threads(): ThreadSummary[] {
    const created = this.cpCols.has('created_at') ? 'MAX(created_at)' : 'NULL';
    const rows = this.reader.all(`SELECT thread_id, COUNT(*) AS n, MAX(checkpoint_id) AS last, ${created} AS last_created FROM checkpoints WHERE 1 = 1${this.nsFilter(this.cpCols)} GROUP BY thread_id`);
    return rows.map((r) => ({ threadId: text(r.thread_id) ?? '', checkpoints: Number(r.n), lastId: text(r.last) ?? '', lastCreatedAt: text(r.last_created) }));
  }

  hasThread(threadId: string): boolean {
    return !!this.reader.get(`SELECT 1 AS x FROM checkpoints WHERE thread_id = ?${this.nsFilter(this.cpCols)} LIMIT 1`, [threadId]);
  }

  steps(threadId: string): ThreadStep[] {
    let steps = this.cache.get(threadId);
    if (!steps) {
      steps = this.load(threadId);
      this.cache.set(threadId, steps);
    }
    return steps;
  }

  private load(threadId: string): ThreadStep[] {
    const fallback = this.shape === 'fallback';
    const c = this.cpCols;
    const sel = [
      'checkpoint_id', 'parent_checkpoint_id',
      fallback ? 'checkpoint_type AS type' : 'type',
      fallback ? 'checkpoint_blob AS blob' : 'checkpoint AS blob',
      fallback ? (c.has('metadata_type') ? 'metadata_type AS mtype' : `'msgpack' AS mtype`) : `'json' AS mtype`,
      fallback ? (c.has('metadata_blob') ? 'metadata_blob AS mblob' : 'NULL AS mblob') : (c.has('metadata') ? 'metadata AS mblob' : 'NULL AS mblob'),
      c.has('created_at') ? 'created_at' : 'NULL AS created_at',
    ];
    if (c.has('checkpoint_ns')) {
      const other = this.reader.get(`SELECT COUNT(*) AS n FROM checkpoints WHERE thread_id = ? AND checkpoint_ns <> ''`, [threadId]);
      if (other && Number(other.n) > 0) this.otherNamespaces.set(threadId, Number(other.n));
    }
    const rows = this.reader.all(`SELECT ${sel.join(', ')} FROM checkpoints WHERE thread_id = ?${this.nsFilter(c)}`, [threadId]);
    const cps = rows.map(readCheckpoint);
    const writes = this.writes(threadId);
    return buildSteps(cps, writes);
  }

  private writes(threadId: string): Map<string, WriteRec[]> {
    const w = this.writeCols;
    const out = new Map<string, WriteRec[]>();
    if (!w.has('checkpoint_id') || !w.has('channel')) return out;
    const fallback = this.shape === 'fallback';
    const sel = [
      'checkpoint_id', w.has('task_id') ? 'task_id' : `'' AS task_id`,
      w.has(fallback ? 'write_idx' : 'idx') ? `${fallback ? 'write_idx' : 'idx'} AS idx` : 'NULL AS idx',
      'channel',
      w.has(fallback ? 'value_type' : 'type') ? `${fallback ? 'value_type' : 'type'} AS type` : 'NULL AS type',
      w.has(fallback ? 'value_blob' : 'value') ? `${fallback ? 'value_blob' : 'value'} AS blob` : 'NULL AS blob',
      w.has('task_path') ? 'task_path' : 'NULL AS task_path',
    ];
    const rows = this.reader.all(`SELECT ${sel.join(', ')} FROM writes WHERE thread_id = ?${this.nsFilter(w)} ORDER BY task_id, idx`, [threadId]);
    for (const r of rows) {
      const decoded = decodeTyped(r.type, r.blob);
      const bytes = r.blob instanceof Uint8Array ? r.blob.length : r.blob === null ? 0 : new TextEncoder().encode(String(r.blob)).length;
      const rec: WriteRec = {
        taskId: text(r.task_id) ?? '', idx: typeof r.idx === 'number' ? r.idx : null, channel: text(r.channel) ?? '', type: text(r.type), bytes,
        value: decoded.ok ? toShown(decoded.value) : decoded.shown, taskPath: text(r.task_path),
      };
      const key = text(r.checkpoint_id) ?? '';
      const list = out.get(key) ?? [];
      list.push(rec);
      out.set(key, list);
    }
    return out;
  }
}

function readCheckpoint(r: SqlRow): CheckpointRec {
  const warnings: string[] = [];
  const id = text(r.checkpoint_id) ?? '';
  const decoded = decodeTyped(r.type, r.blob);
  let checkpoint: Record<string, unknown> | null = null;
  let undecodable: ShownOpaque | null = null;
  if (decoded.ok && isRecord(decoded.value)) checkpoint = decoded.value;
  else if (decoded.ok) {
    undecodable = opaque(text(r.type) ?? 'blob', r.blob instanceof Uint8Array ? r.blob.length : 0, l10n.t('not a checkpoint'));
    warnings.push(l10n.t('Checkpoint {0} does not hold a checkpoint map.', id));
  } else {
    undecodable = decoded.shown;
    warnings.push(l10n.t('Checkpoint {0} could not be read: {1}.', id, decoded.shown.text));
  }
  const meta = decodeTyped(r.mtype, r.mblob);
  const metaValue = meta.ok ? meta.value : null;
  if (!meta.ok) warnings.push(l10n.t('The metadata of checkpoint {0} could not be read: {1}.', id, meta.shown.text));
  const m = isRecord(metaValue) ? metaValue : {};
  const createdAt = parseTime(r.created_at);
  const ts = checkpoint && typeof checkpoint.ts === 'string' ? parseTime(checkpoint.ts) : null;
  const channelValues = checkpoint && isRecord(checkpoint.channel_values) ? checkpoint.channel_values : {};
  return {
    id, parentId: text(r.parent_checkpoint_id), type: text(r.type), bytes: r.blob instanceof Uint8Array ? r.blob.length : 0,
    time: ts?.date ? ts : createdAt, createdAt,
    source: typeof m.source === 'string' ? m.source : null,
    step: typeof m.step === 'number' ? m.step : null,
    metadata: meta.ok ? toShown(metaValue) : meta.shown,
    checkpoint, undecodable, channelValues, warnings,
  };
}

/** Parents before children, ties by id; a cycle or a missing parent makes a new root. */
function order(cps: CheckpointRec[]): CheckpointRec[] {
  const sorted = [...cps].sort((a, b) => cmp(a.id, b.id));
  const byId = new Map(sorted.map((c) => [c.id, c]));
  const children = new Map<string, CheckpointRec[]>();
  const roots: CheckpointRec[] = [];
  for (const c of sorted) {
    if (c.parentId && c.parentId !== c.id && byId.has(c.parentId)) {
      const list = children.get(c.parentId) ?? [];
      list.push(c);
      children.set(c.parentId, list);
    } else roots.push(c);
  }
  const out: CheckpointRec[] = [];
  const seen = new Set<string>();
  const visit = (start: CheckpointRec): void => {
    const stack = [start];
    while (stack.length) {
      const c = stack.pop() as CheckpointRec;
      if (seen.has(c.id)) continue;
      seen.add(c.id);
      out.push(c);
      const kids = children.get(c.id) ?? [];
      for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]);
    }
  };
  roots.forEach(visit);
  for (const c of sorted) if (!seen.has(c.id)) visit(c);
  return out;
}

function record(v: unknown): Record<string, unknown> {
  return isRecord(v) ? v : {};
}

/** The nodes a checkpoint schedules next: its `branch:to:<node>` channels. */
export function nextNodes(cp: CheckpointRec): string[] {
  return Object.keys(cp.channelValues).filter((k) => k.startsWith('branch:to:')).map((k) => k.slice('branch:to:'.length));
}

/**
 * The graph node that produced a checkpoint: metadata `writes` (older LangGraph), `input` for
 * the input checkpoint, else the nodes whose versions_seen changed since the parent, else the
 * channels it updated, else `step N`.
 */
function nodeOf(cp: CheckpointRec, parent: CheckpointRec | null): string {
  const meta = cp.metadata instanceof ShownMap ? cp.metadata : null;
  const writes = meta?.get('writes');
  if (writes instanceof ShownMap && writes.entries.length) return writes.entries.map(([k]) => k).join(', ');
  if (cp.source === 'input') return l10n.t('input');
  const seen = record(cp.checkpoint?.versions_seen);
  const before = record(parent?.checkpoint?.versions_seen);
  const ran = Object.keys(seen).filter((k) => (k === '__start__' || !k.startsWith('__')) && JSON.stringify(seen[k]) !== JSON.stringify(before[k]));
  if (ran.length) return ran.join(', ');
  const updated = cp.checkpoint?.updated_channels;
  if (Array.isArray(updated) && updated.length) return updated.map(String).filter((c) => !c.startsWith('branch:')).join(', ') || updated.map(String).join(', ');
  return cp.step !== null ? l10n.t('step {0}', cp.step) : l10n.t('checkpoint');
}

function taskNode(task: WriteRec[], from: CheckpointRec): string {
  const p = task.find((w) => w.taskPath)?.taskPath ?? '';
  const last = p.split(',').map((s) => s.trim()).filter(Boolean).pop();
  if (last && !last.startsWith('~')) return last;
  const next = nextNodes(from);
  if (next.length === 1) return next[0];
  return l10n.t('task {0}', task[0]?.taskId.slice(0, 8) ?? '').trim();
}

function buildSteps(cps: CheckpointRec[], writes: Map<string, WriteRec[]>): ThreadStep[] {
  const ordered = order(cps);
  const byId = new Map(ordered.map((c) => [c.id, c]));
  const hasChild = new Set(ordered.map((c) => c.parentId).filter((p): p is string => !!p));
  const tasksOn = (id: string): Map<string, WriteRec[]> => {
    const tasks = new Map<string, WriteRec[]>();
    for (const w of writes.get(id) ?? []) {
      const list = tasks.get(w.taskId) ?? [];
      list.push(w);
      tasks.set(w.taskId, list);
    }
    return tasks;
  };
  const failed = (task: WriteRec[]): boolean => task.some((w) => w.channel === '__error__');
  const steps: ThreadStep[] = [];
  for (const cp of ordered) {
    const parent = cp.parentId ? byId.get(cp.parentId) ?? null : null;
    const made = parent ? [...tasksOn(parent.id).values()].filter((t) => !failed(t)).flat() : [];
    const mine = tasksOn(cp.id);
    const pending = hasChild.has(cp.id) ? [] : [...mine.values()].filter((t) => !failed(t)).flat();
    steps.push({ kind: 'checkpoint', key: cp.id, checkpoint: cp, previous: parent, node: nodeOf(cp, parent), writes: made, pending, error: null, taskId: null });
    for (const [taskId, task] of mine) {
      if (!failed(task)) continue;
      const err = task.find((w) => w.channel === '__error__');
      const value = err?.value ?? null;
      steps.push({
        kind: 'task', key: `${cp.id}/${taskId}`, checkpoint: cp, previous: cp, node: taskNode(task, cp), writes: task, pending: [],
        error: typeof value === 'string' ? value : formatShown(value), taskId,
      });
    }
  }
  return steps;
}

/** A checkpoint's state as text: its channel values but the `branch:*` routing channels. */
export function formatState(cp: CheckpointRec): string {
  if (cp.undecodable) return cp.undecodable.text;
  const entries = Object.entries(cp.channelValues).filter(([k]) => !k.startsWith('branch:'));
  return formatShown(new ShownMap(entries.map(([k, v]) => [k, toShown(v)])));
}

/** Writes as text: one block per write, `channel · type · size`, then its value. */
export function formatWrites(writes: WriteRec[]): string {
  return writes
    .map((w) => l10n.t('{0} · {1} · {2} bytes\n{3}', w.idx !== null ? `${w.channel} [${w.idx}]` : w.channel, w.type ?? l10n.t('untyped'), w.bytes, formatShown(w.value)))
    .join('\n\n');
}
