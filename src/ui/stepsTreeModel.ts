/**
 * The Steps tree's model: which nodes exist, the pages of steps loaded per project, the
 * filter and the rolled-back toggle, and which subtree changed. It imports no `vscode`
 * value, so it is tested in plain Node against a fake StepDatabases; StepsTreeProvider
 * only turns its nodes into TreeItems.
 *
 * Nodes keep their identity across reloads (same object, fields updated in place): VS Code
 * finds the subtree to refresh, and the element to reveal, by the object it was given.
 */
import * as l10n from '@vscode/l10n';
import { debounce, type Debounced } from '../core/async';
import { describeError, GitError, logFailure } from '../core/errors';
import { isNoCommit, type StepCommit } from '../core/stepCommits';
import type { ChangedFile } from '../core/git';
import type { Logger } from '../core/log';
import type { Step } from '../core/model';
import { laforgeProjectNames } from '../core/laforgeProject';
import { projectLabel } from '../core/projectKey';
import type { ProjectSummary } from '../core/stepStore';
import { watchFolder } from '../core/folderWatch';
import type { StepWorktree } from '../core/worktrees';
import { isFilterActive } from './format';
import { isOtherSystem, type Disposable, type Event, type StepDatabase, type StepDatabases, type StepFilter } from '../core/stepDatabase';
import { SourceTreeModel } from './sourceTreeModel';
import { databaseError, message, type FileNode, type ItemMoreNode, type LoadMoreNode, type MessageNode, type ProjectNode, type StepNode, type TreeNode } from './treeNodes';
import { remediesOf } from '../core/remedies';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export type { Disposable, Event } from '../core/stepDatabase';

class Emitter<T> {
  private readonly listeners = new Set<(e: T) => unknown>();
  readonly event: Event<T> = (listener, thisArgs, disposables) => {
    const bound = (e: T) => listener.call(thisArgs, e);
    this.listeners.add(bound);
    const subscription = { dispose: () => void this.listeners.delete(bound) };
    disposables?.push(subscription);
    return subscription;
  };
  fire(e: T): void {
    for (const listener of [...this.listeners]) listener(e);
  }
  dispose(): void {
    this.listeners.clear();
  }
}

/** `undefined`: the whole tree; otherwise the nodes whose subtrees changed. */
export type TreeChange = TreeNode[] | undefined;

export interface StepsTreeSettings {
  pageSize: number;
  showRolledBack: boolean;
}

export interface StepsTreeOptions {
  /** Watches a running step's work tree folder; by default fs.watch, recursive where supported. */
  watchFolder?: (folder: string, onChange: () => void) => Disposable;
  /** How long a burst of file events in a work tree settles before it is read again. */
  liveDebounceMs?: number;
}

/** A running step's work tree being watched while it is shown. */
interface LiveWatch {
  node: Mutable<StepNode>;
  folder: string;
  watch: Disposable;
  changed: Debounced;
  /** Reads of the work tree run one after another. */
  reading: Promise<void>;
}

interface ProjectState {
  readonly key: string;
  readonly node: Mutable<ProjectNode>;
  /** Loaded steps, newest first; undefined until the project is first expanded. */
  steps: Mutable<StepNode>[] | undefined;
  /** How many steps a reload fetches: a page, plus a page for each "Load more". */
  want: number;
  hasMore: boolean;
  /** The loaded steps no longer reflect the database, the filter or the settings. */
  stale: boolean;
  /** The last load failed: shown instead of the steps. */
  error: MessageNode | undefined;
  /** Loads of this project run one after another. */
  queue: Promise<unknown>;
  loadMore: LoadMoreNode | undefined;
}

interface DatabaseEntry {
  /** Projects as last listed, most recent first. */
  projects: ProjectState[];
  /** False until listed, and again after a change: list before showing. */
  listed: boolean;
  /** A failure to list projects, or "no steps yet". */
  message: MessageNode | undefined;
  listing: Promise<void> | undefined;
  /** The state kind the root shows for this database, to tell a state change from a content change. */
  shownState: string | undefined;
}

