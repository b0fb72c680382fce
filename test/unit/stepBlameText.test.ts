/**
 * What the blame hover and the current line's annotation say: a step's figures through the
 * tree's formatters, a commit no step made, a line not committed yet, a source with no commits,
 * and text from a database or git that stays text (no HTML, no links, no icons).
 */
import * as assert from 'assert';
import type { BlameCommit } from '../../src/core/blame';
import { bothTimes, rowTime } from '../../src/core/figures';
import { stepFromRow } from '../../src/core/model';
import type { LineOwner } from '../../src/core/stepBlame';
import { escapeMarkdown, tokenUsageText } from '../../src/ui/format';
import { BLAME_HOVER_COMMANDS, blameAnnotation, blameHoverLines, noCommitsHoverLines, noCommitsSentence } from '../../src/ui/stepBlameText';
import { stepRow } from '../fixtures/stepFixtures';

const now = new Date(Date.UTC(2026, 0, 3, 12, 0, 0));
const sha = 'abcdef1234567890abcdef1234567890abcdef12';
const info = (over: Partial<BlameCommit> = {}): BlameCommit => ({ commit: sha, author: 'Ada', authorMail: '<ada@example.com>', authorTimeMs: Date.UTC(2026, 0, 2, 9, 30), summary: 'Add CSV import', filename: 'src/a.ts', boundary: false, ...over });
const stepOwner = (row = {}): Extract<LineOwner, { kind: 'step' }> => ({ kind: 'step', step: stepFromRow(stepRow(12, row)), via: 'recorded', commit: info() });

/** The links of Markdown: `[text](target)`, unescaped brackets only. */
const links = (markdown: string) => [...markdown.matchAll(/(?<!\\)\[((?:[^\]\\]|\\.)*)\]\(([^)]*)\)/g)].map((m) => ({ text: m[1], target: m[2] }));

