import * as assert from 'assert';
import { stepFromRow } from '../../src/core/model';
import {
  describeFilter,
  escapeMarkdown,
  fileTooltip,
  formatCost,
  formatCount,
  formatDuration,
  projectItemText,
  relativeTime,
  splitPath,
  stepDecoration,
  statusIcon,
  rowTime,
  bothTimes,
  stepAccessibilityLabel,
  stepDescription,
  stepTooltipMarkdown,
  costTotalText,
  logTruncationNote,
  stepLogMarkdown,
  tokenTotalText,
  type LogFigures,
  historyDetailsView,
} from '../../src/ui/format';
import { dateTime } from '../../src/core/figures';
import { formatTokens as sourceTokens, counted, timeFact, timeText } from '../../src/core/sources/figures';
import { parsedTimeFact, parseTime as studioParseTime } from '../../src/core/sources/studio/values';
import type { DetailSection, HistoryNode } from '../../src/core/sources/types';
import { stepRow } from '../fixtures/stepFixtures';

const now = new Date(Date.UTC(2026, 5, 1, 12, 0, 0));
const ago = (ms: number) => new Date(now.getTime() - ms);
const MIN = 60_000;

describe('format', () => {
  it('writes relative times the way the tree shows them', () => {
    assert.strictEqual(relativeTime(ago(10_000), now), 'just now');
    assert.strictEqual(relativeTime(ago(-5 * MIN), now), 'just now', 'a start in the future (clock skew)');
    assert.strictEqual(relativeTime(ago(3 * MIN), now), '3m ago');
    assert.strictEqual(relativeTime(ago(59 * MIN + 59_000), now), '59m ago');
    assert.strictEqual(relativeTime(ago(60 * MIN), now), '1h ago');
    assert.strictEqual(relativeTime(ago(2 * 24 * 60 * MIN), now), '2d ago');
    assert.strictEqual(relativeTime(ago(65 * 24 * 60 * MIN), now), '2mo ago');
    assert.strictEqual(relativeTime(ago(800 * 24 * 60 * MIN), now), '2y ago');
  });

  it('writes durations with at most two units', () => {
    assert.strictEqual(formatDuration(850), '850ms');
    assert.strictEqual(formatDuration(12_400), '12s');
    assert.strictEqual(formatDuration(80_000), '1m 20s');
    assert.strictEqual(formatDuration(120_000), '2m');
    assert.strictEqual(formatDuration(2 * 3600_000 + 5 * MIN + 7_000), '2h 5m');
    assert.strictEqual(formatDuration(3 * 86_400_000 + 4 * 3600_000), '3d 4h');
    assert.strictEqual(formatDuration(-1), '?');
  });

  it('abbreviates counts and never writes 1000k', () => {
    assert.strictEqual(formatCount(950), '950');
    assert.strictEqual(formatCount(1_000), '1k');
    assert.strictEqual(formatCount(12_345), '12.3k');
    assert.strictEqual(formatCount(123_456), '123k');
    assert.strictEqual(formatCount(99_960), '100k');
    assert.strictEqual(formatCount(999_949), '1M');
    assert.strictEqual(formatCount(999_950), '1M');
    assert.strictEqual(formatCount(1_234_567), '1.2M');
  });

  it('writes costs in dollars, a positive cost under a cent as <$0.01', () => {
    assert.strictEqual(formatCost(0.04), '$0.04');
    assert.strictEqual(formatCost(0.001), '<$0.01');
    assert.strictEqual(formatCost(0), '$0.00');
    assert.strictEqual(formatCost(12.5), '$12.50');
    assert.strictEqual(formatCost(1234.4), '$1,234');
  });

  it('describes a step as relative time · duration · tokens · cost', () => {
    const step = stepFromRow(
      stepRow(12, {
        start_time: ago(3 * MIN).toISOString(),
        end_time: ago(3 * MIN - 80_000).toISOString(),
        duration_ms: 80_000,
        token_usage_json: JSON.stringify({ prompt_tokens: 12_000, completion_tokens: 300, total_tokens: 12_300, cost: 0.04 }),
      }),
    );
    assert.strictEqual(stepDescription(step, now), '3m ago · 1m 20s · 12.3k tokens · $0.04');
    assert.strictEqual(
      stepAccessibilityLabel(step, now),
      'S12, completed, started 3 minutes ago, took 1m 20s, 12,300 tokens, cost $0.04',
    );
  });

  it('marks a rolled-back step and a running one, leaving out zero tokens and cost', () => {
    const rolledBack = stepFromRow(stepRow(3, { active: 0, start_time: ago(5 * MIN).toISOString(), end_time: null, duration_ms: 1000 }));
    assert.match(stepDescription(rolledBack, now), /^rolled back · 5m ago · 1s · 120 tokens · \$0\.01$/);
    const running = stepFromRow(
      stepRow(4, { start_time: ago(MIN).toISOString(), end_time: null, duration_ms: null, token_usage_json: '{}' }),
    );
    assert.strictEqual(running.status, 'RUNNING');
    assert.strictEqual(stepDescription(running, now), '1m ago · running');
  });

  it('escapes database text so a tooltip cannot carry links, images, HTML or emphasis', () => {
    const hostile = '<img src=x onerror=alert(1)> [run](command:workbench.action.terminal.new) **bold** `code` https://evil.example';
    const escaped = escapeMarkdown(hostile);
    // Every Markdown-significant character is preceded by a backslash.
    for (let i = 0; i < escaped.length; i++) {
      if ('<>[]()*`:'.includes(escaped[i])) assert.strictEqual(escaped[i - 1], '\\', `unescaped ${escaped[i]} at ${i} in ${escaped}`);
    }
    assert.ok(!escapeMarkdown('a\nb').includes('\n'));

    const step = stepFromRow(stepRow(7, { agent_config_json: JSON.stringify({ model: hostile }) }));
    const tooltip = stepTooltipMarkdown(step, { project: '[p](command:x)' });
    assert.ok(tooltip.includes(escapeMarkdown(hostile)), tooltip);
    assert.ok(!/(^|[^\\])<img/.test(tooltip), tooltip);
    assert.ok(!tooltip.includes('](command:'), tooltip);
    // Hashes are shortened to git's seven hex digits everywhere.
    assert.match(tooltip, /\*\*Commit before:\*\* 0000000(?![0-9a-f])/);
  });

  it('escapes control characters in Markdown too, where an escape itself stays literal', () => {
    assert.strictEqual(escapeMarkdown('a\u202Eb\u0000'), 'a\\\\u202Eb\\\\u0000');
    const step = stepFromRow(stepRow(8, { project_id: 'p\u202E' }));
    assert.ok(stepTooltipMarkdown(step, { project: step.projectId }).includes('**Project:** p\\\\u202E'));
  });

  it('marks a step with warnings in the tree, dimmed when rolled back', () => {
    assert.strictEqual(stepDecoration(false, 0), undefined);
    assert.deepStrictEqual(stepDecoration(false, 2), { badge: '⚠', tooltip: '2 warnings', color: 'list.warningForeground' });
    assert.deepStrictEqual(stepDecoration(true, 1), { badge: '⚠', tooltip: 'Rolled back · 1 warning', color: 'disabledForeground' });
    assert.deepStrictEqual(stepDecoration(true, 0), { badge: undefined, tooltip: 'Rolled back', color: 'disabledForeground' });
  });

  it('names a project, and the database only when there are several', () => {
    const project = { id: 'ledgerline', stepCount: 1, activeCount: 1, lastStart: null };
    const db = { label: 'app/steps.db', path: '/w/app/steps.db' };
    assert.deepStrictEqual(projectItemText(project, db, false), {
      label: 'ledgerline',
      description: '1 step',
      tooltip: 'ledgerline\n1 step, 1 active\n/w/app/steps.db',
      accessibilityLabel: 'Project ledgerline, 1 step, in app/steps.db',
      warning: undefined,
    });
    const none = projectItemText({ ...project, id: '', stepCount: 3, activeCount: 2 }, db, true);
    assert.deepStrictEqual([none.label, none.description, none.warning], ['(no project)', '3 steps · app/steps.db', 'These steps have no project id.']);
    assert.strictEqual(none.tooltip, '(no project)\nThese steps have no project id.\n3 steps, 2 active\n/w/app/steps.db');
  });

  it('lists the warnings of a step in its tooltip', () => {
    const step = stepFromRow(stepRow(9, { commit_sha_after: 'not-a-hash' }));
    assert.ok(step.warnings.length > 0);
    assert.ok(stepTooltipMarkdown(step).includes('⚠ S9'));
  });

  it('names the active filter', () => {
    assert.strictEqual(describeFilter({}), undefined);
    assert.strictEqual(describeFilter({ failedOnly: true, model: 'gpt-4o' }), 'Filter: failed · gpt-4o');
    assert.strictEqual(describeFilter({ text: 'login' }), 'Filter: "login"');
  });

  it('splits a path like the SCM view and shows renames as old → new', () => {
    assert.deepStrictEqual(splitPath('src/ui/tree.ts'), { name: 'tree.ts', folder: 'src/ui' });
    assert.deepStrictEqual(splitPath('README.md'), { name: 'README.md', folder: '' });
    assert.strictEqual(
      fileTooltip({ path: 'b.ts', oldPath: 'a.ts', status: 'renamed', added: 3, removed: 1, binary: false, similarity: 92 }),
      'a.ts → b.ts · Renamed (92% similar) · +3 −1',
    );
    assert.strictEqual(fileTooltip({ path: 'x.png', status: 'added', added: null, removed: null, binary: true }), 'x.png · Added · binary');
  });
});

