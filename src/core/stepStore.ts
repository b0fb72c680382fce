/**
 * Reads a LaForge step database, read-only: the file (and its `-wal`) is read into memory
 * and opened there with sql.js, so nothing is ever written or created beside it.
 */
import * as fs from 'fs';
import { failures } from './messages';
import { Logger, silentLogger } from './log';
import {
  deriveStatus,
  isBlank,
  parseDbDate,
  parseInteger,
  parseTokenUsage,
  resolveDuration,
  Step,
  StepRow,
  stepFromRow,
  utcDay,
} from './model';
import { Fingerprint, readFingerprint, sameFingerprint } from './fingerprint';
import { columnAffinity, projectKeySql, projectWhere } from './projectKey';
import { analyticsStepsSql, checkAnalyticsOptions, foldAnalytics, stepFiguresOfRow, type AnalyticsOptions, type StepAnalytics, type StepFigures } from './analytics';
import { integerSql, WHITESPACE_SQL } from './modelSql';
import { openSnapshot, sqlReader, type SqliteSnapshot } from './sources/snapshot';
import type { SqlReader, SqlValue } from './sources/types';

// Fingerprints live in their own module so the extension host can check for changes
// without bundling sql.js; re-exported here for callers of the store.
export { readFingerprint, sameFingerprint } from './fingerprint';
export type { FileStamp, Fingerprint } from './fingerprint';

// ---------------------------------------------------------------------------------------
// Public shapes

export interface StepStoreOptions {
  /** The sql.js WASM file; defaults to the one in the installed sql.js package. */
  wasmPath?: string;
  log?: Logger;
  /**
   * Tests only: called after the files are read and before they are stat'ed again, with the
   * attempt number (1 or 2), to simulate a writer changing them mid-read.
   */
  beforeSecondStat?: (attempt: number) => void;
}

export interface StepFilter {
  /** Only steps whose status is FAILED. */
  failedOnly?: boolean;
  /** Only steps run with this model: agent_config_json's model, else agent_config_name. */
  model?: string;
  /** Case-insensitive text found in the step's label (S12), commits, model or configuration. */
  text?: string;
}

export interface StepQueryOptions {
  offset?: number;
  /** Default 200. */
  limit?: number;
  activeOnly?: boolean;
  filter?: StepFilter;
}

export interface StepCountOptions {
  activeOnly?: boolean;
  filter?: StepFilter;
}

export interface ProjectSummary {
  /** The project's key (projectKey.ts): what steps(), stepCount() and a Step's projectId use; projectLabel() names it. */
  id: string;
  stepCount: number;
  activeCount: number;
  /** Start of the project's newest step (highest id). */
  lastStart: Date | null;
}

export interface StepCounters {
  steps: number;
  durationMs: number;
  /** Steps whose row records token usage; the token and cost sums are theirs alone. */
  usageSteps: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  cost: number;
  failures: number;
  rollbacks: number;
}

export interface StepAggregates {
  /** Days in UTC, oldest first; steps whose start time cannot be read are not in any day. */
  byDay: ({ day: string } & StepCounters)[];
  /** By the config's model, else the config name, else "unknown"; most steps first. */
  byModel: ({ model: string } & StepCounters)[];
  totals: StepCounters;
  /** Steps counted in totals and byModel but in no day, for want of a readable start time. */
  undatedSteps: number;
  /** The steps whose row records no token usage, lowest id first: their cost may be in their logs. */
  unrecordedStepIds: number[];
}

/** Which of LaForge's two known schemas the database has. */
export type SchemaVariant = 'agent_config_json' | 'agent_config_name' | 'both' | 'neither';

export interface SchemaInfo {
  variant: SchemaVariant;
  /** Columns of `steps` as the database declares them. */
  columns: string[];
  /** Known optional columns the table lacks; they read as null. */
  missingOptional: string[];
}

// ---------------------------------------------------------------------------------------

const REQUIRED = ['id', 'commit_sha_before', 'project_id'] as const;
const KNOWN = [
  'id',
  'active',
  'parent_step_id',
  'commit_sha_before',
  'commit_sha_after',
  'agent_config_json',
  'agent_config_name',
  'start_time',
  'end_time',
  'duration_ms',
  'token_usage_json',
  'exit_code',
  'project_id',
  'created_at',
] as const satisfies readonly (keyof StepRow)[];
type Known = (typeof KNOWN)[number];

