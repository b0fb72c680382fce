/**
 * Which database answers for a file (core/fileDatabase): the LaForge database whose real
 * repository holds it, the innermost when repositories nest, through a symbolic link; one whose
 * repository cannot be opened passed over; another system's database, which records no git
 * commits, named for a file in its folder; nothing for a file outside them all.
 */
import * as assert from 'assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { databaseForFile, pathInside } from '../../src/core/fileDatabase';
import { StepStore } from '../../src/core/stepStore';
import { makeLlmOrchestration } from '../fixtures/llmOrchestration';
import { sourceDatabase } from '../fixtures/sourceDatabase';
import { DOCUMENTED_SCHEMA, stepRow, writeWithSqlite } from '../fixtures/stepFixtures';
import { gitStoreDatabase, storeDatabase } from '../fixtures/storeDatabase';
import { commitAll, makeRepo, makeTempDir, removeRepositories, write } from '../support/gitRepo';

const wasmPath = require.resolve('sql.js/dist/sql-wasm.wasm');

describe('databaseForFile', function () {
  this.timeout(60_000);
  const closing: (() => void)[] = [];
  after(() => {
    for (const close of closing.splice(0)) close();
    removeRepositories();
  });

  async function store(dir: string): Promise<StepStore> {
    const db = path.join(dir, 'steps.db');
    await writeWithSqlite(db, DOCUMENTED_SCHEMA, [stepRow(1)]);
    const opened = await StepStore.open(db, { wasmPath });
    closing.push(() => opened.close());
    return opened;
  }

  it('finds the innermost LaForge repository holding the file, through a link, and passes over a database without one', async () => {
    const outer = makeRepo('file-db-outer');
    write(outer, 'src/a b.ts', 'a\n');
    commitAll(outer, 'outer');
    const inner = makeRepo('file-db-inner');
    write(inner, 'x.ts', 'x\n');
    commitAll(inner, 'inner');
    // The inner repository nested in the outer's work tree, as a vendored checkout would be.
    const nested = path.join(outer, 'vendor', 'inner');
    fs.mkdirSync(path.dirname(nested), { recursive: true });
    fs.renameSync(inner, nested);
    const link = path.join(makeTempDir('file-db-link'), 'outer-link');
    fs.symlinkSync(outer, link);

    const noGit = { ...storeDatabase(await store(makeTempDir('file-db-nogit')), 'broken.db'), repositoryPath: outer };
    const outerDb = gitStoreDatabase(await store(makeTempDir('file-db-a')), outer, 'outer.db');
    const innerDb = gitStoreDatabase(await store(makeTempDir('file-db-b')), nested, 'inner.db');
    const databases = [noGit, outerDb, innerDb];

    const found = (file: string) => databaseForFile(databases, file).then((f) => f && (f.kind === 'laforge' ? `${f.database.label}:${f.path}` : f.systems.join()));
    assert.strictEqual(await found(path.join(outer, 'src', 'a b.ts')), 'outer.db:src/a b.ts');
    assert.strictEqual(await found(path.join(link, 'src', 'a b.ts')), 'outer.db:src/a b.ts', 'through the link');
    assert.strictEqual(await found(path.join(nested, 'x.ts')), 'inner.db:x.ts', 'the innermost');
    assert.strictEqual(await found(path.join(makeTempDir('file-db-elsewhere'), 'y.ts')), undefined);
  });

  it('names the other systems whose folder holds the file when no LaForge repository does', async () => {
    const llmo = makeLlmOrchestration();
    const other = await sourceDatabase(llmo.dbPath);
    closing.push(() => other.close(), () => fs.rmSync(llmo.root, { recursive: true, force: true }));
    const folder = path.dirname(llmo.dbPath);
    const database = { ...other, repositoryPath: folder };
    assert.deepStrictEqual(await databaseForFile([database], path.join(folder, 'notes.md')), { kind: 'otherSystems', systems: ['LLM Orchestration'] });
    assert.strictEqual(await databaseForFile([database], path.join(path.dirname(llmo.root), 'elsewhere.md')), undefined);
  });

  it('gives a path inside a folder, and none for the folder itself or outside it', async () => {
    const dir = makeTempDir('file-db-inside');
    assert.strictEqual(await pathInside(dir, path.join(dir, 'a', 'b.ts')), 'a/b.ts');
    assert.strictEqual(await pathInside(dir, dir), undefined);
    assert.strictEqual(await pathInside(dir, path.join(dir, '..', 'c.ts')), undefined);
  });
});
