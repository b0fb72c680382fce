/**
 * A step's log as LaForge writes it: `logs/step-S<N>-<YYYYMMDD-HHMMSS>.log` beside the step
 * database (for LaForge, `~/.laforge/projects/<id>/logs/` beside `steps.db`), the agent's
 * stream formatted as Markdown while the step runs (lib/docker/output_formatter.go). When the
 * agent finishes, the log ends with
 *
 *     ---
 *     ✅ Success • 12 turns • 85.3s • $0.4213
 *
 *     <the agent's final message>
 *
 * (`❌ Error` when the agent reported an error). Each figure is left out when zero. A result
 * that is not a success (`error_max_turns`, `error_during_execution`) is not formatted at
 * all: FormatClaudeOutput returns such a line as it came, so the log ends with Claude Code's
 * raw JSON `{"type":"result","subtype":"error_max_turns",…}`; its figures are read from it.
 * The summary is read from the end of the file only, so a log of many megabytes is never
 * read whole for it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { StepLogError } from './errors';
import { failures } from './messages';

export interface StepLogFile {
  path: string;
  stepId: number;
  size: number;
  mtimeMs: number;
}

export interface StepLogSummary {
  /** `✅ Success` or `❌ Error`: what the agent itself reported. */
  outcome: 'success' | 'error';
  /** Why the agent stopped when its result was not a success, as Claude Code names it (`error_max_turns`); else null. */
  reason: string | null;
  /** The figures of the summary line; null where the line has none (LaForge leaves out zeros). */
  turns: number | null;
  /** The agent's own time, not the step's. */
  durationMs: number | null;
  costUsd: number | null;
  /** The text after the summary line: the agent's final message, possibly empty. */
  finalMessage: string;
}

/** Claude Code's names for a result that is not a success, as a person says them. */
const REASONS: Record<string, string> = {
  error_max_turns: 'reached its turn limit',
  error_during_execution: 'failed during execution',
};

/** The agent's result as the details and tooltips say it: `Success`, `Error`, `Error: reached its turn limit`. */
export function agentResultText(summary: Pick<StepLogSummary, 'outcome' | 'reason'>): string {
  const outcome = summary.outcome === 'success' ? 'Success' : 'Error';
  if (!summary.reason) return outcome;
  return `${outcome}: ${REASONS[summary.reason] ?? summary.reason}`;
}

/** How much of a log's end is read for its summary. The final message follows it, so it fits. */
export const SUMMARY_TAIL_BYTES = 256 * 1024;

const LOG_NAME = /^step-S(\d+)-(.*)\.log$/;
const SUMMARY = /^---\n(✅ Success|❌ Error)((?: • [^\n]*)?)\n/gm;
/** A raw result line: Claude Code's JSON, on a line of its own. */
const RAW_RESULT = /^\{"type":"result"[^\n]*\}$/gm;

/** Where the logs of a step database's steps are kept. */
export const stepLogsFolder = (dbPath: string): string => path.join(path.dirname(dbPath), 'logs');

/** The step a log file belongs to, from its name, or null when the name is not a step log's. */
export function stepIdOfLogName(name: string): number | null {
  const m = LOG_NAME.exec(name);
  if (!m) return null;
  const id = Number(m[1]);
  return Number.isSafeInteger(id) ? id : null;
}

/**
 * The newest log of each step in `folder`: the latest timestamp in the name (LaForge's start
 * time, `YYYYMMDD-HHMMSS`, sorts as text), then the latest change. An absent folder has none.
 */
export async function listStepLogs(folder: string): Promise<Map<number, StepLogFile>> {
  let names: string[];
  try {
    names = await fs.promises.readdir(folder);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return new Map();
    throw failures.logsUnlisted({ folder }, String(err));
  }
  const best = new Map<number, { file: StepLogFile; stamp: string }>();
  await Promise.all(
    names.map(async (name) => {
      const m = LOG_NAME.exec(name);
      if (!m) return;
      const stepId = Number(m[1]);
      if (!Number.isSafeInteger(stepId)) return;
      const file = path.join(folder, name);
      let stat: fs.Stats;
      try {
        stat = await fs.promises.stat(file);
      } catch {
        return; // removed since the listing
      }
      if (!stat.isFile()) return;
      const entry = { file: { path: file, stepId, size: stat.size, mtimeMs: stat.mtimeMs }, stamp: m[2] };
      const known = best.get(stepId);
      if (!known || entry.stamp > known.stamp || (entry.stamp === known.stamp && stat.mtimeMs > known.file.mtimeMs)) {
        best.set(stepId, entry);
      }
    }),
  );
  return new Map([...best].map(([id, { file }]) => [id, file]));
}

/** The newest log of a step of the database at `dbPath`, or null when it has none. */
export async function findStepLog(dbPath: string, stepId: number): Promise<StepLogFile | null> {
  return (await listStepLogs(stepLogsFolder(dbPath))).get(stepId) ?? null;
}

/**
 * The last summary in `text` (the end of a log), with the final message after it, or null
 * when there is none yet (the step is running, or the agent stopped without a result).
 */
