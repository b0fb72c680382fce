/**
 * The step model: what one row of a LaForge `steps` table means, read defensively.
 * A bad value never fails a load; it becomes `null` plus a warning on the step, and the
 * `require*` helpers refuse, with a sentence, the operations that need that value.
 */
import { projectKeyOfValue, projectKeyWarning } from './projectKey';
import { failures } from './messages';

/** A git commit hash as LaForge stores it: 4 to 64 hex digits (abbreviated SHA-1 up to full SHA-256). */
export function isCommitHash(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-fA-F]{4,64}$/.test(value);
}

export type StepStatus = 'RUNNING' | 'COMPLETED' | 'FAILED' | 'ROLLED BACK';

export interface AgentConfig {
  model?: string;
  maxTokens?: number;
  temperature?: number;
  systemPrompt?: string;
  tools?: string[];
  metadata?: Record<string, string>;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  cost: number;
}

export interface StepWarning {
  /** The Step property the warning is about, e.g. `commitAfter`. */
  field: string;
  /** A sentence for the user. */
  message: string;
}

export interface Step {
  id: number;
  /** How LaForge names the step: `S12`. */
  label: string;
  active: boolean;
  parentStepId: number | null;
  /** Only a valid commit hash (see isCommitHash); the stored value is in `raw`. */
  commitBefore: string | null;
  commitAfter: string | null;
  agentConfig: AgentConfig | null;
  agentConfigName: string | null;
  startTime: Date | null;
  endTime: Date | null;
  /** The stored duration, or end minus start when none is stored. */
  durationMs: number | null;
  /**
   * null when the row records none: no value, `{}`, or every member zero (LaForge today writes
   * zeros for every step, running or finished), or a value that cannot be read.
   */
  tokenUsage: TokenUsage | null;
  exitCode: number | null;
  /** The project's key (see projectKey.ts): the text as stored, or '' for none, or a marked key. */
  projectId: string;
  createdAt: Date | null;
  status: StepStatus;
  warnings: StepWarning[];
  raw: {
    commitBefore: unknown;
    commitAfter: unknown;
    agentConfig: unknown;
    tokenUsage: unknown;
    startTime: unknown;
    endTime: unknown;
    createdAt: unknown;
  };
}

/** One row as read from the database; a column the table lacks is `undefined` or `null`. */
export interface StepRow {
  id: unknown;
  active?: unknown;
  parent_step_id?: unknown;
  commit_sha_before?: unknown;
  commit_sha_after?: unknown;
  agent_config_json?: unknown;
  agent_config_name?: unknown;
  start_time?: unknown;
  end_time?: unknown;
  duration_ms?: unknown;
  token_usage_json?: unknown;
  exit_code?: unknown;
  project_id?: unknown;
  created_at?: unknown;
  /** The project key SQLite computed for the row (projectKeySql); without it, derived from project_id. */
  project_key?: unknown;
}

export const stepLabel = (id: number): string => `S${id}`;

/** Quote a stored value for a sentence, shortened so a huge blob does not flood the UI. */
function shown(value: unknown): string {
  let text: string;
  if (value instanceof Uint8Array) text = `<${value.length} bytes>`;
  else text = typeof value === 'string' ? value : String(value);
  if (text.length > 60) text = text.slice(0, 57) + '...';
  return `"${text}"`;
}

export const isBlank = (value: unknown): boolean =>
  value === null || value === undefined || (typeof value === 'string' && value.trim() === '');

// ---------------------------------------------------------------------------------------
// Dates

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?(?:\s+[A-Za-z]{1,6}|\s+[+-]\d{2,4})?(?:\s+m=[+-]\d+(?:\.\d+)?)?$/i;

/**
 * Reads the dates SQLite and Go write:
 * - `2006-01-02 15:04:05` (UTC, CURRENT_TIMESTAMP), with optional fractional seconds;
 * - RFC 3339 `2006-01-02T15:04:05Z`, `...05.123456789+02:00`, with or without fraction;
 * - mattn/go-sqlite3's `2006-01-02 15:04:05.999999999-07:00`;
 * - Go's `time.Time.String()` `2006-01-02 15:04:05.999999999 -0700 MST`, even with its
 *   monotonic suffix ` m=+0.001`, as modernc.org/sqlite stores it;
 * - a date alone (`2006-01-02`, UTC midnight);
 * - unix epoch seconds or milliseconds, as a number or a string of digits.
 * A time without a zone is UTC, as SQLite means it. Returns `null` for anything else,
 * and for Go's zero time (`0001-01-01 00:00:00`), which means "never set".
 */
