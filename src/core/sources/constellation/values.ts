/**
 * Reading Constellation's column values defensively: a file may have been written without the
 * schema's CHECK constraints or by another program, so every value may have any SQLite type.
 * Nothing here throws on a stored value; oddities become warning sentences.
 */
import * as l10n from '@vscode/l10n';
import type { NodeStatus, SqlRow, SqlValue, TokenCounts } from '../types';

/** Most characters `text()` returns of one stored text. */
export const TEXT_CAP = 5 * 1024 * 1024;
/** Most characters of one text in details (a message, a tool result, an event's data). */
export const DETAIL_CAP = 256 * 1024;
/** Most characters of a label. */
export const LABEL_CAP = 160;

/** Sorts after every real time: rows whose time cannot be read go last. */
export const NO_TIME = '8640000000000001';
const MAX_MS = '8640000000000000';

/**
 * SQL for a stored time as integer Unix milliseconds, or NULL when it is not a time. Text goes
 * through julianday (ISO `toISOString()` text and CURRENT_TIMESTAMP's `YYYY-MM-DD HH:MM:SS`,
 * which is UTC; text must start with a date, so 'now' is no time); a number is Unix milliseconds
 * when its magnitude is at least 1e11, else seconds.
 */
export function timeMs(col: string): string {
  const ms = `(CASE typeof(${col})
    WHEN 'text' THEN (CASE WHEN ${col} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*' THEN CAST(round((julianday(${col}) - 2440587.5) * 86400000) AS INTEGER) END)
    WHEN 'integer' THEN (CASE WHEN abs(${col}) >= 100000000000 THEN ${col} ELSE ${col} * 1000 END)
    WHEN 'real' THEN CAST(round(CASE WHEN abs(${col}) >= 100000000000 THEN ${col} ELSE ${col} * 1000 END) AS INTEGER)
  END)`;
  // Outside the range of a JavaScript Date: not a time.
  return `(CASE WHEN abs(${ms}) <= ${MAX_MS} THEN ${ms} END)`;
}

/** A column read with SQL `substr` to at most `cap` characters, and its full length. */
export function capped(col: string, cap: number, as = col): string {
  return `substr(${col}, 1, ${cap}) AS ${as}, length(${col}) AS ${as}_len`;
}

import { asText } from '../sqlValues';

export { asText };

export function asNumber(v: SqlValue | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** The SQLite type a value has, for warnings. */
export function typeName(v: SqlValue | undefined): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'string') return 'text';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'real';
  return 'blob';
}

/** Warns when a column that should hold a number holds something else (NULL is fine). */
export function checkNumber(row: SqlRow, col: string, warnings: string[]): number | null {
  const v = row[col];
  if (v === null || v === undefined) return null;
  const n = asNumber(v);
  if (n === null) warnings.push(l10n.t('{0} holds {1} {2}, not a number.', col, typeName(v), quote(asText(v))));
  return n;
}

export function quote(s: string | null, max = 60): string {
  if (s === null) return 'NULL';
  return JSON.stringify(s.length > max ? s.slice(0, max) + '…' : s);
}

/** The stored text cut to `cap` characters, with a note saying how long it was. */
export function withCapNote(text: string, fullLength: number | null, cap: number): string {
  if (fullLength === null || fullLength <= text.length) return text;
  return l10n.t('{0}\n\n[Cut at {1} characters: the stored text has {2}.]', text, cap.toLocaleString('en-US'), fullLength.toLocaleString('en-US'));
}

/** A capped column pair (`col`, `col_len`) as text with its note. */
export function cappedText(row: SqlRow, col: string, cap: number): string | null {
  const text = asText(row[col]);
  if (text === null) return null;
  return withCapNote(text, asNumber(row[`${col}_len`]), cap);
}

export type Json = unknown;

/**
 * A JSON column: undefined when NULL or not JSON (a warning then); the parsed value otherwise.
 * `capLen` is the stored length when the value was read capped: a cut text is not parsed.
 */
