import * as assert from 'assert';
import * as esbuild from 'esbuild';
import * as fs from 'fs';
import * as path from 'path';
import * as v8 from 'v8';
import { StepDbError } from '../../src/core/errors';
import type { Logger } from '../../src/core/log';
import { RemoteStepStore, StoreWorker } from '../../src/core/remoteStore';
import { StepStore } from '../../src/core/stepStore';
import { makeStudioReal } from '../fixtures/studio';
import { DOCUMENTED_SCHEMA, makeTempDir, SqliteProcess, stepRow, writeWithSqlite } from '../fixtures/stepFixtures';

const root = path.resolve(__dirname, '..', '..');
const wasmPath = require.resolve('sql.js/dist/sql-wasm.wasm');

async function expectDbError(promise: Promise<unknown>, code: string, message?: RegExp): Promise<StepDbError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof StepDbError, `expected a StepDbError, got ${err instanceof Error ? err.stack : err}`);
    assert.strictEqual(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected StepDbError ${code}, but it succeeded`);
}

describe('StoreWorker and RemoteStepStore (a real worker thread)', function () {
  let dir: string;
  let workerPath: string;
  let db: string;
  let worker: StoreWorker;
  const logged: string[] = [];
  const log: Logger = {
    trace: (m) => logged.push(m),
    debug: (m) => logged.push(m),
    info: (m) => logged.push(m),
    warn: (m) => logged.push(m),
    error: (m) => logged.push(m),
  };

  before(async () => {
    dir = makeTempDir();
    // The worker as it ships: bundled by esbuild from its TypeScript entry.
    workerPath = path.join(dir, 'storeWorker.js');
    await esbuild.build({
      entryPoints: [path.join(root, 'src', 'core', 'storeWorker.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node18',
      outfile: workerPath,
      logLevel: 'error',
    });
    db = path.join(dir, 'steps.db');
    const rows = [];
    for (let id = 1; id <= 30; id++) {
      rows.push(stepRow(id, { exit_code: id % 10 === 0 ? 1 : 0, project_id: id <= 25 ? 'demo' : 'other' }));
    }
    await writeWithSqlite(db, DOCUMENTED_SCHEMA, rows);
  });
  beforeEach(() => {
    logged.length = 0;
    worker = new StoreWorker({ workerPath, wasmPath, log });
  });
  afterEach(() => worker.dispose());
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('starts no worker until the first open, then answers exactly as StepStore does', async () => {
    assert.strictEqual(worker.running, false);
    const remote = await worker.open(db);
    assert.strictEqual(worker.running, true);
    const local = await StepStore.open(db, { wasmPath });
    try {
      assert.deepStrictEqual(await remote.projects(), local.projects());
      const page = await remote.steps('demo', { offset: 2, limit: 5 });
      assert.deepStrictEqual(page, local.steps('demo', { offset: 2, limit: 5 }));
      assert.ok(page[0].startTime instanceof Date, 'Dates survive the trip');
      assert.deepStrictEqual(await remote.step(7), local.step(7));
      assert.strictEqual(await remote.step(999), undefined);
      assert.deepStrictEqual(await remote.latestActiveStep('other'), local.latestActiveStep('other'));
      assert.strictEqual(await remote.stepCount('demo'), 25);
      assert.strictEqual(await remote.nextStepId(), 31);
      assert.deepStrictEqual(await remote.aggregates('demo'), local.aggregates('demo'));
      assert.deepStrictEqual(await remote.models('demo'), ['claude-3.5-sonnet']);
      assert.deepStrictEqual(remote.schema, local.schema);
      assert.strictEqual(remote.hasChanged(), false);
      assert.ok(logged.some((l) => l.startsWith(`Opened ${db}`)), `the worker's log reaches the client:\n${logged.join('\n')}`);
    } finally {
      local.close();
    }
  });

  it('answers a LaForge database as its adapter gives it, as every system\'s: projects, steps, details', async () => {
    const remote = await worker.open(db);
    const local = await StepStore.open(db, { wasmPath });
    try {
      assert.deepStrictEqual(remote.detection, { system: 'laforge', variant: local.schema.variant });
      assert.deepStrictEqual(remote.levels.map((l) => l.key), ['project', 'step']);
      const projects = await remote.children(null);
      assert.deepStrictEqual(projects.map((p) => [p.ref, p.label, p.isStep]), local.projects().map((p) => [`project:${p.id}`, p.id, false]));
      assert.strictEqual(await remote.count('project:demo'), 25);
      const page = await remote.children('project:demo', { offset: 2, limit: 5 });
      assert.deepStrictEqual(page.map((n) => n.label), local.steps('demo', { offset: 2, limit: 5 }).map((s) => s.label));
      assert.ok(page[0].metrics.start instanceof Date, 'Dates survive the trip');
      const failed = await remote.node('step:20');
      assert.strictEqual(failed?.status, 'failed');
      const sections = await remote.details('step:20');
      assert.ok(sections.some((s) => s.kind === 'facts' && s.facts.some((f) => f.label === 'Exit code' && f.value === '1')), 'the exit code in its facts');
      assert.deepStrictEqual(await remote.changes('step:20'), []);
      assert.deepStrictEqual(await remote.counterparts('step:20'), []);
    } finally {
      local.close();
    }
  });

  it('filters and counts in the worker', async () => {
    const remote = await worker.open(db);
    const failed = await remote.steps('demo', { filter: { failedOnly: true } });
    assert.deepStrictEqual(failed.map((s) => s.id), [20, 10]);
    assert.strictEqual(await remote.stepCount('demo', { filter: { text: 's2' } }), 7); // S2, S20..S25
  });

  it('serves several databases at once from one worker, answering concurrent requests by id', async () => {
    const other = path.join(dir, 'second.db');
    await writeWithSqlite(other, DOCUMENTED_SCHEMA, [stepRow(1, { project_id: 'second' })]);
    const [a, b] = await Promise.all([worker.open(db), worker.open(other)]);
    const answers = await Promise.all([a.stepCount(), b.stepCount(), a.step(3), b.step(1), a.projects(), b.projects()]);
    assert.deepStrictEqual(answers.slice(0, 2), [30, 1]);
    assert.strictEqual((answers[2] as { id: number }).id, 3);
    assert.strictEqual((answers[3] as { projectId: string }).projectId, 'second');
    assert.deepStrictEqual((answers[5] as { id: string }[]).map((p) => p.id), ['second']);
  });

  it('rebuilds typed errors from the worker as StepDbErrors with code, message and detail', async () => {
    await expectDbError(worker.open(path.join(dir, 'missing.db')), 'FILE_MISSING', /does not exist/);
    const text = path.join(dir, 'notes.db');
    fs.writeFileSync(text, 'just some notes, not a database at all');
    const err = await expectDbError(worker.open(text), 'NOT_SQLITE', /is not a SQLite database/);
    assert.match(err.detail ?? '', /starts with bytes/);
    const noTable = path.join(dir, 'other-schema.db');
    await writeWithSqlite(noTable, 'CREATE TABLE things (id INTEGER);', []);
    // Which systems were checked, and what the file holds.
    await expectDbError(worker.open(noTable), 'UNSUPPORTED_SCHEMA', /was not written by LaForge, Constellation, Autonomous Software Studio or LLM Orchestration: its tables are things\.$/);
    // The worker is still serving after errors.
    assert.strictEqual(await (await worker.open(db)).stepCount(), 30);
  });

  it('refuses queries on a closed store', async () => {
    const remote = await worker.open(db);
    await remote.close();
    assert.strictEqual(remote.alive, false);
    await expectDbError(remote.projects(), 'READ_FAILED', /already closed/);
  });

  it('rejects pending calls when the worker dies, and starts a new worker on the next call', async () => {
    const remote = await worker.open(db);
    const waiting = remote.steps('demo', { limit: 25 });
    const crash = worker.crashForTesting();
    await Promise.allSettled([waiting]);
    await expectDbError(crash, 'READ_FAILED', /stopped unexpectedly/);
    assert.strictEqual(worker.running, false);
    assert.strictEqual(remote.alive, false);
    await expectDbError(remote.projects(), 'READ_FAILED', /must be opened again/);
    assert.ok(logged.some((l) => /exited with code 3/.test(l)), logged.join('\n'));

    const reopened: RemoteStepStore = await worker.open(db);
    assert.strictEqual(worker.running, true);
    assert.strictEqual(reopened.alive, true);
    assert.strictEqual(await reopened.stepCount('demo'), 25);
  });

  it('reports a worker that cannot start as a StepDbError, and recovers once it can', async () => {
    const broken = new StoreWorker({ workerPath: path.join(dir, 'no-such-worker.js'), wasmPath, log });
    try {
      await expectDbError(broken.open(db), 'READ_FAILED', /stopped unexpectedly|could not start/);
    } finally {
      broken.dispose();
    }
  });

  describe('memory limits', () => {
    /** A real database of `steps` steps whose agent configurations carry `promptBytes` of prompt each. */
    async function bulkyDatabase(file: string, steps: number, promptBytes: number): Promise<void> {
      const rows = [];
      for (let id = 1; id <= steps; id++) {
        const system_prompt = `step ${id} `.padEnd(promptBytes, 'abcdefghij');
        rows.push(stepRow(id, { agent_config_json: JSON.stringify({ model: 'claude-3.5-sonnet', system_prompt }) }));
      }
      await writeWithSqlite(file, DOCUMENTED_SCHEMA, rows);
    }
    const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

    it('counts a file beside the database its source reads (a checkpoints.db) in the size limit, and says so', async () => {
      const studio = makeStudioReal({ shape: 'fallback', now: new Date('2026-11-20T17:00:00Z') });
      try {
        const both = fs.statSync(studio.orchestratorDbPath).size + fs.statSync(studio.checkpointsDbPath).size;
        const alone = fs.statSync(studio.orchestratorDbPath).size;
        // A limit the orchestrator.db passes alone, and the two together do not.
        const limitMb = (alone + both) / 2 / 2 ** 20;
        const limited = new StoreWorker({ workerPath, wasmPath, log, maxDatabaseSizeMb: limitMb });
        const roomy = new StoreWorker({ workerPath, wasmPath, log, maxDatabaseSizeMb: 64 });
        try {
          const err = await expectDbError(limited.open(studio.orchestratorDbPath), 'TOO_LARGE');
          assert.match(err.message, /with checkpoints\.db beside it; Step History can open step databases up to/);
          const opened = await roomy.open(studio.orchestratorDbPath);
          assert.strictEqual(opened.detection.system, 'studio');
          assert.strictEqual((await opened.children(null)).length, studio.sessions.length);
          // LaForge's calls on it say what it is, as a typed error.
          await expectDbError(opened.projects(), 'READ_FAILED', /written by another system than LaForge/);
        } finally {
          limited.dispose();
          roomy.dispose();
        }
      } finally {
        studio.rm();
      }
    });

    it('refuses a database larger than the size limit with its size and the limit, and the next open works', async () => {
      const big = path.join(dir, 'big.db');
      await bulkyDatabase(big, 33, 100_000);
      const size = fs.statSync(big).size;
      assert.ok(size > 3 * 2 ** 20 && size < 3.5 * 2 ** 20, `the big database is ${size} bytes`);
      let limitMb = 1;
      const limited = new StoreWorker({ workerPath, wasmPath, log, maxDatabaseSizeMb: () => limitMb });
      try {
        const err = await expectDbError(limited.open(big), 'TOO_LARGE');
        assert.strictEqual(
          err.message,
          `The step database ${big} is ${(size / 2 ** 20).toFixed(1)} MB; Step History can open step databases up to 1 MB ` +
            '(the stepHistory.maxDatabaseSizeMb setting).',
        );
        assert.match(err.detail ?? '', new RegExp(`^${size} bytes .* over the limit of 1 MB`));
        const generation = limited.generation;
        // The same worker opens a small database next.
        const small = await limited.open(db);
        assert.strictEqual(await small.stepCount('demo'), 25);
        assert.strictEqual(limited.generation, generation, 'a refused open does not restart the worker');
        // The limit is asked at every open: raised, the big database opens and reads whole.
        limitMb = 8;
        const opened = await limited.open(big);
        const steps = await opened.steps('demo', { limit: 50 });
        assert.strictEqual(steps.length, 33);
        assert.strictEqual(steps[0].agentConfig?.systemPrompt?.length, 100_000);
      } finally {
        limited.dispose();
      }
    });

    it('refuses a 3 GB file under the default limit before reading a byte of it', async () => {
      // Sparse: 3 GiB long, a few bytes on disk. Read, it would fail otherwise (Node reads at most 2 GiB at once).
      const huge = path.join(dir, 'huge', 'steps.db');
      fs.mkdirSync(path.dirname(huge));
      fs.copyFileSync(db, huge);
      fs.truncateSync(huge, 3 * 2 ** 30);
      await expectDbError(
        worker.open(huge),
        'TOO_LARGE',
        new RegExp(`^The step database ${escape(huge)} is 3\\.0 GB; Step History can open step databases up to 1024 MB `),
      );
      assert.strictEqual(await (await worker.open(db)).stepCount(), 30);
    });

    it('counts the -wal file in the size', async () => {
      const live = path.join(dir, 'live.db');
      await bulkyDatabase(live, 6, 100_000);
      const conn = new SqliteProcess(live);
      const copy = path.join(dir, 'live-copy.db');
      try {
        await conn.script('PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;');
        await conn.exec('BEGIN');
        for (let id = 7; id <= 12; id++) {
          await conn.insert(stepRow(id, { agent_config_json: JSON.stringify({ system_prompt: 'w'.repeat(100_000) }) }));
        }
        await conn.exec('COMMIT');
        await conn.copyTo(copy);
        await conn.close();
      } finally {
        conn.kill();
      }
      const main = fs.statSync(copy).size;
      const wal = fs.statSync(copy + '-wal').size;
      assert.ok(main < 2 ** 20 && wal < 2 ** 20 && main + wal > 2 ** 20, `database ${main} bytes, WAL ${wal} bytes`);
      const limited = new StoreWorker({ workerPath, wasmPath, log, maxDatabaseSizeMb: 1 });
      const roomy = new StoreWorker({ workerPath, wasmPath, log, maxDatabaseSizeMb: 2 });
      try {
        await expectDbError(limited.open(copy), 'TOO_LARGE', /MB with its -wal file; Step History can open step databases up to 1 MB/);
        assert.strictEqual(await (await roomy.open(copy)).stepCount(), 12);
      } finally {
        limited.dispose();
        roomy.dispose();
      }
    });

    it('runs the worker with a heap limit of its own', async () => {
      const memory = await worker.memoryUsage();
      const expectedMb = Math.min(2048, Math.floor(v8.getHeapStatistics().heap_size_limit / 2 ** 20));
      const limitMb = memory.heapLimit / 2 ** 20;
      // V8 adds the young generation (tens of MB) to the old generation's limit.
      assert.ok(limitMb >= expectedMb && limitMb <= expectedMb + 128, `the worker's heap limit is ${limitMb} MB`);
    });

    it('fails every waiting call with TOO_LARGE when a read runs the worker out of heap, then restarts it', async () => {
      const bulky = path.join(dir, 'bulky.db');
      await bulkyDatabase(bulky, 40, 1_000_000);
      const small = new StoreWorker({ workerPath, wasmPath, log, resourceLimits: { maxOldGenerationSizeMb: 16 } });
      try {
        const store = await small.open(bulky);
        const other = await small.open(db);
        assert.strictEqual(await store.stepCount(), 40, 'opening needs little heap: the file is outside it');
        const generation = small.generation;
        // Forty steps of 1 MB prompts, as strings and parsed configurations, do not fit in 16 MB.
        const page = store.steps('demo', { limit: 40 });
        const waiting = other.steps('demo');
        const err = await expectDbError(
          page,
          'TOO_LARGE',
          new RegExp(`^Step History ran out of memory reading the step database ${escape(bulky)}: its database reader may use up to 16 MB\\.`),
        );
        assert.match(err.detail ?? '', /ERR_WORKER_OUT_OF_MEMORY/);
        await expectDbError(waiting, 'TOO_LARGE', new RegExp(`ran out of memory reading the step database ${escape(db)}`));
        assert.strictEqual(small.running, false);
        assert.strictEqual(store.alive, false);
        // A new worker answers the next open; this process, the extension host's stand-in, carried on.
        const reopened = await small.open(db);
        assert.strictEqual(small.generation, generation + 1);
        assert.strictEqual(await reopened.stepCount('demo'), 25);
        assert.deepStrictEqual((await (await small.open(bulky)).steps('demo', { limit: 2 })).map((s) => s.id), [40, 39]);
      } finally {
        small.dispose();
      }
    });
  });

  it('writes the details, the tree\'s second lines and the levels\' names in the language of the bundle it is given', async () => {
    const translated = new StoreWorker({
      workerPath,
      wasmPath,
      log,
      l10nContents: { 'Exit code': 'Code de sortie', Step: 'Étape', '{0} steps': '{0} étapes', step: 'étape', steps: 'étapes' },
    });
    try {
      const remote = await translated.open(db);
      assert.deepStrictEqual(remote.levels.map((l) => [l.key, l.singular, l.plural]), [['project', 'project', 'projects'], ['step', 'étape', 'étapes']]);
      const projects = await remote.children(null);
      assert.strictEqual(projects.find((p) => p.ref === 'project:demo')?.description, '25 étapes');
      const sections = await remote.details('step:20');
      const facts = sections.find((s) => s.kind === 'facts');
      assert.ok(facts?.kind === 'facts' && facts.title === 'Étape', 'the section\'s title');
      assert.ok(facts.facts.some((f) => f.label === 'Code de sortie' && f.value === '1'), 'the exit code\'s label');
      assert.ok(facts.facts.some((f) => f.label === 'Started'), 'words the bundle does not hold stay English');
      // A worker given no bundle writes English.
      const english = await worker.open(db);
      assert.ok((await english.details('step:20')).some((s) => s.kind === 'facts' && s.facts.some((f) => f.label === 'Exit code')));
    } finally {
      translated.dispose();
    }
  });

  it('rejects calls after dispose and terminates the thread', async () => {
    const remote = await worker.open(db);
    const waiting = remote.aggregates();
    worker.dispose();
    await expectDbError(waiting, 'READ_FAILED', /stopped reading/);
    assert.strictEqual(worker.running, false);
    await expectDbError(worker.open(db), 'READ_FAILED', /stopped reading/);
  });
});