export function parseDbDate(value: unknown): Date | null {
  if (typeof value === 'bigint') value = Number(value);
  if (typeof value === 'number') return epochDate(value);
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (/^-?\d+(\.\d+)?$/.test(text)) return epochDate(Number(text));
  const m = DATE_TIME.exec(text);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  const millis = m[7] ? Number((m[7] + '00').slice(0, 3)) : 0;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
  if (year <= 1 && month === 1 && day === 1) return null;
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone && zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) return null;
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null; // 2024-02-31
  date.setUTCHours(hour, minute, second, millis);
  return new Date(date.getTime() - offsetMinutes * 60_000);
}

function epochDate(n: number): Date | null {
  if (!Number.isFinite(n) || n <= 0) return null;
  // Below 1e11 the number reads as seconds (up to the year 5138); above, as milliseconds.
  const ms = Math.abs(n) < 1e11 ? n * 1000 : n;
  const date = new Date(Math.round(ms));
  return Number.isNaN(date.getTime()) ? null : date;
}

/** `YYYY-MM-DD` of a date in UTC. */
export const utcDay = (date: Date): string => date.toISOString().slice(0, 10);

// ---------------------------------------------------------------------------------------
// JSON fields

type Parsed<T> = { value: T; problem?: string };

function parseJsonObject(value: unknown): Parsed<Record<string, unknown> | null> {
  if (isBlank(value)) return { value: null };
  if (typeof value !== 'string') return { value: null, problem: `holds ${shown(value)}, not JSON text` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return { value: null, problem: `is not valid JSON: ${shown(value)}` };
  }
  if (parsed === null) return { value: null };
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { value: null, problem: `is JSON but not an object: ${shown(value)}` };
  }
  return { value: parsed as Record<string, unknown> };
}

/** LaForge's `agent_config_json`, keys in snake_case; members of the wrong type are left out. */
export function parseAgentConfig(value: unknown): Parsed<AgentConfig | null> {
  const { value: obj, problem } = parseJsonObject(value);
  if (!obj) return { value: null, problem };
  const config: AgentConfig = {};
  const wrong: string[] = [];
  const take = <K extends keyof AgentConfig>(key: string, field: K, ok: (v: unknown) => boolean) => {
    const v = obj[key];
    if (v === undefined || v === null) return;
    if (ok(v)) config[field] = v as AgentConfig[K];
    else wrong.push(key);
  };
  const isNum = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  take('model', 'model', (v) => typeof v === 'string');
  take('max_tokens', 'maxTokens', isNum);
  take('temperature', 'temperature', isNum);
  take('system_prompt', 'systemPrompt', (v) => typeof v === 'string');
  take('tools', 'tools', (v) => Array.isArray(v) && v.every((t) => typeof t === 'string'));
  take('metadata', 'metadata', (v) =>
    typeof v === 'object' && !Array.isArray(v) && Object.values(v as object).every((x) => typeof x === 'string'),
  );
  return { value: config, problem: wrong.length ? `has members of the wrong type: ${wrong.join(', ')}` : undefined };
}

/**
 * LaForge's `token_usage_json`: null when it records nothing (absent, `{}`, every member zero
 * or absent) or cannot be read; an absent member of a recorded usage reads as 0, and so does
 * one that is not a number (with a problem).
 */
export function parseTokenUsage(value: unknown): Parsed<TokenUsage | null> {
  const usage: TokenUsage = { promptTokens: 0, completionTokens: 0, totalTokens: 0, cost: 0 };
  const { value: obj, problem } = parseJsonObject(value);
  if (!obj) return { value: null, problem };
  const wrong: string[] = [];
  const take = (key: string, field: keyof TokenUsage) => {
    const v = obj[key];
    if (v === undefined || v === null) return;
    if (typeof v === 'number' && Number.isFinite(v)) usage[field] = v;
    else wrong.push(key);
  };
  take('prompt_tokens', 'promptTokens');
  take('completion_tokens', 'completionTokens');
  take('total_tokens', 'totalTokens');
  take('cost', 'cost');
  const recorded = Object.values(usage).some((n) => n !== 0);
  return {
    value: recorded ? usage : null,
    problem: wrong.length ? `has members that are not numbers: ${wrong.join(', ')}` : undefined,
  };
}

