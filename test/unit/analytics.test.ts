import * as assert from 'assert';
import * as esbuild from 'esbuild';
import * as fs from 'fs';
import * as path from 'path';
import { rangeSince, type AnalyticsGrouping, type AnalyticsOptions, type AnalyticsRange, type StepAnalytics } from '../../src/core/analytics';
import { StoreWorker } from '../../src/core/remoteStore';
import { StepStore } from '../../src/core/stepStore';
import { cliRows as cli, exactReals as exact, fixtureRows, g17, NOW, writeWithPython } from '../fixtures/analyticsRows';
import { LAFORGE_NAME_SCHEMA, makeTempDir } from '../fixtures/stepFixtures';

const root = path.join(__dirname, '..', '..');
const wasmPath = require.resolve('sql.js/dist/sql-wasm.wasm');


/**
 * Each row's figures written plainly for this data, with SQLite's own date parser and JSON
 * functions: nothing of the store's SQL.
 */
const JSON_MODEL = `coalesce(json_extract(agent_config_json, '$.model'), 'unknown')`;
const base = (model: string) => `WITH b AS (SELECT id, project_id,
  CASE WHEN typeof(start_time) = 'integer' THEN start_time * 1000
    ELSE CAST(round((julianday(start_time) - 2440587.5) * 86400000) AS INTEGER) END AS s,
  coalesce(duration_ms, CAST(round((julianday(end_time) - julianday(start_time)) * 86400000) AS INTEGER)) AS d,
  (active = 1 AND end_time IS NOT NULL AND exit_code <> 0) AS f,
  (active = 0) AS rb,
  ${model} AS m,
  CASE WHEN json_valid(token_usage_json) THEN coalesce(json_extract(token_usage_json, '$.prompt_tokens'), 0) ELSE 0 END AS p,
  CASE WHEN json_valid(token_usage_json) THEN coalesce(json_extract(token_usage_json, '$.completion_tokens'), 0) ELSE 0 END AS c,
  CASE WHEN json_valid(token_usage_json) THEN coalesce(json_extract(token_usage_json, '$.total_tokens'), 0) ELSE 0 END AS t,
  CASE WHEN json_valid(token_usage_json) THEN coalesce(json_extract(token_usage_json, '$.cost'), 0) ELSE 0 END AS k
  FROM steps)`;

const COUNTERS = `count(*) AS steps, sum(f) AS failures, sum(rb) AS rollbacks,
  sum(p <> 0 OR c <> 0 OR t <> 0 OR k <> 0) AS usageSteps, sum(NOT (p <> 0 OR c <> 0 OR t <> 0 OR k <> 0)) AS unrecordedSteps,
  sum(k <> 0) AS costSteps, sum(p) AS promptTokens, sum(c) AS completionTokens, sum(t) AS totalTokens,
  ${g17('total(k)')} AS cost, coalesce(sum(d), 0) AS durationMs, count(d) AS durationSteps`;

