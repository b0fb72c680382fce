/**
 * Runs the details page script (bundled as it ships) against a minimal DOM that records what
 * the page builds (test/support/recordingDom.ts). The DOM has no HTML parser at all, so
 * markup in a field can only ever appear as text; the test also checks the page's source (and
 * its DOM helpers, dom.ts) never reaches for one.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ChangedFile } from '../../src/core/git';
import { stepFromRow } from '../../src/core/model';
import { stepDetailsView } from '../../src/core/stepDetails';
import { StepStore } from '../../src/core/stepStore';
import type { HostMessage, PageMessage } from '../../src/shared/detailsProtocol';
import { makeTempDir, stepRow, UNTYPED_PROJECT_SCHEMA, writeProjectRows } from '../fixtures/stepFixtures';
import { bundlePage, runPage } from '../support/recordingDom';

const source = path.resolve(__dirname, '..', '..', 'src', 'webview', 'details.ts');

function loadPage() {
  return runPage<HostMessage, PageMessage>(bundlePage(source));
}

const html = '<img src=x onerror=alert(1)>';

function detailsWithHtml() {
  const step = stepFromRow(
    stepRow(12, { agent_config_json: JSON.stringify({ model: html, system_prompt: html, tools: [html] }), project_id: `<b>${html}</b>` }),
  );
  const files: ChangedFile[] = [{ path: `${html}.ts`, status: 'modified', added: 1, removed: 2, binary: false }];
  return stepDetailsView({
    database: { id: '/w/steps.db', label: 'steps.db' },
    step,
    commits: { ok: true, value: [{ sha: 'a'.repeat(40), subject: html, stepId: 'S12' }] },
    files: { ok: true, value: files },
  });
}

describe('details page', () => {
  it('shows times and token counts as the host wrote them, absolute and relative, formatting none itself', () => {
    const { root, receive } = loadPage();
    const step = stepFromRow(stepRow(12, { start_time: '2026-01-02 10:00:00', token_usage_json: JSON.stringify({ prompt_tokens: 41450, completion_tokens: 5836, total_tokens: 47286, cost: 0.2119 }) }));
    const details = stepDetailsView({
      database: { id: '/w/steps.db', label: 'steps.db' },
      step,
      commits: { ok: true, value: [] },
      files: { ok: true, value: [] },
      now: new Date('2026-01-31T10:00:00Z'),
    });
    receive({ type: 'details', details });
    const texts = root.texts();
    assert.ok(texts.includes('2026-01-02 10:00:00 UTC (29d ago)'), JSON.stringify(texts));
    for (const figure of ['41,450', '5,836', '47,286', '$0.21']) assert.ok(texts.includes(figure), `${figure} in ${JSON.stringify(texts)}`);
  });

  it('says ready first', () => {
    const { posted } = loadPage();
    assert.deepEqual(posted, [{ type: 'ready' }]);
  });

  it('shows HTML in a field literally, as text, creating no element from it', () => {
    const { root, receive } = loadPage();
    receive({ type: 'details', details: detailsWithHtml() });
    const texts = root.texts();
    assert.ok(texts.includes(html), 'the system prompt appears as literal text');
    assert.ok(texts.includes(`<b>${html}</b>`), 'the project id appears as literal text');
    assert.ok(texts.some((t) => t.includes(`${html}.ts`)), 'the file path appears as literal text');
    const tags = new Set(root.all().map((e) => e.tagName));
    assert.ok(!tags.has('img') && !tags.has('b') && !tags.has('script'), `unexpected elements: ${[...tags].join(', ')}`);
    const prompt = root.all().find((e) => e.tagName === 'pre');
    assert.equal(prompt?.textContent, html);
  });

  it('shows U+202E and NUL from the database as escapes, keeping the line breaks of a prompt', async () => {
    const dir = makeTempDir();
    const file = path.join(dir, 'steps.db');
    let step;
    try {
      // Written by the real SQLite engine: the project id holds U+202E and NUL, and so do JSON strings.
      await writeProjectRows(file, UNTYPED_PROJECT_SCHEMA, [`'evil' || char(8238) || char(0) || 'proj'`], [
        { agent_config_json: JSON.stringify({ model: 'o3\u202E', system_prompt: 'line one\u202E\nline\u0000two', tools: ['ba\u202Esh'] }) },
      ]);
      const store = await StepStore.open(file);
      [step] = store.steps(store.projects()[0].id);
      store.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const { root, receive } = loadPage();
    const details = stepDetailsView({
      database: { id: file, label: 'steps.db' },
      step,
      commits: { ok: true, value: [{ sha: 'a'.repeat(40), subject: 'fix\u202Eit', stepId: 'S1' }] },
      files: { ok: true, value: [{ path: 'src/\u202Etxt.exe', status: 'modified', added: 1, removed: 0, binary: false }] },
    });
    receive({ type: 'details', details });
    const texts = root.texts();
    const titles = root.all().map((e) => e.title).filter((t): t is string => typeof t === 'string');
    for (const shown of [...texts, ...titles]) assert.ok(!/[\u0000\u202E]/.test(shown), `raw control character in ${JSON.stringify(shown)}`);
    for (const expected of ['evil\\u202E\\u0000proj', 'o3\\u202E', 'ba\\u202Esh', 'fix\\u202Eit']) {
      assert.ok(texts.includes(expected), `missing ${JSON.stringify(expected)} in ${JSON.stringify(texts)}`);
    }
    assert.ok(root.all().some((e) => e.tagName === 'button' && e.textContent === 'src/\\u202Etxt.exe'), 'the file button');
    assert.ok(titles.includes('Open the changes of src/\\u202Etxt.exe'), 'the file button title');
    assert.equal(root.all().find((e) => e.tagName === 'pre')?.textContent, 'line one\\u202E\nline\\u0000two');
  });

  it('shows the sections, and a git failure as a sentence in its section', () => {
    const { root, receive } = loadPage();
    const details = { ...detailsWithHtml(), commits: { state: 'error' as const, message: 'The folder /gone does not exist.' } };
    receive({ type: 'details', details });
    const headings = root.all().filter((e) => e.tagName === 'h2').map((e) => e.textContent);
    assert.deepEqual(headings, ['Overview', 'Agent', 'Tokens and cost', 'Commits', 'Changed files (1)']);
    assert.ok(root.texts().includes('The folder /gone does not exist.'));
  });

  it('asks the host to open a file, the parent step and the whole change, with real buttons and links', () => {
    const { root, posted, receive } = loadPage();
    receive({ type: 'details', details: detailsWithHtml() });
    const fileButton = root.all().find((e) => e.tagName === 'button' && e.textContent === `${html}.ts`);
    assert.ok(fileButton, 'the file is a button');
    fileButton.click();
    const parent = root.all().find((e) => e.tagName === 'a' && e.textContent === 'S11');
    assert.ok(parent && parent.href === '#', 'the parent is a link');
    parent.click();
    root.all().find((e) => e.tagName === 'button' && e.textContent === 'Show Changes')?.click();
    root.all().find((e) => e.tagName === 'a' && e.textContent === 'Show Analytics')?.click();
    assert.deepEqual(posted.slice(1), [
      { type: 'openFile', stepId: 12, path: `${html}.ts` },
      { type: 'openStep', stepId: 11 },
      { type: 'showChanges', stepId: 12 },
      { type: 'showAnalytics' },
    ]);
  });

  it("shows tokens not recorded, the log's figures marked, its final message as text, and asks the host to open the log", () => {
    const { root, posted, receive } = loadPage();
    const step = stepFromRow(stepRow(21, { token_usage_json: '{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0,"cost":0}' }));
    const details = stepDetailsView({
      database: { id: '/w/steps.db', label: 'steps.db' },
      step,
      commits: { ok: true, value: [] },
      files: { ok: true, value: [] },
      log: { summary: { outcome: 'success', reason: null, turns: 12, durationMs: 85_300, costUsd: 0.4213, finalMessage: `Done: ${html}` } },
    });
    receive({ type: 'details', details });
    const texts = root.texts();
    for (const expected of ['Not recorded', '$0.42 (from the log)', '12 (from the log)', '1m 25s (from the log)', 'Success (from the log)', 'Final message']) {
      assert.ok(texts.includes(expected), `missing ${JSON.stringify(expected)} in ${JSON.stringify(texts)}`);
    }
    assert.ok(!texts.includes('$0.00') && !texts.includes('Prompt') && !texts.includes('Completion'), 'no zero figures');
    assert.equal(root.all().find((e) => e.tagName === 'pre')?.textContent, `Done: ${html}`, 'the final message is text');
    root.all().find((e) => e.tagName === 'button' && e.textContent === 'Open Step Log')?.click();
    assert.deepEqual(posted.slice(1), [{ type: 'openLog', stepId: 21 }]);

    // Without a log: no button.
    receive({ type: 'details', details: { ...details, log: null } });
    assert.ok(!root.all().some((e) => e.tagName === 'button' && e.textContent === 'Open Step Log'));
  });

  it('never asks the browser to parse HTML', () => {
    const text = [source, path.join(path.dirname(source), 'dom.ts')].map((f) => fs.readFileSync(f, 'utf8')).join('\n');
    for (const sink of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'DOMParser', 'createContextualFragment', 'srcdoc']) {
      assert.ok(!text.includes(sink), `the page uses ${sink}`);
    }
  });
});
