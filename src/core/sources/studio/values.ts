/**
 * Values as Autonomous Software Studio and LangGraph store them: typed blobs (msgpack, json,
 * null, bytes, pickle) decoded into a display tree, the tree printed as stable, pretty text,
 * and the timestamps Python writes.
 *
 * Nothing here executes stored data: a pickle blob is shown as its type and size only, and
 * extension types LangGraph's JsonPlusSerializer writes (LangChain messages, pydantic models,
 * datetimes, UUIDs) are shown as their constructor's name and arguments, never constructed.
 */
import * as l10n from '@vscode/l10n';
import { decode as msgpackDecode, ExtData } from '@msgpack/msgpack';
import { timeFact } from '../figures';
import type { DetailFact, SqlValue } from '../types';

/** Text a formatted value may reach; past it the text is cut with a note. */
export const MAX_TEXT = 5 * 1024 * 1024;
/** A blob larger than this is not decoded at all. */
export const MAX_BLOB = 64 * 1024 * 1024;

/** A map, its entries in stored order (printing sorts them). */
export class ShownMap {
  constructor(readonly entries: [string, Shown][]) {}
  get(key: string): Shown | undefined {
    return this.entries.find(([k]) => k === key)?.[1];
  }
}
/** An object a serializer recorded by its constructor: `module.Name(args)`. */
export class ShownTyped {
  constructor(readonly name: string, readonly arg: Shown) {}
}
/** A part that cannot be shown as a value: printed as it is, e.g. `<ext 42, 17 bytes>`. */
export class ShownOpaque {
  constructor(readonly text: string) {}
}
export type Shown = null | boolean | number | string | Shown[] | ShownMap | ShownTyped | ShownOpaque;

const size = (n: number): string => (n === 1 ? l10n.t('{0} byte', n) : l10n.t('{0} bytes', n));
export const opaque = (type: string, bytes: number, why?: string): ShownOpaque => new ShownOpaque(`<${type}, ${size(bytes)}${why ? `: ${why}` : ''}>`);

/** The bytes of a column that should hold a blob; text is taken as its UTF-8 bytes. */
export function asBytes(value: SqlValue): Uint8Array | null {
  if (value === null) return null;
  if (value instanceof Uint8Array) return value;
  return new TextEncoder().encode(String(value));
}

export type Decoded = { ok: true; value: unknown } | { ok: false; shown: ShownOpaque; why: string };

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Decodes a typed blob as JsonPlusSerializer.loads_typed reads it, without pickle. */
export function decodeTyped(type: SqlValue, data: SqlValue): Decoded {
  const t = type === null ? '' : String(type).toLowerCase();
  const bytes = asBytes(data);
  const n = bytes?.length ?? 0;
  const fail = (label: string, why: string): Decoded => ({ ok: false, shown: opaque(label, n, why), why });
  if (t === 'null' || (bytes === null && t !== 'json')) return { ok: true, value: null };
  if (!bytes) return { ok: true, value: null };
  if (t === 'bytes' || t === 'bytearray') return { ok: false, shown: opaque(t, n), why: '' };
  if (t === 'pickle') return { ok: false, shown: opaque('pickle', n), why: l10n.t('pickled Python objects are not read') };
  if (n > MAX_BLOB) return fail(t || 'blob', l10n.t('too large to decode'));
  if (t === 'json') {
    try {
      return { ok: true, value: JSON.parse(typeof data === 'string' ? data : utf8.decode(bytes)) };
    } catch {
      return fail('json', l10n.t('not valid JSON'));
    }
  }
  if (t === 'msgpack') {
    try {
      return { ok: true, value: msgpackDecode(bytes) };
    } catch (err) {
      return fail('msgpack', l10n.t('cannot be decoded ({0})', err instanceof Error ? err.message : String(err)));
    }
  }
  return { ok: false, shown: opaque(t || 'untyped', n), why: l10n.t('serializer "{0}" is not known', t) };
}

/** JsonPlusSerializer's extension codes (langgraph.checkpoint.serde.jsonplus). */
const EXT_CONSTRUCTOR_SINGLE_ARG = 0;
const EXT_CONSTRUCTOR_POS_ARGS = 1;
const EXT_CONSTRUCTOR_KW_ARGS = 2;
const EXT_METHOD_SINGLE_ARG = 3;
const EXT_PYDANTIC_V1 = 4;
const EXT_PYDANTIC_V2 = 5;
const EXT_NUMPY_ARRAY = 6;

