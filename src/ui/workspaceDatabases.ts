/**
 * The workspace's step databases: discovered from the settings and LaForge's projects,
 * read through the store worker, reloaded when their files really change.
 */
import type { AnalyticsOptions, StepAnalytics } from '../core/analytics';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { DEFAULT_DATABASE_PATTERNS, DiscoveredDatabase, discoverDatabases, DiscoveryFolder } from '../core/discovery';
import { describeError, logFailure, StepDbError } from '../core/errors';
import { CommitSubjects } from '../core/commitSubjects';
import { debounce } from '../core/async';
import { siblingFiles } from '../core/sources/registry';
import { ChangedFile, GitRepository } from '../core/git';
import { laforgeProjectOf, type LaforgeProject } from '../core/laforgeProject';
import type { Logger } from '../core/log';
import type { Step } from '../core/model';
import { stepChange, StepCommitResolver, watchStepRefs, type StepCommit, type StepCommitIndex } from '../core/stepCommits';
import { stepWorktree, type StepWorktree } from '../core/worktrees';
import { RemoteStepStore, StoreWorker } from '../core/remoteStore';
import { Fingerprint, readFingerprint, sameFingerprint } from '../core/fingerprint';
import type { ProjectSummary, StepAggregates } from '../core/stepStore';
import { guarded } from './showError';
import type { ChangeItem, DetailSection, HistoryNode, NodeRef, Page, TextRef } from '../core/sources/types';
import type { DatabaseState, SourceInfo, StepDatabase, StepDatabases, StepFilter, StepPageOptions } from '../core/stepDatabase';
import { remediesOf } from '../core/remedies';
import { failures } from '../core/messages';

export interface WorkspaceStepDatabasesOptions {
  context: vscode.ExtensionContext;
  log: Logger;
  /** The store worker's script; default dist/storeWorker.js in the extension. */
  workerPath?: string;
  /** sql.js's WASM; default dist/sql-wasm.wasm in the extension. */
  wasmPath?: string;
  /** The home folder for `~` and LaForge's projects; default os.homedir(). */
  home?: string;
  /** How often loaded databases are checked for changes the file watcher missed; default 3 s. */
  pollMs?: number;
  /** How long file events settle before a check; default 250 ms. */
  debounceMs?: number;
}

const ADDED_KEY = 'stepHistory.addedDatabases';
const DISCOVERY_SETTINGS = ['stepHistory.databases', 'stepHistory.laforgeProjects'];

export class WorkspaceStepDatabases implements StepDatabases {
  private readonly changedList = new vscode.EventEmitter<void>();
  private readonly changedOne = new vscode.EventEmitter<StepDatabase>();
  readonly onDidChangeDatabases = this.changedList.event;
  readonly onDidChangeDatabase = this.changedOne.event;

  private databases: WorkspaceStepDatabase[] = [];
  private isDiscovered = false;
  private readonly worker: StoreWorker;
  private readonly log: Logger;
  private readonly home: string;
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;

