import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ChangedFile, CommitInfo } from '../../src/core/git';
import { stepFromRow } from '../../src/core/model';
import { formatCost, formatDuration } from '../../src/core/figures';
import { COMMIT_LIMIT, FILE_LIMIT, stepDetailsView, type StepDetailsInput } from '../../src/core/stepDetails';
import { StepStore } from '../../src/core/stepStore';
import { isPageMessage } from '../../src/shared/detailsProtocol';
import { makeTempDir, stepRow, UNTYPED_PROJECT_SCHEMA, writeProjectRows } from '../fixtures/stepFixtures';

const database = { id: '/w/steps.db', label: 'steps.db' };
const commits: CommitInfo[] = [
  { sha: 'a'.repeat(40), subject: 'first', stepId: 'S12' },
  { sha: 'b'.repeat(40), subject: 'second' },
];
const files: ChangedFile[] = [
  { path: 'src/a.ts', status: 'modified', added: 3, removed: 1, binary: false },
  { path: 'src/new.ts', oldPath: 'src/old.ts', status: 'renamed', added: 0, removed: 0, binary: false, similarity: 100 },
  { path: 'logo.png', status: 'added', added: null, removed: null, binary: true },
];

function input(overrides: Record<string, string | number | null> = {}, rest: Partial<StepDetailsInput> = {}): StepDetailsInput {
  const step = stepFromRow(stepRow(12, overrides), (id) => id !== 404);
  return { database, step, commits: { ok: true, value: commits }, files: { ok: true, value: files }, ...rest };
}

