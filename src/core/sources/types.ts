/**
 * One history model for every agent system Step History reads, and the adapter each system
 * implements over a read-only SQLite snapshot of its database.
 *
 * A source is a tree of nodes: containers (a project, a session, a workflow, an agent, a run)
 * and steps (an iteration, a checkpoint, a response). Every node has a stable `ref`, a label,
 * a status and its metrics; a step opens to what it changed (`changes`) and has details as
 * generic sections. What an adapter returns crosses a worker boundary by structured clone:
 * plain objects, strings, numbers, booleans, null and Dates only.
 *
 * No `vscode` here: the store worker, the CLI and the tests use these modules as they are.
 */

import type { Fingerprint } from '../fingerprint';

/** A SQLite value as sql.js returns it. */
export type SqlValue = string | number | Uint8Array | null;
export type SqlRow = Record<string, SqlValue>;

/** Read-only queries on one snapshot of a database file (its WAL applied). */
export interface SqlReader {
  /** Every row of a query, columns by name. */
  all(sql: string, params?: readonly SqlValue[]): SqlRow[];
  /** The first row, or undefined. */
  get(sql: string, params?: readonly SqlValue[]): SqlRow | undefined;
  /** Every row as an array of its values, in the query's column order: for the hot paths that read thousands of rows. */
  values(sql: string, params?: readonly SqlValue[]): SqlValue[][];
}

/** The tables of a database and their columns, lower-cased, as adapters detect a schema from them. */
export interface SchemaShape {
  tables: ReadonlyMap<string, ReadonlySet<string>>;
}

export type SystemId = 'laforge' | 'constellation' | 'studio' | 'llmOrchestration';

/** A system's name as a person reads it. */
export const SYSTEM_NAMES: Readonly<Record<SystemId, string>> = {
  laforge: 'LaForge',
  constellation: 'Constellation',
  studio: 'Autonomous Software Studio',
  llmOrchestration: 'LLM Orchestration',
};

/** One kind of file of a system: `documented` follows its design documents, `written` what its code writes. */
export interface Detection {
  system: SystemId;
  /** e.g. 'documented', 'orchestrator', 'checkpoints-fallback', 'checkpoints-langgraph'. */
  variant: string;
}

/** Where a source's files are: the database, and files beside it an adapter may read (a checkpoints.db, artifacts). */
export interface SourceContext {
  /** The database file's absolute path. */
  path: string;
  /** The snapshot the reader reads: the files' fingerprint when read, and the WAL frames applied (a source that checks itself against the file keeps them). */
  snapshot?: { fingerprint: Fingerprint; framesApplied: number };
  /** Opens another SQLite file read-only (e.g. the checkpoints.db beside orchestrator.db); null when it does not exist. */
  openSibling?(file: string): SqlReader | null;
  /** Reads a text file beside the database (an artifact); null when it does not exist or is not text. Capped in size. */
  readText?(file: string): string | null;
  /**
   * Reads a text file under a folder the database names (a session's work_dir), as `readText`
   * does: `folder` relative to the database's folder unless absolute, `file` relative to `folder`
   * unless absolute. Null when the file, its `..` and symbolic links resolved, is not inside
   * `folder`, or does not exist, is not text or is over the cap.
   */
  readFileUnder?(folder: string, file: string): string | null;
}

export interface SourceAdapter {
  readonly system: SystemId;
  /** What this adapter reads in a file of this shape, or null when it is not its system's. */
  detect(shape: SchemaShape): Detection | null;
  /** A source over the snapshot. Throws StepDbError('UNSUPPORTED_SCHEMA') when the tables it needs are unusable. */
  open(reader: SqlReader, detection: Detection, context: SourceContext): HistorySource;
}

/** Statuses the views know, each system's spellings mapped onto them; `raw` keeps the stored one. */
export type NodeStatus = 'pending' | 'running' | 'paused' | 'waiting' | 'completed' | 'failed' | 'stopped' | 'rolledBack' | 'unknown';

export interface TokenCounts {
  prompt: number | null;
  completion: number | null;
  total: number | null;
}

/** What a node cost and took. Null where the system does not record it: never a made-up zero. */
export interface NodeMetrics {
  start: Date | null;
  end: Date | null;
  durationMs: number | null;
  tokens: TokenCounts | null;
  costUsd: number | null;
  model: string | null;
}