  private discoveryTail: Promise<void> = Promise.resolve();
  private discoveryQueued: Promise<void> | undefined;
  private rediscoverTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(readonly options: WorkspaceStepDatabasesOptions) {
    const { context, log } = options;
    this.log = log;
    this.home = options.home ?? os.homedir();
    this.worker = new StoreWorker({
      workerPath: options.workerPath ?? context.asAbsolutePath(path.join('dist', 'storeWorker.js')),
      wasmPath: options.wasmPath ?? context.asAbsolutePath(path.join('dist', 'sql-wasm.wasm')),
      log,
      maxDatabaseSizeMb: () => vscode.workspace.getConfiguration('stepHistory').get<number>('maxDatabaseSizeMb'),
      l10nContents: vscode.l10n.bundle,
    });
    this.disposables.push(
      vscode.commands.registerCommand('stepHistory.openDatabase', guarded(log, 'Open Step Database', () => this.pickAndAdd())),
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.discover('the workspace folders changed')),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (DISCOVERY_SETTINGS.some((s) => e.affectsConfiguration(s))) void this.discover('the settings changed');
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.discover('the workspace is now trusted')),
      ...this.watchForNewDatabases(),
    );
    void this.discover('activation');
  }

  get all(): readonly StepDatabase[] {
    return this.databases;
  }

  get discovered(): boolean {
    return this.isDiscovered;
  }

  get(id: string): StepDatabase | undefined {
    return this.databases.find((d) => d.id === id);
  }

  async refresh(): Promise<void> {
    await this.discover('refresh');
    await Promise.all(this.databases.map((d) => d.checkForChange('refresh', { retryFailed: true })));
  }

  async add(dbPath: string): Promise<StepDatabase> {
    const file = path.resolve(dbPath);
    const state = this.options.context.workspaceState;
    const before = this.addedPaths();
    if (!before.includes(file)) await state.update(ADDED_KEY, [...before, file]);
    await this.discover(`${file} was added`);
    const db = this.findFile(file);
    try {
      if (!db) throw failures.databaseMissing({ path: file });
      await db.load();
      this.log.info(`Added the step database ${file}.`);
      return db;
    } catch (err) {
      if (!before.includes(file)) {
        await state.update(ADDED_KEY, this.addedPaths().filter((p) => p !== file));
        await this.discover(`${file} could not be opened`);
      }
      throw err;
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.rediscoverTimer);
    clearInterval(this.pollTimer);
    for (const d of this.disposables.splice(0)) d.dispose();
    for (const db of this.databases) db.dispose();
    this.databases = [];
    this.worker.dispose();
    this.changedList.dispose();
    this.changedOne.dispose();
  }

  // -------------------------------------------------------------------------------------

  private async pickAndAdd(): Promise<void> {
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false,
      canSelectFiles: true,
      canSelectFolders: false,
      openLabel: 'Open Step Database',
      title: vscode.l10n.t('Open Step Database'),
      defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
      filters: { 'Step databases': ['db', 'sqlite', 'sqlite3'], 'All files': ['*'] },
    });
    if (!picked || picked.length === 0) return;
    await this.add(picked[0].fsPath);
  }

  private addedPaths(): string[] {
    const value = this.options.context.workspaceState.get<unknown>(ADDED_KEY);
    return Array.isArray(value) ? value.filter((p): p is string => typeof p === 'string') : [];
  }

  private findFile(file: string): WorkspaceStepDatabase | undefined {
    const direct = this.databases.find((d) => d.path === file);
    if (direct) return direct;
    const real = realPathOf(file);
    return this.databases.find((d) => realPathOf(d.path) === real);
  }

  /** Runs discovery after any run under way; requests made while one waits share it. */
  private discover(why: string): Promise<void> {
    if (this.discoveryQueued) return this.discoveryQueued;
    const run = this.discoveryTail.then(() => {
      this.discoveryQueued = undefined;
      return this.runDiscovery(why);
    });
    this.discoveryQueued = run;
    this.discoveryTail = run.catch(() => undefined);
    return run;
  }

  private async runDiscovery(why: string): Promise<void> {
    if (this.disposed) return;
    const t0 = performance.now();
    let found: DiscoveredDatabase[] = [];
    try {
      const folders = [...(vscode.workspace.workspaceFolders ?? [])];
      const discoveryFolders: DiscoveryFolder[] = folders.map((f) => {
        const config = vscode.workspace.getConfiguration('stepHistory', f.uri);
        return { path: f.uri.fsPath, patterns: patternsOf(config), laforgeProjects: config.get('laforgeProjects') !== false };
      });
      found = await discoverDatabases({
        folders: discoveryFolders,
        patternsWithoutFolder: folders.length === 0 ? patternsOf(vscode.workspace.getConfiguration('stepHistory')) : [],
        added: this.addedPaths(),
        home: this.home,
        log: this.log,
      });
    } catch (err) {
      logFailure(this.log, `Discovery failed (${why})`, err);
    }
    if (this.disposed) return;
    const changed = this.reconcile(found);
    this.log.debug(
      `Discovery (${why}) took ${(performance.now() - t0).toFixed(1)} ms: ${this.databases.length} database(s)` +
        `${changed ? ', list changed' : ''}.`,
    );
    const first = !this.isDiscovered;
    if (first) {
      this.isDiscovered = true;
      void vscode.commands.executeCommand('setContext', 'stepHistory.discovered', true);
    }
    if (first || changed) this.changedList.fire();
  }

  /** Keeps the database objects (and their loaded stores) that are still found; returns whether the list changed. */
  private reconcile(found: DiscoveredDatabase[]): boolean {
    const folders = [...(vscode.workspace.workspaceFolders ?? [])];
    const old = new Map(this.databases.map((d) => [d.path, d]));
    const next = found.map((f) => {
      const existing = old.get(f.path);
      if (existing && existing.sameAs(f)) {
        old.delete(f.path);
        return existing;
      }
      const workspaceFolder = f.workspaceFolder ? folders.find((w) => w.uri.fsPath === f.workspaceFolder) : undefined;
      return new WorkspaceStepDatabase(f, workspaceFolder, this.worker, this.log, this.options.debounceMs ?? 250, (db) => this.databaseChanged(db));
    });
    for (const gone of old.values()) {
      this.log.debug(`${gone.path} is no longer among the step databases.`);
      gone.dispose();
    }
    const changed = next.length !== this.databases.length || next.some((d, i) => d !== this.databases[i]);
    this.databases = next;
    return changed;
  }

  private databaseChanged(db: WorkspaceStepDatabase): void {
    if (this.disposed || !this.databases.includes(db)) return;
    if (db.state.kind !== 'loading') this.startPolling();
    this.changedOne.fire(db);
  }

  /** The fallback for file systems whose watchers miss writes: one cheap fingerprint per loaded database. */
  private startPolling(): void {
    if (this.pollTimer || this.disposed) return;
    this.pollTimer = setInterval(() => void this.pollOnce(), this.options.pollMs ?? 3000);
    this.pollTimer.unref?.();
  }

  private async pollOnce(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      for (const db of this.databases) await db.checkForChange('poll');
    } finally {
      this.polling = false;
    }
  }

  /** A steps.db appearing in the workspace or a LaForge project appearing: look again. */
  private watchForNewDatabases(): vscode.Disposable[] {
    const later = () => {
      clearTimeout(this.rediscoverTimer);
      this.rediscoverTimer = setTimeout(() => void this.discover('a step database appeared or went away'), 1000);
    };
    const watchers = [
      vscode.workspace.createFileSystemWatcher('**/{steps.db,data/orchestrator.db,data/llm_orchestration.db}', false, true, false),
      vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.join(this.home, '.constellation')), 'constellation.db'), false, true, false),
      vscode.workspace.createFileSystemWatcher(
        new vscode.RelativePattern(vscode.Uri.file(path.join(this.home, '.laforge', 'projects')), '*/{steps.db,project.json}'),
        false,
        true,
        false,
      ),
    ];
    for (const w of watchers) {
      w.onDidCreate(later);
      w.onDidDelete(later);
    }
    return watchers;
  }
}

