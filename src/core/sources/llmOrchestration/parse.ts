/**
 * LLM Orchestration's stored values, read defensively: statuses in each spelling its code
 * writes, run and response metadata JSON (which may be NULL, cut short or not an object), the
 * model a backend reported, and timestamps (SQLite's UTC `YYYY-MM-DD HH:MM:SS` in columns,
 * JavaScript's ISO text inside JSON). Nothing here throws on a stored value.
 */
import * as l10n from '@vscode/l10n';
import { parseDbDate } from '../../model';
import type { NodeStatus, SqlValue, TokenCounts } from '../types';

import { asText } from '../sqlValues';

export { asText };

/** A finite number from a JSON or column value (numbers, or text holding only a number); null otherwise. */
export function asNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return null;
}

export const asString = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/**
 * runs.status: `running` (POST /api/execute), `IN_PROGRESS` (POST /api/execute/workflow/:id),
 * `completed`, `failed`; compared without case and surrounding spaces. Anything else is unknown.
 */
export function mapRunStatus(raw: string | null): NodeStatus {
  switch ((raw ?? '').trim().toLowerCase()) {
    case 'running':
    case 'in_progress':
      return 'running';
    case 'completed':
      return 'completed';
    case 'failed':
      return 'failed';
    default:
      return 'unknown';
  }
}

/** The spellings LLM Orchestration writes, as stored. */
export const KNOWN_RUN_STATUSES: readonly string[] = ['running', 'IN_PROGRESS', 'completed', 'failed'];

export interface ParsedJson {
  /** The parsed object; null when the text is NULL, broken, or not an object. */
  value: Record<string, unknown> | null;
  /** The stored text (null for NULL). */
  raw: string | null;
  /** Why the text could not be used, as a sentence; null when it is NULL or an object. */
  problem: string | null;
  /** The parsed value when it is valid JSON (also when it is not an object). */
  parsed: unknown;
}

/** Parses a row's metadata column; the problem is a sentence about the row's metadata. */
export function parseJsonObject(value: SqlValue | undefined): ParsedJson {
  const raw = asText(value);
  if (raw === null) return { value: null, raw, problem: null, parsed: undefined };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { value: null, raw, problem: l10n.t('Its metadata is not valid JSON ({0}); the stored text is shown as it is.', why), parsed: undefined };
  }
  if (parsed === null) return { value: null, raw, problem: null, parsed };
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { value: null, raw, problem: l10n.t('Its metadata is JSON but not an object; the stored text is shown as it is.'), parsed };
  }
  return { value: parsed as Record<string, unknown>, raw, problem: null, parsed };
}

/** A timestamp from a column or a JSON field; null when absent or not a time. */
export function parseTime(value: unknown): Date | null {
  if (value instanceof Uint8Array) return null;
  return parseDbDate(value);
}

/**
 * The model a backend reported in `model_info`: koboldcpp's `/api/v1/model` answers
 * `{result}`, an OpenAI-compatible `/v1/models` answers `{data: [{id}]}`; a failed look-up is
 * `{success: false, message, port}` and names none.
 */
export function modelName(info: unknown): string | null {
  if (typeof info === 'string') return info.trim() ? info : null;
  if (!info || typeof info !== 'object' || Array.isArray(info)) return null;
  const o = info as Record<string, unknown>;
  if (typeof o.result === 'string' && o.result.trim()) return o.result;
  if (Array.isArray(o.data)) {
    const ids = o.data
      .map((d) => (d && typeof d === 'object' ? asString((d as Record<string, unknown>).id) : null))
      .filter((id): id is string => !!id);
    if (ids.length) return ids.join(', ');
  }
  for (const key of ['model', 'id', 'name']) {
    const v = asString(o[key]);
    if (v && v.trim()) return v;
  }
  return null;
}

export interface LlmConfig {
  port: number | null;
  temperature: number | null;
  maxLength: number | null;
  modelFormat: string | null;
}

export function parseLlmConfig(value: unknown): LlmConfig | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null;
  const o = value as Record<string, unknown>;
  return {
    port: asNumber(o.port),
    temperature: asNumber(o.temperature),
    maxLength: asNumber(o.max_length),
    modelFormat: asString(o.model_format),
  };
}

export function formatLlmConfig(c: LlmConfig): string {
  const parts: string[] = [];
  if (c.port !== null) parts.push(l10n.t('port {0}', c.port));
  if (c.temperature !== null) parts.push(l10n.t('temperature {0}', c.temperature));
  if (c.maxLength !== null) parts.push(l10n.t('max length {0}', c.maxLength));
  if (c.modelFormat !== null) parts.push(l10n.t('format {0}', c.modelFormat));
  return parts.join(' · ');
}

