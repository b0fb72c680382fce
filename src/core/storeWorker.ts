/**
 * Worker entry (bundled as dist/storeWorker.js): opens and queries step databases off the
 * extension host's main thread, so a 100 MB database never blocks the editor. A file is
 * opened once as a snapshot, then read by LaForge's StepStore when it has a `steps` table, or
 * by the adapter of the system whose tables it has.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as v8 from 'v8';
import { parentPort } from 'worker_threads';
import { StepDbError } from './errors';
import type { Logger } from './log';
import { loadSqlJs } from './sqljs';
import { detectSource, isLaforgeShape, unknownSchemaError } from './sources/registry';
import { openSnapshot, openSnapshotWith, schemaShape, sqlReader } from './sources/snapshot';
import type { HistorySource, SqlReader } from './sources/types';
import { StepStore } from './stepStore';
import { SOURCE_METHODS, STEP_STORE_METHODS, type ErrorValue, type OpenResult, type StoreMethod, type WorkerMemory, type WorkerRequest, type WorkerResponse } from './storeProtocol';

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

type Opened = { kind: 'laforge'; store: StepStore } | { kind: 'source'; source: HistorySource; close(): void };

const stores = new Map<number, Opened>();
let nextHandle = 1;

const LAFORGE_METHODS: ReadonlySet<string> = new Set(STEP_STORE_METHODS);
const HISTORY_METHODS: ReadonlySet<string> = new Set(SOURCE_METHODS);

/** A text file beside the database at most this large is read for a source (an artifact). */
const SIBLING_TEXT_LIMIT = 5 * 2 ** 20;

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
      const snapshot = await openSnapshot(request.path, { wasmPath: request.wasmPath, log });
      let shape;
      try {
        shape = schemaShape(snapshot.db, request.path);
      } catch (err) {
        snapshot.db.close();
        throw err;
      }
      const handle = nextHandle++;
      const base = { handle, fingerprint: snapshot.fingerprint, framesApplied: snapshot.framesApplied };
      if (isLaforgeShape(shape)) {
        const store = StepStore.fromSnapshot(request.path, snapshot, { log, started: t0 });
        stores.set(handle, { kind: 'laforge', store });
        const result: OpenResult = {
          ...base,
          detection: { system: 'laforge', variant: store.schema.variant },
          levels: [
            { key: 'project', singular: 'project', plural: 'projects' },
            { key: 'step', singular: 'step', plural: 'steps' },
          ],
          schema: store.schema,
          ms: performance.now() - t0,
        };
        return result;
      }
      const found = detectSource(shape);
      const reader = sqlReader(snapshot.db, request.path, log);
      if (!found) {
        reader.close();
        throw unknownSchemaError(request.path, shape);
      }
      const SQL = await loadSqlJs(request.wasmPath);
      const siblings: (SqlReader & { close(): void })[] = [];
      const folder = path.dirname(request.path);
      let source: HistorySource;
      try {
        source = found.adapter.open(reader, found.detection, {
          path: request.path,
          openSibling(file) {
            const sibling = openSnapshotWith(SQL, path.resolve(folder, file), { log });
            if (!sibling) return null;
            const opened = sqlReader(sibling.db, path.resolve(folder, file), log);
            siblings.push(opened);
            return opened;
          },
          readText(file) {
            return readSmallText(path.resolve(folder, file));
          },
        });
      } catch (err) {
        reader.close();
        for (const s of siblings) s.close();
        throw err;
      }
      stores.set(handle, {
        kind: 'source',
        source,
        close() {
          source.close?.();
          reader.close();
          for (const s of siblings) s.close();
        },
      });
      log.debug(`Opened ${request.path} as ${found.detection.system} (${found.detection.variant}) in ${(performance.now() - t0).toFixed(1)} ms.`);
      const result: OpenResult = { ...base, detection: found.detection, levels: [...source.levels], schema: null, ms: performance.now() - t0 };
      return result;
    }
    case 'call': {
      const opened = stores.get(request.handle);
      if (!opened) throw new StepDbError('READ_FAILED', 'The step database was already closed.', `no store with handle ${request.handle}`);
      return callMethod(opened, request.method, request.args);
    }
    case 'close': {
      const opened = stores.get(request.handle);
      if (opened?.kind === 'laforge') opened.store.close();
      else opened?.close();
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

function callMethod(opened: Opened, method: StoreMethod, args: unknown[]): unknown {
  if (opened.kind === 'laforge') {
    if (!LAFORGE_METHODS.has(method)) throw new Error(`${String(method)} is not a method of a LaForge step database`);
    return (opened.store[method as keyof StepStore] as (...a: unknown[]) => unknown).apply(opened.store, args);
  }
  if (!HISTORY_METHODS.has(method)) throw new Error(`${String(method)} is not a method of this system's history`);
  const fn = opened.source[method as keyof HistorySource] as ((...a: unknown[]) => unknown) | undefined;
  // A source without counterparts has none to offer.
  if (!fn) return [];
  return fn.apply(opened.source, args);
}

/** A small text file's content; null when it is missing, too large or not text. */
function readSmallText(file: string): string | null {
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile() || stat.size > SIBLING_TEXT_LIMIT) return null;
    const bytes = fs.readFileSync(file);
    if (bytes.includes(0)) return null;
    return bytes.toString('utf8');
  } catch {
    return null;
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
