/**
 * StepStore behind a worker thread: one worker for every database, started on the first
 * open (never at activation), answering requests matched by id. Reading and parsing a
 * 100 MB database happens there; the extension host only receives pages of steps.
 */
import { Worker } from 'worker_threads';
import { StepDbError } from './errors';
import { Logger, silentLogger } from './log';
import { Fingerprint, readFingerprint, sameFingerprint } from './fingerprint';
import type { ProjectSummary, SchemaInfo, StepAggregates, StepCountOptions, StepQueryOptions } from './stepStore';
import type { ErrorValue, OpenResult, StoreCalls, StoreMethod, WorkerRequest, WorkerResponse } from './storeProtocol';
import type { Step } from './model';

export interface StoreWorkerOptions {
  /** The worker's script: dist/storeWorker.js beside the extension bundle. */
  workerPath: string;
  /** sql.js's WASM; the worker's default is the installed sql.js package's. */
  wasmPath?: string;
  log?: Logger;
  /** Node options for the worker (tests may load TypeScript through a loader). */
  execArgv?: string[];
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface Pending {
  resolve(value: unknown): void;
  reject(err: unknown): void;
  what: string;
}

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
    const { value, generation } = await this.request<OpenResult>({ kind: 'open', path: dbPath, wasmPath: this.options.wasmPath });
    return new RemoteStepStore(this, dbPath, value, generation);
  }

  /** Tests only: makes the worker exit as if it had crashed. */
  crashForTesting(): Promise<unknown> {
    return this.request({ kind: 'crash' }).then((r) => r.value);
  }

  /** Sends one request; the generation tells which worker answered. */
  request<T>(message: DistributiveOmit<WorkerRequest, 'id'>): Promise<{ value: T; generation: number }> {
    if (this.disposed) return Promise.reject(new StepDbError('READ_FAILED', 'Step History has stopped reading step databases.', 'store worker disposed'));
    let worker: Worker;
    try {
      worker = this.ensureWorker();
    } catch (err) {
      return Promise.reject(new StepDbError('READ_FAILED', 'Step History could not start its database reader.', String(err)));
    }
    const generation = this.generationCount;
    const id = this.nextId++;
    const what = message.kind === 'call' ? message.method : message.kind;
    return new Promise<{ value: T; generation: number }>((resolve, reject) => {
      this.pending.set(id, { resolve: (value) => resolve({ value: value as T, generation }), reject, what });
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
    this.failPending(new StepDbError('READ_FAILED', 'Step History has stopped reading step databases.', 'store worker disposed'));
    if (worker) void worker.terminate();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const t0 = performance.now();
    const worker = new Worker(this.options.workerPath, { execArgv: this.options.execArgv });
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
      this.failPending(
        new StepDbError('READ_FAILED', 'Step History\'s database reader stopped unexpectedly. Try again; it restarts on the next request.', detail),
      );
    });
    this.log.debug(`Started the store worker (generation ${this.generationCount}) in ${(performance.now() - t0).toFixed(1)} ms.`);
    return worker;
  }

  private failPending(err: StepDbError): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const p of waiting) p.reject(err);
  }
}

function rebuildError(error: ErrorValue): StepDbError {
  if (error.name === 'StepDbError' && error.code) return new StepDbError(error.code, error.message, error.detail);
  return new StepDbError(
    'READ_FAILED',
    'Step History could not read the step database: an unexpected error happened. See the log for details.',
    error.detail ?? error.message,
  );
}

/** A StepStore open in the worker; every query is a request. */
export class RemoteStepStore {
  private closed = false;
  readonly schema: SchemaInfo;
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

  /** Whether the files differ from when they were read: two stats and two small reads, here. */
  hasChanged(): boolean {
    return !sameFingerprint(this.fingerprint, readFingerprint(this.path));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.host.generation !== this.generation) return;
    try {
      await this.host.request({ kind: 'close', handle: this.handle });
    } catch {
      // The worker is gone or going; nothing is left to free.
    }
  }

  private async call<M extends StoreMethod, R>(method: M, ...args: StoreCalls[M]): Promise<R> {
    if (this.closed) throw new StepDbError('READ_FAILED', `The step database ${this.path} was already closed.`);
    if (this.host.generation !== this.generation) {
      throw new StepDbError(
        'READ_FAILED',
        'Step History\'s database reader restarted, so the step database must be opened again.',
        `store opened in worker generation ${this.generation}, now ${this.host.generation}`,
      );
    }
    const { value } = await this.host.request<R>({ kind: 'call', handle: this.handle, method, args });
    return value;
  }
}
