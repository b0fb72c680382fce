/**
 * StepStore behind a worker thread: one worker for every database, started on the first
 * open (never at activation), answering requests matched by id. Reading and parsing a
 * 100 MB database happens there; the extension host only receives pages of steps. A
 * database over the size limit is refused before it is read, and a worker that exhausts
 * its heap stops alone: every waiting call fails with TOO_LARGE and the next starts anew.
 */
import * as v8 from 'v8';
import { ResourceLimits, Worker } from 'worker_threads';
import { StepDbError } from './errors';
import { failures, remake } from './messages';
import { Logger, silentLogger } from './log';
import { Fingerprint, readFingerprint, sameFingerprint } from './fingerprint';
import type { AnalyticsOptions, StepAnalytics } from './analytics';
import type { ProjectSummary, SchemaInfo, StepAggregates, StepCountOptions, StepQueryOptions } from './stepStore';
import type { ErrorValue, OpenResult, WorkerStart, StoreCalls, StoreMethod, StoreResults, WorkerMemory, WorkerRequest, WorkerResponse } from './storeProtocol';
import type { ChangeItem, DetailSection, Detection, HistoryNode, LevelInfo, NodeRef, Page, TextRef } from './sources/types';
import type { Step } from './model';

/**
 * The largest step database (file and -wal together) an open reads, in MB, by default. The
 * worker holds the whole file in memory, outside its V8 heap where no resource limit bounds
 * it, in the extension host's process: `npm run bench` measures about 1.05x the file's size
 * added by open + first page of 951 MB, and 2.5x once aggregates and models have run too.
 * 1 GB holds about a million realistic steps and is half of what Node reads into one Buffer.
 */
export const DEFAULT_MAX_DATABASE_SIZE_MB = 1024;
/** Node reads at most 2 GiB into one Buffer, so no limit above this can be honoured. */
export const MAX_DATABASE_SIZE_MB = 2047;
/**
 * The worker's V8 old generation, in MB. The heap a database needs grows with its rows
 * (aggregates folds every one: about 0.45 MB per MB of file, `npm run bench`), so this
 * covers a database at MAX_DATABASE_SIZE_MB twice over, while a runaway stops here rather
 * than at V8's default, which is sized for the whole machine. Never more than the extension
 * host's own heap limit. (sql.js's WASM memory is outside it; its build caps it at 2 GB.)
 */
export const WORKER_HEAP_LIMIT_MB = 2048;

export interface StoreWorkerOptions {
  /** The worker's script: dist/storeWorker.js beside the extension bundle. */
  workerPath: string;
  /** sql.js's WASM; the worker's default is the installed sql.js package's. */
  wasmPath?: string;
  log?: Logger;
  /** Node options for the worker (tests may load TypeScript through a loader). */
  execArgv?: string[];
  /**
   * The largest database an open reads, in MB (DEFAULT_MAX_DATABASE_SIZE_MB unless given;
   * at most MAX_DATABASE_SIZE_MB); a function is asked at every open, so a changed setting
   * applies to the next one.
   */
  maxDatabaseSizeMb?: number | (() => number | undefined);
  /** The worker's V8 limits; by default its old generation is WORKER_HEAP_LIMIT_MB. */
  resourceLimits?: ResourceLimits;
  /**
   * The editor's translations (`vscode.l10n.bundle`) for the words the worker writes: the
   * sources' details, tree rows and warnings, and the errors' sentences. English when not given.
   */
  l10nContents?: Record<string, string>;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface Pending {
  resolve(value: unknown): void;
  reject(err: unknown): void;
  what: string;
  /** The database the request reads, for the sentence if the worker dies meanwhile. */
  file?: string;
}

/** The store worker was disposed: calls after it, and calls still waiting, are refused with this. */
const stoppedReading = (): StepDbError => failures.stoppedReading({}, 'store worker disposed');

export class StoreWorker {
  private worker: Worker | undefined;
  /** Counts workers started; a store opened in an earlier one is gone. */
  private generationCount = 0;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private disposed = false;
  private readonly log: Logger;

  constructor(private readonly options: StoreWorkerOptions) {
    this.log = options.log ?? silentLogger;
  }

  /** Whether a worker thread is running now. */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /** The current worker's generation; 0 before the first start. */
  get generation(): number {
    return this.worker ? this.generationCount : -1;
  }

  /** Opens a database in the worker. Rejects with a StepDbError, as StepStore.open does. */
  async open(dbPath: string): Promise<RemoteStepStore> {
    const { value, generation } = await this.request<OpenResult>(
      { kind: 'open', path: dbPath, wasmPath: this.options.wasmPath, maxSizeMb: this.maxDatabaseSizeMb() },
      dbPath,
    );
    return new RemoteStepStore(this, dbPath, value, generation);
  }

