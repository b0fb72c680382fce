/**
 * Loads the built extension bundle (dist/extension.js) in plain Node with the smallest
 * `vscode` stand-in its activation touches, counting every WebAssembly compilation, so the
 * "activation loads no WASM" rule can be checked without an editor. The integration suite
 * checks the same bundle inside a real VS Code.
 */
import Module = require('module');
import * as path from 'path';

export interface LoadedBundle {
  api: { apiVersion: number; openStepDatabase(dbPath: string): Promise<{ projects(): unknown[]; close(): void }> };
  activationMs: number;
  wasmCompilations(): number;
  registeredCommands: string[];
}

let wasmCompilations = 0;
let counting = false;

function countWasmCompilations() {
  if (counting) return;
  counting = true;
  const target = (globalThis as unknown as { WebAssembly: Record<string, unknown> }).WebAssembly;
  for (const name of ['compile', 'instantiate', 'compileStreaming', 'instantiateStreaming']) {
    const original = target[name] as ((...a: unknown[]) => unknown) | undefined;
    if (!original) continue;
    target[name] = (...a: unknown[]) => {
      wasmCompilations++;
      return original.apply(target, a);
    };
  }
}

export function loadBundle(extensionDir: string): LoadedBundle {
  countWasmCompilations();
  const registeredCommands: string[] = [];
  const vscodeShim = {
    window: {
      createOutputChannel: () => ({
        trace() {}, debug() {}, info() {}, warn() {}, error() {}, show() {}, dispose() {},
      }),
      registerTreeDataProvider: () => ({ dispose() {} }),
    },
    commands: {
      registerCommand: (id: string) => {
        registeredCommands.push(id);
        return { dispose() {} };
      },
    },
  };
  const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const load = loader._load;
  loader._load = (request, ...rest) => (request === 'vscode' ? vscodeShim : load(request, ...rest));
  try {
    const bundlePath = path.join(extensionDir, 'dist', 'extension.js');
    const before = wasmCompilations;
    const t0 = performance.now();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const extension = require(bundlePath);
    const api = extension.activate({ subscriptions: [], extensionPath: extensionDir });
    const activationMs = performance.now() - t0;
    return { api, activationMs, wasmCompilations: () => wasmCompilations - before, registeredCommands };
  } finally {
    loader._load = load;
  }
}
