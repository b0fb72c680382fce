import * as assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { makeStudioDocumented, makeStudioReal, msgpackEncode, MsgpackExt, PyFloat, StudioDocumentedFixture, StudioRealFixture, uuid6 } from '../fixtures/studio';

const rows = (db: string, sql: string): unknown[][] =>
  JSON.parse(execFileSync('python3', ['-c', 'import json,sqlite3,sys,base64; c=sqlite3.connect("file:"+sys.argv[1]+"?mode=ro", uri=True); print(json.dumps([[base64.b64encode(v).decode() if isinstance(v, bytes) else v for v in r] for r in c.execute(sys.argv[2]).fetchall()]))', db, sql], { encoding: 'utf8' }));
const schema = (db: string): string => execFileSync('sqlite3', ['-readonly', db, '.schema'], { encoding: 'utf8' });
const columns = (db: string, table: string): string[] => (rows(db, `PRAGMA table_info(${table})`) as [number, string][]).map((r) => r[1]);

/** Enough of msgpack to read what ormsgpack writes; ext values come back as MsgpackExt. */
function decode(buf: Buffer): unknown {
  let o = 0;
  const bytes = (n: number): Buffer => buf.subarray(o, (o += n));
  const str = (n: number): string => bytes(n).toString('utf8');
  const arr = (n: number): unknown[] => Array.from({ length: n }, () => val());
  const map = (n: number): Record<string, unknown> => {
    const m: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const k = val() as string;
      m[k] = val();
    }
    return m;
  };
  const ext = (n: number): MsgpackExt => {
    const t = buf.readInt8(o++);
    return new MsgpackExt(t, bytes(n));
  };
  function val(): unknown {
    const b = buf[o++];
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if ((b & 0xe0) === 0xa0) return str(b & 0x1f);
    if ((b & 0xf0) === 0x90) return arr(b & 0x0f);
    if ((b & 0xf0) === 0x80) return map(b & 0x0f);
    const u8 = (): number => buf[o++];
    const u16 = (): number => ((o += 2), buf.readUInt16BE(o - 2));
    const u32 = (): number => ((o += 4), buf.readUInt32BE(o - 4));
    switch (b) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return bytes(u8());
      case 0xc5: return bytes(u16());
      case 0xcb: return ((o += 8), buf.readDoubleBE(o - 8));
      case 0xcc: return u8();
      case 0xcd: return u16();
      case 0xce: return u32();
      case 0xd0: return ((o += 1), buf.readInt8(o - 1));
      case 0xd9: return str(u8());
      case 0xda: return str(u16());
      case 0xdc: return arr(u16());
      case 0xde: return map(u16());
      case 0xd4: return ext(1);
      case 0xd5: return ext(2);
      case 0xd6: return ext(4);
      case 0xd7: return ext(8);
      case 0xd8: return ext(16);
      case 0xc7: return ext(u8());
      default: throw new Error(`msgpack byte 0x${b.toString(16)} not handled`);
    }
  }
  const v = val();
  assert.equal(o, buf.length, 'the whole blob is one value');
  return v;
}

const LOCAL_ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$/;
const UTC_ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/;
const NOW = new Date('2026-11-20T17:00:00Z');

describe('Studio fixture: msgpack encoder', () => {
  it('packs like ormsgpack', () => {
    assert.equal(msgpackEncode({ a: 1, b: [true, null] }).toString('hex'), '82a16101a16292c3c0');
    assert.equal(msgpackEncode(-1).toString('hex'), 'ff');
    assert.equal(msgpackEncode(200).toString('hex'), 'ccc8');
    assert.equal(msgpackEncode(70000).toString('hex'), 'ce00011170');
    assert.equal(msgpackEncode(-200).toString('hex'), 'd1ff38');
    assert.equal(msgpackEncode(new PyFloat(1.5)).toString('hex'), 'cb3ff8000000000000');
    assert.equal(msgpackEncode('x'.repeat(32)).subarray(0, 2).toString('hex'), 'd920');
    assert.equal(msgpackEncode(new Uint8Array([1, 2])).toString('hex'), 'c4020102');
    assert.equal(msgpackEncode(new MsgpackExt(5, Buffer.from('ab'))).toString('hex'), 'd5056162');
    assert.equal(msgpackEncode(new MsgpackExt(42, Buffer.from('abc'))).toString('hex'), 'c7032a616263');
  });
  it('makes uuid6 ids with the step in clock_seq, increasing with time', () => {
    const a = uuid6({ ms: NOW.getTime(), us: 1 }, -1, 0x123456789abcn);
    const b = uuid6({ ms: NOW.getTime(), us: 2 }, 0, 0x123456789abcn);
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-6[0-9a-f]{3}-bfff-123456789abc$/);
    assert.match(b, /-8000-123456789abc$/);
    assert.ok(a < b);
  });
});