function extBytes(ext: ExtData): Uint8Array {
  return typeof ext.data === 'function' ? ext.data(0) : ext.data;
}

function fromExt(ext: ExtData, depth: number): Shown {
  const data = extBytes(ext);
  const unknown = opaque(`ext ${ext.type}`, data.length);
  if (ext.type < EXT_CONSTRUCTOR_SINGLE_ARG || ext.type > EXT_NUMPY_ARRAY) return unknown;
  let inner: unknown;
  try {
    inner = msgpackDecode(data);
  } catch {
    return unknown;
  }
  if (!Array.isArray(inner)) return unknown;
  if (ext.type === EXT_NUMPY_ARRAY) {
    const [dtype, shape, order, buf] = inner as unknown[];
    return new ShownTyped('numpy.ndarray', new ShownMap([
      ['dtype', toShown(dtype, depth + 1)],
      ['shape', toShown(shape, depth + 1)],
      ['order', toShown(order, depth + 1)],
      ['data', buf instanceof Uint8Array ? opaque('bytes', buf.length) : toShown(buf, depth + 1)],
    ]));
  }
  const [mod, name, arg] = inner as unknown[];
  if (typeof mod !== 'string' || typeof name !== 'string') return unknown;
  const full = mod ? `${mod}.${name}` : name;
  switch (ext.type) {
    case EXT_CONSTRUCTOR_POS_ARGS:
      return new ShownTyped(full, Array.isArray(arg) ? (arg as unknown[]).map((a) => toShown(a, depth + 1)) : toShown(arg, depth + 1));
    case EXT_METHOD_SINGLE_ARG: {
      const method = (inner as unknown[])[3];
      return new ShownTyped(typeof method === 'string' && method ? `${full}.${method}` : full, toShown(arg, depth + 1));
    }
    case EXT_CONSTRUCTOR_SINGLE_ARG:
    case EXT_CONSTRUCTOR_KW_ARGS:
    case EXT_PYDANTIC_V1:
    case EXT_PYDANTIC_V2:
    default:
      return new ShownTyped(full, toShown(arg, depth + 1));
  }
}

const MAX_DEPTH = 200;

/** A decoded msgpack or JSON value as a display tree. */
export function toShown(value: unknown, depth = 0): Shown {
  if (depth > MAX_DEPTH) return new ShownOpaque(l10n.t('<nested too deeply>'));
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return value;
  if (typeof value === 'bigint') return new ShownOpaque(value.toString());
  if (value instanceof ShownMap || value instanceof ShownTyped || value instanceof ShownOpaque) return value;
  if (value instanceof ExtData) return fromExt(value, depth);
  if (value instanceof Uint8Array) return opaque('bytes', value.length);
  if (value instanceof Date) return new ShownTyped('timestamp', Number.isNaN(value.getTime()) ? null : value.toISOString());
  if (Array.isArray(value)) return value.map((v) => toShown(v, depth + 1));
  if (typeof value === 'object') return new ShownMap(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, toShown(v, depth + 1)]));
  return new ShownOpaque(`<${typeof value}>`);
}

class TooLong extends Error {}

/**
 * Prints a display tree as indented JSON-like text: map keys sorted (code-unit order), strings
 * JSON-quoted (control characters escaped, HTML kept as it is), opaque parts as they are,
 * typed objects as `module.Name(…)`. Cut at `limit` characters with a note.
 */
