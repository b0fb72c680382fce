/**
 * The Analytics figures of the other systems' histories (sourceAnalytics.ts) against the
 * sqlite3 CLI: a Constellation and an LLM Orchestration database written by python3's sqlite3
 * (the real engine), each step's values derived again in plain SQL from the stored rows (the
 * systems' own rules: an iteration is an assistant message and what follows it; a response's
 * start is its created_at less its duration), and every figure aggregated from those by SQLite.
 * Then once through the store worker, and the walk itself on a history made up in memory.
 */
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as esbuild from 'esbuild';
import * as fs from 'fs';
import * as path from 'path';
import { rangeSince, type AnalyticsGrouping, type AnalyticsOptions, type AnalyticsRange, type StepAnalytics } from '../../src/core/analytics';
import { StepDbError } from '../../src/core/errors';
import { StoreWorker } from '../../src/core/remoteStore';
import { forEachStep, sourceAnalytics } from '../../src/core/sourceAnalytics';
import { NO_PROJECT_REF } from '../../src/core/sources/constellation';
import { detectSource } from '../../src/core/sources/registry';
import { openSnapshot, schemaShape, sqlReader } from '../../src/core/sources/snapshot';
import type { HistoryNode, HistorySource, NodeMetrics, Page } from '../../src/core/sources/types';
import { cliRows as cli, exactReals as exact, g17 } from '../fixtures/analyticsRows';
import { CONSTELLATION_SCHEMA } from '../fixtures/constellation';
import { LLMO_SCHEMA, sqliteTimestamp } from '../fixtures/llmOrchestration';
import { makeTempDir } from '../fixtures/stepFixtures';

const root = path.join(__dirname, '..', '..');
const wasmPath = require.resolve('sql.js/dist/sql-wasm.wasm');

const NOW = Date.UTC(2026, 0, 10, 12, 0, 0); // Saturday 10 January 2026
const HOUR = 3_600_000;

type Param = string | number | null;

/** Runs a script and then parameterised statements on a new file, with python3's sqlite3. */
function writeDb(file: string, script: string, rows: { sql: string; params: Param[] }[]): void {
  const py = String.raw`
import json, sqlite3, sys
job = json.load(sys.stdin)
c = sqlite3.connect(job["db"], isolation_level=None)
c.executescript(job["script"])
c.execute("BEGIN")
for r in job["rows"]:
    c.execute(r["sql"], r["params"])
c.execute("COMMIT")
c.close()
`;
  execFileSync('python3', ['-c', py], { input: JSON.stringify({ db: file, script, rows }), stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 1 << 28 });
}

const insert = (table: string, row: Record<string, Param>) => ({
  sql: `INSERT INTO ${table} (${Object.keys(row).join(', ')}) VALUES (${Object.keys(row).map(() => '?').join(', ')})`,
  params: Object.values(row),
});

const msOf = (col: string) => `CAST(round((julianday(${col}) - 2440587.5) * 86400000) AS INTEGER)`;

/**
 * Every figure by SQLite, from `steps`: a CTE (`WITH …`) defining `b`, one row per step with
 * target, label, s (start ms or NULL), d (duration or NULL), f (failed), rb (rolled back), m
 * (model), rec (usage recorded), p, c, t (tokens, 0 when not recorded), k (cost or NULL), and
 * the columns `scope` tests. Values are chosen distinct where the order of ties would matter.
 */
