import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { execFileSync } from 'child_process';
import { loadBundle } from '../support/loadBundle';

const root = path.resolve(__dirname, '..', '..');

describe('built bundle', () => {
  let tmp: string;

  before(function () {
    if (!fs.existsSync(path.join(root, 'dist', 'extension.js'))) {
      execFileSync(process.execPath, [path.join(root, 'esbuild.js')], { cwd: root, stdio: 'inherit' });
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'step-history-bundle-'));
  });

  after(() => tmp && fs.rmSync(tmp, { recursive: true, force: true }));

  it('ships sql.js WASM beside the bundle', () => {
    const shipped = fs.readFileSync(path.join(root, 'dist', 'sql-wasm.wasm'));
    const source = fs.readFileSync(require.resolve('sql.js/dist/sql-wasm.wasm'));
    assert.ok(shipped.equals(source), 'dist/sql-wasm.wasm differs from the sql.js build it bundles');
  });

  it('activates without compiling WASM, and loads it from dist on the first database open', async () => {
    const db = path.join(tmp, 'steps.db');
    execFileSync('python3', ['-c', [
      'import sqlite3, sys',
      'c = sqlite3.connect(sys.argv[1])',
      "c.execute('CREATE TABLE steps (id INTEGER PRIMARY KEY, commit_sha_before TEXT NOT NULL, project_id TEXT NOT NULL)')",
      "c.execute(\"INSERT INTO steps VALUES (1, 'abcdef1', 'demo')\")",
      'c.commit()',
    ].join('\n'), db]);

    const bundle = loadBundle(root);
    assert.strictEqual(bundle.api.apiVersion, 1);
    assert.deepStrictEqual(bundle.registeredCommands, ['stepHistory.showLog']);
    assert.strictEqual(bundle.wasmCompilations(), 0, 'activation compiled WASM');

    const store = await bundle.api.openStepDatabase(db);
    try {
      assert.strictEqual(store.projects().length, 1);
    } finally {
      store.close();
    }
    assert.ok(bundle.wasmCompilations() > 0, 'the first open should have compiled the WASM');
  });
});