interface FileEntry {
  /** The commits the files were read for: a step that finished since must be read again. */
  readonly commits: string;
  readonly children: TreeNode[];
}

export const projectKey = (databaseId: string, projectId: string): string => `${databaseId}|${projectId}`;
export const stepKey = (databaseId: string, projectId: string, step: Step | number): string =>
  `${projectKey(databaseId, projectId)}|S${typeof step === 'number' ? step : step.id}`;
export const fileKey = (node: { database: StepDatabase; projectId: string; step: Step }, file: ChangedFile): string =>
  `${stepKey(node.database.id, node.projectId, node.step)}|${file.path}`;

export class StepsTreeModel implements Disposable {
  private readonly changed = new Emitter<TreeChange>();
  /** Fires with the nodes whose children changed, or undefined for the whole tree. */
  readonly onDidChange = this.changed.event;
  private readonly filterChanged = new Emitter<void>();
  /** The filter or the rolled-back toggle changed. */
  readonly onDidChangeFilter = this.filterChanged.event;
  private readonly loadedSteps = new Emitter<void>();
  /** A page of steps was loaded, or projects were listed with their counts: what the filter's message counts changed. */
  readonly onDidLoadSteps = this.loadedSteps.event;

  private readonly entries = new Map<string, DatabaseEntry>();
  private readonly files = new Map<string, FileEntry>();
  private readonly fileLoads = new Map<string, Promise<TreeNode[]>>();
  private readonly parents = new WeakMap<object, TreeNode>();
  /** Messages shown while something loads: the provider gives them a spinning icon. */
  private readonly busy = new WeakSet<MessageNode>();
  private filterValue: StepFilter = {};
  private settings: StepsTreeSettings;
  private readonly subscriptions: Disposable[] = [];
  /** Watched work trees of running steps, by step key. */
  private readonly live = new Map<string, LiveWatch>();
  private readonly watch: (folder: string, onChange: () => void) => Disposable;
  private readonly liveDebounceMs: number;
  /** The databases other systems than LaForge wrote. */
  private readonly sources: SourceTreeModel;

  constructor(
    private readonly databases: StepDatabases,
    settings: StepsTreeSettings,
    private readonly log: Logger,
    options: StepsTreeOptions = {},
  ) {
    this.watch = options.watchFolder ?? ((folder, onChange) => watchFolder(folder, onChange, log));
    this.liveDebounceMs = options.liveDebounceMs ?? 500;
    this.settings = { ...settings };
    this.sources = new SourceTreeModel(() => this.settings.pageSize, log, () => (this.filterActive ? this.filterValue : {}));
    this.subscriptions.push(
      databases.onDidChangeDatabases(() => this.databasesChanged()),
      databases.onDidChangeDatabase((database) => void this.databaseChanged(database)),
    );
  }

  // -------------------------------------------------------------------------------------
  // Filter and settings

  get filter(): Readonly<StepFilter> {
    return this.filterValue;
  }

  get filterActive(): boolean {
    return isFilterActive(this.filterValue);
  }

  get showRolledBack(): boolean {
    return this.settings.showRolledBack;
  }

  get pageSize(): number {
    return this.settings.pageSize;
  }

  setFilter(filter: StepFilter): void {
    const next: StepFilter = {};
    if (filter.failedOnly) next.failedOnly = true;
    if (filter.model) next.model = filter.model;
    if (filter.text && filter.text.trim()) next.text = filter.text.trim();
    if (JSON.stringify(next) === JSON.stringify(this.filterValue)) return;
    this.filterValue = next;
    this.log.info(`filter: ${JSON.stringify(next)}`);
    this.restartPaging();
    this.filterChanged.fire();
  }

