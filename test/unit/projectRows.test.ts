/**
 * No row hides: whatever SQLite holds in `project_id` (NULL, an integer, a real, text, empty
 * text, a blob), the row is listed under exactly one project, that project's count says how
 * many rows it has, and listing it returns exactly those rows, with their warnings. The
 * databases are written by the real SQLite engine (python3's sqlite3 module).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import {
  columnAffinity,
  PROJECT_KEY_MARK,
  projectKeyKind,
  projectKeyOfValue,
  projectLabel,
  projectWhere,
} from '../../src/core/projectKey';
import { loadSqlJs } from '../../src/core/sqljs';
import { StepStore } from '../../src/core/stepStore';
import { DOCUMENTED_SCHEMA, makeTempDir, readWithSqlite, SqliteProcess, UNTYPED_PROJECT_SCHEMA, writeProjectRows } from '../fixtures/stepFixtures';

/** What the real engine stored: [id, typeof(project_id)] by id. */
async function storedTypes(file: string): Promise<string[]> {
  const db = new SqliteProcess(file);
  try {
    const rows = await db.query('SELECT typeof(project_id) FROM steps ORDER BY id');
    await db.close();
    return rows.map(([t]) => String(t));
  } finally {
    db.kill();
  }
}

interface Expected {
  label: string;
  ids: number[];
  /** The project-id warning each of its steps carries, or null for none. */
  warning: RegExp | null;
}

/**
 * The project list, in order, is `expected`; every count agrees with what listing returns, with
 * what each step says of itself, and the counts add up to every row in the table.
 */
function assertEveryRowListed(store: StepStore, expected: Expected[]): void {
  const projects = store.projects();
  assert.deepStrictEqual(
    projects.map((p) => [projectLabel(p.id), p.stepCount]),
    expected.map((e) => [e.label, e.ids.length]),
    'the project list and its counts',
  );
  assert.strictEqual(
    projects.reduce((n, p) => n + p.stepCount, 0),
    store.stepCount(),
    'the projects hold every row between them',
  );
  for (const [i, project] of projects.entries()) {
    const { label, ids, warning } = expected[i];
    const listed = store.steps(project.id, { limit: 1000 });
    assert.deepStrictEqual(listed.map((s) => s.id), [...ids].sort((a, b) => b - a), `the steps listed under ${label}`);
    assert.strictEqual(store.stepCount(project.id), project.stepCount, `stepCount of ${label}`);
    assert.strictEqual(store.aggregates(project.id).totals.steps, project.stepCount, `aggregates of ${label}`);
    assert.strictEqual(store.latestActiveStep(project.id)?.id, Math.max(...ids), `latest active step of ${label}`);
    assert.deepStrictEqual(store.models(project.id), ['claude-3.5-sonnet'], `models of ${label}`);
    for (const step of listed) {
      assert.strictEqual(step.projectId, project.id, `${step.label} says it is in ${label}`);
      assert.strictEqual(store.step(step.id)?.projectId, project.id, `${step.label} looked up by id is in ${label}`);
      const messages = step.warnings.filter((w) => w.field === 'projectId').map((w) => w.message);
      if (warning) {
        assert.strictEqual(messages.length, 1, `${step.label} has one project warning: ${messages}`);
        assert.match(messages[0], warning);
      } else {
        assert.deepStrictEqual(messages, [], `${step.label} has no project warning`);
      }
    }
  }
}