describe('step details view', () => {
  it("says where the step's commit came from, that it is not merged, or that it made no commit", () => {
    const sha = 'c'.repeat(40);
    const noted = stepDetailsView(input({}, { stepCommit: { source: 'note', commit: sha, branch: 'step-S12', notMerged: true } }));
    assert.deepEqual(noted.stepCommit, { sha, source: 'from its Step-id note', notMerged: 'not merged (step-S12)' });
    const branch = stepDetailsView(input({}, { stepCommit: { source: 'branch', commit: sha, branch: 'step-S12', notMerged: false } }));
    assert.deepEqual(branch.stepCommit, { sha, source: 'from branch step-S12', notMerged: null });
    const none = stepDetailsView(input({}, { stepCommit: { source: 'none', commit: null, branch: null, notMerged: false } }));
    assert.deepEqual(none.stepCommit, { sha: null, source: 'made no commit', notMerged: null });
    assert.equal(stepDetailsView(input()).stepCommit, null);
  });

  it('carries dates as ISO strings, duration, exit code, tokens, cost and the commits', () => {
    const now = new Date('2026-01-31T10:00:00Z');
    const view = stepDetailsView(input({ start_time: '2026-01-02 10:00:00', end_time: '2026-01-02T12:05:07+02:00', duration_ms: null }, { now }));
    assert.equal(view.label, 'S12');
    assert.equal(view.status, 'COMPLETED');
    assert.equal(view.startTime, '2026-01-02T10:00:00.000Z');
    assert.equal(view.endTime, '2026-01-02T10:05:07.000Z');
    // Absolute and relative, written by the host as the tooltips write them: the page formats nothing.
    assert.equal(view.startText, '2026-01-02 10:00:00 UTC (29d ago)');
    assert.equal(view.endText, '2026-01-02 10:05:07 UTC (28d ago)');
    assert.equal(view.durationMs, 307_000);
    assert.equal(view.durationText, '5m 7s', 'as the tree writes it');
    assert.equal(view.exitCode, 0);
    assert.deepEqual(view.tokens, { prompt: 100, completion: 20, total: 120, cost: 0.01, promptText: '100', completionText: '20', totalText: '120', costText: '$0.01' });
    assert.equal(view.commitBefore, stepRow(12).commit_sha_before);
    assert.deepEqual(view.parent, { id: 11, label: 'S11', missing: false });
    assert.equal(view.databaseLabel, 'steps.db');
    assert.equal(view.projectId, 'demo');
    // Plain JSON: what crosses to the page survives serialisation unchanged.
    assert.deepEqual(JSON.parse(JSON.stringify(view)), view);
  });

  it('lists commits with their Step-id notes and files with their counts', () => {
    const view = stepDetailsView(input());
    assert.deepEqual(view.commits, {
      state: 'ok',
      total: 2,
      items: [
        { sha: 'a'.repeat(40), shortSha: 'aaaaaaa', subject: 'first', stepId: 'S12' },
        { sha: 'b'.repeat(40), shortSha: 'bbbbbbb', subject: 'second', stepId: null },
      ],
    });
    assert.equal(view.files.state, 'ok');
    if (view.files.state !== 'ok') return;
    assert.deepEqual(view.files.items[1], { path: 'src/new.ts', oldPath: 'src/old.ts', status: 'renamed', added: 0, removed: 0, binary: false });
    assert.deepEqual(view.files.items[2], { path: 'logo.png', oldPath: null, status: 'added', added: null, removed: null, binary: true });
  });

  it('shows missing fields as null and a running step without end, exit code or commit after', () => {
    const view = stepDetailsView(
      input({ end_time: null, duration_ms: null, exit_code: null, commit_sha_after: '', parent_step_id: null, token_usage_json: '{}' }),
    );
    assert.equal(view.status, 'RUNNING');
    assert.equal(view.endTime, null);
    assert.equal(view.durationMs, null);
    assert.equal(view.durationText, null);
    assert.equal(view.exitCode, null);
    assert.equal(view.commitAfter, null);
    assert.equal(view.parent, null);
    assert.equal(view.tokens, null, 'no usage recorded: not recorded, never $0.00');
    assert.equal(view.log, null, 'no log');
  });

  it("carries the log's summary, formatted, and says when the log has none yet", () => {
    const summary = { outcome: 'error' as const, reason: null, turns: 3, durationMs: 4500, costUsd: 0.0123, finalMessage: 'API Error: 529' };
    const view = stepDetailsView(input({ token_usage_json: '{}' }, { log: { summary } }));
    assert.equal(view.tokens, null);
    assert.deepEqual(view.log, { summary: { outcome: 'error', resultText: 'Error', turns: 3, durationText: '4.5s', costText: '$0.01', finalMessage: 'API Error: 529' } });
    const running = stepDetailsView(input({ end_time: null }, { log: { summary: null } }));
    assert.deepEqual(running.log, { summary: null });
    assert.deepEqual(JSON.parse(JSON.stringify(view)), view);
  });

  it('keeps a git failure as a sentence in its section, and the rest of the page', () => {
    const view = stepDetailsView(
      input({}, { commits: { ok: false, message: 'The folder /gone does not exist.' }, files: { ok: false, message: 'Git is not installed or not on PATH.' } }),
    );
    assert.deepEqual(view.commits, { state: 'error', message: 'The folder /gone does not exist.' });
    assert.deepEqual(view.files, { state: 'error', message: 'Git is not installed or not on PATH.' });
    assert.equal(view.label, 'S12');
    assert.equal(view.agent.config?.model, 'claude-3.5-sonnet');
  });

  it('passes the warnings about bad fields through, and marks a parent that does not exist', () => {
    const view = stepDetailsView(input({ commit_sha_after: 'HEAD;rm -rf /', start_time: 'yesterday', parent_step_id: 404 }));
    const fields = view.warnings.map((w) => w.field);
    assert.ok(fields.includes('commitAfter'), fields.join());
    assert.ok(fields.includes('startTime'), fields.join());
    assert.ok(fields.includes('parentStepId'), fields.join());
    assert.equal(view.warnings.find((w) => w.field === 'commitAfter')?.message, `S12's commit after "HEAD;rm -rf /" is not a commit hash.`);
    assert.equal(view.startTime, null);
    assert.equal(view.commitAfter, null);
    assert.deepEqual(view.parent, { id: 404, label: 'S404', missing: true });
  });

  it('shows a configuration name instead of JSON (newer schema)', () => {
    const view = stepDetailsView(input({ agent_config_json: null, agent_config_name: 'reviewer-v2' }));
    assert.deepEqual(view.agent, { name: 'reviewer-v2', config: null, unreadable: null });
  });

  it('shows the full configuration, and the stored text of one that cannot be read', () => {
    const full = stepDetailsView(
      input({
        agent_config_json: JSON.stringify({
          model: 'm', max_tokens: 10, temperature: 0.2, system_prompt: 'Be brief.', tools: ['bash', 'edit'], metadata: { team: 'core' },
        }),
      }),
    );
    assert.deepEqual(full.agent.config, {
      model: 'm', maxTokens: 10, temperature: 0.2, systemPrompt: 'Be brief.', tools: ['bash', 'edit'], metadata: [{ key: 'team', value: 'core' }],
    });
    const broken = stepDetailsView(input({ agent_config_json: '{not json' }));
    assert.deepEqual(broken.agent, { name: null, config: null, unreadable: '{not json' });
    assert.ok(broken.warnings.some((w) => w.field === 'agentConfig'));
  });

  it('passes HTML in any field through unchanged, as data', () => {
    const html = '<img src=x onerror=alert(1)>';
    const view = stepDetailsView(
      input(
        { agent_config_json: JSON.stringify({ model: html, system_prompt: html, tools: [html], metadata: { [html]: html } }), project_id: html },
        {
          commits: { ok: true, value: [{ sha: 'c'.repeat(40), subject: html }] },
          files: { ok: true, value: [{ path: html, status: 'added', added: 1, removed: 0, binary: false }] },
        },
      ),
    );
    assert.equal(view.agent.config?.systemPrompt, html);
    assert.equal(view.agent.config?.model, html);
    assert.deepEqual(view.agent.config?.tools, [html]);
    assert.deepEqual(view.agent.config?.metadata, [{ key: html, value: html }]);
    assert.equal(view.projectId, html);
    assert.equal(view.commits.state === 'ok' && view.commits.items[0].subject, html);
    assert.equal(view.files.state === 'ok' && view.files.items[0].path, html);
  });

  it('names a project id that is not text as the tree does, and shows its warning', async () => {
    const dir = makeTempDir();
    const file = path.join(dir, 'steps.db');
    try {
      await writeProjectRows(file, UNTYPED_PROJECT_SCHEMA, ['NULL', '42', "X'0102'", "'demo'"]);
      const store = await StepStore.open(file);
      const views = [1, 2, 3, 4].map((id) => stepDetailsView({ ...input(), step: store.step(id)! }));
      store.close();
      assert.deepEqual(
        views.map((v) => [v.projectLabel, v.warnings.filter((w) => w.field === 'projectId').map((w) => w.message)]),
        [
          ['(no project)', ['S1 has no project id; it is listed under (no project).']],
          ['42', ["S2's project id is the number 42, not text; it is listed under project 42."]],
          ["X'0102'", ["S3's project id is binary data, not text; it is listed under project X'0102'."]],
          ['demo', []],
        ],
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('limits very long file and commit lists but reports their totals', () => {
    const many: ChangedFile[] = Array.from({ length: FILE_LIMIT + 5 }, (_, i) => ({ path: `f${i}`, status: 'added', added: 1, removed: 0, binary: false }));
    const manyCommits: CommitInfo[] = Array.from({ length: COMMIT_LIMIT + 1 }, (_, i) => ({ sha: i.toString(16).padStart(40, '0'), subject: `c${i}` }));
    const view = stepDetailsView(input({}, { files: { ok: true, value: many }, commits: { ok: true, value: manyCommits } }));
    assert.ok(view.files.state === 'ok' && view.files.items.length === FILE_LIMIT && view.files.total === FILE_LIMIT + 5);
    assert.ok(view.commits.state === 'ok' && view.commits.items.length === COMMIT_LIMIT && view.commits.total === COMMIT_LIMIT + 1);
  });
});

describe('details formatting: the one format of every view (core/figures.ts)', () => {
  it('formats durations as the tree does', () => {
    assert.equal(formatDuration(-1), '?');
    assert.equal(formatDuration(850), '850ms');
    assert.equal(formatDuration(4_250), '4.2s');
    assert.equal(formatDuration(4_000), '4s');
    assert.equal(formatDuration(42_900), '42s');
    assert.equal(formatDuration(185_000), '3m 5s');
    assert.equal(formatDuration(2 * 3_600_000 + 3 * 60_000), '2h 3m');
    assert.equal(formatDuration(26 * 3_600_000), '1d 2h');
  });

  it('formats costs as the tree does', () => {
    assert.equal(formatCost(0), '$0.00');
    assert.equal(formatCost(0.01234), '$0.01');
    assert.equal(formatCost(0.36), '$0.36');
    assert.equal(formatCost(0.001), '<$0.01');
    assert.equal(formatCost(12.5), '$12.50');
  });
});

describe('details protocol: messages from the page', () => {
  it('accepts the messages the page sends', () => {
    for (const ok of [
      { type: 'ready' },
      { type: 'openStep', stepId: 3 },
      { type: 'openFile', stepId: 3, path: 'a.ts' },
      { type: 'showChanges', stepId: 3 },
      { type: 'copy', text: 'abc' },
    ]) {
      assert.ok(isPageMessage(ok), JSON.stringify(ok));
    }
  });

  it('refuses anything else', () => {
    for (const bad of [
      null, 'ready', 42, {}, { type: 'eval', code: '1' }, { type: 'openStep', stepId: '3' }, { type: 'openStep', stepId: 1.5 },
      { type: 'openFile', stepId: 3 }, { type: 'openFile', stepId: 3, path: '' }, { type: 'copy', text: 7 },
    ]) {
      assert.ok(!isPageMessage(bad), JSON.stringify(bad));
    }
  });
});