for (const shape of ['fallback', 'langgraph'] as const) {
  describe(`Studio fixture: the real folder (${shape} checkpointer)`, function () {
    this.timeout(60_000);
    let fx: StudioRealFixture;
    before(() => {
      fx = makeStudioReal({ now: NOW, shape });
    });
    after(() => fx?.rm());

    it('lays out data/orchestrator.db, data/checkpoints.db and projects/<session_id>/', () => {
      assert.equal(fx.orchestratorDbPath, path.join(fx.root, 'data', 'orchestrator.db'));
      assert.equal(fx.checkpointsDbPath, path.join(fx.root, 'data', 'checkpoints.db'));
      for (const s of fx.sessions) assert.equal(s.workDirAbs, path.join(fx.projectsDir, s.sessionId));
    });

    it('has the real sessions table: no metadata column, one row per session after INSERT OR REPLACE', () => {
      assert.match(schema(fx.orchestratorDbPath), /CREATE TABLE sessions \(/);
      assert.deepEqual(columns(fx.orchestratorDbPath, 'sessions'), ['session_id', 'user_mission', 'project_name', 'status', 'current_phase', 'created_at', 'updated_at', 'iteration_count', 'qa_passed', 'work_dir', 'state_json']);
      const got = rows(fx.orchestratorDbPath, 'SELECT session_id, status, current_phase, created_at, updated_at, iteration_count, qa_passed, work_dir, state_json FROM sessions ORDER BY created_at') as (string | number)[][];
      assert.equal(got.length, fx.sessions.length);
      assert.ok(fx.sessions.some((s) => s.saves > 1));
      got.forEach((r, i) => {
        const s = fx.sessions[i];
        assert.deepEqual(r.slice(0, 8), [s.sessionId, s.status, s.currentPhase, s.createdAt, s.updatedAt, 0, s.qaPassed ? 1 : 0, `projects/${s.sessionId}`]);
        assert.match(String(r[3]), LOCAL_ISO);
        assert.match(String(r[4]), LOCAL_ISO);
        assert.ok(String(r[3]) < String(r[4]), 'created_at kept from the first save');
        const state = JSON.parse(String(r[8]));
        assert.deepEqual(state, s.state);
        assert.ok(String(r[8]).startsWith('{\n  "user_mission": '), 'json.dumps(indent=2)');
      });
      assert.equal(fx.sessions[0].createdAt.length, 19, 'isoformat without a fraction on a whole second');
      assert.deepEqual(fx.sessions.map((s) => s.status), ['completed', 'awaiting_approval', 'failed']);
    });

    it('keeps the real code\'s quirks in state_json', () => {
      const [done, , failed] = fx.sessions;
      assert.equal(done.state.iteration_count, 0, 'never incremented');
      assert.deepEqual(done.state.execution_log, []);
      assert.equal(done.state.path_bug_report, `projects/${done.sessionId}/reports/BUG_REPORT.md`, 'kept after qa passed');
      assert.equal(failed.state.path_prd, null, 'the error state is built from the state before the run');
      assert.deepEqual(failed.state.errors, [failed.error]);
      assert.ok(fs.existsSync(path.join(failed.workDirAbs, 'docs', 'PRD.md')));
    });

    it(`creates the ${shape} checkpoint tables`, () => {
      const cp = columns(fx.checkpointsDbPath, 'checkpoints');
      const wr = columns(fx.checkpointsDbPath, 'writes');
      if (shape === 'fallback') {
        assert.deepEqual(cp, ['thread_id', 'checkpoint_ns', 'checkpoint_id', 'checkpoint_type', 'checkpoint_blob', 'metadata_type', 'metadata_blob', 'parent_checkpoint_id', 'created_at']);
        assert.deepEqual(wr, ['thread_id', 'checkpoint_ns', 'checkpoint_id', 'task_id', 'write_idx', 'channel', 'value_type', 'value_blob', 'task_path']);
        assert.match(schema(fx.checkpointsDbPath), /idx_checkpoints_latest/);
      } else {
        assert.deepEqual(cp, ['thread_id', 'checkpoint_ns', 'checkpoint_id', 'parent_checkpoint_id', 'type', 'checkpoint', 'metadata']);
        assert.deepEqual(wr, ['thread_id', 'checkpoint_ns', 'checkpoint_id', 'task_id', 'idx', 'channel', 'type', 'value']);
        assert.deepEqual(rows(fx.checkpointsDbPath, 'PRAGMA journal_mode'), [['wal']]);
      }
    });

    it('stores one checkpoint per superstep, chained by parent ids, thread_id = session id', () => {
      const order = shape === 'fallback' ? 'created_at' : 'checkpoint_id';
      for (const s of fx.sessions) {
        const got = rows(fx.checkpointsDbPath, `SELECT checkpoint_id, parent_checkpoint_id FROM checkpoints WHERE thread_id = '${s.sessionId}' ORDER BY ${order}`);
        assert.deepEqual(got, s.checkpoints.map((c) => [c.checkpointId, c.parentCheckpointId]));
        assert.equal(s.checkpoints[0].parentCheckpointId, null);
        s.checkpoints.forEach((c, i) => assert.equal(c.step, i - 1));
      }
      const [done] = fx.sessions;
      assert.deepEqual(done.checkpoints.map((c) => `${c.source}:${c.node ?? ''}`), ['input:', 'loop:__start__', 'loop:pm', 'loop:architect', 'loop:human_gate', 'update:human_gate', 'loop:engineer', 'loop:qa', 'loop:engineer', 'loop:qa']);
      assert.deepEqual(done.nodeRuns, ['pm', 'architect', 'human_gate', 'engineer', 'qa', 'engineer', 'qa']);
      assert.deepEqual(fx.sessions[2].nodeRuns, ['pm', 'architect']);
    });

    it('serializes blobs as JsonPlusSerializer does', () => {
      const typeCol = shape === 'fallback' ? 'checkpoint_type, checkpoint_blob, metadata_type, metadata_blob, created_at' : "type, checkpoint, 'json', metadata, NULL";
      for (const s of fx.sessions) {
        const got = rows(fx.checkpointsDbPath, `SELECT checkpoint_id, ${typeCol} FROM checkpoints WHERE thread_id = '${s.sessionId}'`) as string[][];
        for (const [id, type, b64, mtype, mb64, createdAt] of got) {
          const c = s.checkpoints.find((x) => x.checkpointId === id);
          assert.ok(c);
          assert.equal(type, 'msgpack');
          const checkpoint = decode(Buffer.from(b64, 'base64')) as Record<string, unknown>;
          assert.deepEqual(Object.keys(checkpoint), ['v', 'ts', 'id', 'channel_values', 'channel_versions', 'versions_seen', 'updated_channels']);
          assert.equal(checkpoint.v, 4);
          assert.equal(checkpoint.id, id);
          assert.match(String(checkpoint.ts), UTC_ISO);
          assert.deepEqual(checkpoint, JSON.parse(JSON.stringify(c.checkpoint)));
          assert.equal((checkpoint.channel_values as Record<string, unknown>).current_phase ?? null, c.currentPhase);
          const versions = Object.values(checkpoint.channel_versions as object);
          assert.ok(versions.every((v) => (shape === 'fallback' ? Number.isInteger(v) : /^\d{32}\.\d/.test(String(v)))));
          const meta = mtype === 'msgpack' ? decode(Buffer.from(mb64, 'base64')) : JSON.parse(Buffer.from(mb64, 'base64').toString('utf8'));
          assert.equal(mtype, shape === 'fallback' ? 'msgpack' : 'json');
          assert.deepEqual(meta, { source: c.source, step: c.step, parents: {} });
          if (shape === 'fallback') assert.match(createdAt, LOCAL_ISO);
        }
      }
    });

    it('keeps pending writes, an __error__ write at -1, and the two values for readers', () => {
      const cols = shape === 'fallback' ? 'checkpoint_id, task_id, write_idx, channel, value_type, value_blob' : 'checkpoint_id, task_id, idx, channel, type, value';
      const all = fx.sessions.flatMap((s) => s.writes);
      const got = rows(fx.checkpointsDbPath, `SELECT ${cols} FROM writes`) as [string, string, number, string, string, string][];
      assert.equal(got.length, all.length);
      const types = new Set(got.map((r) => r[4]));
      assert.deepEqual([...types].sort(), ['json', 'msgpack']);
      const err = got.find((r) => r[3] === '__error__');
      assert.ok(err);
      assert.equal(err[2], -1);
      assert.equal(decode(Buffer.from(err[5], 'base64')), "PermissionError(13, 'Permission denied')");
      const opaque = got.find((r) => r[3] === fx.undecodable.channel);
      assert.ok(opaque);
      const value = decode(Buffer.from(opaque[5], 'base64')) as { payload: MsgpackExt };
      assert.ok(value.payload instanceof MsgpackExt);
      assert.equal(value.payload.type, 42);
      assert.equal(fx.undecodable.decodable, false);
      const json = got.find((r) => r[3] === fx.jsonTagged.channel);
      assert.ok(json);
      assert.equal(json[4], 'json');
      assert.equal(JSON.parse(Buffer.from(json[5], 'base64').toString('utf8')), fx.jsonTagged.value);
      for (const r of got) {
        if (r[4] !== 'msgpack' || r[3] === fx.undecodable.channel) continue;
        const w = all.find((x) => x.taskId === r[1] && x.idx === r[2]);
        assert.ok(w);
        assert.deepEqual(decode(Buffer.from(r[5], 'base64')), w.value);
      }
    });

    it('leaves artifact files under projects/<session_id>/, overwritten in place', () => {
      const [done] = fx.sessions;
      for (const a of done.artifacts) assert.equal(fs.readFileSync(a.absPath, 'utf8'), a.content);
      const names = done.artifacts.map((a) => a.relPath).sort();
      assert.deepEqual(names, ['CLAUDE.md', 'docs/PRD.md', 'docs/TECH_SPEC.md', 'docs/scaffold.sh', 'reports/BUG_REPORT.md', 'src/scale.py', 'tests/acceptance/test_acceptance_criteria.py']);
      assert.equal(done.artifacts.find((a) => a.relPath === 'src/scale.py')?.writtenAtSteps.length, 2);
      assert.equal(fs.statSync(path.join(done.workDirAbs, 'docs', 'scaffold.sh')).mode & 0o777, 0o755);
      assert.ok(!fs.existsSync(path.join(done.workDirAbs, '.git')));
    });

    it('is deterministic given now, and rm() removes the folder', () => {
      const again = makeStudioReal({ now: NOW, shape });
      try {
        assert.deepEqual(again.sessions.map((s) => [s.sessionId, s.createdAt, s.updatedAt, s.checkpoints.map((c) => c.checkpointId), s.checkpoints.map((c) => c.blob.toString('hex'))]),
          fx.sessions.map((s) => [s.sessionId, s.createdAt, s.updatedAt, s.checkpoints.map((c) => c.checkpointId), s.checkpoints.map((c) => c.blob.toString('hex'))]));
        assert.deepEqual(rows(again.orchestratorDbPath, 'SELECT * FROM sessions ORDER BY session_id'), rows(fx.orchestratorDbPath, 'SELECT * FROM sessions ORDER BY session_id'));
      } finally {
        again.rm();
      }
      assert.ok(!fs.existsSync(again.root));
    });
  });
}

describe('Studio fixture: the documented schema', function () {
  this.timeout(60_000);
  let fx: StudioDocumentedFixture;
  before(() => {
    fx = makeStudioDocumented({ now: NOW });
  });
  after(() => fx?.rm());

  it('has the eight documented tables with their columns', () => {
    const tables = (rows(fx.dbPath, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name") as string[][]).map((r) => r[0]);
    assert.deepEqual(tables, fx.tables);
    assert.ok(columns(fx.dbPath, 'sessions').includes('metadata'));
    assert.deepEqual(columns(fx.dbPath, 'checkpoints'), ['id', 'thread_id', 'checkpoint_id', 'parent_checkpoint_id', 'checkpoint_data', 'metadata', 'created_at']);
    assert.deepEqual(columns(fx.dbPath, 'agent_executions'), ['id', 'session_id', 'agent_type', 'started_at', 'completed_at', 'status', 'input_summary', 'output_summary', 'error_message', 'tokens_used', 'duration_seconds', 'metadata']);
  });

  it('holds sessions in several statuses, executions with a failure and an eng/qa loop, versioned artifacts, a checkpoint chain', () => {
    assert.deepEqual(fx.sessions.map((s) => s.status), ['completed', 'awaiting_approval', 'failed', 'running', 'pending']);
    const ex = rows(fx.dbPath, 'SELECT session_id, agent_type, status, error_message, tokens_used, duration_seconds, started_at, completed_at FROM agent_executions ORDER BY id') as (string | number | null)[][];
    assert.equal(ex.length, fx.sessions.flatMap((s) => s.executions).length);
    const failed = ex.find((r) => r[2] === 'failed');
    assert.ok(failed && failed[3] && failed[1] === 'eng');
    const loop = fx.sessions[0].executions.map((e) => e.agentType).join(',');
    assert.equal(loop, 'pm,arch,eng,qa,eng,qa,eng,qa');
    for (const r of ex) assert.match(String(r[6]), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+00:00$/);
    const prd = rows(fx.dbPath, `SELECT version FROM artifacts WHERE session_id = '${fx.sessions[0].sessionId}' AND artifact_type = 'bug_report' ORDER BY version`);
    assert.deepEqual(prd, [[1], [2]]);
    const cps = rows(fx.dbPath, `SELECT checkpoint_id, parent_checkpoint_id FROM checkpoints WHERE thread_id = '${fx.sessions[0].sessionId}' ORDER BY id`) as (string | null)[][];
    assert.deepEqual(cps.map((r) => r[0]), fx.sessions[0].checkpointIds);
    cps.forEach((r, i) => assert.equal(r[1], i === 0 ? null : cps[i - 1][0]));
    const [[qa]] = rows(fx.dbPath, `SELECT qa_passed FROM sessions WHERE session_id = '${fx.sessions[0].sessionId}'`) as number[][];
    assert.equal(qa, 1);
    const audit = rows(fx.dbPath, 'SELECT count(*) FROM audit_log') as number[][];
    assert.equal(audit[0][0], fx.auditEvents.length);
    JSON.parse(String((rows(fx.dbPath, 'SELECT metadata FROM sessions LIMIT 1') as string[][])[0][0]));
  });

  it("records each version's SHA-256 as content_hash, and leaves the first session's work folder with some newest files", () => {
    const [done, ...others] = fx.sessions;
    const recorded = rows(fx.dbPath, `SELECT id, file_path, content_hash, version FROM artifacts WHERE session_id = '${done.sessionId}' ORDER BY id`) as [number, string, string, number][];
    assert.deepEqual(recorded, done.artifacts.map((a) => [a.id, a.filePath, a.contentHash, a.version]));
    for (const a of done.artifacts) assert.equal(a.contentHash, createHash('sha256').update(a.content).digest('hex'), a.filePath);
    const [[workDir]] = rows(fx.dbPath, `SELECT work_dir FROM sessions WHERE session_id = '${done.sessionId}'`) as string[][];
    assert.equal(workDir, done.workDir);
    assert.equal(path.join(fx.root, workDir), done.workDirAbs);
    const at = (rel: string): string => path.join(done.workDirAbs, rel);
    const newest = (rel: string) => done.artifacts.filter((a) => a.filePath === `${workDir}/${rel}`).sort((a, b) => b.version - a.version)[0];
    assert.equal(fs.readFileSync(at('docs/PRD.md'), 'utf8'), newest('docs/PRD.md').content);
    assert.equal(newest('docs/PRD.md').disk, 'matches');
    assert.equal(newest('src/main.py').disk, 'edited');
    assert.equal(newest('src/main.py').version, 3);
    assert.notEqual(fs.readFileSync(at('src/main.py'), 'utf8'), newest('src/main.py').content);
    assert.ok(fs.readFileSync(at('src/main.py'), 'utf8').startsWith(newest('src/main.py').content), 'edited by appending');
    assert.equal(newest('reports/BUG_REPORT.md').disk, 'missing');
    assert.ok(!fs.existsSync(at('reports/BUG_REPORT.md')), 'the bug report is missing');
    assert.ok(fs.lstatSync(at('src/link.py')).isSymbolicLink(), 'src/link.py is a link');
    assert.equal(fs.realpathSync(at('src/link.py')), fs.realpathSync(fx.outsidePath));
    assert.equal(fs.readFileSync(fx.outsidePath, 'utf8'), fx.outsideContent);
    const outside = done.artifacts.filter((a) => a.disk === 'outside').map((a) => a.filePath);
    assert.deepEqual(outside, [`${workDir}/../../outside.txt`, fx.outsidePath]);
    assert.ok(done.artifacts.every((a) => a.disk !== 'older' || done.artifacts.some((b) => b.filePath === a.filePath && b.version > a.version)), 'older means a newer version exists');
    for (const s of others) {
      assert.ok(!s.workFolder && !fs.existsSync(s.workDirAbs), `${s.projectName} has no work folder`);
      assert.ok(s.artifacts.every((a) => a.disk === 'older' || a.disk === 'missing'), s.projectName);
    }
  });

  it('is deterministic given now, and rm() removes the folder', () => {
    const again = makeStudioDocumented({ now: NOW });
    try {
      assert.deepEqual(rows(again.dbPath, 'SELECT * FROM agent_executions'), rows(fx.dbPath, 'SELECT * FROM agent_executions'));
      assert.deepEqual(rows(again.dbPath, 'SELECT * FROM sessions'), rows(fx.dbPath, 'SELECT * FROM sessions'));
    } finally {
      again.rm();
    }
    assert.ok(!fs.existsSync(again.root));
  });
});
