/**
 * Which project a step row belongs to. LaForge writes `project_id` as text, but SQLite lets a
 * row hold any storage class there, and every row must show under some project. A project is
 * named by its key, a string:
 *
 * - NULL and '' → `''`, shown as "(no project)": both mean that no project was recorded;
 * - any other text → the text itself (one that starts with U+0001 is written `\u0001t` + text,
 *   so that it cannot be taken for one of the keys below);
 * - an integer → `\u0001i` + its digits, shown as `42`;
 * - a real → `\u0001r` + SQLite's quote() of it (exact: it reads back as the same number),
 *   shown as SQLite prints it, `1.5`, `42.0`, `1.0e+20`;
 * - a blob → `\u0001b` + its hex(), shown as `X'0102'`.
 *
 * SQLite computes the key (projectKeySql), so the project list, every count, every page of
 * steps and each step's own projectId come from one expression and cannot disagree; a write
 * that must touch exactly a project's rows uses projectWhere.
 */

/** Starts every key that is not a text `project_id` as it was stored. */
export const PROJECT_KEY_MARK = '\u0001';

export type ProjectKeyKind = 'none' | 'text' | 'integer' | 'real' | 'blob';

const MARK_SQL = 'char(1)';

/** The SQL expression of a row's project key; `column` is an SQL name, quoted if it must be. */
export function projectKeySql(column = 'project_id'): string {
  const p = column;
  return (
    `(CASE typeof(${p})` +
    ` WHEN 'text' THEN CASE WHEN substr(${p}, 1, 1) = ${MARK_SQL} THEN ${MARK_SQL} || 't' || ${p} ELSE ${p} END` +
    ` WHEN 'null' THEN ''` +
    ` WHEN 'integer' THEN ${MARK_SQL} || 'i' || ${p}` +
    ` WHEN 'real' THEN ${MARK_SQL} || 'r' || quote(${p})` +
    ` ELSE ${MARK_SQL} || 'b' || hex(${p}) END)`
  );
}

export interface ProjectWhereOptions {
  /** The `project_id` column as SQL; default `project_id`. */
  column?: string;
  /**
   * The column has TEXT or no (BLOB) affinity (see columnAffinity): an equality on the column
   * is then added in front, so an index on it can find the rows; it never drops one the key
   * matches. Leave it out when unsure: the predicate is the same, only slower.
   */
  indexable?: boolean;
}

/**
 * The WHERE condition selecting exactly the rows whose project key is `key`, with its
 * parameters in order: `UPDATE steps SET active = ? WHERE ${sql} AND id IN (…)` with
 * `[value, ...params, ...ids]`.
 */
export function projectWhere(key: string, options: ProjectWhereOptions = {}): { sql: string; params: string[] } {
  const column = options.column ?? 'project_id';
  const exact = `${projectKeySql(column)} = ?`;
  // A plain text key is the stored text itself; with TEXT or no affinity, `column = key` holds
  // for every such row (whatever the column's collation), so it only narrows the search.
  if (options.indexable && projectKeyKind(key) === 'text' && !key.startsWith(PROJECT_KEY_MARK)) {
    return { sql: `(${column} = ? AND ${exact})`, params: [key, key] };
  }
  return { sql: exact, params: [key] };
}

/** SQLite's affinity for a declared column type (the rules of "Determination Of Column Affinity"). */
export function columnAffinity(declaredType: string): 'INTEGER' | 'TEXT' | 'BLOB' | 'REAL' | 'NUMERIC' {
  const t = declaredType.toUpperCase();
  if (t.includes('INT')) return 'INTEGER';
  if (t.includes('CHAR') || t.includes('CLOB') || t.includes('TEXT')) return 'TEXT';
  if (t.includes('BLOB') || t.trim() === '') return 'BLOB';
  if (t.includes('REAL') || t.includes('FLOA') || t.includes('DOUB')) return 'REAL';
  return 'NUMERIC';
}

export function projectKeyKind(key: string): ProjectKeyKind {
  if (key === '') return 'none';
  if (key.startsWith(PROJECT_KEY_MARK)) {
    switch (key[1]) {
      case 'i':
        return 'integer';
      case 'r':
        return 'real';
      case 'b':
        return 'blob';
    }
  }
  return 'text';
}

/** More bytes of a blob than this are left out of its name. */
const BLOB_BYTES_SHOWN = 16;

/**
 * The project's name as the views show it: `(no project)`, the text, `42`, `1.5`, `X'0102'`.
 * Not yet safe for display: text goes through safeText where it reaches the user.
 */
export function projectLabel(key: string): string {
  switch (projectKeyKind(key)) {
    case 'none':
      return '(no project)';
    case 'integer':
    case 'real':
      return key.slice(2);
    case 'blob': {
      const hex = key.slice(2);
      const bytes = hex.length / 2;
      if (bytes <= BLOB_BYTES_SHOWN) return `X'${hex}'`;
      return `X'${hex.slice(0, BLOB_BYTES_SHOWN * 2)}…' (${bytes} bytes)`;
    }
    case 'text': {
      const text = key.startsWith(PROJECT_KEY_MARK + 't') ? key.slice(2) : key;
      // A name of spaces only would be an empty-looking row.
      return text.trim() === '' ? `"${text}"` : text;
    }
  }
}

/** What a step's project id says about the row, when it is not a text project id. */
export function projectKeyWarning(key: string, stepLabel: string): string | undefined {
  const name = projectLabel(key);
  switch (projectKeyKind(key)) {
    case 'none':
      return `${stepLabel} has no project id; it is listed under ${name}.`;
    case 'integer':
    case 'real':
      return `${stepLabel}'s project id is the number ${name}, not text; it is listed under project ${name}.`;
    case 'blob':
      return `${stepLabel}'s project id is binary data, not text; it is listed under project ${name}.`;
    case 'text':
      return undefined;
  }
}

/**
 * The key of a `project_id` value as JavaScript sees it, for a row that did not come through
 * projectKeySql (a row built in a test, or by hand). A number reads as an integer when it is
 * whole; the store's rows always carry the key SQLite computed, which also tells 42.0 from 42.
 */
export function projectKeyOfValue(value: unknown): string {
  if (value === null || value === undefined || value === '') return '';
  if (typeof value === 'string') return value.startsWith(PROJECT_KEY_MARK) ? `${PROJECT_KEY_MARK}t${value}` : value;
  if (typeof value === 'bigint') return `${PROJECT_KEY_MARK}i${value}`;
  if (typeof value === 'number') {
    return Number.isInteger(value) ? `${PROJECT_KEY_MARK}i${value}` : `${PROJECT_KEY_MARK}r${value}`;
  }
  if (value instanceof Uint8Array) {
    return `${PROJECT_KEY_MARK}b${[...value].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join('')}`;
  }
  return String(value);
}