describe('format: times on rows, and in tooltips and details (core/figures.ts)', () => {
  const now = new Date(2026, 10, 30, 12, 0, 0);
  it('writes a row\'s time relative within a day, then as a local date and time, with the year once it is not this year\'s', () => {
    assert.strictEqual(rowTime(new Date(2026, 10, 30, 9, 0, 0), now), '3h ago');
    assert.strictEqual(rowTime(new Date(2026, 10, 2, 14, 5, 0), now), 'Nov 2 14:05');
    assert.strictEqual(rowTime(new Date(2026, 10, 2, 14, 6, 0), now), 'Nov 2 14:06', 'two steps of one day are told apart');
    assert.strictEqual(rowTime(new Date(2025, 10, 2, 14, 5, 0), now), '2025-11-02');
  });

  it('gives both, absolute and relative, in tooltips and details', () => {
    assert.strictEqual(bothTimes(new Date('2026-11-01T12:00:00Z'), new Date('2026-11-30T12:00:00Z')), '2026-11-01 12:00:00 UTC (29d ago)');
  });
});

describe('format: a node\'s status icon, any system\'s', () => {
  it('draws a step whose row has warnings with the warning icon, not the healthy check', () => {
    assert.deepStrictEqual(statusIcon('completed', true), { id: 'pass', color: 'testing.iconPassed' });
    assert.deepStrictEqual(statusIcon('completed', true, 2), { id: 'warning', color: 'problemsWarningIcon.foreground' });
    assert.deepStrictEqual(statusIcon('unknown', true, 1), { id: 'warning', color: 'problemsWarningIcon.foreground' });
    assert.deepStrictEqual(statusIcon('pending', true, 1), { id: 'warning', color: 'problemsWarningIcon.foreground' });
  });

  it('keeps the stronger state: running, failed and rolled back say more than a warning', () => {
    assert.deepStrictEqual(statusIcon('running', true, 1), { id: 'sync~spin' });
    assert.deepStrictEqual(statusIcon('failed', true, 1), { id: 'error', color: 'testing.iconFailed' });
    assert.deepStrictEqual(statusIcon('rolledBack', true, 1), { id: 'discard', color: 'disabledForeground' });
  });

  it('draws containers by their status, never with a file or folder icon', () => {
    assert.deepStrictEqual(statusIcon('completed', false, 3), { id: 'project' });
    assert.deepStrictEqual(statusIcon('unknown', false), { id: 'project' });
    assert.deepStrictEqual(statusIcon('waiting', false), { id: 'debug-pause' });
    assert.deepStrictEqual(statusIcon('unknown', true), { id: 'circle-outline' });
  });
});

