import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { stepFromRow } from '../../src/core/model';
import type { RollbackJournal, RollbackPlan } from '../../src/core/rollback';
import { StepStore } from '../../src/core/stepStore';
import { codeSpan, confirmationDetail, passingStateSentences, pendingSentence, planMarkdown, PLAN_LIST_LIMIT, stepRange, undoSentence } from '../../src/ui/rollbackText';
import { quietPlan } from '../fixtures/rollbackPlans';
import { makeTempDir, stepRow, UNTYPED_PROJECT_SCHEMA, writeProjectRows } from '../fixtures/stepFixtures';

// markdown-it is the renderer of VS Code's Markdown preview, where the plan is shown.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const MarkdownIt = require('markdown-it') as new (options?: object) => { render(text: string): string };
// The preview's own options: HTML allowed, links made from bare URLs.
const render = (markdown: string) => new MarkdownIt({ html: true, linkify: true }).render(markdown);

const HOSTILE = '<img src=x onerror="alert(1)"> [click](command:evil) **bold** `tick` $x$';

function plan(overrides: Partial<RollbackPlan> = {}): RollbackPlan {
  const later = [20, 21, 22].map((id) => stepFromRow(stepRow(id, { project_id: 'ledgerline' })));
  return quietPlan(later, {
    filesToChange: [{ path: 'src/a.ts', status: 'modified', added: 3, removed: 1, binary: false }],
    protectedPaths: ['steps.db', 'steps.db-wal', 'steps.db-shm', 'steps.db-journal'],
    summary: 'Roll back ledgerline to S20: S20–S22 are marked rolled back and main is reset to 0000014.',
    ...overrides,
  });
}

