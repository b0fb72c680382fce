import * as assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LLMO_SCHEMA, LLMO_TABLE_ORDER, LlmoFixture, LlmoResponseMetadata, LlmoTable, makeLlmOrchestration } from '../fixtures/llmOrchestration';

/** The real sqlite3 command-line shell, read-only, rows as JSON objects. */
const cli = (db: string, sql: string): Record<string, unknown>[] => {
  const out = execFileSync('sqlite3', ['-readonly', '-json', db, sql], { encoding: 'utf8' }).trim();
  return out ? (JSON.parse(out) as Record<string, unknown>[]) : [];
};
const dump = (db: string): string => execFileSync('sqlite3', ['-readonly', db, '.dump'], { encoding: 'utf8' });

const SQLITE_TS = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/;
const ISO_TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** Columns as config/database.js's SCHEMA declares them: name, type, notnull, default, pk. */
const COLUMNS: Record<LlmoTable, [string, string, number, string | null, number][]> = {
  blocks: [['id', 'INTEGER', 0, null, 1], ['title', 'TEXT', 1, null, 0], ['content', 'TEXT', 0, null, 0], ['tags', 'TEXT', 0, null, 0], ['folder_path', 'TEXT', 0, null, 0], ['created_at', 'TIMESTAMP', 0, 'CURRENT_TIMESTAMP', 0], ['updated_at', 'TIMESTAMP', 0, 'CURRENT_TIMESTAMP', 0]],
  payloads: [['id', 'INTEGER', 0, null, 1], ['name', 'TEXT', 1, null, 0], ['temperature', 'REAL', 0, '0.6', 0], ['response_length', 'INTEGER', 0, '1000', 0], ['llm_port', 'INTEGER', 0, '5001', 0], ['model_format', 'TEXT', 0, "'default'", 0], ['created_at', 'TIMESTAMP', 0, 'CURRENT_TIMESTAMP', 0], ['updated_at', 'TIMESTAMP', 0, 'CURRENT_TIMESTAMP', 0]],
  payload_blocks: [['payload_id', 'INTEGER', 0, null, 0], ['block_id', 'INTEGER', 0, null, 0], ['order_index', 'INTEGER', 0, null, 0]],
  workflows: [['id', 'INTEGER', 0, null, 1], ['name', 'TEXT', 1, null, 0], ['created_at', 'TIMESTAMP', 0, 'CURRENT_TIMESTAMP', 0], ['updated_at', 'TIMESTAMP', 0, 'CURRENT_TIMESTAMP', 0]],
  workflow_payloads: [['workflow_id', 'INTEGER', 0, null, 0], ['payload_id', 'INTEGER', 0, null, 0], ['order_index', 'INTEGER', 0, null, 0]],
  runs: [['id', 'INTEGER', 0, null, 1], ['workflow_id', 'INTEGER', 0, null, 0], ['status', 'TEXT', 1, null, 0], ['started_at', 'TIMESTAMP', 0, 'CURRENT_TIMESTAMP', 0], ['completed_at', 'TIMESTAMP', 0, null, 0], ['metadata', 'TEXT', 0, null, 0]],
  responses: [['id', 'INTEGER', 0, null, 1], ['run_id', 'INTEGER', 0, null, 0], ['payload_id', 'INTEGER', 0, null, 0], ['content', 'TEXT', 0, null, 0], ['metadata', 'TEXT', 0, null, 0], ['created_at', 'TIMESTAMP', 0, 'CURRENT_TIMESTAMP', 0]],
};

/** REFERENCES clauses: table → [from, parent table, on_delete]. */
const FOREIGN_KEYS: Partial<Record<LlmoTable, [string, string, string][]>> = {
  payload_blocks: [['payload_id', 'payloads', 'CASCADE'], ['block_id', 'blocks', 'CASCADE']],
  workflow_payloads: [['workflow_id', 'workflows', 'CASCADE'], ['payload_id', 'payloads', 'CASCADE']],
  runs: [['workflow_id', 'workflows', 'CASCADE']],
  responses: [['run_id', 'runs', 'CASCADE'], ['payload_id', 'payloads', 'SET NULL']],
};