const quoteId = (name: string) => `"${name.replace(/"/g, '""')}"`;
const ms = (t0: number) => `${(performance.now() - t0).toFixed(1)} ms`;

export class StepStore {
  private readonly col: Record<Known, string>;
  private readonly activeSql: string;
  private readonly failedSql: string;
  private readonly modelSql: string;
  private readonly searchableSql: string;
  /** The project key of a row: the one expression that decides which project a row is listed under. */
  private readonly projectKeySql: string;
  /** project_id has TEXT or no affinity, so an index on it can serve a text key. */
  private readonly projectIndexable: boolean;
  /** Every step's Analytics figures, read on the first analytics() of this reading of the files. */
  private analyticsSteps: (StepFigures & { project: string })[] | undefined;
  private recordedRanges: boolean | undefined;
  private readonly selectList: string;
  private closed = false;

  private constructor(
    readonly path: string,
    /** The snapshot's reader, whose statements are prepared once each; the store closes it. */
    private readonly reader: SqlReader & { close?(): void },
    readonly schema: SchemaInfo,
    /** The files as they were when read; hasChanged() compares against it. */
    readonly fingerprint: Fingerprint,
    /** Committed WAL frames applied on top of the main file. */
    readonly framesApplied: number,
    /** The declared type of project_id, for its affinity. */
    projectIdType: string,
  ) {
    const have = new Map(schema.columns.map((c) => [c.toLowerCase(), c]));
    this.col = Object.fromEntries(
      KNOWN.map((k) => [k, have.has(k) ? quoteId(have.get(k)!) : 'NULL']),
    ) as Record<Known, string>;
    this.projectKeySql = projectKeySql(this.col.project_id);
    this.projectIndexable = ['TEXT', 'BLOB'].includes(columnAffinity(projectIdType));
    // The known columns, then the row's project key.
    this.selectList = [...KNOWN.map((k) => this.col[k]), this.projectKeySql].join(', ');
    const a = this.col.active;
    // Mirrors model.parseActive.
    this.activeSql =
      a === 'NULL'
        ? '1'
        : `(CASE WHEN ${a} IS NULL THEN 1 WHEN typeof(${a}) IN ('integer','real') THEN ${a} <> 0` +
          ` WHEN typeof(${a}) = 'text' AND lower(trim(${a})) IN ('0','false','f','no') THEN 0 ELSE 1 END)`;

    // Mirrors model.deriveStatus with isBlank(end) and parseInteger(exit_code).
    const end = this.col.end_time;
    const exit = this.col.exit_code;
    const hasEnd = end === 'NULL' ? '0' : `(${end} IS NOT NULL AND NOT (typeof(${end}) = 'text' AND trim(${end}, ${WHITESPACE_SQL}) = ''))`;
    const nonZeroExit = exit === 'NULL' ? '0' : `coalesce(${integerSql(exit)} <> 0, 0)`;
    this.failedSql = `(${this.activeSql} AND ${hasEnd} AND ${nonZeroExit})`;

    // How every figure names a step's model: the config's model, else the config name.
    const cfg = this.col.agent_config_json;
    const name = this.col.agent_config_name;
    const jsonModel =
      cfg === 'NULL'
        ? 'NULL'
        : `(CASE WHEN typeof(${cfg}) = 'text' AND json_valid(${cfg}) AND json_type(${cfg}, '$.model') = 'text' ` +
          `THEN nullif(json_extract(${cfg}, '$.model'), '') END)`;
    const configName = name === 'NULL' ? 'NULL' : `(CASE WHEN typeof(${name}) = 'text' THEN nullif(${name}, '') END)`;
    this.modelSql = `coalesce(${jsonModel}, ${configName})`;
    // One string to search; char(31) keeps a match from spanning two fields.
    const field = (c: string) => (c === 'NULL' ? "''" : `coalesce(CAST(${c} AS TEXT), '')`);
    this.searchableSql =
      `lower('S' || id || char(31) || ${field(this.col.commit_sha_before)} || char(31) || ` +
      `${field(this.col.commit_sha_after)} || char(31) || ${field(name)} || char(31) || ${field(cfg)})`;
  }

