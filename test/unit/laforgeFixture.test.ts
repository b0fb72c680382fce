import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { StepStore } from '../../src/core/stepStore';
import { LaforgeFixture, makeLaforgeOld, makeLaforgeToday } from '../fixtures/laforgeToday';

const git = (dir: string, ...args: string[]): string =>
  execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: os.devNull } }).trim();

const gitOk = (dir: string, ...args: string[]): boolean => {
  try {
    git(dir, ...args);
    return true;
  } catch {
    return false;
  }
};

const rows = (db: string, sql: string): unknown[][] =>
  JSON.parse(execFileSync('python3', ['-c', 'import json,sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(json.dumps(c.execute(sys.argv[2]).fetchall()))', db, sql], { encoding: 'utf8' }));

/** `git diff --name-status -M before` against the worktree, untracked files included, without changing its index for good. */
function worktreeNameStatus(worktree: string, before: string): string[] {
  git(worktree, 'add', '-A', '--intent-to-add');
  try {
    return git(worktree, 'diff', '--name-status', '-M', before).split('\n').filter(Boolean);
  } finally {
    git(worktree, 'reset', '-q');
  }
}

const GO_TIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,9})?-08:00$/;

describe('LaForge fixture (HEAD, 39fbd47)', function () {
  this.timeout(60_000);
  const NOW = new Date('2026-11-20T17:00:00Z');
  let fx: LaforgeFixture;
  let store: StepStore;

  before(async () => {
    fx = makeLaforgeToday({ now: NOW });
    store = await StepStore.open(fx.dbPath);
  });
  after(() => {
    store?.close();
    fx?.rm();
  });

  it('lays out ~/.laforge/projects/<id>/ with project.json as LaForge writes it', () => {
    assert.strictEqual(fx.projectDir, path.join(fx.home, '.laforge', 'projects', 'tidewater'));
    const text = fs.readFileSync(fx.projectJsonPath, 'utf8');
    const json = JSON.parse(text);
    assert.deepStrictEqual(Object.keys(json), ['id', 'name', 'description', 'repository_path', 'main_branch', 'created_at', 'updated_at']);
    assert.strictEqual(json.id, 'tidewater');
    assert.strictEqual(json.repository_path, fx.repoPath);
    assert.strictEqual(json.main_branch, 'main');
    assert.match(json.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-08:00$/);
    assert.ok(text.startsWith('{\n  "id": "tidewater",\n') && text.endsWith('}\n'), 'two-space indent and a final newline (json.Encoder)');
    assert.ok(!fx.repoPath.startsWith(fx.projectDir), 'the repository is elsewhere');
    for (const f of ['steps.db', 'tasks.db', 'agents.yml', 'logs']) assert.ok(fs.existsSync(path.join(fx.projectDir, f)), f);
  });

  it('creates the schema LaForge HEAD creates, in rollback-journal mode', () => {
    const [[sql]] = rows(fx.dbPath, "SELECT sql FROM sqlite_master WHERE name = 'steps'") as string[][];
    assert.match(sql, /agent_config_name TEXT,/);
    assert.doesNotMatch(sql, /agent_config_json/);
    const indexes = (rows(fx.dbPath, "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name") as string[][]).map((r) => r[0]);
    assert.deepStrictEqual(indexes, ['idx_steps_active', 'idx_steps_created_at', 'idx_steps_parent_step_id', 'idx_steps_project_id']);
    assert.deepStrictEqual(rows(fx.dbPath, 'PRAGMA journal_mode'), [['delete']]);
    assert.ok(!fs.existsSync(fx.dbPath + '-wal'));
  });

  it('has every scenario kind, 12-30 steps, the running one last', () => {
    assert.ok(fx.steps.length >= 12 && fx.steps.length <= 30);
    for (const o of ['fast-forward', 'merge-commit', 'merge-conflict', 'agent-failed', 'commit-md-only', 'no-changes', 'timed-out', 'running']) {
      assert.ok(fx.steps.some((s) => s.outcome === o), o);
    }
    assert.strictEqual(fx.runningStepId, fx.steps[fx.steps.length - 1].id);
  });

  it('opens with StepStore: rows as LaForge writes them', () => {
    const steps = store.steps('tidewater');
    assert.strictEqual(steps.length, fx.steps.length);
    for (const d of fx.steps) {
      const s = store.step(d.id)!;
      assert.ok(s, d.label);
      assert.strictEqual(s.commitBefore, d.commitBefore, d.label);
      assert.strictEqual(s.agentConfigName, 'claude', d.label);
      assert.strictEqual(s.parentStepId, d.id === 1 ? null : d.id - 1, d.label);
      // LaForge writes zeros, which Step History reads as not recorded; the stored text is the zeros.
      assert.strictEqual(s.tokenUsage, null, d.label);
      assert.deepStrictEqual(JSON.parse(String(s.raw.tokenUsage)), { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cost: 0 }, d.label);
      assert.strictEqual(s.startTime?.getTime(), d.startTime.getTime(), d.label);
      if (d.outcome === 'running') {
        assert.strictEqual(s.status, 'RUNNING');
        assert.strictEqual(s.endTime, null);
      } else {
        assert.strictEqual(s.status, d.outcome === 'timed-out' ? 'FAILED' : 'COMPLETED', d.label);
        assert.strictEqual(s.exitCode, d.outcome === 'timed-out' ? 1 : 0, d.label);
        assert.strictEqual(s.endTime?.getTime(), d.endTime!.getTime(), d.label);
      }
    }
  });

  it('stores commit_sha_after = commit_sha_before for finished rows, and an empty string while running', () => {
    const raw = rows(fx.dbPath, 'SELECT id, commit_sha_before, commit_sha_after, end_time, start_time, duration_ms, token_usage_json FROM steps ORDER BY id') as [number, string, string, string | null, string, number | null, string][];
    for (const [id, before, after, end, start, duration, tokens] of raw) {
      assert.match(start, GO_TIME, `S${id} start_time`);
      assert.strictEqual(tokens, '{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0,"cost":0}');
      if (id === fx.runningStepId) {
        assert.strictEqual(after, '');
        assert.strictEqual(end, null);
        assert.strictEqual(duration, null);
      } else {
        assert.strictEqual(after, before, `S${id}`);
        assert.match(end!, GO_TIME, `S${id} end_time`);
        assert.ok(duration! > 60_000, `S${id} duration_ms`);
      }
    }
  });

  it('gives every step commit its Step-id note, and no note to steps without a commit', () => {
    const notes = git(fx.repoPath, 'notes', 'list').split('\n').filter(Boolean).map((l) => l.split(' ')[1]);
    const withCommit = fx.steps.filter((s) => s.commit);
    assert.strictEqual(notes.length, withCommit.length);
    for (const s of withCommit) assert.strictEqual(git(fx.repoPath, 'notes', 'show', s.commit!), `Step-id: ${s.label}`);
    for (const s of fx.steps.filter((x) => x.outcome === 'commit-md-only' || x.outcome === 'no-changes')) {
      assert.strictEqual(s.commit, null);
      assert.ok(!git(fx.repoPath, 'log', '--all', '--format=%s').includes(s.title), `${s.label} made no commit`);
    }
  });

  it('commits with COMMIT.md text or the default message, never COMMIT.md itself', () => {
    for (const s of fx.steps.filter((x) => x.commit)) {
      const message = git(fx.repoPath, 'log', '-1', '--format=%B', s.commit!);
      assert.ok(message === s.title || message.startsWith(s.title + '\n') || message === `LaForge step ${s.label} - Automated changes`, `${s.label}: ${message}`);
      assert.ok(!gitOk(fx.repoPath, 'cat-file', '-e', `${s.commit}:COMMIT.md`), `${s.label} has no COMMIT.md`);
    }
    assert.ok(fx.steps.some((s) => s.commit && git(fx.repoPath, 'log', '-1', '--format=%s', s.commit) === `LaForge step ${s.label} - Automated changes`));
  });

  it('merges successful steps: fast-forwards, and one merge commit after a person committed on main', () => {
    const firstParents = git(fx.repoPath, 'rev-list', '--first-parent', 'main').split('\n');
    for (const s of fx.steps.filter((x) => x.outcome === 'fast-forward')) {
      assert.strictEqual(s.mergeCommit, s.commit, s.label);
      assert.ok(firstParents.includes(s.commit!), `${s.label} is on main's first-parent line`);
      assert.ok(!gitOk(fx.repoPath, 'rev-parse', '--verify', `refs/heads/${s.branch}`), `${s.label} branch deleted`);
    }
    const m = fx.steps.find((x) => x.outcome === 'merge-commit')!;
    const parents = git(fx.repoPath, 'rev-list', '--parents', '-n', '1', m.mergeCommit!).split(' ');
    assert.strictEqual(parents.length, 3);
    assert.strictEqual(parents[2], m.commit);
    assert.strictEqual(git(fx.repoPath, 'log', '-1', '--format=%s', m.mergeCommit!), `Automerge ${m.branch} into main`);
    assert.strictEqual(git(fx.repoPath, 'log', '-1', '--format=%an', parents[1]), 'Sam Okafor');
    assert.ok(!gitOk(fx.repoPath, 'rev-parse', '--verify', `refs/heads/${m.branch}`));
    assert.strictEqual(git(fx.repoPath, 'rev-parse', 'main'), fx.head);
  });

  it('keeps the branches of failed, conflicted and empty steps, unmerged', () => {
    const kept = fx.steps.filter((s) => s.branchKept);
    assert.deepStrictEqual(kept.map((s) => s.outcome).sort(), ['agent-failed', 'agent-failed', 'merge-conflict', 'no-changes', 'running', 'timed-out']);
    for (const s of kept) {
      assert.strictEqual(git(fx.repoPath, 'rev-parse', `refs/heads/${s.branch}`), s.branchTip, s.label);
      if (s.commit) {
        assert.strictEqual(s.branchTip, s.commit);
        assert.ok(!gitOk(fx.repoPath, 'merge-base', '--is-ancestor', s.commit, 'main'), `${s.label} not merged`);
      } else {
        assert.strictEqual(s.branchTip, s.commitBefore, s.label);
      }
    }
    const branches = git(fx.repoPath, 'for-each-ref', '--format=%(refname:short)', 'refs/heads/').split('\n').sort();
    assert.deepStrictEqual(branches, ['main', ...kept.map((s) => s.branch)].sort());
    assert.ok(!fs.existsSync(path.join(fx.repoPath, '.git', 'MERGE_HEAD')), 'the conflicted merge was aborted');
  });

  it('lists each step commit\'s changes as git diff --name-status -M shows them', () => {
    for (const s of fx.steps.filter((x) => x.commit)) {
      assert.deepStrictEqual(git(fx.repoPath, 'diff', '--name-status', '-M', s.commitBefore, s.commit!).split('\n'), s.nameStatus, s.label);
    }
    assert.ok(fx.steps.some((s) => s.nameStatus.some((l) => l.startsWith('R100\t'))));
    assert.ok(fx.steps.some((s) => s.nameStatus.some((l) => l.startsWith('D\t'))));
  });

  it('shows the running step\'s live worktree on step-S<N>, its changes uncommitted', () => {
    const running = fx.steps.find((s) => s.outcome === 'running')!;
    const timedOut = fx.steps.find((s) => s.outcome === 'timed-out')!;
    const porcelain = git(fx.repoPath, 'worktree', 'list', '--porcelain');
    const entries = porcelain.split('\n\n').map((b) => b.split('\n'));
    const find = (p: string) => entries.find((e) => e[0] === `worktree ${p}`);
    assert.deepStrictEqual(find(running.worktreePath!)?.slice(1), [`HEAD ${running.commitBefore}`, `branch refs/heads/${running.branch}`]);
    assert.deepStrictEqual(find(timedOut.worktreePath!)?.slice(1), [`HEAD ${timedOut.commitBefore}`, `branch refs/heads/${timedOut.branch}`]);
    assert.strictEqual(entries.length, 3, 'main plus the two worktrees LaForge could not remove');
    const live = worktreeNameStatus(running.worktreePath!, running.commitBefore);
    assert.deepStrictEqual(live.filter((l) => l !== 'A\tCOMMIT.md'), running.nameStatus);
    assert.ok(live.includes('A\tCOMMIT.md'), 'the agent has written COMMIT.md, which LaForge will unstage');
    assert.ok(running.nameStatus.length > 0);
    assert.ok(fs.existsSync(path.join(running.worktreePath!, 'COMMIT.md')));
    assert.strictEqual(git(fx.repoPath, 'status', '--porcelain'), '', 'the repository itself is clean');
  });

  it('writes Markdown logs where LaForge puts them, with the summary line and the final message', () => {
    const files = fs.readdirSync(fx.logsDir).sort();
    assert.strictEqual(files.length, fx.steps.length);
    for (const s of fx.steps) {
      assert.strictEqual(path.dirname(s.logFile), fx.logsDir);
      assert.match(path.basename(s.logFile), new RegExp(`^step-${s.label}-\\d{8}-\\d{6}\\.log$`));
      const text = fs.readFileSync(s.logFile, 'utf8');
      assert.ok(text.startsWith('# Claude Code ('), s.label);
      if (s.logSummary) {
        const lines = text.split('\n');
        const i = lines.indexOf(s.logSummary);
        assert.ok(i > 0 && lines[i - 1] === '---', `${s.label} summary after ---`);
        assert.strictEqual(lines.slice(i + 1).join('\n').trim(), s.finalMessage);
      } else {
        assert.ok(!text.includes('\n---\n'), `${s.label} has no summary yet`);
      }
    }
    const first = fx.steps[0];
    assert.strictEqual(first.logSummary, '✅ Success • 12 turns • 85.3s • $0.4213');
    const failed = fx.steps.find((s) => s.outcome === 'agent-failed')!;
    assert.match(failed.logSummary!, /^❌ Error • \d+ turns • [\d.]+s • \$\d+\.\d{4}$/);
    assert.strictEqual(fx.steps.find((s) => s.outcome === 'running')!.logSummary, null);
    // A result that is not a success is left as Claude Code's raw JSON line.
    const maxTurns = fx.steps.find((s) => s.logRawResult !== null)!;
    assert.strictEqual(maxTurns.logSummary, null);
    assert.deepStrictEqual(
      (({ type, subtype, num_turns, total_cost_usd }) => ({ type, subtype, num_turns, total_cost_usd }))(JSON.parse(maxTurns.logRawResult!)),
      { type: 'result', subtype: 'error_max_turns', num_turns: maxTurns.turns, total_cost_usd: maxTurns.costUsd },
    );
    assert.ok(fs.readFileSync(maxTurns.logFile, 'utf8').endsWith(`${maxTurns.logRawResult}\n`));
  });

  it('is deterministic given now', () => {
    const again = makeLaforgeToday({ now: NOW });
    try {
      assert.strictEqual(again.head, fx.head);
      assert.deepStrictEqual(again.steps.map((s) => [s.commit, s.rawStartTime, s.rawEndTime, path.basename(s.logFile)]), fx.steps.map((s) => [s.commit, s.rawStartTime, s.rawEndTime, path.basename(s.logFile)]));
    } finally {
      again.rm();
    }
  });
});