const isLaforge = (store: RemoteStepStore): boolean => store.detection.system === 'laforge';

/** Whether a file's fingerprint differs from one read before (undefined: it was missing or unreadable). */
function stampChanged(file: string, then: Fingerprint | undefined): boolean {
  const now = readFingerprintSafely(file);
  return now === undefined || then === undefined ? now !== then : !sameFingerprint(now, then);
}

function patternsOf(config: vscode.WorkspaceConfiguration): string[] {
  const value = config.get<unknown>('databases');
  if (!Array.isArray(value)) return [...DEFAULT_DATABASE_PATTERNS];
  return value.filter((p): p is string => typeof p === 'string' && p.trim() !== '');
}

function realPathOf(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return file;
  }
}

function readFingerprintSafely(file: string): Fingerprint | undefined {
  try {
    return readFingerprint(file);
  } catch {
    return undefined;
  }
}

/** Glob characters in a file name, made literal for a RelativePattern. */
function literalGlob(name: string): string {
  return name.replace(/[*?[\]{}]/g, (c) => `[${c}]`);
}

/**
 * One database: its store opens in the worker on first use; a real change on disk reopens
 * it and swaps the new store in, one load at a time.
 */
export class WorkspaceStepDatabase implements StepDatabase {
  readonly id: string;
  readonly path: string;
  readonly label: string;
  readonly repositoryPath: string;
  private currentState: DatabaseState = { kind: 'loading' };