export function formatShown(value: Shown, limit = MAX_TEXT): string {
  const parts: string[] = [];
  let length = 0;
  const put = (s: string): void => {
    parts.push(s);
    length += s.length;
    if (length > limit) throw new TooLong();
  };
  const walk = (v: Shown, indent: string): void => {
    if (v === null) return put('null');
    if (typeof v === 'boolean') return put(String(v));
    if (typeof v === 'number') return put(Number.isFinite(v) ? JSON.stringify(v) : String(v));
    if (typeof v === 'string') return put(JSON.stringify(v));
    if (v instanceof ShownOpaque) return put(v.text);
    if (v instanceof ShownTyped) {
      put(`${v.name}(`);
      walk(v.arg, indent);
      return put(')');
    }
    const inner = indent + '  ';
    if (Array.isArray(v)) {
      if (v.length === 0) return put('[]');
      put('[');
      v.forEach((x, i) => {
        put(i === 0 ? '\n' + inner : ',\n' + inner);
        walk(x, inner);
      });
      return put('\n' + indent + ']');
    }
    const entries = [...v.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (entries.length === 0) return put('{}');
    put('{');
    entries.forEach(([k, x], i) => {
      put((i === 0 ? '\n' : ',\n') + inner + JSON.stringify(k) + ': ');
      walk(x, inner);
    });
    put('\n' + indent + '}');
  };
  try {
    walk(value, '');
    return parts.join('');
  } catch (err) {
    if (!(err instanceof TooLong)) throw err;
    return capText(parts.join(''), limit);
  }
}

/** Cuts a text at `limit` characters with a note saying so. */
export function capText(text: string, limit = MAX_TEXT): string {
  if (text.length <= limit) return text;
  return l10n.t('{0}\n… [cut: the text is longer than {1} characters; the rest is not shown]', text.slice(0, limit), limit);
}

/** A JSON text pretty-printed in its own key order; null when it does not parse. */
export function prettyJson(text: string): string | null {
  try {
    return capText(JSON.stringify(JSON.parse(text), null, 2));
  } catch {
    return null;
  }
}

export interface ParsedTime {
  date: Date | null;
  /** Stored without an offset: read as this computer's local time. */
  local: boolean;
  raw: string | null;
}

const ISO = /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d\d(?::?\d\d)?)?$/i;

/** Python isoformat, SQLite CURRENT_TIMESTAMP and PostgreSQL text; with an offset or, without one, as local time. */
export function parseTime(value: SqlValue | undefined): ParsedTime {
  if (value === null || value === undefined) return { date: null, local: false, raw: null };
  if (typeof value === 'number') {
    const ms = Math.abs(value) < 1e11 ? value * 1000 : value;
    const d = new Date(ms);
    return { date: Number.isNaN(d.getTime()) ? null : d, local: false, raw: String(value) };
  }
  const raw = value instanceof Uint8Array ? utf8.decode(value) : value;
  const m = ISO.exec(raw.trim());
  if (!m) return { date: null, local: false, raw };
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', off] = m;
  const ms = frac ? Math.floor(Number(frac.padEnd(3, '0').slice(0, 3))) : 0;
  let date: Date;
  if (off) {
    let offsetMin = 0;
    if (off.toUpperCase() !== 'Z') {
      const sign = off[0] === '-' ? -1 : 1;
      const digits = off.slice(1).replace(':', '');
      offsetMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
    }
    date = new Date(Date.UTC(+y, +mo - 1, +d, +h, +mi, +s, ms) - offsetMin * 60_000);
  } else {
    date = new Date(+y, +mo - 1, +d, +h, +mi, +s, ms);
  }
  return { date: Number.isNaN(date.getTime()) ? null : date, local: !off, raw };
}

/** A time's fact in the one format (sources/figures.ts `timeFact`), with the note when it was read as local time. */
export function parsedTimeFact(label: string, t: ParsedTime): DetailFact {
  return timeFact(label, t.date, t.raw, { local: t.local });
}

export const localTimeNote = (): string => l10n.t('Times stored without an offset (Python isoformat of a local time) are read as this computer\'s local time.');

export function text(value: SqlValue | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) return utf8.decode(value);
  return String(value);
}

/** A number column; null when empty, with a warning when it holds something else. */
export function numberOf(value: SqlValue | undefined, column: string, warnings: string[]): number | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  warnings.push(l10n.t('{0} holds {1}, not a number.', column, describe(value)));
  return null;
}

/** A boolean stored 0/1; null when empty, with a warning when it holds something else. */
export function boolOf(value: SqlValue | undefined, column: string, warnings: string[]): boolean | null {
  if (value === null || value === undefined) return null;
  if (value === 0 || value === 1) return value === 1;
  if (value === '0' || value === 'false' || value === 'False') return false;
  if (value === '1' || value === 'true' || value === 'True') return true;
  warnings.push(l10n.t('{0} holds {1}, not 0 or 1.', column, describe(value)));
  return null;
}

function describe(value: SqlValue): string {
  if (value instanceof Uint8Array) return l10n.t('a blob of {0}', size(value.length));
  const s = String(value);
  return JSON.stringify(s.length > 40 ? s.slice(0, 40) + '…' : s);
}

/** Parses a JSON column; undefined with a warning when it is not JSON. */
export function jsonOf(value: SqlValue | undefined, column: string, warnings: string[]): unknown {
  const s = text(value);
  if (s === null || s.trim() === '') return undefined;
  try {
    return JSON.parse(s);
  } catch {
    warnings.push(l10n.t('{0} is not valid JSON.', column));
    return undefined;
  }
}

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
