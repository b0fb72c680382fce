import * as assert from 'assert';
import { StepFieldError } from '../../src/core/errors';
import {
  isCommitHash,
  parseDbDate,
  requireCommitAfter,
  requireCommitBefore,
  requireCommitRange,
  requireStartTime,
  Step,
  stepFromRow,
} from '../../src/core/model';
import { stepRow } from '../fixtures/stepFixtures';

const iso = (value: unknown) => parseDbDate(value)?.toISOString() ?? null;

function expectFieldError(fn: () => unknown, field: string, message: string) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof StepFieldError, `expected StepFieldError, got ${err}`);
    assert.strictEqual(err.field, field);
    assert.strictEqual(err.message, message);
    return true;
  });
}

describe('model: isCommitHash', () => {
  it('accepts 4 to 64 hex digits of either case and nothing else', () => {
    for (const ok of ['abcd', 'ABCDEF0123', 'a'.repeat(40), 'f'.repeat(64)]) assert.ok(isCommitHash(ok), ok);
    for (const bad of ['abc', 'a'.repeat(65), 'xyz123', 'abcd ', ' abcd', '', null, 1234, undefined, 'HEAD', 'abcd\n']) {
      assert.ok(!isCommitHash(bad), String(bad));
    }
  });
});

describe('model: parseDbDate', () => {
  it('reads SQLite CURRENT_TIMESTAMP as UTC, with optional fractional seconds', () => {
    assert.strictEqual(iso('2026-01-02 15:04:05'), '2026-01-02T15:04:05.000Z');
    assert.strictEqual(iso('2026-01-02 15:04:05.123'), '2026-01-02T15:04:05.123Z');
  });

  it('reads RFC 3339 with Z, offsets and up to nanoseconds', () => {
    assert.strictEqual(iso('2026-01-02T15:04:05Z'), '2026-01-02T15:04:05.000Z');
    assert.strictEqual(iso('2026-01-02T15:04:05.123456789Z'), '2026-01-02T15:04:05.123Z');
    assert.strictEqual(iso('2026-01-02T15:04:05+02:00'), '2026-01-02T13:04:05.000Z');
    assert.strictEqual(iso('2026-01-02T01:04:05.5-03:30'), '2026-01-02T04:34:05.500Z');
  });

  it("reads mattn/go-sqlite3's and Go's time.String() forms", () => {
    assert.strictEqual(iso('2026-01-02 15:04:05.999999999-07:00'), '2026-01-02T22:04:05.999Z');
    assert.strictEqual(iso('2026-01-02 15:04:05.123456789 -0700 MST'), '2026-01-02T22:04:05.123Z');
    assert.strictEqual(iso('2026-01-02 15:04:05 +0000 UTC'), '2026-01-02T15:04:05.000Z');
    assert.strictEqual(iso('2026-01-02 15:04:05.1 +0300 +03'), '2026-01-02T12:04:05.100Z');
    assert.strictEqual(iso('2026-01-02 15:04:05.000000001 +0000 UTC m=+0.001234567'), '2026-01-02T15:04:05.000Z');
  });

  it('reads unix epoch seconds and milliseconds, as numbers or digit strings', () => {
    assert.strictEqual(iso(1767366245), '2026-01-02T15:04:05.000Z');
    assert.strictEqual(iso(1767366245123), '2026-01-02T15:04:05.123Z');
    assert.strictEqual(iso('1767366245'), '2026-01-02T15:04:05.000Z');
  });

  it('returns null for anything else, including impossible dates and Go zero time', () => {
    for (const bad of ['yesterday', '2026-13-01 00:00:00', '2026-02-30T00:00:00Z', '2026-01-02T25:00:00Z', '', null, undefined, {}, '0001-01-01 00:00:00 +0000 UTC', '2026-01-02T15:04:05+25:00']) {
      assert.strictEqual(parseDbDate(bad), null, String(bad));
    }
  });
});

