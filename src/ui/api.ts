import type * as vscode from 'vscode';
import { stepLabel } from '../core/model';
import type { ChangedFile } from '../core/git';
import type { Step } from '../core/model';
import type { ProjectSummary } from '../core/stepStore';
import type { AnalyticsPanelProbe } from './analyticsPanel';
import type { DetailsPanelProbe } from './detailsPanel';
import type { FileHistoryProbe } from './fileHistory';
import type { RollbackOptions, RollbackOutcome, RollbackProbe, RollbackService, UndoOutcome } from './rollback';
import type { DatabaseState, StepDatabase, StepDatabases, StepPageOptions } from '../core/stepDatabase';
import type { StatusBarProbe } from './statusBar';
import type { StepBlameProbe } from './stepBlame';
import type { StepLogsProbe } from './stepLogs';
import type { TreeNode } from './treeNodes';
import type { ChangeItem, DetailSection, HistoryNode, LevelInfo, NodeRef, Page, SystemId } from '../core/sources/types';
import { failures } from '../core/messages';

export interface DatabaseInfo {
  id: string;
  path: string;
  label: string;
  repositoryPath: string;
  state: DatabaseState;
  /** Which system wrote it, once it has been read: `laforge`, `constellation`, `studio`, `llmOrchestration`. */
  system: SystemId | undefined;
  /** Its tree's levels, top down (`project` → `step` for LaForge), once it has been read. */
  levels: LevelInfo[] | undefined;
}

/** What `activate` returns to other extensions and to tests. */
export interface StepHistoryApi {
  readonly apiVersion: 1;
  /** The step databases found in the workspace or added by the user. */
  databases(): DatabaseInfo[];
  /**
   * Any system's history as one model: the nodes under `parent` (null: the top level), a
   * page at a time. LaForge's are its projects (`project:<id>`) and steps (`step:<id>`).
   */
  nodes(databaseId: string, parent: NodeRef | null, page?: Page): Promise<HistoryNode[]>;
  node(databaseId: string, ref: NodeRef): Promise<HistoryNode | undefined>;
  /** A node's details, as sections. */
  details(databaseId: string, ref: NodeRef): Promise<DetailSection[]>;
  /** What another system's step changed, as pairs of stored texts (a LaForge step's changes are `changedFiles`). */
  changes(databaseId: string, ref: NodeRef): Promise<ChangeItem[]>;
  /** LaForge's projects; none for another system's database. */
  projects(databaseId: string): Promise<ProjectSummary[]>;
  /** A page of a project's steps, newest first. */
  steps(databaseId: string, projectId: string, options?: StepPageOptions): Promise<Step[]>;
  step(databaseId: string, stepId: number): Promise<Step | undefined>;
  /** The files a step changed between its commit before and after. */
  changedFiles(databaseId: string, stepId: number): Promise<ChangedFile[]>;
  /**
   * Rolls a project back to a step: the step and every later one are marked rolled back and
   * the branch is reset to the step's commit before. Asks with a modal confirmation unless
   * `confirm: false`. Where uncommitted work or commits no step recorded would be lost, it
   * goes ahead only with `protect: true` (they are kept in a stash and a backup ref first).
   * Rejects with a RollbackError when refused (a running step, a moved branch, …).
   */
  rollback(databaseId: string, projectId: string, stepId: number, options?: RollbackOptions): Promise<RollbackOutcome>;
  /**
   * Undoes the newest rollback: the branch back, the stash re-applied, the steps active
   * again. It only restores what the rollback kept, and refuses if new work happened on top,
   * so it asks first only with `confirm: true`.
   */
  undoLastRollback(options?: { confirm?: boolean }): Promise<UndoOutcome>;
  /** Looks for databases again and reloads the ones that changed. */
  refresh(): Promise<void>;
  /** Fires when the list of databases or the content of one changes. */
  readonly onDidChange: vscode.Event<void>;
  /** For Step History's own integration tests; not a stable interface. */
  readonly testing: {
    readonly stepsTree: vscode.TreeDataProvider<TreeNode>;
    readonly details: DetailsPanelProbe;
    readonly analytics: AnalyticsPanelProbe;
    readonly stepLogs: StepLogsProbe;
    readonly statusBar: StatusBarProbe;
    readonly stepBlame: StepBlameProbe;
    readonly rollbacks: RollbackProbe;
    readonly fileHistory: FileHistoryProbe;
  };
}

export function createApi(databases: StepDatabases, rollbacks: RollbackService, testing: Omit<StepHistoryApi['testing'], 'rollbacks'>): StepHistoryApi {
  const database = (id: string): StepDatabase => {
    const found = databases.get(id);
    if (!found) throw failures.unknownDatabase({ id }, `known: ${databases.all.map((d) => d.id).join(', ') || 'none'}`);
    return found;
  };
  const stepOf = async (databaseId: string, stepId: number): Promise<Step> => {
    const step = await database(databaseId).step(stepId);
    if (!step) throw failures.unknownStep({ database: databaseId, label: stepLabel(stepId) });
    return step;
  };
  /** A call on a database that is not there rejects, rather than throwing before a promise exists. */
  const on = <T>(id: string, call: (d: StepDatabase) => Promise<T>): Promise<T> => {
    try {
      return call(database(id));
    } catch (err) {
      return Promise.reject(err);
    }
  };
  return {
    apiVersion: 1,
    databases: () =>
      databases.all.map((d) => ({
        id: d.id,
        path: d.path,
        label: d.label,
        repositoryPath: d.repositoryPath,
        state: d.state,
        system: d.source?.detection.system,
        levels: d.source?.levels.map((l) => ({ ...l })),
      })),
    nodes: (databaseId, parent, page) => on(databaseId, (d) => d.children(parent, page)),
    node: (databaseId, ref) => on(databaseId, (d) => d.node(ref)),
    details: (databaseId, ref) => on(databaseId, (d) => d.details(ref)),
    changes: (databaseId, ref) => on(databaseId, (d) => d.changes(ref)),
    projects: (databaseId) => on(databaseId, (d) => d.projects()),
    steps: (databaseId, projectId, options) => on(databaseId, (d) => d.steps(projectId, options)),
    step: (databaseId, stepId) => on(databaseId, (d) => d.step(stepId)),
    changedFiles: async (databaseId, stepId) => database(databaseId).changedFiles(await stepOf(databaseId, stepId)),
    rollback: (databaseId, projectId, stepId, options) => rollbacks.rollback({ databaseId, projectId, stepId }, options),
    undoLastRollback: (options) => rollbacks.undoLast(options),
    refresh: () => databases.refresh(),
    onDidChange: (listener, thisArgs, disposables) => {
      const a = databases.onDidChangeDatabases(() => listener.call(thisArgs));
      const b = databases.onDidChangeDatabase(() => listener.call(thisArgs));
      const both = { dispose: () => (a.dispose(), b.dispose()) };
      disposables?.push(both);
      return both;
    },
    testing: { ...testing, rollbacks: rollbacks.probe },
  };
}
