import * as assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LLMO_SCHEMA, makeLlmOrchestration, type LlmoFixture, type LlmoRun } from '../../fixtures/llmOrchestration';
import { makeLaforgeToday } from '../../fixtures/laforgeToday';
import { openSnapshot, schemaShape, sqlReader } from '../../../src/core/sources/snapshot';
import type { DetailSection, HistoryNode, HistorySource, SchemaShape } from '../../../src/core/sources/types';
import {
  DELETED_RUN_LABEL,
  DELETED_RUN_REF,
  DELETED_WORKFLOW_LABEL,
  DELETED_WORKFLOW_REF,
  LlmOrchestrationSource,
  TEXT_LIMIT,
  llmOrchestrationAdapter as adapter,
} from '../../../src/core/sources/llmOrchestration';
import { StepDbError } from '../../../src/core/errors';

const NOW = new Date('2026-11-20T17:00:00.250Z');

interface Opened {
  source: HistorySource;
  shape: SchemaShape;
  close(): void;
}

async function open(file: string, now = NOW): Promise<Opened> {
  const snap = await openSnapshot(file);
  const shape = schemaShape(snap.db, file);
  const reader = sqlReader(snap.db, file);
  const detection = adapter.detect(shape);
  assert.ok(detection, `${file} is detected`);
  // The adapter's source, with a fixed clock for the "still running" note.
  const source = new LlmOrchestrationSource(detection, reader, () => now);
  return { source, shape, close: () => reader.close() };
}

/**
 * A file written by hand with the real SQLite engine from the app's DDL: python3 runs `body`
 * with `c` the connection and `job` the values given (`job["huge"]`), then commits.
 */
function writeByHand(db: string, body: string, values: Record<string, string> = {}): void {
  const script = ['import json, sqlite3, sys', 'job = json.load(sys.stdin)', 'c = sqlite3.connect(job["db"])', 'for ddl in job["schema"]:', '    c.execute(ddl)', body, 'c.commit()'].join('\n');
  execFileSync('python3', ['-c', script], { input: JSON.stringify({ db, schema: Object.values(LLMO_SCHEMA), ...values }) });
}

async function shapeOf(file: string): Promise<SchemaShape> {
  const snap = await openSnapshot(file);
  try {
    return schemaShape(snap.db, file);
  } finally {
    snap.db.close();
  }
}

const facts = (sections: DetailSection[], title?: string): Record<string, string> => {
  const s = sections.find((x) => x.kind === 'facts' && (title === undefined || x.title === title));
  assert.ok(s && s.kind === 'facts', `facts section ${title ?? ''}`);
  return Object.fromEntries(s.facts.map((f) => [f.label, f.value]));
};
const textSection = (sections: DetailSection[], title: string): string | undefined => {
  const s = sections.find((x) => x.kind === 'text' && x.title === title);
  return s && s.kind === 'text' ? s.text : undefined;
};
const warningsOf = (sections: DetailSection[]): string[] => sections.flatMap((s) => (s.kind === 'warnings' ? s.warnings : []));
const ids = (nodes: HistoryNode[]) => nodes.map((n) => n.ref);
const newestRunsFirst = (runs: LlmoRun[]) =>
  runs.slice().sort((a, b) => (a.startedAt === b.startedAt ? b.id - a.id : a.startedAt < b.startedAt ? 1 : -1));

