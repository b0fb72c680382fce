/**
 * SQL expressions that read a stored value as model.ts does, so that figures computed by
 * SQLite (GROUP BY, windows) agree with the Steps the tree and details show. Each takes an
 * SQL expression (a quoted column, or `NULL` for a column the table lacks) and mirrors one
 * parser; change both together.
 */

/** The characters JavaScript's trim() removes that matter in a stored value, for SQLite's trim(). */
export const WHITESPACE_SQL = `' ' || char(9, 10, 11, 12, 13)`;

const DIGITS = `'0123456789'`;
const D2 = '[0-9][0-9]';
const DATE_GLOB = `'[0-9][0-9][0-9][0-9]-${D2}-${D2}'`;

/** Mirrors model.parseInteger: the whole number a value holds, else NULL. */
export function integerSql(value: string): string {
  if (value === 'NULL') return 'NULL';
  const t = `trim(${value}, ${WHITESPACE_SQL})`;
  return (
    `(CASE typeof(${value}) WHEN 'integer' THEN ${value}` +
    ` WHEN 'real' THEN CASE WHEN ${value} = CAST(${value} AS INTEGER) THEN CAST(${value} AS INTEGER) END` +
    ` WHEN 'text' THEN CASE WHEN (${t} <> '' AND ${t} NOT GLOB '*[^0-9]*')` +
    ` OR (${t} GLOB '-[0-9]*' AND substr(${t}, 2) NOT GLOB '*[^0-9]*') THEN CAST(${t} AS INTEGER) END END)`
  );
}

/** Mirrors model.epochDate on a number: seconds below 1e11, else milliseconds; NULL unless positive. */
function epochMsSql(n: string): string {
  const ms = `round(CASE WHEN ${n} < 1e11 THEN ${n} * 1000.0 ELSE ${n} END)`;
  return `(CASE WHEN ${n} > 0 AND ${ms} <= 8640000000000000 THEN CAST(${ms} AS INTEGER) END)`;
}

/**
 * Mirrors model.parseDbDate, as milliseconds since the epoch (NULL where it reads no date):
 * epoch seconds or milliseconds as a number or digits; `YYYY-MM-DD` with an optional time
 * `[T ]HH:MM[:SS[.fff…]]` (a comma for the point too, fractions cut to milliseconds) and an
 * optional zone `Z`, `±HH`, `±HHMM`, `±HH:MM`, UTC when none; a real calendar date; not Go's
 * zero time. Go's `time.Time.String()` suffixes (` MST`, ` m=+0.001`) are not read here: a
 * step stored so counts as undated in SQL figures. Each part of the text has a fixed place,
 * so every piece is one substr() of the trimmed text and the expression stays small.
 */
