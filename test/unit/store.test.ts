import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { StepDbError, StepDbErrorCode, StepFieldError } from '../../src/core/errors';
import { requireCommitRange } from '../../src/core/model';
import { readFingerprint, sameFingerprint, StepStore } from '../../src/core/stepStore';
import {
  DOCUMENTED_SCHEMA,
  LAFORGE_NAME_SCHEMA,
  makeTempDir,
  readWithSqlite,
  Row,
  SqliteProcess,
  stepRow,
  writeWithSqlite,
  writeWithSqlJs,
} from '../fixtures/stepFixtures';

async function expectDbError(promise: Promise<unknown>, code: StepDbErrorCode, message?: RegExp): Promise<StepDbError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof StepDbError, `expected StepDbError ${code}, got ${err}`);
    assert.strictEqual(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected StepDbError ${code}, but it succeeded`);
}

/** Names of the files in `dir`, to show nothing was created beside the database. */
const listing = (dir: string) => fs.readdirSync(dir).sort();

describe('StepStore', function () {
  let dir: string;
  let db: string;
  const stores: StepStore[] = [];
  const open = async (file = db, options = {}) => {
    const store = await StepStore.open(file, options);
    stores.push(store);
    return store;
  };

  beforeEach(() => {
    dir = makeTempDir();
    db = path.join(dir, 'steps.db');
  });
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('schemas', () => {
    it('reads the documented schema written by SQLite, and leaves no file beside it', async () => {
      await writeWithSqlite(db, DOCUMENTED_SCHEMA, [stepRow(1), stepRow(2)]);
      const before = listing(dir);
      const store = await open();
      assert.strictEqual(store.schema.variant, 'agent_config_json');
      const [s2, s1] = store.steps('demo');
      assert.deepStrictEqual([s2.id, s1.id], [2, 1]);
      assert.strictEqual(s2.agentConfig?.model, 'claude-3.5-sonnet');
      assert.deepStrictEqual(s2.warnings, []);
      store.close();
      assert.deepStrictEqual(listing(dir), before);
    });

    it("reads LaForge's agent_config_name schema, with an extra column, written by SQLite", async () => {
      const schema = LAFORGE_NAME_SCHEMA.replace('project_id TEXT NOT NULL,', 'project_id TEXT NOT NULL, container_image TEXT,');
      const row = (id: number) => {
        const r: Row = { ...stepRow(id, { agent_config_name: 'implementer', container_image: 'img:1' }) };
        delete r.agent_config_json;
        return r;
      };
      await writeWithSqlite(db, schema, [row(1), row(2)]);
      const store = await open();
      assert.strictEqual(store.schema.variant, 'agent_config_name');
      assert.deepStrictEqual(store.schema.missingOptional, []);
      const step = store.step(2)!;
      assert.strictEqual(step.agentConfigName, 'implementer');
      assert.strictEqual(step.agentConfig, null);
      assert.deepStrictEqual(step.warnings, []);
      assert.strictEqual(store.aggregates().byModel[0].model, 'implementer');
    });

    it('reads a table missing optional columns as nulls (written by sql.js)', async () => {
      await writeWithSqlJs(db, `CREATE TABLE steps (id INTEGER PRIMARY KEY, commit_sha_before TEXT, project_id TEXT, start_time TEXT, Extra BLOB)`, [
        { id: 1, commit_sha_before: 'abcd1234', project_id: 'p', start_time: '2026-01-01 00:00:00', Extra: 'x' },
      ]);
      const store = await open();
      assert.strictEqual(store.schema.variant, 'neither');
      assert.ok(store.schema.missingOptional.includes('end_time'));
      const step = store.step(1)!;
      assert.strictEqual(step.active, true);
      assert.strictEqual(step.endTime, null);
      assert.strictEqual(step.status, 'RUNNING');
      assert.strictEqual(step.tokenUsage, null, 'no token_usage_json column: not recorded');
      assert.deepStrictEqual(step.warnings, []);
      assert.strictEqual(store.projects()[0].lastStart?.toISOString(), '2026-01-01T00:00:00.000Z');
    });

    it('refuses a database without a steps table', async () => {
      await writeWithSqlJs(db, 'CREATE TABLE tasks (id INTEGER PRIMARY KEY)', []);
      const err = await expectDbError(open(), 'UNSUPPORTED_SCHEMA', /has no steps table/);
      assert.match(err.message, /steps\.db/);
      assert.match(err.detail ?? '', /tasks/);
    });

    it('refuses a steps table without project_id, naming the column', async () => {
      await writeWithSqlite(db, 'CREATE TABLE steps (id INTEGER PRIMARY KEY, commit_sha_before TEXT)', []);
      await expectDbError(open(), 'UNSUPPORTED_SCHEMA', /has no project_id column, which Step History needs\./);
    });

    it('names every missing required column', async () => {
      await writeWithSqlite(db, 'CREATE TABLE steps (id INTEGER PRIMARY KEY, name TEXT)', []);
      await expectDbError(open(), 'UNSUPPORTED_SCHEMA', /has no commit_sha_before, project_id columns/);
    });
  });

  describe('files that are not step databases', () => {
    it('reports a missing file', async () => {
      await expectDbError(open(path.join(dir, 'nope.db')), 'FILE_MISSING', /nope\.db does not exist\./);
    });

    it('reports an empty (0-byte) file as not SQLite, and creates nothing', async () => {
      fs.writeFileSync(db, '');
      await expectDbError(open(), 'NOT_SQLITE', /is empty \(0 bytes\)/);
      assert.deepStrictEqual(listing(dir), ['steps.db']);
    });

    it('reports a text file and a PNG as not SQLite', async () => {
      fs.writeFileSync(db, 'hello, this is a text file that is long enough to have a header of one hundred bytes or more..........');
      await expectDbError(open(), 'NOT_SQLITE', /is not a SQLite database\./);
      fs.writeFileSync(db, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200)]));
      const err = await expectDbError(open(), 'NOT_SQLITE');
      assert.match(err.detail ?? '', /PNG/);
    });

    it('reports a file cut mid-page as corrupt', async () => {
      await writeWithSqlite(db, DOCUMENTED_SCHEMA, Array.from({ length: 50 }, (_, i) => stepRow(i + 1)));
      const bytes = fs.readFileSync(db);
      fs.writeFileSync(db, bytes.subarray(0, bytes.length - 1000));
      await expectDbError(open(), 'CORRUPT', /is truncated/);
    });

    it('reports a file cut at a page boundary, shorter than its header says, as corrupt', async () => {
      await writeWithSqlite(db, DOCUMENTED_SCHEMA, Array.from({ length: 50 }, (_, i) => stepRow(i + 1)));
      const bytes = fs.readFileSync(db);
      fs.writeFileSync(db, bytes.subarray(0, bytes.length - 4096));
      await expectDbError(open(), 'CORRUPT', /header counts \d+ pages but only \d+ are there/);
    });

    it('reports a file cut inside its header as corrupt', async () => {
      fs.writeFileSync(db, 'SQLite format 3\0abc');
      await expectDbError(open(), 'CORRUPT', /cut off inside its 100-byte header/);
    });

    it('reports garbage over the steps b-tree as corrupt', async () => {
      await writeWithSqlite(db, DOCUMENTED_SCHEMA, Array.from({ length: 5 }, (_, i) => stepRow(i + 1)));
      const bytes = fs.readFileSync(db);
      const root = readWithSqliteRootPage(db);
      bytes.fill(0xa5, (root - 1) * 4096, root * 4096);
      fs.writeFileSync(db, bytes);
      const err = await expectDbError(open(), 'CORRUPT', /is damaged/);
      assert.match(err.detail ?? '', /malformed|corrupt/i);
    });
  });

  describe('bad rows', () => {
    it('load with warnings while the other rows load cleanly', async () => {
      const html = '<script>alert("x")</script>';
      await writeWithSqlite(db, DOCUMENTED_SCHEMA, [
        stepRow(1),
        stepRow(2, { agent_config_json: '{"model": ' }),
        stepRow(3, { token_usage_json: '{"prompt_tokens": }' }),
        stepRow(4, { commit_sha_before: 'not-a-hash' }),
        stepRow(5, { commit_sha_after: 'abc' }),
        stepRow(6, { project_id: 'demo', agent_config_json: JSON.stringify({ model: html, system_prompt: html }) }),
        stepRow(7, { start_time: '2026-01-01T12:00:00Z', end_time: '2026-01-01T11:00:00Z', duration_ms: null }),
        stepRow(8, { parent_step_id: 42 }),
        stepRow(9, { start_time: 'whenever' }),
      ]);
      const store = await open();
      const steps = store.steps('demo');
      assert.strictEqual(steps.length, 9);
      const fields = (id: number) => steps.find((s) => s.id === id)!.warnings.map((w) => w.field);
      assert.deepStrictEqual(fields(1), []);
      assert.deepStrictEqual(fields(2), ['agentConfig']);
      assert.deepStrictEqual(fields(3), ['tokenUsage']);
      assert.deepStrictEqual(fields(4), ['commitBefore']);
      assert.deepStrictEqual(fields(5), ['commitAfter']);
      assert.deepStrictEqual(fields(6), []);
      assert.deepStrictEqual(fields(7), ['endTime']);
      assert.deepStrictEqual(fields(8), ['parentStepId']);
      assert.deepStrictEqual(fields(9), ['startTime']);
      assert.strictEqual(store.step(6)!.agentConfig?.systemPrompt, html);
      assert.strictEqual(store.step(7)!.durationMs, null, 'no duration from an end before the start');
      assert.match(store.step(8)!.warnings[0].message, /^S8's parent step S42 does not exist in this database\.$/);

      assert.throws(() => requireCommitRange(store.step(5)!), (e: unknown) =>
        e instanceof StepFieldError && e.message === 'S5 has no valid commit after: "abc" is not a commit hash.');
      assert.throws(() => requireCommitRange(store.step(4)!), (e: unknown) =>
        e instanceof StepFieldError && e.message === 'S4 has no valid commit before: "not-a-hash" is not a commit hash.');
      assert.deepStrictEqual(requireCommitRange(store.step(1)!), { before: store.step(1)!.commitBefore, after: store.step(1)!.commitAfter });

      const agg = store.aggregates('demo');
      assert.strictEqual(agg.totals.steps, 9);
      assert.strictEqual(agg.undatedSteps, 1);
      assert.strictEqual(agg.totals.promptTokens, 800, 'the broken token JSON counts as zero');
    });

    it('checks parents outside the page with a single lookup', async () => {
      await writeWithSqlite(db, DOCUMENTED_SCHEMA, Array.from({ length: 30 }, (_, i) => stepRow(i + 1)));
      const store = await open();
      const page = store.steps('demo', { limit: 10 });
      assert.deepStrictEqual(page.map((s) => s.id), [30, 29, 28, 27, 26, 25, 24, 23, 22, 21]);
      assert.ok(page.every((s) => s.warnings.length === 0), 'parent S20 is outside the page but exists');
    });
  });

  describe('queries', () => {
    const rows = [
      stepRow(1, { project_id: 'a' }),
      stepRow(2, { project_id: 'b' }),
      stepRow(3, { project_id: 'a', active: 0 }),
      stepRow(4, { project_id: 'a' }),
      stepRow(5, { project_id: 'a', active: 0 }),
      stepRow(6, { project_id: 'a', end_time: null, commit_sha_after: '' }),
      stepRow(7, { project_id: 'b', exit_code: 1 }),
    ];

    beforeEach(() => writeWithSqlJs(db, DOCUMENTED_SCHEMA, rows));

    it('pages newest first with offset, limit and activeOnly', async () => {
      const store = await open();
      assert.deepStrictEqual(store.steps('a').map((s) => s.id), [6, 5, 4, 3, 1]);
      assert.deepStrictEqual(store.steps('a', { limit: 2 }).map((s) => s.id), [6, 5]);
      assert.deepStrictEqual(store.steps('a', { offset: 2, limit: 2 }).map((s) => s.id), [4, 3]);
      assert.deepStrictEqual(store.steps('a', { offset: 4 }).map((s) => s.id), [1]);
      assert.deepStrictEqual(store.steps('a', { activeOnly: true }).map((s) => s.id), [6, 4, 1]);
      assert.deepStrictEqual(store.steps('a', { activeOnly: true, offset: 1, limit: 1 }).map((s) => s.id), [4]);
      assert.deepStrictEqual(store.steps('nobody'), []);
      assert.deepStrictEqual(store.steps('a').map((s) => s.status), ['RUNNING', 'ROLLED BACK', 'COMPLETED', 'ROLLED BACK', 'COMPLETED']);
    });

    it('lists projects with counts and the start of their newest step', async () => {
      const store = await open();
      assert.deepStrictEqual(
        store.projects().map((p) => ({ ...p, lastStart: p.lastStart?.toISOString() })),
        [
          { id: 'b', stepCount: 2, activeCount: 2, lastStart: '2026-01-01T10:07:00.000Z' },
          { id: 'a', stepCount: 5, activeCount: 3, lastStart: '2026-01-01T10:06:00.000Z' },
        ],
      );
    });

    it('counts steps, finds the latest active step and the next id', async () => {
      const store = await open();
      assert.strictEqual(store.stepCount(), 7);
      assert.strictEqual(store.stepCount('a'), 5);
      assert.strictEqual(store.stepCount('a', { activeOnly: true }), 3);
      assert.strictEqual(store.stepCount(undefined, { activeOnly: true }), 5);
      assert.strictEqual(store.latestActiveStep('a')?.id, 6);
      assert.strictEqual(store.latestActiveStep('b')?.id, 7);
      assert.strictEqual(store.latestActiveStep('nobody'), undefined);
      assert.strictEqual(store.step(99), undefined);
      assert.strictEqual(store.nextStepId(), 8);
    });

    it('takes the next id from sqlite_sequence, which remembers deleted steps', async () => {
      const live = new SqliteProcess(db);
      try {
        await live.exec('DELETE FROM steps WHERE id >= 6');
        await live.close();
      } finally {
        live.kill();
      }
      const store = await open();
      assert.strictEqual(store.nextStepId(), 8);
    });

    it('gives 1, then max(id) + 1, without sqlite_sequence', async () => {
      fs.rmSync(db);
      await writeWithSqlJs(db, 'CREATE TABLE steps (id INTEGER PRIMARY KEY, commit_sha_before TEXT, project_id TEXT)', []);
      assert.strictEqual((await open()).nextStepId(), 1);
      fs.rmSync(db);
      await writeWithSqlJs(db, 'CREATE TABLE steps (id INTEGER PRIMARY KEY, commit_sha_before TEXT, project_id TEXT)', [
        { id: 41, commit_sha_before: 'abcd', project_id: 'p' },
      ]);
      assert.strictEqual((await open()).nextStepId(), 42);
    });
  });

  describe('aggregates', () => {
    it('adds up by UTC day, by model and in total', async () => {
      const tokens = (p: number, c: number, cost: number) =>
        JSON.stringify({ prompt_tokens: p, completion_tokens: c, total_tokens: p + c, cost });
      const cfg = (model?: string) => JSON.stringify(model ? { model } : { tools: [] });
      await writeWithSqlite(db, DOCUMENTED_SCHEMA, [
        // Day 2026-03-01 (UTC): steps 1, 2, and 3 whose local time is the evening before +02:00.
        stepRow(1, { start_time: '2026-03-01T08:00:00Z', end_time: '2026-03-01T08:01:00Z', duration_ms: 1000, token_usage_json: tokens(10, 5, 0.5), agent_config_json: cfg('m1') }),
        stepRow(2, { start_time: '2026-03-01 23:59:59', end_time: '2026-03-02 00:00:09', duration_ms: null, token_usage_json: tokens(1, 1, 0.25), agent_config_json: cfg('m2'), exit_code: 3 }),
        stepRow(3, { start_time: '2026-03-02T01:00:00+02:00', end_time: '2026-03-02T01:00:02+02:00', duration_ms: 2000, token_usage_json: tokens(100, 0, 1), agent_config_json: cfg('m1'), active: 0 }),
        // Day 2026-03-02: Go's String() form; broken token JSON counts as zero.
        stepRow(4, { start_time: '2026-03-02 10:00:00.5 +0000 UTC', end_time: null, duration_ms: null, token_usage_json: '{oops', agent_config_json: cfg() }),
        // No readable start: in totals and byModel, in no day.
        stepRow(5, { start_time: 'garbage', end_time: '2026-03-05T00:00:00Z', duration_ms: 4000, token_usage_json: tokens(7, 3, 0.125), agent_config_json: '{broken' }),
        stepRow(6, { project_id: 'other', start_time: '2026-03-01T00:00:00Z', duration_ms: 99, token_usage_json: tokens(1000, 0, 9), agent_config_json: cfg('m1') }),
      ]);
      const store = await open();
      const agg = store.aggregates('demo');
      const counters = (steps: number, durationMs: number, usageSteps: number, promptTokens: number, completionTokens: number, cost: number, failures: number, rollbacks: number) =>
        ({ steps, durationMs, usageSteps, promptTokens, completionTokens, totalTokens: promptTokens + completionTokens, cost, failures, rollbacks });
      assert.deepStrictEqual(agg.byDay, [
        { day: '2026-03-01', ...counters(3, 1000 + 10_000 + 2000, 3, 111, 6, 1.75, 1, 1) },
        { day: '2026-03-02', ...counters(1, 0, 0, 0, 0, 0, 0, 0) },
      ]);
      assert.deepStrictEqual(agg.totals, counters(5, 17_000, 4, 118, 9, 1.875, 1, 1));
      assert.strictEqual(agg.undatedSteps, 1);
      assert.deepStrictEqual(agg.unrecordedStepIds, [4], 'the broken token JSON is not recorded usage');
      assert.deepStrictEqual(agg.byModel, [
        { model: 'm1', ...counters(2, 3000, 2, 110, 5, 1.5, 0, 1) },
        { model: 'unknown', ...counters(2, 4000, 1, 7, 3, 0.125, 0, 0) },
        { model: 'm2', ...counters(1, 10_000, 1, 1, 1, 0.25, 1, 0) },
      ]);
      assert.strictEqual(store.aggregates().totals.steps, 6);
      assert.strictEqual(store.aggregates().totals.promptTokens, 1118);
    });

    it('counts apart the steps that record no usage, as LaForge writes them today (zeros), `{}` or empty', async () => {
      const zeros = JSON.stringify({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cost: 0 });
      const rows = Array.from({ length: 29 }, (_, i) =>
        stepRow(i + 1, {
          token_usage_json: i < 12 ? JSON.stringify({ prompt_tokens: 1000, completion_tokens: 100, total_tokens: 1100, cost: 0.25 }) : i % 3 === 0 ? zeros : i % 3 === 1 ? '{}' : '',
        }),
      );
      await writeWithSqlite(db, DOCUMENTED_SCHEMA, rows);
      const { totals, unrecordedStepIds } = (await open()).aggregates('demo');
      assert.strictEqual(totals.steps, 29);
      assert.strictEqual(totals.usageSteps, 12);
      assert.strictEqual(totals.cost, 3);
      assert.strictEqual(totals.totalTokens, 12 * 1100);
      assert.deepStrictEqual(unrecordedStepIds, Array.from({ length: 17 }, (_, i) => i + 13));
    });
  });

  describe('WAL databases', () => {
    let writer: SqliteProcess | undefined;
    afterEach(() => writer?.kill());

    it('reads committed WAL transactions of a live writer exactly as SQLite does, creating no files', async () => {
      writer = new SqliteProcess(db);
      await writer.exec('PRAGMA journal_mode=WAL');
      await writer.exec('PRAGMA wal_autocheckpoint=0');
      await writer.script(DOCUMENTED_SCHEMA);
      for (let t = 0; t < 3; t++) {
        await writer.exec('BEGIN');
        for (let i = 1; i <= 10; i++) await writer.insert(stepRow(t * 10 + i));
        await writer.exec('COMMIT');
      }
      await writer.exec('UPDATE steps SET active = 0 WHERE id > 25');
      const before = listing(dir);
      const store = await open();
      assert.ok(store.framesApplied > 0);
      assert.deepStrictEqual(listing(dir), before, 'no -shm or -journal made by the reader');
      const expected = readWithSqlite(db);
      const ids = expected.rows.map((r) => r[0]).reverse();
      assert.deepStrictEqual(store.steps('demo', { limit: 1000 }).map((s) => s.id), ids);
      const idx = expected.columns.indexOf('active');
      assert.deepStrictEqual(
        store.steps('demo', { limit: 1000 }).map((s) => s.active),
        expected.rows.map((r) => r[idx] === 1).reverse(),
      );
      assert.strictEqual(store.stepCount('demo', { activeOnly: true }), 25);
    });

    it('notices a change that only reaches the WAL, and reads it after reopening', async () => {
      writer = new SqliteProcess(db);
      await writer.exec('PRAGMA journal_mode=WAL');
      await writer.exec('PRAGMA wal_autocheckpoint=0');
      await writer.script(DOCUMENTED_SCHEMA);
      await writer.insert(stepRow(1));
      const store = await open();
      assert.strictEqual(store.hasChanged(), false);
      const mainStat = fs.statSync(db);
      await writer.insert(stepRow(2));
      assert.strictEqual(fs.statSync(db).mtimeMs, mainStat.mtimeMs, 'the main file is untouched');
      assert.strictEqual(store.hasChanged(), true);
      const reopened = await open();
      assert.deepStrictEqual(reopened.steps('demo').map((s) => s.id), [2, 1]);
      assert.strictEqual(reopened.hasChanged(), false);
    });
  });

  describe('change detection', () => {
    it('is false for an unchanged file and true after a write in rollback-journal mode', async () => {
      await writeWithSqlite(db, DOCUMENTED_SCHEMA, [stepRow(1)]);
      const store = await open();
      assert.strictEqual(store.hasChanged(), false);
      assert.ok(sameFingerprint(readFingerprint(db), store.fingerprint));
      const writer = new SqliteProcess(db);
      try {
        await writer.exec(`UPDATE steps SET exit_code = 1 WHERE id = 1`);
        await writer.close();
      } finally {
        writer.kill();
      }
      assert.strictEqual(store.hasChanged(), true);
      assert.strictEqual((await open()).step(1)!.status, 'FAILED');
    });

    it('is true when the database is deleted', async () => {
      await writeWithSqlJs(db, DOCUMENTED_SCHEMA, [stepRow(1)]);
      const store = await open();
      fs.rmSync(db);
      assert.strictEqual(store.hasChanged(), true);
      assert.strictEqual(readFingerprint(db).db, null);
    });

    it('retries once when the file changes during the read, and reads the new content', async () => {
      await writeWithSqlJs(db, DOCUMENTED_SCHEMA, [stepRow(1)]);
      const attempts: number[] = [];
      const store = await open(db, {
        beforeSecondStat: (attempt: number) => {
          attempts.push(attempt);
          if (attempt === 1) fs.appendFileSync(db, Buffer.alloc(4096));
        },
      });
      assert.deepStrictEqual(attempts, [1, 2]);
      assert.strictEqual(store.stepCount(), 1);
    });

    it('reports CHANGED_WHILE_READING when the file changes during both reads', async () => {
      await writeWithSqlJs(db, DOCUMENTED_SCHEMA, [stepRow(1)]);
      const attempts: number[] = [];
      const err = await expectDbError(
        open(db, {
          beforeSecondStat: (attempt: number) => {
            attempts.push(attempt);
            fs.appendFileSync(db, Buffer.alloc(4096));
          },
        }),
        'CHANGED_WHILE_READING',
        /kept changing while Step History read it/,
      );
      assert.deepStrictEqual(attempts, [1, 2]);
      assert.match(err.message, /steps\.db/);
    });
  });
});

/** The root page of the steps table, as SQLite reports it. */
function readWithSqliteRootPage(file: string): number {
  const out = execFileSync('python3', ['-c', [
    'import sqlite3, sys',
    'c = sqlite3.connect(sys.argv[1])',
    "print(c.execute(\"SELECT rootpage FROM sqlite_master WHERE name = 'steps'\").fetchone()[0])",
    'c.close()',
  ].join('\n'), file], { encoding: 'utf8' });
  return Number(out.trim());
}
