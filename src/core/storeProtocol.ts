/**
 * Messages between the extension host and the store worker (storeWorker.ts). Results cross
 * by structured clone, so Dates survive; errors cross as values and are rebuilt on the
 * client.
 */
import type { Facts, StepDbErrorCode } from './errors';
import type { Fingerprint } from './fingerprint';
import type { Detection, HistorySource, LevelInfo } from './sources/types';
import type { StepStore } from './stepStore';
import type { SchemaInfo } from './stepStore';

/** The StepStore methods the worker answers for a LaForge database; `analytics` it answers for every system's (sourceAnalytics.ts). */
export const STEP_STORE_METHODS = ['projects', 'steps', 'step', 'latestActiveStep', 'stepCount', 'nextStepId', 'models', 'aggregates', 'analytics', 'stepsWithCommits', 'stepsWithIds', 'hasRecordedRanges'] as const;
/** The HistorySource methods the worker answers for the other systems' databases. */
export const SOURCE_METHODS = ['children', 'count', 'node', 'details', 'changes', 'text', 'counterparts'] as const;

type StepStoreMethod = (typeof STEP_STORE_METHODS)[number];
type SourceMethod = (typeof SOURCE_METHODS)[number];
type Api = Pick<StepStore, StepStoreMethod> & Required<Pick<HistorySource, SourceMethod>>;

/** Every method the worker answers, with its arguments and result, declared once from the classes themselves. */
export type StoreCalls = { [M in keyof Api]: Parameters<Api[M]> };
export type StoreResults = { [M in keyof Api]: ReturnType<Api[M]> };
export type StoreMethod = keyof StoreCalls;

/** What the worker is started with (its `workerData`). */
export interface WorkerStart {
  /** The editor's translations, configured in @vscode/l10n before anything is read. */
  l10nContents?: Record<string, string>;
}

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
  /** Which system wrote the file, and which kind of its files it is. */
  detection: Detection;
  /** The tree's levels, top down. */
  levels: LevelInfo[];
  /** LaForge's steps table; null for the other systems. */
  schema: SchemaInfo | null;
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
  /** The maker that made it (core/messages) and its facts, for the host to make the sentence again in its language. */
  messageId?: string;
  facts?: Facts;
}

export type WorkerResponse =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: ErrorValue }
  | { log: 'trace' | 'debug' | 'info' | 'warn' | 'error'; message: string };