  /** The worker's heap and the memory outside it, as the worker sees them (starts it if needed). */
  memoryUsage(): Promise<WorkerMemory> {
    return this.request<WorkerMemory>({ kind: 'memory' }).then((r) => r.value);
  }

  /** Tests only: makes the worker exit as if it had crashed. */
  crashForTesting(): Promise<unknown> {
    return this.request({ kind: 'crash' }).then((r) => r.value);
  }

  /** The size limit for the next open, in MB. */
  maxDatabaseSizeMb(): number {
    const { maxDatabaseSizeMb: given } = this.options;
    const mb = typeof given === 'function' ? given() : given;
    if (typeof mb !== 'number' || !Number.isFinite(mb) || mb <= 0) return DEFAULT_MAX_DATABASE_SIZE_MB;
    return Math.min(mb, MAX_DATABASE_SIZE_MB);
  }

  /** Sends one request; the generation tells which worker answered. `file` is the database it reads. */
  request<T>(message: DistributiveOmit<WorkerRequest, 'id'>, file?: string): Promise<{ value: T; generation: number }> {
    if (this.disposed) return Promise.reject(stoppedReading());
    let worker: Worker;
    try {
      worker = this.ensureWorker();
    } catch (err) {
      return Promise.reject(failures.readerNotStarted({}, String(err)));
    }
    const generation = this.generationCount;
    const id = this.nextId++;
    const what = message.kind === 'call' ? message.method : message.kind;
    return new Promise<{ value: T; generation: number }>((resolve, reject) => {
      this.pending.set(id, { resolve: (value) => resolve({ value: value as T, generation }), reject, what, file });
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ ...message, id } as WorkerRequest);
    });
  }

  /** Ends the worker; calls still waiting reject. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const worker = this.worker;
    this.worker = undefined;
    const stopped = stoppedReading();
    this.failPending(() => stopped);
    if (worker) void worker.terminate();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const t0 = performance.now();
    const resourceLimits = this.options.resourceLimits ?? {
      maxOldGenerationSizeMb: Math.min(WORKER_HEAP_LIMIT_MB, Math.floor(v8.getHeapStatistics().heap_size_limit / 2 ** 20)),
    };
    const worker = new Worker(this.options.workerPath, { execArgv: this.options.execArgv, resourceLimits, workerData: workerData(this.options) });
    this.generationCount++;
    this.worker = worker;
    worker.unref();
    let failure: Error | undefined;
    worker.on('message', (message: WorkerResponse) => {
      if ('log' in message) {
        this.log[message.log](message.message);
        return;
      }
      const pending = this.pending.get(message.id);
      if (!pending) return;
      this.pending.delete(message.id);
      if (this.pending.size === 0 && this.worker === worker) worker.unref();
      if (message.ok) pending.resolve(message.value);
      else pending.reject(rebuildError(message.error));
    });
    worker.on('error', (err) => {
      failure = err;
      this.log.error(`The store worker failed: ${err.stack ?? err.message}`);
    });
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      const detail = `store worker exited with code ${code}${failure ? `: ${failure.stack ?? failure.message}` : ''}`;
      this.log.warn(`${detail}; the next request starts a new one.`);
      if ((failure as NodeJS.ErrnoException | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
        const limit = resourceLimits.maxOldGenerationSizeMb;
        this.failPending((p) => outOfMemory(p.file, limit, detail));
      } else {
        const stopped = failures.readerStopped({}, detail);
        this.failPending(() => stopped);
      }
    });
    this.log.debug(
      `Started the store worker (generation ${this.generationCount}, heap limit ` +
        `${resourceLimits.maxOldGenerationSizeMb ?? 'default'} MB) in ${(performance.now() - t0).toFixed(1)} ms.`,
    );
    return worker;
  }

  private failPending(errorFor: (pending: Pending) => StepDbError): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const p of waiting) p.reject(errorFor(p));
  }
}

/** Every request waiting when the worker hit its heap limit fails so, not only the one that grew it. */
/** The worker's start data: the translations, when the editor has them. */
function workerData(options: StoreWorkerOptions): WorkerStart {
  return options.l10nContents ? { l10nContents: options.l10nContents } : {};
}

function outOfMemory(file: string | undefined, limitMb: number | undefined, detail: string): StepDbError {
  return failures.outOfMemory({ path: file ?? null, limitMb: limitMb ?? null }, detail);
}

