import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { execFileSync } from 'child_process';
import type { StepAnalytics } from '../../src/core/analytics';
import { analyticsCsv, analyticsFileName, analyticsJson, csvCell } from '../../src/core/analyticsExport';
import { StepStore } from '../../src/core/stepStore';
import { DOCUMENTED_SCHEMA, makeTempDir } from '../fixtures/stepFixtures';

const wasmPath = require.resolve('sql.js/dist/sql-wasm.wasm');

describe('Analytics export', () => {
  it('quotes a cell only when it must, and makes a formula inert', () => {
    assert.strictEqual(csvCell('S12'), 'S12');
    assert.strictEqual(csvCell('a, "b"'), '"a, ""b"""');
    assert.strictEqual(csvCell('line\nbreak'), '"line\nbreak"');
    assert.strictEqual(csvCell('=HYPERLINK("http://x")'), `"'=HYPERLINK(""http://x"")"`);
    assert.strictEqual(csvCell('+1'), "'+1");
    assert.strictEqual(csvCell('@SUM(A1)'), "'@SUM(A1)");
    assert.strictEqual(csvCell(null), '');
    assert.strictEqual(csvCell(0), '0');
    assert.strictEqual(csvCell(Number.NaN), '');
  });

  it('names the file from the scope, safely', () => {
    assert.strictEqual(analyticsFileName({ scope: 'My Project/../x in steps.db', range: '30d', grouping: 'day' }, 'csv'), 'step-analytics-my-project-x-in-steps-db-30d-per-day.csv');
    assert.strictEqual(analyticsFileName({ scope: '***', range: 'all', grouping: 'step' }, 'json'), 'step-analytics-all-all-per-step.json');
  });

  describe('on a database written by the real SQLite engine', () => {
    let dir: string;
    let analytics: StepAnalytics;

    before(async () => {
      dir = makeTempDir();
      const db = path.join(dir, 'steps.db');
      const usage = JSON.stringify({ prompt_tokens: 100, completion_tokens: 20, total_tokens: 120, cost: 0.25 });
      const zeros = JSON.stringify({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cost: 0 });
      // The SQL on standard input: the schema starts with a comment, which the command line would read as an option.
      execFileSync('sqlite3', [db], {
        input: `${DOCUMENTED_SCHEMA};
         INSERT INTO steps (id, active, commit_sha_before, agent_config_json, start_time, end_time, duration_ms, token_usage_json, exit_code, project_id)
         VALUES (1, 1, '${'a'.repeat(40)}', '{"model":"m"}', '2026-01-05T10:00:00Z', '2026-01-05T10:00:30Z', 30000, '${usage}', 0, 'p'),
                (2, 0, '${'b'.repeat(40)}', '{"model":"m"}', '2026-01-06T10:00:00Z', '2026-01-06T10:00:10Z', 10000, '${zeros}', 1, 'p');`,
      });
      const store = await StepStore.open(db, { wasmPath });
      analytics = store.analytics({ sinceMs: null, grouping: 'step' });
      store.close();
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('writes one CSV line per group, usage not recorded as empty cells, never as zero', () => {
      const lines = analyticsCsv(analytics).split('\r\n');
      assert.strictEqual(lines.at(-1), '', 'ends with a line break');
      assert.deepStrictEqual(lines.slice(1, -1), [
        'S1,2026-01-05T10:00:00.000Z,1,0,0,1,0,100,20,120,0.25,30000,1,120,0.25',
        'S2,2026-01-06T10:00:00.000Z,1,0,1,0,1,,,,,10000,1,120,0.25',
      ]);
      assert.strictEqual(lines[0].split(',').length, lines[1].split(',').length);
    });

    it('writes everything shown as JSON, with null where nothing was recorded', () => {
      const saved = JSON.parse(
        analyticsJson(analytics, { scope: 'p in steps.db', system: 'LaForge', database: 'steps.db', range: 'all', grouping: 'step', readAt: new Date(0) }),
      );
      assert.deepStrictEqual(saved.totals, analytics.totals);
      assert.strictEqual(saved.groups[1].totalTokens, null);
      assert.strictEqual(saved.groups[1].cost, null);
      assert.strictEqual(saved.groups[0].totalTokens, 120);
      assert.deepStrictEqual(saved.slowest.map((s: { label: string }) => s.label), ['S1', 'S2']);
      assert.strictEqual(saved.readAt, '1970-01-01T00:00:00.000Z');
    });
  });
});