function expected(file: string, steps: string, scope: string, o: AnalyticsOptions): StepAnalytics {
  const r = `${steps}, r AS (SELECT * FROM b WHERE (${scope}) AND ${o.sinceMs === null ? '1' : `s >= ${o.sinceMs}`})`;
  const counters = `count(*) AS steps, coalesce(sum(f), 0) AS failures, coalesce(sum(rb), 0) AS rollbacks,
    coalesce(sum(rec), 0) AS usageSteps, coalesce(sum(NOT rec), 0) AS unrecordedSteps,
    coalesce(sum(rec AND k IS NOT NULL AND k <> 0), 0) AS costSteps, coalesce(sum(p), 0) AS promptTokens,
    coalesce(sum(c), 0) AS completionTokens, coalesce(sum(t), 0) AS totalTokens, ${g17('total(k)')} AS cost,
    coalesce(sum(d), 0) AS durationMs, count(d) AS durationSteps`;
  const perStep = o.grouping === 'step';
  const key = perStep ? 'label' : o.grouping === 'day' ? `date(s / 1000, 'unixepoch')` : `date(s / 1000, 'unixepoch', '-6 days', 'weekday 1')`;
  const groupBy = perStep ? 'target' : key;
  const orderBy = perStep ? 's IS NULL, s' : key;
  const groups = cli(
    file,
    `${r} SELECT ${perStep ? 'label' : key} AS key, ${perStep ? 'target' : 'NULL'} AS target,
      ${perStep ? 'min(s)' : `CAST(strftime('%s', ${key}) AS INTEGER) * 1000`} AS startMs, ${counters},
      sum(sum(t)) OVER (ORDER BY ${orderBy}) AS cumulativeTotalTokens,
      ${g17(`sum(total(k)) OVER (ORDER BY ${orderBy})`)} AS cumulativeCost
    FROM r ${perStep ? '' : 'WHERE s IS NOT NULL'} GROUP BY ${groupBy} ORDER BY ${orderBy}`,
  );
  const [totals] = cli(file, `${r} SELECT ${counters}, coalesce(sum(s IS NULL), 0) AS undated FROM r`);
  const byModel = cli(
    file,
    `${r}, known AS (SELECT target, m, d, (SELECT count(*) FROM r AS y WHERE y.m = x.m AND y.d IS NOT NULL) AS n,
        (SELECT count(*) FROM r AS y WHERE y.m = x.m AND y.d IS NOT NULL AND (y.d < x.d OR (y.d = x.d AND y.target < x.target))) AS rank
      FROM r AS x WHERE d IS NOT NULL),
    medians AS (SELECT m, avg(d) AS median FROM known WHERE rank IN ((n - 1) / 2, n / 2) GROUP BY m)
    SELECT r.m AS model, ${counters}, ${g17('(SELECT median FROM medians WHERE medians.m = r.m)')} AS medianDurationMs
    FROM r GROUP BY r.m ORDER BY count(*) DESC, r.m`,
  );
  const ranked = (value: string, condition: string) =>
    exact(cli(file, `${r} SELECT target, label, ${g17(value)} AS value FROM r WHERE ${condition} ORDER BY ${value} DESC LIMIT 10`));
  const { undated, ...figures } = exact([totals])[0];
  return {
    grouping: o.grouping,
    sinceMs: o.sinceMs,
    groups: exact(groups) as unknown as StepAnalytics['groups'],
    totals: figures as unknown as StepAnalytics['totals'],
    undatedSteps: undated as number,
    byModel: exact(byModel).map((m) => ({ ...m, failureRate: (m.failures as number) / (m.steps as number) })) as unknown as StepAnalytics['byModel'],
    slowest: ranked('d', 'd IS NOT NULL') as unknown as StepAnalytics['slowest'],
    mostExpensive: ranked('k', 'k > 0') as unknown as StepAnalytics['mostExpensive'],
  };
}

async function openHistory(file: string): Promise<{ source: HistorySource; close(): void }> {
  const snapshot = await openSnapshot(file, { wasmPath });
  const found = detectSource(schemaShape(snapshot.db, file));
  assert.ok(found, `an adapter reads ${file}`);
  const reader = sqlReader(snapshot.db, file);
  return { source: found.adapter.open(reader, found.detection, { path: file }), close: () => reader.close() };
}

const RANGES: AnalyticsRange[] = ['all', '30d', '7d'];
const GROUPINGS: AnalyticsGrouping[] = ['step', 'day', 'week'];

// ---------------------------------------------------------------------------------------------
// Constellation

/**
 * Two projects and an agent whose project is gone ("(no project)"); sub-agents two levels deep;
 * three models and an agent without one; two failed agents (their last iteration failed); an
 * agent still working whose last assistant message has a time no reader can read (undated);
 * iterations from 20 November 2025 to 10 January 2026 across the week boundary of Monday 5
 * January; usage on the assistant message, on a tool message, only a cost, only input tokens,
 * or none at all (unrecorded); a user prompt before the first iteration and a user message
 * with usage inside one (neither counted); an output after an iteration's last message (its
 * end). Costs are distinct multiples of 1/64 and durations distinct whole seconds.
 */
