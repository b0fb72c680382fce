import { strict as assert } from 'node:assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { dateTime } from '../../../src/core/figures';
import { constellationAdapter, DETAIL_CAP, NO_PROJECT_LABEL, NO_PROJECT_REF, TEXT_CAP } from '../../../src/core/sources/constellation';
import { openSnapshot, schemaShape, sqlReader } from '../../../src/core/sources/snapshot';
import type { DetailSection, HistoryNode, HistorySource, SchemaShape } from '../../../src/core/sources/types';
import { CONSTELLATION_SCHEMA, HOSTILE_TEXT, makeConstellation, type ConstellationFixture, type ConstellationIteration } from '../../fixtures/constellation';
import { makeLaforgeToday } from '../../fixtures/laforgeToday';
import { makeLlmOrchestration } from '../../fixtures/llmOrchestration';
import { makeStudioDocumented } from '../../fixtures/studio';

const NOW = new Date('2026-11-20T17:00:00.000Z');

interface Opened {
  source: HistorySource;
  shape: SchemaShape;
  close(): void;
}

async function openDb(dbPath: string): Promise<Opened> {
  const snap = await openSnapshot(dbPath);
  const shape = schemaShape(snap.db, dbPath);
  const reader = sqlReader(snap.db, dbPath);
  const detection = constellationAdapter.detect(shape);
  assert.ok(detection, `${dbPath} detected as Constellation`);
  return { source: constellationAdapter.open(reader, detection, { path: dbPath }), shape, close: () => reader.close() };
}

async function shapeOf(dbPath: string): Promise<SchemaShape> {
  const snap = await openSnapshot(dbPath);
  try {
    return schemaShape(snap.db, dbPath);
  } finally {
    snap.db.close();
  }
}

/** Runs SQL statements on a new file with python3's sqlite3. */
function writeDb(dbPath: string, script: string, rows: { sql: string; params: (string | number | null)[] }[] = []): void {
  const py = String.raw`
import json, sqlite3, sys
job = json.load(sys.stdin)
c = sqlite3.connect(job["db"], isolation_level=None)
c.executescript(job["script"])
for r in job["rows"]:
    c.execute(r["sql"], r["params"])
c.close()
`;
  execFileSync('python3', ['-c', py], { input: JSON.stringify({ db: dbPath, script, rows }), stdio: ['pipe', 'pipe', 'pipe'] });
}

const section = <K extends DetailSection['kind']>(sections: DetailSection[], kind: K, title?: string): Extract<DetailSection, { kind: K }> | undefined =>
  sections.find((s) => s.kind === kind && (title === undefined || s.title === title)) as Extract<DetailSection, { kind: K }> | undefined;

const newestFirst = <T extends { updatedAt: string | null; createdAt: string }>(rows: T[]): T[] =>
  [...rows].sort((a, b) => Date.parse(b.updatedAt ?? b.createdAt) - Date.parse(a.updatedAt ?? a.createdAt));

