import * as assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { openSnapshot, schemaShape } from '../../../src/core/sources/snapshot';
import { studioAdapter } from '../../../src/core/sources/studio';
import { openSource } from '../../../src/core/sources/openSource';
import { decodeTyped, formatShown, MAX_TEXT, parseTime, toShown } from '../../../src/core/sources/studio/values';
import { checkHash, readWorkFile } from '../../../src/core/sources/studio/workFiles';
import type { Detection, HistorySource, SourceAdapter, SourceContext } from '../../../src/core/sources/types';
import { makeLaforgeToday } from '../../fixtures/laforgeToday';
import { makeStudioDocumented, makeStudioReal, msgpackEncode, MsgpackExt, type StudioDocumentedFixture, type StudioRealFixture } from '../../fixtures/studio';

const NOW = new Date('2026-11-20T17:00:00Z');
/** The machine's own offset, so the fixture's local isoformat times are this machine's local times. */
const LOCAL_OFFSET = -NOW.getTimezoneOffset();

interface Opened { source: HistorySource; detection: Detection; close(): void }

async function detectFile(dbPath: string): Promise<Detection | null> {
  const snap = await openSnapshot(dbPath);
  try {
    return studioAdapter.detect(schemaShape(snap.db, dbPath));
  } finally {
    snap.db.close();
  }
}

/** Opened as the store worker opens it, the files beside it included. */
async function open(dbPath: string): Promise<Opened> {
  const opened = await openSource(dbPath);
  assert.equal(opened.detection.system, 'studio');
  assert.equal(opened.store, undefined, `${dbPath} is another system's: no LaForge store`);
  return { source: opened.source, detection: opened.detection, close: opened.close };
}

const py = (db: string, sql: string, params: unknown[] = []): void => {
  execFileSync('python3', ['-c', 'import json,sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2], json.loads(sys.argv[3])); c.commit()', db, sql, JSON.stringify(params)]);
};

/** The fixture's channel values as the adapter prints them: without the branch:to routing channels. */
const stateOf = (channelValues: unknown): Record<string, unknown> =>
  Object.fromEntries(Object.entries(JSON.parse(JSON.stringify(channelValues)) as Record<string, unknown>).filter(([k]) => !k.startsWith('branch:')));

const section = (source: HistorySource, ref: string, title: string) => source.details(ref).find((s) => s.title === title);
const sectionText = (source: HistorySource, ref: string, title: string): string => {
  const s = section(source, ref, title);
  assert.ok(s && s.kind === 'text', `section ${title}`);
  return s.text;
};

describe('Studio source: detect', function () {
  this.timeout(60_000);
  it('tells the documented schema, orchestrator.db and both checkpoints.db shapes apart', async () => {
    const doc = makeStudioDocumented({ now: NOW });
    const fb = makeStudioReal({ now: NOW, shape: 'fallback' });
    const lg = makeStudioReal({ now: NOW, shape: 'langgraph' });
    try {
      assert.deepEqual(await detectFile(doc.dbPath), { system: 'studio', variant: 'documented' });
      assert.deepEqual(await detectFile(fb.orchestratorDbPath), { system: 'studio', variant: 'orchestrator' });
      assert.deepEqual(await detectFile(fb.checkpointsDbPath), { system: 'studio', variant: 'checkpoints-fallback' });
      assert.deepEqual(await detectFile(lg.checkpointsDbPath), { system: 'studio', variant: 'checkpoints-langgraph' });
    } finally {
      doc.rm();
      fb.rm();
      lg.rm();
    }
  });
  it('does not claim a LaForge steps database', async () => {
    const fx = makeLaforgeToday();
    try {
      assert.equal(await detectFile(fx.dbPath), null);
    } finally {
      fx.rm();
    }
  });
  it('does not claim tables of other shapes', () => {
    const shape = (tables: Record<string, string[]>) => ({ tables: new Map(Object.entries(tables).map(([k, v]) => [k, new Set(v)])) });
    assert.equal(studioAdapter.detect(shape({ steps: ['id'], checkpoints: ['thread_id', 'checkpoint_id', 'checkpoint', 'type'] })), null);
    assert.equal(studioAdapter.detect(shape({ projects: ['id'], agents: ['id'], agent_history: ['id'] })), null);
    assert.equal(studioAdapter.detect(shape({ runs: ['id'], responses: ['id'], workflows: ['id'] })), null);
    assert.equal(studioAdapter.detect(shape({ sessions: ['id', 'token'] })), null);
  });
});