const RESPONSE_KEYS = ['tokens', 'promptTokens', 'completionTokens', 'finishReason', 'duration_ms', 'tokens_per_second', 'model_info', 'llm_config'];

describe('LLM Orchestration fixture (llm-orchestration-v1 1a1a429)', function () {
  this.timeout(60_000);
  const NOW = new Date('2026-11-20T17:00:00.250Z');
  let fx: LlmoFixture;

  before(() => {
    fx = makeLlmOrchestration({ now: NOW });
  });
  after(() => fx?.rm());

  it('lays out data/llm_orchestration.db and data/backups/ as the app does', () => {
    assert.equal(fx.dbPath, path.join(fx.root, 'data', 'llm_orchestration.db'));
    assert.equal(fx.backupsDir, path.join(fx.root, 'data', 'backups'));
    assert.deepEqual(fs.readdirSync(fx.dataDir).sort(), ['backups', 'llm_orchestration.db']);
    assert.deepEqual(fs.readdirSync(fx.backupsDir).sort(), [path.basename(fx.backup.path), path.basename(fx.preRestore.path)].sort());
    assert.match(path.basename(fx.backup.path), /^backup_\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.db$/);
    assert.match(path.basename(fx.preRestore.path), /^pre_restore_\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.db$/);
    assert.equal(path.basename(fx.backup.path), 'backup_2026-11-18T17-00-00.db');
    for (const s of [fx.backup, fx.preRestore]) {
      assert.ok(s.takenAt < fx.now);
      assert.ok(Math.abs(fs.statSync(s.path).mtimeMs - s.takenAt.getTime()) < 1, `${s.path} mtime`);
    }
    assert.ok(fx.backup.takenAt < fx.preRestore.takenAt);
    assert.ok(!fs.existsSync(fx.dbPath + '-wal') && !fs.existsSync(fx.dbPath + '-journal'));
  });

  it('has the repository\'s tables, columns and DDL text, in createTables\' order', () => {
    for (const db of [fx.dbPath, fx.backup.path, fx.preRestore.path]) {
      const master = cli(db, "SELECT type, name, sql FROM sqlite_master ORDER BY rowid");
      assert.deepEqual(master.map((r) => r.name), LLMO_TABLE_ORDER, db);
      assert.ok(master.every((r) => r.type === 'table'), 'no indexes, no views');
      for (const table of Object.keys(COLUMNS) as LlmoTable[]) {
        const info = cli(db, `PRAGMA table_info(${table})`).map((c) => [c.name, c.type, c.notnull, c.dflt_value, c.pk]);
        assert.deepEqual(info, COLUMNS[table], `${table} columns`);
        const sql = master.find((r) => r.name === table)!.sql;
        assert.equal(sql, LLMO_SCHEMA[table].trim().replace('CREATE TABLE IF NOT EXISTS', 'CREATE TABLE'), `${table} DDL`);
        const fks = cli(db, `PRAGMA foreign_key_list(${table})`).map((f) => [f.from, f.table, f.on_delete]);
        assert.deepEqual(fks.sort(), (FOREIGN_KEYS[table] ?? []).slice().sort(), `${table} foreign keys`);
      }
    }
    assert.match(LLMO_SCHEMA.runs, /^\n {8}CREATE TABLE IF NOT EXISTS runs \(\n {12}id INTEGER PRIMARY KEY AUTOINCREMENT,/);
  });

  it('leaves foreign keys off, so deleted workflows and payloads leave orphans', () => {
    assert.deepEqual(cli(fx.dbPath, 'PRAGMA foreign_keys'), [{ foreign_keys: 0 }]);
    assert.deepEqual(fx.orphans.deletedWorkflowIds, [3]);
    assert.deepEqual(fx.orphans.deletedPayloadIds, [6]);
    assert.ok(fx.orphans.runIds.length >= 1 && fx.orphans.responseIds.length >= 1);
    const check = cli(fx.dbPath, 'PRAGMA foreign_key_check').map((r) => `${r.table}->${r.parent}`).sort();
    const expected = [
      ...fx.orphans.runIds.map(() => 'runs->workflows'),
      ...fx.orphans.responseIds.map(() => 'responses->payloads'),
      ...fx.orphans.workflowPayloads.map(() => 'workflow_payloads->payloads'),
    ].sort();
    assert.deepEqual(check, expected);
    assert.deepEqual(cli(fx.dbPath, "SELECT rowid AS id FROM pragma_foreign_key_check('runs')").map((r) => r.id), fx.orphans.runIds);
    assert.deepEqual(cli(fx.dbPath, "SELECT rowid AS id FROM pragma_foreign_key_check('responses')").map((r) => r.id), fx.orphans.responseIds);
    // The runs list's LEFT JOIN finds no workflow name; the orphan responses keep their payload_id (no SET NULL).
    for (const id of fx.orphans.runIds) {
      assert.deepEqual(cli(fx.dbPath, `SELECT w.name AS name FROM runs r LEFT JOIN workflows w ON r.workflow_id = w.id WHERE r.id = ${id}`), [{ name: null }]);
      assert.ok(fx.runs.find((r) => r.id === id)!.workflowDeleted);
    }
    for (const id of fx.orphans.responseIds) {
      assert.deepEqual(cli(fx.dbPath, `SELECT payload_id FROM responses WHERE id = ${id}`), [{ payload_id: 6 }]);
      assert.ok(fx.responses.find((r) => r.id === id)!.payloadDeleted);
    }
    assert.deepEqual(fx.orphans.workflowPayloads, [{ workflowId: 2, payloadId: 6 }]);
    // The deleted payload's response block stays.
    assert.deepEqual(cli(fx.dbPath, "SELECT title, folder_path FROM blocks WHERE tags = 'response,payload_6'"), [{ title: 'Changelog haiku - response', folder_path: 'Responses' }]);
  });

  it('leaves every response its run by default', () => {
    assert.deepEqual(fx.orphans.deletedRunIds, []);
    assert.deepEqual(fx.orphans.runDeletedResponseIds, []);
    assert.ok(fx.responses.every((r) => !r.runDeleted));
    assert.deepEqual(cli(fx.dbPath, "SELECT rowid AS id FROM pragma_foreign_key_check('responses') WHERE parent = 'runs'"), []);
  });

  it('with deletedRuns, leaves the responses a run deleted mid-way goes on writing', () => {
    const d = makeLlmOrchestration({ now: NOW, deletedRuns: true });
    try {
      assert.equal(d.orphans.deletedRunIds.length, 2);
      for (const id of d.orphans.deletedRunIds) {
        assert.deepEqual(cli(d.dbPath, `SELECT id FROM runs WHERE id = ${id}`), [], `run ${id} is gone`);
        assert.ok(!d.runs.some((r) => r.id === id));
      }
      const gone = cli(d.dbPath, "SELECT rowid AS id FROM pragma_foreign_key_check('responses') WHERE parent = 'runs' ORDER BY rowid").map((r) => r.id);
      assert.deepEqual(gone, d.orphans.runDeletedResponseIds);
      assert.equal(gone.length, 3, 'two answers after the first run was deleted, one after the second');
      const rows = cli(d.dbPath, `SELECT id, run_id FROM responses WHERE id IN (${gone.join(', ')}) ORDER BY id`);
      assert.deepEqual(rows.map((r) => r.run_id), [d.orphans.deletedRunIds[0], d.orphans.deletedRunIds[0], d.orphans.deletedRunIds[1]]);
      assert.deepEqual(d.responses.filter((r) => r.runDeleted).map((r) => r.id), gone);
      // The answer written before the deletion went with the run.
      assert.deepEqual(cli(d.dbPath, `SELECT COUNT(*) AS n FROM responses WHERE run_id = ${d.orphans.deletedRunIds[0]}`), [{ n: 2 }]);
      const short = d.workflows.find((w) => w.name === 'Release notes, short')!;
      assert.deepEqual(cli(d.dbPath, `SELECT workflow_id FROM workflow_payloads WHERE payload_id = ${short.payloadIds[0]} ORDER BY workflow_id`).map((r) => r.workflow_id), [2, short.id]);
      // Everything else is as without the option.
      assert.deepEqual(d.orphans.runIds, fx.orphans.runIds);
      assert.deepEqual(d.orphans.responseIds, fx.orphans.responseIds);
      assert.equal(d.runs.find((r) => r.id === d.runningRunId)!.status, 'running');
    } finally {
      d.rm();
    }
  });

  it('stores runs as the two execute paths write them, every status spelling included', () => {
    const rows = cli(fx.dbPath, 'SELECT id, workflow_id, status, started_at, completed_at, metadata FROM runs ORDER BY id');
    assert.deepEqual(rows, fx.runs.map((r) => ({ id: r.id, workflow_id: r.workflowId, status: r.status, started_at: r.startedAt, completed_at: r.completedAt, metadata: r.rawMetadata })));
    assert.deepEqual([...new Set(fx.runs.map((r) => r.status))].sort(), ['IN_PROGRESS', 'completed', 'failed', 'running']);
    assert.ok(fx.runs.length >= 8);
    for (const r of fx.runs) {
      assert.match(r.startedAt, SQLITE_TS);
      if (r.status === 'running' || r.status === 'IN_PROGRESS') {
        assert.equal(r.completedAt, null);
        assert.equal(r.durationS, null);
      } else {
        assert.match(r.completedAt!, SQLITE_TS);
        assert.equal(r.durationS, (Date.parse(r.completedAt! + 'Z') - Date.parse(r.startedAt + 'Z')) / 1000);
        assert.ok(r.durationS! > 0);
      }
      if (r.path === 'ui') {
        assert.equal(r.rawMetadata, null, `run ${r.id}: json_set on NULL stays NULL`);
        assert.ok(r.status !== 'running');
        continue;
      }
      assert.ok(r.status !== 'IN_PROGRESS');
      assert.deepEqual(JSON.parse(r.rawMetadata!), r.metadata);
      const meta = JSON.parse(r.rawMetadata!) as Record<string, string & number>;
      assert.deepEqual(Object.keys(meta).slice(0, 3), ['workflow_name', 'total_payloads', 'started_at']);
      assert.match(meta.started_at, ISO_TS);
      assert.equal(meta.workflow_name, r.workflowName);
      if (r.status === 'completed') {
        assert.deepEqual(Object.keys(meta), ['workflow_name', 'total_payloads', 'started_at', 'completed_at', 'models']);
        assert.match(meta.completed_at, ISO_TS);
        assert.equal(typeof meta.models, 'string', 'models is bound as text: a JSON string holding JSON');
        const models = JSON.parse(meta.models) as { payloadName: string; modelInfo: unknown }[];
        assert.equal(models.length, meta.total_payloads);
        assert.deepEqual(models.map((m) => Object.keys(m)), models.map(() => ['payloadName', 'modelInfo']));
        assert.equal(r.responseIds.length, meta.total_payloads, 'one response per payload');
      } else if (r.status === 'failed') {
        assert.deepEqual(Object.keys(meta), ['workflow_name', 'total_payloads', 'started_at', 'error']);
        assert.equal(meta.error, r.error);
      } else {
        assert.deepEqual(Object.keys(meta), ['workflow_name', 'total_payloads', 'started_at']);
      }
    }
    const byId = (id: number) => fx.runs.find((r) => r.id === id)!;
    assert.equal(byId(fx.runningRunId).status, 'running');
    assert.equal(byId(fx.inProgressRunId).status, 'IN_PROGRESS');
    assert.equal(byId(fx.nullMetadataRunId).status, 'completed');
    assert.equal(byId(fx.nullMetadataRunId).rawMetadata, null);
    assert.equal(byId(fx.failedRunId).status, 'failed');
    assert.match(byId(fx.failedRunId).metadata!.error!, /^Connection error to host\.docker\.internal:5002\/v1\/completions: connect ECONNREFUSED/);
    assert.equal(byId(fx.uiFailedRunId).status, 'failed');
    assert.equal(byId(fx.uiFailedRunId).rawMetadata, null);
    assert.ok(byId(fx.uiFailedRunId).error);
    assert.ok(byId(fx.runningRunId).responseIds.length > 0, 'a running run already has responses');
  });

  it('stores one response per answered payload with processResponse\'s metadata', () => {
    const rows = cli(fx.dbPath, 'SELECT id, run_id, payload_id, content, metadata, created_at FROM responses ORDER BY id');
    assert.deepEqual(rows, fx.responses.map((r) => ({ id: r.id, run_id: r.runId, payload_id: r.payloadId, content: r.content, metadata: r.rawMetadata, created_at: r.createdAt })));
    for (const run of fx.runs) assert.deepEqual(fx.responses.filter((r) => r.runId === run.id).map((r) => r.id), run.responseIds);
    for (const r of fx.responses) {
      assert.match(r.createdAt, SQLITE_TS);
      const run = fx.runs.find((x) => x.id === r.runId)!;
      assert.ok(r.createdAt >= run.startedAt && (!run.completedAt || r.createdAt <= run.completedAt));
      if (r.brokenMetadata) {
        assert.throws(() => JSON.parse(r.rawMetadata));
        assert.ok(r.rawMetadata.startsWith('{"tokens":'));
        continue;
      }
      assert.deepEqual(JSON.parse(r.rawMetadata), r.metadata);
      const m = JSON.parse(r.rawMetadata) as LlmoResponseMetadata & { tokens: number };
      const keys = Object.keys(m);
      if (r.api === 'chat' || r.api === 'completion') {
        assert.deepEqual(keys, [...RESPONSE_KEYS.slice(0, 4), 'responseType', ...RESPONSE_KEYS.slice(4)]);
        assert.equal(m.responseType, r.api);
      } else {
        assert.deepEqual(keys, RESPONSE_KEYS);
      }
      assert.deepEqual(Object.keys(m.llm_config), ['port', 'temperature', 'max_length', 'model_format']);
      assert.ok(m.model_info && typeof m.model_info === 'object');
      assert.ok(Number.isInteger(m.duration_ms) && m.duration_ms > 0);
      if (r.api === 'kobold-no-counts') {
        assert.equal(m.tokens, null, 'NaN written as null');
        assert.equal(m.promptTokens, 0);
        assert.equal(m.tokens_per_second, 0);
      } else {
        assert.equal(m.tokens, m.promptTokens + m.completionTokens);
        assert.equal(m.tokens_per_second, Math.round((m.tokens / m.duration_ms) * 1000));
      }
    }
    assert.deepEqual([...new Set(fx.responses.map((r) => r.api))].sort(), ['chat', 'completion', 'kobold', 'kobold-no-counts']);
    const html = fx.responses.find((r) => r.id === fx.htmlResponseId)!;
    assert.ok(html.content.includes('<script>alert(1)</script>'));
    assert.deepEqual(cli(fx.dbPath, `SELECT instr(content, '<script>alert(1)</script>') > 0 AS has FROM responses WHERE id = ${fx.htmlResponseId}`), [{ has: 1 }]);
    const broken = fx.responses.find((r) => r.id === fx.brokenMetadataResponseId)!;
    assert.ok(broken.brokenMetadata);
    assert.deepEqual(fx.responses.filter((r) => r.brokenMetadata).map((r) => r.id), [fx.brokenMetadataResponseId]);
  });

  it('answers the same payload in two runs of one workflow, with a block edited between them', () => {
    const { workflowId, payloadId, runIds, responseIds } = fx.comparison;
    const [a, b] = responseIds.map((id) => fx.responses.find((r) => r.id === id)!);
    assert.deepEqual([a.runId, b.runId], runIds);
    assert.ok(runIds.every((id) => fx.runs.find((r) => r.id === id)!.workflowId === workflowId));
    assert.equal(a.payloadId, payloadId);
    assert.equal(b.payloadId, payloadId);
    assert.notEqual(a.content, b.content);
    const edited = fx.blocks.find((x) => x.title === 'Summarise the ticket')!;
    assert.ok(edited.updatedAt > edited.createdAt && edited.updatedAt > a.createdAt && edited.updatedAt < b.createdAt);
    // A payload edit leaves updated_at alone; the later run's llm_config shows the new temperature.
    const [p3] = cli(fx.dbPath, 'SELECT temperature, created_at, updated_at FROM payloads WHERE id = 3');
    assert.equal(p3.temperature, 0.1);
    assert.equal(p3.created_at, p3.updated_at);
    const temps = fx.responses.filter((r) => r.payloadId === 3 && !r.brokenMetadata).map((r) => r.metadata.llm_config.temperature);
    assert.deepEqual(temps, [0.2, 0.2]);
    assert.ok(fx.responses.find((r) => r.payloadId === 3 && r.brokenMetadata)!.metadata.llm_config.temperature === 0.1);
  });

  it('keeps the backup and the pre-restore copy as valid SQLite files with their own content', () => {
    for (const s of [fx.backup, fx.preRestore]) {
      assert.deepEqual(cli(s.path, 'PRAGMA integrity_check'), [{ integrity_check: 'ok' }]);
      assert.equal(fs.readFileSync(s.path).subarray(0, 16).toString('latin1'), 'SQLite format 3\0');
      assert.deepEqual(cli(s.path, 'SELECT id, workflow_id, status FROM runs ORDER BY id'), s.runs.map((r) => ({ id: r.id, workflow_id: r.workflowId, status: r.status })));
      assert.deepEqual(cli(s.path, 'SELECT id FROM responses ORDER BY id').map((r) => r.id), s.responses.map((r) => r.id));
      assert.deepEqual(cli(s.path, 'SELECT id FROM workflows ORDER BY id').map((r) => r.id), s.workflows.filter((w) => !w.deleted).map((w) => w.id));
    }
    assert.deepEqual(fx.backup.runs.map((r) => r.id), [1, 2, 3, 4]);
    assert.deepEqual(fx.preRestore.runs.map((r) => r.id), [1, 2, 3, 4, 5]);
    // Workflow 1 was deleted before the restore: in the copy, its runs are orphans.
    assert.deepEqual(cli(fx.preRestore.path, 'SELECT id FROM workflows ORDER BY id').map((r) => r.id), [2, 3]);
    assert.deepEqual(cli(fx.preRestore.path, "SELECT rowid AS id FROM pragma_foreign_key_check('runs')").map((r) => r.id), [1, 2, 5]);
    // After the restore, AUTOINCREMENT went on from the backup's sqlite_sequence: run 5 and responses 11-13 exist twice, differently.
    const pre5 = fx.preRestore.runs.find((r) => r.id === 5)!;
    const live5 = fx.runs.find((r) => r.id === 5)!;
    assert.notEqual(pre5.workflowId, live5.workflowId);
    assert.ok(pre5.startedAt < fx.preRestore.takenAt.toISOString().replace('T', ' ').slice(0, 19));
    assert.deepEqual(cli(fx.dbPath, "SELECT name, seq FROM sqlite_sequence ORDER BY name"), [
      { name: 'blocks', seq: fx.blocks.length },
      { name: 'payloads', seq: 6 },
      { name: 'responses', seq: fx.responses.length },
      { name: 'runs', seq: fx.runs.length },
      { name: 'workflows', seq: 3 },
    ]);
  });

  it('is deterministic given now, and honours root', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'llmo-again-'));
    const again = makeLlmOrchestration({ now: NOW, root });
    try {
      assert.equal(again.root, root);
      const plain = (f: LlmoFixture) => JSON.stringify({ ...f, rm: undefined }).split(f.root).join('<root>');
      assert.equal(plain(again), plain(fx));
      for (const [a, b] of [[again.dbPath, fx.dbPath], [again.backup.path, fx.backup.path], [again.preRestore.path, fx.preRestore.path]]) assert.equal(dump(a), dump(b));
      assert.deepEqual(fs.readdirSync(again.backupsDir).sort(), fs.readdirSync(fx.backupsDir).sort());
    } finally {
      again.rm();
    }
    assert.ok(!fs.existsSync(root), 'rm() removes the folder');
    const other = makeLlmOrchestration({ now: new Date('2027-01-05T08:00:00Z') });
    try {
      assert.equal(path.basename(other.backup.path), 'backup_2027-01-03T08-00-00.db');
      assert.notEqual(other.runs[0].startedAt, fx.runs[0].startedAt);
    } finally {
      other.rm();
    }
    assert.ok(!fs.existsSync(other.root));
  });
});