  /**
   * Opens the database at `dbPath` read-only. Rejects with a StepDbError:
   * FILE_MISSING; NOT_SQLITE (also for a 0-byte file: SQLite would call it an empty
   * database, but LaForge always writes its schema, so an empty file is not a step
   * database yet); CORRUPT (truncated, or SQLite finds it malformed); UNSUPPORTED_SCHEMA
   * (no steps table, or one without id, commit_sha_before or project_id);
   * CHANGED_WHILE_READING (the files changed during the read, twice); READ_FAILED.
   */
  static async open(dbPath: string, options: StepStoreOptions = {}): Promise<StepStore> {
    const log = options.log ?? silentLogger;
    const t0 = performance.now();
    if (!fs.existsSync(dbPath)) {
      throw failures.databaseMissing({ path: dbPath });
    }
    return StepStore.fromSnapshot(dbPath, await openSnapshot(dbPath, options), { log, started: t0 });
  }

  /**
   * The store over a snapshot already open. Takes the snapshot's database over: it is closed
   * on failure and by close(). UNSUPPORTED_SCHEMA when it has no usable steps table.
   */
  static fromSnapshot(dbPath: string, snapshot: SqliteSnapshot, options: { log?: Logger; started?: number } = {}): StepStore {
    return StepStore.over(dbPath, sqlReader(snapshot.db, dbPath, options.log), snapshot, options);
  }

  /**
   * The store over a reader of a snapshot (LaForge's adapter gets one, as every system's
   * does), with the snapshot's fingerprint and WAL frames. Takes the reader over: it is closed
   * on failure and by close().
   */
  static over(
    dbPath: string,
    reader: SqlReader & { close?(): void },
    snapshot: { fingerprint: Fingerprint; framesApplied: number },
    options: { log?: Logger; started?: number } = {},
  ): StepStore {
    const log = options.log ?? silentLogger;
    const t0 = options.started ?? performance.now();
    const { fingerprint, framesApplied } = snapshot;
    try {
      const { schema, projectIdType } = readSchema(dbPath, reader);
      const store = new StepStore(dbPath, reader, schema, fingerprint, framesApplied, projectIdType);
      // Reads the table's root page, so a wrecked table shows up now rather than on the first page.
      store.query(`SELECT max(id) FROM steps`, []);
      log.debug(
        `Opened ${dbPath}: schema ${schema.variant} (${schema.columns.length} columns` +
          `${schema.missingOptional.length ? `, missing ${schema.missingOptional.join(', ')}` : ''}), ` +
          `${framesApplied} WAL frame(s) applied; open ${ms(t0)} in all.`,
      );
      return store;
    } catch (err) {
      reader.close?.();
      throw err;
    }
  }

  /** Every project with steps, most recently active first; every row is in exactly one. */
  projects(): ProjectSummary[] {
    const start = this.col.start_time === 'NULL' ? 'NULL' : `s.${this.col.start_time}`;
    const sql =
      `SELECT c.pid, c.n, c.a, ${start} FROM ` +
      `(SELECT ${this.projectKeySql} AS pid, count(*) AS n, sum(${this.activeSql}) AS a, max(id) AS m ` +
      `FROM steps GROUP BY 1) c JOIN steps s ON s.id = c.m ORDER BY c.m DESC`;
    return this.query(sql, []).map(([pid, n, a, start]) => ({
      id: String(pid),
      stepCount: Number(n),
      activeCount: Number(a ?? 0),
      lastStart: parseDbDate(start),
    }));
  }

  /** A page of a project's steps, newest (highest id) first, optionally filtered. */
  steps(projectId: string, opts: StepQueryOptions = {}): Step[] {
    const limit = Math.max(0, Math.floor(opts.limit ?? 200));
    const offset = Math.max(0, Math.floor(opts.offset ?? 0));
    const where = this.conditions(opts.activeOnly, opts.filter);
    const project = this.project(projectId);
    const sql =
      `SELECT ${this.selectList} FROM steps WHERE ${project.sql}${where.sql} ` +
      `ORDER BY id DESC LIMIT ? OFFSET ?`;
    return this.toSteps(this.query(sql, [...project.params, ...where.params, limit, offset]));
  }

  /** The models a project's steps ran with (as the model filter names them), sorted. */
  models(projectId: string): string[] {
    const project = this.project(projectId);
    const sql =
      `SELECT DISTINCT m FROM (SELECT ${this.modelSql} AS m FROM steps WHERE ${project.sql}) ` +
      `WHERE m IS NOT NULL ORDER BY m`;
    return this.query(sql, project.params).map(([m]) => String(m));
  }