  private current: RemoteStepStore | undefined;
  private failure: { error: unknown; fingerprint: Fingerprint | undefined } | undefined;
  private opening: Promise<RemoteStepStore> | undefined;
  private recheck = false;
  private checking = false;
  private repo: Promise<GitRepository> | undefined;
  /** Keyed by the step's range, `<before>..<commit>`: a new note or a moved branch reads again. */
  private readonly changedFilesCache = new Map<string, Promise<ChangedFile[]>>();
  private commits: { repo: GitRepository; resolver: StepCommitResolver } | undefined;
  private subjects: { repo: GitRepository; cache: CommitSubjects } | undefined;
  private readonly watcher: vscode.FileSystemWatcher;
  private refsWatch: { dispose(): void } | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(
    found: DiscoveredDatabase,
    readonly workspaceFolder: vscode.WorkspaceFolder | undefined,
    private readonly worker: StoreWorker,
    private readonly log: Logger,
    private readonly debounceMs: number,
    private readonly changed: (db: WorkspaceStepDatabase) => void,
  ) {
    this.id = found.path;
    this.path = found.path;
    this.label = found.label;
    this.repositoryPath = found.repositoryPath;
    // The database and its -wal (and -journal), and the files beside it its source may read
    // (Autonomous Software Studio's checkpoints.db); works outside the workspace too.
    const name = literalGlob(path.basename(this.path));
    this.watcher = vscode.workspace.createFileSystemWatcher(
      new vscode.RelativePattern(vscode.Uri.file(path.dirname(this.path)), path.basename(this.path) === 'orchestrator.db' ? `{${name},checkpoints.db}*` : `${name}*`),
    );
    const onEvent = (uri: vscode.Uri) => this.fileEvent(uri);
    this.watcher.onDidChange(onEvent);
    this.watcher.onDidCreate(onEvent);
    this.watcher.onDidDelete(onEvent);
  }

  get state(): DatabaseState {
    return this.currentState;
  }

  get source(): SourceInfo | undefined {
    return this.current ? { detection: this.current.detection, levels: this.current.levels } : undefined;
  }

  /** The files beside the database its source read, as they were then: a change there is a change to it. */
  private siblings: { file: string; fingerprint: Fingerprint | undefined }[] = [];

  private siblingsChanged(): boolean {
    return this.siblings.some((s) => stampChanged(s.file, s.fingerprint));
  }

  /** A read of a database the views stopped showing. */
  private noLongerShown(): StepDbError {
    return failures.databaseNotShown({ path: this.path });
  }

  /** Whether discovery describes this same database, so the loaded object can stay. */
  sameAs(found: DiscoveredDatabase): boolean {
    return (
      found.path === this.path &&
      found.label === this.label &&
      found.repositoryPath === this.repositoryPath &&
      found.workspaceFolder === this.workspaceFolder?.uri.fsPath
    );
  }

  // LaForge's projects and steps. Another system's database has none of them (its history is
  // read through children and node), so the views that list LaForge steps pass it by.
  async projects(): Promise<ProjectSummary[]> {
    const store = await this.store();
    return isLaforge(store) ? store.projects() : [];
  }
  async steps(projectId: string, options?: StepPageOptions): Promise<Step[]> {
    const store = await this.store();
    return isLaforge(store) ? store.steps(projectId, options) : [];
  }
  async step(id: number): Promise<Step | undefined> {
    const store = await this.store();
    return isLaforge(store) ? store.step(id) : undefined;
  }
  async latestActiveStep(projectId: string): Promise<Step | undefined> {
    const store = await this.store();
    return isLaforge(store) ? store.latestActiveStep(projectId) : undefined;
  }
  async stepCount(projectId: string, options?: { activeOnly?: boolean; filter?: StepFilter }): Promise<number> {
    const store = await this.store();
    return isLaforge(store) ? store.stepCount(projectId, options) : 0;
  }
  async models(projectId: string): Promise<string[]> {
    const store = await this.store();
    return isLaforge(store) ? store.models(projectId) : [];
  }
  async aggregates(projectId?: string): Promise<StepAggregates> {
    return (await this.store()).aggregates(projectId);
  }
  async analytics(options: AnalyticsOptions): Promise<StepAnalytics> {
    return (await this.store()).analytics(options);
  }
  async children(parent: NodeRef | null, page?: Page): Promise<HistoryNode[]> {
    return (await this.store()).children(parent, page);
  }
  async count(parent: NodeRef | null): Promise<number> {
    return (await this.store()).count(parent);
  }
  async node(ref: NodeRef): Promise<HistoryNode | undefined> {
    return (await this.store()).node(ref);
  }
  async details(ref: NodeRef): Promise<DetailSection[]> {
    return (await this.store()).details(ref);
  }
  async changes(ref: NodeRef): Promise<ChangeItem[]> {
    return (await this.store()).changes(ref);
  }
  async text(ref: TextRef): Promise<string | null> {
    return (await this.store()).text(ref);
  }
  async counterparts(ref: NodeRef): Promise<HistoryNode[]> {
    return (await this.store()).counterparts(ref);
  }

