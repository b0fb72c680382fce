/**
 * Worker entry (bundled as dist/storeWorker.js): opens and queries step databases off the
 * extension host's main thread, so a 100 MB database never blocks the editor.
 */
import * as fs from 'fs';
import * as v8 from 'v8';
import { parentPort } from 'worker_threads';
import { StepDbError } from './errors';
import type { Logger } from './log';
import { StepStore } from './stepStore';
import type { ErrorValue, StoreMethod, WorkerMemory, WorkerRequest, WorkerResponse } from './storeProtocol';

const port = parentPort;
if (!port) throw new Error('storeWorker must run in a worker thread');

const post = (message: WorkerResponse) => port.postMessage(message);
const log: Logger = {
  trace: (message) => post({ log: 'trace', message }),
  debug: (message) => post({ log: 'debug', message }),
  info: (message) => post({ log: 'info', message }),
  warn: (message) => post({ log: 'warn', message }),
  error: (message) => post({ log: 'error', message }),
};

const stores = new Map<number, StepStore>();
let nextHandle = 1;

const METHODS: ReadonlySet<StoreMethod> = new Set<StoreMethod>([
  'projects', 'steps', 'step', 'latestActiveStep', 'stepCount', 'nextStepId', 'models', 'aggregates',
]);

function toErrorValue(err: unknown): ErrorValue {
  if (err instanceof StepDbError) return { name: err.name, code: err.code, message: err.message, detail: err.detail };
  if (err instanceof Error) return { name: err.name, message: err.message, detail: err.stack };
  return { name: 'Error', message: String(err) };
}

async function handle(request: WorkerRequest): Promise<unknown> {
  switch (request.kind) {
    case 'open': {
      const t0 = performance.now();
      if (request.maxSizeMb !== undefined) refuseIfTooLarge(request.path, request.maxSizeMb);
      const store = await StepStore.open(request.path, { wasmPath: request.wasmPath, log });
      const handle = nextHandle++;
      stores.set(handle, store);
      return {
        handle,
        schema: store.schema,
        fingerprint: store.fingerprint,
        framesApplied: store.framesApplied,
        ms: performance.now() - t0,
      };
    }
    case 'call': {
      const store = stores.get(request.handle);
      if (!store) throw new StepDbError('READ_FAILED', 'The step database was already closed.', `no store with handle ${request.handle}`);
      if (!METHODS.has(request.method)) throw new Error(`unknown store method ${String(request.method)}`);
      const method = store[request.method] as (...args: unknown[]) => unknown;
      return method.apply(store, request.args);
    }
    case 'close': {
      stores.get(request.handle)?.close();
      stores.delete(request.handle);
      return undefined;
    }
    case 'memory': {
      const usage = process.memoryUsage();
      const memory: WorkerMemory = {
        heapUsed: usage.heapUsed,
        heapLimit: v8.getHeapStatistics().heap_size_limit,
        external: usage.external,
        arrayBuffers: usage.arrayBuffers,
      };
      return memory;
    }
    case 'crash':
      process.exit(3);
  }
}

/**
 * The whole file and its -wal are read into memory, outside the V8 heap, where no resource
 * limit of the worker bounds them: so their size is checked before a byte is read. A file
 * that is missing or not a file is left for StepStore.open to describe.
 */
function refuseIfTooLarge(dbPath: string, maxSizeMb: number): void {
  const db = fileSize(dbPath);
  if (db === undefined) return;
  const wal = fileSize(dbPath + '-wal') ?? 0;
  if (db + wal <= maxSizeMb * 2 ** 20) return;
  throw new StepDbError(
    'TOO_LARGE',
    `The step database ${dbPath} is ${formatSize(db + wal, maxSizeMb)}${wal > 0 ? ' with its -wal file' : ''}; ` +
      `Step History can open step databases up to ${formatMb(maxSizeMb)} (the stepHistory.maxDatabaseSizeMb setting).`,
    `${db + wal} bytes (database ${db}, WAL ${wal}) is over the limit of ${maxSizeMb} MB (${Math.floor(maxSizeMb * 2 ** 20)} bytes)`,
  );
}

function fileSize(file: string): number | undefined {
  try {
    const stat = fs.statSync(file);
    return stat.isFile() ? stat.size : undefined;
  } catch {
    return undefined;
  }
}

/** In GB only when that cannot round to a figure that reads as within the limit. */
function formatSize(bytes: number, limitMb: number): string {
  const mb = bytes / 2 ** 20;
  return mb >= 1024 && mb >= 2 * limitMb ? `${(mb / 1024).toFixed(1)} GB` : `${mb.toFixed(1)} MB`;
}

function formatMb(mb: number): string {
  return `${Number.isInteger(mb) ? mb : mb.toFixed(1)} MB`;
}

port.on('message', (request: WorkerRequest) => {
  handle(request).then(
    (value) => {
      try {
        post({ id: request.id, ok: true, value });
      } catch (err) {
        // A value that cannot be cloned must not take the worker down.
        post({ id: request.id, ok: false, error: toErrorValue(err) });
      }
    },
    (err) => post({ id: request.id, ok: false, error: toErrorValue(err) }),
  );
});
