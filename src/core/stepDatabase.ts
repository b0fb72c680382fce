/**
 * The step databases of the open workspace, as every view and command sees them. A view
 * never touches SQL or git arguments: it asks a StepDatabase, which answers from a store
 * (LaForge's StepStore or another system's adapter, off the extension host's main thread) and
 * the database's git repository. No `vscode` import: the editor's own types fit these shapes,
 * and the views' models are tested in plain Node against them.
 */
import type { AnalyticsOptions, StepAnalytics } from './analytics';
import type { ChangedFile, GitRepository } from './git';
import type { Remedy } from './remedies';
import type { LaforgeProject } from './laforgeProject';
import type { PlanStore } from './rollback';
import type { ChangeItem, DetailSection, Detection, HistoryNode, LevelInfo, NodeRef, Page, TextRef } from './sources/types';
import type { Step } from './model';
import type { StepCommit, StepCommitIndex } from './stepCommits';
import type { ProjectSummary, StepAggregates } from './stepStore';
import type { StepWorktree } from './worktrees';

export interface Disposable {
  dispose(): unknown;
}

/** The shape of vscode.Event: a VS Code event is one, and so is the views' models' own. */
export type Event<T> = (listener: (e: T) => unknown, thisArgs?: unknown, disposables?: Disposable[]) => Disposable;

/** The workspace folder a database belongs to, as much of vscode.WorkspaceFolder as the views use. */
export interface WorkspaceFolderRef {
  readonly uri: { readonly fsPath: string; toString(): string };
  readonly name: string;
  readonly index: number;
}

export type DatabaseState =
  | { kind: 'loading' }
  | { kind: 'ready' }
  /** The database cannot be read: `message` is a sentence for the user, `detail` is for the log, `remedy` what the row offers (remediesOf). */
  | { kind: 'error'; message: string; detail: string; remedy?: Remedy };

export interface StepFilter {
  /** Only steps whose status is FAILED. */
  failedOnly?: boolean;
  /** Only steps run with this model (agent_config_json's model, or agent_config_name). */
  model?: string;
  /** Case-insensitive text found in the step's label (S12), commits, model or configuration. */
  text?: string;
}

export interface StepPageOptions {
  offset?: number;
  limit?: number;
  activeOnly?: boolean;
  filter?: StepFilter;
}

/** Which system wrote a database, known once it has been read. */
export interface SourceInfo {
  detection: Detection;
  levels: readonly LevelInfo[];
}

/**
 * The history of a database another system than LaForge wrote (see core/sources): a tree of
 * nodes, each step's changes as texts, and details as sections.
 */
export interface HistoryReader {
  children(parent: NodeRef | null, page?: Page): Promise<HistoryNode[]>;
  count(parent: NodeRef | null): Promise<number>;
  node(ref: NodeRef): Promise<HistoryNode | undefined>;
  details(ref: NodeRef): Promise<DetailSection[]>;
  changes(ref: NodeRef): Promise<ChangeItem[]>;
  text(ref: TextRef): Promise<string | null>;
  counterparts(ref: NodeRef): Promise<HistoryNode[]>;
}

export interface StepDatabase extends HistoryReader {
  /** Stable key: the database file's absolute path. */
  readonly id: string;
  /** The database file's absolute path. */
  readonly path: string;
  /** Shown in the views: the workspace-relative path, or `~/.laforge/projects/<name>/steps.db`. */
  readonly label: string;
  /** The workspace folder this database belongs to, if any. */
  readonly workspaceFolder: WorkspaceFolderRef | undefined;
  /** The folder whose git repository holds the steps' commits. */
  readonly repositoryPath: string;
  readonly state: DatabaseState;
  /** Which system wrote it; undefined until it has been read. */
  readonly source: SourceInfo | undefined;
  /** Reads the database if it is not read yet; rejects with the StepDbError that keeps it from opening. */
  load(): Promise<unknown>;
  /**
   * A LaForge database as its files are now, read through the store worker (read again first
   * when the files changed since): what a rollback plan reads, so it never opens the file again
   * on the extension host's thread.
   */
  readNow(): Promise<PlanStore>;

  /** Projects, most recent activity first. Rejects with a StepDbError if the database can't be read. */
  projects(): Promise<ProjectSummary[]>;
  /** A page of a project's steps, newest first. */
  steps(projectId: string, options?: StepPageOptions): Promise<Step[]>;
  step(id: number): Promise<Step | undefined>;
  latestActiveStep(projectId: string): Promise<Step | undefined>;
  stepCount(projectId: string, options?: { activeOnly?: boolean; filter?: StepFilter }): Promise<number>;
  /** Models used in a project, for the filter's pick list. */
  models(projectId: string): Promise<string[]>;
  aggregates(projectId?: string): Promise<StepAggregates>;
  /** The Analytics panel's figures, computed in the store worker: of a LaForge project (`projectId`), of another system's node (`ref`), or of the whole database. */
  analytics(options: AnalyticsOptions): Promise<StepAnalytics>;

  /** The git repository of the steps' commits; rejects with a GitError (NOT_A_REPOSITORY, GIT_MISSING, …). */
  repository(): Promise<GitRepository>;
  /** The step's own commit (recorded, from its Step-id note, or its kept branch, or none); rejects with a GitError. */
  stepCommit(step: Step): Promise<StepCommit>;
  /** Every step's resolved commit from one reading of the repository (cached until its refs move); rejects with a GitError. */
  commitIndex(): Promise<StepCommitIndex>;
  /** The steps whose recorded commit after is one of these full hashes (and not their commit before). */
  stepsWithCommits(commits: readonly string[]): Promise<Step[]>;
  /** The steps of these ids the database has. */
  stepsWithIds(ids: readonly number[]): Promise<Step[]>;
  /** Whether any step records its own range of commits (commit after not its commit before). */
  hasRecordedRanges(): Promise<boolean>;
  /** The files a step changed, from its commit before to its own commit, cached; rejects with a StepFieldError or GitError. */
  changedFiles(step: Step): Promise<ChangedFile[]>;
  /** The first line of each commit's message, cached per commit; a commit git does not have is left out. Rejects with a GitError. */
  commitSubjects(commits: readonly string[]): Promise<Map<string, string>>;
  /** The LaForge project.json beside the database, when it is a LaForge project's. */
  laforgeProject(): Promise<LaforgeProject | undefined>;
  /** A RUNNING step's live work tree and its files so far; undefined when it has none (any other step, or it is gone). Rejects with a GitError. */
  stepWorktree(step: Step): Promise<StepWorktree | undefined>;
}

/** A database another system than LaForge wrote, once read: its history is nodes, it has no LaForge projects or steps. */
export const isOtherSystem = (database: Pick<StepDatabase, 'source'>): boolean =>
  database.source !== undefined && database.source.detection.system !== 'laforge';

export interface StepDatabases extends Disposable {
  /** Every database found or added, in a stable order. */
  readonly all: readonly StepDatabase[];
  get(id: string): StepDatabase | undefined;
  /** True once the first discovery has finished (the views show "loading" until then). */
  readonly discovered: boolean;
  /** The list changed: a database was found, added or went away; or discovery finished. */
  readonly onDidChangeDatabases: Event<void>;
  /** One database's content or state changed: a reload after a write, or an error. */
  readonly onDidChangeDatabase: Event<StepDatabase>;
  /** Discovers databases again and reloads those whose files changed. */
  refresh(): Promise<void>;
  /** Adds a database the user picked; remembered for this workspace. */
  add(dbPath: string): Promise<StepDatabase>;
}