describe('StepStore: every row is listed under a project', () => {
  let dir: string;
  let file: string;
  const stores: StepStore[] = [];
  const open = async () => {
    const store = await StepStore.open(file);
    stores.push(store);
    return store;
  };

  beforeEach(() => {
    dir = makeTempDir();
    file = path.join(dir, 'steps.db');
  });
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  // Rows 1…16, newest (highest id) last; projects list most recent first.
  const EVERY_TYPE = [
    `'alpha'`, // 1
    `NULL`, // 2
    `''`, // 3
    `42`, // 4: an integer
    `'42'`, // 5: text that reads like it: another value to SQLite
    `1.5`, // 6
    `42.0`, // 7: a real equal to 42, but not an integer
    `X'0102'`, // 8
    `X''`, // 9: an empty blob is not an empty text
    `'alpha'`, // 10
    `char(1) || 'i42'`, // 11: text that looks like an integer's key
    `'a' || char(0) || 'b'`, // 12: text with a NUL inside
    `1e20`, // 13
    `42`, // 14
    `NULL`, // 15
    `'Alpha'`, // 16
  ];

  it('lists NULL, integer, real, text, empty text and blob project ids, with counts that match the lists (untyped column)', async () => {
    // No declared type: SQLite keeps each value's storage class as written.
    await writeProjectRows(file, UNTYPED_PROJECT_SCHEMA, EVERY_TYPE);
    assert.deepStrictEqual(await storedTypes(file), [
      'text', 'null', 'text', 'integer', 'text', 'real', 'real', 'blob', 'blob', 'text', 'text', 'text', 'real', 'integer', 'null', 'text',
    ]);
    const store = await open();
    const number = /^S\d+'s project id is the number .+, not text; it is listed under project .+\.$/;
    const binary = /^S\d+'s project id is binary data, not text; it is listed under project X'.*'\.$/;
    assertEveryRowListed(store, [
      { label: 'Alpha', ids: [16], warning: null },
      { label: '(no project)', ids: [2, 3, 15], warning: /^S\d+ has no project id; it is listed under \(no project\)\.$/ },
      { label: '42', ids: [4, 14], warning: number },
      { label: '1.0e+20', ids: [13], warning: number },
      { label: 'a\u0000b', ids: [12], warning: null },
      { label: '\u0001i42', ids: [11], warning: null },
      { label: 'alpha', ids: [1, 10], warning: null },
      { label: "X''", ids: [9], warning: binary },
      { label: "X'0102'", ids: [8], warning: binary },
      { label: '42.0', ids: [7], warning: number },
      { label: '1.5', ids: [6], warning: number },
      { label: '42', ids: [5], warning: null },
    ]);
    const kinds = store.projects().map((p) => projectKeyKind(p.id));
    assert.deepStrictEqual(kinds, ['text', 'none', 'integer', 'real', 'text', 'text', 'text', 'blob', 'blob', 'real', 'real', 'text']);
    const [s4] = store.steps(store.projects()[2].id, { limit: 1, offset: 1 });
    assert.strictEqual(s4.warnings.find((w) => w.field === 'projectId')?.message, "S4's project id is the number 42, not text; it is listed under project 42.");
  });

  it('lists what a TEXT column with a NOCASE index made of the same values, and uses the index without merging names', async () => {
    // LaForge's column type: numbers become text on the way in, blobs stay blobs. NOT NULL is
    // dropped so that NULL can be stored too; the index compares without case.
    const schema = DOCUMENTED_SCHEMA.replace('project_id TEXT NOT NULL,', 'project_id TEXT COLLATE NOCASE,');
    await writeProjectRows(file, schema, EVERY_TYPE);
    const store = await open();
    assertEveryRowListed(store, [
      { label: 'Alpha', ids: [16], warning: null },
      { label: '(no project)', ids: [2, 3, 15], warning: /has no project id/ },
      { label: '42', ids: [4, 5, 14], warning: null },
      { label: '1.0e+20', ids: [13], warning: null },
      { label: 'a\u0000b', ids: [12], warning: null },
      { label: '\u0001i42', ids: [11], warning: null },
      { label: 'alpha', ids: [1, 10], warning: null },
      { label: "X''", ids: [9], warning: /binary data/ },
      { label: "X'0102'", ids: [8], warning: /binary data/ },
      { label: '42.0', ids: [7], warning: null },
      { label: '1.5', ids: [6], warning: null },
    ]);
  });

  it('lists the same values in an INTEGER column, where text that reads as a number becomes one', async () => {
    await writeProjectRows(file, DOCUMENTED_SCHEMA.replace('project_id TEXT NOT NULL,', 'project_id INTEGER,'), EVERY_TYPE);
    const store = await open();
    assertEveryRowListed(store, [
      { label: 'Alpha', ids: [16], warning: null },
      { label: '(no project)', ids: [2, 3, 15], warning: /has no project id/ },
      { label: '42', ids: [4, 5, 7, 14], warning: /the number 42/ },
      { label: '1.0e+20', ids: [13], warning: /the number 1\.0e\+20/ },
      { label: 'a\u0000b', ids: [12], warning: null },
      { label: '\u0001i42', ids: [11], warning: null },
      { label: 'alpha', ids: [1, 10], warning: null },
      { label: "X''", ids: [9], warning: /binary data/ },
      { label: "X'0102'", ids: [8], warning: /binary data/ },
      { label: '1.5', ids: [6], warning: /the number 1\.5/ },
    ]);
  });

  it("gives projectWhere's predicate to a write, which changes exactly the project's rows", async () => {
    await writeProjectRows(file, UNTYPED_PROJECT_SCHEMA, EVERY_TYPE);
    const store = await open();
    const projects = store.projects();
    store.close();
    const SQL = await loadSqlJs();
    // As a rollback does: one UPDATE per project, on the ids it means, guarded by the predicate.
    const db = new SQL.Database(fs.readFileSync(file));
    const everyId = EVERY_TYPE.map((_, i) => i + 1);
    for (const [n, project] of projects.entries()) {
      const where = projectWhere(project.id);
      db.run(`UPDATE steps SET active = ? WHERE ${where.sql} AND id IN (${everyId.map(() => '?').join(',')})`, [
        100 + n,
        ...where.params,
        ...everyId,
      ]);
    }
    fs.writeFileSync(file, db.export());
    db.close();
    // Read back by the real engine: each row carries the number of the one project it is in.
    const { columns, rows } = readWithSqlite(file);
    const active = columns.indexOf('active');
    const expectedProject = [6, 1, 1, 2, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0];
    assert.deepStrictEqual(rows.map((r) => r[active]), expectedProject.map((n) => 100 + n));
  });

  it('narrows by the index only where that cannot drop a row', () => {
    assert.deepStrictEqual(projectWhere('alpha', { indexable: true }).params, ['alpha', 'alpha']);
    assert.match(projectWhere('alpha', { indexable: true }).sql, /^\(project_id = \? AND /);
    for (const key of ['', `${PROJECT_KEY_MARK}i42`, `${PROJECT_KEY_MARK}t${PROJECT_KEY_MARK}x`]) {
      assert.deepStrictEqual(projectWhere(key, { indexable: true }).params, [key], JSON.stringify(key));
    }
    assert.deepStrictEqual(projectWhere('alpha').params, ['alpha']);
    assert.deepStrictEqual(
      ['TEXT', 'varchar(20)', '', 'BLOB', 'INTEGER', 'BIGINT', 'REAL', 'DOUBLE', 'NUMERIC', 'BOOLEAN', 'ANY'].map(columnAffinity),
      ['TEXT', 'TEXT', 'BLOB', 'BLOB', 'INTEGER', 'INTEGER', 'REAL', 'REAL', 'NUMERIC', 'NUMERIC', 'NUMERIC'],
    );
  });

  it('names keys as the views show them, and keys rows built outside the store the same way', () => {
    assert.strictEqual(projectLabel(projectKeyOfValue(null)), '(no project)');
    assert.strictEqual(projectLabel(projectKeyOfValue('')), '(no project)');
    assert.strictEqual(projectKeyOfValue(null), projectKeyOfValue(''), 'NULL and empty text are one project');
    assert.strictEqual(projectLabel(projectKeyOfValue(42)), '42');
    assert.notStrictEqual(projectKeyOfValue(42), projectKeyOfValue('42'));
    assert.strictEqual(projectLabel(projectKeyOfValue(1.5)), '1.5');
    assert.strictEqual(projectLabel(projectKeyOfValue(new Uint8Array([1, 2, 255]))), "X'0102FF'");
    assert.strictEqual(projectLabel(projectKeyOfValue(new Uint8Array(40))), `X'${'00'.repeat(16)}…' (40 bytes)`);
    assert.strictEqual(projectLabel(projectKeyOfValue('  ')), '"  "', 'a name of spaces shows');
    assert.strictEqual(projectLabel(projectKeyOfValue(`${PROJECT_KEY_MARK}i7`)), `${PROJECT_KEY_MARK}i7`);
    assert.strictEqual(projectKeyKind(projectKeyOfValue(`${PROJECT_KEY_MARK}i7`)), 'text');
  });
});