const firstLineOf = (s: string | null) => (s ?? '').split('\n').find((l) => l.trim() !== '')!.trim();
const approx = (a: number | null, b: number, what: string) => {
  assert.ok(a !== null, `${what} recorded`);
  assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} ≈ ${b}`);
};

function iterationsOf(fx: ConstellationFixture, agentId: string): ConstellationIteration[] {
  return fx.iterations.filter((i) => i.agentId === agentId);
}

describe('Constellation source: detect()', function () {
  this.timeout(120_000);
  const cleanup: (() => void)[] = [];
  after(() => cleanup.forEach((f) => f()));

  it('claims both kinds of Constellation file as written', async () => {
    for (const kind of ['app', 'example'] as const) {
      const fx = makeConstellation({ kind, now: NOW });
      cleanup.push(fx.rm);
      assert.deepEqual(constellationAdapter.detect(await shapeOf(fx.dbPath)), { system: 'constellation', variant: 'written' });
    }
  });

  it('does not claim a LaForge steps database, Studio or LLM Orchestration files', async () => {
    const lf = makeLaforgeToday({ now: NOW });
    cleanup.push(lf.rm);
    const laforge = await shapeOf(lf.dbPath);
    assert.ok(laforge.tables.has('steps'));
    assert.equal(constellationAdapter.detect(laforge), null);
    const studio = makeStudioDocumented({ now: NOW });
    cleanup.push(studio.rm);
    assert.equal(constellationAdapter.detect(await shapeOf(studio.dbPath)), null);
    const llmo = makeLlmOrchestration({ now: NOW });
    cleanup.push(() => fs.rmSync(llmo.root, { recursive: true, force: true }));
    assert.equal(constellationAdapter.detect(await shapeOf(llmo.dbPath)), null);
  });

  it('does not claim projects/agents tables of other columns, or an events table of another program', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'constellation-detect-'));
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const other = path.join(dir, 'other.db');
    writeDb(other, 'CREATE TABLE projects (id TEXT, name TEXT); CREATE TABLE agents (id TEXT, project_id TEXT);');
    assert.equal(constellationAdapter.detect(await shapeOf(other)), null);
    const snap = await openSnapshot(other);
    const reader = sqlReader(snap.db, other);
    try {
      assert.throws(() => constellationAdapter.open(reader, { system: 'constellation', variant: 'written' }, { path: other }), (e: Error & { code?: string }) => e.code === 'UNSUPPORTED_SCHEMA' && /projects table lacks/.test(e.message));
    } finally {
      reader.close();
    }
    const foreignEvents = path.join(dir, 'events.db');
    writeDb(foreignEvents, CONSTELLATION_SCHEMA.replace(/CREATE TABLE events \([\s\S]*?\);/, 'CREATE TABLE events (id INTEGER, what TEXT);').replace(/CREATE INDEX idx_events[^\n]*\n/g, ''));
    assert.equal(constellationAdapter.detect(await shapeOf(foreignEvents)), null);
    const core = path.join(dir, 'core.db');
    writeDb(core, CONSTELLATION_SCHEMA.split('-- Agent history table')[0]);
    assert.deepEqual(constellationAdapter.detect(await shapeOf(core)), { system: 'constellation', variant: 'written' }, 'agent_history, outputs and events are optional');
    const { source, close } = await openDb(core);
    try {
      assert.deepEqual(source.children(null), []);
      assert.equal(source.count(null), 0);
    } finally {
      close();
    }
  });
});

describe('Constellation source: what the app writes', function () {
  this.timeout(60_000);
  let fx: ConstellationFixture;
  let o: Opened;
  before(async () => {
    fx = makeConstellation({ kind: 'app', now: NOW });
    o = await openDb(fx.dbPath);
  });
  after(() => {
    o?.close();
    fx?.rm();
  });

  it('lists projects newest first, with their statuses and names as raw text', () => {
    const nodes = o.source.children(null);
    const expected = newestFirst(fx.projects);
    assert.deepEqual(nodes.map((n) => n.ref), expected.map((p) => `project:${p.id}`));
    assert.deepEqual(nodes.map((n) => n.label), expected.map((p) => p.name));
    assert.deepEqual(nodes.map((n) => n.rawStatus), expected.map((p) => p.status));
    const map: Record<string, string> = { created: 'pending', running: 'running', stopped: 'stopped' };
    assert.deepEqual(nodes.map((n) => n.status), expected.map((p) => map[p.status]));
    assert.ok(nodes.some((n) => n.label.includes(HOSTILE_TEXT)), 'the name is kept as raw text');
    assert.equal(o.source.count(null), fx.projects.length);
    for (const n of nodes) {
      assert.equal(n.level, 'project');
      assert.equal(n.isStep, false);
      assert.deepEqual(n.warnings, []);
      assert.deepEqual(o.source.node(n.ref), n);
    }
  });

  it('treats the counters the app never updates as not recorded: null, not $0', () => {
    for (const p of fx.projects) {
      const n = o.source.node(`project:${p.id}`)!;
      assert.equal(p.costTotal, 0);
      assert.equal(n.metrics.costUsd, null);
      assert.equal(n.metrics.tokens, null);
      assert.equal(n.metrics.model, p.settingsJson.model);
      assert.equal(n.metrics.start?.toISOString(), p.createdAt);
      assert.equal(n.metrics.end?.toISOString() ?? null, p.status === 'stopped' ? p.endedAt : null);
    }
    for (const a of fx.agents) {
      const n = o.source.node(`agent:${a.id}`)!;
      assert.deepEqual([a.totalTokens, a.totalCost], [0, 0]);
      assert.equal(n.metrics.costUsd, null);
      assert.equal(n.metrics.tokens, null);
      assert.equal(n.metrics.model, a.configJson.model);
    }
  });

  it('nests sub-agents under their parent by parent_id, newest first; a project without agents has no children', () => {
    for (const p of fx.projects) {
      const roots = fx.agents.filter((a) => a.projectId === p.id && a.parentId === null);
      const nodes = o.source.children(`project:${p.id}`);
      assert.deepEqual(nodes.map((n) => n.ref), newestFirst(roots.map((a) => ({ ...a, updatedAt: null }))).map((a) => `agent:${a.id}`));
      assert.equal(o.source.count(`project:${p.id}`), roots.length);
      assert.equal(o.source.node(`project:${p.id}`)!.hasChildren, roots.length > 0);
    }
    for (const a of fx.agents) {
      const subs = fx.agents.filter((x) => x.parentId === a.id);
      const nodes = o.source.children(`agent:${a.id}`);
      assert.deepEqual(nodes.map((n) => n.ref), newestFirst(subs.map((x) => ({ ...x, updatedAt: null }))).map((x) => `agent:${x.id}`));
      assert.equal(o.source.count(`agent:${a.id}`), subs.length, 'no messages: no iterations');
      const node = o.source.node(`agent:${a.id}`)!;
      assert.equal(node.label, a.name);
      assert.equal(node.rawStatus, a.status);
      assert.equal(node.hasChildren, subs.length > 0);
      assert.ok(node.description!.includes(a.parentId === null ? 'root agent' : `sub-agent, depth ${a.depth}`), node.description);
      assert.ok(node.description!.includes(a.status));
      assert.ok(node.description!.includes('no messages'));
    }
    const root = fx.agents[0];
    assert.equal(o.source.node(`agent:${root.id}`)!.status, 'paused');
  });

  it('says honestly that agents have no messages or events yet', () => {
    const a = fx.agents[0];
    const d = o.source.details(`agent:${a.id}`);
    assert.deepEqual(section(d, 'text', 'Messages'), { kind: 'text', title: 'Messages', text: 'No messages recorded yet.', format: 'plain' });
    assert.equal(section(d, 'text', 'Events')!.text, 'No events recorded yet.');
    const facts = section(d, 'facts', 'Agent')!.facts;
    const fact = (label: string) => facts.find((f) => f.label === label)?.value;
    assert.equal(fact('Id'), a.id);
    assert.equal(fact('Status'), `${a.status} (paused)`);
    assert.equal(fact('Model'), a.configJson.model);
    assert.equal(fact('Cost'), 'not recorded');
    // The one format of a time in details: the stored ISO text read and written as `YYYY-MM-DD HH:MM:SS UTC`.
    assert.equal(fact('Created'), dateTime(new Date(a.createdAt)));
    assert.match(fact('Created')!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    assert.equal(section(d, 'text', 'Config')!.text, JSON.stringify(a.configJson, null, 2));
    assert.equal(section(d, 'warnings'), undefined);
    const p = fx.projects[0];
    const pd = o.source.details(`project:${p.id}`);
    const pf = section(pd, 'facts', 'Project')!.facts;
    assert.ok(p.endedAt);
    assert.equal(pf.find((f) => f.label === 'Ended')!.value, dateTime(new Date(p.endedAt)));
    assert.equal(pf.find((f) => f.label === 'Agents')!.value, String(fx.agents.filter((x) => x.projectId === p.id).length));
    assert.equal(section(pd, 'text', 'Settings')!.text, JSON.stringify(p.settingsJson, null, 2));
    assert.equal(section(pd, 'text', 'Events')!.text, 'No events recorded yet.');
    assert.deepEqual(o.source.changes(`agent:${a.id}`), []);
  });
});

describe('Constellation source: the example script and a longer run', function () {
  this.timeout(60_000);
  let fx: ConstellationFixture;
  let o: Opened;
  before(async () => {
    fx = makeConstellation({ kind: 'example', now: NOW });
    o = await openDb(fx.dbPath);
  });
  after(() => {
    o?.close();
    fx?.rm();
  });

  it('lists projects newest first; totals from the messages when there are some', () => {
    const nodes = o.source.children(null);
    assert.deepEqual(nodes.map((n) => n.ref), newestFirst(fx.projects).map((p) => `project:${p.id}`));
    for (const p of fx.projects) {
      const n = o.source.node(`project:${p.id}`)!;
      const its = fx.iterations.filter((i) => i.projectId === p.id);
      if (its.length === 0) {
        assert.equal(n.metrics.costUsd, null, `${p.name}: no messages, counter ${p.costTotal}`);
        assert.equal(n.metrics.tokens, null);
        continue;
      }
      approx(n.metrics.costUsd, its.reduce((s, i) => s + (i.cost ?? 0), 0), `${p.name} cost`);
      approx(n.metrics.costUsd, p.costTotal, `${p.name} cost against cost_total`);
      assert.equal(n.metrics.tokens!.total, its.reduce((s, i) => s + i.tokens, 0));
      const usage = its.map((i) => JSON.parse(i.assistant.usage!) as { input_tokens: number; output_tokens: number });
      assert.equal(n.metrics.tokens!.prompt, usage.reduce((s, u) => s + u.input_tokens, 0));
      assert.equal(n.metrics.tokens!.completion, usage.reduce((s, u) => s + u.output_tokens, 0));
      assert.ok(n.description!.includes(`${its.length} iteration`));
    }
    const weather = fx.projects.find((p) => p.name === 'Weather widget')!;
    const wn = o.source.node(`project:${weather.id}`)!;
    assert.equal(wn.status, 'completed');
    assert.equal(wn.metrics.end!.toISOString(), weather.endedAt);
    assert.equal(wn.metrics.durationMs, Date.parse(weather.endedAt!) - Date.parse(weather.createdAt));
  });

  it('lists an agent\'s sub-agents, then its iterations, and agent totals match the counters the script kept', () => {
    for (const a of fx.agents) {
      const subs = fx.agents.filter((x) => x.parentId === a.id);
      const its = iterationsOf(fx, a.id);
      const nodes = o.source.children(`agent:${a.id}`);
      assert.deepEqual(nodes.map((n) => n.ref), [...subs.map((x) => `agent:${x.id}`), ...its.map((i) => `iteration:${i.assistant.id}`)]);
      assert.equal(o.source.count(`agent:${a.id}`), subs.length + its.length);
      const n = o.source.node(`agent:${a.id}`)!;
      if (its.length) {
        assert.equal(n.metrics.tokens!.total, a.totalTokens, `${a.name}: the sum of its calls is what the script counted`);
        approx(n.metrics.costUsd, a.totalCost, `${a.name} cost`);
        assert.ok(n.description!.includes(`${fx.messages.filter((m) => m.agentId === a.id).length} message`));
      } else {
        assert.equal(n.metrics.tokens, null);
        assert.equal(n.metrics.costUsd, null);
      }
    }
  });

  it('makes each iteration a step: #n and the first line of the assistant text, its tool messages, tokens, cost', () => {
    assert.ok(fx.iterations.length >= 5);
    for (const it of fx.iterations) {
      const n = o.source.node(`iteration:${it.assistant.id}`)!;
      assert.equal(n.level, 'iteration');
      assert.equal(n.isStep, true);
      assert.equal(n.hasChildren, false);
      assert.equal(n.label, `#${it.index} ${firstLineOf(it.assistant.content)}`);
      assert.equal(n.metrics.tokens!.total, it.tokens);
      approx(n.metrics.costUsd, it.cost!, 'iteration cost');
      assert.equal(n.metrics.start!.toISOString(), it.assistant.createdAt);
      const lastTime = [...it.tools.map((t) => t.createdAt), ...it.outputs.map((x) => x.createdAt)].sort().pop() ?? null;
      assert.equal(n.metrics.end?.toISOString() ?? null, lastTime);
      assert.equal(n.metrics.model, fx.agents.find((a) => a.id === it.agentId)!.configJson.model);
      const agent = fx.agents.find((a) => a.id === it.agentId)!;
      const isLast = it.index === iterationsOf(fx, it.agentId).length;
      assert.equal(n.status, isLast && agent.status === 'working' ? 'running' : 'completed', 'the last iteration of a working agent is running');
      assert.deepEqual(n.warnings, []);
      const d = o.source.details(n.ref);
      const msgs = section(d, 'messages', 'Messages')!.messages;
      assert.deepEqual(msgs.map((m) => m.role), ['assistant', ...it.tools.map(() => 'tool')]);
      assert.deepEqual(msgs.map((m) => m.text), [it.assistant.content, ...it.tools.map((t) => t.content)]);
      const calls = msgs[0].extras?.find((e) => e.label === 'Tool calls');
      assert.equal(calls?.text ?? null, it.assistant.toolCalls === null ? null : JSON.stringify(JSON.parse(it.assistant.toolCalls), null, 2));
      it.tools.forEach((t, k) => assert.equal(msgs[k + 1].extras!.find((e) => e.label === 'Tool results')!.text, JSON.stringify(JSON.parse(t.toolResults!), null, 2)));
      assert.equal(msgs[0].costUsd, it.assistant.cost);
      assert.deepEqual(msgs[0].tokens, { prompt: JSON.parse(it.assistant.usage!).input_tokens, completion: JSON.parse(it.assistant.usage!).output_tokens, total: it.tokens });
      const facts = section(d, 'facts', 'Iteration')!.facts;
      assert.equal(facts.find((f) => f.label === 'Iteration')!.value, `#${it.index}`);
      assert.equal(facts.find((f) => f.label === 'Tool results')!.value, String(it.tools.length));
      // The agent's events from its assistant message to the next one (the last iteration: to the end).
      const next = iterationsOf(fx, it.agentId).find((x) => x.index === it.index + 1)?.assistant.createdAt ?? '9999';
      const window = fx.events.filter((e) => e.agentId === it.agentId && e.createdAt >= it.assistant.createdAt && e.createdAt < next);
      const tl = section(d, 'timeline', 'Events');
      assert.deepEqual(tl?.events.map((e) => e.label), window.map((e) => e.type));
      for (const e of it.events) assert.ok(window.includes(e), 'the events the fixture binds to the iteration are in its window');
    }
    assert.ok(fx.iterations.some((i) => i.assistant.content!.includes('<script>')), 'HTML in the assistant text');
    assert.ok(fx.agents.some((a) => a.status === 'working' && iterationsOf(fx, a.id).length > 0), 'a running iteration is among them');
    const hostile = fx.iterations.find((i) => i.assistant.content!.includes(HOSTILE_TEXT))!;
    assert.ok(o.source.node(`iteration:${hostile.assistant.id}`)!.label.includes(HOSTILE_TEXT), 'kept raw: the views escape it');
  });

  it('opens an iteration to the outputs written in its window: before = previous_content, after = content', () => {
    for (const it of fx.iterations) {
      const changes = o.source.changes(`iteration:${it.assistant.id}`);
      assert.deepEqual(changes.map((c) => c.id), it.outputs.map((x) => `output:${x.id}`));
      it.outputs.forEach((out, k) => {
        const c = changes[k];
        assert.equal(c.path, out.path);
        assert.equal(c.label, out.type === 'file' ? out.path : `${out.path} (${out.type})`);
        assert.equal(c.status, out.previousContent === null ? 'added' : 'modified');
        assert.equal(c.before === null ? null : o.source.text(c.before), out.previousContent);
        assert.equal(o.source.text(c.after!), out.content);
      });
    }
    const types = fx.iterations.flatMap((i) => i.outputs.map((x) => x.type));
    assert.ok(types.includes('file') && types.includes('log') && types.includes('artifact'));
    assert.ok(fx.iterations.some((i) => i.outputs.some((x) => x.previousContent !== null)));
    assert.equal(o.source.text('output:no-such-id:after'), null);
    assert.equal(o.source.text('nonsense'), null);
  });

  it('shows the messages before the first iteration, the events and the outputs of project and agent', () => {
    const calc = fx.projects[0];
    const root = fx.agents.find((a) => a.projectId === calc.id && a.parentId === null)!;
    const d = o.source.details(`agent:${root.id}`);
    const firstIt = iterationsOf(fx, root.id)[0];
    const prompt = fx.messages.filter((m) => m.agentId === root.id && m.createdAt < firstIt.assistant.createdAt);
    const msgs = section(d, 'messages', 'Messages before the first iteration')!.messages;
    assert.deepEqual(msgs.map((m) => [m.role, m.text]), prompt.map((m) => [m.role, m.content]));
    assert.deepEqual(msgs[0].tokens, { prompt: 10, completion: 0, total: 10 });
    const agentEvents = fx.events.filter((e) => e.agentId === root.id);
    assert.deepEqual(section(d, 'timeline', 'Events')!.events.map((e) => [e.label, e.time?.toISOString(), e.detail]), agentEvents.map((e) => [e.type, e.createdAt, e.data === null ? undefined : JSON.stringify(JSON.parse(e.data), null, 2)]));
    const pd = o.source.details(`project:${calc.id}`);
    assert.deepEqual(section(pd, 'timeline', 'Events')!.events.map((e) => e.label), fx.events.filter((e) => e.projectId === calc.id).map((e) => e.type));
    const atomic = fx.projects[1];
    const ad = o.source.details(`project:${atomic.id}`);
    const ev = section(ad, 'timeline', 'Events')!.events;
    assert.deepEqual(ev.map((e) => [e.label, e.detail]), [['project_created', undefined]], 'an event without data');
    const atomicAgent = fx.agents.find((a) => a.projectId === atomic.id)!;
    assert.equal(section(o.source.details(`agent:${atomicAgent.id}`), 'text', 'Messages')!.text, 'No messages recorded yet.');
    const weather = fx.projects.find((p) => p.name === 'Weather widget')!;
    const wf = section(o.source.details(`project:${weather.id}`), 'facts', 'Project')!.facts;
    assert.equal(wf.find((f) => f.label === 'Description')!.value, weather.description);
  });

  it('pages with offset and limit, across the sub-agents and the iterations', () => {
    const all = o.source.children(null);
    for (let off = 0; off <= all.length; off++) {
      assert.deepEqual(o.source.children(null, { offset: off, limit: 1 }), all.slice(off, off + 1));
    }
    assert.deepEqual(o.source.children(null, { limit: 0 }), []);
    for (const a of fx.agents) {
      const full = o.source.children(`agent:${a.id}`);
      for (let off = 0; off <= full.length; off++) {
        for (const limit of [1, 2, 3]) {
          assert.deepEqual(o.source.children(`agent:${a.id}`, { offset: off, limit }).map((n) => n.ref), full.slice(off, off + limit).map((n) => n.ref));
        }
      }
    }
    const weatherAgent = fx.agents.find((a) => a.name === 'Root Agent' && fx.projects.find((p) => p.id === a.projectId)!.name === 'Weather widget')!;
    const page: HistoryNode[] = o.source.children(`agent:${weatherAgent.id}`, { offset: 2, limit: 2 });
    assert.deepEqual(page.map((n) => n.label.split(' ')[0]), ['#3', '#4'], 'the numbers count from the agent\'s first iteration');
    assert.deepEqual(page, page.map((n) => o.source.node(n.ref)));
  });
});