for (const shape of ['fallback', 'langgraph'] as const) {
  describe(`Studio source: orchestrator.db with a ${shape} checkpoints.db`, function () {
    this.timeout(60_000);
    let fx: StudioRealFixture;
    let o: Opened;
    before(async () => {
      fx = makeStudioReal({ now: NOW, shape, utcOffset: LOCAL_OFFSET });
      o = await open(fx.orchestratorDbPath);
    });
    after(() => {
      o?.close();
      fx?.rm();
    });

    it('lists the sessions newest first with their status, phase and local times', () => {
      const nodes = o.source.children(null);
      const expected = [...fx.sessions].reverse();
      assert.deepEqual(nodes.map((n) => n.ref), expected.map((s) => `session:${s.sessionId}`));
      assert.equal(o.source.count(null), 3);
      nodes.forEach((n, i) => {
        const s = expected[i];
        assert.equal(n.label, s.userMission);
        assert.equal(n.rawStatus, s.status);
        assert.equal(n.status, { completed: 'completed', awaiting_approval: 'waiting', failed: 'failed', running: 'running' }[s.status]);
        assert.equal(n.metrics.start?.getTime(), parseTime(s.createdAt).date?.getTime());
        assert.equal(n.metrics.tokens, null);
        assert.equal(n.metrics.costUsd, null);
        assert.ok(n.hasChildren);
      });
      const done = fx.sessions[0];
      const facts = section(o.source, `session:${done.sessionId}`, 'Session');
      assert.ok(facts?.kind === 'facts');
      assert.ok(facts.facts.some((f) => f.label === 'Created' && f.value.includes('read as local time')));
      const state = sectionText(o.source, `session:${done.sessionId}`, 'Latest state (state_json)');
      assert.deepEqual(JSON.parse(state), done.state);
    });

    it('lists each checkpoint of a session as a step, in order, labelled by the node that ran', () => {
      const [done, waiting, failed] = fx.sessions;
      const labels = (sid: string) => o.source.children(`session:${sid}`).map((n) => n.label);
      assert.deepEqual(labels(done.sessionId), ['input', '__start__', 'pm', 'architect', 'human_gate', 'human_gate', 'engineer', 'qa', 'engineer', 'qa']);
      assert.deepEqual(labels(done.sessionId).filter((_, i) => done.checkpoints[i].source === 'loop').slice(1), done.nodeRuns);
      assert.deepEqual(labels(waiting.sessionId).slice(2), waiting.nodeRuns);
      assert.deepEqual(labels(failed.sessionId).slice(2), failed.nodeRuns);
      const steps = o.source.children(`session:${done.sessionId}`);
      assert.deepEqual(steps.map((n) => n.ref), done.checkpoints.map((c) => `checkpoint:${done.sessionId}/${c.checkpointId}`));
      assert.deepEqual(steps.map((n) => n.rawStatus), done.checkpoints.map((c) => c.source));
      assert.ok(steps.every((n) => n.isStep && n.status === 'completed'));
      assert.equal(o.source.count(`session:${done.sessionId}`), done.checkpoints.length);
    });

    it('takes durations only from consecutive checkpoint times', () => {
      const [done] = fx.sessions;
      const steps = o.source.children(`session:${done.sessionId}`);
      const ts = done.checkpoints.map((c) => new Date(c.ts.slice(0, 23) + 'Z').getTime());
      assert.equal(steps[0].metrics.durationMs, null);
      assert.equal(steps[0].metrics.start, null);
      steps.forEach((n, i) => {
        assert.equal(n.metrics.end?.getTime(), ts[i]);
        if (i > 0) assert.equal(n.metrics.durationMs, ts[i] - ts[i - 1]);
        assert.equal(n.metrics.tokens, null);
      });
    });

    it('shows each checkpoint\'s decoded state, and its change from the previous checkpoint', () => {
      const [done] = fx.sessions;
      const steps = o.source.children(`session:${done.sessionId}`);
      done.checkpoints.forEach((c, i) => {
        const shown = sectionText(o.source, steps[i].ref, 'State');
        assert.deepEqual(JSON.parse(shown), stateOf(c.checkpoint.channel_values));
      });
      const pm = steps[2];
      const changes = o.source.changes(pm.ref);
      const state = changes.find((c) => c.id === 'state');
      assert.ok(state && state.before && state.after);
      assert.equal(state.status, 'modified');
      assert.deepEqual(JSON.parse(o.source.text(state.before) ?? ''), stateOf(done.checkpoints[1].checkpoint.channel_values));
      const after = o.source.text(state.after) ?? '';
      assert.deepEqual(JSON.parse(after), stateOf(done.checkpoints[2].checkpoint.channel_values));
      assert.match(after, /"current_phase": "arch"/);
      const keys = [...after.matchAll(/^ {2}"([^"]+)":/gm)].map((m) => m[1]);
      assert.deepEqual(keys, [...keys].sort(), 'stable key order');
      // human_gate returns the state unchanged: no state change.
      assert.deepEqual(o.source.changes(steps[4].ref).filter((c) => c.id === 'state'), []);
      const first = o.source.changes(steps[0].ref).find((c) => c.id === 'state');
      assert.equal(first?.before, null);
      assert.equal(first?.status, 'added');
    });

    it('shows the artifact files a step first names in its state, from projects/<session_id>/', () => {
      const [done] = fx.sessions;
      const steps = o.source.children(`session:${done.sessionId}`);
      const prd = o.source.changes(steps[2].ref).find((c) => c.path?.endsWith('docs/PRD.md'));
      assert.ok(prd && prd.after);
      assert.equal(prd.status, 'added');
      assert.equal(o.source.text(prd.after), done.artifacts.find((a) => a.relPath === 'docs/PRD.md')?.content);
      const arch = o.source.changes(steps[3].ref).map((c) => c.path).filter(Boolean);
      assert.deepEqual(arch.sort(), [`projects/${done.sessionId}/docs/TECH_SPEC.md`, `projects/${done.sessionId}/docs/scaffold.sh`]);
    });

    it('shows a node that raised as a failed step with its __error__ write', () => {
      const failed = fx.sessions[2];
      const steps = o.source.children(`session:${failed.sessionId}`);
      const last = steps[steps.length - 1];
      assert.equal(last.label, 'architect');
      assert.equal(last.status, 'failed');
      assert.equal(last.metrics.durationMs, null);
      assert.equal(sectionText(o.source, last.ref, 'Error'), "PermissionError(13, 'Permission denied')");
      assert.deepEqual(o.source.changes(last.ref), []);
    });

    it('shows undecodable values as type and size, and json-tagged values decoded', () => {
      const waiting = fx.sessions[1];
      const steps = o.source.children(`session:${waiting.sessionId}`);
      const pending = sectionText(o.source, steps[steps.length - 1].ref, 'Pending writes (no checkpoint after them)');
      assert.match(pending, /"payload": <ext 42, 17 bytes>/);
      assert.match(pending, /"name": "diagram"/);
      assert.ok(pending.includes(`${fx.jsonTagged.channel} [0] · json`));
      assert.ok(pending.includes(JSON.stringify(fx.jsonTagged.value)));
    });
  });

  describe(`Studio source: a bare ${shape} checkpoints.db`, function () {
    this.timeout(60_000);
    let fx: StudioRealFixture;
    let o: Opened;
    before(async () => {
      fx = makeStudioReal({ now: NOW, shape, utcOffset: LOCAL_OFFSET });
      o = await open(fx.checkpointsDbPath);
    });
    after(() => {
      o?.close();
      fx?.rm();
    });
    it('lists threads as containers, newest first, with their checkpoints in order', () => {
      const threads = o.source.children(null);
      assert.deepEqual(threads.map((t) => t.ref), [...fx.sessions].reverse().map((s) => `thread:${s.sessionId}`));
      const [done] = fx.sessions;
      assert.deepEqual(o.source.children(`thread:${done.sessionId}`).map((n) => n.label), ['input', '__start__', 'pm', 'architect', 'human_gate', 'human_gate', 'engineer', 'qa', 'engineer', 'qa']);
    });
  });
}