  step(id: number): Step | undefined {
    const rows = this.query(`SELECT ${this.selectList} FROM steps WHERE id = ?`, [id]);
    return this.toSteps(rows)[0];
  }

  /**
   * The steps whose recorded commit after is one of `commits` (full hashes) and differs from
   * their commit before: what blame maps a line's commit to when the database records it. A
   * stored hash may be abbreviated (7 digits or more).
   */
  stepsWithCommits(commits: readonly string[]): Step[] {
    const after = this.col.commit_sha_after;
    const hashes = [...new Set(commits.filter((c) => /^[0-9a-f]{40}$|^[0-9a-f]{64}$/.test(c)))];
    if (after === 'NULL' || hashes.length === 0) return [];
    const found: Step[] = [];
    // A few hundred at a time, below SQLite's bound on parameters.
    for (let i = 0; i < hashes.length; i += 400) {
      const chunk = hashes.slice(i, i + 400);
      const marks = chunk.map(() => '?').join(', ');
      const sql =
        `SELECT ${this.selectList} FROM steps WHERE length(${after}) >= 7 AND substr(lower(${after}), 1, 7) IN (${marks}) ` +
        `AND ${after} IS NOT ${this.col.commit_sha_before} ORDER BY id`;
      const candidates = this.toSteps(this.query(sql, chunk.map((c) => c.slice(0, 7))));
      found.push(...candidates.filter((s) => s.commitAfter !== null && chunk.some((c) => c.startsWith(s.commitAfter!.toLowerCase()))));
    }
    return found;
  }

  /** The steps of these ids that the table has, by id. */
  stepsWithIds(ids: readonly number[]): Step[] {
    const wanted = [...new Set(ids.filter((id) => Number.isSafeInteger(id)))];
    const found: Step[] = [];
    for (let i = 0; i < wanted.length; i += 400) {
      const chunk = wanted.slice(i, i + 400);
      found.push(...this.toSteps(this.query(`SELECT ${this.selectList} FROM steps WHERE id IN (${chunk.map(() => '?').join(', ')}) ORDER BY id`, chunk)));
    }
    return found;
  }

  /**
   * Whether any step records a commit after that is not its commit before (a range of its own
   * commits): never, in the files LaForge writes today. Read once per reading of the files.
   */
  hasRecordedRanges(): boolean {
    const after = this.col.commit_sha_after;
    if (after === 'NULL') return false;
    this.recordedRanges ??=
      this.query(`SELECT EXISTS (SELECT 1 FROM steps WHERE length(${after}) >= 7 AND ${after} IS NOT ${this.col.commit_sha_before})`, [])[0]?.[0] === 1;
    return this.recordedRanges;
  }

  /** The project's newest active step: the one a new step would take as parent. */
  latestActiveStep(projectId: string): Step | undefined {
    const project = this.project(projectId);
    const sql =
      `SELECT ${this.selectList} FROM steps WHERE ${project.sql} AND ${this.activeSql} ` +
      `ORDER BY id DESC LIMIT 1`;
    return this.toSteps(this.query(sql, project.params))[0];
  }

  stepCount(projectId?: string, opts: StepCountOptions = {}): number {
    const where = this.conditions(opts.activeOnly, opts.filter);
    const project = this.project(projectId);
    const rows = this.query(`SELECT count(*) FROM steps WHERE ${project.sql}${where.sql}`,
      [...project.params, ...where.params],
    );
    return Number(rows[0][0]);
  }

  /** The rows of one project (all rows when undefined), with a key naming the statement's shape. */
  private project(projectId: string | undefined): { sql: string; params: SqlValue[]; key: string } {
    if (projectId === undefined) return { sql: '1', params: [], key: 'all' };
    const where = projectWhere(projectId, { column: this.col.project_id, indexable: this.projectIndexable });
    // The condition's text is its shape: a text key may use the index, another key may not.
    return { ...where, key: where.sql };
  }

