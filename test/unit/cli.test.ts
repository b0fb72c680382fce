/**
 * The `step-history` command line, run as a child process (its TypeScript entry through tsx,
 * and once its esbuild bundle) on copies of the demo workspace; its rollbacks checked with git
 * and python3's sqlite3, and shared with the core functions the editor calls.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { executeRollback, lastRollback, planRollback, readJournals, undoRollback } from '../../src/core/rollback';
import { moveJournals, rollbackJournalDir, stateDir } from '../../src/core/stateDir';
import { makeConstellation } from '../fixtures/constellation';
import { makeLaforgeToday } from '../fixtures/laforgeToday';
import { makeLlmOrchestration } from '../fixtures/llmOrchestration';
import { makeStudioReal } from '../fixtures/studio';
import { activeIds, cleanupTempDirs, demo, git, integrity, snapshot, sqlite, stepHistoryRefs, tempDir, write } from '../support/rollbackWorkspace';

const ROOT = path.resolve(__dirname, '..', '..');
const ENTRY = path.join(ROOT, 'src', 'cli', 'main.ts');
const TSX = require.resolve('tsx/cjs');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

function cliEnv(stateDirPath: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toUpperCase().startsWith('GIT_')));
  return { ...env, STEP_HISTORY_STATE_DIR: stateDirPath, TZ: 'UTC', HOME: tempDir('home'), GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: os.devNull };
}

function runWith(command: string[], args: string[], state: string): Run {
  const r = spawnSync(command[0], [...command.slice(1), ...args], { cwd: ROOT, env: cliEnv(state), encoding: 'utf8', maxBuffer: 1 << 26 });
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

const cli = (args: string[], state: string): Run => runWith([process.execPath, '--require', TSX, ENTRY], args, state);

interface NodeJson {
  ref: string;
  level: string;
  label: string;
  status: string;
  isStep: boolean;
  childCount: number;
  changes: { status: string; label: string; path: string | null }[];
  children: NodeJson[];
}

/** Every node of a report's tree, depth first. */
const allNodes = (nodes: NodeJson[]): NodeJson[] => nodes.flatMap((n) => [n, ...allNodes(n.children)]);