  updateSettings(settings: StepsTreeSettings): void {
    if (settings.pageSize === this.settings.pageSize && settings.showRolledBack === this.settings.showRolledBack) return;
    const toggled = settings.showRolledBack !== this.settings.showRolledBack;
    this.settings = { ...settings };
    this.restartPaging();
    if (toggled) this.filterChanged.fire();
  }

  /** Back to one page per project, read again; used when what a page holds changes. */
  private restartPaging(): void {
    this.sources.restart();
    for (const entry of this.entries.values()) {
      // Listed again: the projects' counts follow the filter and the toggle.
      entry.listed = false;
      for (const state of entry.projects) {
        state.want = this.settings.pageSize;
        state.stale = true;
      }
    }
    this.changed.fire(undefined);
  }

  /** True when a filter is set and every project whose steps were loaded shows none. */
  nothingMatches(): boolean {
    if (!this.filterActive) return false;
    let loaded = 0;
    for (const entry of this.entries.values()) {
      for (const state of entry.projects) {
        if (!state.steps || state.stale || state.error) continue;
        if (state.steps.length > 0) return false;
        loaded++;
      }
    }
    return loaded > 0;
  }

  // -------------------------------------------------------------------------------------
  // Tree structure

  /** The database's most recent project, once listed: the one the view opens expanded. */
  firstProjectId(databaseId: string): string | undefined {
    return this.entries.get(databaseId)?.projects[0]?.node.project.id;
  }

  isBusy(node: MessageNode): boolean {
    return this.busy.has(node);
  }

  getParent(node: TreeNode): TreeNode | undefined {
    switch (node.kind) {
      case 'project':
        return undefined;
      case 'step':
      case 'loadMore':
        return this.entries.get(node.database.id)?.projects.find((p) => p.node.project.id === node.projectId)?.node;
      case 'file':
      case 'message':
        return this.parents.get(node) ?? this.sources.getParent(node);
      case 'item':
      case 'change':
      case 'itemMore':
        return this.sources.getParent(node);
    }
  }

  async getChildren(node?: TreeNode): Promise<TreeNode[]> {
    if (!node) return this.roots();
    switch (node.kind) {
      case 'project':
        return this.projectChildren(node);
      case 'step':
        return this.stepChildren(node);
      case 'item':
        return this.sources.children(node);
      default:
        return [];
    }
  }

  private entry(database: StepDatabase): DatabaseEntry {
    let entry = this.entries.get(database.id);
    if (!entry) {
      entry = { projects: [], listed: false, message: undefined, listing: undefined, shownState: undefined };
      this.entries.set(database.id, entry);
    }
    return entry;
  }

  private async roots(): Promise<TreeNode[]> {
    const perDatabase = await Promise.all(this.databases.all.map((database) => this.databaseRoots(database)));
    return perDatabase.flat();
  }

  private async databaseRoots(database: StepDatabase): Promise<TreeNode[]> {
    const entry = this.entry(database);
    const state = database.state;
    entry.shownState = state.kind;
    if (state.kind === 'loading') {
      // A database opens on first use, and showing it is its first use; its state change
      // (ready or error) refreshes this part of the tree.
      void database.load().catch(() => undefined);
      const node = message(`${database.id}|loading`, l10n.t('Loading {0}…', database.label), 'info');
      this.busy.add(node);
      return [node];
    }
    if (state.kind === 'error') {
      return [databaseError(`${database.id}|error`, database, state.message, state.detail, state.remedy)];
    }
    if (readsNodes(database)) return this.sources.roots(database);
    await this.ensureListed(database, entry);
    if (entry.message) return [entry.message];
    return entry.projects.map((p) => p.node);
  }

  private async ensureListed(database: StepDatabase, entry: DatabaseEntry): Promise<void> {
    if (entry.listed) return;
    entry.listing ??= this.listProjects(database, entry).finally(() => (entry.listing = undefined));
    await entry.listing;
  }