describe('model: stepFromRow', () => {
  it('reads a good row with no warnings and derives its status', () => {
    const step = stepFromRow(stepRow(12), () => true);
    assert.deepStrictEqual(step.warnings, []);
    assert.strictEqual(step.label, 'S12');
    assert.strictEqual(step.status, 'COMPLETED');
    assert.strictEqual(step.parentStepId, 11);
    assert.deepStrictEqual(step.agentConfig, { model: 'claude-3.5-sonnet', maxTokens: 4000, tools: ['bash'] });
    assert.deepStrictEqual(step.tokenUsage, { promptTokens: 100, completionTokens: 20, totalTokens: 120, cost: 0.01 });
    assert.strictEqual(step.durationMs, 30_000);
  });

  it('derives status as LaForge does', () => {
    assert.strictEqual(stepFromRow(stepRow(1, { active: 0, end_time: null })).status, 'ROLLED BACK');
    assert.strictEqual(stepFromRow(stepRow(1, { active: 'false' })).status, 'ROLLED BACK');
    assert.strictEqual(stepFromRow(stepRow(1, { end_time: null, commit_sha_after: '' })).status, 'RUNNING');
    assert.strictEqual(stepFromRow(stepRow(1, { exit_code: 2 })).status, 'FAILED');
    assert.strictEqual(stepFromRow(stepRow(1, { exit_code: null })).status, 'COMPLETED');
  });

  it('turns every bad field into null plus a sentence, never a throw', () => {
    const step = stepFromRow(
      stepRow(7, {
        agent_config_json: '{"model": "x",',
        token_usage_json: 'not json',
        commit_sha_before: 'xyz',
        commit_sha_after: 'abc',
        start_time: '2026-01-01T10:10:00Z',
        end_time: '2026-01-01T10:00:00Z',
        parent_step_id: 99,
      }),
      (id) => id !== 99,
    );
    assert.strictEqual(step.agentConfig, null);
    assert.strictEqual(step.tokenUsage, null, 'unreadable usage is not recorded, not zero');
    assert.strictEqual(step.commitBefore, null);
    assert.strictEqual(step.commitAfter, null);
    assert.strictEqual(step.raw.commitBefore, 'xyz');
    assert.deepStrictEqual(
      step.warnings.map((w) => w.field).sort(),
      ['agentConfig', 'commitAfter', 'commitBefore', 'endTime', 'parentStepId', 'tokenUsage'],
    );
    const text = step.warnings.map((w) => w.message).join('\n');
    assert.match(text, /S7's commit before "xyz" is not a commit hash\./);
    assert.match(text, /S7's parent step S99 does not exist in this database\./);
    assert.match(text, /S7 ends \(2026-01-01T10:00:00.000Z\) before it starts/);
    assert.match(text, /S7's agent configuration is not valid JSON/);
    assert.match(text, /S7's token usage is not valid JSON: "not json"; it is shown as not recorded\./);
    for (const w of step.warnings) assert.match(w.message, /^S7.*\.$/, 'each warning is one sentence');
  });

  it('reads absent token members as 0 and skips members of the wrong type with a warning', () => {
    const step = stepFromRow(stepRow(3, { token_usage_json: '{"prompt_tokens": 5, "cost": "1.5"}' }));
    assert.deepStrictEqual(step.tokenUsage, { promptTokens: 5, completionTokens: 0, totalTokens: 0, cost: 0 });
    assert.deepStrictEqual(step.warnings.map((w) => w.field), ['tokenUsage']);
    assert.match(step.warnings[0].message, /cost; they count as zero\.$/);
  });

  it('reads no usage, `{}`, JSON null and all zeros (what LaForge writes today) as not recorded, without a warning', () => {
    const laforge = '{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0,"cost":0}';
    for (const value of [null, '', '{}', 'null', laforge, '{"cost": 0}']) {
      const step = stepFromRow(stepRow(4, { token_usage_json: value }));
      assert.strictEqual(step.tokenUsage, null, String(value));
      assert.deepStrictEqual(step.warnings, [], String(value));
    }
    assert.deepStrictEqual(stepFromRow(stepRow(4, { token_usage_json: '{"cost": 0.25}' })).tokenUsage, { promptTokens: 0, completionTokens: 0, totalTokens: 0, cost: 0.25 });
  });

  it('warns about a missing or unreadable start time', () => {
    assert.match(stepFromRow(stepRow(4, { start_time: null })).warnings[0].message, /^S4 has no start time\.$/);
    const odd = stepFromRow(stepRow(4, { start_time: 'last tuesday' }));
    assert.strictEqual(odd.startTime, null);
    assert.match(odd.warnings[0].message, /S4's start time "last tuesday" is not a date/);
  });

  it('keeps HTML as plain data', () => {
    const html = '<img src=x onerror=alert(1)>';
    const step = stepFromRow(stepRow(5, { project_id: html, agent_config_json: JSON.stringify({ model: html }) }));
    assert.strictEqual(step.projectId, html);
    assert.strictEqual(step.agentConfig?.model, html);
  });

  it('takes an empty commit after, as Go writes it, for "not yet" without a warning', () => {
    const step = stepFromRow(stepRow(6, { commit_sha_after: '', end_time: null }));
    assert.strictEqual(step.commitAfter, null);
    assert.deepStrictEqual(step.warnings, []);
  });
});

describe('model: refusing helpers', () => {
  const step = (overrides: Parameters<typeof stepRow>[1]): Step => stepFromRow(stepRow(12, overrides));

  it('return valid commits', () => {
    const good = step({});
    assert.strictEqual(requireCommitBefore(good), good.commitBefore);
    assert.deepStrictEqual(requireCommitRange(good), { before: good.commitBefore, after: good.commitAfter });
    assert.strictEqual(requireStartTime(good).toISOString(), '2026-01-01T10:12:00.000Z');
  });

  it('refuse a bad commit after with a sentence naming the step and the value', () => {
    expectFieldError(() => requireCommitRange(step({ commit_sha_after: 'xyz' })), 'commitAfter',
      'S12 has no valid commit after: "xyz" is not a commit hash.');
    expectFieldError(() => requireCommitAfter(step({ commit_sha_after: 'abc' })), 'commitAfter',
      'S12 has no valid commit after: "abc" is not a commit hash.');
  });

  it('refuse a running step with no commit after yet', () => {
    expectFieldError(() => requireCommitAfter(step({ commit_sha_after: null, end_time: null })), 'commitAfter',
      'S12 is still running and has no commit after yet.');
  });

  it('refuse a bad or missing commit before', () => {
    expectFieldError(() => requireCommitBefore(step({ commit_sha_before: 'HEAD~1' })), 'commitBefore',
      'S12 has no valid commit before: "HEAD~1" is not a commit hash.');
    expectFieldError(() => requireCommitBefore(step({ commit_sha_before: null })), 'commitBefore',
      'S12 has no commit before recorded.');
  });

  it('refuse an unreadable start time', () => {
    expectFieldError(() => requireStartTime(step({ start_time: 'soon' })), 'startTime',
      'S12\'s start time "soon" is not a date Step History can read.');
  });
});
