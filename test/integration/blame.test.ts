/**
 * Which step wrote a line, in the editor on the demo workspace: the hover names the step git
 * blame and the fixture say last changed the line, a line the running step changed says it is
 * not committed yet, typing moves the owners without blaming again, a file over the size limit
 * gets no hover, the hover's link opens the step's details, and the current line's annotation
 * follows the cursor. Every expected owner comes from git or from how the workspace was made.
 */
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { StepHistoryApi } from '../../src/extension';
import type { StepDetailsView } from '../../src/shared/detailsProtocol';
import type { DemoWorkspace } from '../fixtures/demoWorkspace';
import { DEMO_DESCRIPTION, IN_DEMO } from './suites';
import { stepHistory, waitFor } from './support';

describe(IN_DEMO, function () {
  describe('step blame', function () {
    this.timeout(60_000);
    let api: StepHistoryApi;
    let demo: DemoWorkspace;
    let root: string;

    const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' });
    const file = (relative: string) => vscode.Uri.file(path.join(root, relative));

    /** Step History's hover on a line, as Markdown: the editor's other hovers (TypeScript's) left out. */
    async function hoverAt(uri: vscode.Uri, line: number): Promise<string | undefined> {
      const hovers = (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(line, 0))) ?? [];
      const texts = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : '')));
      return texts.find((t) => /^\*\*S\d+\*\*|^Not committed yet|No step made this commit/m.test(t));
    }

    /** The step whose recorded commit git blame names for a line of HEAD's file. */
    function stepOfLine(relative: string, line: number) {
      const sha = git('blame', '--porcelain', `-L${line + 1},${line + 1}`, 'HEAD', '--', relative).split(' ')[0];
      const step = demo.steps.find((s) => s.commitAfter === sha);
      assert.ok(step, `no demo step made ${sha}, which git blame names for ${relative}:${line + 1}`);
      return step;
    }

    /** The value `get` gives once it gives one. */
    async function until<T>(what: string, get: () => T | undefined | Promise<T | undefined>, ms = 20_000): Promise<T> {
      let value: T | undefined;
      await waitFor(what, async () => (value = await get()) !== undefined, ms);
      return value!;
    }

    const setting = (key: string, value: unknown) => vscode.workspace.getConfiguration('stepHistory.blame').update(key, value, vscode.ConfigurationTarget.Global);

    before(async () => {
      root = vscode.workspace.workspaceFolders![0].uri.fsPath;
      demo = JSON.parse(fs.readFileSync(path.join(root, DEMO_DESCRIPTION), 'utf8'));
      api = (await stepHistory().activate()) as StepHistoryApi;
      await waitFor('the demo database to be found', () => api.databases().length > 0, 30_000);
    });

    afterEach(async () => {
      await vscode.commands.executeCommand('workbench.action.files.revert');
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await setting('currentLineAnnotation', undefined);
      await setting('maxFileSizeKb', undefined);
    });

    it('names the step that last changed a line, with its title, model and tokens, and a line not committed yet', async () => {
      // The last active step that wrote src/money.ts made its first line; the running step's change is not committed.
      const writer = demo.steps.filter((s) => s.active && s.commitAfter && s.files.some((f) => f.path === 'src/money.ts')).pop()!;
      assert.strictEqual(stepOfLine('src/money.ts', 0).id, writer.id, 'git blame and the fixture agree');
      const uri = file('src/money.ts');
      await vscode.window.showTextDocument(uri);

      const hover = await until(`a hover naming ${writer.label}`, () => hoverAt(uri, 0));
      assert.ok(hover.startsWith(`**${writer.label}** · ${writer.title}`), hover);
      assert.ok(hover.includes(`**Model:** ${writer.model!.replace(/[-.]/g, (c) => `\\${c}`)}`), hover);
      assert.ok(hover.includes('**Tokens:**'), hover);
      assert.ok(hover.includes(`**Commit:** ${writer.commitAfter!.slice(0, 7)}`), hover);

      const head = git('show', 'HEAD:src/money.ts').split('\n');
      const lines = fs.readFileSync(uri.fsPath, 'utf8').split('\n');
      const changed = lines.findIndex((l) => !head.includes(l));
      assert.ok(changed > 0, 'the running step changed a line of src/money.ts');
      assert.strictEqual(await hoverAt(uri, changed), 'Not committed yet');
    });

    it("opens the step's details from the hover's link", async () => {
      const uri = file('src/money.ts');
      await vscode.window.showTextDocument(uri);
      const writer = stepOfLine('src/money.ts', 0);
      const hover = await until('the hover', () => hoverAt(uri, 0));
      const link = /\]\(command:stepHistory\.openDetails\?([^)]*)\)/.exec(hover);
      assert.ok(link, hover);
      const args = JSON.parse(decodeURIComponent(link[1])) as unknown[];
      await vscode.commands.executeCommand('stepHistory.openDetails', ...args);
      await waitFor(`details of ${writer.label}`, () => {
        const posted = api.testing.details.lastPosted() as { type?: string; details?: StepDetailsView } | undefined;
        return posted?.type === 'details' && posted.details?.id === writer.id;
      }, 20_000);
    });

    it('moves the owners with typed lines without blaming again, and blames the reverted file anew', async () => {
      const uri = file('src/money.ts');
      const editor = await vscode.window.showTextDocument(uri);
      const writer = stepOfLine('src/money.ts', 0);
      await until('the hover', () => hoverAt(uri, 0));
      const blamed = api.testing.stepBlame.blameCount();

      assert.ok(await editor.edit((e) => e.insert(new vscode.Position(0, 0), '// one\n// two\n')));
      assert.strictEqual(await hoverAt(uri, 0), 'Not committed yet');
      assert.strictEqual(await hoverAt(uri, 1), 'Not committed yet');
      assert.ok((await hoverAt(uri, 2))?.startsWith(`**${writer.label}**`), 'the first line moved down two lines with its step');
      assert.ok(await editor.edit((e) => e.insert(new vscode.Position(2, 3), ' typed')));
      assert.strictEqual(await hoverAt(uri, 2), 'Not committed yet', 'a line typed in is not committed yet');
      assert.strictEqual(api.testing.stepBlame.blameCount(), blamed, 'typing ran no blame');

      await vscode.commands.executeCommand('workbench.action.files.revert');
      await waitFor('the reverted file to name its step again', async () => (await hoverAt(uri, 0))?.startsWith(`**${writer.label}**`) === true, 20_000);
    });

    it('gives no hover on a file over stepHistory.blame.maxFileSizeKb, and blames it once the limit allows', async () => {
      // The largest committed source file the running step left alone.
      const [relative] = git('ls-files', 'src')
        .split('\n')
        .filter((f) => f && !demo.uncommittedFiles.includes(f))
        .sort((a, b) => fs.statSync(path.join(root, b)).size - fs.statSync(path.join(root, a)).size);
      const uri = file(relative);
      assert.ok(fs.statSync(uri.fsPath).size > 1024, `${relative} is over 1 KB`);
      await setting('maxFileSizeKb', 1);
      await vscode.window.showTextDocument(uri);
      assert.strictEqual(await hoverAt(uri, 0), undefined);
      await setting('maxFileSizeKb', undefined);
      const writer = stepOfLine(relative, 0);
      const hover = await until(`the hover of ${relative} once it is under the limit`, () => hoverAt(uri, 0));
      assert.ok(hover.startsWith(`**${writer.label}**`), hover);
    });

    it('annotates the cursor line when stepHistory.blame.currentLineAnnotation is on, following the cursor', async () => {
      const uri = file('src/money.ts');
      const writer = stepOfLine('src/money.ts', 0);
      const editor = await vscode.window.showTextDocument(uri);
      await setting('currentLineAnnotation', true);
      editor.selection = new vscode.Selection(0, 0, 0, 0);
      const first = await until('the annotation on line 1', () => {
        const shown = api.testing.stepBlame.annotation();
        return shown?.line === 0 ? shown : undefined;
      });
      assert.ok(first.text.startsWith(`${writer.label} · ${writer.title} · `), first.text);
      assert.strictEqual(first.uri, uri.toString());

      const head = git('show', 'HEAD:src/money.ts').split('\n');
      const changed = fs.readFileSync(uri.fsPath, 'utf8').split('\n').findIndex((l) => !head.includes(l));
      editor.selection = new vscode.Selection(changed, 0, changed, 0);
      await waitFor('the annotation on the uncommitted line', () => api.testing.stepBlame.annotation()?.line === changed && api.testing.stepBlame.annotation()?.text === 'Not committed yet', 20_000);

      await setting('currentLineAnnotation', false);
      await waitFor('the annotation to be cleared', () => api.testing.stepBlame.annotation() === undefined, 20_000);
    });
  });
});