  private async listProjects(database: StepDatabase, entry: DatabaseEntry): Promise<void> {
    entry.listed = true;
    try {
      const projects = await database.projects();
      const [names, shown] = await Promise.all([this.projectNames(database, projects), this.shownCounts(database, projects)]);
      this.applyProjects(database, entry, projects, names, shown);
      this.loadedSteps.fire();
      entry.message = projects.length
        ? undefined
        : message(`${database.id}|empty`, l10n.t('{0} holds no steps yet.', database.label), 'info');
    } catch (err) {
      const { message: sentence, detail } = describeError(err);
      logFailure(this.log, `listing the projects of ${database.path}`, err);
      entry.message = databaseError(`${database.id}|error`, database, sentence, detail, remediesOf(err)[0]);
    }
  }

  /** How many steps of each project the view lists, when the filter or the rolled-back toggle leaves some out. */
  private async shownCounts(database: StepDatabase, projects: ProjectSummary[]): Promise<(number | undefined)[]> {
    const activeOnly = !this.settings.showRolledBack;
    if (!this.filterActive && !activeOnly) return projects.map(() => undefined);
    const filter = this.filterActive ? { ...this.filterValue } : undefined;
    return Promise.all(projects.map((p) => database.stepCount(p.id, { activeOnly, filter })));
  }

  /** With a filter on: how many steps it lists of how many, over every LaForge project listed. */
  filterCounts(): { shown: number; total: number } | undefined {
    if (!this.filterActive) return undefined;
    let shown = 0;
    let total = 0;
    for (const entry of this.entries.values()) {
      for (const { node } of entry.projects) {
        total += node.project.stepCount;
        shown += node.shown ?? node.project.stepCount;
      }
    }
    return { shown, total };
  }

  /** The names a LaForge project.json gives the projects; none when it cannot be read. */
  private async projectNames(database: StepDatabase, projects: ProjectSummary[]): Promise<Map<string, string>> {
    const project = await database.laforgeProject().catch((err: unknown) => {
      logFailure(this.log, `the LaForge project of ${database.path}`, err, 'warn');
      return undefined;
    });
    return laforgeProjectNames(project, projects.map((p) => p.id));
  }

  /** Keeps the state (and node) of every project still listed, updating its summary. */
  private applyProjects(database: StepDatabase, entry: DatabaseEntry, projects: ProjectSummary[], names: Map<string, string>, shown: (number | undefined)[]): void {
    const listed = new Set(projects.map((project) => projectKey(database.id, project.id)));
    for (const key of [...this.live.keys()]) {
      if (key.startsWith(`${database.id}|`) && !listed.has(key.slice(0, key.lastIndexOf('|')))) this.stopWatching(key);
    }
    const previous = new Map(entry.projects.map((p) => [p.key, p]));
    entry.projects = projects.map((project, i) => {
      const key = projectKey(database.id, project.id);
      const kept = previous.get(key);
      const name = names.get(project.id);
      if (kept) {
        kept.node.project = project;
        kept.node.database = database;
        kept.node.name = name;
        kept.node.shown = shown[i];
        return kept;
      }
      return {
        key,
        node: { kind: 'project', database, project, name, shown: shown[i] },
        steps: undefined,
        want: this.settings.pageSize,
        hasMore: false,
        stale: true,
        error: undefined,
        queue: Promise.resolve(),
        loadMore: undefined,
      };
    });
  }

  private projectState(node: { database: StepDatabase; projectId: string } | ProjectNode): ProjectState | undefined {
    const projectId = 'project' in node ? node.project.id : node.projectId;
    return this.entries.get(node.database.id)?.projects.find((p) => p.node.project.id === projectId);
  }

  private async projectChildren(node: ProjectNode): Promise<TreeNode[]> {
    const state = this.projectState(node);
    if (!state) return [];
    await this.ensureSteps(state);
    if (state.error) return [state.error];
    const children: TreeNode[] = [...(state.steps ?? [])];
    if (state.hasMore) {
      state.loadMore = { kind: 'loadMore', database: node.database, projectId: node.project.id, offset: children.length };
      children.push(state.loadMore);
    } else if (children.length === 0) {
      const empty = message(`${state.key}|empty`, this.emptyProjectSentence(node.project), 'info');
      this.parents.set(empty, node);
      children.push(empty);
    }
    return children;
  }