describe('Constellation source: live, the newest rows only in the -wal', function () {
  this.timeout(60_000);
  for (const kind of ['app', 'example'] as const) {
    it(`${kind}: reading through the snapshot shows the WAL rows`, async () => {
      const fx = makeConstellation({ kind, live: true, now: NOW });
      const o = await openDb(fx.dbPath);
      try {
        const wal = fx.walOnly!;
        assert.ok(wal.projects.length + wal.agents.length + wal.messages.length > 0);
        const top = o.source.children(null).map((n) => n.ref);
        for (const id of wal.projects) assert.ok(top.includes(`project:${id}`));
        assert.equal(o.source.count(null), fx.projects.length);
        for (const id of wal.agents) assert.equal(o.source.node(`agent:${id}`)!.label, fx.agents.find((a) => a.id === id)!.name);
        for (const p of fx.projects) assert.equal(o.source.node(`project:${p.id}`)!.rawStatus, p.status, 'the status as the WAL has it');
        for (const it of fx.iterations.filter((i) => wal.messages.includes(i.assistant.id))) {
          assert.equal(o.source.node(`iteration:${it.assistant.id}`)!.label, `#${it.index} ${firstLineOf(it.assistant.content)}`);
          assert.deepEqual(o.source.changes(`iteration:${it.assistant.id}`).map((c) => c.id), it.outputs.map((x) => `output:${x.id}`));
        }
        assert.ok(fs.existsSync(fx.walPath), 'the -wal is left in place');
      } finally {
        o.close();
        fx.rm();
      }
    });
  }
});