function expected(file: string, o: AnalyticsOptions, model = JSON_MODEL): StepAnalytics {
  const where = [
    o.projectId === undefined ? '1' : `project_id = '${o.projectId}'`,
    o.sinceMs === null ? '1' : `s >= ${o.sinceMs}`,
  ].join(' AND ');
  const r = `${base(model)}, r AS (SELECT * FROM b WHERE ${where})`;
  const weekStart = `date(s / 1000, 'unixepoch', '-6 days', 'weekday 1')`;
  const key =
    o.grouping === 'step' ? `'S' || id` : o.grouping === 'day' ? `date(s / 1000, 'unixepoch')` : weekStart;
  const groups = cli(
    file,
    `${r} SELECT ${key} AS key, ${o.grouping === 'step' ? 'CAST(id AS TEXT)' : 'NULL'} AS target,
      ${o.grouping === 'step' ? 'min(s)' : `CAST(strftime('%s', ${key}) AS INTEGER) * 1000`} AS startMs, ${COUNTERS},
      sum(sum(t)) OVER (ORDER BY ${o.grouping === 'step' ? 'id' : key}) AS cumulativeTotalTokens,
      ${g17(`sum(total(k)) OVER (ORDER BY ${o.grouping === 'step' ? 'id' : key})`)} AS cumulativeCost
    FROM r ${o.grouping === 'step' ? '' : 'WHERE s IS NOT NULL'} GROUP BY ${o.grouping === 'step' ? 'id' : key} ORDER BY ${o.grouping === 'step' ? 'id' : key}`,
  );
  const [totals] = cli(
    file,
    `${r} SELECT count(*) AS steps, coalesce(sum(f), 0) AS failures, coalesce(sum(rb), 0) AS rollbacks,
      coalesce(sum(p <> 0 OR c <> 0 OR t <> 0 OR k <> 0), 0) AS usageSteps, coalesce(sum(NOT (p <> 0 OR c <> 0 OR t <> 0 OR k <> 0)), 0) AS unrecordedSteps,
      coalesce(sum(k <> 0), 0) AS costSteps, coalesce(sum(p), 0) AS promptTokens, coalesce(sum(c), 0) AS completionTokens,
      coalesce(sum(t), 0) AS totalTokens, ${g17('total(k)')} AS cost, coalesce(sum(d), 0) AS durationMs, count(d) AS durationSteps,
      coalesce(sum(s IS NULL), 0) AS undated FROM r`,
  );
  // The median as the middle one or two of each model's durations, ranked by counting the ones before.
  const byModel = cli(
    file,
    `${r}, known AS (SELECT id, m, d, (SELECT count(*) FROM r AS y WHERE y.m = x.m AND y.d IS NOT NULL) AS n,
        (SELECT count(*) FROM r AS y WHERE y.m = x.m AND y.d IS NOT NULL AND (y.d < x.d OR (y.d = x.d AND y.id < x.id))) AS rank
      FROM r AS x WHERE d IS NOT NULL),
    medians AS (SELECT m, avg(d) AS median FROM known WHERE rank IN ((n - 1) / 2, n / 2) GROUP BY m)
    SELECT r.m AS model, ${COUNTERS},
      ${g17('(SELECT median FROM medians WHERE medians.m = r.m)')} AS medianDurationMs
    FROM r GROUP BY r.m ORDER BY count(*) DESC, r.m`,
  );
  const ranked = (value: string, condition: string) =>
    exact(cli(file, `${r} SELECT CAST(id AS TEXT) AS target, 'S' || id AS label, ${g17(value)} AS value FROM r WHERE ${condition} ORDER BY ${value} DESC, id LIMIT 10`));
  const { undated, ...counters } = exact([totals])[0];
  return {
    grouping: o.grouping,
    sinceMs: o.sinceMs,
    groups: exact(groups) as unknown as StepAnalytics['groups'],
    totals: counters as unknown as StepAnalytics['totals'],
    undatedSteps: undated as number,
    // failures / steps in JavaScript from the CLI's counts: its printf does not write every real exactly.
    byModel: exact(byModel).map((m) => ({ ...m, failureRate: (m.failures as number) / (m.steps as number) })) as unknown as StepAnalytics['byModel'],
    slowest: ranked('d', 'd IS NOT NULL') as unknown as StepAnalytics['slowest'],
    mostExpensive: ranked('k', 'k > 0') as unknown as StepAnalytics['mostExpensive'],
  };
}

