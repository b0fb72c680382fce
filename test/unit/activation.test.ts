import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { execFileSync } from 'child_process';
import { loadBundle } from '../support/loadBundle';

const root = path.resolve(__dirname, '..', '..');

describe('built bundle', () => {
  before(function () {
    if (!fs.existsSync(path.join(root, 'dist', 'extension.js'))) {
      execFileSync(process.execPath, [path.join(root, 'esbuild.js')], { cwd: root, stdio: 'inherit' });
    }
  });

  it('ships sql.js WASM beside the bundle', () => {
    const shipped = fs.readFileSync(path.join(root, 'dist', 'sql-wasm.wasm'));
    const source = fs.readFileSync(require.resolve('sql.js/dist/sql-wasm.wasm'));
    assert.ok(shipped.equals(source), 'dist/sql-wasm.wasm differs from the sql.js build it bundles');
  });

  it('ships the store worker beside the bundle, and the package keeps it', () => {
    assert.ok(fs.existsSync(path.join(root, 'dist', 'storeWorker.js')), 'dist/storeWorker.js was not built');
    const ignore = fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8').split('\n').map((l) => l.trim());
    assert.ok(ignore.includes('!dist/storeWorker.js'), '.vscodeignore leaves the store worker out of the VSIX');
  });

  it('activates without compiling WASM, starting a worker thread or reading a database', async () => {
    const threads = require('worker_threads') as { Worker: unknown };
    const original = threads.Worker;
    let workersStarted = 0;
    threads.Worker = function () {
      workersStarted++;
      throw new Error('activation started a worker');
    };
    try {
      const bundle = loadBundle(root);
      assert.strictEqual(bundle.api.apiVersion, 1);
      assert.ok(bundle.registeredCommands.includes('stepHistory.showLog'), `registered: ${bundle.registeredCommands.join(', ')}`);
      assert.ok(bundle.registeredCommands.includes('stepHistory.openDatabase'), `registered: ${bundle.registeredCommands.join(', ')}`);
      // Give whatever activation scheduled (discovery) a chance to run before counting.
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.strictEqual(bundle.wasmCompilations(), 0, 'activation compiled WASM');
      assert.strictEqual(workersStarted, 0, 'activation started a worker thread');
    } finally {
      threads.Worker = original;
    }
  });
});