  private emptyProjectSentence(project: ProjectSummary): string {
    if (this.filterActive) return l10n.t('No steps match the filter.');
    if (!this.settings.showRolledBack && project.stepCount > 0) {
      return l10n.t('All {0} steps are rolled back and hidden.', project.stepCount);
    }
    return l10n.t('No steps yet.');
  }

  private enqueue<T>(state: ProjectState, job: () => Promise<T>): Promise<T> {
    const run = state.queue.then(job, job);
    state.queue = run.catch(() => undefined);
    return run;
  }

  /** Reloads the project's steps when stale: as many as were shown, from the newest. */
  private ensureSteps(state: ProjectState): Promise<void> {
    if (state.steps && !state.stale) return Promise.resolve();
    return this.enqueue(state, async () => {
      // A reload queued earlier may have brought it up to date.
      while (state.stale || !state.steps) {
        state.stale = false;
        const want = state.want;
        const page = await this.fetch(state, 0, want);
        if (state.stale) continue; // the filter or the database changed while reading
        if (page === undefined) {
          state.steps = [];
          state.hasMore = false;
          break;
        }
        const shown = page.slice(0, want);
        const [commits, live] = await Promise.all([this.stepCommits(state, shown), this.liveWorktrees(state, shown)]);
        const subjects = await this.subjects(state, commits);
        if (state.stale) continue;
        state.error = undefined;
        state.hasMore = page.length > want;
        state.steps = shown.map((step, i) => this.stepNode(state, step, commits?.[i], subjects?.[i], live[i]));
      }
      this.watchLive(state);
      this.loadedSteps.fire();
    });
  }

  /** One page of steps, one more than asked to learn whether there are more; undefined on failure. */
  private async fetch(state: ProjectState, offset: number, limit: number): Promise<Step[] | undefined> {
    const { database, project } = state.node;
    try {
      return await database.steps(project.id, {
        offset,
        limit: limit + 1,
        activeOnly: !this.settings.showRolledBack,
        filter: this.filterActive ? { ...this.filterValue } : undefined,
      });
    } catch (err) {
      const { message: sentence, detail } = describeError(err);
      logFailure(this.log, `reading the steps of ${projectLabel(project.id)} in ${database.path}`, err);
      state.error = message(`${state.key}|error`, sentence, 'error', detail);
      this.parents.set(state.error, state.node);
      return undefined;
    }
  }

  /** The steps' own commits (one reading of the repository for the page); undefined when git cannot tell. */
  private async stepCommits(state: ProjectState, steps: Step[]): Promise<StepCommit[] | undefined> {
    const { database } = state.node;
    try {
      return await Promise.all(steps.map((step) => database.stepCommit(step)));
    } catch (err) {
      logFailure(this.log, `the steps' commits in ${database.repositoryPath}`, err, 'warn');
      return undefined;
    }
  }

  /**
   * The first line of each step's own commit, read for the whole page at once (a constant
   * number of git processes, none for commits read before); null for a step without one,
   * undefined when git cannot tell.
   */
  private async subjects(state: ProjectState, commits: StepCommit[] | undefined): Promise<(string | null)[] | undefined> {
    if (!commits) return undefined;
    const { database } = state.node;
    const shas = commits.map((c) => c.commit).filter((c): c is string => c !== null);
    try {
      const lines = shas.length ? await database.commitSubjects(shas) : new Map<string, string>();
      return commits.map((c) => (c.commit === null ? null : (lines.get(c.commit) ?? null)));
    } catch (err) {
      logFailure(this.log, `the steps' commit messages in ${database.repositoryPath}`, err, 'warn');
      return undefined;
    }
  }