describe('format: figures a step does not record', () => {
  const laforgeZeros = JSON.stringify({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cost: 0 });
  const finished = (overrides: Record<string, string | number | null> = {}) =>
    stepFromRow(stepRow(21, { start_time: ago(3 * MIN).toISOString(), end_time: ago(MIN).toISOString(), duration_ms: 120_000, token_usage_json: laforgeZeros, ...overrides }));
  const log: LogFigures = { outcome: 'success', reason: null, turns: 12, durationMs: 85_300, costUsd: 0.4213 };

  it('never shows "0 tokens · $0.00" for a step whose row records none, and says "not recorded"', () => {
    for (const usage of [laforgeZeros, '{}', '']) {
      const step = finished({ token_usage_json: usage });
      assert.strictEqual(step.tokenUsage, null);
      assert.strictEqual(stepDescription(step, now), '3m ago · 2m', `description for ${JSON.stringify(usage)}`);
      const tooltip = stepTooltipMarkdown(step);
      assert.ok(tooltip.includes('**Tokens:** not recorded'), tooltip);
      assert.ok(!/\$0\.00|\b0 tokens/.test(tooltip), tooltip);
      assert.strictEqual(stepAccessibilityLabel(step, now), 'S21, completed, started 3 minutes ago, took 2m, tokens not recorded');
    }
  });

  it("shows the log's cost, turns and agent time, marked as from the log", () => {
    const step = finished();
    assert.strictEqual(stepDescription(step, now, log), '3m ago · 2m · $0.42 (from the log)');
    assert.strictEqual(
      stepAccessibilityLabel(step, now, log),
      'S21, completed, started 3 minutes ago, took 2m, tokens not recorded, cost $0.42 from the log',
    );
    const tooltip = stepTooltipMarkdown(step, { log });
    for (const row of ['**Tokens:** not recorded', '**Cost:** \\$0\\.42 \\(from the log\\)', '**Turns:** 12 \\(from the log\\)', '**Agent time:** 1m 25s \\(from the log\\)', '**Agent result:** Success \\(from the log\\)']) {
      assert.ok(tooltip.includes(row), `${row} in ${tooltip}`);
    }
    // No duration in the row: the log's agent time stands in, marked.
    assert.strictEqual(stepDescription(finished({ duration_ms: null, end_time: null, start_time: null }), now, log), 'no start time · running · $0.42 (from the log)');
    const noDuration = finished({ duration_ms: null, end_time: 'garbage' });
    assert.strictEqual(stepDescription(noDuration, now, log), '3m ago · 1m 25s (from the log) · $0.42 (from the log)');
    // A row that records its cost keeps it: the log does not replace it.
    const recorded = finished({ token_usage_json: JSON.stringify({ prompt_tokens: 10, completion_tokens: 2, total_tokens: 12, cost: 0.04 }) });
    assert.strictEqual(stepDescription(recorded, now, log), '3m ago · 2m · 12 tokens · $0.04');
  });

  it('counts apart, in totals, the steps whose cost is not recorded', () => {
    const counters = { steps: 29, usageSteps: 12, cost: 3.2, totalTokens: 1_200_000 };
    assert.strictEqual(costTotalText(counters), '$3.20, cost of 12 of 29 steps');
    assert.strictEqual(costTotalText(counters, { steps: 5, cost: 1.1 }), '$4.30, cost of 17 of 29 steps (5 from their logs)');
    assert.strictEqual(costTotalText({ steps: 3, usageSteps: 0, cost: 0 }, { steps: 3, cost: 0.5 }), '$0.50, cost of all 3 steps (from their logs)');
    assert.strictEqual(costTotalText({ steps: 29, usageSteps: 0, cost: 0 }), 'cost not recorded for any of the 29 steps');
    assert.strictEqual(costTotalText({ steps: 1, usageSteps: 0, cost: 0 }), 'cost not recorded for the step');
    assert.strictEqual(tokenTotalText(counters), '1.2M tokens in 12 of 29 steps');
    assert.strictEqual(tokenTotalText({ steps: 4, usageSteps: 0, totalTokens: 0 }), 'tokens not recorded');
    const project = { id: 'p', stepCount: 29, activeCount: 29, lastStart: null };
    const text = projectItemText(project, { label: 'steps.db', path: '/p/steps.db' }, false, {
      counters: { ...counters, durationMs: 0, promptTokens: 0, completionTokens: 0, failures: 0, rollbacks: 0 },
      logs: { steps: 5, cost: 1.1 },
    });
    assert.strictEqual(text.tooltip, 'p\n29 steps, 29 active\n$4.30, cost of 17 of 29 steps (5 from their logs)\n1.2M tokens in 12 of 29 steps\n/p/steps.db');
  });
});

