import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { Step } from '../../src/core/model';
import { StepFilter, StepStore } from '../../src/core/stepStore';
import { DOCUMENTED_SCHEMA, hex, LAFORGE_NAME_SCHEMA, makeTempDir, Row, stepRow, writeWithSqlite } from '../fixtures/stepFixtures';

const config = (model: unknown, extra: object = {}) => JSON.stringify({ model, max_tokens: 1000, ...extra });

/** exit_code without a type, so text values stay text, as a sloppy writer may leave them. */
const LOOSE_SCHEMA = DOCUMENTED_SCHEMA.replace('exit_code INTEGER', 'exit_code');

/** Rows covering every way a step can be FAILED or not, and every way a model can be named. */
const rows: Row[] = [
  stepRow(1, { exit_code: 0 }),
  stepRow(2, { exit_code: 1, agent_config_json: config('gpt-4o') }),
  stepRow(3, { exit_code: '2' }),
  stepRow(4, { exit_code: ' 0 ' }),
  stepRow(5, { exit_code: 1, active: 0 }), // rolled back
  stepRow(6, { exit_code: 1, end_time: null }), // running
  stepRow(7, { exit_code: 1.0, agent_config_json: config('gpt-4o', { system_prompt: 'Refactor the Parser' }) }),
  stepRow(8, { exit_code: 'abc', agent_config_json: '{"model": "broken' }),
  stepRow(9, { exit_code: ' -3 ', end_time: '  ', agent_config_json: config(42) }), // blank end: running
  stepRow(10, { exit_code: '-7', agent_config_json: config('') }),
  stepRow(11, { exit_code: 1, project_id: 'other', agent_config_json: config('o3') }),
  stepRow(12, { exit_code: 1.5 }),
];

/** The model the filter and the pick list name: the config's model, else the config name. */
const modelOf = (s: Step) => (s.agentConfig?.model || undefined) ?? s.agentConfigName ?? undefined;

describe('StepStore filters', () => {
  let dir: string;
  let store: StepStore;
  let all: Step[];

  before(async () => {
    dir = makeTempDir();
    const db = path.join(dir, 'steps.db');
    await writeWithSqlite(db, LOOSE_SCHEMA, rows);
    store = await StepStore.open(db);
    all = store.steps('demo', { limit: 1000 });
  });
  after(() => {
    store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const ids = (filter: StepFilter, more: { activeOnly?: boolean; offset?: number; limit?: number } = {}) =>
    store.steps('demo', { ...more, filter }).map((s) => s.id);

  it('failedOnly in SQL agrees with the status each step shows', () => {
    const expected = all.filter((s) => s.status === 'FAILED').map((s) => s.id);
    assert.deepStrictEqual(expected, [10, 7, 3, 2]);
    assert.deepStrictEqual(ids({ failedOnly: true }), expected);
    assert.strictEqual(store.stepCount('demo', { filter: { failedOnly: true } }), expected.length);
  });

  it('filters by model, from agent_config_json, and lists the models a project used', () => {
    assert.deepStrictEqual(ids({ model: 'gpt-4o' }), [7, 2]);
    assert.deepStrictEqual(
      ids({ model: 'claude-3.5-sonnet' }),
      all.filter((s) => modelOf(s) === 'claude-3.5-sonnet').map((s) => s.id),
    );
    assert.deepStrictEqual(store.models('demo'), ['claude-3.5-sonnet', 'gpt-4o']);
    assert.deepStrictEqual(store.models('other'), ['o3']);
    assert.deepStrictEqual(store.models('nobody'), []);
    assert.deepStrictEqual(ids({ model: 'o3' }), []);
  });

  it('finds text case-insensitively in the label, commits, model and configuration', () => {
    assert.deepStrictEqual(ids({ text: 's12' }), [12]);
    assert.deepStrictEqual(ids({ text: 'S1' }), [12, 10, 1]);
    assert.deepStrictEqual(ids({ text: hex(5, 40).slice(0, 10).toUpperCase() }), [5, 4]); // after of S4, before of S5
    assert.deepStrictEqual(ids({ text: 'GPT-4O' }), [7, 2]);
    assert.deepStrictEqual(ids({ text: 'refactor the parser' }), [7]);
    assert.deepStrictEqual(ids({ text: '"model": "broken' }), [8]);
    assert.deepStrictEqual(ids({ text: '   ' }), all.map((s) => s.id), 'blank text filters nothing');
    assert.deepStrictEqual(ids({ text: 'no such thing' }), []);
    assert.deepStrictEqual(ids({ text: "'; DROP TABLE steps; --" }), []);
    assert.deepStrictEqual(ids({ text: '%' }), [], 'no LIKE wildcards');
  });

  it('combines filters with activeOnly, paging and counts', () => {
    const filter = { failedOnly: true, model: 'gpt-4o', text: 'parser' };
    assert.deepStrictEqual(ids(filter), [7]);
    assert.deepStrictEqual(ids({ model: 'claude-3.5-sonnet' }), [12, 6, 5, 4, 3, 1]);
    assert.deepStrictEqual(ids({ model: 'claude-3.5-sonnet' }, { activeOnly: true }), [12, 6, 4, 3, 1]);
    assert.deepStrictEqual(ids({ model: 'claude-3.5-sonnet' }, { offset: 1, limit: 2 }), ids({ model: 'claude-3.5-sonnet' }).slice(1, 3));
    assert.strictEqual(store.stepCount('demo', { activeOnly: true, filter: { model: 'claude-3.5-sonnet' } }), ids({ model: 'claude-3.5-sonnet' }, { activeOnly: true }).length);
    assert.strictEqual(store.stepCount(undefined, { filter: { failedOnly: true } }), 5, 'all projects: S2, S3, S7, S10, S11');
    assert.strictEqual(store.stepCount('demo', { filter: {} }), all.length);
  });
});

describe('StepStore filters on the agent_config_name schema', () => {
  let dir: string;
  let store: StepStore;

  before(async () => {
    dir = makeTempDir();
    const db = path.join(dir, 'steps.db');
    const row = (id: number, name: string | null, exit: number) => {
      const r: Row = { ...stepRow(id, { agent_config_name: name, exit_code: exit }) };
      delete r.agent_config_json;
      return r;
    };
    await writeWithSqlite(db, LAFORGE_NAME_SCHEMA, [row(1, 'implementer', 0), row(2, 'reviewer', 1), row(3, null, 1), row(4, 'Implementer', 0)]);
    store = await StepStore.open(db);
  });
  after(() => {
    store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('takes the model from agent_config_name, and searches it', () => {
    assert.deepStrictEqual(store.models('demo'), ['Implementer', 'implementer', 'reviewer']);
    assert.deepStrictEqual(store.steps('demo', { filter: { model: 'implementer' } }).map((s) => s.id), [1]);
    assert.deepStrictEqual(store.steps('demo', { filter: { text: 'IMPLEMENTER' } }).map((s) => s.id), [4, 1]);
    assert.deepStrictEqual(store.steps('demo', { filter: { failedOnly: true } }).map((s) => s.id), [3, 2]);
  });
});