// ---------------------------------------------------------------------------------------
// Scalars

/**
 * SQLite's BOOLEAN is NUMERIC affinity: LaForge writes 1/0, hand edits may leave text.
 * The SQL in stepStore (ACTIVE_SQL) mirrors this exactly; change both together.
 */
export function parseActive(value: unknown): { active: boolean; valid: boolean } {
  if (value === null || value === undefined) return { active: true, valid: true };
  if (typeof value === 'number' || typeof value === 'bigint') return { active: Number(value) !== 0, valid: true };
  if (typeof value === 'string') {
    const t = value.trim().toLowerCase();
    if (t === '0' || t === 'false' || t === 'f' || t === 'no') return { active: false, valid: true };
    return { active: true, valid: t === '1' || t === 'true' || t === 't' || t === 'yes' };
  }
  return { active: true, valid: false };
}

export function parseInteger(value: unknown): Parsed<number | null> {
  if (value === null || value === undefined) return { value: null };
  if (typeof value === 'bigint') return { value: Number(value) };
  if (typeof value === 'number' && Number.isInteger(value)) return { value };
  if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) return { value: Number(value) };
  return { value: null, problem: `is not a whole number: ${shown(value)}` };
}

/** The stored duration when it is a whole number ≥ 0, else end minus start when both are known and in order. */
export function resolveDuration(value: unknown, start: Date | null, end: Date | null): number | null {
  const stored = parseInteger(value).value;
  if (stored !== null && stored >= 0) return stored;
  if (start && end && end.getTime() >= start.getTime()) return end.getTime() - start.getTime();
  return null;
}

/** LaForge's CLI: inactive → ROLLED BACK; no end time → RUNNING; non-zero exit → FAILED. */
export function deriveStatus(active: boolean, hasEnd: boolean, exitCode: number | null): StepStatus {
  if (!active) return 'ROLLED BACK';
  if (!hasEnd) return 'RUNNING';
  if (exitCode !== null && exitCode !== 0) return 'FAILED';
  return 'COMPLETED';
}

// ---------------------------------------------------------------------------------------
// Rows

/**
 * Turns one row into a Step. `parentExists` answers whether a parent id is in the
 * database; leave it out to skip that check.
 */