describe('Constellation source: hostile rows', function () {
  this.timeout(60_000);
  let dir: string;
  let o: Opened;
  const big = 'x'.repeat(TEXT_CAP + 10);
  const control = 'bell\u0007 nul-free \u001b[31mred\u001b[0m <b>bold</b>';
  const t0 = Date.parse('2026-11-20T10:00:00.000Z');
  const iso = (ms: number) => new Date(ms).toISOString();

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'constellation-hostile-'));
    const dbPath = path.join(dir, 'constellation.db');
    // The schema without its CHECK constraints, as a file written by another program.
    const schema = CONSTELLATION_SCHEMA.replace(/ CHECK \([^()]*\([^()]*\)\)/g, '');
    const ins = (table: string, row: Record<string, string | number | null>) => ({
      sql: `INSERT INTO ${table} (${Object.keys(row).join(', ')}) VALUES (${Object.keys(row).map(() => '?').join(', ')})`, params: Object.values(row),
    });
    writeDb(dbPath, schema, [
      ins('projects', { id: 'p1', name: control, status: 'exploded', prompt_path: '/p.md', settings: '{broken', cost_total: 'lots', created_at: iso(t0), updated_at: 'yesterday-ish' }),
      ins('projects', { id: 'p2', name: 'Numbers for times', status: 'running', prompt_path: '/q.md', settings: '[1,2]', created_at: Math.floor(t0 / 1000) - 60 }),
      ins('agents', { id: 'a1', project_id: 'p1', name: 'Loose agent', status: 'running', config: 'not json', total_tokens: 700, total_cost: 0, created_at: iso(t0) }),
      ins('agents', { id: 'c1', project_id: 'p1', parent_id: 'c2', name: 'Loop one', status: 'idle', config: '{}', created_at: iso(t0 + 1) }),
      ins('agents', { id: 'c2', project_id: 'p1', parent_id: 'c1', name: 'Loop two', status: 'idle', config: '{}', created_at: iso(t0 + 2) }),
      ins('agents', { id: 'd1', project_id: 'p1', parent_id: 'nobody', name: 'Dangling', status: 'idle', config: '{}', created_at: iso(t0 + 3) }),
      ins('agent_history', { id: 'm1', agent_id: 'a1', role: 'assistant', content: `First line ${HOSTILE_TEXT}\n${big}`, tool_calls: '[unterminated', usage: '{bad', cost: 'free', created_at: iso(t0 + 1000) }),
      ins('agent_history', { id: 'm2', agent_id: 'a1', role: 'tool', content: control, tool_results: '{"ok":', created_at: iso(t0 + 1500) }),
      ins('agent_history', { id: 'm3', agent_id: 'a1', role: 'assistant', content: 'Second', usage: '{"input_tokens":"12","output_tokens":5}', cost: 0.25, created_at: iso(t0 + 2000) }),
      ins('agent_history', { id: 'm4', agent_id: 'a1', role: 'assistant', content: 'Timeless', created_at: 'not a time' }),
      ins('agent_history', { id: 'm5', agent_id: 'a1', role: 'wizard', content: 'odd role', created_at: iso(t0 + 2500) }),
      // Outputs: one at the first message's time, one tied with the second, one huge, one with no time.
      ins('outputs', { id: 'o1', project_id: 'p1', agent_id: 'a1', type: 'file', path: '/a.txt', content: 'A', created_at: iso(t0 + 1000) }),
      ins('outputs', { id: 'o2', project_id: 'p1', agent_id: 'a1', type: 'file', path: '/a.txt', content: 'B', previous_content: 'A', created_at: iso(t0 + 2000) }),
      ins('outputs', { id: 'o3', project_id: 'p1', agent_id: 'a1', type: 'log', path: '/big.log', content: big, created_at: iso(t0 + 1200) }),
      ins('outputs', { id: 'o4', project_id: 'p1', agent_id: 'a1', type: 'file', path: '/gone.txt', previous_content: 'old', created_at: iso(t0 + 2100) }),
      ins('outputs', { id: 'o5', project_id: 'p1', agent_id: 'a1', type: 'strange', path: '/when.txt', content: 'w', created_at: 'never' }),
      ins('outputs', { id: 'o6', project_id: 'p1', agent_id: null, type: 'artifact', path: '/orphan.md', content: 'o', created_at: iso(t0) }),
      ins('events', { id: 'e1', project_id: 'p1', agent_id: 'a1', type: 'agent_progress', data: '{nope', created_at: iso(t0 + 1100) }),
    ]);
    o = await openDb(dbPath);
  });
  after(() => {
    o?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('turns wrong types, broken JSON and unknown statuses into warnings, never exceptions', () => {
    const [p2, p1] = [o.source.node('project:p2')!, o.source.node('project:p1')!];
    assert.equal(p1.label, control, 'control characters and HTML kept as raw text');
    assert.equal(p1.status, 'unknown');
    assert.equal(p1.rawStatus, 'exploded');
    assert.ok(p1.warnings.some((w) => w.includes('settings is not valid JSON')));
    assert.ok(p1.warnings.some((w) => w.includes('cost_total holds text')));
    assert.ok(p1.warnings.some((w) => w.includes('updated_at "yesterday-ish" is not a time')));
    assert.equal(p1.metrics.costUsd, 0.25, 'the one numeric message cost');
    assert.equal(p2.metrics.start!.getTime(), Math.floor(t0 / 1000) * 1000 - 60_000, 'a number is Unix seconds');
    assert.ok(p2.warnings.some((w) => w.includes('settings is JSON array')));
    const a1 = o.source.node('agent:a1')!;
    assert.equal(a1.status, 'running', 'running is outside the CHECK list, shown as running');
    assert.ok(a1.warnings.some((w) => w.includes('not one of Constellation\'s agent statuses')));
    assert.ok(a1.warnings.some((w) => w.includes('config is not valid JSON')));
    assert.ok(a1.warnings.some((w) => w.includes('1 message(s) have usage that is not JSON')));
    assert.deepEqual(a1.metrics.tokens, { prompt: null, completion: 5, total: 5 }, 'input_tokens as a string is not counted');
    for (const ref of ['project:p1', 'project:p2', 'agent:a1', 'agent:c1', 'agent:d1', 'iteration:m1', 'iteration:m3', 'iteration:m4']) {
      assert.ok(o.source.node(ref), ref);
      assert.ok(o.source.details(ref).length > 0, ref);
    }
  });

  it('cuts parent loops and dangling parents: such agents are root agents, with a warning', () => {
    const roots = o.source.children('project:p1').map((n) => n.ref);
    assert.deepEqual(roots, ['agent:d1', 'agent:c2', 'agent:c1', 'agent:a1']);
    assert.ok(o.source.node('agent:c1')!.warnings.some((w) => w.includes('loops')));
    assert.ok(o.source.node('agent:d1')!.warnings.some((w) => w.includes('"nobody" is not an agent of this project')));
    assert.deepEqual(o.source.children('agent:c1'), []);
  });

  it('orders iterations by time then rowid, a timeless message last; binds tied outputs to the later iteration', () => {
    const its = o.source.children('agent:a1');
    assert.deepEqual(its.map((n) => n.ref), ['iteration:m1', 'iteration:m3', 'iteration:m4']);
    assert.equal(its[0].label, `#1 First line ${HOSTILE_TEXT}`);
    assert.ok(its[0].warnings.some((w) => w.includes('usage is not valid JSON')));
    assert.ok(its[0].warnings.some((w) => w.includes('cost holds text')));
    assert.ok(its[0].warnings.some((w) => w.includes('tool_calls is not valid JSON')));
    assert.ok(its[0].warnings.some((w) => w.includes('tool_results is not valid JSON')));
    assert.ok(its[1].warnings.some((w) => w.includes('role "wizard"')));
    assert.ok(its[2].warnings.some((w) => w.includes('"not a time" is not a time')));
    assert.equal(its[2].metrics.start, null);
    assert.equal(its[2].status, 'running', 'the last iteration of a running agent');
    assert.deepEqual(o.source.changes('iteration:m1').map((c) => [c.id, c.status]), [['output:o1', 'added'], ['output:o3', 'added']]);
    assert.deepEqual(o.source.changes('iteration:m3').map((c) => [c.id, c.status, c.label]), [['output:o2', 'modified', '/a.txt'], ['output:o4', 'deleted', '/gone.txt']]);
    assert.deepEqual(o.source.changes('iteration:m4'), []);
    const agentDetails = o.source.details('agent:a1');
    assert.deepEqual(section(agentDetails, 'facts', 'Outputs outside any iteration')!.facts.map((f) => f.label), ['/when.txt']);
    assert.deepEqual(section(o.source.details('project:p1'), 'facts', 'Outputs without an agent')!.facts.map((f) => f.label), ['/orphan.md']);
    assert.equal(o.source.count('agent:a1'), 3);
  });

  it('caps huge texts with a note, in text() and in details', () => {
    const log = o.source.changes('iteration:m1').find((c) => c.id === 'output:o3')!;
    const text = o.source.text(log.after!)!;
    assert.ok(text.startsWith('x'.repeat(TEXT_CAP)));
    assert.ok(text.length < big.length + 200);
    assert.match(text, /\[Cut at 5,242,880 characters: the stored text has 5,242,890\.\]$/);
    const msgs = section(o.source.details('iteration:m1'), 'messages', 'Messages')!.messages;
    assert.ok(msgs[0].text.length < DETAIL_CAP + 200);
    assert.match(msgs[0].text, /Cut at 262,144 characters/);
    assert.equal(msgs[1].text, control);
    assert.equal(msgs[1].extras!.find((e) => e.label === 'Tool results')!.text, '{"ok":', 'broken JSON shown as stored');
    const ev = section(o.source.details('iteration:m1'), 'timeline', 'Events')!;
    assert.deepEqual(ev.events.map((e) => [e.label, e.detail]), [['agent_progress', '{nope']]);
    assert.ok(section(o.source.details('iteration:m1'), 'warnings')!.warnings.some((w) => w.includes('Event agent_progress (e1): data is not valid JSON')));
  });

  it('answers unknown refs with nothing', () => {
    for (const ref of ['project:none', 'agent:none', 'iteration:none', 'iteration:m2', 'step:1', '']) {
      assert.equal(o.source.node(ref), undefined, ref);
      assert.deepEqual(o.source.children(ref), []);
      assert.equal(o.source.count(ref), 0);
      assert.deepEqual(o.source.details(ref), []);
      assert.deepEqual(o.source.changes(ref), []);
    }
  });
});