  /** The live work trees of the running steps among `steps` (one `git worktree list` each; usually one step). */
  private async liveWorktrees(state: ProjectState, steps: Step[]): Promise<(StepWorktree | undefined)[]> {
    return Promise.all(steps.map((step) => (step.status === 'RUNNING' ? this.readLive(state.node.database, step) : undefined)));
  }

  private async readLive(database: StepDatabase, step: Step): Promise<StepWorktree | undefined> {
    try {
      return await database.stepWorktree(step);
    } catch (err) {
      logFailure(this.log, `the work tree of running ${step.label} in ${database.repositoryPath}`, err, 'warn');
      return undefined;
    }
  }

  private stepNode(state: ProjectState, step: Step, commit: StepCommit | undefined, subject: string | null | undefined, live?: StepWorktree): Mutable<StepNode> {
    const existing = state.steps?.find((node) => node.step.id === step.id);
    if (existing) {
      existing.step = step;
      existing.database = state.node.database;
      existing.commit = commit;
      existing.subject = subject;
      existing.live = live;
      return existing;
    }
    return { kind: 'step', database: state.node.database, projectId: state.node.project.id, step, commit, subject, live };
  }

  /**
   * Watches the work tree of each of the project's steps shown live, and stops watching those
   * that ended or whose work tree is gone.
   */
  private watchLive(state: ProjectState): void {
    const wanted = new Map<string, Mutable<StepNode>>();
    for (const node of state.steps ?? []) if (node.live) wanted.set(stepKey(node.database.id, node.projectId, node.step), node);
    for (const [key, watched] of this.live) {
      if (!key.startsWith(`${state.key}|`)) continue;
      const node = wanted.get(key);
      if (node && node === watched.node && node.live?.path === watched.folder) continue;
      this.stopWatching(key);
    }
    for (const [key, node] of wanted) {
      if (this.live.has(key) || !node.live) continue;
      const folder = node.live.path;
      const watched: LiveWatch = {
        node,
        folder,
        watch: { dispose() {} },
        changed: debounce(() => void this.liveChanged(key, watched), this.liveDebounceMs),
        reading: Promise.resolve(),
      };
      watched.watch = this.watch(folder, () => watched.changed());
      this.live.set(key, watched);
      this.log.info(`watching ${folder}, the work tree of running ${node.step.label}`);
    }
  }

  private stopWatching(key: string): void {
    const watched = this.live.get(key);
    if (!watched) return;
    this.live.delete(key);
    watched.changed.cancel();
    watched.watch.dispose();
    this.log.info(`stopped watching ${watched.folder}, the work tree of ${watched.node.step.label}`);
  }

  /** Files changed in a watched work tree: read it again, and stop watching once it is gone. */
  private liveChanged(key: string, watched: LiveWatch): Promise<void> {
    watched.reading = watched.reading.then(async () => {
      if (this.live.get(key) !== watched) return;
      const { node } = watched;
      const live = await this.readLive(node.database, node.step);
      if (this.live.get(key) !== watched) return;
      node.live = live;
      if (!live || live.path !== watched.folder) this.stopWatching(key);
      this.changed.fire([node]);
    });
    return watched.reading;
  }

  /** Shows one more page of another system's nodes. */
  async loadMoreItems(node: ItemMoreNode): Promise<void> {
    await this.sources.loadMore(node);
    const parent = this.sources.getParent(node);
    this.changed.fire(parent ? [parent] : undefined);
  }

  /** Appends the next page of a project's steps. */
  async loadMore(node: LoadMoreNode): Promise<void> {
    const state = this.projectState(node);
    if (!state) return;
    await this.ensureSteps(state);
    await this.enqueue(state, () => this.appendPage(state));
    this.changed.fire([state.node]);
  }