export function parseLogSummary(text: string): StepLogSummary | null {
  const normalised = text.replace(/\r\n/g, '\n');
  // A summary at the very start of the text has no line break before its `---`.
  const scanned = '\n' + normalised;
  const last = lastMatch(SUMMARY, scanned);
  const raw = lastRawResult(scanned);
  if (raw && (!last || raw.index > last.index)) return raw.summary;
  if (!last) return null;
  const summary: StepLogSummary = {
    outcome: last[1].startsWith('✅') ? 'success' : 'error',
    reason: null,
    turns: null,
    durationMs: null,
    costUsd: null,
    finalMessage: '',
  };
  for (const part of last[2].split(' • ').map((p) => p.trim()).filter(Boolean)) {
    let m: RegExpExecArray | null;
    if ((m = /^(\d+) turns?$/.exec(part))) summary.turns = Number(m[1]);
    else if ((m = /^(\d+(?:\.\d+)?)s$/.exec(part))) summary.durationMs = Math.round(Number(m[1]) * 1000);
    else if ((m = /^\$(\d+(?:\.\d+)?)$/.exec(part))) summary.costUsd = Number(m[1]);
  }
  let rest = scanned.slice(last.index + last[0].length);
  // LaForge writes a blank line, the message and a line break.
  if (rest.startsWith('\n')) rest = rest.slice(1);
  summary.finalMessage = rest.replace(/\n+$/, '');
  return summary;
}

function lastMatch(pattern: RegExp, text: string): RegExpExecArray | null {
  let last: RegExpExecArray | null = null;
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) last = m;
  return last;
}

/** The last raw result line that parses as Claude Code's result, with its figures. */
function lastRawResult(text: string): { index: number; summary: StepLogSummary } | null {
  let found: { index: number; summary: StepLogSummary } | null = null;
  RAW_RESULT.lastIndex = 0;
  for (let m = RAW_RESULT.exec(text); m; m = RAW_RESULT.exec(text)) {
    let value: unknown;
    try {
      value = JSON.parse(m[0]);
    } catch {
      continue; // a line that only looks like one
    }
    if (typeof value !== 'object' || value === null || (value as { type?: unknown }).type !== 'result') continue;
    const r = value as Record<string, unknown>;
    const subtype = typeof r.subtype === 'string' ? r.subtype : '';
    const positive = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null);
    const durationMs = positive(r.duration_ms);
    found = {
      index: m.index,
      summary: {
        outcome: r.is_error === true || subtype.startsWith('error') ? 'error' : 'success',
        reason: subtype !== '' && subtype !== 'success' ? subtype : null,
        turns: positive(r.num_turns),
        durationMs: durationMs === null ? null : Math.round(durationMs),
        costUsd: positive(r.total_cost_usd),
        finalMessage: typeof r.result === 'string' ? r.result.replace(/\n+$/, '') : '',
      },
    };
  }
  return found;
}

/** Reads up to the last `bytes` of a file, from a line start; the first line is dropped when cut. */
async function readTail(file: string, bytes: number): Promise<{ text: string; size: number; skipped: number }> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch (err) {
    throw logReadError(file, err);
  }
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - bytes);
    const buffer = Buffer.alloc(size - start);
    let read = 0;
    while (read < buffer.length) {
      const { bytesRead } = await handle.read(buffer, read, buffer.length - read, start + read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    let body = buffer.subarray(0, read);
    let skipped = start;
    if (start > 0) {
      // Start on a whole line, so no character is cut in two.
      const newline = body.indexOf(0x0a);
      const from = newline < 0 ? body.length : newline + 1;
      body = body.subarray(from);
      skipped += from;
    }
    return { text: body.toString('utf8'), size, skipped };
  } catch (err) {
    throw logReadError(file, err);
  } finally {
    await handle.close();
  }
}

function logReadError(file: string, err: unknown): StepLogError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return failures.logGone({ file }, String(err));
  return failures.logUnreadable({ file }, String(err));
}

export interface StepLogText {
  text: string;
  /** The file's size when read. */
  size: number;
  /** Bytes left out at the start because the log is larger than the limit; 0 when whole. */
  skippedBytes: number;
}

/** A log's text, or only its last `maxBytes` (from a line start) when it is larger. */
export async function readStepLogText(file: string, maxBytes: number): Promise<StepLogText> {
  const { text, size, skipped } = await readTail(file, maxBytes);
  return { text, size, skippedBytes: skipped };
}

/**
 * Reads the summaries of logs, each read again only when its size or modification time
 * changed. Holds at most `limit` files.
 */
export class StepLogSummaries {
  private readonly cache = new Map<string, { size: number; mtimeMs: number; summary: StepLogSummary | null }>();
  /** Tail reads, for tests and the log. */
  reads = 0;

  constructor(private readonly limit = 5000) {}

  async summary(file: StepLogFile): Promise<StepLogSummary | null> {
    const known = this.cache.get(file.path);
    if (known && known.size === file.size && known.mtimeMs === file.mtimeMs) return known.summary;
    this.reads++;
    const { text, size } = await readTail(file.path, SUMMARY_TAIL_BYTES);
    const summary = parseLogSummary(text);
    this.cache.delete(file.path);
    // The size read wins over the listing's: the file may have grown since.
    this.cache.set(file.path, { size: size === file.size ? file.size : size, mtimeMs: size === file.size ? file.mtimeMs : -1, summary });
    while (this.cache.size > this.limit) this.cache.delete(this.cache.keys().next().value!);
    return summary;
  }
}