/** Every page of `parent` is a slice of the whole list; count() is its length; node() gives the listed node. */
function checkPaging(source: HistorySource, parent: string | null): HistoryNode[] {
  const all = source.children(parent);
  assert.equal(source.count(parent), all.length, `count(${parent})`);
  for (const limit of [1, 2, 3]) {
    for (let offset = 0; offset <= all.length + 1; offset++) {
      assert.deepEqual(source.children(parent, { offset, limit }).map((n) => n.ref), all.slice(offset, offset + limit).map((n) => n.ref), `${parent} ${offset}+${limit}`);
    }
  }
  assert.deepEqual(source.children(parent, { limit: 0 }), []);
  for (const n of all) assert.deepEqual(source.node(n.ref), n, n.ref);
  return all;
}

describe('Constellation source: agents whose project is gone', function () {
  this.timeout(60_000);

  for (const kind of ['app', 'example'] as const) {
    describe(`${kind}: a project deleted with foreign keys off`, () => {
      let fx: ConstellationFixture;
      let o: Opened;
      before(async () => {
        fx = makeConstellation({ kind, now: NOW, deleteProject: true });
        o = await openDb(fx.dbPath);
      });
      after(() => {
        o?.close();
        fx?.rm();
      });
      const orphansOf = () => fx.agents.filter((a) => fx.deletedProjects.some((p) => p.id === a.projectId));

      it('lists "(no project)" after the projects, with the orphan root agents under it', () => {
        const [gone] = fx.deletedProjects;
        assert.ok(gone, 'a project was deleted');
        const orphans = orphansOf();
        assert.ok(orphans.length >= 2 && orphans.some((a) => a.parentId !== null), 'root and sub-agents are left');
        const top = o.source.children(null);
        assert.deepEqual(top.map((n) => n.ref), [...newestFirst(fx.projects).map((p) => `project:${p.id}`), NO_PROJECT_REF]);
        assert.equal(o.source.count(null), fx.projects.length + 1);
        const none = top.at(-1)!;
        assert.equal(none.label, NO_PROJECT_LABEL);
        assert.equal(none.level, 'project');
        assert.equal(none.status, 'unknown');
        assert.equal(none.isStep, false);
        assert.equal(none.hasChildren, true);
        assert.ok(none.description!.startsWith(`${orphans.length} agents whose project is gone`), none.description);
        assert.deepEqual(o.source.node(NO_PROJECT_REF), none);
        const roots = orphans.filter((a) => a.parentId === null);
        assert.deepEqual(o.source.children(NO_PROJECT_REF).map((n) => n.ref), newestFirst(roots.map((a) => ({ ...a, updatedAt: null }))).map((a) => `agent:${a.id}`));
        assert.equal(o.source.count(NO_PROJECT_REF), roots.length);
        const facts = section(o.source.details(NO_PROJECT_REF), 'facts', NO_PROJECT_LABEL)!.facts;
        assert.equal(facts.find((f) => f.label === 'Agents')!.value, String(orphans.length));
        assert.equal(facts.find((f) => f.label === 'Project ids')!.value, `"${gone.id}"`);
      });

      it('nests the sub-agents and iterations under them as under a project, each agent with a warning', () => {
        const [gone] = fx.deletedProjects;
        const sentence = `Its project (id ${gone.id}) has been deleted.`;
        for (const a of orphansOf()) {
          const subs = fx.agents.filter((x) => x.parentId === a.id);
          const its = iterationsOf(fx, a.id);
          const nodes = o.source.children(`agent:${a.id}`);
          assert.deepEqual(nodes.map((n) => n.ref).sort(), [...subs.map((x) => `agent:${x.id}`), ...its.map((i) => `iteration:${i.assistant.id}`)].sort());
          assert.equal(o.source.count(`agent:${a.id}`), subs.length + its.length);
          const n = o.source.node(`agent:${a.id}`)!;
          assert.equal(n.label, a.name);
          assert.ok(n.warnings.includes(sentence), n.warnings.join(' / '));
          assert.equal(n.hasChildren, subs.length + its.length > 0);
          const d = o.source.details(n.ref);
          assert.ok(section(d, 'warnings')!.warnings.includes(sentence));
          assert.equal(section(d, 'facts', 'Agent')!.facts.find((f) => f.label === 'Project')!.value, `"${gone.id}", deleted (listed under ${NO_PROJECT_LABEL})`);
          for (const it of its) {
            const itn = o.source.node(`iteration:${it.assistant.id}`)!;
            assert.equal(itn.label, `#${it.index} ${firstLineOf(it.assistant.content)}`);
            assert.deepEqual(o.source.changes(itn.ref).map((c) => c.id), it.outputs.map((x) => `output:${x.id}`));
          }
        }
        // The agents of the projects that remain have no such warning.
        for (const a of fx.agents.filter((x) => fx.projects.some((p) => p.id === x.projectId))) {
          assert.ok(!o.source.node(`agent:${a.id}`)!.warnings.some((w) => /project/.test(w)), a.name ?? a.id);
        }
      });

      it('totals the orphan agents\' messages on "(no project)", as on a project', () => {
        const none = o.source.node(NO_PROJECT_REF)!;
        const its = fx.iterations.filter((i) => orphansOf().some((a) => a.id === i.agentId));
        if (its.length === 0) {
          assert.equal(none.metrics.tokens, null, 'the app writes no messages: not recorded');
          assert.equal(none.metrics.costUsd, null);
        } else {
          assert.equal(none.metrics.tokens!.total, its.reduce((s, i) => s + i.tokens, 0));
          approx(none.metrics.costUsd, its.reduce((s, i) => s + (i.cost ?? 0), 0), 'cost');
          assert.ok(none.description!.includes(`${its.length} iteration`), none.description);
        }
        assert.equal(none.metrics.start!.toISOString(), orphansOf().map((a) => a.createdAt).sort()[0]);
      });

      it('pages "(no project)" and the top level; count() and node() agree with children()', () => {
        checkPaging(o.source, null);
        checkPaging(o.source, NO_PROJECT_REF);
        for (const a of orphansOf()) checkPaging(o.source, `agent:${a.id}`);
        const n = o.source.count(null);
        assert.deepEqual(o.source.children(null, { offset: n - 1, limit: 10 }).map((x) => x.ref), [NO_PROJECT_REF]);
        assert.deepEqual(o.source.children(null, { offset: n, limit: 10 }), []);
      });
    });
  }

  it('lists no "(no project)" node when every agent has its project', async () => {
    for (const kind of ['app', 'example'] as const) {
      const fx = makeConstellation({ kind, now: NOW });
      const o = await openDb(fx.dbPath);
      try {
        assert.deepEqual(fx.deletedProjects, []);
        const top = o.source.children(null);
        assert.ok(!top.some((n) => n.ref === NO_PROJECT_REF || n.label === NO_PROJECT_LABEL));
        assert.equal(o.source.count(null), fx.projects.length);
        assert.equal(o.source.node(NO_PROJECT_REF), undefined);
        assert.deepEqual(o.source.children(NO_PROJECT_REF), []);
        assert.equal(o.source.count(NO_PROJECT_REF), 0);
        assert.deepEqual(o.source.details(NO_PROJECT_REF), []);
        for (const a of fx.agents) assert.ok(!o.source.node(`agent:${a.id}`)!.warnings.some((w) => /project/.test(w)), a.id);
      } finally {
        o.close();
        fx.rm();
      }
    }
  });

  describe('project_id NULL or empty, in a file written without the constraints', () => {
    let dir: string;
    let o: Opened;
    const t0 = Date.parse('2026-11-20T10:00:00.000Z');
    const iso = (ms: number) => new Date(ms).toISOString();
    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'constellation-orphans-'));
      const dbPath = path.join(dir, 'constellation.db');
      const schema = CONSTELLATION_SCHEMA.replace('project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,\n    parent_id', 'project_id TEXT REFERENCES projects(id) ON DELETE CASCADE,\n    parent_id');
      assert.notEqual(schema, CONSTELLATION_SCHEMA);
      const ins = (table: string, row: Record<string, string | number | null>) => ({
        sql: `INSERT INTO ${table} (${Object.keys(row).join(', ')}) VALUES (${Object.keys(row).map(() => '?').join(', ')})`, params: Object.values(row),
      });
      writeDb(dbPath, schema, [
        ins('projects', { id: 'p1', name: 'Kept', status: 'running', prompt_path: '/p.md', created_at: iso(t0) }),
        ins('agents', { id: 'a1', project_id: 'p1', name: 'Kept agent', status: 'idle', created_at: iso(t0 + 1) }),
        ins('agents', { id: 'n1', project_id: null, name: 'No project', status: 'working', created_at: iso(t0 + 2), total_tokens: 120, total_cost: 0.5 }),
        ins('agents', { id: 'n2', project_id: null, parent_id: 'n1', name: 'Its sub-agent', status: 'idle', depth: 1, created_at: iso(t0 + 3) }),
        ins('agents', { id: 'e1', project_id: '', name: 'Empty project id', status: 'idle', created_at: iso(t0 + 4) }),
        // A sub-agent of a kept agent whose own project is gone, and one whose parent is of another missing project.
        ins('agents', { id: 'g1', project_id: 'gone', parent_id: 'a1', name: 'Strayed', status: 'idle', created_at: iso(t0 + 5) }),
        ins('agents', { id: 'g2', project_id: 'other-gone', parent_id: 'n1', name: 'Other project', status: 'idle', created_at: iso(t0 + 6) }),
        ins('agent_history', { id: 'm1', agent_id: 'n2', role: 'assistant', content: 'Working', usage: '{"input_tokens":7,"output_tokens":3}', cost: 0.01, created_at: iso(t0 + 1000) }),
      ]);
      o = await openDb(dbPath);
    });
    after(() => {
      o?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('lists them under "(no project)" with the NULL or empty sentence; parent links only within one project_id', () => {
      const s = o.source;
      assert.deepEqual(s.children(null).map((n) => n.ref), ['project:p1', NO_PROJECT_REF]);
      assert.deepEqual(s.children('project:p1').map((n) => n.ref), ['agent:a1']);
      assert.deepEqual(s.children('agent:a1'), [], 'the strayed sub-agent is not under its parent in another project');
      assert.deepEqual(s.children(NO_PROJECT_REF).map((n) => n.ref), ['agent:g2', 'agent:g1', 'agent:e1', 'agent:n1']);
      assert.deepEqual(s.children('agent:n1').map((n) => n.ref), ['agent:n2']);
      assert.deepEqual(s.children('agent:n2').map((n) => n.ref), ['iteration:m1']);
      assert.ok(s.node('agent:n1')!.warnings.includes('It belongs to no project (project_id is NULL).'));
      assert.ok(s.node('agent:n2')!.warnings.includes('It belongs to no project (project_id is NULL).'));
      assert.ok(s.node('agent:e1')!.warnings.includes('It belongs to no project (project_id is empty).'));
      assert.ok(s.node('agent:g1')!.warnings.includes('Its project (id gone) has been deleted.'));
      assert.ok(s.node('agent:g1')!.warnings.some((w) => w.includes('"a1" is not an agent of this project')));
      assert.ok(s.node('agent:g2')!.warnings.some((w) => w.includes('"n1" is not an agent of this project')), 'n1 has another project_id');
      assert.deepEqual(s.node('agent:a1')!.warnings, []);
      const none = s.node(NO_PROJECT_REF)!;
      assert.equal(none.description, '5 agents whose project is gone · 1 iteration');
      assert.deepEqual(none.metrics.tokens, { prompt: 7, completion: 3, total: 10 }, 'the messages, not the counters, when there are some');
      approx(none.metrics.costUsd, 0.01, 'cost');
      assert.equal(section(s.details(NO_PROJECT_REF), 'facts', NO_PROJECT_LABEL)!.facts.find((f) => f.label === 'Project ids')!.value, 'NULL, "", "gone", "other-gone"');
      assert.equal(section(s.details('agent:n1'), 'facts', 'Agent')!.facts.find((f) => f.label === 'Project')!.value, `NULL (listed under ${NO_PROJECT_LABEL})`);
      assert.equal(section(s.details('agent:e1'), 'facts', 'Agent')!.facts.find((f) => f.label === 'Project')!.value, `empty (listed under ${NO_PROJECT_LABEL})`);
      for (const parent of [null, NO_PROJECT_REF, 'agent:n1']) checkPaging(s, parent);
    });
  });
});