  private async appendPage(state: ProjectState): Promise<void> {
    if (!state.steps || !state.hasMore) return;
    const pageSize = this.settings.pageSize;
    const page = await this.fetch(state, state.steps.length, pageSize);
    if (page === undefined || state.stale) return;
    state.error = undefined;
    // A step that arrived since shifts the pages by one; never show a step twice.
    const shown = new Set(state.steps.map((node) => node.step.id));
    const fresh = page.slice(0, pageSize).filter((step) => !shown.has(step.id));
    const [commits, live] = await Promise.all([this.stepCommits(state, fresh), this.liveWorktrees(state, fresh)]);
    const subjects = await this.subjects(state, commits);
    if (state.stale) return;
    state.steps = [...state.steps, ...fresh.map((step, i) => this.stepNode(state, step, commits?.[i], subjects?.[i], live[i]))];
    this.watchLive(state);
    state.hasMore = page.length > pageSize;
    state.want = Math.max(state.want, state.steps.length);
    this.loadedSteps.fire();
  }

  private async stepChildren(node: StepNode): Promise<TreeNode[]> {
    const key = stepKey(node.database.id, node.projectId, node.step);
    if (node.live) return this.liveChildren(node, node.live, key);
    const commits = stepRange(node);
    const cached = this.files.get(key);
    if (cached && cached.commits === commits) return cached.children;
    let load = this.fileLoads.get(key);
    if (!load) {
      load = this.readFiles(node, key, commits).finally(() => this.fileLoads.delete(key));
      this.fileLoads.set(key, load);
    }
    return load;
  }

  /** A running step's files so far, each compared from its commit before to the file in its work tree. */
  private liveChildren(node: StepNode, live: StepWorktree, key: string): TreeNode[] {
    const worktree = { path: live.path, base: live.base };
    let children: TreeNode[] = live.files.map(
      (file): FileNode => ({ kind: 'file', database: node.database, projectId: node.projectId, step: node.step, file, worktree }),
    );
    if (children.length === 0) children = [message(`${key}|live-empty`, l10n.t('No files changed yet.'), 'info')];
    for (const child of children) this.parents.set(child, node);
    return children;
  }

  private async readFiles(node: StepNode, key: string, commits: string): Promise<TreeNode[]> {
    let children: TreeNode[];
    try {
      const files = await node.database.changedFiles(node.step);
      children = files.map(
        (file): FileNode => ({ kind: 'file', database: node.database, projectId: node.projectId, step: node.step, file }),
      );
      if (children.length === 0) children = [message(`${key}|empty`, l10n.t('No files changed.'), 'info')];
    } catch (err) {
      const { message: sentence, detail } = describeError(err);
      logFailure(this.log, `files of ${node.step.label} in ${node.database.path}`, err, 'warn');
      // "S14 made no commit." is what happened; a step's own gap (no commit yet) is a fact
      // about it; a git failure is an error.
      const severity = isNoCommit(err) ? 'info' : err instanceof GitError ? 'error' : 'warning';
      children = [message(`${key}|error`, sentence, severity, detail)];
    }
    for (const child of children) this.parents.set(child, node);
    // Only keep what was read for the step's current commits.
    if (stepRange(node) === commits) this.files.set(key, { commits, children });
    return children;
  }

  // -------------------------------------------------------------------------------------
  // Finding a step

  /** The project's node, listing the database's projects if needed. */
  async projectNode(databaseId: string, projectId: string): Promise<ProjectNode | undefined> {
    const database = this.databases.get(databaseId);
    if (!database || database.state.kind !== 'ready') return undefined;
    const entry = this.entry(database);
    await this.ensureListed(database, entry);
    return entry.projects.find((p) => p.node.project.id === projectId)?.node;
  }