describe('rollback text', () => {
  it('names a run of steps as a range, and others one by one', () => {
    assert.strictEqual(stepRange([22, 20, 21]), 'S20–S22');
    assert.strictEqual(stepRange([7]), 'S7');
    assert.strictEqual(stepRange([3, 5, 9]), 'S3, S5, S9');
    assert.strictEqual(stepRange([]), 'no steps');
  });

  it('keeps backticks and line breaks inside a code span', () => {
    assert.strictEqual(codeSpan('a.ts'), '`a.ts`');
    assert.strictEqual(codeSpan('a`b'), '``a`b``');
    assert.strictEqual(codeSpan('`x`'), '`` `x` ``');
    assert.strictEqual(codeSpan('one\ntwo'), '`one two`');
    assert.match(render(codeSpan('a``b')), /<code>a``b<\/code>/);
  });

  it('lists what the plan found under its headings', () => {
    const md = planMarkdown(
      plan({
        needsProtection: true,
        unstaged: [{ path: 'src/b.ts', status: 'modified' }],
        staged: [{ path: 'src/c.ts', status: 'added' }],
        untrackedOverwritten: ['notes/x.md'],
        untrackedKept: ['scratch.txt'],
        ignoredOverwritten: ['dist/out.js'],
        foreignCommits: [{ sha: 'a'.repeat(40), subject: 'Hand-made fix' }],
        runningSteps: [stepFromRow(stepRow(22, { end_time: null, commit_sha_after: null }))],
      }),
      { databaseLabel: 'steps.db' },
    );
    for (const expected of [
      '# Roll back ledgerline to before S20',
      '## Steps marked rolled back (3)',
      '## Files that change (1)',
      '`src/a.ts` — modified (+3 −1)',
      '## Uncommitted changes (2)',
      '`src/b.ts`',
      '`src/c.ts`',
      '## Untracked files a reset would overwrite (1)',
      '`notes/x.md`',
      '`scratch.txt`',
      '## Ignored files a reset would overwrite (1)',
      '`dist/out.js`',
      '## Commits no step recorded (1)',
      '`aaaaaaa` Hand',
      '**S22** is still running',
      '## Your work is kept safe first',
      `\`main\` moves from \`fffffff\` to \`${stepFromRow(stepRow(20)).commitBefore!.slice(0, 7)}\``,
    ]) {
      assert.ok(md.includes(expected), `missing ${JSON.stringify(expected)} in:\n${md}`);
    }
    assert.ok(!md.includes('## Refused'));
  });

  it('puts refusals first, with their remedies', () => {
    const md = planMarkdown(
      plan({ refusals: [{ code: 'STEP_RUNNING', message: 'S22 is still running.', remedy: 'Wait for it to finish.' }] }),
      { databaseLabel: 'steps.db' },
    );
    const html = render(md);
    assert.ok(md.indexOf('## Refused') >= 0 && md.indexOf('## Refused') < md.indexOf('## Steps a rollback would mark rolled back'), 'refusals come before the details');
    assert.ok(!md.includes('## Steps marked rolled back'), 'a refused plan marks nothing');
    assert.match(html, /S22 is still running\./);
    assert.match(html, /Wait for it to finish\./);
  });

  it('says what a rollback waits for while a step runs or the database is busy, and when it is over', () => {
    const running = (...ids: number[]) => ids.map((id) => stepFromRow(stepRow(id, { end_time: null, commit_sha_after: null })));
    const busy = { code: 'DATABASE_BUSY' as const, message: 'The step database is busy: another program has it open: python3 (pid 42).', remedy: 'Wait.' };
    assert.deepStrictEqual(passingStateSentences(plan({ runningSteps: running(22) })), {
      waiting: 'S22 is still running. Waiting for it to finish before you can roll back to S20…',
      over: 'S22 has finished: you can roll back to S20 now.',
    });
    assert.deepStrictEqual(passingStateSentences(plan({ runningSteps: running(21, 22) })), {
      waiting: 'S21, S22 are still running. Waiting for them to finish before you can roll back to S20…',
      over: 'S21, S22 have finished: you can roll back to S20 now.',
    });
    assert.deepStrictEqual(passingStateSentences(plan({ refusals: [busy] })), {
      waiting: 'The step database is busy: another program has it open: python3 (pid 42). Waiting for it to be free before you can roll back to S20…',
      over: 'The step database is free again: you can roll back to S20 now.',
    });
    assert.deepStrictEqual(passingStateSentences(plan({ runningSteps: running(22), refusals: [busy] })), {
      waiting: 'S22 is still running and the step database is busy. Waiting for them to end before you can roll back to S20…',
      over: 'S22 has finished and the step database is free: you can roll back to S20 now.',
    });
  });

  it('shows HTML and Markdown from the database and from git as text', () => {
    const hostileStep = stepFromRow(
      stepRow(21, { project_id: 'ledgerline', agent_config_json: JSON.stringify({ model: HOSTILE, metadata: { task: HOSTILE } }) }),
    );
    const md = planMarkdown(
      plan({
        target: { dbPath: '/w/steps.db', repositoryPath: '/w/<b>repo</b>', projectId: '<i>proj</i>', stepId: 20 },
        stepsToDeactivate: [hostileStep],
        branch: 'feat/<script>x</script>',
        filesToChange: [{ path: '<img src=x>.ts', oldPath: 'a`b.ts', status: 'renamed', added: 0, removed: 0, binary: false }],
        unstaged: [{ path: '[x](command:y)', status: 'modified' }],
        untrackedOverwritten: ['<svg onload=alert(1)>'],
        foreignCommits: [{ sha: 'b'.repeat(40), subject: HOSTILE }],
        summary: `Roll back ${HOSTILE}.`,
      }),
      { databaseLabel: '<u>db</u>' },
    );
    const html = render(md);
    // No element and no link comes from the data: only the plan's own tags.
    const tags = new Set([...html.matchAll(/<([a-z0-9]+)[\s>]/g)].map((m) => m[1]));
    for (const tag of tags) assert.ok(['h1', 'h2', 'p', 'ul', 'li', 'strong', 'code'].includes(tag), `unexpected <${tag}> in:\n${html}`);
    assert.ok(!/href=/.test(html), 'no link');
    assert.ok(html.includes('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'), 'the hostile text is shown as text');
    assert.ok(html.includes('<code>a`b.ts</code>'), 'a backtick in a path stays in its code span');
    assert.ok(!/^#/m.test(md.replace(/^#+ (Roll back|Refused|Your work|Steps|Branch|Files|Uncommitted|Untracked|Commits|Running|The step database|The task database)/gm, '')), 'no heading from data');
  });

  it('shows control characters from the database and from git as escapes, and names a project id that is not text', async () => {
    const dir = makeTempDir();
    const file = path.join(dir, 'steps.db');
    try {
      // Written by the real SQLite engine: a text project id with U+202E and NUL, and one that is an integer.
      await writeProjectRows(file, UNTYPED_PROJECT_SCHEMA, [`'ledger' || char(8238) || char(0) || 'line'`, '42'], [
        { agent_config_json: JSON.stringify({ model: 'o3\u202E', metadata: { task: 'fix\u0000it' } }) },
      ]);
      const store = await StepStore.open(file);
      const [numbered, text] = store.projects();
      const step = store.steps(text.id)[0];
      const other = store.steps(numbered.id)[0];
      store.close();
      assert.strictEqual(text.id, 'ledger\u202E\u0000line');
      const md = planMarkdown(
        plan({
          target: { dbPath: file, repositoryPath: '/w', projectId: text.id, stepId: step.id },
          step,
          stepsToDeactivate: [step],
          branch: 'feat\u202E',
          filesToChange: [{ path: 'src/\u202Etxt.exe', status: 'modified', added: 1, removed: 0, binary: false }],
          foreignCommits: [{ sha: 'b'.repeat(40), subject: 'evil\u0000\u202E' }],
        }),
        { databaseLabel: 'steps.db' },
      );
      assert.ok(!/[\u0000\u202E]/.test(md), `no raw control character in:\n${md}`);
      const html = render(md);
      for (const expected of [
        '<h1>Roll back ledger\\u202E\\u0000line to before S1</h1>',
        '<strong>S1</strong>',
        'o3\\u202E — fix\\u0000it',
        '<code>feat\\u202E</code>',
        '<code>src/\\u202Etxt.exe</code>',
        '<code>bbbbbbb</code> evil\\u0000\\u202E',
      ]) {
        assert.ok(html.includes(expected), `missing ${JSON.stringify(expected)} in:\n${html}`);
      }
      const otherMd = planMarkdown(plan({ target: { dbPath: file, repositoryPath: '/w', projectId: numbered.id, stepId: 2 }, step: other }), { databaseLabel: 'steps.db' });
      assert.ok(otherMd.startsWith('# Roll back 42 to before S2\n'), otherMd.split('\n')[0]);
      const journal = { target: { projectId: text.id }, stepLabel: 'S1', phase: 'planned', branch: 'feat\u202E', stepIds: [1], oldHead: 'c'.repeat(40) } as RollbackJournal;
      assert.strictEqual(pendingSentence(journal), 'A rollback of ledger\\u202E\\u0000line to S1 stopped half-way (before anything changed).');
      assert.match(undoSentence(journal), /^Undoing the rollback of ledger\\u202E\\u0000line to S1 returns feat\\u202E to ccccccc,/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cuts long lists and says how many more', () => {
    const files = Array.from({ length: PLAN_LIST_LIMIT + 5 }, (_, i) => ({ path: `f${i}.ts`, status: 'modified' as const, added: 1, removed: 0, binary: false }));
    const md = planMarkdown(plan({ filesToChange: files }), { databaseLabel: 'steps.db' });
    assert.ok(md.includes(`## Files that change (${PLAN_LIST_LIMIT + 5})`));
    assert.ok(md.includes('… and 5 more'));
    assert.ok(!md.includes(`f${PLAN_LIST_LIMIT}.ts`));
  });

  it('says in the confirmation what is stashed and which commits are kept', () => {
    const detail = confirmationDetail(
      plan({
        needsProtection: true,
        unstaged: [{ path: 'src/b.ts', status: 'modified' }],
        untrackedOverwritten: ['notes/x.md'],
        untrackedKept: ['scratch.txt'],
        foreignCommits: [{ sha: 'a'.repeat(40), subject: 'Hand-made fix' }],
      }),
    );
    assert.match(detail, /S20–S22 are marked rolled back; 1 file change/);
    assert.match(detail, /Stashed first.*1 uncommitted change \(src\/b\.ts\) and 1 untracked file the reset would overwrite/);
    assert.match(detail, /backup ref.*1 commit no step recorded: aaaaaaa Hand-made fix/);
    assert.doesNotMatch(confirmationDetail(plan()), /Stashed|backup ref/);
  });

  it('words the undo confirmation and the recovery notice', () => {
    const journal: RollbackJournal = {
      id: 'j1',
      createdAt: '2026-01-01T00:00:00Z',
      phase: 'git-reset',
      target: { dbPath: '/w/steps.db', repositoryPath: '/w', projectId: 'ledgerline', stepId: 12 },
      stepLabel: 'S12',
      stepIds: [12, 13, 14],
      branch: 'main',
      oldHead: 'c'.repeat(40),
      resetTo: 'd'.repeat(40),
      backupRef: 'refs/step-history/backup/1',
      stashRef: 'refs/step-history/stash/1',
      database: { size: 1, mtimeMs: 0, changeCounter: 1 },
      protect: true,
      updatedAt: '2026-01-01T00:00:01Z',
    };
    assert.strictEqual(
      pendingSentence(journal),
      'A rollback of ledgerline to S12 stopped half-way (after the branch was reset, before the database was written).',
    );
    assert.strictEqual(
      undoSentence(journal),
      'Undoing the rollback of ledgerline to S12 returns main to ccccccc, marks S12–S14 active again, and re-applies the work kept in the stash.',
    );
    assert.ok(!undoSentence({ ...journal, stashRef: undefined }).includes('stash'));
  });

  it('says what happens to the step database inside the work tree: untracked, tracked, with a leftover log', () => {
    const untracked = planMarkdown(plan(), { databaseLabel: 'steps.db' });
    assert.match(untracked, /## The step database\n\nInside the work tree: `steps.db`\. No stash, reset or checkout takes, moves or overwrites the database/);
    assert.doesNotMatch(untracked, /Git tracks/);
    assert.doesNotMatch(untracked, /write-ahead log/);
    const tracked = planMarkdown(plan({ protectedKept: ['steps.db'], leftoverWal: true }), { databaseLabel: 'steps.db' });
    assert.match(tracked, /Git tracks `steps.db` \(or the reset target has it\): a reset would put an old version in its place, so its current bytes are kept/);
    assert.match(tracked, /write-ahead log was left by a program that has exited: it is folded into the database file/);
    const outside = planMarkdown(plan({ protectedPaths: [] }), { databaseLabel: 'steps.db' });
    assert.doesNotMatch(outside, /## The step database/);
  });

  it('names the older LaForge task database backup and says it is restored only when chosen, and undone by Undo', () => {
    const md = planMarkdown(plan({ taskDatabase: { backup: '/p/tasks-S20.db', current: '/p/tasks.db' } }), { databaseLabel: 'steps.db' });
    assert.match(md, /## The task database\n\n`tasks-S20.db`, the copy of the task database LaForge made before S20, is beside the step database\. The confirmation offers to put it in place of `tasks.db`/);
    assert.match(md, /\*\*Undo Last Rollback\*\* puts it back/);
    assert.doesNotMatch(planMarkdown(plan(), { databaseLabel: 'steps.db' }), /## The task database/);
  });
});