export function parseJson(v: SqlValue | undefined, what: string, warnings: string[], storedLength?: number | null): Json | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v !== 'string') {
    warnings.push(l10n.t('{0} holds {1}, not JSON text.', what, typeName(v)));
    return undefined;
  }
  if (storedLength !== undefined && storedLength !== null && storedLength > v.length) {
    warnings.push(l10n.t('{0} is too long to read as JSON ({1} characters).', what, storedLength.toLocaleString('en-US')));
    return undefined;
  }
  try {
    return JSON.parse(v) as Json;
  } catch {
    warnings.push(l10n.t('{0} is not valid JSON: {1}.', what, quote(v)));
    return undefined;
  }
}

export function isObject(v: Json | undefined): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON text pretty-printed when it parses, else the stored text as it is. */
export function prettyJson(raw: string): string {
  try {
    return JSON.stringify(JSON.parse(raw), null, 2);
  } catch {
    return raw;
  }
}

/** Tokens in a `usage` object: input_tokens → prompt, output_tokens → completion; null when neither is a number. */
export function usageTokens(usage: Json | undefined): TokenCounts | null {
  if (!isObject(usage)) return null;
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const prompt = n(usage.input_tokens);
  const completion = n(usage.output_tokens);
  if (prompt === null && completion === null) return null;
  return { prompt, completion, total: (prompt ?? 0) + (completion ?? 0) };
}

/** Adds token counts; null stays null only when both are. */
export function addTokens(a: TokenCounts | null, b: TokenCounts | null): TokenCounts | null {
  if (!a) return b;
  if (!b) return a;
  const add = (x: number | null, y: number | null) => (x === null && y === null ? null : (x ?? 0) + (y ?? 0));
  return { prompt: add(a.prompt, b.prompt), completion: add(a.completion, b.completion), total: add(a.total, b.total) };
}

export function toDate(ms: SqlValue | undefined): Date | null {
  const n = asNumber(ms ?? null);
  if (n === null || Math.abs(n) > 8.64e15) return null;
  return new Date(n);
}

export function firstLine(text: string | null): string {
  if (!text) return '';
  const line = text.split(/\r\n|\r|\n/).find((l) => l.trim() !== '') ?? '';
  const t = line.trim();
  return t.length > LABEL_CAP ? t.slice(0, LABEL_CAP - 1) + '…' : t;
}

export const PROJECT_STATUSES: Readonly<Record<string, NodeStatus>> = {
  created: 'pending', running: 'running', paused: 'paused', completed: 'completed', failed: 'failed', stopped: 'stopped',
};
export const AGENT_STATUSES: Readonly<Record<string, NodeStatus>> = {
  created: 'pending', idle: 'waiting', working: 'running', paused: 'paused', completed: 'completed', failed: 'failed',
};
const VIEW_STATUSES = new Set<NodeStatus>(['pending', 'running', 'paused', 'waiting', 'completed', 'failed', 'stopped']);

/**
 * A stored status mapped onto the views' statuses. A value outside the CHECK list gets a warning;
 * when it spells one of the views' statuses (the app tries to write `running` and `stopped` to
 * agents) that one is used, otherwise `unknown`.
 */
export function mapStatus(v: SqlValue | undefined, map: Readonly<Record<string, NodeStatus>>, what: 'project' | 'agent', warnings: string[]): { status: NodeStatus; raw: string | null } {
  const raw = asText(v ?? null);
  if (raw === null) {
    warnings.push(what === 'project' ? l10n.t('The project has no status (NULL).') : l10n.t('The agent has no status (NULL).'));
    return { status: 'unknown', raw };
  }
  const known = map[raw];
  if (known) return { status: known, raw };
  const statuses = Object.keys(map).join(', ');
  warnings.push(
    what === 'project'
      ? l10n.t('status {0} is not one of Constellation\'s project statuses ({1}).', quote(raw), statuses)
      : l10n.t('status {0} is not one of Constellation\'s agent statuses ({1}).', quote(raw), statuses),
  );
  const lower = raw.trim().toLowerCase();
  const status = (map[lower] ?? (VIEW_STATUSES.has(lower as NodeStatus) ? (lower as NodeStatus) : 'unknown'));
  return { status, raw };
}

export { formatCost, formatDuration, formatTokens } from '../figures';