describe('step-history command line', function () {
  this.timeout(120_000);
  after(cleanupTempDirs);

  describe('inspect', () => {
    it('prints one JSON object: projects, steps, tokens, commits and the files changed', () => {
      const d = demo('running');
      const run = cli(['inspect', d.db, '--json'], tempDir('state'));
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stderr, '');
      const report = run.json;
      assert.equal(report.version, 1);
      assert.equal(report.databases.length, 1);
      const [db] = report.databases;
      assert.equal(db.path, d.db);
      assert.equal(db.repositoryRoot, fs.realpathSync(d.dir));
      assert.equal(db.error, null);
      assert.equal(db.schema, 'agent_config_json');
      assert.equal(db.system, 'laforge');
      assert.equal(db.variant, 'agent_config_json');
      // LaForge's tree as its adapter gives it, as every system's: the project, its steps newest first.
      assert.equal(db.nodeCount, 1);
      assert.deepEqual(db.nodes.map((n: { level: string }) => n.level), ['project']);
      assert.deepEqual(
        db.nodes[0].children.map((n: { label: string; isStep: boolean }) => [n.label, n.isStep]),
        d.ws.steps.map((s) => s.id).sort((a, b) => b - a).map((id) => [`S${id}`, true]),
      );
      assert.deepEqual(db.projects.map((p: { id: string }) => p.id), [d.ws.projectId]);
      const steps = db.projects[0].steps;
      assert.deepEqual(steps.map((s: { id: number }) => s.id), d.ws.steps.map((s) => s.id).sort((a, b) => b - a));
      for (const expected of d.ws.steps) {
        const s = steps.find((x: { id: number }) => x.id === expected.id);
        assert.equal(s.label, expected.label);
        assert.equal(s.status, expected.status);
        assert.equal(s.active, expected.active);
        assert.equal(s.commitBefore, expected.commitBefore);
        assert.equal(s.commitAfter, expected.commitAfter);
        if (expected.commitAfter === null) {
          assert.equal(s.changes, null);
          assert.match(s.changesUnavailable, /still running/);
          continue;
        }
        assert.equal(s.changes.source, 'recorded');
        assert.equal(s.changes.from, expected.commitBefore);
        assert.equal(s.changes.to, expected.commitAfter);
        const files = (list: { status: string; path: string; oldPath?: string | null }[]) =>
          list.map((f) => `${f.status} ${f.path} ${f.oldPath ?? ''}`).sort();
        assert.deepEqual(files(s.changes.files), files(expected.files), `files of ${expected.label}`);
      }
      const running = steps.find((s: { id: number }) => s.id === d.ws.runningStepId);
      assert.equal(running.tokens, null, 'no usage recorded is null, not zeros');
      assert.equal(running.cost, null);
      const finished = steps.find((s: { id: number }) => s.id === 1);
      assert.ok(finished.tokens.total > 0 && finished.cost > 0, 'recorded usage is reported');
    });

    it('reads a project as LaForge at HEAD leaves it: each step\'s own commit from its note or branch, its files as git diff lists them', () => {
      const fixture = makeLaforgeToday({ root: tempDir('laforge'), now: new Date('2026-11-20T17:00:00Z') });
      const run = cli(['inspect', fixture.projectDir, '--json'], tempDir('state'));
      assert.equal(run.code, 0, run.stderr);
      const steps = new Map<number, any>(run.json.databases[0].projects[0].steps.map((s: any) => [s.id, s])); // eslint-disable-line @typescript-eslint/no-explicit-any
      const letter: Record<string, string> = { added: 'A', modified: 'M', deleted: 'D', renamed: 'R', copied: 'C' };
      const committed = fixture.steps.filter((s) => s.commit && s.nameStatus.length > 0 && s.finished);
      assert.ok(committed.length >= 5);
      for (const expected of committed) {
        const step = steps.get(expected.id);
        assert.ok(step?.changes, `${expected.label}: ${step?.changesUnavailable}`);
        assert.equal(step.changes.to, expected.commit, `${expected.label}'s own commit`);
        assert.ok(['note', 'branch'].includes(step.changes.source), `${expected.label} from ${step.changes.source}`);
        const files = step.changes.files.map((f: { status: string; path: string; oldPath: string | null }) =>
          f.oldPath ? `${letter[f.status]}\t${f.oldPath}\t${f.path}` : `${letter[f.status]}\t${f.path}`,
        );
        assert.deepEqual(files.sort(), expected.nameStatus.map((l) => l.replace(/^([RC])\d+\t/, '$1\t')).sort(), `${expected.label}'s files`);
        assert.equal(step.changes.notMerged, expected.branchKept && !expected.mergeCommit, `${expected.label} merged or not`);
      }
      for (const none of fixture.steps.filter((s) => !s.commit && s.finished)) {
        assert.match(steps.get(none.id).changesUnavailable, /made no commit/, `${none.label}`);
      }
    });

    it('reports the zeros LaForge writes today as null tokens and cost', () => {
      const d = demo('finished');
      sqlite(d.db, [`UPDATE steps SET token_usage_json = '{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0,"cost":0}' WHERE id = 3`]);
      const run = cli(['inspect', d.dir, '--json', '--project', d.ws.projectId], tempDir('state'));
      assert.equal(run.code, 0, run.stderr);
      const s3 = run.json.databases[0].projects[0].steps.find((s: { id: number }) => s.id === 3);
      assert.equal(s3.tokens, null);
      assert.equal(s3.cost, null);
    });

    it('prints the table laforge steps prints, newest first, stored text escaped', () => {
      const d = demo('finished');
      sqlite(d.db, [`UPDATE steps SET project_id = 'ledger' || char(27) || '[31mline' WHERE id = 23`]);
      const run = cli(['inspect', d.db], tempDir('state'));
      assert.equal(run.code, 0, run.stderr);
      const lines = run.stdout.split('\n');
      const header = lines.findIndex((l) => l.startsWith('STEP ID'));
      assert.match(lines[header], /^STEP ID\s+STATUS\s+DURATION\s+EXIT CODE\s+STARTED\s+COMMIT BEFORE$/);
      const s22 = lines.find((l) => l.startsWith('S22 '));
      assert.ok(s22, run.stdout);
      assert.match(s22, /^S22\s+COMPLETED\s+\d+ms\s+0\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+[0-9a-f]{8}$/);
      assert.ok(lines.some((l) => /^S1[456]\s+ROLLED BACK /.test(l)), 'rolled-back steps are marked');
      assert.ok(!run.stdout.includes('\u001b'), 'no raw escape character reaches the terminal');
      assert.ok(run.stdout.includes("'ledger\\u001B[31mline'"), run.stdout);
    });

    describe('the other systems', () => {
      const cleanups: (() => void)[] = [];
      after(() => {
        for (const rm of cleanups) rm();
      });

      it('reads an LLM Orchestration database found in a folder: workflows, runs, responses', () => {
        const fx = makeLlmOrchestration();
        cleanups.push(() => fx.rm());
        const run = cli(['inspect', fx.root, '--json'], tempDir('state'));
        assert.equal(run.code, 0, run.stderr);
        assert.equal(run.json.version, 1);
        assert.deepEqual(run.json.databases.map((d: { path: string }) => d.path), [fx.dbPath], 'the backups are not what the patterns name');
        const [db] = run.json.databases;
        assert.equal(db.system, 'llmOrchestration');
        assert.equal(db.variant, 'written');
        assert.equal(db.error, null);
        assert.deepEqual(db.projects, []);
        assert.equal(db.schema, null);
        assert.deepEqual(db.levels.map((l: { key: string }) => l.key), ['workflow', 'run', 'response']);
        const top = db.nodes.map((n: NodeJson) => n.label);
        for (const w of fx.workflows.filter((x) => !x.deleted)) assert.ok(top.includes(w.name), `${w.name} in ${top.join(', ')}`);
        assert.equal(db.nodeCount, db.nodes.length);
        const nodes = allNodes(db.nodes);
        for (const r of fx.runs) assert.ok(nodes.some((n) => n.ref === `run:${r.id}` && n.level === 'run'), `run ${r.id}`);
        const response = fx.responses[0];
        const node = nodes.find((n) => n.ref === `response:${response.id}`);
        assert.ok(node, `response ${response.id}`);
        assert.equal(node.isStep, true);
        assert.deepEqual(node.changes, [{ status: 'added', label: 'Response', path: null }]);

        const limited = cli(['inspect', fx.dbPath, '--json', '--limit', '1'], tempDir('state'));
        assert.equal(limited.code, 0, limited.stderr);
        assert.equal(limited.json.databases[0].nodes.length, 1);
        assert.ok(limited.json.databases[0].nodeCount > 1);

        const text = cli(['inspect', fx.dbPath], tempDir('state'));
        assert.equal(text.code, 0, text.stderr);
        assert.match(text.stdout, /^System LLM Orchestration \(written\)$/m);
        assert.match(text.stdout, /^Levels workflow → run → response$/m);
        assert.match(text.stdout, /^ {2}Workflow 'Support triage' {2}\w+ {2}started /m);
        assert.match(text.stdout, /^ {6}Response '[^']+' {2}completed {2}started .* {2}tokens (\d+ \(\d+ prompt, \d+ completion\)|not recorded) {2}cost not recorded$/m);
        assert.match(text.stdout, /^ {8}added {4}Response$/m);
        const one = cli(['inspect', fx.dbPath, '--limit', '1'], tempDir('state'));
        assert.match(one.stdout, /^ {2}… \d+ more workflows?$/m);
      });

      it('reads Constellation\'s live database, its -wal applied: projects, agents, iterations and the files they wrote', () => {
        const fx = makeConstellation({ kind: 'example', live: true });
        cleanups.push(() => fx.rm());
        const run = cli(['inspect', fx.dbPath, '--json'], tempDir('state'));
        assert.equal(run.code, 0, run.stderr);
        const [db] = run.json.databases;
        assert.equal(db.system, 'constellation');
        assert.equal(db.error, null);
        assert.deepEqual(db.projects, []);
        assert.deepEqual(db.nodes.map((n: NodeJson) => n.label).sort(), fx.projects.map((p) => p.name).sort());
        const nodes = allNodes(db.nodes);
        const iteration = fx.iterations.find((i) => i.outputs.some((o) => o.type === 'file' && o.path));
        assert.ok(iteration, 'an iteration that wrote a file');
        const agent = nodes.find((n) => n.ref === `agent:${iteration.agentId}`);
        assert.ok(agent, 'its agent');
        const step = agent.children.filter((n) => n.isStep)[iteration.index - 1];
        assert.ok(step, `iteration #${iteration.index}`);
        assert.match(step.label, new RegExp(`^#${iteration.index}\\b`));
        const files = iteration.outputs.filter((o) => o.type === 'file' && o.path).map((o) => o.path);
        for (const file of files) assert.ok(step.changes.some((c) => c.path === file && c.label === file), `${file} in ${JSON.stringify(step.changes)}`);

        const text = cli(['inspect', fx.dbPath], tempDir('state'));
        assert.equal(text.code, 0, text.stderr);
        assert.match(text.stdout, /^System Constellation \(written\)$/m);
        assert.match(text.stdout, /^ {2}Project 'Weather widget' {2}completed /m);
        assert.match(text.stdout, /cost \$0\.\d+$/m);
        assert.ok(text.stdout.includes(`added    ${files[0]}`), text.stdout);
      });

      it('reads Autonomous Software Studio\'s orchestrator.db with the checkpoints.db beside it: sessions and their checkpoints', () => {
        const fx = makeStudioReal({ shape: 'fallback' });
        cleanups.push(() => fx.rm());
        assert.ok(fs.existsSync(fx.checkpointsDbPath));
        assert.equal(path.dirname(fx.checkpointsDbPath), path.dirname(fx.orchestratorDbPath));
        const run = cli(['inspect', fx.orchestratorDbPath, '--json'], tempDir('state'));
        assert.equal(run.code, 0, run.stderr);
        const [db] = run.json.databases;
        assert.equal(db.system, 'studio');
        assert.equal(db.variant, 'orchestrator');
        assert.equal(db.error, null);
        assert.deepEqual(db.nodes.map((n: NodeJson) => n.label).sort(), fx.sessions.map((s) => s.userMission).sort());
        for (const session of fx.sessions) {
          const node = db.nodes.find((n: NodeJson) => n.ref === `session:${session.sessionId}`);
          assert.ok(node, session.sessionId);
          assert.ok(node.children.length > 0 && node.children.every((c: NodeJson) => c.isStep && c.level === 'checkpoint'), 'its checkpoints, read from checkpoints.db');
          assert.equal(node.childCount, node.children.length);
          const changes = node.children.flatMap((c: NodeJson) => c.changes);
          assert.ok(changes.some((c: { label: string }) => c.label === 'state'), 'each checkpoint changes the state');
          // The files the state names (CLAUDE.md is rewritten by every node and named by none).
          for (const artifact of session.artifacts.filter((a) => a.relPath !== 'CLAUDE.md')) {
            const change = changes.find((c: { label: string }) => c.label === `${artifact.relPath} (as it is now)`);
            assert.ok(change, `${artifact.relPath} in ${JSON.stringify(changes)}`);
            assert.equal(change.path, `${session.workDir}/${artifact.relPath}`);
          }
        }

        const text = cli(['inspect', fx.orchestratorDbPath], tempDir('state'));
        assert.equal(text.code, 0, text.stderr);
        assert.match(text.stdout, /^System Autonomous Software Studio \(orchestrator\)$/m);
        assert.match(text.stdout, /^Levels session → checkpoint$/m);
        assert.match(text.stdout, /^ {4}Checkpoint '[^']+' {2}\w+ {2}started /m);
        assert.match(text.stdout, /^ {6}modified state$/m);
      });

      it('names the systems it checked for a SQLite file none of them wrote', () => {
        const file = path.join(tempDir('other'), 'notes.db');
        sqlite(file, ['CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)']);
        const run = cli(['inspect', file, '--json'], tempDir('state'));
        assert.equal(run.code, 1);
        const [db] = run.json.databases;
        assert.equal(db.error.code, 'UNSUPPORTED_SCHEMA');
        assert.equal(db.system, null);
        assert.equal(db.nodes, null);
        assert.match(db.error.message, /was not written by LaForge, Constellation, Autonomous Software Studio or LLM Orchestration: its tables are notes\./);
        const text = cli(['inspect', file], tempDir('state'));
        assert.equal(text.code, 1);
        assert.match(text.stdout, /^Not read: The database .*notes\.db was not written by LaForge, Constellation, Autonomous Software Studio or LLM Orchestration/m);
        const bad = cli(['inspect', file, '--limit', '0'], tempDir('state'));
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /--limit takes a whole number/);
      });
    });

    it('exits 1 with a sentence when there is nothing to read, 2 with the usage for bad arguments', () => {
      const state = tempDir('state');
      const missing = cli(['inspect', path.join(tempDir('empty'), 'nope.db')], state);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /^step-history: There is no file or folder at .*nope\.db\.\n$/);
      assert.equal(missing.stdout, '');
      const notSqlite = path.join(tempDir('junk'), 'steps.db');
      fs.writeFileSync(notSqlite, 'not a database at all, just text that is long enough to look like something');
      const junk = cli(['inspect', notSqlite, '--json'], state);
      assert.equal(junk.code, 1);
      assert.equal(junk.json.databases[0].error.code, 'NOT_SQLITE');
      for (const args of [[], ['inspect'], ['inspect', 'a', '--frob'], ['rollback', 'x', '--project', 'p'], ['rollback', 'x', '--project', 'p', '--step', 'twelve'], ['undo', 'extra'], ['explode']]) {
        const r = cli(args, state);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, /Usage:\n {2}step-history inspect PATH/);
        assert.equal(r.stdout, '');
      }
    });
  });

  describe('rollback and undo', () => {
    it('plans without --yes and changes nothing; refuses to lose work without --protect', () => {
      const d = demo('finished');
      const state = tempDir('state');
      write(d.dir, 'src/cli.ts', '// work in progress\n');
      const head = git(d.dir, 'rev-parse', 'HEAD');
      const before = snapshot(d.dir);
      const activeBefore = activeIds(d.db);

      const plan = cli(['rollback', d.db, '--project', d.ws.projectId, '--step', 'S20', '--protect', '--json'], state);
      assert.equal(plan.code, 0, plan.stderr);
      assert.equal(plan.json.version, 1);
      assert.equal(plan.json.outcome, 'planned');
      assert.deepEqual(plan.json.plan.stepsToDeactivate.map((s: { id: number }) => s.id), [20, 21, 22, 23]);
      assert.equal(plan.json.plan.resetTo, d.before(20));
      assert.equal(plan.json.plan.needsProtection, true);
      assert.deepEqual(plan.json.plan.unstaged.map((e: { path: string }) => e.path), ['src/cli.ts']);

      const text = cli(['rollback', d.db, '--project', d.ws.projectId, '--step', '20'], state);
      assert.equal(text.code, 1, 'without --protect the rollback would be refused, and the exit code says so');
      assert.match(text.stdout, /^# Roll back ledgerline to before S20/);
      assert.match(text.stdout, /`--protect` first puts/);
      assert.match(text.stderr, /^step-history: Rolling back to S20 would lose uncommitted work .* Pass --protect to keep them safe/);

      const refused = cli(['rollback', d.db, '--project', d.ws.projectId, '--step', '20', '--yes', '--json'], state);
      assert.equal(refused.code, 1);
      assert.equal(refused.json.outcome, 'refused');
      assert.equal(refused.json.error.code, 'NEEDS_PROTECTION');

      assert.equal(git(d.dir, 'rev-parse', 'HEAD'), head);
      assert.deepEqual(snapshot(d.dir), before);
      assert.deepEqual(activeIds(d.db), activeBefore);
      assert.deepEqual(stepHistoryRefs(d.dir), []);
      assert.equal(fs.existsSync(path.join(state, 'rollbacks')) ? fs.readdirSync(path.join(state, 'rollbacks')).length : 0, 0, 'no journal');
    });

    it('rolls back with --yes --protect and undoes with undo --yes, checked with git and sqlite3', () => {
      const d = demo('finished');
      const state = tempDir('state');
      write(d.dir, 'src/cli.ts', '// work in progress\n');
      const head = git(d.dir, 'rev-parse', 'HEAD');
      const before = snapshot(d.dir);
      const activeBefore = activeIds(d.db);

      const run = cli(['rollback', d.dir, '--project', d.ws.projectId, '--step', '20', '--protect', '--yes', '--json'], state);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.json.outcome, 'rolledBack');
      assert.match(run.json.message, /S20/);
      const journal = run.json.rollback;
      assert.equal(journal.phase, 'done');
      assert.equal(git(d.dir, 'rev-parse', 'HEAD'), d.before(20));
      assert.deepEqual(activeIds(d.db), activeBefore.filter((id) => id < 20));
      assert.equal(integrity(d.db), 'ok');
      assert.equal(git(d.dir, 'rev-parse', journal.backupRef), head);
      assert.equal(git(d.dir, 'show', `${journal.stashRef}:src/cli.ts`), '// work in progress');
      assert.ok(fs.existsSync(path.join(state, 'rollbacks', `rollback-${journal.id}.json`)), 'the journal is in the shared folder');

      const ask = cli(['undo'], state);
      assert.equal(ask.code, 0, ask.stderr);
      assert.match(ask.stdout, /^Undoing the rollback of ledgerline to S20 returns main to [0-9a-f]{7}, marks S20–S23 active again, and re-applies the work kept in the stash\.\nNothing was changed/);
      assert.equal(git(d.dir, 'rev-parse', 'HEAD'), d.before(20));

      const undo = cli(['undo', '--yes', '--repo', d.dir], state);
      assert.equal(undo.code, 0, undo.stderr);
      assert.match(undo.stdout, /^Undid the rollback of ledgerline to before S20/);
      assert.equal(git(d.dir, 'rev-parse', 'HEAD'), head);
      assert.deepEqual(activeIds(d.db), activeBefore);
      assert.equal(integrity(d.db), 'ok');
      assert.deepEqual(snapshot(d.dir), before, 'the work is back');

      const again = cli(['undo', '--yes'], state);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /^step-history: There is no rollback to undo\.\n$/);
    });

    it('restores the older LaForge task database with --restore-tasks, and undo puts the current one back', () => {
      const d = demo('finished');
      const state = tempDir('state');
      const tasks = path.join(d.dir, 'tasks.db');
      sqlite(tasks, ['CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT)', "INSERT INTO tasks VALUES (1, 'now')"]);
      sqlite(path.join(d.dir, 'tasks-S20.db'), ['CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT)', "INSERT INTO tasks VALUES (1, 'before S20')"]);
      const current = fs.readFileSync(tasks);

      const plan = cli(['rollback', d.dir, '--project', d.ws.projectId, '--step', '20'], state);
      assert.equal(plan.code, 0, plan.stderr);
      assert.match(plan.stdout, /## The task database/);
      const run = cli(['rollback', d.dir, '--project', d.ws.projectId, '--step', '20', '--restore-tasks', '--yes'], state);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(sqlite(tasks, [], 'SELECT title FROM tasks'), [['before S20']]);
      const undo = cli(['undo', '--yes'], state);
      assert.equal(undo.code, 0, undo.stderr);
      assert.ok(fs.readFileSync(tasks).equals(current), 'the task database is back, byte for byte');
    });

    it('a rollback made by the command line is undone by the core function the editor uses, and the reverse', async () => {
      const d = demo('finished');
      const state = tempDir('state');
      const journalDir = rollbackJournalDir({ env: { STEP_HISTORY_STATE_DIR: state } });
      const head = git(d.dir, 'rev-parse', 'HEAD');
      const activeBefore = activeIds(d.db);

      const run = cli(['rollback', d.db, '--project', d.ws.projectId, '--step', '21', '--yes'], state);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(git(d.dir, 'rev-parse', 'HEAD'), d.before(21));
      const journal = await lastRollback(journalDir);
      assert.ok(journal, 'the editor finds the rollback the command line made');
      await undoRollback(journal, { journalDir });
      assert.equal(git(d.dir, 'rev-parse', 'HEAD'), head);
      assert.deepEqual(activeIds(d.db), activeBefore);

      const plan = await planRollback(d.target(19), { journalDir });
      await executeRollback(plan, { journalDir });
      assert.equal(git(d.dir, 'rev-parse', 'HEAD'), d.before(19));
      const undo = cli(['undo', '--yes', '--json'], state);
      assert.equal(undo.code, 0, undo.stderr);
      assert.equal(undo.json.outcome, 'undone');
      assert.equal(undo.json.rollback.step, 'S19');
      assert.equal(git(d.dir, 'rev-parse', 'HEAD'), head);
      assert.deepEqual(activeIds(d.db), activeBefore);
      assert.equal(integrity(d.db), 'ok');
    });

    it('refuses with the plan\'s reason and exit 1 when a step in the range is running', () => {
      const d = demo('running');
      const run = cli(['rollback', d.db, '--project', d.ws.projectId, '--step', '20', '--yes', '--protect', '--json'], tempDir('state'));
      assert.equal(run.code, 1);
      assert.equal(run.json.outcome, 'refused');
      assert.equal(run.json.plan.refusals[0].code, 'STEP_RUNNING');
      assert.match(run.stderr, /^step-history: S22 is still running\. Wait for the step to finish/);
    });

    it('says that a folder without git has no git repository, and nothing about its branch', () => {
      const d = demo('running');
      fs.rmSync(path.join(d.dir, '.git'), { recursive: true, force: true });
      const sentence = `${d.dir} has no git repository, so Step History cannot roll back its steps.`;
      const text = cli(['rollback', d.db, '--project', d.ws.projectId, '--step', '20'], tempDir('state'));
      assert.equal(text.code, 1, text.stderr);
      assert.ok(text.stderr.startsWith(`step-history: ${sentence} Each step is a range of git commits`), text.stderr);
      assert.match(text.stderr, /\(1 more reason in the plan\.\)\n$/);
      assert.match(text.stdout, /^# Roll back ledgerline to before S20\n/);
      assert.match(text.stdout, /Without a git repository there is no branch to move/);
      for (const wrong of ['not on a branch', 'not on the line', '## Branch', '## Files that change']) {
        assert.ok(!text.stdout.includes(wrong), `the plan says ${JSON.stringify(wrong)}:\n${text.stdout}`);
      }
      const run = cli(['rollback', d.db, '--project', d.ws.projectId, '--step', '20', '--yes', '--json'], tempDir('state'));
      assert.equal(run.code, 1);
      assert.equal(run.json.outcome, 'refused');
      assert.deepEqual(run.json.plan.refusals.map((r: { code: string }) => r.code), ['NOT_A_REPOSITORY', 'STEP_RUNNING']);
      assert.ok(run.json.error.message.startsWith(`${sentence} Each step is a range of git commits`), run.json.error.message);
    });
  });

  describe('the shared journal folder', () => {
    it('is one user-level folder per system, STEP_HISTORY_STATE_DIR first', () => {
      assert.equal(stateDir({ env: {}, platform: 'linux', home: '/home/ada' }), '/home/ada/.local/state/step-history');
      assert.equal(stateDir({ env: { XDG_STATE_HOME: '/xdg' }, platform: 'linux', home: '/home/ada' }), '/xdg/step-history');
      assert.equal(stateDir({ env: { XDG_STATE_HOME: 'relative' }, platform: 'linux', home: '/home/ada' }), '/home/ada/.local/state/step-history');
      assert.equal(stateDir({ env: {}, platform: 'darwin', home: '/Users/ada' }), '/Users/ada/Library/Application Support/step-history');
      assert.equal(stateDir({ env: { LOCALAPPDATA: 'C:\\Users\\ada\\AppData\\Local' }, platform: 'win32', home: 'C:\\Users\\ada' }), 'C:\\Users\\ada\\AppData\\Local\\step-history');
      assert.equal(stateDir({ env: { STEP_HISTORY_STATE_DIR: '/tmp/sh', XDG_STATE_HOME: '/xdg' }, platform: 'linux' }), '/tmp/sh');
      assert.equal(rollbackJournalDir({ env: {}, platform: 'linux', home: '/home/ada' }), '/home/ada/.local/state/step-history/rollbacks');
    });

    it('takes the journals of the editor\'s old folder, kept copies included, and the command line undoes them', async () => {
      const d = demo('finished');
      const legacy = path.join(tempDir('globalStorage'), 'rollbacks');
      const state = tempDir('state');
      const shared = rollbackJournalDir({ env: { STEP_HISTORY_STATE_DIR: state } });
      const head = git(d.dir, 'rev-parse', 'HEAD');
      await executeRollback(await planRollback(d.target(22), { journalDir: legacy }), { journalDir: legacy });
      const [old] = await readJournals(legacy);
      // A kept copy, as a rollback of a tracked database makes.
      const keptDir = path.join(legacy, `rollback-${old.id}.kept`);
      fs.mkdirSync(keptDir, { recursive: true });
      fs.writeFileSync(path.join(keptDir, 'x-0-steps.db'), 'bytes');
      const withKept = { ...old, kept: [{ path: d.db, copy: path.join(keptDir, 'x-0-steps.db'), sha256: 'a', size: 5, mode: 0o644 }] };
      fs.writeFileSync(path.join(legacy, `rollback-${old.id}.json`), JSON.stringify(withKept));

      const moved = await moveJournals(legacy, shared);
      assert.deepEqual(moved, { moved: [old.id], failed: [] });
      assert.equal(fs.existsSync(legacy), false, 'the old folder is emptied and removed');
      const [now] = await readJournals(shared);
      assert.equal(now.id, old.id);
      assert.equal(now.kept![0].copy, path.join(shared, `rollback-${old.id}.kept`, 'x-0-steps.db'));
      assert.equal(fs.readFileSync(now.kept![0].copy, 'utf8'), 'bytes');
      // Moving again (another window) changes nothing.
      assert.deepEqual(await moveJournals(legacy, shared), { moved: [], failed: [] });

      // The copy named no longer matches the file: drop it so undo does not try to put it back.
      fs.writeFileSync(path.join(shared, `rollback-${old.id}.json`), JSON.stringify(old));
      const undo = cli(['undo', '--yes'], state);
      assert.equal(undo.code, 0, undo.stderr);
      assert.equal(git(d.dir, 'rev-parse', 'HEAD'), head);
    });

    it('never overwrites a journal already in the shared folder', async () => {
      const from = tempDir('from');
      const to = tempDir('to');
      const d = demo('finished');
      await executeRollback(await planRollback(d.target(23), { journalDir: from }), { journalDir: from });
      const [j] = await readJournals(from);
      const newer = { ...j, lastError: 'the shared copy' };
      fs.writeFileSync(path.join(to, `rollback-${j.id}.json`), JSON.stringify(newer));
      await moveJournals(from, to);
      assert.equal((await readJournals(to))[0].lastError, 'the shared copy');
      assert.deepEqual(await readJournals(from), []);
    });
  });

  describe('the bundle', () => {
    it('runs from dist with sql.js\'s WASM beside it', async () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { cliOptions } = require(path.join(ROOT, 'esbuild.js')) as { cliOptions: (out: string) => esbuild.BuildOptions };
      const out = tempDir('dist');
      await esbuild.build({ ...cliOptions(out), absWorkingDir: ROOT, logLevel: 'silent' });
      fs.copyFileSync(require.resolve('sql.js/dist/sql-wasm.wasm'), path.join(out, 'sql-wasm.wasm'));
      assert.ok(fs.readFileSync(path.join(out, 'cli.js'), 'utf8').startsWith('#!/usr/bin/env node\n'));
      const d = demo('finished');
      const run = runWith([process.execPath, path.join(out, 'cli.js')], ['inspect', d.db, '--json'], tempDir('state'));
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.json.version, 1);
      assert.equal(run.json.databases[0].projects[0].stepCount, d.ws.stepCount + 1);
      const help = runWith([process.execPath, path.join(out, 'cli.js')], ['--help'], tempDir('state'));
      assert.equal(help.code, 0);
      assert.match(help.stdout, /Exit codes: 0 done, 1 refused/);
    });
  });
});