describe('Studio source: orchestrator.db alone and damaged', function () {
  this.timeout(60_000);
  let fx: StudioRealFixture;
  before(() => {
    fx = makeStudioReal({ now: NOW, utcOffset: LOCAL_OFFSET });
  });
  after(() => fx?.rm());
  it('reads sessions without checkpoints.db and keeps broken values raw with warnings', async () => {
    fs.rmSync(fx.checkpointsDbPath);
    const [done] = fx.sessions;
    py(fx.orchestratorDbPath, 'UPDATE sessions SET state_json = ?, iteration_count = ?, user_mission = ? WHERE session_id = ?', ['{"broken": ', 'many', '<b>bold</b>\u0007 mission', done.sessionId]);
    const o = await open(fx.orchestratorDbPath);
    try {
      const n = o.source.children(null).find((x) => x.ref === `session:${done.sessionId}`);
      assert.ok(n);
      assert.equal(n.label, '<b>bold</b>\u0007 mission');
      assert.equal(n.hasChildren, false);
      assert.ok(n.warnings.some((w) => /state_json is not valid JSON/.test(w)));
      assert.ok(n.warnings.some((w) => /iteration_count holds "many"/.test(w)));
      assert.equal(sectionText(o.source, n.ref, 'Latest state (state_json)'), '{"broken": ');
      assert.deepEqual(o.source.children(n.ref), []);
    } finally {
      o.close();
    }
  });
});

