/**
 * Worker entry (bundled as dist/storeWorker.js): opens and queries step databases off the
 * extension host's main thread, so a 100 MB database never blocks the editor. A file is
 * opened once as a snapshot, then read by LaForge's StepStore when it has a `steps` table, or
 * by the adapter of the system whose tables it has (openSource). The Analytics figures are
 * LaForge's SQL for a LaForge database, and folded from the nodes for the others'.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as v8 from 'v8';
import * as l10n from '@vscode/l10n';
import { parentPort, workerData } from 'worker_threads';
import { StepDbError } from './errors';
import { failures } from './messages';
import type { Logger } from './log';
import { openSource, type OpenedHistory } from './sources/openSource';
import type { HistorySource } from './sources/types';
import { sourceAnalytics } from './sourceAnalytics';
import type { AnalyticsOptions } from './analytics';
import { StepStore } from './stepStore';
import { SOURCE_METHODS, STEP_STORE_METHODS, type ErrorValue, type OpenResult, type StoreMethod, type WorkerMemory, type WorkerRequest, type WorkerResponse, type WorkerStart } from './storeProtocol';

const port = parentPort;
if (!port) throw new Error('storeWorker must run in a worker thread');

// The words the worker writes (details, tree rows, warnings, errors) in the editor's language.
const start = (workerData ?? {}) as WorkerStart;
if (start.l10nContents) l10n.config({ contents: start.l10nContents });

const post = (message: WorkerResponse) => port.postMessage(message);
const log: Logger = {
  trace: (message) => post({ log: 'trace', message }),
  debug: (message) => post({ log: 'debug', message }),
  info: (message) => post({ log: 'info', message }),
  warn: (message) => post({ log: 'warn', message }),
  error: (message) => post({ log: 'error', message }),
};


const stores = new Map<number, OpenedHistory>();
let nextHandle = 1;

const LAFORGE_METHODS: ReadonlySet<string> = new Set(STEP_STORE_METHODS);
const HISTORY_METHODS: ReadonlySet<string> = new Set(SOURCE_METHODS);

function toErrorValue(err: unknown): ErrorValue {
  if (err instanceof StepDbError) return { name: err.name, code: err.code, message: err.message, detail: err.detail, messageId: err.messageId, facts: err.facts };
  if (err instanceof Error) return { name: err.name, message: err.message, detail: err.stack };
  return { name: 'Error', message: String(err) };
}

async function handle(request: WorkerRequest): Promise<unknown> {
  switch (request.kind) {
    case 'open': {
      const t0 = performance.now();
      if (request.maxSizeMb !== undefined) refuseIfTooLarge(request.path, request.maxSizeMb);
      const { maxSizeMb } = request;
      const opened = await openSource(request.path, {
        wasmPath: request.wasmPath,
        log,
        started: t0,
        // A file beside it (a checkpoints.db) is read whole too: the limit is for them together.
        beforeSibling: maxSizeMb === undefined ? undefined : (sibling) => refuseIfTooLarge(request.path, maxSizeMb, sibling),
      });
      const handle = nextHandle++;
      stores.set(handle, opened);
      const result: OpenResult = {
        handle,
        detection: opened.detection,
        levels: [...opened.source.levels],
        schema: opened.store?.schema ?? null,
        fingerprint: opened.fingerprint,
        framesApplied: opened.framesApplied,
        ms: performance.now() - t0,
      };
      return result;
    }
    case 'call': {
      const opened = stores.get(request.handle);
      if (!opened) throw failures.databaseClosed({ path: null }, `no store with handle ${request.handle}`);
      return callMethod(opened, request.method, request.args);
    }
    case 'close': {
      const opened = stores.get(request.handle);
      opened?.close();
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

function callMethod(opened: OpenedHistory, method: StoreMethod, args: unknown[]): unknown {
  if (HISTORY_METHODS.has(method)) {
    const fn = opened.source[method as keyof HistorySource] as ((...a: unknown[]) => unknown) | undefined;
    // A source without counterparts has none to offer.
    return fn ? fn.apply(opened.source, args) : [];
  }
  const { store } = opened;
  if (!store && method === 'analytics') return sourceAnalytics(opened.source, args[0] as AnalyticsOptions);
  if (!store || !LAFORGE_METHODS.has(method)) {
    throw failures.notLaforge({}, `${String(method)} asked of a ${opened.detection.system} database`);
  }
  return (store[method as keyof StepStore] as (...a: unknown[]) => unknown).apply(store, args);
}

/**
 * The whole file and its -wal are read into memory, outside the V8 heap, where no resource
 * limit of the worker bounds them: so their size is checked before a byte is read. A file
 * that is missing or not a file is left for StepStore.open to describe.
 */
function refuseIfTooLarge(dbPath: string, maxSizeMb: number, sibling?: string): void {
  const db = fileSize(dbPath);
  if (db === undefined) return;
  const wal = fileSize(dbPath + '-wal') ?? 0;
  const beside = sibling === undefined ? 0 : (fileSize(sibling) ?? 0) + (fileSize(sibling + '-wal') ?? 0);
  const total = db + wal + beside;
  if (total <= maxSizeMb * 2 ** 20) return;
  const detail = `${total} bytes (database ${db}, WAL ${wal}${sibling ? `, ${sibling} ${beside}` : ''}) is over the limit of ${maxSizeMb} MB (${Math.floor(maxSizeMb * 2 ** 20)} bytes)`;
  const facts = { path: dbPath, size: formatSize(total, maxSizeMb), limit: formatMb(maxSizeMb) };
  if (beside > 0) throw failures.databaseTooLarge({ ...facts, beside: path.basename(sibling!) }, detail);
  if (wal > 0) throw failures.walTooLarge(facts, detail);
  throw failures.databaseTooLarge({ ...facts, beside: '' }, detail);
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