describe('blame hover text', () => {
  it("names the step, its title, status, model, start, tokens and cost as the tree writes them, and the step's commit", () => {
    const owner = stepOwner();
    const lines = blameHoverLines(owner, { title: 'Parse CSV', now });
    assert.strictEqual(lines[0], '**S12** · Parse CSV');
    assert.ok(lines.includes('**Status:** completed'), lines.join('\n'));
    assert.ok(lines.includes('**Model:** claude\\-3\\.5\\-sonnet'), lines.join('\n'));
    assert.ok(lines.includes(`**Started:** ${escapeMarkdown(bothTimes(owner.step.startTime!, now))}`), lines.join('\n'));
    assert.ok(lines.includes(`**Tokens:** ${escapeMarkdown(tokenUsageText(owner.step))}`), lines.join('\n'));
    assert.match(tokenUsageText(owner.step), /^120 \(100 prompt, 20 completion\) · \$0\.01$/);
    assert.ok(lines.includes('**Commit:** abcdef1 Add CSV import'), lines.join('\n'));
    assert.deepStrictEqual(links(lines.join('\n')), [], 'no links without a reference');
  });

  it('says tokens are not recorded when the row records none, and that a rolled-back step was rolled back', () => {
    const lines = blameHoverLines(stepOwner({ token_usage_json: '{}', active: 0 }), { now });
    assert.ok(lines.includes('**Tokens:** not recorded'), lines.join('\n'));
    assert.ok(lines.includes('$(discard) S12 was rolled back\\.'), lines.join('\n'));
    assert.ok(!lines.some((l) => l.startsWith('**Status:**')), lines.join('\n'));
  });

  it('links to the details, changes and log commands only, with the step reference as their JSON argument', () => {
    const reference = { databaseId: '/work/steps.db', stepId: 12 };
    const found = links(blameHoverLines(stepOwner(), { reference, now }).join('\n'));
    assert.deepStrictEqual(found.map((l) => l.text), ['$(info) Open Step Details', '$(diff) Show Step Changes', '$(output) Open Step Log']);
    for (const [i, l] of found.entries()) {
      const [, command, arg] = /^command:([\w.]+)\?(.*)$/.exec(l.target)!;
      assert.strictEqual(command, BLAME_HOVER_COMMANDS[i]);
      assert.deepStrictEqual(JSON.parse(decodeURIComponent(arg)), [reference]);
    }
  });

  it('keeps HTML, Markdown links, icons and control characters in a title, a model and a summary as text', () => {
    const hostile = '<img src=x onerror=alert(1)> [click](command:workbench.action.terminal.new) $(alert) **bold** \u202E';
    const owner: LineOwner = { ...stepOwner({ agent_config_json: JSON.stringify({ model: hostile }) }), commit: info({ summary: hostile }) };
    const markdown = blameHoverLines(owner, { title: hostile, now }).join('  \n');
    assert.deepStrictEqual(links(markdown), []);
    assert.ok(!/(^|[^\\])</.test(markdown), markdown);
    assert.ok(!/(^|[^\\])\$\(alert/.test(markdown), markdown);
    assert.ok(!markdown.includes('\u202E'), markdown);
    assert.ok(markdown.includes(escapeMarkdown(hostile)), markdown);
    const byCommit = blameHoverLines({ kind: 'commit', commit: info({ author: hostile, summary: hostile }) }, { now }).join('  \n');
    assert.deepStrictEqual(links(byCommit), []);
    assert.ok(!/(^|[^\\])</.test(byCommit), byCommit);
  });

  it("gives a commit no step made with its author, short hash, date and summary", () => {
    const lines = blameHoverLines({ kind: 'commit', commit: info() }, { now });
    assert.deepStrictEqual(lines, [`**Ada** · \`abcdef1\` · ${escapeMarkdown(bothTimes(new Date(Date.UTC(2026, 0, 2, 9, 30)), now))}`, 'Add CSV import', 'No step made this commit.']);
  });

  it('says a line is not committed yet, and that another system records no commits', () => {
    assert.deepStrictEqual(blameHoverLines({ kind: 'uncommitted', commit: info({ commit: null }) }), ['Not committed yet']);
    assert.deepStrictEqual(noCommitsHoverLines(['Constellation']), ['Constellation records no git commits, so which of its steps wrote this line is not known\\.']);
    assert.deepStrictEqual(noCommitsHoverLines(['Constellation', 'LLM Orchestration', 'Autonomous Software Studio']), [
      'Constellation, LLM Orchestration and Autonomous Software Studio record no git commits, so which of their steps wrote this line is not known\\.',
    ]);
    assert.strictEqual(noCommitsSentence(['Constellation'], 'a.md'), 'Constellation records no git commits, so which of its steps changed a.md is not known.');
    assert.strictEqual(noCommitsSentence(['Constellation', 'LLM Orchestration'], 'a.md'), 'Constellation and LLM Orchestration record no git commits, so which of their steps changed a.md is not known.');
  });
});

describe('blame annotation text', () => {
  it('reads `S12 · title · when` for a step, marks a rolled-back one, and names the author of a commit no step made', () => {
    const owner = stepOwner();
    assert.strictEqual(blameAnnotation(owner, 'Parse CSV', now), `S12 · Parse CSV · ${rowTime(owner.step.startTime!, now)}`);
    assert.strictEqual(blameAnnotation(stepOwner({ active: 0 }), undefined, now), `S12 · rolled back · ${rowTime(owner.step.startTime!, now)}`);
    assert.strictEqual(blameAnnotation({ kind: 'commit', commit: info({ author: 'Ada\u202E' }) }, undefined, now), `Ada\\u202E · ${rowTime(new Date(Date.UTC(2026, 0, 2, 9, 30)), now)}`);
    assert.strictEqual(blameAnnotation({ kind: 'uncommitted', commit: info({ commit: null }) }, undefined, now), 'Not committed yet');
  });
});
