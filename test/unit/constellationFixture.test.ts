import assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AGENT_STATUSES, CONSTELLATION_SCHEMA, ConstellationFixture, HOSTILE_TEXT, PROJECT_STATUSES, makeConstellation } from '../fixtures/constellation';

type Row = Record<string, string | number | null>;

/** The sqlite3 CLI, read-only unless told (a read-write close would checkpoint a live -wal). */
function sq(db: string, sql: string, write = false): Row[] {
  const out = execFileSync('sqlite3', [...(write ? [] : ['-readonly']), '-json', db, sql], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  return out === '' ? [] : (JSON.parse(out) as Row[]);
}

/** Runs SQL that must fail; answers the CLI's error text. */
function sqFails(db: string, sql: string): string {
  try {
    execFileSync('sqlite3', ['-bail', db, sql], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    return String((e as { stderr?: string }).stderr);
  }
  assert.fail(`expected failure: ${sql}`);
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const SQLITE_NOW = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const NOW = new Date('2026-11-20T17:00:00Z');
const TABLES = ['projects', 'agents', 'agent_history', 'outputs', 'events'];

/** The CREATE statements of 001_initial.ts, whitespace collapsed, keyed by name. */
function migrationStatements(): Map<string, string> {
  const body = CONSTELLATION_SCHEMA.split('\n').filter((l) => !l.trim().startsWith('--')).join('\n');
  const map = new Map<string, string>();
  for (const stmt of body.split(';').map((s) => s.trim()).filter(Boolean)) {
    const name = /^CREATE (?:TABLE|INDEX) (\w+)/.exec(stmt)![1];
    map.set(name, stmt.replace(/\s+/g, ' '));
  }
  return map;
}

/** Everything in the database as text, for comparing two builds. */
const dump = (db: string): string => TABLES.concat('_migrations').map((t) => JSON.stringify(sq(db, `SELECT * FROM ${t} ORDER BY rowid`))).join('\n');

function checkTimestamps(fx: ConstellationFixture): void {
  for (const t of TABLES) {
    const cols = t === 'projects' ? ['created_at', 'updated_at', 'ended_at'] : t === 'agents' ? ['created_at', 'updated_at'] : ['created_at'];
    for (const c of cols) {
      for (const r of sq(fx.dbPath, `SELECT ${c} AS v, typeof(${c}) AS ty FROM ${t}`)) {
        if (r.v === null) continue;
        assert.equal(r.ty, 'text', `${t}.${c}`);
        assert.match(String(r.v), ISO, `${t}.${c}`);
        assert.ok(Date.parse(String(r.v)) < NOW.getTime(), `${t}.${c} before now`);
      }
    }
    for (const r of sq(fx.dbPath, `SELECT id FROM ${t}`)) assert.match(String(r.id), UUID_V4, `${t}.id`);
  }
  const [m] = sq(fx.dbPath, 'SELECT id, name, applied_at FROM _migrations');
  assert.deepEqual(m, { id: 1, name: '001_initial', applied_at: fx.migrations[0].appliedAt });
  assert.match(String(m.applied_at), SQLITE_NOW);
}

describe('Constellation fixture (shaal/ralph-cc d01fea1), app', function () {
  this.timeout(60_000);
  let fx: ConstellationFixture;
  before(() => {
    fx = makeConstellation({ kind: 'app', now: NOW });
  });
  after(() => fx?.rm());

  it('lays out ~/.constellation/constellation.db, closed: no -wal or -shm left', () => {
    assert.equal(fx.dbPath, path.join(fx.home, '.constellation', 'constellation.db'));
    assert.deepEqual(fs.readdirSync(fx.dir), ['constellation.db']);
  });

  it('creates the schema of migrations/001_initial.ts, verbatim, and _migrations', () => {
    const expected = migrationStatements();
    const master = sq(fx.dbPath, "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name");
    const names = master.map((r) => String(r.name));
    assert.deepEqual(names.filter((n) => n !== '_migrations').sort(), [...expected.keys()].sort());
    for (const r of master) {
      if (r.name === '_migrations') continue;
      assert.equal(String(r.sql).replace(/\s+/g, ' '), expected.get(String(r.name)), String(r.name));
    }
    const cols = (t: string) => sq(fx.dbPath, `PRAGMA table_info(${t})`).map((c) => [c.name, c.type, c.notnull, c.dflt_value, c.pk]);
    assert.deepEqual(cols('projects'), [
      ['id', 'TEXT', 0, null, 1], ['name', 'TEXT', 1, null, 0], ['description', 'TEXT', 0, null, 0], ['status', 'TEXT', 0, "'created'", 0],
      ['prompt_path', 'TEXT', 1, null, 0], ['settings', 'TEXT', 0, "'{}'", 0], ['cost_total', 'REAL', 0, '0', 0], ['iteration_count', 'INTEGER', 0, '0', 0],
      ['created_at', 'DATETIME', 0, 'CURRENT_TIMESTAMP', 0], ['updated_at', 'DATETIME', 0, null, 0], ['ended_at', 'DATETIME', 0, null, 0],
    ]);
    assert.deepEqual(cols('agents').map((c) => c[0]), ['id', 'project_id', 'parent_id', 'name', 'status', 'config', 'current_task', 'total_tokens', 'total_cost', 'iteration_count', 'depth', 'created_at', 'updated_at']);
    assert.deepEqual(cols('agent_history').map((c) => `${c[0]} ${c[1]}`), ['id TEXT', 'agent_id TEXT', 'role TEXT', 'content TEXT', 'tool_calls TEXT', 'tool_results TEXT', 'usage TEXT', 'cost REAL', 'created_at DATETIME']);
    assert.deepEqual(cols('outputs').map((c) => c[0]), ['id', 'project_id', 'agent_id', 'type', 'path', 'content', 'previous_content', 'checksum', 'created_at']);
    assert.deepEqual(cols('events').map((c) => c[0]), ['id', 'project_id', 'agent_id', 'type', 'data', 'created_at']);
    assert.deepEqual(cols('_migrations'), [['id', 'INTEGER', 0, null, 1], ['name', 'TEXT', 1, null, 0], ['applied_at', 'DATETIME', 0, 'CURRENT_TIMESTAMP', 0]]);
    const fks = sq(fx.dbPath, 'PRAGMA foreign_key_list(agents)').map((f) => [f.from, f.table, f.on_delete]);
    assert.deepEqual(fks.sort(), [['parent_id', 'agents', 'SET NULL'], ['project_id', 'projects', 'CASCADE']]);
    const projectsSql = String(master.find((r) => r.name === 'projects')!.sql);
    assert.ok(projectsSql.includes(`CHECK (status IN (${PROJECT_STATUSES.map((s) => `'${s}'`).join(', ')}))`));
    assert.ok(String(master.find((r) => r.name === 'agents')!.sql).includes(`CHECK (status IN (${AGENT_STATUSES.map((s) => `'${s}'`).join(', ')}))`));
  });

  it('is in WAL mode: the file header says so (journal_mode persists; synchronous and foreign_keys are per connection)', () => {
    assert.deepEqual(sq(fx.dbPath, 'PRAGMA journal_mode'), [{ journal_mode: 'wal' }]);
    const header = fs.readFileSync(fx.dbPath).subarray(0, 20);
    assert.equal(header.subarray(0, 15).toString('latin1'), 'SQLite format 3');
    assert.equal(header[18], 2, 'write version: WAL');
    assert.equal(header[19], 2, 'read version: WAL');
  });

  it('has CHECK constraints that reject a bad status, role or type', () => {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'constellation-check-'));
    try {
      const db = path.join(scratch, 'c.db');
      fs.copyFileSync(fx.dbPath, db);
      const p = fx.projects[0];
      assert.match(sqFails(db, `INSERT INTO projects (id, name, prompt_path, status) VALUES ('x', 'x', '/p', 'running!')`), /CHECK constraint failed/);
      assert.match(sqFails(db, `UPDATE agents SET status = 'running' WHERE id = '${fx.agents[0].id}'`), /CHECK constraint failed/);
      assert.match(sqFails(db, `INSERT INTO agent_history (id, agent_id, role) VALUES ('h', '${fx.agents[0].id}', 'system')`), /CHECK constraint failed/);
      assert.match(sqFails(db, `INSERT INTO outputs (id, project_id, type) VALUES ('o', '${p.id}', 'diff')`), /CHECK constraint failed/);
      assert.match(sqFails(db, `INSERT INTO projects (id, name) VALUES ('y', 'no prompt path')`), /NOT NULL constraint failed: projects.prompt_path/);
      sq(db, `INSERT INTO agent_history (id, agent_id, role) VALUES ('h', '${fx.agents[0].id}', 'tool')`, true);
      assert.deepEqual(sq(db, "SELECT typeof(created_at) AS t, created_at LIKE '____-__-__ __:__:__' AS shape FROM agent_history WHERE id = 'h'"), [{ t: 'text', shape: 1 }], 'the column default is CURRENT_TIMESTAMP text');
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('writes ISO timestamps (toISOString) and UUID v4 ids; _migrations.applied_at is CURRENT_TIMESTAMP text', () => {
    checkTimestamps(fx);
  });

  it('holds only projects and agents, counters 0, as the IPC handlers write them', () => {
    for (const t of ['agent_history', 'outputs', 'events']) assert.deepEqual(sq(fx.dbPath, `SELECT count(*) AS n FROM ${t}`), [{ n: 0 }], t);
    const projects = sq(fx.dbPath, 'SELECT * FROM projects ORDER BY rowid');
    assert.deepEqual(projects, fx.projects.map((p) => ({
      id: p.id, name: p.name, description: p.description, status: p.status, prompt_path: p.promptPath, settings: p.settings,
      cost_total: 0, iteration_count: 0, created_at: p.createdAt, updated_at: p.updatedAt, ended_at: p.endedAt,
    })));
    assert.deepEqual(fx.projects.map((p) => p.status), ['stopped', 'running', 'created']);
    for (const p of fx.projects) {
      assert.equal(p.description, '', 'App.tsx passes no description: data.description || ""');
      assert.match(p.promptPath, /^\/tmp\/constellation-prompt-\d{13}\.md$/);
      assert.deepEqual(Object.keys(p.settingsJson), ['model', 'budgetLimit', 'maxIterations', 'circuitBreaker', 'allowedTools']);
    }
    const [stopped, running, created] = fx.projects;
    assert.ok(stopped.endedAt && stopped.endedAt === stopped.updatedAt);
    assert.equal(running.endedAt, null);
    assert.equal(created.updatedAt, null);
    assert.ok(running.name.includes(HOSTILE_TEXT));

    const agents = sq(fx.dbPath, 'SELECT * FROM agents ORDER BY rowid');
    assert.equal(agents.length, fx.agents.length);
    for (const [i, a] of fx.agents.entries()) {
      const r = agents[i];
      assert.deepEqual([r.id, r.project_id, r.parent_id, r.name, r.status, r.config, r.current_task, r.depth, r.created_at, r.updated_at], [a.id, a.projectId, a.parentId, a.name, a.status, a.config, a.currentTask, a.depth, a.createdAt, a.updatedAt]);
      assert.deepEqual([r.total_tokens, r.total_cost, r.iteration_count], [0, 0, 0]);
      if (a.parentId === null) {
        assert.equal(a.depth, 0);
        assert.equal(a.name, `${fx.projects.find((p) => p.id === a.projectId)!.name} Agent`);
        assert.deepEqual(Object.keys(a.configJson), ['model', 'maxTokens', 'temperature', 'maxIterations', 'enabledTools']);
        assert.deepEqual(a.configJson.enabledTools, ['Bash', 'Read', 'Write', 'Edit', 'Glob', 'Grep'], 'the dialog sends allowedTools, so enabledTools falls back');
      } else {
        const parent = fx.agents.find((x) => x.id === a.parentId)!;
        assert.equal(a.depth, parent.depth + 1);
        assert.equal(a.projectId, parent.projectId);
      }
    }
    assert.ok(fx.agents.some((a) => a.depth === 2));
    const root = fx.agents[0];
    assert.equal(root.status, 'paused', 'agent:pause took; agent:resume and agent:stop were refused');
    assert.deepEqual(fx.rejected.map((r) => [r.what, r.params[0]]), [['agent:resume', 'running'], ['agent:stop', 'stopped']]);
    for (const r of fx.rejected) assert.match(r.error, /^CHECK constraint failed: status IN \('created', 'idle'/);
    assert.equal(fx.agents.find((a) => a.projectId === running.id && a.parentId === null)!.status, 'created', 'project:start never updates the agent');
    assert.deepEqual(fx.iterations, []);
  });

  it('can leave out the sub-agents: then every agent is a root agent', () => {
    const flat = makeConstellation({ kind: 'app', now: NOW, subAgents: false });
    try {
      assert.deepEqual(sq(flat.dbPath, 'SELECT count(*) AS n, max(depth) AS d, count(parent_id) AS p FROM agents'), [{ n: 2, d: 0, p: 0 }]);
    } finally {
      flat.rm();
    }
    assert.ok(!fs.existsSync(flat.root));
  });
});

describe('Constellation fixture (shaal/ralph-cc d01fea1), example', function () {
  this.timeout(60_000);
  let fx: ConstellationFixture;
  before(() => {
    fx = makeConstellation({ kind: 'example', now: NOW });
  });
  after(() => fx?.rm());

  it('writes ISO timestamps and UUID v4 ids', () => {
    checkTimestamps(fx);
  });

  it('stores runCompleteExample\'s rows: the project never completed, the sub-agent still working', () => {
    const calc = fx.projects[0];
    assert.equal(calc.name, 'Build Calculator App');
    assert.equal(calc.settings, '{"maxIterations":50,"budget":10,"model":"claude-opus-4-5","tools":["bash","read","write","edit"]}');
    assert.deepEqual(sq(fx.dbPath, `SELECT status, cost_total, iteration_count, ended_at FROM projects WHERE id = '${calc.id}'`), [{ status: 'created', cost_total: 0.1, iteration_count: 2, ended_at: null }]);
    const agents = sq(fx.dbPath, `SELECT name, status, current_task, total_tokens, total_cost, iteration_count, depth FROM agents WHERE project_id = '${calc.id}' ORDER BY rowid`);
    assert.deepEqual(agents, [
      { name: 'Root Agent', status: 'completed', current_task: null, total_tokens: 350, total_cost: 0.05, iteration_count: 1, depth: 0 },
      { name: 'Testing Sub-Agent', status: 'working', current_task: 'Setting up project structure', total_tokens: 350, total_cost: 0.05, iteration_count: 1, depth: 1 },
    ]);
    const atomic = sq(fx.dbPath, "SELECT description, settings, status FROM projects WHERE name = 'Atomic Project'");
    assert.deepEqual(atomic, [{ description: null, settings: '{}', status: 'created' }]);
    assert.deepEqual(sq(fx.dbPath, "SELECT config FROM agents WHERE name = 'Atomic Agent'"), [{ config: '{}' }]);
    const events = sq(fx.dbPath, `SELECT type, agent_id IS NULL AS noAgent, data FROM events WHERE project_id IN ('${calc.id}', '${fx.projects[1].id}') ORDER BY rowid`);
    assert.deepEqual(events.map((e) => e.type), ['project_created', 'agent_progress', 'subagent_spawned', 'agent_progress', 'project_created']);
    assert.equal(events[4].data, null, 'an event without data stores NULL, not {}');
    assert.match(String(events[0].data), /^\{"timestamp":\d{13},"user":"system"\}$/);
    const files = sq(fx.dbPath, `SELECT path, previous_content, checksum FROM outputs WHERE project_id = '${calc.id}'`);
    assert.deepEqual(files, [{ path: '/calculator/src/App.tsx', previous_content: null, checksum: 'abc123...' }, { path: '/calculator/src/App.tsx', previous_content: null, checksum: 'abc123...' }]);
  });

  it('stores every message as described: tool_calls / tool_results / usage JSON text or NULL', () => {
    const rows = sq(fx.dbPath, 'SELECT * FROM agent_history ORDER BY rowid');
    assert.deepEqual(rows, fx.messages.map((m) => ({ id: m.id, agent_id: m.agentId, role: m.role, content: m.content, tool_calls: m.toolCalls, tool_results: m.toolResults, usage: m.usage, cost: m.cost, created_at: m.createdAt })));
    const assistants = fx.messages.filter((m) => m.role === 'assistant');
    assert.ok(assistants.some((m) => m.toolCalls === '[]'), 'tool_calls [] is truthy: stored as "[]"');
    assert.ok(assistants.some((m) => m.toolCalls === null), 'no tool_calls: NULL');
    for (const m of fx.messages.filter((x) => x.role === 'tool')) {
      assert.equal(m.toolCalls, null);
      const results = JSON.parse(m.toolResults!) as { type: string }[];
      assert.equal(results[0].type, 'tool_result');
    }
    const first = JSON.parse(assistants[0].toolCalls!) as { type: string; name: string; input: unknown }[];
    assert.deepEqual(first, [{ type: 'tool_use', name: 'bash', input: { command: 'npx create-react-app calculator --template typescript' } }]);
    assert.deepEqual(JSON.parse(assistants[0].usage!), { input_tokens: 150, output_tokens: 200 });
    assert.ok(fx.messages.some((m) => m.role === 'user' && m.content!.includes(HOSTILE_TEXT)));
    assert.ok(fx.messages.some((m) => m.role === 'tool' && m.toolResults!.includes(HOSTILE_TEXT)), 'JSON.stringify leaves < and > as they are');
    assert.ok(fx.messages.some((m) => m.role === 'assistant' && m.content!.includes('<script>alert("x")</script>')));
  });

  it('describes iterations: an assistant message, the tool messages right after it, its outputs', () => {
    const weather = fx.projects.find((p) => p.name === 'Weather widget')!;
    const its = fx.iterations.filter((i) => i.projectId === weather.id);
    assert.deepEqual(its.map((i) => [i.index, i.tools.length, i.outputs.map((o) => o.type)]), [[1, 2, ['file', 'file']], [2, 3, ['file', 'file', 'log']], [3, 0, []], [4, 0, ['artifact']]]);
    const order = sq(fx.dbPath, `SELECT id FROM agent_history WHERE agent_id = '${its[0].agentId}' ORDER BY created_at, rowid`).map((r) => r.id);
    for (const it of its) {
      const at = order.indexOf(it.assistant.id);
      assert.deepEqual(order.slice(at + 1, at + 1 + it.tools.length), it.tools.map((t) => t.id));
      const calls = it.assistant.toolCalls === null ? [] : (JSON.parse(it.assistant.toolCalls) as { id: string }[]);
      assert.equal(calls.length, it.tools.length);
      it.tools.forEach((t, k) => assert.equal((JSON.parse(t.toolResults!) as { tool_use_id: string }[])[0].tool_use_id, calls[k].id));
      assert.ok(it.events.some((e) => e.type === 'agent_progress'));
    }
    const agent = sq(fx.dbPath, `SELECT total_tokens, total_cost, iteration_count, status FROM agents WHERE id = '${its[0].agentId}'`)[0];
    assert.equal(agent.total_tokens, its.reduce((s, i) => s + i.tokens, 0));
    assert.equal(agent.total_cost, its.reduce((s, i) => s + i.cost!, 0));
    assert.equal(agent.iteration_count, 4);
    assert.equal(agent.status, 'completed');
    const p = sq(fx.dbPath, `SELECT status, cost_total, iteration_count, ended_at, updated_at FROM projects WHERE id = '${weather.id}'`)[0];
    assert.deepEqual(p, { status: 'completed', cost_total: weather.costTotal, iteration_count: 4, ended_at: weather.endedAt, updated_at: weather.endedAt });
    assert.ok(weather.description!.includes(HOSTILE_TEXT));
  });

  it('stores outputs as described: previous_content is the path\'s prior content; a log and an artifact', () => {
    const rows = sq(fx.dbPath, 'SELECT * FROM outputs ORDER BY rowid');
    assert.deepEqual(rows, fx.outputs.map((o) => ({ id: o.id, project_id: o.projectId, agent_id: o.agentId, type: o.type, path: o.path, content: o.content, previous_content: o.previousContent, checksum: o.checksum, created_at: o.createdAt })));
    const diffs = fx.outputs.filter((o) => o.previousContent !== null);
    assert.equal(diffs.length, 2);
    for (const d of diffs) {
      const prior = fx.outputs.filter((o) => o.path === d.path && o.createdAt < d.createdAt).pop()!;
      assert.equal(d.previousContent, prior.content);
      assert.notEqual(d.content, prior.content);
    }
    assert.equal(fx.outputs.filter((o) => o.type === 'log').length, 1);
    const artifact = fx.outputs.find((o) => o.type === 'artifact')!;
    assert.ok(artifact.content!.includes(HOSTILE_TEXT));
    const events = sq(fx.dbPath, 'SELECT * FROM events ORDER BY rowid');
    assert.deepEqual(events, fx.events.map((e) => ({ id: e.id, project_id: e.projectId, agent_id: e.agentId, type: e.type, data: e.data, created_at: e.createdAt })));
    assert.equal(fx.events[fx.events.length - 1].type, 'project_completed');
  });

  it('is deterministic given now', () => {
    const again = makeConstellation({ kind: 'example', now: NOW });
    try {
      assert.equal(dump(again.dbPath), dump(fx.dbPath));
      assert.deepEqual(again.iterations, fx.iterations);
    } finally {
      again.rm();
    }
    assert.ok(!fs.existsSync(again.root), 'temp folder removed');
  });
});

describe('Constellation fixture, deleteProject: a project deleted with foreign keys off', function () {
  this.timeout(60_000);
  for (const kind of ['app', 'example'] as const) {
    it(`${kind}: the project row is gone, its agents and other rows stay`, () => {
      const fx = makeConstellation({ kind, now: NOW, deleteProject: true });
      try {
        assert.equal(fx.deletedProjects.length, 1);
        const [gone] = fx.deletedProjects;
        assert.deepEqual(sq(fx.dbPath, `SELECT id FROM projects WHERE id = '${gone.id}'`), []);
        assert.deepEqual(sq(fx.dbPath, 'SELECT id FROM projects ORDER BY rowid').map((r) => r.id), fx.projects.map((p) => p.id));
        assert.ok(!fx.projects.some((p) => p.id === gone.id));
        const orphans = fx.agents.filter((a) => a.projectId === gone.id);
        assert.ok(orphans.length >= 2, 'a root agent and its sub-agents');
        assert.equal(Number(sq(fx.dbPath, 'SELECT count(*) AS n FROM agents')[0].n), fx.agents.length, 'no agent was cascaded away');
        const check = sq(fx.dbPath, 'PRAGMA foreign_key_check');
        assert.deepEqual(check.filter((r) => r.table === 'agents').map((r) => r.parent), orphans.map(() => 'projects'));
        assert.deepEqual(sq(fx.dbPath, "SELECT rowid AS rid FROM pragma_foreign_key_check('agents')").length, orphans.length);
        const left = fx.outputs.filter((x) => x.projectId === gone.id).length + fx.events.filter((x) => x.projectId === gone.id).length;
        assert.equal(check.filter((r) => r.table === 'outputs' || r.table === 'events').length, left);
        if (kind === 'example') assert.ok(left > 0 && fx.messages.some((m) => orphans.some((a) => a.id === m.agentId)), 'messages, outputs and events stay');
      } finally {
        fx.rm();
      }
    });
  }

  it('deletes nothing by default', () => {
    const fx = makeConstellation({ kind: 'example', now: NOW });
    try {
      assert.deepEqual(fx.deletedProjects, []);
      assert.deepEqual(sq(fx.dbPath, 'PRAGMA foreign_key_check'), []);
    } finally {
      fx.rm();
    }
  });
});

describe('Constellation fixture, live: the newest rows only in the -wal file', function () {
  this.timeout(60_000);
  for (const kind of ['app', 'example'] as const) {
    it(`${kind}: WAL rows are visible with -wal, absent from constellation.db alone`, () => {
      const fx = makeConstellation({ kind, live: true, now: NOW });
      const alone = fs.mkdtempSync(path.join(os.tmpdir(), 'constellation-main-only-'));
      try {
        assert.deepEqual(fs.readdirSync(fx.dir).sort(), ['constellation.db', 'constellation.db-shm', 'constellation.db-wal']);
        assert.ok(fs.statSync(fx.walPath).size > 32, 'the -wal file holds frames');
        assert.ok(!fs.existsSync(path.join(fx.root, 'writer')), 'the writer\'s own folder is gone');
        const wal = fx.walOnly!;
        const walIds = [...wal.projects, ...wal.agents, ...wal.messages, ...wal.outputs, ...wal.events];
        assert.ok(walIds.length >= 2, 'some rows are only in the WAL');

        // The main file alone, in a folder of its own (copied before any connection could checkpoint).
        const mainOnly = path.join(alone, 'constellation.db');
        fs.copyFileSync(fx.dbPath, mainOnly);
        const counts = (db: string) => Object.fromEntries(['projects', 'agents', 'agent_history', 'outputs', 'events', '_migrations'].map((t) => [t, Number(sq(db, `SELECT count(*) AS n FROM ${t}`)[0].n)]));
        assert.deepEqual(counts(mainOnly), fx.mainFile!.counts);
        const idsIn = (db: string) => new Set(TABLES.flatMap((t) => sq(db, `SELECT id FROM ${t}`).map((r) => String(r.id))));
        const mainIds = idsIn(mainOnly);
        for (const id of walIds) assert.ok(!mainIds.has(id), `${id} absent from the main file alone`);
        const mainProjects = sq(mainOnly, 'SELECT id, status, cost_total, iteration_count, updated_at, ended_at FROM projects ORDER BY rowid');
        assert.deepEqual(mainProjects, fx.mainFile!.projects.map((p) => ({ id: p.id, status: p.status, cost_total: p.costTotal, iteration_count: p.iterationCount, updated_at: p.updatedAt, ended_at: p.endedAt })));

        // With its -wal (read-only: a read-write close would checkpoint it), everything is there.
        const liveIds = idsIn(fx.dbPath);
        for (const id of walIds) assert.ok(liveIds.has(id), `${id} visible through the WAL`);
        assert.deepEqual(counts(fx.dbPath), { projects: fx.projects.length, agents: fx.agents.length, agent_history: fx.messages.length, outputs: fx.outputs.length, events: fx.events.length, _migrations: 1 });
        const liveProjects = sq(fx.dbPath, 'SELECT id, status, cost_total, updated_at FROM projects ORDER BY rowid');
        assert.deepEqual(liveProjects, fx.projects.map((p) => ({ id: p.id, status: p.status, cost_total: p.costTotal, updated_at: p.updatedAt })));
        assert.deepEqual(sq(fx.dbPath, 'PRAGMA journal_mode'), [{ journal_mode: 'wal' }]);
        assert.ok(fs.existsSync(fx.walPath), 'the read-only look left the -wal in place');
        if (kind === 'example') {
          const weather = fx.projects.find((p) => p.name === 'Weather widget')!;
          assert.equal(fx.mainFile!.projects.find((p) => p.id === weather.id)!.status, 'running', 'the main file alone still shows the project running');
          assert.equal(weather.status, 'completed');
        }
      } finally {
        fs.rmSync(alone, { recursive: true, force: true });
        fx.rm();
      }
      assert.ok(!fs.existsSync(fx.root), 'temp folder removed');
    });
  }

  it('is deterministic given now', () => {
    const a = makeConstellation({ kind: 'app', live: true, now: NOW });
    const b = makeConstellation({ kind: 'app', live: true, now: NOW });
    try {
      assert.equal(dump(a.dbPath), dump(b.dbPath));
      assert.deepEqual(a.walOnly, b.walOnly);
    } finally {
      a.rm();
      b.rm();
    }
  });
});
