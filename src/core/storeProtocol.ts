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
  | { id: number; kind: 'open'; path: string; wasmPath?: string }
  | { id: number; kind: 'call'; handle: number; method: StoreMethod; args: unknown[] }
  | { id: number; kind: 'close'; handle: number }
  /** Tests only: makes the worker exit, as a crash would. */
  | { id: number; kind: 'crash' };

export interface OpenResult {
  handle: number;
  schema: SchemaInfo;
  fingerprint: Fingerprint;
  framesApplied: number;
  ms: number;
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
