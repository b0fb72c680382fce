/**
 * Step titles and project names on a real LaForge-at-HEAD project: each step's label carries
 * its own commit's first line, a step without a commit (or with LaForge's default message)
 * takes its log's final message, the project is named by project.json, and the first lines are
 * read in a constant number of git processes, cached per commit.
 */
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import { CommitSubjects } from '../../src/core/commitSubjects';
import { GitError } from '../../src/core/errors';
import { GitRepository } from '../../src/core/git';
import { laforgeProjectNames } from '../../src/core/laforgeProject';
import { silentLogger } from '../../src/core/log';
import { stepFromRow } from '../../src/core/model';
import { StepCommitResolver } from '../../src/core/stepCommits';
import { listStepLogs, StepLogSummaries, stepLogsFolder } from '../../src/core/stepLog';
import { StepStore } from '../../src/core/stepStore';
import { projectItemText, stepLabel, stepPickText, stepTitle } from '../../src/ui/format';
import { planMarkdown } from '../../src/ui/rollbackText';
import type { StepDatabase, StepDatabases } from '../../src/core/stepDatabase';
import { StepsTreeModel } from '../../src/ui/stepsTreeModel';
import { stepTitles } from '../../src/ui/stepTitles';
import type { ProjectNode, StepNode } from '../../src/ui/treeNodes';
import { makeLaforgeToday, type LaforgeFixture, type LaforgeFixtureStep } from '../fixtures/laforgeToday';
import { quietPlan } from '../fixtures/rollbackPlans';
import { recordingLogger } from '../fixtures/recordingLogger';
import { makeTempDir, stepRow } from '../fixtures/stepFixtures';
import { storeDatabase } from '../fixtures/storeDatabase';

const NOW = new Date('2026-11-20T17:00:00Z');
const firstLine = (text: string) => text.split('\n')[0];

/** What the label must say, from what the fixture did: COMMIT.md's first line, else the log's final message. */
function expectedLabel(step: LaforgeFixtureStep, commitMd: (step: LaforgeFixtureStep) => string | null): string {
  const md = step.commit ? commitMd(step) : null;
  if (md) return `${step.label} · ${firstLine(md)}`;
  if (step.logSummary) return `${step.label} · ${firstLine(step.finalMessage)}`;
  return step.label;
}