  repository(): Promise<GitRepository> {
    if (!this.repo) {
      const opening = GitRepository.open(this.repositoryPath, { log: this.log });
      this.repo = opening;
      // A failure does not stick: git may be installed, or the folder made a repository, later.
      opening.catch(() => {
        if (this.repo === opening) this.repo = undefined;
      });
    }
    return this.repo;
  }

  async stepCommit(step: Step): Promise<StepCommit> {
    return (await this.commitIndex()).resolve(step);
  }

  async commitIndex(): Promise<StepCommitIndex> {
    const repo = await this.repository();
    if (this.commits?.repo !== repo) {
      this.refsWatch?.dispose();
      this.refsWatch = undefined;
      this.commits = { repo, resolver: new StepCommitResolver(repo, this.log) };
    }
    const { resolver } = this.commits;
    const index = await resolver.index();
    this.watchRefs(resolver);
    return index;
  }

  async stepsWithCommits(commits: readonly string[]): Promise<Step[]> {
    return (await this.store()).stepsWithCommits(commits);
  }

  async stepsWithIds(ids: readonly number[]): Promise<Step[]> {
    return (await this.store()).stepsWithIds(ids);
  }

  async hasRecordedRanges(): Promise<boolean> {
    return (await this.store()).hasRecordedRanges();
  }

  /**
   * Once the steps' commits have been read, a commit, a merge, a rollback, a new note or a
   * moved step branch shows in the views without waiting for the database to change.
   */
  private watchRefs(resolver: StepCommitResolver): void {
    const dirs = resolver.gitDirs;
    // Compared with what the views were last told, not with the resolver's own cache, which
    // any reader may have brought up to date meanwhile.
    let shown = resolver.refsState();
    if (this.refsWatch || this.disposed || !dirs || shown === null) return;
    const check = debounce(() => {
      const now = resolver.refsState();
      if (this.disposed || this.commits?.resolver !== resolver || now === shown) return;
      shown = now;
      this.log.debug(`The git refs of ${this.repositoryPath} moved: reading ${this.label}'s step commits again.`);
      this.changed(this);
    }, this.debounceMs);
    const watch = watchStepRefs(dirs, check, this.log);
    this.refsWatch = { dispose: () => (check.cancel(), watch.dispose()) };
  }

  async commitSubjects(commits: readonly string[]): Promise<Map<string, string>> {
    const repo = await this.repository();
    if (this.subjects?.repo !== repo) this.subjects = { repo, cache: new CommitSubjects(repo) };
    return this.subjects.cache.of(commits);
  }

  /** Read each time: a small file, and its name may be changed while the editor runs. */
  laforgeProject(): Promise<LaforgeProject | undefined> {
    return laforgeProjectOf(this.path, this.log);
  }

  async changedFiles(step: Step): Promise<ChangedFile[]> {
    const { before, after } = stepChange(step, await this.stepCommit(step));
    const key = `${step.id}|${before}..${after}`;
    let cached = this.changedFilesCache.get(key);
    if (!cached) {
      const pending = this.repository().then((repo) => repo.changedFiles(before, after));
      cached = pending;
      this.changedFilesCache.set(key, pending);
      pending.catch(() => {
        if (this.changedFilesCache.get(key) === pending) this.changedFilesCache.delete(key);
      });
    }
    return cached;
  }

  async stepWorktree(step: Step): Promise<StepWorktree | undefined> {
    if (step.status !== 'RUNNING') return undefined;
    return stepWorktree(await this.repository(), step, { log: this.log });
  }

  /** Opens the store if it is not open yet; rejects with the StepDbError that keeps it from opening. */
  load(): Promise<RemoteStepStore> {
    return this.store();
  }

  async readNow(): Promise<RemoteStepStore> {
    if (this.current?.alive && this.current.hasChanged()) await this.checkForChange('a rollback plan');
    return this.store();
  }