describe('Studio source: the documented schema', function () {
  this.timeout(60_000);
  let fx: StudioDocumentedFixture;
  let o: Opened;
  before(async () => {
    fx = makeStudioDocumented({ now: NOW });
    o = await open(fx.dbPath);
  });
  after(() => {
    o?.close();
    fx?.rm();
  });

  it('lists sessions newest first with mission, phase, status, iterations and QA', () => {
    const nodes = o.source.children(null);
    const expected = [...fx.sessions].reverse();
    assert.deepEqual(nodes.map((n) => n.ref), expected.map((s) => `session:${s.sessionId}`));
    assert.deepEqual(nodes.map((n) => n.rawStatus), expected.map((s) => s.status));
    assert.deepEqual(nodes.map((n) => n.status), ['pending', 'running', 'failed', 'waiting', 'completed']);
    const facts = section(o.source, `session:${fx.sessions[0].sessionId}`, 'Session');
    assert.ok(facts?.kind === 'facts');
    const f = Object.fromEntries(facts.facts.map((x) => [x.label, x.value]));
    assert.equal(f.Mission, fx.sessions[0].userMission);
    assert.equal(f.Phase, 'complete');
    assert.equal(f.Iterations, '2');
    assert.equal(f['QA passed'], 'yes');
  });

  it('lists agent executions as steps with summaries, errors, tokens and durations', () => {
    for (const s of fx.sessions) {
      const steps = o.source.children(`session:${s.sessionId}`);
      assert.deepEqual(steps.map((n) => n.label), s.executions.map((e) => e.agentType));
      steps.forEach((n, i) => {
        const e = s.executions[i];
        assert.equal(n.rawStatus, e.status);
        assert.equal(n.metrics.durationMs, e.durationSeconds === null ? null : Math.round(e.durationSeconds * 1000));
        assert.equal(n.metrics.start?.getTime(), parseTime(e.startedAt).date?.getTime());
        assert.equal(n.metrics.end?.getTime() ?? null, e.completedAt ? parseTime(e.completedAt).date?.getTime() : null);
        if (e.status === 'running') assert.equal(n.metrics.tokens, null);
        else assert.equal(n.metrics.tokens?.total, e.tokensUsed);
        assert.equal(n.metrics.costUsd, null);
        if (e.outputSummary) assert.equal(n.description, e.outputSummary);
      });
    }
    const failed = fx.sessions[2];
    const eng = o.source.children(`session:${failed.sessionId}`)[2];
    assert.equal(eng.status, 'failed');
    assert.equal(sectionText(o.source, eng.ref, 'Error'), failed.executions[2].errorMessage);
  });

  it('gives each execution the artifact versions it made, and lists them all in the session', () => {
    const [done] = fx.sessions;
    const steps = o.source.children(`session:${done.sessionId}`);
    const all = steps.flatMap((n) => o.source.changes(n.ref).map((c) => ({ exec: n.ref, c })));
    assert.equal(all.length, done.artifacts.length);
    const qa1 = o.source.changes(steps[3].ref);
    assert.deepEqual(qa1.map((c) => c.label).sort(), [`projects/${done.sessionId}/reports/BUG_REPORT.md v1`, `projects/${done.sessionId}/tests/acceptance/test_acceptance_criteria.py v1`]);
    assert.ok(qa1.every((c) => c.status === 'added' && c.before === null));
    const bug2 = o.source.changes(steps[5].ref).find((c) => c.label.includes('BUG_REPORT.md v2'));
    assert.ok(bug2 && bug2.before && bug2.after);
    assert.equal(bug2.status, 'modified');
    const hash = done.artifacts.find((a) => a.artifactType === 'bug_report' && a.version === 2)?.contentHash;
    assert.ok(o.source.text(bug2.after)?.includes(`content_hash: ${hash}`));
    assert.ok(o.source.text(bug2.before)?.includes('version: 1'));
    const timeline = section(o.source, `session:${done.sessionId}`, 'Artifacts');
    assert.ok(timeline?.kind === 'timeline');
    assert.equal(timeline.events.length, done.artifacts.length);
  });

  it('shows the newest version of an artifact as its file under work_dir, saying whether it still matches content_hash', () => {
    const [done] = fx.sessions;
    const changes = new Map(o.source.children(`session:${done.sessionId}`).flatMap((n) => o.source.changes(n.ref)).map((c) => [c.id, c]));
    const seen = new Set<string>();
    for (const a of done.artifacts) {
      seen.add(a.disk);
      const c = changes.get(`artifact:${a.id}`);
      assert.ok(c?.after, `${a.filePath} v${a.version}`);
      const after = o.source.text(c.after);
      assert.ok(after !== null, `${a.filePath} v${a.version} has a text`);
      if (a.disk === 'matches' || a.disk === 'edited') {
        assert.equal(after, a.diskContent, `${a.filePath} is shown as it is on disk`);
        assert.equal(c.label, `${a.filePath} v${a.version} (on disk, ${a.disk === 'matches' ? 'matches' : 'edited since'} v${a.version})`);
      } else {
        assert.equal(c.label, `${a.filePath} v${a.version}`);
        assert.ok(after.includes(`content_hash: ${a.contentHash}`), `${a.filePath} v${a.version} is shown as its record`);
        assert.match(after, /^content: not stored in the database, only content_hash \(/m);
        assert.ok(!after.includes(fx.outsideContent), `${a.filePath}: nothing outside work_dir is read`);
        const why = {
          older: `only the newest version, v${Math.max(...done.artifacts.filter((b) => b.filePath === a.filePath).map((b) => b.version))}, can be on disk`,
          missing: 'not on disk', 'link-out': 'not on disk', outside: "file_path lies outside the session's work_dir: not read",
        }[a.disk];
        assert.ok(after.includes(why), `${a.filePath} v${a.version}: ${why}`);
      }
      if (c.before) assert.match(o.source.text(c.before) ?? '', /^content: not stored in the database, only content_hash \(only the newest version, v\d+, can be on disk\)$/m);
    }
    assert.deepEqual([...seen].sort(), ['edited', 'link-out', 'matches', 'missing', 'older', 'outside']);
    // The other sessions' work folders are not on disk: every artifact is its record.
    for (const s of fx.sessions.slice(1)) {
      for (const n of o.source.children(`session:${s.sessionId}`)) {
        for (const c of o.source.changes(n.ref)) assert.match(o.source.text(c.after ?? '') ?? '', /^content: not stored/m);
      }
    }
  });

  it("says in an execution's details which artifacts are on disk, and warns of later edits and paths outside work_dir", () => {
    const [done] = fx.sessions;
    const steps = o.source.children(`session:${done.sessionId}`);
    const madeBy = (i: number): Record<string, string> => {
      const made = section(o.source, steps[i].ref, 'Artifacts made');
      assert.ok(made?.kind === 'facts', `${steps[i].ref} lists the artifacts it made`);
      return Object.fromEntries(made.facts.map((f) => [f.label, f.value]));
    };
    const warningsOf = (i: number): string[] => {
      const w = section(o.source, steps[i].ref, 'Warnings');
      return w?.kind === 'warnings' ? w.warnings : [];
    };
    const file = (rel: string): string => `${done.workDir}/${rel}`;
    assert.deepEqual(madeBy(0), { [file('docs/PRD.md')]: 'v1 (prd) · on disk, matches content_hash' });
    assert.deepEqual(warningsOf(0), []);
    assert.equal(madeBy(2)[file('src/main.py')], 'v1 (code) · content not stored (only the newest version, v3, can be on disk)');
    assert.equal(madeBy(5)[file('reports/BUG_REPORT.md')], 'v2 (bug_report) · content not stored (not on disk: no readable text file at file_path under work_dir)');
    const last = madeBy(6);
    assert.equal(last[file('src/main.py')], 'v3 (code) · on disk, edited since (its SHA-256 differs from content_hash)');
    assert.equal(last[path.join(done.workDirAbs, 'src', 'units.py')], 'v1 (code) · on disk, matches content_hash');
    assert.equal(last['src/cups.py'], 'v1 (code) · on disk, matches content_hash');
    assert.equal(last[fx.outsidePath], "v1 (code) · content not stored (file_path lies outside the session's work_dir: not read)");
    assert.equal(last[file('../../outside.txt')], "v1 (code) · content not stored (file_path lies outside the session's work_dir: not read)");
    assert.equal(last[file('src/link.py')], 'v1 (code) · content not stored (not on disk: no readable text file at file_path under work_dir)');
    const warnings = warningsOf(6);
    assert.ok(warnings.includes(`${file('src/main.py')} has changed on disk since v3 was recorded (its SHA-256 differs from content_hash): what is shown is the file as it is now, not v3.`), warnings.join('\n'));
    for (const p of [fx.outsidePath, file('../../outside.txt')]) assert.ok(warnings.includes(`${p} (v1) lies outside the session's work_dir (${done.workDir}): it was not read.`), p);
    assert.equal(warnings.length, 3);
  });

  it('reads a file under work_dir only: not by `..`, an absolute path elsewhere or a symbolic link out of it', async () => {
    const [done] = fx.sessions;
    let context: SourceContext | undefined;
    const capture: SourceAdapter = { ...studioAdapter, open: (r, d, c) => ((context = c), studioAdapter.open(r, d, c)) };
    const opened = await openSource(fx.dbPath, { adapters: [capture] });
    const scratch = path.join(done.workDirAbs, 'scratch');
    try {
      const read = context?.readFileUnder;
      assert.ok(read, 'the context has readFileUnder');
      const prd = done.artifacts.find((a) => a.artifactType === 'prd');
      assert.equal(read(done.workDir, 'docs/PRD.md'), prd?.content, 'work_dir relative to the database folder');
      assert.equal(read(done.workDirAbs, path.join(done.workDirAbs, 'docs', 'PRD.md')), prd?.content, 'both absolute');
      assert.equal(read(done.workDir, 'docs/../docs/PRD.md'), prd?.content, 'a `..` that stays inside');
      assert.equal(fs.readFileSync(path.join(done.workDirAbs, 'src', 'link.py'), 'utf8'), fx.outsideContent, 'the link leads out');
      for (const file of ['../../outside.txt', fx.outsidePath, 'src/link.py', '.', '', '..', 'docs', 'no/such/file.md']) assert.equal(read(done.workDir, file), null, file);
      assert.equal(read('projects', `${done.sessionId}/../../outside.txt`), null);
      fs.mkdirSync(scratch);
      fs.writeFileSync(path.join(scratch, 'binary.bin'), Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00]));
      fs.writeFileSync(path.join(scratch, 'large.txt'), Buffer.alloc(5 * 2 ** 20 + 1, 0x61));
      fs.writeFileSync(path.join(scratch, 'limit.txt'), Buffer.alloc(5 * 2 ** 20, 0x61));
      assert.equal(read(done.workDir, 'scratch/binary.bin'), null, 'not text');
      assert.equal(read(done.workDir, 'scratch/large.txt'), null, 'over 5 MB');
      assert.equal(read(done.workDir, 'scratch/limit.txt')?.length, 5 * 2 ** 20, 'at the cap');
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
      opened.close();
    }
  });

  it('finds a relative work_dir in the folder above the database, where the app keeps its data/ folder', async () => {
    const [done] = fx.sessions;
    const dataDir = path.join(fx.root, 'data');
    fs.mkdirSync(dataDir);
    const copy = path.join(dataDir, 'softwarestudio.db');
    fs.copyFileSync(fx.dbPath, copy);
    const moved = await open(copy);
    try {
      const pm = moved.source.children(`session:${done.sessionId}`)[0];
      const [prd] = moved.source.changes(pm.ref);
      assert.equal(moved.source.text(prd.after ?? ''), done.artifacts.find((a) => a.artifactType === 'prd')?.content);
      assert.match(prd.label, /\(on disk, matches v1\)$/);
    } finally {
      moved.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('shows the checkpoint chain and the audit log in the session details', () => {
    const [done] = fx.sessions;
    const cps = section(o.source, `session:${done.sessionId}`, 'Checkpoints');
    assert.ok(cps?.kind === 'timeline');
    assert.equal(cps.events.length, done.checkpointIds.length);
    cps.events.forEach((e, i) => assert.ok(e.detail?.startsWith(done.checkpointIds[i])));
    const audit = section(o.source, `session:${done.sessionId}`, 'Audit log');
    assert.ok(audit?.kind === 'timeline');
    assert.equal(audit.events.length, fx.auditEvents.filter((e) => e.sessionId === done.sessionId).length);
  });
});

describe('Studio artifact files', () => {
  it('checks a file against content_hash as a SHA-256 hex digest, and says when it cannot', () => {
    const text = 'Revision 2 — ünïcode\r\n';
    const hex = createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex');
    assert.equal(checkHash(text, hex), 'matches');
    assert.equal(checkHash(text, ` sha256:${hex.toUpperCase()} `), 'matches');
    assert.equal(checkHash(text + ' ', hex), 'differs');
    assert.equal(checkHash(text, null), 'none');
    assert.equal(checkHash(text, ''), 'none');
    assert.equal(checkHash(text, hex.slice(0, 12)), 'unchecked');
    assert.equal(checkHash(text, createHash('md5').update(text).digest('hex')), 'unchecked');
  });

  it('resolves file_path under work_dir, tries a relative work_dir beside the database then above it, and refuses paths out of it', () => {
    const calls: [string, string][] = [];
    const context: SourceContext = { path: '/app/data/studio.db', readFileUnder: (folder, file) => (calls.push([folder, file]), null) };
    const tried = (workDir: string | null, filePath: string): { kind: string; calls: [string, string][] } => {
      calls.length = 0;
      const kind = readWorkFile(context, workDir, filePath, null).kind;
      return { kind, calls: [...calls] };
    };
    assert.deepEqual(tried('projects/s1', 'projects/s1/docs/PRD.md'), { kind: 'notRead', calls: [['/app/data/projects/s1', 'docs/PRD.md'], ['/app/projects/s1', 'docs/PRD.md']] });
    assert.deepEqual(tried('projects/s1', 'docs/PRD.md'), { kind: 'notRead', calls: [['/app/data/projects/s1', 'docs/PRD.md'], ['/app/projects/s1', 'docs/PRD.md']] });
    assert.deepEqual(tried('/work/s1', '/work/s1/src/a.py'), { kind: 'notRead', calls: [['/work/s1', 'src/a.py']] });
    assert.deepEqual(tried('/work/s1', 'src\\a.py'), { kind: 'notRead', calls: [['/work/s1', 'src/a.py']] });
    assert.deepEqual(tried('/app/projects/s1', '/app/projects/s1/../s2/a.py'), { kind: 'outside', calls: [] });
    for (const escape of ['../s2/a.py', 'projects/s1/../../x', 'docs/../../x', '/etc/passwd', '..\\..\\x', '.', '']) {
      assert.deepEqual(tried('projects/s1', escape), { kind: 'outside', calls: [] }, escape);
    }
    assert.deepEqual(tried(null, 'docs/PRD.md'), { kind: 'noWorkDir', calls: [] });
    assert.deepEqual(tried('  ', 'docs/PRD.md'), { kind: 'noWorkDir', calls: [] });
    assert.equal(readWorkFile({ path: '/app/data/studio.db' }, 'projects/s1', 'docs/PRD.md', null).kind, 'notRead', 'a context without the reader reads nothing');
    const found = readWorkFile({ path: '/app/data/studio.db', readFileUnder: (folder) => (folder === '/app/projects/s1' ? 'text' : null) }, 'projects/s1', 'docs/PRD.md', 'not-a-digest');
    assert.deepEqual(found, { kind: 'onDisk', text: 'text', hash: 'unchecked' });
  });
});

describe('Studio values', () => {
  it('decodes msgpack with LangGraph ext types as constructor name and fields', () => {
    const inner = msgpackEncode(['langchain_core.messages.ai', 'AIMessage', { content: 'hi <b>', type: 'ai' }]);
    const blob = msgpackEncode({ messages: [new MsgpackExt(2, inner)], other: new MsgpackExt(42, Buffer.from('abc')), raw: new Uint8Array(5) });
    const d = decodeTyped('msgpack', blob);
    assert.ok(d.ok);
    const text = formatShown(toShown(d.value));
    assert.match(text, /langchain_core\.messages\.ai\.AIMessage\(\{\n {6}"content": "hi <b>",\n {6}"type": "ai"\n {4}\}\)/);
    assert.match(text, /"other": <ext 42, 3 bytes>/);
    assert.match(text, /"raw": <bytes, 5 bytes>/);
  });
  it('never unpickles, and shows unknown or broken blobs as type and size', () => {
    const pickle = decodeTyped('pickle', new Uint8Array([0x80, 4, 0x95]));
    assert.ok(!pickle.ok && pickle.shown.text.startsWith('<pickle, 3 bytes'));
    const broken = decodeTyped('msgpack', new Uint8Array([0xc1]));
    assert.ok(!broken.ok && broken.shown.text.startsWith('<msgpack, 1 byte: cannot be decoded'));
    const json = decodeTyped('json', new Uint8Array([0x7b]));
    assert.ok(!json.ok && json.shown.text === '<json, 1 byte: not valid JSON>');
    assert.deepEqual(decodeTyped('null', new Uint8Array()), { ok: true, value: null });
    const bytes = decodeTyped('bytes', new Uint8Array(7));
    assert.ok(!bytes.ok && bytes.shown.text === '<bytes, 7 bytes>');
  });
  it('caps a huge text with a note', () => {
    const t = formatShown(['x'.repeat(MAX_TEXT + 10)]);
    assert.ok(t.length < MAX_TEXT + 200);
    assert.match(t, /the rest is not shown/);
  });
  it('reads times with an offset exactly and without one as local time', () => {
    assert.equal(parseTime('2026-11-20T09:00:00.123456+00:00').date?.toISOString(), '2026-11-20T09:00:00.123Z');
    assert.equal(parseTime('2026-11-20 09:00:00.5-08:00').date?.toISOString(), '2026-11-20T17:00:00.500Z');
    const local = parseTime('2026-11-20T09:00:00');
    assert.equal(local.local, true);
    assert.equal(local.date?.getTime(), new Date(2026, 10, 20, 9, 0, 0).getTime());
    assert.equal(parseTime('yesterday').date, null);
  });
});