function writeConstellation(file: string): void {
  const rows: { sql: string; params: Param[] }[] = [];
  const iso = (ms: number) => new Date(ms).toISOString();
  const project = (id: string, name: string, created: number, updated: number) =>
    rows.push(insert('projects', { id, name, description: '', status: 'running', prompt_path: '/tmp/p.md', settings: '{}', created_at: iso(created), updated_at: iso(updated) }));
  project('p-tide', 'Tide app', Date.UTC(2025, 10, 1), Date.UTC(2026, 0, 9));
  project('p-weather', 'Weather', Date.UTC(2025, 11, 28), Date.UTC(2026, 0, 10));
  let counter = 0;
  let msg = 0;
  const message = (agent: string, role: string, at: number | string, content: string, usage: object | null, cost: number | null) =>
    rows.push(insert('agent_history', {
      id: `m${++msg}`, agent_id: agent, role, content, tool_calls: null, tool_results: null,
      usage: usage === null ? null : JSON.stringify(usage), cost, created_at: typeof at === 'number' ? iso(at) : at,
    }));
  const agent = (id: string, projectId: string, parent: string | null, model: string | null, status: string, first: number, every: number, count: number) => {
    rows.push(insert('agents', {
      id, project_id: projectId, parent_id: parent, name: id, status, config: JSON.stringify(model === null ? { maxTokens: 8192 } : { model, maxTokens: 8192 }),
      depth: parent === null ? 0 : 1, created_at: iso(first - HOUR),
    }));
    for (let j = 0; j < count; j++) {
      const at = first + j * every;
      const n = ++counter;
      const last = j === count - 1;
      const usage = { input_tokens: 100 * n, output_tokens: 10 * n };
      switch (n % 5) {
        case 0: message(id, 'assistant', at, `Step ${n}`, usage, n / 64); break;
        case 1: message(id, 'assistant', at, `Step ${n}`, usage, null); break;
        case 2: message(id, 'assistant', at, `Step ${n}`, null, null); break;
        case 3: message(id, 'assistant', at, `Step ${n}`, null, n / 64); break;
        case 4: message(id, 'assistant', at, `Step ${n}`, { input_tokens: 7 * n }, null); break;
      }
      if (last && n % 2 === 0) continue; // no message after it: no end, no duration
      // A tool message n + 30 seconds later, with usage except when the step records none.
      message(id, 'tool', at + (30 + n) * 1000, `Result ${n}`, n % 5 === 2 ? null : { input_tokens: n, output_tokens: 2 * n }, n % 5 === 1 ? n / 64 : null);
    }
  };
  rows.push(insert('agent_history', { id: 'prompt', agent_id: 'a-tide', role: 'user', content: 'Build it', usage: JSON.stringify({ input_tokens: 999 }), cost: 1, created_at: iso(Date.UTC(2025, 10, 20, 7)) }));
  agent('a-tide', 'p-tide', null, 'claude-sonnet-4', 'completed', Date.UTC(2025, 10, 20, 8), 29 * HOUR, 6);
  agent('a-tide-sub', 'p-tide', 'a-tide', 'claude-opus-4', 'failed', Date.UTC(2025, 11, 30, 10), 13 * HOUR, 5);
  agent('a-tide-subsub', 'p-tide', 'a-tide-sub', null, 'completed', Date.UTC(2026, 0, 4, 20), 5 * HOUR, 4);
  agent('a-weather', 'p-weather', null, 'claude-sonnet-4', 'working', Date.UTC(2026, 0, 3, 9), 17 * HOUR, 5);
  agent('a-weather-qa', 'p-weather', null, 'gpt-4o', 'failed', Date.UTC(2026, 0, 6, 0, 30), 9 * HOUR, 4);
  agent('a-orphan', 'p-deleted', null, 'gpt-4o', 'completed', Date.UTC(2026, 0, 8, 12), 3 * HOUR, 3);
  // A user message with usage inside a-weather's second iteration: its end, not its tokens.
  message('a-weather', 'user', Date.UTC(2026, 0, 4, 2, 10), 'Also the wind', { input_tokens: 5000, output_tokens: 5000 }, 2);
  // An output an hour after a-weather-qa's first iteration began: its end.
  rows.push(insert('outputs', { id: 'o1', project_id: 'p-weather', agent_id: 'a-weather-qa', type: 'file', path: 'a.ts', content: 'x', created_at: iso(Date.UTC(2026, 0, 6, 1, 30)) }));
  // The working agent's newest assistant message: a time no reader can read.
  message('a-weather', 'assistant', 'soon', 'Step undated', { input_tokens: 40, output_tokens: 4 }, 3 / 128);
  writeDb(file, CONSTELLATION_SCHEMA, rows);
}

