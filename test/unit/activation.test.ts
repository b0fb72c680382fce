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

  it('activates without compiling WASM or reading a database', async () => {
    const bundle = loadBundle(root);
    assert.strictEqual(bundle.api.apiVersion, 1);
    assert.ok(bundle.registeredCommands.includes('stepHistory.showLog'), `registered: ${bundle.registeredCommands.join(', ')}`);
    // Give whatever activation scheduled a chance to run before counting.
    await new Promise((resolve) => setImmediate(resolve));
    assert.strictEqual(bundle.wasmCompilations(), 0, 'activation compiled WASM');
  });
});