describe('format: step log Markdown', () => {
  it('keeps LaForge Markdown and code as they are, and lets no HTML or image through outside code', () => {
    const log = [
      '# Claude Code (claude-sonnet-4-5)',
      '`/workspace` • Session: `abc`',
      'I will add <script>alert(1)</script> and ![x](https://evil.example/p.png) here; `a <b> c` stays.',
      '**Tool result:**',
      '```',
      '<div onclick="x">literal in code</div>',
      '```',
      'after \u202E the block <img src=x>',
    ].join('\n');
    const md = stepLogMarkdown(log);
    const lines = md.split('\n');
    assert.strictEqual(lines[0], '# Claude Code (claude-sonnet-4-5)');
    assert.strictEqual(lines[1], '`/workspace` • Session: `abc`');
    assert.strictEqual(lines[2], 'I will add \\<script>alert(1)\\</script> and !\\[x](https://evil.example/p.png) here; `a <b> c` stays.');
    assert.strictEqual(lines[5], '<div onclick="x">literal in code</div>', 'inside a fence: shown literally by the preview already');
    assert.strictEqual(lines[7], 'after \\u202E the block \\<img src=x>');
    assert.strictEqual(logTruncationNote(5 * 1024 * 1024, 40 * 1024 * 1024), 'Showing the last 5.0 MB of 40.0 MB of this log; the start is left out.');
  });
});