  /** The `AND …` conditions for activeOnly and a filter, with a key naming their shape for the statement cache. */
  private conditions(activeOnly: boolean | undefined, filter: StepFilter = {}): { sql: string; params: SqlValue[]; key: string } {
    let sql = '';
    let key = '';
    const params: SqlValue[] = [];
    if (activeOnly) {
      sql += ` AND ${this.activeSql}`;
      key += 'a';
    }
    if (filter.failedOnly) {
      sql += ` AND ${this.failedSql}`;
      key += 'f';
    }
    if (filter.model !== undefined && filter.model !== '') {
      sql += ` AND ${this.modelSql} = ?`;
      params.push(filter.model);
      key += 'm';
    }
    const text = filter.text?.trim();
    if (text) {
      sql += ` AND instr(${this.searchableSql}, ?) > 0`;
      // SQLite's lower() folds ASCII only; fold the needle the same way.
      params.push(text.replace(/[A-Z]/g, (c) => c.toLowerCase()));
      key += 't';
    }
    return { sql, params, key };
  }

  /** The id LaForge will give its next step: AUTOINCREMENT's sequence if any, else max(id) + 1. */
  nextStepId(): number {
    const maxId = Number(this.query(`SELECT max(id) FROM steps`, [])[0][0] ?? 0);
    const hasSequence = this.query(`SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'`, []).length > 0;
    if (hasSequence) {
      const seq = this.query(`SELECT seq FROM sqlite_sequence WHERE name = 'steps'`, []);
      if (seq.length > 0 && seq[0][0] !== null) return Math.max(Number(seq[0][0]), maxId) + 1;
    }
    return maxId + 1;
  }

  /** Totals by day, by model, and overall; one scan in SQL, rows folded in JS. */
  aggregates(projectId?: string): StepAggregates {
    const project = this.project(projectId);
    const sql =
      `SELECT id, ${this.col.start_time}, ${this.col.end_time}, ${this.col.duration_ms}, ` +
      `${this.col.token_usage_json}, ${this.col.exit_code}, ${this.activeSql}, ${this.modelSql} ` +
      `FROM steps WHERE ${project.sql} ORDER BY id`;
    const rows = this.query(sql, project.params);

    const zero = (): StepCounters => ({
      steps: 0, durationMs: 0, usageSteps: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0, cost: 0, failures: 0, rollbacks: 0,
    });
    const totals = zero();
    const days = new Map<string, StepCounters>();
    const models = new Map<string, StepCounters>();
    let undatedSteps = 0;
    const unrecordedStepIds: number[] = [];
    for (const [id, startRaw, endRaw, durationRaw, tokensRaw, exitRaw, active, model] of rows) {
      const start = parseDbDate(startRaw);
      const end = parseDbDate(endRaw);
      const duration = resolveDuration(durationRaw, start, end) ?? 0;
      const tokens = parseTokenUsage(tokensRaw).value;
      if (!tokens) unrecordedStepIds.push(Number(id));
      const status = deriveStatus(Number(active) !== 0, !isBlank(endRaw), parseInteger(exitRaw).value);
      const name = model === null ? 'unknown' : String(model);
      const targets = [totals, bucket(models, name, zero)];
      if (start) targets.push(bucket(days, utcDay(start), zero));
      else undatedSteps++;
      for (const c of targets) {
        c.steps++;
        c.durationMs += duration;
        if (tokens) {
          c.usageSteps++;
          c.promptTokens += tokens.promptTokens;
          c.completionTokens += tokens.completionTokens;
          c.totalTokens += tokens.totalTokens;
          c.cost += tokens.cost;
        }
        if (status === 'FAILED') c.failures++;
        if (status === 'ROLLED BACK') c.rollbacks++;
      }
    }
    return {
      byDay: [...days].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([day, c]) => ({ day, ...c })),
      byModel: [...models]
        .sort(([a, x], [b, y]) => y.steps - x.steps || (a < b ? -1 : a > b ? 1 : 0))
        .map(([model, c]) => ({ model, ...c })),
      totals,
      undatedSteps,
      unrecordedStepIds,
    };
  }

  /**
   * The Analytics panel's figures for a project (every project when projectId is undefined)
   * over a range, per step, day or week. Every step's figures are read by one statement, in
   * one scan, the first time, and kept with this reading of the files: another range,
   * grouping or project is folded from them without SQLite.
   */
  analytics(options: AnalyticsOptions): StepAnalytics {
    checkAnalyticsOptions(options);
    this.analyticsSteps ??= this.query(
      analyticsStepsSql({
        startTime: this.col.start_time,
        endTime: this.col.end_time,
        durationMs: this.col.duration_ms,
        tokenUsage: this.col.token_usage_json,
        failed: this.failedSql,
        active: this.activeSql,
        model: this.modelSql,
        project: this.projectKeySql,
      }),
      [],
    ).map(stepFiguresOfRow);
    const { projectId } = options;
    const steps = projectId === undefined ? this.analyticsSteps : this.analyticsSteps.filter((s) => s.project === projectId);
    return foldAnalytics(steps, { grouping: options.grouping, sinceMs: options.sinceMs, stepOrder: 'given' });
  }

  /** Whether the files differ from when they were read; a few stats, well under 2 ms. */
  hasChanged(): boolean {
    return !sameFingerprint(this.fingerprint, readFingerprint(this.path));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.reader.close?.();
  }

  // -------------------------------------------------------------------------------------

  private toSteps(rows: SqlValue[][]): Step[] {
    const objects = rows.map((r) => {
      const row = {} as Record<Known, SqlValue>;
      KNOWN.forEach((k, i) => (row[k] = r[i]));
      return { ...row, project_key: r[KNOWN.length] } as StepRow;
    });
    const pageIds = new Set(objects.map((r) => Number(r.id)));
    const unknownParents = new Set<number>();
    for (const r of objects) {
      const parent = parseInteger(r.parent_step_id).value;
      if (parent !== null && !pageIds.has(parent)) unknownParents.add(parent);
    }
    const existing = new Set(pageIds);
    // One query per page; the IN list is padded with NULLs (which match nothing) to a power
    // of two so that a handful of prepared statements serve every page.
    const wanted = [...unknownParents];
    for (let from = 0; from < wanted.length; from += 256) {
      const chunk: SqlValue[] = wanted.slice(from, from + 256);
      let slots = 4;
      while (slots < chunk.length) slots *= 2;
      while (chunk.length < slots) chunk.push(null);
      const sql = `SELECT id FROM steps WHERE id IN (${chunk.map(() => '?').join(',')})`;
      for (const [id] of this.query(sql, chunk)) existing.add(Number(id));
    }
    return objects.map((r) => stepFromRow(r, (id) => existing.has(id)));
  }

  /** Rows as arrays; SQLite's complaints become StepDbErrors. */
  private query(sql: string, params: SqlValue[]): SqlValue[][] {
    if (this.closed) throw failures.databaseClosed({ path: this.path });
    return this.reader.values(sql, params);
  }
}