/** A failure of the worker as the host's typed error, its sentence made again here, where the l10n bundle is loaded. */
function rebuildError(error: ErrorValue): StepDbError {
  if (error.name === 'StepDbError' && error.code) {
    const again = error.messageId && error.facts ? remake(error.messageId, error.facts, error.detail) : undefined;
    if (again instanceof StepDbError && again.code === error.code) return again;
    return new StepDbError(error.code, error.message, error.detail);
  }
  return failures.readUnexpected({}, error.detail ?? error.message);
}

/**
 * A database open in the worker; every query is a request. LaForge's are read by the
 * StepStore methods, the other systems' by the HistorySource ones (`detection` says which).
 */
export class RemoteStepStore {
  private closed = false;
  /** Which system wrote the file. */
  readonly detection: Detection;
  readonly levels: readonly LevelInfo[];
  /** LaForge's steps table; null for the other systems. */
  readonly schema: SchemaInfo | null;
  /** The files as they were when read. */
  readonly fingerprint: Fingerprint;
  readonly framesApplied: number;
  /** How long the worker took to open it, in ms. */
  readonly openMs: number;
  private readonly handle: number;

  constructor(
    private readonly host: StoreWorker,
    readonly path: string,
    opened: OpenResult,
    private readonly generation: number,
  ) {
    this.handle = opened.handle;
    this.schema = opened.schema;
    this.detection = opened.detection;
    this.levels = opened.levels;
    this.fingerprint = opened.fingerprint;
    this.framesApplied = opened.framesApplied;
    this.openMs = opened.ms;
  }

  /** False once closed, or once the worker that holds it has stopped: reopen the database then. */
  get alive(): boolean {
    return !this.closed && this.host.generation === this.generation;
  }

  projects(): Promise<ProjectSummary[]> {
    return this.call('projects');
  }
  steps(projectId: string, options?: StepQueryOptions): Promise<Step[]> {
    return this.call('steps', projectId, options);
  }
  step(id: number): Promise<Step | undefined> {
    return this.call('step', id);
  }
  latestActiveStep(projectId: string): Promise<Step | undefined> {
    return this.call('latestActiveStep', projectId);
  }
  stepCount(projectId?: string, options?: StepCountOptions): Promise<number> {
    return this.call('stepCount', projectId, options);
  }
  nextStepId(): Promise<number> {
    return this.call('nextStepId');
  }
  models(projectId: string): Promise<string[]> {
    return this.call('models', projectId);
  }
  aggregates(projectId?: string): Promise<StepAggregates> {
    return this.call('aggregates', projectId);
  }
  /** Any system's: a LaForge project's (`projectId`) by SQL, another system's node's (`ref`) folded from its steps; the whole database when neither. */
  analytics(options: AnalyticsOptions): Promise<StepAnalytics> {
    return this.call('analytics', options);
  }

  stepsWithCommits(commits: readonly string[]): Promise<Step[]> {
    return this.call('stepsWithCommits', commits);
  }

  stepsWithIds(ids: readonly number[]): Promise<Step[]> {
    return this.call('stepsWithIds', ids);
  }

  hasRecordedRanges(): Promise<boolean> {
    return this.call('hasRecordedRanges');
  }

  children(parent: NodeRef | null, page?: Page): Promise<HistoryNode[]> {
    return this.call('children', parent, page);
  }
  count(parent: NodeRef | null): Promise<number> {
    return this.call('count', parent);
  }
  node(ref: NodeRef): Promise<HistoryNode | undefined> {
    return this.call('node', ref);
  }
  details(ref: NodeRef): Promise<DetailSection[]> {
    return this.call('details', ref);
  }
  changes(ref: NodeRef): Promise<ChangeItem[]> {
    return this.call('changes', ref);
  }
  text(ref: TextRef): Promise<string | null> {
    return this.call('text', ref);
  }
  counterparts(ref: NodeRef): Promise<HistoryNode[]> {
    return this.call('counterparts', ref);
  }

  /** Whether the files differ from when they were read: two stats and two small reads, here. */
  hasChanged(): boolean {
    return !sameFingerprint(this.fingerprint, readFingerprint(this.path));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.host.generation !== this.generation) return;
    try {
      await this.host.request({ kind: 'close', handle: this.handle }, this.path);
    } catch {
      // The worker is gone or going; nothing is left to free.
    }
  }

  private async call<M extends StoreMethod, R extends StoreResults[M] = StoreResults[M]>(method: M, ...args: StoreCalls[M]): Promise<R> {
    if (this.closed) throw failures.databaseClosed({ path: this.path });
    if (this.host.generation !== this.generation) {
      throw failures.readerRestarted({}, `store opened in worker generation ${this.generation}, now ${this.host.generation}`);
    }
    const { value } = await this.host.request<R>({ kind: 'call', handle: this.handle, method, args }, this.path);
    return value;
  }
}
