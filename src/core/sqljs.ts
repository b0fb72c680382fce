/**
 * Loads sql.js and compiles its WASM on first use only: importing core modules must not
 * load it, so the extension activates without paying for the compilation.
 */
import type { SqlJsStatic } from 'sql.js';

const loading = new Map<string, Promise<SqlJsStatic>>();

/**
 * sql.js, initialised once per WASM file. Without `wasmPath` the WASM comes from the
 * installed sql.js package (tests, benchmarks); the bundled extension passes the copy it ships.
 */
export function loadSqlJs(wasmPath?: string): Promise<SqlJsStatic> {
  const file = wasmPath ?? require.resolve('sql.js/dist/sql-wasm.wasm');
  let pending = loading.get(file);
  if (!pending) {
    pending = (async () => {
      // require, not import(): bundlers keep it lazy, and it skips the ESM loader's cost.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod: unknown = require('sql.js');
      const initSqlJs = (typeof mod === 'function' ? mod : (mod as { default: InitSqlJs }).default) as InitSqlJs;
      return initSqlJs({ locateFile: () => file });
    })();
    // A failed load (missing WASM file) must not stick: the next call tries again.
    pending.catch(() => loading.delete(file));
    loading.set(file, pending);
  }
  return pending;
}

type InitSqlJs = (config?: { locateFile?: (file: string) => string }) => Promise<SqlJsStatic>;