function bucket<T>(map: Map<string, T>, key: string, make: () => T): T {
  let value = map.get(key);
  if (!value) map.set(key, (value = make()));
  return value;
}

/** Which of LaForge's schemas a steps table with these (lower-cased) columns has. */
export function schemaVariant(columns: ReadonlySet<string>): SchemaVariant {
  const json = columns.has('agent_config_json');
  const name = columns.has('agent_config_name');
  return json && name ? 'both' : json ? 'agent_config_json' : name ? 'agent_config_name' : 'neither';
}

function readSchema(dbPath: string, reader: SqlReader): { schema: SchemaInfo; projectIdType: string } {
  const info = reader.all(`PRAGMA table_info(steps)`);
  const columns = info.map((r) => String(r.name));
  const types = info.map((r) => String(r.type ?? ''));
  if (columns.length === 0) {
    let tables = '';
    try {
      tables = String(reader.get(`SELECT group_concat(name, ', ') AS names FROM sqlite_master WHERE type = 'table'`)?.names ?? '');
    } catch {
      // Only for the log.
    }
    throw failures.noStepsTable({ path: dbPath }, `tables: ${tables || 'none'}`);
  }
  const have = new Set(columns.map((c) => c.toLowerCase()));
  const missing = REQUIRED.filter((c) => !have.has(c));
  if (missing.length > 0) {
    throw failures.stepsColumnsMissing({ path: dbPath, columns: missing }, `columns: ${columns.join(', ')}`);
  }
  const json = have.has('agent_config_json');
  const name = have.has('agent_config_name');
  const schema: SchemaInfo = {
    variant: schemaVariant(have),
    columns,
    missingOptional: KNOWN.filter((k) => !have.has(k) && !(REQUIRED as readonly string[]).includes(k)).filter(
      // The two config columns are alternatives: the absence of one is the variant, not a gap.
      (k) => !((k === 'agent_config_json' && name) || (k === 'agent_config_name' && json)),
    ),
  };
  return { schema, projectIdType: types[columns.findIndex((c) => c.toLowerCase() === 'project_id')] ?? '' };
}