  /**
   * The step's node, loading pages until it is found. Undefined when the step is not in the
   * tree: hidden by the filter or the rolled-back toggle, or gone.
   */
  async findStep(databaseId: string, projectId: string, stepId: number): Promise<StepNode | undefined> {
    const project = await this.projectNode(databaseId, projectId);
    const state = project && this.projectState(project);
    if (!state) return undefined;
    await this.ensureSteps(state);
    let grew = false;
    for (;;) {
      const found = state.steps?.find((node) => node.step.id === stepId);
      if (found) {
        if (grew) this.changed.fire([state.node]);
        return found;
      }
      if (!state.hasMore || state.error) break;
      const before = state.steps?.length ?? 0;
      await this.enqueue(state, () => this.appendPage(state));
      if ((state.steps?.length ?? 0) === before) break; // nothing new: stop rather than loop
      grew = true;
    }
    if (grew) this.changed.fire([state.node]);
    return undefined;
  }

  // -------------------------------------------------------------------------------------
  // Changes

  /** Everything is read again, keeping as many steps per project as were shown. */
  refreshAll(): void {
    for (const entry of this.entries.values()) this.markStale(entry);
    this.files.clear();
    this.changed.fire(undefined);
  }

  /** List the projects again and reload their steps when next shown; pages and nodes are kept. */
  private markStale(entry: DatabaseEntry): void {
    entry.listed = false;
    entry.message = undefined;
    for (const state of entry.projects) state.stale = true;
  }

  private databasesChanged(): void {
    const present = new Set(this.databases.all.map((d) => d.id));
    for (const id of [...this.entries.keys()]) {
      if (present.has(id)) continue;
      this.entries.delete(id);
      this.sources.drop(id);
    }
    for (const key of [...this.files.keys()]) if (![...present].some((id) => key.startsWith(`${id}|`))) this.files.delete(key);
    for (const key of [...this.live.keys()]) if (![...present].some((id) => key.startsWith(`${id}|`))) this.stopWatching(key);
    this.changed.fire(undefined);
  }

  /**
   * One database changed. When it shows the same projects as before, only those projects'
   * subtrees are refreshed; otherwise the root is.
   */
  private async databaseChanged(database: StepDatabase): Promise<void> {
    for (const key of [...this.files.keys()]) if (key.startsWith(`${database.id}|`)) this.files.delete(key);
    this.sources.forget(database.id);
    const entry = this.entries.get(database.id);
    if (!entry || readsNodes(database)) {
      if (entry) entry.shownState = undefined;
      return this.changed.fire(undefined);
    }
    const sameState = entry.shownState === database.state.kind;
    if (!sameState || database.state.kind !== 'ready' || !entry.listed || entry.message) {
      this.markStale(entry);
      return this.changed.fire(undefined);
    }
    let projects: ProjectSummary[];
    let names: Map<string, string>;
    let shown: (number | undefined)[];
    try {
      projects = await database.projects();
      [names, shown] = await Promise.all([this.projectNames(database, projects), this.shownCounts(database, projects)]);
    } catch {
      this.markStale(entry);
      return this.changed.fire(undefined);
    }
    const before = entry.projects.map((p) => p.node.project.id).join('\n');
    const after = projects.map((p) => p.id).join('\n');
    this.applyProjects(database, entry, projects, names, shown);
    for (const state of entry.projects) state.stale = true;
    this.loadedSteps.fire();
    if (before === after) this.changed.fire(entry.projects.map((p) => p.node));
    else this.changed.fire(undefined);
  }

  dispose(): void {
    for (const key of [...this.live.keys()]) this.stopWatching(key);
    for (const subscription of this.subscriptions) subscription.dispose();
    this.changed.dispose();
    this.filterChanged.dispose();
    this.loadedSteps.dispose();
  }
}

/** The commits a step's files are read for: before, and its own commit as last resolved (else the recorded one). */
function stepRange(node: StepNode): string {
  return `${node.step.commitBefore ?? ''}..${node.commit ? (node.commit.commit ?? 'none') : (node.step.commitAfter ?? '')}`;
}

/** A database read, and written by another system than LaForge. */
/** A database the tree lists as another system's nodes: read, and not LaForge's. */
const readsNodes = (database: StepDatabase): boolean => database.state.kind === 'ready' && isOtherSystem(database);