/** What a response's metadata says, each field null when it is absent, null or not usable. */
export interface ResponseFacts {
  tokens: TokenCounts | null;
  durationMs: number | null;
  tokensPerSecond: number | null;
  finishReason: string | null;
  responseType: string | null;
  /** From model_info; else the backend as llm_config names it (`port 5002 · format llama`). */
  model: string | null;
  modelFromInfo: string | null;
  /** model_info's failure message, when the look-up failed. */
  modelInfoProblem: string | null;
  llmConfig: LlmConfig | null;
}

/**
 * processResponse's metadata. A backend that returns no token counts leaves `tokens` NaN,
 * which JSON.stringify stores as null, beside `promptTokens: 0, completionTokens: 0` and
 * `tokens_per_second: 0` that stand for "no count": with `tokens` null those zeros are read as
 * not recorded.
 */
export function responseFacts(meta: Record<string, unknown> | null): ResponseFacts {
  if (!meta) {
    return { tokens: null, durationMs: null, tokensPerSecond: null, finishReason: null, responseType: null, model: null, modelFromInfo: null, modelInfoProblem: null, llmConfig: null };
  }
  const total = asNumber(meta.tokens);
  let prompt = asNumber(meta.promptTokens);
  let completion = asNumber(meta.completionTokens);
  let tps = asNumber(meta.tokens_per_second);
  if (total === null) {
    if (prompt === 0 && completion === 0) prompt = completion = null;
    if (tps === 0) tps = null;
  }
  const tokens = total === null && prompt === null && completion === null ? null : { prompt, completion, total };
  const llmConfig = parseLlmConfig(meta.llm_config);
  const modelFromInfo = modelName(meta.model_info);
  let modelInfoProblem: string | null = null;
  const info = meta.model_info;
  if (!modelFromInfo && info && typeof info === 'object' && !Array.isArray(info)) {
    const o = info as Record<string, unknown>;
    if (o.success === false) modelInfoProblem = asString(o.message) ?? l10n.t('the model look-up failed');
  }
  let model = modelFromInfo;
  if (!model && llmConfig && llmConfig.port !== null) {
    model = llmConfig.modelFormat ? l10n.t('port {0} · format {1}', llmConfig.port, llmConfig.modelFormat) : l10n.t('port {0}', llmConfig.port);
  }
  return {
    tokens,
    durationMs: asNumber(meta.duration_ms),
    tokensPerSecond: tps,
    finishReason: asString(meta.finishReason),
    responseType: asString(meta.responseType),
    model,
    modelFromInfo,
    modelInfoProblem,
    llmConfig,
  };
}

export interface RunModel {
  payloadName: string | null;
  model: string | null;
  modelInfo: unknown;
}

/**
 * Run metadata's `models`: json_set bound JSON.stringify([{payloadName, modelInfo}]) as text,
 * so it is a JSON string holding JSON; an array is read too. Null when absent; a problem when
 * it does not parse.
 */
export function runModels(meta: Record<string, unknown> | null): { models: RunModel[] | null; problem: string | null } {
  if (!meta || meta.models === undefined || meta.models === null) return { models: null, problem: null };
  let list: unknown = meta.models;
  if (typeof list === 'string') {
    try {
      list = JSON.parse(list);
    } catch {
      return { models: null, problem: l10n.t('Its metadata\'s "models" is text that is not valid JSON.') };
    }
  }
  if (!Array.isArray(list)) return { models: null, problem: l10n.t('Its metadata\'s "models" is not a list.') };
  return {
    models: list.map((m) => {
      const o = m && typeof m === 'object' ? (m as Record<string, unknown>) : {};
      return { payloadName: asString(o.payloadName), model: modelName(o.modelInfo), modelInfo: o.modelInfo };
    }),
    problem: null,
  };
}

/** Adds token counts, each part summed over the counts that exist; null when none does. */
export function addTokens(a: TokenCounts | null, b: TokenCounts | null): TokenCounts | null {
  if (!b) return a;
  if (!a) return { ...b };
  const add = (x: number | null, y: number | null) => (x === null ? y : y === null ? x : x + y);
  return { prompt: add(a.prompt, b.prompt), completion: add(a.completion, b.completion), total: add(a.total, b.total) };
}

/** JSON formatted for reading; the input text when it does not parse. */
export function prettyJson(parsed: ParsedJson): string {
  if (parsed.raw === null) return '';
  if (parsed.parsed === undefined) return parsed.raw;
  return JSON.stringify(parsed.parsed, null, 2);
}