/** Each iteration's values, from the stored rows by Constellation's rules, in plain SQL. */
const CONSTELLATION_STEPS = `WITH m AS (SELECT rowid AS rid, id, agent_id, role, content, usage, cost,
    CASE WHEN created_at GLOB '[0-9][0-9][0-9][0-9]-*' THEN ${msOf('created_at')} END AS t FROM agent_history),
  mk AS (SELECT *, sum(role = 'assistant') OVER (PARTITION BY agent_id ORDER BY coalesce(t, 8640000000000001), rid ROWS UNBOUNDED PRECEDING) AS n FROM m),
  heads AS (SELECT * FROM mk WHERE role = 'assistant'),
  outs AS (SELECT agent_id, ${msOf('created_at')} AS t FROM outputs),
  out_n AS (SELECT o.t, o.agent_id, (SELECT max(h.n) FROM heads h WHERE h.agent_id = o.agent_id AND coalesce(h.t, 8640000000000001) <= o.t) AS n FROM outs o),
  counted AS (SELECT * FROM mk WHERE role IN ('assistant', 'tool')),
  it AS (SELECT h.agent_id, h.n, h.id, h.t AS s, h.content,
      (SELECT max(t) FROM (SELECT x.t FROM mk x WHERE x.agent_id = h.agent_id AND x.n = h.n AND x.rid <> h.rid
        UNION ALL SELECT o.t FROM out_n o WHERE o.agent_id = h.agent_id AND o.n = h.n)) AS e,
      (SELECT sum(json_extract(x.usage, '$.input_tokens')) FROM counted x WHERE x.agent_id = h.agent_id AND x.n = h.n) AS p,
      (SELECT sum(json_extract(x.usage, '$.output_tokens')) FROM counted x WHERE x.agent_id = h.agent_id AND x.n = h.n) AS c,
      (SELECT count(*) FROM counted x WHERE x.agent_id = h.agent_id AND x.n = h.n
        AND (json_extract(x.usage, '$.input_tokens') IS NOT NULL OR json_extract(x.usage, '$.output_tokens') IS NOT NULL)) AS tokened,
      (SELECT sum(x.cost) FROM counted x WHERE x.agent_id = h.agent_id AND x.n = h.n) AS k,
      h.n = (SELECT max(n) FROM heads y WHERE y.agent_id = h.agent_id) AS last
    FROM heads h),
  b AS (SELECT 'iteration:' || it.id AS target, '#' || it.n || ' ' || it.content AS label, it.s AS s,
      CASE WHEN it.s IS NOT NULL AND it.e >= it.s THEN it.e - it.s END AS d,
      (it.last AND a.status = 'failed') AS f, 0 AS rb, coalesce(json_extract(a.config, '$.model'), 'unknown') AS m,
      (it.tokened > 0 OR it.k IS NOT NULL) AS rec,
      CASE WHEN it.tokened > 0 THEN coalesce(it.p, 0) ELSE 0 END AS p, CASE WHEN it.tokened > 0 THEN coalesce(it.c, 0) ELSE 0 END AS c,
      CASE WHEN it.tokened > 0 THEN coalesce(it.p, 0) + coalesce(it.c, 0) ELSE 0 END AS t, it.k AS k,
      a.project_id AS project, a.id AS agent
    FROM it JOIN agents a ON a.id = it.agent_id),
  tide_sub(id) AS (SELECT 'a-tide-sub' UNION SELECT a.id FROM agents a JOIN tide_sub ON a.parent_id = tide_sub.id)`;

const CONSTELLATION_SCOPES: { ref: string | undefined; where: string }[] = [
  { ref: undefined, where: '1' },
  { ref: 'project:p-tide', where: `project = 'p-tide'` },
  { ref: 'agent:a-tide-sub', where: `agent IN (SELECT id FROM tide_sub)` },
  { ref: NO_PROJECT_REF, where: `project = 'p-deleted'` },
];