  /**
   * Reloads if the files really changed since they were read (or since the last failure).
   * Never opens a database nobody has used yet, and never runs two loads at once.
   */
  async checkForChange(why: string, options: { retryFailed?: boolean } = {}): Promise<void> {
    if (this.disposed || (!this.current && !this.failure)) return;
    if (this.opening || this.checking) {
      this.recheck = true;
      return;
    }
    this.checking = true;
    try {
      const now = readFingerprintSafely(this.path);
      const loaded = this.current ? this.current.fingerprint : this.failure?.fingerprint;
      const differs = !now || !loaded || !sameFingerprint(now, loaded) || this.siblingsChanged();
      if (!differs && !(options.retryFailed && this.failure)) return;
      const reason = differs ? `${why}: the files changed` : `${why}: retrying after an error`;
      await this.reload(reason).catch(() => undefined);
    } finally {
      this.checking = false;
    }
    if (this.recheck && !this.disposed) {
      this.recheck = false;
      await this.checkForChange('it changed while loading');
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.debounceTimer);
    this.watcher.dispose();
    this.refsWatch?.dispose();
    void this.current?.close();
    this.current = undefined;
    this.changedFilesCache.clear();
  }

  // -------------------------------------------------------------------------------------

  private fileEvent(uri: vscode.Uri): void {
    if (this.disposed || (!this.current && !this.failure)) return;
    clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => void this.checkForChange(`file event on ${path.basename(uri.fsPath)}`), this.debounceMs);
  }

  private async store(): Promise<RemoteStepStore> {
    if (this.disposed) throw this.noLongerShown();
    if (this.current?.alive) return this.current;
    if (this.opening) return this.opening;
    if (this.failure && !this.current) {
      const now = readFingerprintSafely(this.path);
      const then = this.failure.fingerprint;
      // The same files fail the same way: don't read 100 MB again for every view request.
      if (now && then && sameFingerprint(now, then)) throw this.failure.error;
    }
    return this.reload(this.current ? 'the database reader restarted' : this.failure ? 'the files changed since the error' : 'first use');
  }

  private reload(why: string): Promise<RemoteStepStore> {
    if (this.opening) return this.opening;
    const t0 = performance.now();
    this.log.debug(`Loading ${this.path} (${why}).`);
    const hadStore = !!this.current || this.currentState.kind === 'ready';
    const opening = (async () => {
      try {
        const store = await this.worker.open(this.path);
        if (this.disposed) {
          void store.close();
          throw this.noLongerShown();
        }
        const old = this.current;
        this.current = store;
        this.siblings = siblingFiles(store.detection).map((f) => {
          const file = path.join(path.dirname(this.path), f);
          return { file, fingerprint: readFingerprintSafely(file) };
        });
        this.failure = undefined;
        this.changedFilesCache.clear();
        this.currentState = { kind: 'ready' };
        void old?.close();
        this.log.debug(
          `Loaded ${this.path} in ${(performance.now() - t0).toFixed(1)} ms (worker open ${store.openMs.toFixed(1)} ms, ` +
            `${store.framesApplied} WAL frame(s)) — ${why}.`,
        );
        this.changed(this);
        return store;
      } catch (err) {
        if (this.disposed) throw err;
        const error =
          err instanceof StepDbError && err.code === 'FILE_MISSING' && hadStore
            ? failures.databaseGone({ path: this.path }, err.detail)
            : err;
        const old = this.current;
        this.current = undefined;
        this.failure = { error, fingerprint: readFingerprintSafely(this.path) };
        this.changedFilesCache.clear();
        void old?.close();
        const { message, detail } = describeError(error);
        this.currentState = { kind: 'error', message, detail, remedy: remediesOf(error)[0] };
        logFailure(this.log, `Could not load ${this.path} (${why}) after ${(performance.now() - t0).toFixed(1)} ms`, error, 'warn');
        this.changed(this);
        throw error;
      }
    })();
    this.opening = opening;
    const done = () => {
      if (this.opening === opening) this.opening = undefined;
      // A check under way picks the request up itself when this load ends.
      if (this.recheck && !this.checking && !this.disposed) {
        this.recheck = false;
        void this.checkForChange('it changed while loading');
      }
    };
    opening.then(done, done);
    return opening;
  }
}
