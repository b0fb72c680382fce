/**
 * Messages between the extension host and the store worker (storeWorker.ts). Results cross
 * by structured clone, so Dates survive; errors cross as values and are rebuilt on the
 * client.
 */
import type { StepDbErrorCode } from './errors';
import type { Fingerprint } from './fingerprint';
import type { SchemaInfo, StepCountOptions, StepQueryOptions } from './stepStore';

/** The StepStore methods the worker answers, with their arguments. */
export interface StoreCalls {
  projects: [];
  steps: [projectId: string, options?: StepQueryOptions];
  step: [id: number];
  latestActiveStep: [projectId: string];
  stepCount: [projectId?: string, options?: StepCountOptions];
  nextStepId: [];
  models: [projectId: string];
  aggregates: [projectId?: string];
}
export type StoreMethod = keyof StoreCalls;

export type WorkerRequest =
  /** `maxSizeMb`: refuse, before reading, a database whose file and -wal together are larger. */
  | { id: number; kind: 'open'; path: string; wasmPath?: string; maxSizeMb?: number }
  | { id: number; kind: 'call'; handle: number; method: StoreMethod; args: unknown[] }
  | { id: number; kind: 'close'; handle: number }
  | { id: number; kind: 'memory' }
  /** Tests only: makes the worker exit, as a crash would. */
  | { id: number; kind: 'crash' };

export interface OpenResult {
  handle: number;
  schema: SchemaInfo;
  fingerprint: Fingerprint;
  framesApplied: number;
  ms: number;
}

/** The worker's memory, as its own thread sees it, in bytes. */
export interface WorkerMemory {
  /** V8 heap in use, and the most it may grow to (resource limits included). */
  heapUsed: number;
  heapLimit: number;
  /** Memory outside the V8 heap that its objects hold: file bytes, sql.js's WASM memory. */
  external: number;
  arrayBuffers: number;
}

export interface ErrorValue {
  /** `StepDbError` for a typed failure; anything else is unexpected. */
  name: string;
  code?: StepDbErrorCode;
  message: string;
  detail?: string;
}

export type WorkerResponse =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: ErrorValue }
  | { log: 'trace' | 'debug' | 'info' | 'warn' | 'error'; message: string };