describe('Analytics figures of a Constellation history against the sqlite3 CLI', function () {
  this.timeout(120_000);
  let dir: string;
  let db: string;
  let opened: { source: HistorySource; close(): void };

  before(async () => {
    dir = makeTempDir();
    db = path.join(dir, 'constellation.db');
    writeConstellation(db);
    opened = await openHistory(db);
    assert.strictEqual(opened.source.detection.system, 'constellation');
  });
  after(() => {
    opened?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const { ref, where } of CONSTELLATION_SCOPES) {
    for (const range of RANGES) {
      for (const grouping of GROUPINGS) {
        it(`${ref ?? 'the whole database'}, range ${range}, per ${grouping}: every figure as the CLI computes it`, () => {
          const options: AnalyticsOptions = { ref, sinceMs: rangeSince(range, NOW), grouping };
          assert.deepStrictEqual(sourceAnalytics(opened.source, options), expected(db, CONSTELLATION_STEPS, where, options));
        });
      }
    }
  }

  it('counts each iteration once, sub-agents and "(no project)" included, and the unrecorded ones apart', () => {
    const all = sourceAnalytics(opened.source, { sinceMs: null, grouping: 'day' });
    assert.strictEqual(all.totals.steps, 6 + 5 + 4 + 5 + 4 + 3 + 1);
    // Every fifth iteration (n % 5 == 2) records neither tokens nor cost.
    const [{ n }] = cli(db, `${CONSTELLATION_STEPS} SELECT count(*) AS n FROM b WHERE NOT rec`);
    assert.ok((n as number) >= 5);
    assert.strictEqual(all.totals.unrecordedSteps, n);
    assert.strictEqual(all.totals.usageSteps + all.totals.unrecordedSteps, all.totals.steps);
    // The undated iteration is in the totals and in no day.
    assert.strictEqual(all.undatedSteps, 1);
    assert.strictEqual(all.groups.reduce((sum, g) => sum + g.steps, 0), all.totals.steps - 1);
    assert.deepStrictEqual(all.byModel.map((m) => m.model).sort(), ['claude-opus-4', 'claude-sonnet-4', 'gpt-4o', 'unknown']);
    assert.strictEqual(all.totals.failures, 2);
  });

  it('puts the undated iteration last per step, and leaves it out once a range is given', () => {
    const perStep = sourceAnalytics(opened.source, { ref: 'project:p-weather', sinceMs: null, grouping: 'step' });
    assert.deepStrictEqual([perStep.groups.at(-1)!.key, perStep.groups.at(-1)!.startMs], [`#6 Step undated`, null]);
    assert.strictEqual(perStep.groups.at(-1)!.cumulativeTotalTokens, perStep.totals.totalTokens);
    const week = sourceAnalytics(opened.source, { ref: 'project:p-weather', sinceMs: rangeSince('7d', NOW), grouping: 'step' });
    assert.ok(week.groups.every((g) => g.startMs !== null && g.startMs >= NOW - 7 * 24 * HOUR));
    assert.ok(week.totals.steps < perStep.totals.steps - 1, 'the range leaves dated steps out too');
    assert.strictEqual(week.undatedSteps, 0);
  });

  it('counts an iteration itself when the scope names it, and fails typed on a node that is gone', () => {
    const [first] = sourceAnalytics(opened.source, { ref: 'project:p-tide', sinceMs: null, grouping: 'step' }).groups;
    const one = sourceAnalytics(opened.source, { ref: first.target!, sinceMs: null, grouping: 'step' });
    assert.deepStrictEqual(one.groups.map((g) => g.target), [first.target]);
    assert.throws(
      () => sourceAnalytics(opened.source, { ref: 'project:nowhere', sinceMs: null, grouping: 'day' }),
      (err: unknown) => err instanceof StepDbError && err.code === 'READ_FAILED' && err.message.includes('project:nowhere'),
    );
  });

  it('answers the same through the store worker, and its errors stay typed', async () => {
    const workerPath = path.join(dir, 'storeWorker.js');
    await esbuild.build({
      entryPoints: [path.join(root, 'src', 'core', 'storeWorker.ts')],
      bundle: true, platform: 'node', format: 'cjs', target: 'node18', outfile: workerPath, logLevel: 'error',
    });
    const worker = new StoreWorker({ workerPath, wasmPath });
    try {
      const remote = await worker.open(db);
      assert.strictEqual(remote.detection.system, 'constellation');
      for (const options of [
        { ref: 'project:p-tide', sinceMs: rangeSince('30d', NOW), grouping: 'week' },
        { sinceMs: null, grouping: 'step' },
      ] satisfies AnalyticsOptions[]) {
        assert.deepStrictEqual(await remote.analytics(options), sourceAnalytics(opened.source, options));
        assert.deepStrictEqual(await remote.analytics(options), expected(db, CONSTELLATION_STEPS, options.ref ? `project = 'p-tide'` : '1', options));
      }
      await assert.rejects(remote.analytics({ ref: 'agent:gone', sinceMs: null, grouping: 'day' }), (err: unknown) =>
        err instanceof StepDbError && err.code === 'READ_FAILED' && err.messageId === 'nodeGone' && err.message.includes('agent:gone'),
      );
      // Other LaForge methods are still refused for this system, typed.
      await assert.rejects(remote.projects(), (err: unknown) => err instanceof StepDbError && err.messageId === 'notLaforge');
    } finally {
      worker.dispose();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// LLM Orchestration

/**
 * Three workflows and their runs, responses from 15 November 2025 to 10 January 2026 (created_at
 * as SQLite's CURRENT_TIMESTAMP text): models from `model_info` (koboldcpp's `{result}`), one
 * response without any (unknown); token counts as a total, as prompt and completion only, or
 * not at all (unrecorded: no counts, a duration alone, zeros without a total, and NULL metadata,
 * which records no duration either, so no start: undated). No cost is ever recorded.
 */
function writeLlmo(file: string): void {
  const rows: { sql: string; params: Param[] }[] = [];
  const payloads = ['Outline', 'Draft', 'Review', 'Summary'];
  payloads.forEach((name, i) => rows.push(insert('payloads', { id: i + 1, name })));
  const workflows: [number, string, number, number][] = [
    // id, name, first response, hours between
    [1, 'Blog post', Date.UTC(2025, 10, 15, 9), 37],
    [2, 'Release notes', Date.UTC(2026, 0, 2, 8), 11],
    [3, 'Triage', Date.UTC(2026, 0, 5, 0, 5), 7],
  ];
  let response = 0;
  let run = 0;
  for (const [wid, name, first, every] of workflows) {
    rows.push(insert('workflows', { id: wid, name, created_at: sqliteTimestamp(first - 24 * HOUR), updated_at: sqliteTimestamp(first - 24 * HOUR) }));
    payloads.forEach((_, i) => rows.push(insert('workflow_payloads', { workflow_id: wid, payload_id: i + 1, order_index: i })));
    for (let r = 0; r < 3; r++) {
      const rid = ++run;
      const runStart = first + r * 4 * every * HOUR;
      rows.push(insert('runs', { id: rid, workflow_id: wid, status: 'completed', started_at: sqliteTimestamp(runStart), completed_at: sqliteTimestamp(runStart + 4 * every * HOUR - HOUR), metadata: '{}' }));
      for (let p = 0; p < 4; p++) {
        const id = ++response;
        const duration = 1000 * (20 + 3 * id);
        const at = runStart + p * every * HOUR + duration;
        const meta: Record<string, unknown> = { duration_ms: duration, finishReason: 'stop', model_info: { result: ['koboldcpp/Llama-3-8B', 'koboldcpp/Qwen2-7B'][id % 2] } };
        switch (id % 6) {
          case 0: meta.tokens = 50 * id; break;
          case 1: meta.promptTokens = 40 * id; meta.completionTokens = 9 * id; break;
          case 2: meta.tokens = 30 * id; meta.promptTokens = 20 * id; meta.completionTokens = 10 * id; break;
          case 3: meta.promptTokens = 0; meta.completionTokens = 0; break; // koboldcpp without counts: not recorded
          case 4: delete meta.model_info; meta.tokens = 11 * id; break;
          case 5: break;
        }
        const metadata = id === 11 ? null : JSON.stringify(id === 17 ? { duration_ms: duration } : meta);
        rows.push(insert('responses', { id, run_id: rid, payload_id: p + 1, content: `Answer ${id}`, metadata, created_at: sqliteTimestamp(at) }));
      }
    }
  }
  const script = Object.values(LLMO_SCHEMA).join(';\n') + ';';
  writeDb(file, script, rows);
}

/** Each response's values, from the stored rows by LLM Orchestration's rules, in plain SQL. */
const LLMO_STEPS = `WITH x AS (SELECT r.id, r.run_id, p.name, ${msOf('r.created_at')} AS e,
    CASE WHEN json_valid(r.metadata) THEN json_extract(r.metadata, '$.duration_ms') END AS d,
    CASE WHEN json_valid(r.metadata) THEN json_extract(r.metadata, '$.tokens') END AS tk,
    CASE WHEN json_valid(r.metadata) THEN json_extract(r.metadata, '$.promptTokens') END AS pt,
    CASE WHEN json_valid(r.metadata) THEN json_extract(r.metadata, '$.completionTokens') END AS ct,
    CASE WHEN json_valid(r.metadata) THEN json_extract(r.metadata, '$.model_info.result') END AS model
  FROM responses r JOIN payloads p ON p.id = r.payload_id),
  y AS (SELECT *, (tk IS NOT NULL OR ((pt IS NOT NULL OR ct IS NOT NULL) AND NOT (pt IS 0 AND ct IS 0))) AS rec FROM x),
  b AS (SELECT 'response:' || y.id AS target, y.name AS label, CASE WHEN d IS NOT NULL THEN e - d END AS s, d,
      0 AS f, 0 AS rb, coalesce(model, 'unknown') AS m, rec,
      CASE WHEN rec THEN coalesce(pt, 0) ELSE 0 END AS p, CASE WHEN rec THEN coalesce(ct, 0) ELSE 0 END AS c,
      CASE WHEN rec THEN coalesce(tk, coalesce(pt, 0) + coalesce(ct, 0)) ELSE 0 END AS t, NULL AS k,
      runs.workflow_id AS workflow, y.run_id AS run
    FROM y JOIN runs ON runs.id = y.run_id)`;

describe('Analytics figures of an LLM Orchestration history against the sqlite3 CLI', function () {
  this.timeout(120_000);
  let dir: string;
  let db: string;
  let opened: { source: HistorySource; close(): void };

  before(async () => {
    dir = makeTempDir();
    db = path.join(dir, 'llm_orchestration.db');
    writeLlmo(db);
    opened = await openHistory(db);
    assert.strictEqual(opened.source.detection.system, 'llmOrchestration');
  });
  after(() => {
    opened?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const scopes: { ref: string | undefined; where: string }[] = [
    { ref: undefined, where: '1' },
    { ref: 'workflow:2', where: 'workflow = 2' },
    { ref: 'run:8', where: 'run = 8' },
  ];
  for (const { ref, where } of scopes) {
    for (const range of RANGES) {
      for (const grouping of GROUPINGS) {
        it(`${ref ?? 'the whole database'}, range ${range}, per ${grouping}: every figure as the CLI computes it`, () => {
          const options: AnalyticsOptions = { ref, sinceMs: rangeSince(range, NOW), grouping };
          assert.deepStrictEqual(sourceAnalytics(opened.source, options), expected(db, LLMO_STEPS, where, options));
        });
      }
    }
  }

  it('counts responses without token counts apart, and records no cost', () => {
    const all = sourceAnalytics(opened.source, { sinceMs: null, grouping: 'week' });
    assert.strictEqual(all.totals.steps, 36);
    // ids ≡ 3 or 5 (mod 6), 11 (NULL metadata) and 17 (a duration alone) among them: never zero tokens.
    const unrecorded = Array.from({ length: 36 }, (_, i) => i + 1).filter((id) => id % 6 === 3 || id % 6 === 5 || id === 11 || id === 17);
    assert.strictEqual(all.totals.unrecordedSteps, unrecorded.length);
    assert.deepStrictEqual([all.totals.cost, all.totals.costSteps, all.mostExpensive], [0, 0, []]);
    assert.strictEqual(all.undatedSteps, 1);
    assert.ok(all.byModel.some((m) => m.model === 'unknown'));
  });
});

// ---------------------------------------------------------------------------------------------
// The walk, on a history made up in memory

const metrics = (over: Partial<NodeMetrics> = {}): NodeMetrics => ({ start: null, end: null, durationMs: null, tokens: null, costUsd: null, model: null, ...over });

function node(ref: string, isStep: boolean, hasChildren: boolean, over: Partial<NodeMetrics> = {}, status: HistoryNode['status'] = 'completed'): HistoryNode {
  return { ref, level: isStep ? 'step' : 'box', label: ref, status, rawStatus: null, metrics: metrics(over), hasChildren, isStep, warnings: [] };
}

/** A history of `tree` (parent ref → children), recording every page asked for. */
function memorySource(tree: Map<string | null, HistoryNode[]>, pages: Page[] = []): HistorySource {
  const nodes = new Map([...tree.values()].flat().map((n) => [n.ref, n]));
  return {
    detection: { system: 'constellation', variant: 'memory' },
    levels: [],
    children: (parent, page = {}) => {
      pages.push(page);
      const offset = page.offset ?? 0;
      return (tree.get(parent) ?? []).slice(offset, offset + (page.limit ?? 200));
    },
    count: (parent) => tree.get(parent)?.length ?? 0,
    node: (ref) => nodes.get(ref),
    details: () => [],
    changes: () => [],
    text: () => null,
  };
}

describe('sourceAnalytics: the walk and the definitions', () => {
  it('reads a long level page by page, and every step once', () => {
    const steps = Array.from({ length: 2_345 }, (_, i) => node(`s:${i}`, true, false, { start: new Date(Date.UTC(2026, 0, 1) + i * 60_000), durationMs: i }));
    const pages: Page[] = [];
    const source = memorySource(new Map([[null, [node('box:1', false, true)]], ['box:1', steps]]), pages);
    const seen: string[] = [];
    forEachStep(source, undefined, (s) => seen.push(s.ref));
    assert.deepStrictEqual(seen, steps.map((s) => s.ref));
    assert.ok(pages.every((p) => (p.limit ?? 200) >= 1000), 'large pages');
    const figures = sourceAnalytics(source, { sinceMs: null, grouping: 'day' });
    assert.strictEqual(figures.totals.steps, 2_345);
    assert.strictEqual(figures.totals.durationMs, (2_344 * 2_345) / 2);
    assert.deepStrictEqual(figures.groups.map((g) => [g.key, g.steps]), [['2026-01-01', 1440], ['2026-01-02', 905]]);
  });

  it('stops at the depth guard when stored parent links make a cycle', () => {
    const loop = node('box:loop', false, true);
    const source = memorySource(new Map([[null, [loop]], ['box:loop', [node('s:1', true, false), loop]]]));
    assert.strictEqual(sourceAnalytics(source, { sinceMs: null, grouping: 'step' }).totals.steps, 15);
  });

  it('reads each figure by its definition: zero tokens recorded, a cost alone, end minus start, ties in tree order, Monday weeks', () => {
    const t = (d: number, h = 0) => new Date(Date.UTC(2026, 0, d, h));
    const kids = [
      node('s:zero', true, false, { start: t(4, 23), tokens: { prompt: 0, completion: 0, total: 0 }, durationMs: 500, model: 'a' }, 'rolledBack'),
      node('s:cost', true, false, { start: t(5, 1), costUsd: 0.25, end: t(5, 2), model: 'a' }, 'failed'),
      node('s:parts', true, false, { start: t(5, 3), tokens: { prompt: 3, completion: 4, total: null }, costUsd: 0.25, durationMs: 500 }),
      node('s:backwards', true, false, { start: t(6), end: t(5), costUsd: 0 }),
      node('s:none', true, false, { start: t(6, 1) }),
    ];
    const source = memorySource(new Map([[null, kids]]));
    const f = sourceAnalytics(source, { sinceMs: null, grouping: 'week' });
    assert.deepStrictEqual(f.groups.map((g) => [g.key, g.steps, g.startMs]), [['2025-12-29', 1, Date.UTC(2025, 11, 29)], ['2026-01-05', 4, Date.UTC(2026, 0, 5)]]);
    assert.deepStrictEqual(
      [f.totals.usageSteps, f.totals.unrecordedSteps, f.totals.costSteps, f.totals.totalTokens, f.totals.cost, f.totals.failures, f.totals.rollbacks],
      [4, 1, 2, 7, 0.5, 1, 1],
    );
    assert.deepStrictEqual([f.totals.durationSteps, f.totals.durationMs], [3, 500 + HOUR + 500]);
    assert.deepStrictEqual(f.slowest.map((r) => r.target), ['s:cost', 's:zero', 's:parts']);
    assert.deepStrictEqual(f.mostExpensive.map((r) => r.target), ['s:cost', 's:parts']);
    const a = f.byModel.find((m) => m.model === 'a')!;
    assert.deepStrictEqual([a.steps, a.failureRate, a.medianDurationMs], [2, 0.5, (500 + HOUR) / 2]);
    assert.deepStrictEqual(f.byModel.map((m) => m.model), ['unknown', 'a']);
  });

  it('refuses options it cannot compute from, as the LaForge path does', () => {
    const source = memorySource(new Map());
    assert.throws(() => sourceAnalytics(source, { sinceMs: null, grouping: 'month' as AnalyticsGrouping }), TypeError);
    assert.throws(() => sourceAnalytics(source, { sinceMs: Number.NaN, grouping: 'day' }), TypeError);
  });
});
