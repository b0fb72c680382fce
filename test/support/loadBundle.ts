/**
 * Loads the built extension bundle (dist/extension.js) in plain Node and activates it against
 * an inert `vscode` (every member exists and does nothing), counting every WebAssembly
 * compilation and module load, so "activation loads no WASM" is checked on the bundle that
 * ships. The integration suite runs the same bundle inside a real VS Code.
 */
import Module = require('module');
import * as path from 'path';

export interface LoadedBundle {
  api: { apiVersion: number };
  activationMs: number;
  wasmCompilations(): number;
  /** Commands the activation registered, by id. */
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

/** A value whose every property, call and construction yields another inert value. */
function inert(name: string, onCall?: (path: string, args: unknown[]) => void): unknown {
  const fn = function () {};
  return new Proxy(fn, {
    get(_t, prop) {
      if (prop === 'then') return undefined; // not a thenable
      if (prop === Symbol.toPrimitive) return () => name;
      if (prop === Symbol.iterator) return function* () {};
      if (prop === 'dispose') return () => undefined;
      return inert(`${name}.${String(prop)}`, onCall);
    },
    // Accept any assignment (`item.name = …` would hit the function's read-only `name`).
    set() {
      return true;
    },
    apply(_t, _this, args) {
      onCall?.(name, args);
      return inert(`${name}()`, onCall);
    },
    construct() {
      return inert(`new ${name}`, onCall) as object;
    },
  });
}

const VSCODE_MEMBERS = [
  'window', 'workspace', 'commands', 'env', 'languages', 'extensions', 'l10n', 'scm', 'tasks', 'debug', 'authentication',
  'Uri', 'EventEmitter', 'Disposable', 'TreeItem', 'TreeItemCollapsibleState', 'ThemeIcon', 'ThemeColor',
  'MarkdownString', 'StatusBarAlignment', 'RelativePattern', 'ViewColumn', 'FileDecoration', 'ProgressLocation',
  'Range', 'Position', 'Selection', 'CancellationTokenSource', 'CancellationError', 'ConfigurationTarget',
  'FileType', 'FileSystemError', 'QuickPickItemKind', 'TabInputTextDiff', 'TabInputText', 'TabInputWebview',
  'DataTransferItem', 'DataTransfer', 'TreeItemCheckboxState', 'LogLevel', 'UIKind', 'ColorThemeKind',
  'DecorationRangeBehavior', 'Hover',
];

export function loadBundle(extensionDir: string): LoadedBundle {
  countWasmCompilations();
  const registeredCommands: string[] = [];
  const record = (name: string, args: unknown[]) => {
    if (name === 'vscode.commands.registerCommand' && typeof args[0] === 'string') registeredCommands.push(args[0]);
  };
  // Bundlers copy a CommonJS module's own keys, so the namespace lists the API's members.
  const vscodeShim = Object.fromEntries(VSCODE_MEMBERS.map((m) => [m, inert(`vscode.${m}`, record)]));
  const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const load = loader._load;
  loader._load = (request, ...rest) => (request === 'vscode' ? vscodeShim : load(request, ...rest));
  try {
    const bundlePath = path.join(extensionDir, 'dist', 'extension.js');
    const before = wasmCompilations;
    const t0 = performance.now();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const extension = require(bundlePath);
    const context = {
      subscriptions: [] as unknown[],
      extensionPath: extensionDir,
      extensionUri: inert('extensionUri'),
      globalStorageUri: inert('globalStorageUri'),
      storageUri: inert('storageUri'),
      workspaceState: { get: () => undefined, update: async () => undefined, keys: () => [] },
      globalState: { get: () => undefined, update: async () => undefined, keys: () => [], setKeysForSync() {} },
      asAbsolutePath: (p: string) => path.join(extensionDir, p),
    };
    const api = extension.activate(context);
    const activationMs = performance.now() - t0;
    return { api, activationMs, wasmCompilations: () => wasmCompilations - before, registeredCommands };
  } finally {
    loader._load = load;
  }
}