describe('LaForge fixture (before the 2025-10-21 refactor, 3590731)', function () {
  this.timeout(60_000);
  let fx: LaforgeFixture;
  let store: StepStore;

  before(async () => {
    fx = makeLaforgeOld({ now: new Date('2025-10-18T20:00:00Z') });
    store = await StepStore.open(fx.dbPath);
  });
  after(() => {
    store?.close();
    fx?.rm();
  });

  it('writes agent_config_json and project.json without repository_path', () => {
    const [[sql]] = rows(fx.dbPath, "SELECT sql FROM sqlite_master WHERE name = 'steps'") as string[][];
    assert.match(sql, /agent_config_json TEXT NOT NULL/);
    const json = JSON.parse(fs.readFileSync(fx.projectJsonPath, 'utf8'));
    assert.deepStrictEqual(Object.keys(json), ['id', 'name', 'description', 'created_at', 'updated_at']);
    const [[config]] = rows(fx.dbPath, 'SELECT agent_config_json FROM steps WHERE id = 1') as string[][];
    assert.strictEqual(config, '{"model":"default","max_tokens":0,"temperature":0.7,"system_prompt":"","tools":[],"metadata":{"agent_name":"claude","image":"laforge-agent:latest"}}');
    assert.strictEqual(store.step(1)!.agentConfig?.model, 'default');
  });

  it('records the token usage from the log and a real commit_sha_after where the worktree lingered', () => {
    for (const d of fx.steps) {
      const s = store.step(d.id)!;
      assert.deepStrictEqual(s.tokenUsage, d.tokens, d.label);
      assert.ok(d.tokens!.totalTokens > 0);
      assert.match(fs.readFileSync(d.logFile, 'utf8'), new RegExp(`^TOKEN_USAGE: prompt_tokens=${d.tokens!.promptTokens}, `, 'm'));
      assert.strictEqual(s.parentStepId, null, 'the old CLI never set parent_step_id');
      if (d.worktreePath) {
        assert.strictEqual(s.commitAfter, d.commit, d.label);
        assert.ok(fs.existsSync(path.join(d.worktreePath, 'COMMIT.md')), `${d.label} COMMIT.md lingers`);
        assert.ok(git(fx.repoPath, 'worktree', 'list', '--porcelain').includes(`worktree ${d.worktreePath}\n`));
      } else {
        assert.strictEqual(s.commitAfter, d.commitBefore, d.label);
      }
    }
    const real = fx.steps.filter((s) => s.commit && s.commitAfterInDb === s.commit);
    assert.ok(real.length >= 5);
    for (const s of real) assert.deepStrictEqual(git(fx.repoPath, 'diff', '--name-status', '-M', s.commitBefore, s.commitAfterInDb).split('\n'), s.nameStatus);
    assert.strictEqual(git(fx.repoPath, 'notes', 'list'), '', 'no Step-id notes before fbd123b');
  });

  it('backs up tasks.db as tasks-S<N>.db before each step', () => {
    for (const s of fx.steps) {
      assert.strictEqual(s.tasksBackup, path.join(fx.projectDir, `tasks-${s.label}.db`));
      assert.deepStrictEqual(rows(s.tasksBackup!, 'SELECT count(*) FROM tasks'), [[s.id - 1]], s.label);
    }
    assert.deepStrictEqual(rows(fx.tasksDbPath, 'SELECT count(*) FROM tasks'), [[fx.steps.length]]);
  });
});