describe('step titles on a LaForge project', function () {
  let fx: LaforgeFixture;
  let root: string;
  let store: StepStore;
  /** The message each step's commit was made with: its title, a COMMIT.md with a body, or none (LaForge's default). */
  let commitMd: (step: LaforgeFixtureStep) => string | null;

  before(async () => {
    root = makeTempDir();
    fx = makeLaforgeToday({ root, now: NOW });
    store = await StepStore.open(fx.dbPath);
    const message = (sha: string) =>
      execFileSync('git', ['log', '-1', '--format=%B', sha], { cwd: fx.repoPath, encoding: 'utf8' }).trim();
    commitMd = (step) => {
      if (!step.commit) return null;
      const text = message(step.commit);
      return /^LaForge step S\d+ - Automated changes$/.test(text) ? null : text;
    };
  });
  after(() => {
    store?.close();
    fx?.rm();
    fs.rmSync(root, { recursive: true, force: true });
  });

  /** A StepDatabase over the real store, git repository and project folder, logging to `log`. */
  async function database(log = silentLogger): Promise<StepDatabase> {
    const repo = await GitRepository.open(fx.repoPath, { log });
    const resolver = new StepCommitResolver(repo, log);
    const subjects = new CommitSubjects(repo);
    return {
      ...storeDatabase(store),
      repositoryPath: fx.repoPath,
      repository: async () => repo,
      stepCommit: async (step) => (await resolver.index()).resolve(step),
      commitSubjects: (commits) => subjects.of(commits),
    };
  }

  function databasesOf(db: StepDatabase): StepDatabases {
    const none = () => ({ dispose() {} });
    return { all: [db], get: (id: string) => (id === db.id ? db : undefined), discovered: true, onDidChangeDatabases: none, onDidChangeDatabase: none, refresh: async () => undefined, add: async () => db, dispose() {} } as unknown as StepDatabases;
  }

  it('reads the first line of each commit, leaves out one git does not have, and refuses a value that is not a hash', async () => {
    const repo = await GitRepository.open(fx.repoPath);
    const committed = fx.steps.filter((s) => s.commit);
    const missing = 'abcdef0123456789abcdef0123456789abcdef01';
    const lines = await repo.commitFirstLines([...committed.map((s) => s.commit!), missing]);
    for (const step of committed) {
      assert.strictEqual(lines.get(step.commit!), firstLine(commitMd(step) ?? `LaForge step ${step.label} - Automated changes`), step.label);
    }
    assert.strictEqual(lines.has(missing), false);
    await assert.rejects(repo.commitFirstLines(['--output=/tmp/x']), (err: unknown) => err instanceof GitError && err.code === 'INVALID_COMMIT');
  });

  it('labels each step by its commit, else its log, and the project by project.json, in one git process for the first lines', async () => {
    const log = recordingLogger();
    const db = await database(log);
    const model = new StepsTreeModel(databasesOf(db), { pageSize: 50, showRolledBack: true }, silentLogger);
    const [project] = (await model.getChildren()) as ProjectNode[];
    const json = JSON.parse(fs.readFileSync(fx.projectJsonPath, 'utf8')) as { id: string; name: string };
    const text = projectItemText({ ...project.project, name: project.name }, db, false);
    assert.strictEqual(text.label, json.name);
    assert.ok(text.tooltip.includes(`Project id: ${fx.projectId}`), text.tooltip);

    const nodes = (await model.getChildren(project)).filter((n): n is StepNode => n.kind === 'step');
    assert.strictEqual(nodes.length, fx.steps.length);
    const logs = await listStepLogs(stepLogsFolder(fx.dbPath));
    const summaries = new StepLogSummaries();
    for (const node of nodes) {
      const expected = fx.steps.find((s) => s.id === node.step.id)!;
      const file = logs.get(node.step.id);
      const summary = file ? await summaries.summary(file) : null;
      const label = stepLabel(node.step, stepTitle(node.subject, summary?.finalMessage));
      assert.strictEqual(label, expectedLabel(expected, commitMd), `${expected.label} (${expected.outcome})`);
    }
    // The scenario has steps of every kind: with a commit, without one, and with LaForge's default message.
    assert.ok(fx.steps.some((s) => s.commit && commitMd(s)));
    assert.ok(fx.steps.some((s) => !s.commit && s.logSummary));
    assert.ok(fx.steps.some((s) => s.commit && !commitMd(s)));

    const firstLineReads = () => log.lines.filter((l) => l.level === 'debug' && /^\[git\] git .*log --no-walk/.test(l.message)).length;
    assert.strictEqual(firstLineReads(), 1, 'one git process for every step of the page');
    model.refreshAll();
    await model.getChildren(project);
    assert.strictEqual(firstLineReads(), 1, 'known commits are not read again');
  });

  it('titles steps for quick picks and the rollback plan the same way', async () => {
    const db = await database();
    const steps = await store.steps(fx.projectId, { limit: 500 });
    const titles = await stepTitles(db, steps, silentLogger);
    for (const step of steps) {
      const expected = fx.steps.find((s) => s.id === step.id)!;
      assert.strictEqual(stepPickText(step, { project: fx.projectId, title: titles.get(step.id) }).label, expectedLabel(expected, commitMd), expected.label);
    }
    const later = steps.filter((s) => s.id >= 2 && s.status !== 'RUNNING').reverse();
    const plan = quietPlan(later, {
      target: { dbPath: fx.dbPath, repositoryPath: fx.repoPath, projectId: fx.projectId, stepId: 2 },
      head: fx.head,
      summary: 'Roll back to S2.',
    });
    const md = planMarkdown(plan, { databaseLabel: 'steps.db', titles });
    for (const step of later) {
      const expected = fx.steps.find((s) => s.id === step.id)!;
      // The plan is Markdown: its text escaped, so compare with the escaped label.
      const label = expectedLabel(expected, commitMd).replace(/[\\`*_{}[\]()#+\-.!|<>~&$:]/g, (c) => `\\${c}`);
      assert.ok(md.includes(`- **${label}** · `), `${expected.label} in the plan:\n${md}`);
    }
  });
});

describe('step titles and project names', () => {
  it('takes the first line, skips LaForge\'s default message for the log\'s, and cuts a long one in the label', () => {
    assert.strictEqual(stepTitle('Add CSV import\n\nWith a header row.'), 'Add CSV import');
    assert.strictEqual(stepTitle('LaForge step S3 - Automated changes', 'Done: the README.\nMore.'), 'Done: the README.');
    assert.strictEqual(stepTitle('LaForge step S3 - Automated changes'), 'LaForge step S3 - Automated changes');
    assert.strictEqual(stepTitle(null, '\n\nReviewed it.'), 'Reviewed it.');
    assert.strictEqual(stepTitle(null, ''), undefined);
    assert.strictEqual(stepTitle('Colour \u001b[34mblue'), 'Colour \\u001B[34mblue');
    const step = stepFromRow(stepRow(12));
    assert.strictEqual(stepLabel(step, undefined), 'S12');
    const long = stepLabel(step, 'x'.repeat(300));
    assert.ok(long.startsWith('S12 · x') && long.endsWith('…') && long.length === 'S12 · '.length + 100, long);
  });

  it('names the project whose id project.json gives, or the only one', () => {
    const json = { id: 'tidewater', name: 'Tidewater' };
    assert.deepStrictEqual([...laforgeProjectNames(json, ['tidewater', 'other'])], [['tidewater', 'Tidewater']]);
    assert.deepStrictEqual([...laforgeProjectNames({ id: 'renamed', name: 'Tidewater' }, ['tidewater'])], [['tidewater', 'Tidewater']]);
    assert.deepStrictEqual([...laforgeProjectNames({ id: 'renamed', name: 'Tidewater' }, ['a', 'b'])], []);
    assert.deepStrictEqual([...laforgeProjectNames(undefined, ['a'])], []);
  });
});
