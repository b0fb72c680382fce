/**
 * A rollback of a step whose project id is not text (here a blob, which LaForge's TEXT column
 * keeps as a blob) marks exactly that project's steps, as the tree lists them: its write uses
 * projectWhere, the predicate the store lists the project by. Real repository, database
 * written and read back by python3's sqlite3.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { projectLabel } from '../../src/core/projectKey';
import { executeRollback, planRollback, undoRollback } from '../../src/core/rollback';
import { StepStore } from '../../src/core/stepStore';
import { appendDemoStep, makeDemoWorkspace } from '../fixtures/demoWorkspace';

function sqlite(db: string, sql: string[], query: string): unknown[][] {
  const script = String.raw`
import json, sqlite3, sys
req = json.load(sys.stdin)
db = sqlite3.connect(req["db"], isolation_level=None)
for s in req["sql"]:
    db.execute(s)
rows = db.execute(req["query"]).fetchall()
db.close()
print(json.dumps(rows))
`;
  return JSON.parse(execFileSync('python3', ['-c', script], { input: JSON.stringify({ db, sql, query }), encoding: 'utf8' }));
}

describe('rollback of a project whose id is not text', function () {
  this.timeout(60_000);
  let root: string;
  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'step-history-rollback-projects-'));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('marks the steps of a blob project rolled back, and undo marks them active again, leaving the other project alone', async () => {
    const dir = path.join(root, 'ledgerline');
    const ws = makeDemoWorkspace(dir, { now: new Date('2026-03-01T12:00:00Z') });
    // The running step finishes and one more is recorded: a clean tree, nothing running.
    appendDemoStep(dir, { now: new Date('2026-03-01T12:10:00Z') });
    const db = ws.dbPath;
    const ids = (where: string) => sqlite(db, [], `SELECT id FROM steps WHERE ${where} ORDER BY id`).map((r) => Number(r[0]));
    // Steps 1-3 keep their text project; the rest get the same name as a blob.
    sqlite(db, [`UPDATE steps SET project_id = CAST(project_id AS BLOB) WHERE id > 3`], 'SELECT 1');
    const activeBefore = ids('active');

    const store = await StepStore.open(db);
    const blob = store.projects().find((p) => p.id !== ws.projectId);
    store.close();
    assert.ok(blob, 'the blob project is listed');
    assert.match(projectLabel(blob.id), /^X'6C6564/);

    const stepId = ids(`active AND typeof(project_id) = 'blob'`).at(-3)!;
    const plan = await planRollback({ dbPath: db, repositoryPath: dir, projectId: blob.id, stepId });
    assert.deepEqual(plan.refusals, []);
    const expected = activeBefore.filter((id) => id >= stepId && id > 3);
    assert.deepEqual(plan.stepsToDeactivate.map((s) => s.id), expected);

    const journalDir = path.join(root, 'journals');
    const result = await executeRollback(plan, { journalDir });
    assert.deepEqual(ids('active'), activeBefore.filter((id) => !expected.includes(id)), 'exactly the planned steps are inactive');
    assert.deepEqual(ids(`typeof(project_id) = 'text'`), [1, 2, 3], 'no project id was rewritten');

    await undoRollback(result.journal, { journalDir });
    assert.deepEqual(ids('active'), activeBefore);
  });
});