/** A reference to a node, unique within its source and stable across snapshots: `<level>:<id>`, e.g. `agent:5f1c…`. */
export type NodeRef = string;

export interface HistoryNode {
  ref: NodeRef;
  /** The level's key, one of the source's `levels`. */
  level: string;
  /** Raw text from the database: the views escape it (safeText) and never render it as HTML. */
  label: string;
  /** A short second line, e.g. `eng · 3 messages`; raw text too. */
  description?: string;
  status: NodeStatus;
  /** The status as stored, e.g. `IN_PROGRESS`. */
  rawStatus: string | null;
  metrics: NodeMetrics;
  /** Whether `children` lists anything (containers; a step with nested steps). */
  hasChildren: boolean;
  /** A step: it opens to its changes and has details. */
  isStep: boolean;
  /** Sentences about damaged or odd values in this node's row (broken JSON, a value outside its CHECK). */
  warnings: string[];
  /**
   * A step whose changes are a git range (LaForge): its commit before and the commit after it
   * records, each a valid hash or null. The views find the step's own commit (recorded, a
   * Step-id note, a kept branch) and read its files from git; `changes` lists none.
   */
  gitRange?: { before: string | null; after: string | null };
}

/** One level of a source's tree, top down: its key and how a person calls one and many. */
export interface LevelInfo {
  key: string;
  /** e.g. 'project', 'agent', 'iteration'. */
  singular: string;
  plural: string;
}

export interface Page {
  offset?: number;
  /** Default 200. */
  limit?: number;
}

/**
 * One line of a facts section. `value` is its whole text, as the command line prints it. A
 * time (sources/figures.ts `timeFact`) also carries its Date, so a view can add how long ago
 * it was, and `note`, the text that follows the time in `value`.
 */
export interface DetailFact {
  label: string;
  value: string;
  time?: Date;
  note?: string;
}

/** A part of a step's details. */
export type DetailSection =
  | { kind: 'facts'; title: string; facts: DetailFact[] }
  | { kind: 'text'; title: string; text: string; format?: 'plain' | 'json' | 'markdown' }
  | { kind: 'messages'; title: string; messages: DetailMessage[] }
  | { kind: 'timeline'; title: string; events: { time: Date | null; label: string; detail?: string }[] }
  | { kind: 'warnings'; title: string; warnings: string[] };

export interface DetailMessage {
  role: string;
  text: string;
  /** Tool calls and results, usage: pretty-printed JSON or text. */
  extras?: { label: string; text: string }[];
  time?: Date | null;
  tokens?: TokenCounts | null;
  costUsd?: number | null;
}

/** Something a step changed that can be shown as a diff of two texts (no git). */
export interface ChangeItem {
  /** Unique within the step. */
  id: string;
  /** e.g. a file path, `state`, `Response to payload 3`. */
  label: string;
  /** A file path the item stands for, when it is one (shown with its file icon). */
  path?: string;
  status: 'added' | 'modified' | 'deleted' | 'unknown';
  /** Text refs for `text()`; null for a side that does not exist (an added file has no before). */
  before: TextRef | null;
  after: TextRef | null;
}

/** A reference to a stored text, resolved by `HistorySource.text`. */
export type TextRef = string;

export interface HistorySource {
  readonly detection: Detection;
  /** The tree's levels, top down. */
  readonly levels: readonly LevelInfo[];
  /** The nodes under `parent` (null: the top level), in the order the system shows them: newest first for containers, time order for steps. */
  children(parent: NodeRef | null, page?: Page): HistoryNode[];
  /** How many nodes `children(parent)` lists without paging. */
  count(parent: NodeRef | null): number;
  node(ref: NodeRef): HistoryNode | undefined;
  /** The node's details, as sections. */
  details(ref: NodeRef): DetailSection[];
  /** What a step changed, comparable as texts; empty for a step that changed nothing. */
  changes(ref: NodeRef): ChangeItem[];
  /** A stored text (a file's content, a formatted state, a response); null when it is gone. */
  text(ref: TextRef): string | null;
  /** Steps of the same kind elsewhere that the user may compare this one with (the same payload's response in another run), newest first. */
  counterparts?(ref: NodeRef): HistoryNode[];
  /** What the views may do beyond reading: rollback (LaForge's steps only). Absent: read only. */
  readonly capabilities?: { rollback?: boolean };
  /** Closes sibling files it opened. */
  close?(): void;
}
