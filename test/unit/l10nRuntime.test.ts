/**
 * The extension's own words at run time go through `vscode.l10n.t`, so a bundle
 * (`l10n/bundle.l10n.<locale>.json`) can translate them: every notification, quick pick,
 * input box, progress title and tree item command of `src/ui/` that is given text written in
 * the code. `l10n/bundle.l10n.json` (the English source of translations, written by
 * `npm run l10n`) must hold exactly the strings the code asks for.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const uiDir = path.join(root, 'src', 'ui');

/** Where the editor shows text handed to it: the call or property, then the text. */
const PLACES: { what: string; pattern: RegExp }[] = [
  { what: 'a notification', pattern: /show(?:Information|Warning|Error)Message\(\s*(?=['"`])/g },
  { what: 'a title', pattern: /(?<![\w.])title: (?=['"`])/g },
  { what: 'a placeholder', pattern: /placeHolder: (?=['"`])/g },
  { what: 'a prompt', pattern: /prompt: (?=['"`])/g },
  { what: 'a modal\'s detail', pattern: /modal: true, detail: (?=['"`])/g },
  { what: 'a progress title', pattern: /this\.(?:withProgress|run)\((?=['"`])/g },
  { what: 'a button', pattern: /^(?:export )?const [A-Z_]+ = (?=['"`][A-Z])/gm },
  { what: 'a quick pick item or label', pattern: /(?<![\w.])label: (?=['"`])/g },
  { what: 'a description', pattern: /\.description = (?=['"`])/g },
  { what: 'a status bar text', pattern: /\.(?:text|name) = (?=['"`])/g },
];

/** A row of the Steps view that explains instead of showing data, made by treeNodes.message: its sentence. */
const ROWS = { what: 'a tree row', pattern: /\bmessage\(\s*`[^`]*`,\s*(?=['"`])/g };

/** The places in one file's text where the editor is handed text that bypasses l10n. */
export function bypasses(source: string, places = PLACES): { what: string; line: number; text: string }[] {
  const found: { what: string; line: number; text: string }[] = [];
  for (const { what, pattern } of places) {
    for (const m of source.matchAll(pattern)) {
      const at = m.index! + m[0].length;
      const line = source.slice(0, at).split('\n').length;
      found.push({ what, line, text: source.slice(at, source.indexOf('\n', at)).slice(0, 80) });
    }
  }
  return found;
}

/** Files of src/ui that import vscode as a value: they can call vscode.l10n.t. */
function editorFiles(): string[] {
  return fs
    .readdirSync(uiDir)
    .filter((f) => f.endsWith('.ts'))
    .filter((f) => /^import \* as vscode from 'vscode';$/m.test(fs.readFileSync(path.join(uiDir, f), 'utf8')));
}

describe('l10n: the runtime strings of the editor', () => {
  it('finds the editor files it checks', () => {
    const files = editorFiles();
    for (const f of ['diffs.ts', 'rollback.ts', 'showError.ts', 'stepsTree.ts', 'treeCommands.ts', 'statusBar.ts']) assert.ok(files.includes(f), `${f} is checked`);
  });

  it('hands the editor no text written in the code without vscode.l10n.t', () => {
    const offenders = editorFiles().flatMap((f) => bypasses(fs.readFileSync(path.join(uiDir, f), 'utf8')).map((b) => `${f}:${b.line} ${b.what}: ${b.text}`));
    assert.deepEqual(offenders, []);
  });

  it('writes the Steps view\'s explaining rows through l10n.t, in every module of src/ui', () => {
    const files = fs.readdirSync(uiDir).filter((f) => f.endsWith('.ts'));
    const offenders = files.flatMap((f) => bypasses(fs.readFileSync(path.join(uiDir, f), 'utf8'), [ROWS]).map((b) => `${f}:${b.line} ${b.what}: ${b.text}`));
    assert.deepEqual(offenders, []);
    assert.equal(bypasses("message(`${id}|empty`, 'No steps yet.', 'info')", [ROWS]).length, 1, 'a bare sentence is caught');
    assert.equal(bypasses("message(`${id}|empty`, l10n.t('No steps yet.'), 'info')", [ROWS]).length, 0);
  });

  it('catches each kind of bypass in a sample', () => {
    const sample = [
      "void vscode.window.showInformationMessage('Done.');",
      'void vscode.window.showWarningMessage(`${label} moved.`);',
      "await pickStep(databases, { title: 'Pick', placeHolder: 'One step' });",
      "await vscode.window.showInputBox({ prompt: 'Text' });",
      "await vscode.window.showWarningMessage(summary, { modal: true, detail: 'Why' });",
      "await this.withProgress('Reading…', read);",
      "export const ROLL_BACK = 'Roll Back';",
      "void vscode.window.showInformationMessage(vscode.l10n.t('Fine.'));",
      "const key = 'stepHistory.x';",
      "choices.push({ label: 'Commit before' });",
      "item.description = `${n} shown`;",
      "item.text = '$(history) S1';",
    ].join('\n');
    assert.deepEqual(
      bypasses(sample).map((b) => b.what).sort(),
      ['a button', 'a modal\'s detail', 'a notification', 'a notification', 'a placeholder', 'a progress title', 'a prompt', 'a title', 'a quick pick item or label', 'a description', 'a status bar text'].sort(),
    );
  });

  it('keeps l10n/bundle.l10n.json the same as the strings the code asks for (npm run l10n writes it)', function () {
    this.timeout(60_000);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'l10n-'));
    try {
      execFileSync(process.execPath, [require.resolve('@vscode/l10n-dev/dist/cli.js'), 'export', '--outDir', out, path.join(root, 'src')], { cwd: root, stdio: 'pipe' });
      const fresh = JSON.parse(fs.readFileSync(path.join(out, 'bundle.l10n.json'), 'utf8')) as Record<string, string>;
      const committed = JSON.parse(fs.readFileSync(path.join(root, 'l10n', 'bundle.l10n.json'), 'utf8')) as Record<string, string>;
      assert.deepEqual(committed, fresh, 'run npm run l10n and commit l10n/bundle.l10n.json');
      assert.ok(Object.keys(fresh).length >= 80, `${Object.keys(fresh).length} strings`);
      assert.equal(fresh['Roll Back to {0}…'], 'Roll Back to {0}…');
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it('names the bundle in package.json and ships it', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { l10n?: string };
    assert.equal(manifest.l10n, './l10n');
    assert.match(fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8'), /^!l10n\/\*\.json$/m);
  });
});