export function stepFromRow(row: StepRow, parentExists?: (id: number) => boolean): Step {
  const id = Number(row.id);
  const label = stepLabel(id);
  const warnings: StepWarning[] = [];
  const warn = (field: string, message: string) => warnings.push({ field, message });

  const active = parseActive(row.active);
  if (!active.valid) warn('active', `${label}'s active flag ${shown(row.active)} is not true or false; it is shown as active.`);

  const parent = parseInteger(row.parent_step_id);
  if (parent.problem) warn('parentStepId', `${label}'s parent step ${parent.problem}.`);
  else if (parent.value !== null && parentExists && !parentExists(parent.value)) {
    warn('parentStepId', `${label}'s parent step ${stepLabel(parent.value)} does not exist in this database.`);
  }

  let commitBefore: string | null = null;
  if (isCommitHash(row.commit_sha_before)) commitBefore = row.commit_sha_before;
  else if (isBlank(row.commit_sha_before)) warn('commitBefore', `${label} has no commit before recorded.`);
  else warn('commitBefore', `${label}'s commit before ${shown(row.commit_sha_before)} is not a commit hash.`);

  // LaForge stores the commit after as a Go string, so "" means "not yet".
  let commitAfter: string | null = null;
  if (isCommitHash(row.commit_sha_after)) commitAfter = row.commit_sha_after;
  else if (!isBlank(row.commit_sha_after)) {
    warn('commitAfter', `${label}'s commit after ${shown(row.commit_sha_after)} is not a commit hash.`);
  }

  const config = parseAgentConfig(row.agent_config_json);
  if (config.problem) warn('agentConfig', `${label}'s agent configuration ${config.problem}.`);
  const agentConfigName =
    typeof row.agent_config_name === 'string' && row.agent_config_name !== '' ? row.agent_config_name : null;

  const tokens = parseTokenUsage(row.token_usage_json);
  if (tokens.problem) {
    const shownAs = tokens.value ? 'they count as zero' : 'it is shown as not recorded';
    warn('tokenUsage', `${label}'s token usage ${tokens.problem}; ${shownAs}.`);
  }

  const startTime = parseDbDate(row.start_time);
  if (startTime === null) {
    if (isBlank(row.start_time)) warn('startTime', `${label} has no start time.`);
    else warn('startTime', `${label}'s start time ${shown(row.start_time)} is not a date Step History can read.`);
  }
  const endTime = parseDbDate(row.end_time);
  const hasEnd = !isBlank(row.end_time);
  if (endTime === null && hasEnd) {
    warn('endTime', `${label}'s end time ${shown(row.end_time)} is not a date Step History can read.`);
  }
  if (startTime && endTime && endTime.getTime() < startTime.getTime()) {
    warn('endTime', `${label} ends (${endTime.toISOString()}) before it starts (${startTime.toISOString()}).`);
  }
  const createdAt = parseDbDate(row.created_at);
  if (createdAt === null && !isBlank(row.created_at)) {
    warn('createdAt', `${label}'s creation time ${shown(row.created_at)} is not a date Step History can read.`);
  }

  const duration = parseInteger(row.duration_ms);
  if (duration.problem) warn('durationMs', `${label}'s duration ${duration.problem}.`);
  else if (duration.value !== null && duration.value < 0) warn('durationMs', `${label}'s duration ${duration.value} ms is negative.`);
  const durationMs = resolveDuration(row.duration_ms, startTime, endTime);

  const exit = parseInteger(row.exit_code);
  if (exit.problem) warn('exitCode', `${label}'s exit code ${exit.problem}.`);

  const projectId = typeof row.project_key === 'string' ? row.project_key : projectKeyOfValue(row.project_id);
  const projectWarning = projectKeyWarning(projectId, label);
  if (projectWarning) warn('projectId', projectWarning);

  return {
    id,
    label,
    active: active.active,
    parentStepId: parent.value,
    commitBefore,
    commitAfter,
    agentConfig: config.value,
    agentConfigName,
    startTime,
    endTime,
    durationMs,
    tokenUsage: tokens.value,
    exitCode: exit.value,
    projectId,
    createdAt,
    status: deriveStatus(active.active, hasEnd, exit.value),
    warnings,
    raw: {
      commitBefore: row.commit_sha_before ?? null,
      commitAfter: row.commit_sha_after ?? null,
      agentConfig: row.agent_config_json ?? null,
      tokenUsage: row.token_usage_json ?? null,
      startTime: row.start_time ?? null,
      endTime: row.end_time ?? null,
      createdAt: row.created_at ?? null,
    },
  };
}

// ---------------------------------------------------------------------------------------
// Refusals: operations that need a field the step does not validly have.

export function requireCommitBefore(step: Step): string {
  if (step.commitBefore) return step.commitBefore;
  if (isBlank(step.raw.commitBefore)) {
    throw failures.noCommitBefore({ stepId: step.id, label: step.label });
  }
  throw failures.badCommitBefore({ stepId: step.id, label: step.label, value: shown(step.raw.commitBefore) });
}

export function requireCommitAfter(step: Step): string {
  if (step.commitAfter) return step.commitAfter;
  if (!isBlank(step.raw.commitAfter)) {
    throw failures.badCommitAfter({ stepId: step.id, label: step.label, value: shown(step.raw.commitAfter) });
  }
  if (step.status === 'RUNNING') {
    throw failures.runningNoCommitAfter({ stepId: step.id, label: step.label });
  }
  throw failures.noCommitAfter({ stepId: step.id, label: step.label });
}

/** Both ends of the step's change, for a diff. */
export function requireCommitRange(step: Step): { before: string; after: string } {
  return { before: requireCommitBefore(step), after: requireCommitAfter(step) };
}

export function requireStartTime(step: Step): Date {
  if (step.startTime) return step.startTime;
  throw isBlank(step.raw.startTime)
    ? failures.noStartTime({ stepId: step.id, label: step.label })
    : failures.badStartTime({ stepId: step.id, label: step.label, value: shown(step.raw.startTime) });
}