export function dateMsSql(value: string): string {
  if (value === 'NULL') return 'NULL';
  const t = `trim(${value}, ${WHITESPACE_SQL})`;
  // The number part of a numeric text: digits with at most one inner point.
  const u = `ltrim(${t}, '-')`;
  const numericText =
    `(${t} NOT GLOB '--*' AND ${u} GLOB '[0-9]*' AND ${u} NOT GLOB '*.' AND replace(${u}, '.', '') NOT GLOB '*[^0-9]*'` +
    ` AND length(${u}) - length(replace(${u}, '.', '')) <= 1)`;

  const day = `substr(${t}, 1, 10)`;
  const int = (from: number, length: number) => `CAST(substr(${t}, ${from}, ${length}) AS INTEGER)`;
  const dayMs = `CAST((julianday(${day}) - 2440587.5) * ${86_400_000} AS INTEGER)`;
  // '+0 days' makes SQLite carry 02-31 into March, as every version does then.
  const dayOk = `(date(${day}, '+0 days') = ${day} AND NOT (substr(${day}, 1, 4) <= '0001' AND substr(${day}, 6) = '01-01'))`;
  /** The zone `z` (a text with nothing around it) as minutes east of UTC; NULL when it is not one. */
  const offset = (z: string) => {
    const hh = `CAST(substr(${z}, 2, 2) AS INTEGER)`;
    const mm = `CAST(substr(${z}, -2, 2) AS INTEGER)`;
    const signed = (minutes: string) => `(CASE WHEN substr(${z}, 1, 1) = '-' THEN -1 ELSE 1 END) * (${minutes})`;
    return (
      `(CASE WHEN ${z} IN ('', 'Z', 'z') THEN 0` +
      ` WHEN ${z} GLOB '[+-]${D2}' THEN CASE WHEN ${hh} <= 23 THEN ${signed(`${hh} * 60`)} END` +
      ` WHEN ${z} GLOB '[+-]${D2}${D2}' OR ${z} GLOB '[+-]${D2}:${D2}' THEN` +
      ` CASE WHEN ${hh} <= 23 AND ${mm} <= 59 THEN ${signed(`${hh} * 60 + ${mm}`)} END END)`
    );
  };
  const zoneFrom = (from: string) => `ltrim(substr(${t}, ${from}), ${WHITESPACE_SQL})`;
  /** A time of `clock` ms (NULL when out of range) and zone from `from` on. */
  const at = (clock: string, from: string) => `(${dayMs} + ${clock} - ${offset(zoneFrom(from))} * 60000)`;
  const hm = `(CASE WHEN ${int(12, 2)} <= 23 AND ${int(15, 2)} <= 59 THEN ${int(12, 2)} * 3600000 + ${int(15, 2)} * 60000 END)`;
  const hms = `(CASE WHEN ${int(18, 2)} <= 59 THEN ${hm} + ${int(18, 2)} * 1000 END)`;
  // The fraction's digits, from the 21st character on: their count, and the first three as ms.
  const digits = `(length(substr(${t}, 21)) - length(ltrim(substr(${t}, 21), ${DIGITS})))`;
  const fractionMs = `CAST(substr(substr(${t}, 21, 3) || '000', 1, min(${digits}, 3)) || substr('000', 1, 3 - min(${digits}, 3)) AS INTEGER)`;
  const clocked = `'[0-9][0-9][0-9][0-9]-${D2}-${D2}[Tt ]${D2}:${D2}`;

  const text =
    `CASE WHEN ${t} GLOB ${DATE_GLOB.slice(0, -1)}*' THEN CASE WHEN NOT ${dayOk} THEN NULL` +
    ` WHEN ${t} GLOB ${clocked}:${D2}[.,][0-9]*' THEN ${at(`${hms} + ${fractionMs}`, `21 + ${digits}`)}` +
    ` WHEN ${t} GLOB ${clocked}:${D2}*' THEN ${at(hms, '20')}` +
    ` WHEN ${t} GLOB ${clocked}*' THEN ${at(hm, '17')}` +
    ` ELSE ${at('0', '11')} END END`;
  // What SQLite and LaForge mostly write, `2006-01-02T15:04:05Z` or `2006-01-02 15:04:05`, read
  // in a few calls: SQLite's own parser reads it as parseDbDate does once the hour is at most 23
  // (SQLite takes 24) and the day exists in its month (SQLite carries 02-31 into March). Years
  // before 0001-01-02 (Go's zero time among them) take the long way.
  const clock = `[0-9][0-9][0-9][0-9]-${D2}-${D2}[T ]${D2}:${D2}:${D2}`;
  const common =
    `((${value} GLOB '${clock}Z' OR ${value} GLOB '${clock}') AND ${value} >= '0001-01-02' AND substr(${value}, 12, 2) <= '23'` +
    ` AND (substr(${value}, 9, 2) <= '28' OR date(substr(${value}, 1, 10), '+0 days') = substr(${value}, 1, 10)))`;
  return (
    `(CASE typeof(${value}) WHEN 'text' THEN CASE WHEN ${common} THEN CAST(strftime('%s', ${value}) AS INTEGER) * 1000` +
    ` WHEN ${numericText} THEN ${epochMsSql(`CAST(${t} AS REAL)`)} ELSE ${text} END` +
    ` WHEN 'integer' THEN ${epochMsSql(value)} WHEN 'real' THEN ${epochMsSql(value)} END)`
  );
}

/** The four members of LaForge's token usage, in this order. */
export const TOKEN_MEMBERS = ['prompt_tokens', 'completion_tokens', 'total_tokens', 'cost'] as const;

/**
 * Mirrors model.parseTokenUsage in two steps: `object` is the value when it is a JSON object,
 * else NULL; `member(object, name)` a member of that as a number, 0 when absent or not a
 * number; `recorded(members)` whether one of the four is non-zero (LaForge writes zeros where
 * nothing was recorded). Kept apart so that a query can compute the object once per row.
 */
export const tokenUsageSql = {
  object: (value: string): string =>
    value === 'NULL' ? 'NULL' : `(CASE WHEN typeof(${value}) = 'text' AND json_valid(${value}) AND json_type(${value}) = 'object' THEN ${value} END)`,
  member: (object: string, name: (typeof TOKEN_MEMBERS)[number]): string =>
    `(CASE json_type(${object}, '$.${name}') WHEN 'integer' THEN ${object} ->> '$.${name}' WHEN 'real' THEN ${object} ->> '$.${name}' ELSE 0 END)`,
  recorded: (members: readonly string[]): string => `(${members.map((m) => `${m} <> 0`).join(' OR ')})`,
};