describe('format: a time in any system\'s details (sources/figures.ts timeFact)', () => {
  const date = new Date('2026-11-02T14:05:00.250Z');

  it('writes a readable time in the one format, and carries its Date', () => {
    assert.deepStrictEqual(timeFact('Started', date, '2026-11-02T14:05:00.250Z'), { label: 'Started', value: '2026-11-02 14:05:00 UTC', time: date });
    assert.deepStrictEqual(timeFact('Ended', date, null), { label: 'Ended', value: '2026-11-02 14:05:00 UTC', time: date }, 'a time worked out, not stored');
    assert.strictEqual(timeText(date, 1793628300), '2026-11-02 14:05:00 UTC');
    // Sections cross the worker boundary by structured clone: the Date survives.
    assert.ok(structuredClone(timeFact('Started', date, null)).time instanceof Date);
  });

  it('says "not recorded" when nothing is stored', () => {
    assert.deepStrictEqual(timeFact('Completed', null, null), { label: 'Completed', value: 'not recorded' });
    assert.deepStrictEqual(timeFact('Completed', null, undefined), { label: 'Completed', value: 'not recorded' });
  });

  it('gives a stored value it cannot read as stored, and says so', () => {
    assert.deepStrictEqual(timeFact('Created', null, 'yesterday-ish'), { label: 'Created', value: 'yesterday-ish (not a time Step History can read)' });
    assert.deepStrictEqual(timeFact('Created', null, 12.5e20), { label: 'Created', value: '1.25e+21 (not a time Step History can read)' });
    assert.deepStrictEqual(timeFact('Created', null, new TextEncoder().encode('soon')), { label: 'Created', value: 'soon (not a time Step History can read)' });
    assert.deepStrictEqual(timeFact('Created', new Date(Number.NaN), 'x'), { label: 'Created', value: 'x (not a time Step History can read)' });
  });

  it('writes a Studio time stored without an offset, read as local time, with its note', () => {
    const t = studioParseTime('2026-11-02T14:05:00');
    const local = new Date(2026, 10, 2, 14, 5, 0);
    assert.strictEqual(t.local, true);
    assert.deepStrictEqual(parsedTimeFact('Created', t), {
      label: 'Created',
      value: `${dateTime(local)} (no offset stored: read as local time)`,
      time: local,
      note: '(no offset stored: read as local time)',
    });
    assert.deepStrictEqual(parsedTimeFact('Created', studioParseTime('2026-11-02T15:05:00+01:00')), { label: 'Created', value: '2026-11-02 14:05:00 UTC', time: new Date('2026-11-02T14:05:00Z') });
    assert.deepStrictEqual(parsedTimeFact('Updated', studioParseTime(null)), { label: 'Updated', value: 'not recorded' });
    assert.deepStrictEqual(parsedTimeFact('Updated', studioParseTime('later')), { label: 'Updated', value: 'later (not a time Step History can read)' });
  });

  it('is given absolute and relative on the details page, its note kept; other facts as they are', () => {
    const old = new Date('2020-01-15T08:30:00Z');
    const node: HistoryNode = {
      ref: 'run:1', level: 'run', label: 'Run 1', status: 'completed', rawStatus: null, hasChildren: false, isStep: true, warnings: [],
      metrics: { start: old, end: null, durationMs: null, tokens: null, costUsd: null, model: null },
    };
    const sections: DetailSection[] = [
      { kind: 'facts', title: 'Run', facts: [timeFact('Started', old, null), timeFact('Created', old, null, { local: true }), timeFact('Ended', null, null), { label: 'Status', value: 'completed' }] },
    ];
    const view = historyDetailsView(node, sections, { levelName: 'run', systemName: 'LLM Orchestration', changes: 0 });
    const facts = view.sections[0].kind === 'facts' ? view.sections[0].facts : [];
    const both = bothTimes(old);
    assert.match(both, /^2020-01-15 08:30:00 UTC \(\d+y ago\)$/);
    assert.deepStrictEqual(facts, [
      { label: 'Started', value: both },
      { label: 'Created', value: `${both} (no offset stored: read as local time)` },
      { label: 'Ended', value: 'not recorded' },
      { label: 'Status', value: 'completed' },
    ]);
  });
});

describe('format: counts and tokens in any system\'s details (sources/figures.ts)', () => {
  it('writes a count of things in full, as the tree does', () => {
    const runs = (n: number) => counted(n, (c) => `${c} run`, (c) => `${c} runs`);
    assert.strictEqual(runs(1), '1 run');
    assert.strictEqual(counted(3, (c) => `${c} payload`, (c) => `${c} payloads`), '3 payloads');
    assert.strictEqual(counted(12_345, (c) => `${c} character`, (c) => `${c} characters`), '12,345 characters');
    assert.strictEqual(counted(2, (c) => `${c} of them is`, (c) => `${c} of them are`), '2 of them are');
  });

  it('writes tokens as the tree does', () => {
    assert.strictEqual(sourceTokens({ prompt: 12_000, completion: 345, total: 12_345 }), '12.3k tokens (12k in, 345 out)');
    assert.strictEqual(sourceTokens({ prompt: null, completion: null, total: null }), 'not recorded');
  });
});
