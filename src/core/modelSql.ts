/**
 * SQL expressions that read a stored value as model.ts does, so that what SQLite selects and
 * counts (a failed step's exit code, an end time that is only blanks) agrees with the Steps the
 * tree and details show. Each takes an SQL expression (a quoted column, or `NULL` for a column
 * the table lacks) and mirrors one parser; change both together.
 */

/** The characters JavaScript's trim() removes that matter in a stored value, for SQLite's trim(). */
export const WHITESPACE_SQL = `' ' || char(9, 10, 11, 12, 13)`;

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