describe('LLM Orchestration source', function () {
  this.timeout(60_000);
  let fx: LlmoFixture;
  let live: Opened;
  let s: HistorySource;

  before(async () => {
    fx = makeLlmOrchestration({ now: NOW });
    live = await open(fx.dbPath);
    s = live.source;
  });
  after(() => {
    live?.close();
    fx?.rm();
  });

  describe('detect', () => {
    it('claims the live file and both backups as written by the app', async () => {
      assert.deepEqual(adapter.detect(live.shape), { system: 'llmOrchestration', variant: 'written' });
      for (const file of [fx.backup.path, fx.preRestore.path]) {
        assert.deepEqual(adapter.detect(await shapeOf(file)), { system: 'llmOrchestration', variant: 'written' }, file);
      }
    });

    it('does not claim a LaForge steps database', async () => {
      const laforge = makeLaforgeToday();
      try {
        assert.equal(adapter.detect(await shapeOf(laforge.dbPath)), null);
      } finally {
        laforge.rm();
      }
    });

    it('does not claim a file missing a table or a column it reads', () => {
      const full = new Map([...live.shape.tables].map(([t, c]) => [t, new Set(c)]));
      for (const table of ['workflows', 'runs', 'responses', 'payloads', 'workflow_payloads', 'blocks']) {
        const without = new Map(full);
        without.delete(table);
        assert.equal(adapter.detect({ tables: without }), null, `without ${table}`);
      }
      const noStatus = new Map(full);
      noStatus.set('runs', new Set([...full.get('runs')!].filter((c) => c !== 'status')));
      assert.equal(adapter.detect({ tables: noStatus }), null);
      assert.equal(adapter.detect({ tables: new Map([['steps', new Set(['id', 'start_time'])]]) }), null);
      assert.equal(adapter.detect({ tables: new Map([['runs', new Set(['id', 'status'])], ['responses', new Set(['id'])]]) }), null);
    });

    it('refuses to open a reader over other tables', async () => {
      const laforge = makeLaforgeToday();
      try {
        const snap = await openSnapshot(laforge.dbPath);
        const reader = sqlReader(snap.db, laforge.dbPath);
        try {
          assert.throws(() => adapter.open(reader, { system: 'llmOrchestration', variant: 'written' }, { path: laforge.dbPath }), (e: unknown) => e instanceof StepDbError && e.code === 'UNSUPPORTED_SCHEMA');
        } finally {
          reader.close();
        }
      } finally {
        laforge.rm();
      }
    });
  });

  describe('tree', () => {
    it('has three levels and lists workflows newest first, then "(deleted workflow)"', () => {
      assert.deepEqual(s.levels.map((l) => l.key), ['workflow', 'run', 'response']);
      const top = s.children(null);
      const workflows = fx.workflows.filter((w) => !w.deleted).sort((a, b) => (a.createdAt === b.createdAt ? b.id - a.id : a.createdAt < b.createdAt ? 1 : -1));
      assert.deepEqual(ids(top), [...workflows.map((w) => `workflow:${w.id}`), DELETED_WORKFLOW_REF]);
      assert.deepEqual(top.slice(0, -1).map((n) => n.label), workflows.map((w) => w.name));
      assert.equal(top.at(-1)!.label, DELETED_WORKFLOW_LABEL);
      assert.equal(s.count(null), workflows.length + 1);
      for (const n of top) {
        assert.equal(n.isStep, false);
        assert.equal(n.hasChildren, true);
        assert.equal(n.metrics.costUsd, null);
      }
    });

    it('lists each workflow\'s runs newest first, and orphan runs under "(deleted workflow)"', () => {
      for (const w of fx.workflows.filter((x) => !x.deleted)) {
        const expected = newestRunsFirst(fx.runs.filter((r) => r.workflowId === w.id));
        assert.deepEqual(ids(s.children(`workflow:${w.id}`)), expected.map((r) => `run:${r.id}`), w.name);
        assert.equal(s.count(`workflow:${w.id}`), expected.length);
      }
      const orphans = s.children(DELETED_WORKFLOW_REF);
      assert.deepEqual(orphans.map((n) => n.ref).sort(), fx.orphans.runIds.map((id) => `run:${id}`).sort());
      assert.equal(s.count(DELETED_WORKFLOW_REF), fx.orphans.runIds.length);
      for (const n of orphans) {
        assert.ok(n.warnings.some((w) => /workflow \(id 3\) has been deleted/.test(w)), n.warnings.join());
        assert.ok(n.description?.includes('workflow 3') || n.description?.includes(fx.runs.find((r) => `run:${r.id}` === n.ref)!.workflowName));
      }
      assert.equal(s.node(DELETED_WORKFLOW_REF)?.label, DELETED_WORKFLOW_LABEL);
    });

    it('maps every status spelling and keeps the stored one', () => {
      const want = { running: 'running', IN_PROGRESS: 'running', completed: 'completed', failed: 'failed' } as const;
      for (const r of fx.runs) {
        const n = s.node(`run:${r.id}`)!;
        assert.equal(n.status, want[r.status], `run ${r.id}`);
        assert.equal(n.rawStatus, r.status);
        assert.equal(n.isStep, false);
        assert.equal(n.level, 'run');
        assert.deepEqual(n.warnings.filter((w) => !/workflow/.test(w)), []);
      }
      assert.equal(s.node(`run:${fx.inProgressRunId}`)!.status, 'running');
      assert.equal(s.node(`run:${fx.runningRunId}`)!.status, 'running');
    });

    it('gives runs their duration from started_at and completed_at, and no cost', () => {
      for (const r of fx.runs) {
        const m = s.node(`run:${r.id}`)!.metrics;
        assert.equal(m.start?.getTime(), Date.parse(r.startedAt.replace(' ', 'T') + 'Z'));
        assert.equal(m.end?.getTime() ?? null, r.completedAt ? Date.parse(r.completedAt.replace(' ', 'T') + 'Z') : null);
        assert.equal(m.durationMs, r.durationS === null ? null : r.durationS * 1000);
        assert.equal(m.costUsd, null);
      }
    });

    it('lists a run\'s responses in the order they were written, as steps', () => {
      for (const r of fx.runs) {
        const nodes = s.children(`run:${r.id}`);
        assert.deepEqual(ids(nodes), r.responseIds.map((id) => `response:${id}`), `run ${r.id}`);
        assert.equal(s.count(`run:${r.id}`), r.responseIds.length);
        assert.equal(s.node(`run:${r.id}`)!.hasChildren, r.responseIds.length > 0);
        for (const n of nodes) {
          assert.equal(n.isStep, true);
          assert.equal(n.hasChildren, false);
          assert.equal(n.status, 'completed');
          assert.deepEqual(s.children(n.ref), []);
          assert.equal(s.count(n.ref), 0);
        }
      }
    });

    it('labels responses with their payload name, or the payload id with a warning when the payload is gone', () => {
      assert.ok(fx.orphans.responseIds.length > 0);
      for (const r of fx.responses) {
        const n = s.node(`response:${r.id}`)!;
        if (r.payloadDeleted) {
          assert.equal(n.label, `Payload ${r.payloadId} (deleted)`);
          assert.ok(n.warnings.some((w) => w.includes(`payload (id ${r.payloadId}) has been deleted`) && w.includes(r.payloadName)), n.warnings.join());
        } else {
          assert.equal(n.label, r.payloadName);
        }
      }
    });

    it('reads response metrics from metadata, null where it records none', () => {
      for (const r of fx.responses) {
        const m = s.node(`response:${r.id}`)!.metrics;
        assert.equal(m.costUsd, null);
        assert.equal(m.end?.getTime(), Date.parse(r.createdAt.replace(' ', 'T') + 'Z'));
        if (r.brokenMetadata) {
          assert.deepEqual([m.tokens, m.durationMs, m.model, m.start], [null, null, null, null]);
          continue;
        }
        assert.equal(m.durationMs, r.metadata.duration_ms);
        assert.equal(m.start?.getTime(), m.end!.getTime() - r.metadata.duration_ms);
        if (r.api === 'kobold-no-counts') {
          assert.equal(m.tokens, null, 'no counts: neither the NaN nor the placeholder zeros become numbers');
        } else {
          assert.deepEqual(m.tokens, { prompt: r.metadata.promptTokens, completion: r.metadata.completionTokens, total: r.metadata.tokens });
        }
        const info = r.metadata.model_info as { result?: string; data?: { id: string }[] };
        assert.equal(m.model, info.result ?? info.data![0].id);
      }
    });

    it('sums a run\'s response tokens and names its models', () => {
      for (const run of fx.runs) {
        const rs = fx.responses.filter((r) => r.runId === run.id && !r.brokenMetadata && r.api !== 'kobold-no-counts');
        const m = s.node(`run:${run.id}`)!.metrics;
        if (!rs.length) {
          assert.equal(m.tokens, null, `run ${run.id}`);
          continue;
        }
        const sum = (f: (x: (typeof rs)[number]) => number) => rs.reduce((a, x) => a + f(x), 0);
        assert.deepEqual(m.tokens, { prompt: sum((x) => x.metadata.promptTokens), completion: sum((x) => x.metadata.completionTokens), total: sum((x) => x.metadata.tokens!) }, `run ${run.id}`);
        assert.ok(m.model);
      }
    });

    it('pages with offset and limit at every level', () => {
      const all = ids(s.children(null));
      const paged: string[] = [];
      for (let offset = 0; offset < all.length + 2; offset += 2) paged.push(...ids(s.children(null, { offset, limit: 2 })));
      assert.deepEqual(paged, all);
      assert.deepEqual(ids(s.children(null, { offset: all.length - 1, limit: 5 })), [DELETED_WORKFLOW_REF]);
      assert.deepEqual(ids(s.children(null, { offset: all.length, limit: 5 })), []);
      assert.deepEqual(ids(s.children(null, { limit: 0 })), []);

      const runs = ids(s.children('workflow:1'));
      assert.ok(runs.length >= 5);
      assert.deepEqual(ids(s.children('workflow:1', { offset: 1, limit: 2 })), runs.slice(1, 3));
      assert.deepEqual(ids(s.children('workflow:1', { offset: 4, limit: 200 })), runs.slice(4));
      const responses = ids(s.children(`run:${fx.comparison.runIds[1]}`));
      assert.deepEqual(ids(s.children(`run:${fx.comparison.runIds[1]}`, { offset: 1, limit: 1 })), responses.slice(1, 2));
    });

    it('answers unknown refs with nothing', () => {
      for (const ref of ['run:999', 'response:999', 'workflow:999', 'nonsense', 'agent:1', 'run:']) {
        assert.equal(s.node(ref), undefined, ref);
        assert.deepEqual(s.children(ref), []);
        assert.equal(s.count(ref), 0);
        assert.deepEqual(s.details(ref), []);
        assert.deepEqual(s.changes(ref), []);
        assert.deepEqual(s.counterparts!(ref), []);
      }
      assert.equal(s.text('content:999'), null);
      assert.equal(s.text('other:1'), null);
    });
  });

  describe('details', () => {
    it('says since when a run left running or IN_PROGRESS was started', () => {
      for (const id of [fx.runningRunId, fx.inProgressRunId]) {
        const run = fx.runs.find((r) => r.id === id)!;
        const f = facts(s.details(`run:${id}`));
        assert.equal(f.Started, `${run.startedAt} UTC`);
        assert.match(f['Still running'], new RegExp(`^Marked ${run.status} since ${run.startedAt} UTC \\(\\d`));
        assert.equal(f.Completed, 'not recorded');
        assert.equal(f.Duration, 'not recorded');
      }
      assert.match(facts(s.details(`run:${fx.inProgressRunId}`)).Status, /running \(stored as IN_PROGRESS\)/);
    });

    it('shows a completed run\'s facts, models and metadata as formatted JSON', () => {
      const run = fx.runs.find((r) => r.status === 'completed' && r.path === 'api' && !r.workflowDeleted)!;
      const d = s.details(`run:${run.id}`);
      const f = facts(d);
      assert.equal(f.Workflow, `${run.workflowName} (id ${run.workflowId})`);
      assert.equal(f.Status, 'completed');
      assert.equal(f.Completed, `${run.completedAt} UTC`);
      assert.equal(f.Payloads, `${run.metadata!.total_payloads} (${run.responseIds.length} responses)`);
      const models = JSON.parse(run.metadata!.models!) as { payloadName: string }[];
      for (const m of models) assert.ok(f.Models.includes(m.payloadName), f.Models);
      assert.equal(textSection(d, 'Metadata'), JSON.stringify(JSON.parse(run.rawMetadata!), null, 2));
      assert.deepEqual(JSON.parse(textSection(d, 'Models')!).map((m: { payloadName: string }) => m.payloadName), models.map((m) => m.payloadName));
      assert.deepEqual(warningsOf(d), []);
    });

    it('shows the error of a failed run, and says when the metadata NULL swallowed it', () => {
      const failed = fx.runs.find((r) => r.id === fx.failedRunId)!;
      assert.equal(facts(s.details(`run:${fx.failedRunId}`)).Error, failed.metadata!.error);
      assert.match(facts(s.details(`run:${fx.uiFailedRunId}`)).Error, /not stored: the run's metadata is NULL/);
      const nullRun = s.details(`run:${fx.nullMetadataRunId}`);
      assert.equal(facts(nullRun).Metadata, 'NULL');
      assert.equal(textSection(nullRun, 'Metadata'), undefined);
      assert.match(facts(nullRun).Payloads, /^not recorded \(3 responses\)$/);
    });

    it('shows a response\'s facts and its content', () => {
      const r = fx.responses.find((x) => x.api === 'completion' && !x.brokenMetadata && !x.payloadDeleted)!;
      const d = s.details(`response:${r.id}`);
      const f = facts(d, 'Response');
      assert.equal(f.Payload, `${r.payloadName} (id ${r.payloadId})`);
      assert.equal(f.Run, `Run ${r.runId} (${fx.runs.find((x) => x.id === r.runId)!.status})`);
      assert.equal(f.Tokens, `${r.metadata.tokens} tokens (${r.metadata.promptTokens} in, ${r.metadata.completionTokens} out)`);
      assert.equal(f['Tokens/s'], String(r.metadata.tokens_per_second));
      assert.equal(f['Finish reason'], r.metadata.finishReason);
      assert.equal(f['Response type'], 'completion');
      assert.equal(f.Model, 'meta-llama-3.1-8b-instruct');
      const c = r.metadata.llm_config;
      assert.equal(f['LLM config'], `port ${c.port} · temperature ${c.temperature} · max length ${c.max_length} · format ${c.model_format}`);
      assert.equal(textSection(d, 'Content'), r.content);
      assert.equal(textSection(d, 'Metadata'), JSON.stringify(r.metadata, null, 2));
    });

    it('says "not recorded" for a backend that gives no token counts', () => {
      const r = fx.responses.find((x) => x.api === 'kobold-no-counts')!;
      const f = facts(s.details(`response:${r.id}`), 'Response');
      assert.equal(f.Tokens, 'not recorded');
      assert.equal(f['Tokens/s'], 'not recorded');
      assert.equal(f.Duration, '14s');
    });

    it('warns about broken metadata and shows its raw text, without throwing', () => {
      const r = fx.responses.find((x) => x.id === fx.brokenMetadataResponseId)!;
      const n = s.node(`response:${r.id}`)!;
      assert.ok(n.warnings.some((w) => /not valid JSON/.test(w)));
      const d = s.details(`response:${r.id}`);
      assert.ok(warningsOf(d).some((w) => /not valid JSON/.test(w)));
      assert.equal(textSection(d, 'Metadata'), r.rawMetadata);
      assert.equal(textSection(d, 'Content'), r.content);
      assert.equal(facts(d, 'Response').Tokens, 'not recorded');
      assert.equal(s.text(`response-metadata:${r.id}`), r.rawMetadata);
    });

    it('describes workflows and the deleted-workflow group', () => {
      const f = facts(s.details('workflow:2'), 'Workflow');
      assert.equal(f.Name, fx.workflows.find((w) => w.id === 2)!.name);
      const payloads = s.details('workflow:2').find((x) => x.kind === 'facts' && x.title === 'Payloads now');
      assert.ok(payloads && payloads.kind === 'facts');
      assert.ok(payloads.facts.some((x) => x.value === 'payload 6 (deleted)'));
      assert.equal(facts(s.details(DELETED_WORKFLOW_REF))['Workflow ids'], '3');
    });
  });

  describe('changes, texts and counterparts', () => {
    it('offers the response content as the one change, and returns HTML as it is stored', () => {
      const r = fx.responses.find((x) => x.id === fx.htmlResponseId)!;
      const changes = s.changes(`response:${r.id}`);
      assert.deepEqual(changes, [{ id: 'response', label: 'Response', status: 'added', before: null, after: `content:${r.id}` }]);
      const text = s.text(changes[0].after!);
      assert.equal(text, r.content);
      assert.ok(text!.includes('<script>alert(1)</script>'));
      assert.ok(textSection(s.details(`response:${r.id}`), 'Content')!.includes('<script>alert(1)</script>'));
      assert.deepEqual(s.changes(`run:${r.runId}`), []);
      assert.deepEqual(s.changes('workflow:1'), []);
    });

    it('finds the same payload\'s responses in other runs of the workflow, newest first', () => {
      const { payloadId, workflowId, responseIds } = fx.comparison;
      const [older, newer] = responseIds;
      const expected = newestRunsFirst(fx.runs.filter((r) => r.workflowId === workflowId))
        .flatMap((run) => fx.responses.filter((x) => x.runId === run.id && x.payloadId === payloadId))
        .map((x) => `response:${x.id}`);
      const ofOlder = s.counterparts!(`response:${older}`);
      assert.deepEqual(ids(ofOlder), expected.filter((ref) => ref !== `response:${older}`));
      assert.ok(ids(ofOlder).includes(`response:${newer}`));
      assert.ok(ids(s.counterparts!(`response:${newer}`)).includes(`response:${older}`));
      const pair = ofOlder.find((n) => n.ref === `response:${newer}`)!;
      assert.match(pair.description!, new RegExp(`^Run ${fx.comparison.runIds[1]} · `));
      // The diff the UI shows: the counterpart's content → this one's.
      const a = fx.responses.find((x) => x.id === older)!;
      const b = fx.responses.find((x) => x.id === newer)!;
      assert.equal(s.text(s.changes(pair.ref)[0].after!), b.content);
      assert.equal(s.text(`content:${older}`), a.content);
      assert.notEqual(a.content, b.content);
      assert.deepEqual(s.counterparts!(`run:${fx.comparison.runIds[0]}`), []);
    });

    it('returns run metadata as stored', () => {
      for (const r of fx.runs) assert.equal(s.text(`run-metadata:${r.id}`), r.rawMetadata);
    });
  });

  describe('backups', () => {
    it('reads the backup and the pre-restore copy with their own runs and orphans', async () => {
      const backup = await open(fx.backup.path);
      try {
        const runs = fx.backup.workflows.flatMap((w) => backup.source.children(`workflow:${w.id}`));
        assert.deepEqual(runs.map((n) => n.ref).sort(), fx.backup.runs.map((r) => `run:${r.id}`).sort());
        assert.equal(backup.source.count(DELETED_WORKFLOW_REF), 0);
        assert.ok(!ids(backup.source.children(null)).includes(DELETED_WORKFLOW_REF), 'no synthetic node without orphans');
      } finally {
        backup.close();
      }
      const pre = await open(fx.preRestore.path);
      try {
        assert.deepEqual(ids(pre.source.children(DELETED_WORKFLOW_REF)).sort(), ['run:1', 'run:2', 'run:5']);
        assert.deepEqual(ids(pre.source.children(null)).at(-1), DELETED_WORKFLOW_REF);
      } finally {
        pre.close();
      }
    });
  });

  describe('hostile rows', () => {
    let root: string;
    let hostile: Opened;
    const huge = 'x'.repeat(TEXT_LIMIT + 10);
    const euros = '€'.repeat(Math.ceil(TEXT_LIMIT / 3) + 10);

    before(async () => {
      root = fs.mkdtempSync(path.join(os.tmpdir(), 'llmo-hostile-'));
      const db = path.join(root, 'llm_orchestration.db');
      writeByHand(db, String.raw`
c.execute("INSERT INTO workflows (id, name, created_at) VALUES (1, '<b>wf</b>', 'not a time')")
c.execute("INSERT INTO workflows (id, name, created_at) VALUES (2, 3.5, 1763658000)")
c.execute("INSERT INTO payloads (id, name) VALUES (1, 'p\x07one')")
c.execute("INSERT INTO runs (id, workflow_id, status, started_at, metadata) VALUES (1, 1, 'paused', 'yesterday', '[1,2]')")
c.execute("INSERT INTO runs (id, workflow_id, status, started_at, completed_at, metadata) VALUES (2, 1, 42, '2026-11-20 10:00:00', '2026-11-20 10:00:05', '{\"models\": \"[oops\", \"error\": {\"code\": 7}}')")
c.execute("INSERT INTO runs (id, workflow_id, status, started_at, metadata) VALUES (3, NULL, 'Completed', '2026-11-20 11:00:00', 'null')")
c.execute("INSERT INTO responses (id, run_id, payload_id, content, metadata, created_at) VALUES (1, 1, 1, ?, NULL, '2026-11-20 10:00:01')", ["a\x00b\x1b[31m<img src=x onerror=alert(1)>"])
c.execute("INSERT INTO responses (id, run_id, payload_id, content, metadata, created_at) VALUES (2, 1, NULL, ?, ?, '2026-11-20 10:00:02')", [job["huge"], '{"tokens":"12","promptTokens":"x","completionTokens":null,"duration_ms":"1500","model_info":{"success":false,"message":"down","port":5001},"llm_config":{"port":5001,"model_format":"default"}}'])
c.execute("INSERT INTO responses (id, run_id, payload_id, content, metadata, created_at) VALUES (3, 2, 9, 12345, '\"just a string\"', 17)")
c.execute("INSERT INTO responses (id, run_id, payload_id, content, metadata, created_at) VALUES (4, 2, 1, CAST('bytes' AS BLOB), '{}', '2026-11-20 10:00:04')")
c.execute("INSERT INTO responses (id, run_id, payload_id, content, metadata, created_at) VALUES (5, 2, 1, ?, '{}', '2026-11-20 10:00:05')", [job["euros"]])
`, { huge, euros });
      hostile = await open(db);
    });
    after(() => {
      hostile?.close();
      fs.rmSync(root, { recursive: true, force: true });
    });

    it('reads wrong types, NULL and non-object metadata and unknown statuses without throwing', () => {
      const h = hostile.source;
      const top = h.children(null);
      // SQLite orders text after numbers: the created_at that is not a time comes first.
      assert.deepEqual(ids(top), ['workflow:1', 'workflow:2', DELETED_WORKFLOW_REF]);
      assert.equal(top[0].label, '<b>wf</b>');
      assert.ok(top[0].warnings.some((w) => /created_at, not a time, is not a time/.test(w)));
      assert.equal(top[1].label, '3.5');
      assert.equal(top[1].metrics.start?.toISOString(), '2025-11-20T17:00:00.000Z');
      for (const ref of ['run:1', 'run:2', 'run:3', 'response:1', 'response:2', 'response:3', 'response:4', 'workflow:1', 'workflow:2', DELETED_WORKFLOW_REF]) {
        assert.ok(h.node(ref), ref);
        assert.ok(h.details(ref).length > 0, ref);
      }
      const r1 = h.node('run:1')!;
      assert.deepEqual([r1.status, r1.rawStatus], ['unknown', 'paused']);
      assert.ok(r1.warnings.some((w) => /not an object/.test(w)));
      assert.ok(r1.warnings.some((w) => /started_at, yesterday, is not a time/.test(w)));
      assert.equal(r1.metrics.start, null);
      const r2 = h.node('run:2')!;
      assert.deepEqual([r2.status, r2.rawStatus], ['unknown', '42']);
      assert.equal(r2.metrics.durationMs, 5000);
      const d2 = h.details('run:2');
      assert.ok(warningsOf(d2).some((w) => /"models" is text that is not valid JSON/.test(w)));
      assert.equal(facts(d2).Error, '{"code":7}');
      assert.deepEqual([h.node('run:3')!.status, h.node('run:3')!.rawStatus], ['completed', 'Completed']);
      assert.deepEqual(ids(h.children(DELETED_WORKFLOW_REF)), ['run:3']);
      assert.ok(h.node('run:3')!.warnings.some((w) => /workflow_id is NULL/.test(w)));
    });

    it('keeps control characters and markup raw, and reads numbers and BLOBs as text', () => {
      const h = hostile.source;
      assert.equal(h.text('content:1'), 'a\x00b\x1b[31m<img src=x onerror=alert(1)>');
      assert.equal(h.node('response:1')!.label, 'p\x07one');
      assert.ok(h.node('response:1')!.warnings.some((w) => /no metadata/.test(w)));
      assert.equal(h.text('content:3'), '12345');
      assert.equal(h.text('content:4'), 'bytes');
      const r3 = h.node('response:3')!;
      assert.equal(r3.label, 'Payload 9 (deleted)');
      assert.ok(r3.warnings.some((w) => /not an object/.test(w)));
      // A number in a time column reads as unix seconds, as elsewhere in Step History.
      assert.equal(r3.metrics.end?.toISOString(), '1970-01-01T00:00:17.000Z');
      assert.equal(h.node('response:2')!.label, 'Payload (none)');
    });

    it('reads numbers stored as text, and never makes up a model or a zero', () => {
      const m = hostile.source.node('response:2')!.metrics;
      assert.deepEqual(m.tokens, { prompt: null, completion: null, total: 12 });
      assert.equal(m.durationMs, 1500);
      assert.equal(m.model, 'port 5001 · format default');
      assert.match(facts(hostile.source.details('response:2'), 'Response').Model, /unknown \(down\)/);
      assert.deepEqual(hostile.source.node('response:4')!.metrics.tokens, null);
    });

    it('caps huge content with a note', () => {
      const h = hostile.source;
      const text = h.text('content:2')!;
      assert.ok(text.startsWith('x'.repeat(1000)));
      assert.ok(text.length < huge.length + 200);
      assert.ok(text.slice(0, TEXT_LIMIT) === huge.slice(0, TEXT_LIMIT));
      assert.ok(text.endsWith(`\n\n[Step History shows the first ${TEXT_LIMIT} of its ${huge.length} bytes.]`), text.slice(-200));
      // 3-byte characters: the cut falls inside one, which is left out whole.
      const cut = h.text('content:5')!;
      const note = `\n\n[Step History shows the first ${TEXT_LIMIT} of its ${euros.length * 3} bytes.]`;
      assert.ok(cut.endsWith(note), cut.slice(-200));
      assert.equal(cut.slice(0, -note.length), '€'.repeat(Math.floor(TEXT_LIMIT / 3)));
      const content = textSection(h.details('response:2'), 'Content')!;
      assert.ok(content.length < TEXT_LIMIT);
      assert.ok(/\[Step History shows the first \d+ of its \d+ bytes\.\]$/.test(content), content.slice(-200));
    });
  });
});

/** Every page of `parent` in steps of `limit` is a slice of the whole list, and count() is its length. */
function checkPaging(src: HistorySource, parent: string | null): HistoryNode[] {
  const all = src.children(parent);
  assert.equal(src.count(parent), all.length, `count(${parent})`);
  for (const limit of [1, 2, 3]) {
    for (let offset = 0; offset <= all.length + 1; offset++) {
      assert.deepEqual(ids(src.children(parent, { offset, limit })), ids(all.slice(offset, offset + limit)), `${parent} ${offset}+${limit}`);
    }
  }
  assert.deepEqual(src.children(parent, { limit: 0 }), []);
  for (const n of all) assert.deepEqual(src.node(n.ref), n, n.ref);
  return all;
}

describe('LLM Orchestration source: responses whose run is gone', function () {
  this.timeout(60_000);
  let fx: LlmoFixture;
  let o: Opened;
  let s: HistorySource;

  before(async () => {
    fx = makeLlmOrchestration({ now: NOW, deletedRuns: true });
    o = await open(fx.dbPath);
    s = o.source;
  });
  after(() => {
    o?.close();
    fx?.rm();
  });

  const deletedRun = (workflowId: number) => `${DELETED_RUN_REF}:${workflowId}`;
  const responsesOfRun = (runId: number) => fx.responses.filter((r) => r.runId === runId).map((r) => `response:${r.id}`);

  it('lists the responses a run deleted mid-way left under "(deleted run)", after its workflow\'s runs', () => {
    const [midway] = fx.orphans.deletedRunIds;
    assert.deepEqual(responsesOfRun(midway).length, 2, 'the two answers written after the deletion');
    assert.ok(!fx.runs.some((r) => r.id === midway), 'its run row is gone');
    const triage = fx.workflows.find((w) => w.name === 'Support triage')!;
    const runs = newestRunsFirst(fx.runs.filter((r) => r.workflowId === triage.id));
    const children = s.children(`workflow:${triage.id}`);
    assert.deepEqual(ids(children), [...runs.map((r) => `run:${r.id}`), deletedRun(triage.id)]);
    assert.equal(s.count(`workflow:${triage.id}`), runs.length + 1);
    const wf = s.node(`workflow:${triage.id}`)!;
    assert.ok(wf.hasChildren);
    assert.ok(wf.description!.endsWith('2 responses whose run is gone'), wf.description);

    const group = children.at(-1)!;
    assert.deepEqual(s.node(group.ref), group);
    assert.equal(group.label, DELETED_RUN_LABEL);
    assert.equal(group.level, 'run');
    assert.equal(group.isStep, false);
    assert.equal(group.hasChildren, true);
    assert.equal(group.status, 'unknown');
    assert.equal(group.description, '2 responses whose run is gone');
    const rs = fx.responses.filter((r) => r.runId === midway);
    const sum = (f: (x: (typeof rs)[number]) => number) => rs.reduce((a, x) => a + f(x), 0);
    assert.deepEqual(group.metrics.tokens, { prompt: sum((x) => x.metadata.promptTokens), completion: sum((x) => x.metadata.completionTokens), total: sum((x) => x.metadata.tokens!) });
    assert.equal(group.metrics.costUsd, null);
    assert.equal(group.metrics.start?.getTime(), Date.parse(rs[0].createdAt.replace(' ', 'T') + 'Z'));

    const nodes = s.children(group.ref);
    assert.deepEqual(ids(nodes), responsesOfRun(midway));
    assert.equal(s.count(group.ref), 2);
    for (const n of nodes) {
      const r = fx.responses.find((x) => `response:${x.id}` === n.ref)!;
      assert.ok(r.runDeleted);
      assert.equal(n.label, r.payloadName);
      assert.equal(n.isStep, true);
      assert.ok(n.warnings.includes(`Its run (id ${midway}) has been deleted.`), n.warnings.join());
      assert.match(n.description!, new RegExp(`^Run ${midway} \\(deleted\\)`));
      assert.deepEqual(s.node(n.ref), n);
      const d = s.details(n.ref);
      assert.ok(warningsOf(d).includes(`Its run (id ${midway}) has been deleted.`));
      const f = facts(d, 'Response');
      assert.equal(f.Run, `${midway} (deleted)`);
      assert.match(f['Listed under'], /^Support triage \(id 1\) › \(deleted run\)/);
      assert.equal(s.text(s.changes(n.ref)[0].after!), r.content);
      assert.deepEqual(s.counterparts!(n.ref).filter((c) => c.ref === n.ref), []);
    }
    const gd = facts(s.details(group.ref), DELETED_RUN_LABEL);
    assert.equal(gd.Responses, '2');
    assert.equal(gd['Run ids'], String(midway));
    assert.match(gd.Workflow, /^Support triage \(id 1\)/);
  });

  it('puts a deleted run whose payload two workflows list under "(deleted workflow)", after its runs', () => {
    const [, shared] = fx.orphans.deletedRunIds;
    const short = fx.workflows.find((w) => w.name === 'Release notes, short')!;
    const release = fx.workflows.find((w) => w.name === 'Release notes & changelog')!;
    assert.ok(short.payloadIds.every((p) => release.payloadIds.includes(p)), 'the payload is in both workflows');
    const top = s.children(null);
    assert.equal(top.at(-1)!.ref, DELETED_WORKFLOW_REF);
    assert.ok(top.at(-1)!.description!.includes('1 response whose run is gone'), top.at(-1)!.description);
    const under = s.children(DELETED_WORKFLOW_REF);
    assert.deepEqual(ids(under), [...newestRunsFirst(fx.runs.filter((r) => fx.orphans.runIds.includes(r.id))).map((r) => `run:${r.id}`), DELETED_RUN_REF]);
    assert.equal(s.count(DELETED_WORKFLOW_REF), fx.orphans.runIds.length + 1);
    assert.deepEqual(ids(s.children(DELETED_RUN_REF)), responsesOfRun(shared));
    const n = s.node(responsesOfRun(shared)[0])!;
    assert.ok(n.warnings.includes(`Its run (id ${shared}) has been deleted.`));
    assert.match(facts(s.details(n.ref), 'Response')['Listed under'], /^\(deleted workflow\) › \(deleted run\): no single workflow/);
    assert.match(facts(s.details(DELETED_RUN_REF), DELETED_RUN_LABEL).Workflow, /^unknown/);
    assert.match(facts(s.details(DELETED_WORKFLOW_REF), DELETED_WORKFLOW_LABEL)['Responses of deleted runs'], /^1,/);
    // Neither workflow that lists the payload gets the response, nor a "(deleted run)" node.
    for (const w of [short, release]) {
      assert.ok(!ids(s.children(`workflow:${w.id}`)).includes(deletedRun(w.id)));
      assert.equal(s.node(deletedRun(w.id)), undefined);
      assert.equal(s.count(deletedRun(w.id)), 0);
    }
    assert.equal(s.node(`workflow:${short.id}`)!.hasChildren, false, 'its only run is gone');
    assert.equal(s.count(`workflow:${short.id}`), 0);
    // Every response is listed exactly once.
    const listed = [...s.children(null).flatMap((w) => s.children(w.ref)).flatMap((r) => s.children(r.ref))].map((n) => n.ref);
    assert.deepEqual(listed.slice().sort(), fx.responses.map((r) => `response:${r.id}`).sort());
  });

  it('pages the new nodes, and count() and node() agree with children()', () => {
    for (const parent of [null, 'workflow:1', DELETED_WORKFLOW_REF, deletedRun(1), DELETED_RUN_REF]) checkPaging(s, parent);
    assert.deepEqual(ids(s.children('workflow:1', { offset: s.count('workflow:1') - 1, limit: 5 })), [deletedRun(1)]);
    assert.deepEqual(ids(s.children(deletedRun(1), { offset: 1, limit: 1 })), responsesOfRun(fx.orphans.deletedRunIds[0]).slice(1));
  });

  it('answers refs of "(deleted run)" nodes that do not exist with nothing', () => {
    for (const ref of [deletedRun(999), `${DELETED_RUN_REF}:`, `${DELETED_RUN_REF}:x`, deletedRun(3)]) {
      assert.equal(s.node(ref), undefined, ref);
      assert.deepEqual(s.children(ref), []);
      assert.equal(s.count(ref), 0);
      assert.deepEqual(s.details(ref), []);
      assert.deepEqual(s.changes(ref), []);
    }
  });

  it('lists no "(deleted run)" node when every response has its run', async () => {
    const plain = makeLlmOrchestration({ now: NOW });
    const p = await open(plain.dbPath);
    try {
      assert.deepEqual(plain.orphans.runDeletedResponseIds, []);
      const src = p.source;
      for (const w of src.children(null)) {
        const under = src.children(w.ref);
        assert.ok(!under.some((n) => n.ref.startsWith(DELETED_RUN_REF)), w.ref);
        assert.ok(!under.some((n) => n.label === DELETED_RUN_LABEL), w.ref);
        assert.ok(!/whose run is gone/.test(w.description ?? ''), w.description);
      }
      for (const w of plain.workflows.filter((x) => !x.deleted)) assert.equal(src.count(`workflow:${w.id}`), plain.runs.filter((r) => r.workflowId === w.id).length);
      assert.equal(src.count(DELETED_WORKFLOW_REF), plain.orphans.runIds.length);
      for (const ref of [DELETED_RUN_REF, deletedRun(1), deletedRun(2)]) {
        assert.equal(src.node(ref), undefined, ref);
        assert.deepEqual(src.children(ref), []);
        assert.equal(src.count(ref), 0);
        assert.deepEqual(src.details(ref), []);
      }
      for (const r of plain.responses) assert.ok(!src.node(`response:${r.id}`)!.warnings.some((w) => /run/.test(w)), `response ${r.id}`);
    } finally {
      p.close();
      plain.rm();
    }
  });

  describe('run_id NULL or naming no run, written outside the app', () => {
    let root: string;
    let h: Opened;
    before(async () => {
      root = fs.mkdtempSync(path.join(os.tmpdir(), 'llmo-runless-'));
      const db = path.join(root, 'llm_orchestration.db');
      writeByHand(db, String.raw`
c.execute("INSERT INTO workflows (id, name, created_at) VALUES (1, 'Only', '2026-11-20 09:00:00')")
c.execute("INSERT INTO payloads (id, name) VALUES (1, 'Listed'), (2, 'Unlisted')")
c.execute("INSERT INTO workflow_payloads (workflow_id, payload_id, order_index) VALUES (1, 1, 0)")
c.execute("INSERT INTO runs (id, workflow_id, status, started_at) VALUES (1, 1, 'completed', '2026-11-20 10:00:00')")
c.execute("INSERT INTO responses (id, run_id, payload_id, content, metadata, created_at) VALUES (1, 1, 1, 'kept', '{}', '2026-11-20 10:00:01')")
c.execute("INSERT INTO responses (id, run_id, payload_id, content, metadata, created_at) VALUES (2, NULL, 1, 'null run, listed payload', '{\"tokens\":5,\"promptTokens\":3,\"completionTokens\":2}', '2026-11-20 10:00:02')")
c.execute("INSERT INTO responses (id, run_id, payload_id, content, metadata, created_at) VALUES (3, NULL, NULL, 'null run, no payload', '{}', '2026-11-20 10:00:03')")
c.execute("INSERT INTO responses (id, run_id, payload_id, content, metadata, created_at) VALUES (4, 77, 1, 'gone run', '{}', '2026-11-20 10:00:04')")
c.execute("INSERT INTO responses (id, run_id, payload_id, content, metadata, created_at) VALUES (5, 77, 2, 'gone run, unlisted payload', '{}', '2026-11-20 10:00:05')")
`);
      h = await open(db);
    });
    after(() => {
      h?.close();
      fs.rmSync(root, { recursive: true, force: true });
    });

    it('lists a NULL run_id by its payload, and a deleted run whose payloads no one workflow lists under "(deleted workflow)"', () => {
      const src = h.source;
      assert.deepEqual(ids(src.children(null)), ['workflow:1', DELETED_WORKFLOW_REF]);
      assert.equal(src.count(null), 2);
      assert.deepEqual(ids(src.children('workflow:1')), ['run:1', deletedRun(1)]);
      assert.deepEqual(ids(src.children(deletedRun(1))), ['response:2']);
      assert.deepEqual(src.node(deletedRun(1))!.metrics.tokens, { prompt: 3, completion: 2, total: 5 });
      const top = src.node(DELETED_WORKFLOW_REF)!;
      assert.equal(top.status, 'unknown', 'no run of a deleted workflow to take a status from');
      assert.equal(top.description, '3 responses whose run is gone');
      assert.deepEqual(ids(src.children(DELETED_WORKFLOW_REF)), [DELETED_RUN_REF]);
      assert.deepEqual(ids(src.children(DELETED_RUN_REF)), ['response:3', 'response:4', 'response:5'], 'run 77 answers an unlisted payload: its responses stay together');
      assert.ok(src.node('response:2')!.warnings.includes('It belongs to no run (run_id is NULL).'));
      assert.equal(src.node('response:2')!.description?.split(' · ')[0], 'No run');
      assert.equal(facts(src.details('response:2'), 'Response').Run, 'none (run_id is NULL)');
      assert.ok(src.node('response:4')!.warnings.includes('Its run (id 77) has been deleted.'));
      assert.equal(facts(src.details(DELETED_RUN_REF), DELETED_RUN_LABEL)['Run ids'], 'NULL, 77');
      assert.deepEqual(src.node('response:1')!.warnings, []);
      for (const parent of [null, 'workflow:1', DELETED_WORKFLOW_REF, deletedRun(1), DELETED_RUN_REF]) checkPaging(src, parent);
    });
  });
});