describe('Analytics figures (StepStore.analytics) against the sqlite3 CLI', function () {
  let dir: string;
  let db: string;
  let store: StepStore;

  before(async () => {
    dir = makeTempDir();
    db = path.join(dir, 'steps.db');
    writeWithPython(db, fixtureRows());
    store = await StepStore.open(db, { wasmPath });
  });
  after(() => {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const ranges: AnalyticsRange[] = ['all', '30d', '7d'];
  const groupings: AnalyticsGrouping[] = ['step', 'day', 'week'];
  for (const projectId of [undefined, 'alpha']) {
    for (const range of ranges) {
      for (const grouping of groupings) {
        it(`${projectId ?? 'all projects'}, range ${range}, per ${grouping}: every figure as the CLI computes it`, () => {
          const options = { projectId, sinceMs: rangeSince(range, NOW), grouping };
          assert.deepStrictEqual(store.analytics(options), expected(db, options));
        });
      }
    }
  }

  it('counts a step whose usage records nothing apart, never as zero tokens', () => {
    const all = store.analytics({ sinceMs: null, grouping: 'day' });
    // Steps 6 (zeros), 7 ({}), 12 (not JSON): nowhere in the token or cost sums.
    assert.strictEqual(all.totals.unrecordedSteps, 3);
    assert.strictEqual(all.totals.usageSteps, all.totals.steps - 3);
    const jan4 = all.groups.find((g) => g.key === '2026-01-04')!;
    assert.deepStrictEqual([jan4.steps, jan4.usageSteps, jan4.unrecordedSteps], [4, 2, 2]);
    // Step 13 records tokens without a cost: it is a usage step, not a cost step.
    const jan7 = all.groups.find((g) => g.key === '2026-01-07')!;
    assert.deepStrictEqual([jan7.usageSteps, jan7.costSteps, jan7.cost], [1, 0, 0]);
  });

  it('puts a step by its UTC day and the Monday of its UTC week, across the week boundary', () => {
    const weeks = store.analytics({ sinceMs: rangeSince('30d', NOW), grouping: 'week' });
    assert.deepStrictEqual(weeks.groups.map((g) => [g.key, g.steps]), [['2025-12-29', 6], ['2026-01-05', 9]]);
    // 01:30 on Monday in +02:00 is Sunday 23:30 UTC: the earlier week, the day 4 January.
    const days = store.analytics({ sinceMs: null, grouping: 'day' });
    assert.deepStrictEqual(days.groups.filter((g) => g.key >= '2026-01-04' && g.key <= '2026-01-05').map((g) => [g.key, g.steps]), [['2026-01-04', 4], ['2026-01-05', 2]]);
    assert.strictEqual(days.undatedSteps, 1);
    assert.strictEqual(weeks.groups.at(-1)!.cumulativeTotalTokens, weeks.totals.totalTokens);
  });

  it('counts a rolled-back step as a rollback and not as a failure, and a running one as neither', () => {
    const all = store.analytics({ sinceMs: null, grouping: 'step' });
    const step = (id: number) => all.groups.find((g) => g.target === String(id))!;
    assert.deepStrictEqual([step(8).failures, step(8).rollbacks], [0, 1]);
    assert.deepStrictEqual([step(5).failures, step(5).rollbacks], [1, 0]);
    assert.deepStrictEqual([step(14).failures, step(14).durationSteps], [0, 0]);
    assert.deepStrictEqual([all.totals.failures, all.totals.rollbacks], [3, 3]);
  });

  it('leaves out the steps before the range, and undated ones, once a range is given', () => {
    const week = store.analytics({ sinceMs: rangeSince('7d', NOW), grouping: 'day' });
    assert.strictEqual(week.totals.steps, 14);
    assert.strictEqual(week.undatedSteps, 0);
    assert.ok(week.groups.every((g) => g.startMs! >= Date.UTC(2026, 0, 3)));
  });

  it('answers the same through the store worker', async () => {
    const workerPath = path.join(dir, 'storeWorker.js');
    await esbuild.build({
      entryPoints: [path.join(root, 'src', 'core', 'storeWorker.ts')],
      bundle: true, platform: 'node', format: 'cjs', target: 'node18', outfile: workerPath, logLevel: 'error',
    });
    const worker = new StoreWorker({ workerPath, wasmPath });
    try {
      const remote = await worker.open(db);
      const options: AnalyticsOptions = { projectId: 'alpha', sinceMs: rangeSince('30d', NOW), grouping: 'week' };
      assert.deepStrictEqual(await remote.analytics(options), store.analytics(options));
    } finally {
      worker.dispose();
    }
  });
});

describe('Analytics figures of the agent_config_name schema against the sqlite3 CLI', () => {
  it('names each model by its configuration name, "unknown" when it has none', async () => {
    const dir = makeTempDir();
    try {
      const db = path.join(dir, 'steps.db');
      const rows = fixtureRows().map(({ agent_config_json: _, ...row }) => ({
        ...row,
        agent_config_name: [null, 'careful-agent', 'fast-agent', '', 'fast-agent'][Number(row.id) % 5],
      }));
      writeWithPython(db, rows, LAFORGE_NAME_SCHEMA);
      const store = await StepStore.open(db, { wasmPath });
      try {
        for (const grouping of ['step', 'week'] as const) {
          const options = { sinceMs: rangeSince('30d', NOW), grouping };
          const figures = store.analytics(options);
          assert.deepStrictEqual(figures.byModel.map((m) => m.model).sort(), ['careful-agent', 'fast-agent', 'unknown']);
          assert.deepStrictEqual(figures, expected(db, options, `coalesce(nullif(agent_config_name, ''), 'unknown')`));
        }
      } finally {
        store.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
