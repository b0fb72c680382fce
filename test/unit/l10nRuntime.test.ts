/**
 * The extension's own words at run time go through `vscode.l10n.t`, so a bundle
 * (`l10n/bundle.l10n.<locale>.json`) can translate them: every notification, quick pick,
 * input box, progress title and tree item command of `src/ui/` that is given text written in
 * the code, and every word of the pure text modules (the tree's, the tooltips', the rollback
 * plan's, the figures', and what a rollback or an undo says: its summary, progress, result and
 * warnings), which go through `@vscode/l10n`. Their log lines are for the log and stay English. `l10n/bundle.l10n.json` (the English
 * source of translations, written by `npm run l10n`) must hold exactly the strings the code
 * asks for.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ts from 'typescript';

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

/**
 * The modules with no `vscode` import that write the text the views, tooltips, details and
 * rollback documents show, and the rollback's own modules, whose plan summary, progress,
 * results and warnings a notification or the command line shows: every word in them goes
 * through `l10n.t` of `@vscode/l10n`.
 */
const TEXT_MODULES = [
  'src/ui/format.ts',
  'src/ui/rollbackText.ts',
  'src/ui/rollbackStatesText.ts',
  'src/core/figures.ts',
  'src/core/rollback/plan.ts',
  'src/core/rollback/execute.ts',
  'src/core/rollback/undo.ts',
  'src/core/rollback/words.ts',
];

/**
 * The modules that write what the four systems' adapters show: a step's details (facts,
 * sections, warnings), the tree's labels and second lines, the levels' names. They run in the
 * store worker, which configures @vscode/l10n from the editor's bundle when it starts.
 */
const SOURCE_DIR = 'src/core/sources';
function sourceModules(dir = SOURCE_DIR): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceModules(`${dir}/${e.name}`) : e.name.endsWith('.ts') ? [`${dir}/${e.name}`] : [],
  );
}

/** SQL the sources run: keywords in capitals, SQLite's functions, a parameter. */
const SQL = /\b(?:SELECT|FROM|WHERE|AND|OR|CASE|WHEN|THEN|ELSE|END|AS|IN|EXISTS|GLOB|LIKE|ORDER BY|GROUP BY|LIMIT|UNION|DISTINCT|JOIN|ON|DESC|ASC)\b|\b(?:coalesce|typeof|json_\w+|lower|upper|count|sum|min|max|length|substr|cast|ifnull|nullif|iif|instr|julianday|strftime|unixepoch|datetime|printf|abs|round|total|group_concat|pragma_table_info|trim|hex|unicode)\(|\?/;

const SQL_FUNCTION = /\b(?:MAX|MIN|COUNT|SUM|COALESCE|LENGTH)\(/;

/** A name the code gives a column or table: `created_at`, `agent_history`. */
const SNAKE_NAME = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$/;

/**
 * Calls whose string arguments name things to the code, in the sources: a column or table
 * (`capped('name', …)`, `T('created_at')`), SQL (`reader.all(…)`), a level's key (`level('run', …)`),
 * an encoding (`buf.toString('hex')`), and the English a developer reads: the log's lines and an
 * error's technical detail (`failures.x(facts, detail)`, whose sentence is core/messages').
 */
const SOURCE_CODE_CALLS = /^(?:.*\.)?(?:all|get|values|prepare|exec|toString|readFileSync|decode|from|has|delete|set|createHash|update|digest|debug|info|trace|warn|error|level|put|columnsOf|makeRef|jsonOf|numberOf|boolOf|capped|cappedText|T|SORT|timeMs|mapStatus|parseJson|checkNumber|timeWarning|missingParentWarning|orphanGroupDescription|new CheckpointStore|new TextDecoder|new Error|String)$/;

/** Object properties whose strings are codes in the sources: a level's key, a system, a variant, a status, a text's format, a role. */
const SOURCE_CODE_PROPERTIES = new Set(['key', 'level', 'system', 'variant', 'status', 'format', 'role', 'sql', 'table', 'column', 'ref', 'parent', 'type', 'rawStatus']);

/** The statuses the views know (NodeStatus, a ChangeItem's): values a status table maps stored spellings onto, or a choice picks. */
const NODE_STATUSES = new Set(['pending', 'running', 'paused', 'waiting', 'completed', 'failed', 'stopped', 'rolledBack', 'unknown', 'added', 'modified', 'deleted']);

/** Whether a literal of a source module is code: SQL, a column name, a ref, a code's argument (see above). */
export function isSourceCode(node: ts.Node): boolean {
  const text = ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) ? node.text : ts.isTemplateExpression(node) ? node.head.text : '';
  if (SQL.test(text) || SQL_FUNCTION.test(text) || SNAKE_NAME.test(text)) return true;
  if (ts.isTemplateExpression(node) && node.templateSpans.some((s) => SQL.test(s.literal.text))) return true;
  // A JavaScript type's name beside typeof: `Array.isArray(x) ? 'array' : typeof x`.
  if (ts.isConditionalExpression(node.parent) && [node.parent.whenTrue, node.parent.whenFalse].some((b) => ts.isTypeOfExpression(b))) return true;
  // A ref: `project:${key}`, 'project:'.
  if (/^[a-zA-Z]+:(?:$|\S)/.test(text) && !/\s/.test(text.slice(0, text.indexOf(':')))) return true;
  const parent = node.parent;
  // What a choice's value is for: `format: x ? 'plain' : 'json'`, `return ok ? 'completed' : 'failed'`.
  let owner: ts.Node = parent;
  let arg: ts.Node = node;
  while (ts.isConditionalExpression(owner) || ts.isParenthesizedExpression(owner) || (ts.isBinaryExpression(owner) && [ts.SyntaxKind.QuestionQuestionToken, ts.SyntaxKind.BarBarToken].includes(owner.operatorToken.kind))) [arg, owner] = [owner, owner.parent];
  if (ts.isPropertyAssignment(owner) && SOURCE_CODE_PROPERTIES.has(owner.name.getText())) return true;
  if (ts.isReturnStatement(owner) && NODE_STATUSES.has(text)) return true;
  // A shown value's type: `opaque(t || 'blob', n, why)`, `new ShownTyped('timestamp', …)`; its why is text.
  if ((ts.isCallExpression(owner) || ts.isNewExpression(owner)) && owner.arguments?.[0] === arg && /^(?:opaque|fail|ShownTyped)$/.test(owner.expression.getText())) return true;
  // A level's or variant's key set in code: `this.topLevel = bare ? 'thread' : 'session'`.
  if (ts.isBinaryExpression(owner) && owner.operatorToken.kind === ts.SyntaxKind.EqualsToken && /(?:level|kind|status|variant)$/i.test(owner.left.getText())) return true;
  // What a function declared to return a code returns: `return 'fallback'` in `checkpointShapeOf(…): CheckpointShape | null`.
  if (ts.isReturnStatement(owner) || (ts.isArrowFunction(owner) && owner.body === arg)) {
    let fn: ts.Node | undefined = owner;
    while (fn && !ts.isFunctionLike(fn)) fn = fn.parent;
    const type = fn && (fn as ts.SignatureDeclaration).type;
    if (type && !/\bstring\b/.test(type.getText())) return true;
  }
  // `'deleted' in ref`: a property's name.
  if (ts.isBinaryExpression(parent) && parent.operatorToken.kind === ts.SyntaxKind.InKeyword && parent.left === node) return true;
  // The keys or columns a loop goes through: `for (const key of ['model', 'id', 'name'])`.
  if (ts.isArrayLiteralExpression(parent) && ts.isForOfStatement(parent.parent) && parent.parent.expression === parent) return true;
  if ((ts.isPropertyAssignment(parent) || ts.isConditionalExpression(parent) || ts.isArrayLiteralExpression(parent) || (ts.isBinaryExpression(parent) && parent.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken)) && NODE_STATUSES.has(text)) return true;
  // A choice or a list beside a column's name: `x ? 'previous_content' : 'content'`, `['total_tokens', 'depth']`.
  if (ts.isConditionalExpression(parent) && [parent.whenTrue, parent.whenFalse].some((b) => ts.isStringLiteral(b) && (SNAKE_NAME.test(b.text) || SQL.test(b.text)))) return true;
  if (ts.isArrayLiteralExpression(parent) && parent.elements.some((e) => ts.isStringLiteral(e) && SNAKE_NAME.test(e.text))) return true;
  if ((ts.isCallExpression(owner) || ts.isNewExpression(owner)) && owner.arguments?.includes(arg as ts.Expression) && SOURCE_CODE_CALLS.test(`${ts.isNewExpression(owner) ? 'new ' : ''}${owner.expression.getText()}`)) return true;
  if ((ts.isCallExpression(parent) || ts.isNewExpression(parent)) && parent.arguments?.includes(node as ts.Expression)) {
    const callee = `${ts.isNewExpression(parent) ? 'new ' : ''}${parent.expression.getText()}`;
    // A shown value's type: `opaque('pickle', n, why)`, `new ShownTyped('timestamp', …)`; its why is text.
    // failures.x(facts, detail): the detail.
    if (/^failures\.\w+$/.test(callee) && parent.arguments!.indexOf(node as ts.Expression) === 1) return true;
  }
  // Anything inside a code call or an SQL template (`${capped('name', N)}` in a query; a detail's `${x} bytes`).
  for (let up: ts.Node | undefined = parent; up && !ts.isFunctionLike(up) && !ts.isStatement(up); up = up.parent) {
    if (ts.isTemplateSpan(up) && ts.isTemplateExpression(up.parent) && isSourceCode(up.parent)) return true;
    if ((ts.isCallExpression(up) || ts.isNewExpression(up)) && up !== parent) {
      const callee = up.expression.getText();
      if (/^(?:log\.\w+|.*\.(?:all|get|values|debug|trace|info)|ShownMap)$/.test(callee)) return true;
      if (/^failures\.\w+$/.test(callee) && up.arguments!.indexOf(node.parent as ts.Expression) === 1) return true;
    }
  }
  // An array of names: a table's columns (`['id', 'name'] as const`), the tables a source needs.
  for (let up: ts.Node = parent; ts.isArrayLiteralExpression(up) || ts.isAsExpression(up) || ts.isPropertyAssignment(up) || ts.isObjectLiteralExpression(up); up = up.parent) {
    if (ts.isAsExpression(up) && up.type.getText() === 'const') return true;
    if (ts.isVariableDeclaration(up.parent) && /COLUMNS|TABLES|REQUIRED|OPTIONAL|STATUSES|_OF_/.test(up.parent.name.getText())) return true;
  }
  return false;
}

/** Words of the sources kept in English on purpose, each with its file and why. */
const SOURCES_ENGLISH_ON_PURPOSE: { file: string; text: string; why: string }[] = [
  ...['LaForge', 'Constellation', 'Autonomous Software Studio', 'LLM Orchestration'].map((text) => ({ file: 'src/core/sources/types.ts', text, why: 'SYSTEM_NAMES: the systems\' own names' })),
  { file: 'src/core/sources/constellation/index.ts', text: '(no project)', why: 'NO_PROJECT_LABEL, the English the tests and callers compare; the tree and details show noProjectLabel()' },
  { file: 'src/core/sources/llmOrchestration/source.ts', text: '(deleted workflow)', why: 'DELETED_WORKFLOW_LABEL, the English the tests compare; the tree shows deletedWorkflowLabel()' },
  { file: 'src/core/sources/llmOrchestration/source.ts', text: '(deleted run)', why: 'DELETED_RUN_LABEL, the English the tests compare; the tree shows deletedRunLabel()' },
  { file: 'src/core/sources/llmOrchestration/source.ts', text: '(deleted)', why: 'UNPLACED: the key of the group of responses no workflow holds, compared in code' },
  { file: 'src/core/sources/llmOrchestration/source.ts', text: 'null', why: 'idText of NULL: a stored value written as JSON writes it' },
  { file: 'src/core/sources/llmOrchestration/index.ts', text: 'table ${table}', why: 'the technical detail of a refusal (failures.llmoTablesMissing), English as the log is' },
  ...['text', 'integer', 'real', 'blob'].map((text) => ({ file: 'src/core/sources/constellation/values.ts', text, why: 'typeName: SQLite\'s own names of its types' })),
  // snapshot.ts writes no words of a view: only the technical detail of the errors core/messages words, and log lines.
  ...[
    '${(performance.now() - t0).toFixed(1)} ms', '-wal', 'file size, time or header changed', 'the database disappeared', 'database bytes differ from its stat',
    'the WAL appeared or disappeared', 'WAL bytes differ from its stat', '${main.length} bytes', 'starts like a PNG image', 'starts with bytes ${head.toString(\'hex\')}',
  ].map((text) => ({ file: 'src/core/sources/snapshot.ts', text, why: 'an error\'s technical detail or a file name, not a view\'s words' })),
];

/** Words kept in English on purpose, each with its file and why. */
const ENGLISH_ON_PURPOSE: { file: string; text: string; why: string }[] = [
  { file: 'src/core/figures.ts', text: 'not recorded', why: 'NOT_RECORDED, for the text not translated yet (the command line); notRecorded() is translated' },
  { file: 'src/core/rollback/execute.ts', text: '-wal', why: "the suffix of the write-ahead log's file name, looked for in a stash" },
];

/**
 * Calls whose text goes to the extension's log, not to the user: `log.info(…)`, `log.warn(…)`
 * (any logger: `log`, `options.log`, `this.log`) and `logFailure(log, 'what failed', err)`.
 * Log lines stay English, so that a log reads the same whatever the editor's language.
 */
const LOG_CALL = /^(?:(?:[\w.]+\.)?log\??\.(?:trace|debug|info|warn|error)|logFailure)$/;

/**
 * Text written into git, where it is read and matched as written: the reflog message given
 * to `updateRef`, and the stash's message (`stashMessage`), which finding an interrupted
 * rollback's stash matches.
 */
const GIT_RECORDS = new Set(['updateRef', 'stashMessage']);

/** Arguments of string methods that are looked for or matched, never shown: `.endsWith('-wal')`, `.toLocaleString('en-US')`. */
const MATCHED = new Set(['startsWith', 'endsWith', 'includes', 'indexOf', 'lastIndexOf', 'split', 'toLocaleString', 'padStart', 'padEnd']);

/** Properties whose strings name a thing to the code: a codicon, a theme colour, a kind of section. */
const CODE_PROPERTIES = new Set(['id', 'color', 'kind']);

const isL10nCall = (node: ts.Node): node is ts.CallExpression =>
  ts.isCallExpression(node) && /^(?:vscode\.)?l10n\.t$/.test(node.expression.getText());

/** The name a call is made by: `info` of `log.info(…)`, `logFailure` of `logFailure(…)`. */
const calledName = (call: ts.CallExpression): string =>
  ts.isPropertyAccessExpression(call.expression) ? call.expression.name.text : ts.isIdentifier(call.expression) ? call.expression.text : '';

/**
 * Whether a literal is written to the log (an argument of a LOG_CALL), into git (GIT_RECORDS)
 * or names a file (an argument of `path.join`): text for the log, git and the file system, not
 * for the user.
 */
function isLogOrRecord(node: ts.Node): boolean {
  for (let child: ts.Node = node, up = node.parent; up; child = up, up = up.parent) {
    if (ts.isCallExpression(up) && up.arguments.includes(child as ts.Expression)) {
      if (LOG_CALL.test(up.expression.getText()) || GIT_RECORDS.has(calledName(up)) || up.expression.getText() === 'path.join') return true;
    }
    if (ts.isVariableDeclaration(up) && ts.isIdentifier(up.name) && GIT_RECORDS.has(up.name.text)) return true;
  }
  return false;
}

/**
 * Whether the type checker knows a string literal as one of a union of string literal types
 * (a phase `'backed-up'`, a kind `'undo' | 'revert'`, a step of the file system): a value the
 * code compares and switches on, not text.
 */
function isLiteralTypeValue(node: ts.Node, checker: ts.TypeChecker | undefined): boolean {
  if (!checker || !ts.isStringLiteral(node)) return false;
  const type = checker.getContextualType(node);
  if (!type) return false;
  return (type.isUnion() ? type.types : [type]).some((t) => t.isStringLiteral() && t.value === node.text);
}

/** Whether a literal is code rather than text: a module, a type, a key, a value compared or matched, l10n.t's own message. */
export function isCode(node: ts.Node, checker?: ts.TypeChecker): boolean {
  if (isLogOrRecord(node) || isLiteralTypeValue(node, checker)) return true;
  const parent = node.parent;
  if (ts.isImportDeclaration(parent) || ts.isExportDeclaration(parent) || ts.isCaseClause(parent) || ts.isElementAccessExpression(parent)) return true;
  if (ts.isBinaryExpression(parent) && [ts.SyntaxKind.EqualsEqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsEqualsToken, ts.SyntaxKind.EqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsToken].includes(parent.operatorToken.kind)) return true;
  if (ts.isPropertyAssignment(parent) && (parent.name === node || CODE_PROPERTIES.has(parent.name.getText()))) return true;
  if (isL10nCall(parent) && parent.arguments[0] === node) return true;
  // l10n.t({ message, args, comment }): the message and the translators' comment.
  if (ts.isPropertyAssignment(parent) && ['message', 'comment'].includes(parent.name.getText()) && isL10nCall(parent.parent.parent) && parent.parent.parent.arguments[0] === parent.parent) return true;
  if (ts.isArrayLiteralExpression(parent) && ts.isPropertyAssignment(parent.parent) && parent.parent.name.getText() === 'comment') return isCode(parent, checker);
  if (ts.isCallExpression(parent) && ts.isPropertyAccessExpression(parent.expression)) {
    const method = parent.expression.name.text;
    if (MATCHED.has(method) || (method === 'replace' && parent.arguments[0] === node)) return true;
  }
  for (let up: ts.Node | undefined = parent; up; up = up.parent) if (ts.isTypeNode(up)) return true;
  return false;
}

/**
 * Whether a literal's text holds a word: two letters or more with a lower-case one (not an
 * abbreviation such as UTC, HEAD or MB), outside a codicon (`$(file)`), a ref or a path
 * (`stash@{0}`, `refs/x/`) and a dotted name (`testing.iconFailed`).
 */
export const holdsWord = (text: string): boolean =>
  (text.replace(/\$\([\w~-]+\)/g, ' ').replace(/\S*[@/]\S*/g, ' ').replace(/\b\w+(?:\.\w+)+\b/g, ' ').match(/\p{L}{2,}/gu) ?? []).some((run) => /\p{Ll}/u.test(run));

const inFunction = (node: ts.Node): boolean => {
  for (let up = node.parent; up; up = up.parent) if (ts.isFunctionLike(up)) return true;
  return false;
};

/**
 * The string and template literals of a module's text that hold words and do not go through
 * l10n.t, and the l10n.t calls made when the module loads: those run before the extension
 * configures the bundle at activation, so they would stay English. Given a program holding
 * the file, its type checker tells the values of string literal types (isLiteralTypeValue).
 */
export function untranslated(
  source: string,
  fileName = 'sample.ts',
  alsoCode: (node: ts.Node) => boolean = () => false,
  program?: ts.Program,
): { what: string; line: number; text: string }[] {
  const checked = program?.getSourceFile(path.resolve(root, fileName));
  const file = checked && checked.text === source ? checked : ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true);
  const checker = file === checked ? program!.getTypeChecker() : undefined;
  const found: { what: string; line: number; text: string }[] = [];
  const visit = (node: ts.Node): void => {
    if (isL10nCall(node) && !inFunction(node)) {
      found.push({ what: 'a translation at load', line: file.getLineAndCharacterOfPosition(node.getStart()).line + 1, text: node.getText().slice(0, 80) });
    }
    const text = ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)
      ? node.text
      : ts.isTemplateExpression(node)
        ? [node.head.text, ...node.templateSpans.map((span) => span.literal.text)].join(' ')
        : undefined;
    if (text !== undefined && holdsWord(text) && !isCode(node, checker) && !alsoCode(node)) {
      found.push({ what: ts.isStringLiteral(node) ? 'a string' : 'a template', line: file.getLineAndCharacterOfPosition(node.getStart()).line + 1, text: node.getText().slice(0, 80) });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/** A program of the text modules with the project's compiler options, for its type checker. */
function textProgram(files: readonly string[]): ts.Program {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  return ts.createProgram(files.map((f) => path.join(root, f)), { ...config?.options, noEmit: true });
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

  it('finds the pure text modules it checks, each writing through @vscode/l10n', () => {
    for (const f of TEXT_MODULES) {
      const source = fs.readFileSync(path.join(root, f), 'utf8');
      assert.match(source, /^import \* as l10n from '@vscode\/l10n';$/m, `${f} imports @vscode/l10n`);
      assert.doesNotMatch(source, /from 'vscode'/, `${f} is pure`);
    }
  });

  it('writes every word of the pure text modules through l10n.t', function () {
    this.timeout(60_000);
    const program = textProgram(TEXT_MODULES);
    const offenders = TEXT_MODULES.flatMap((f) =>
      untranslated(fs.readFileSync(path.join(root, f), 'utf8'), f, undefined, program)
        .filter((u) => !ENGLISH_ON_PURPOSE.some((e) => e.file === f && u.text.slice(1, -1) === e.text))
        .map((u) => `${f}:${u.line} ${u.what}: ${u.text}`),
    );
    assert.deepEqual(offenders, []);
    for (const e of ENGLISH_ON_PURPOSE) assert.ok(untranslated(fs.readFileSync(path.join(root, e.file), 'utf8'), e.file).some((u) => u.text.slice(1, -1) === e.text), `${e.file} still has '${e.text}' (${e.why})`);
  });

  it('finds the sources\' modules it checks, the four systems\' adapters among them, each pure', () => {
    const files = sourceModules();
    for (const f of ['laforge/index.ts', 'laforge/nodes.ts', 'constellation/index.ts', 'llmOrchestration/source.ts', 'studio/documented.ts', 'studio/real.ts', 'figures.ts', 'orphans.ts']) {
      assert.ok(files.includes(`${SOURCE_DIR}/${f}`), `${f} is checked`);
    }
    for (const f of files) {
      const source = fs.readFileSync(path.join(root, f), 'utf8');
      assert.doesNotMatch(source, /from 'vscode'/, `${f} is pure`);
      if (/\bl10n\.t\(/.test(source)) assert.match(source, /^import \* as l10n from '@vscode\/l10n';$/m, `${f} imports @vscode/l10n`);
    }
  });

  it('writes every word of the sources\' details, tree rows, warnings and levels through l10n.t, none at load', () => {
    const offenders = sourceModules().flatMap((f) =>
      untranslated(fs.readFileSync(path.join(root, f), 'utf8'), f, isSourceCode)
        .filter((u) => !SOURCES_ENGLISH_ON_PURPOSE.some((e) => e.file === f && u.text.slice(1, -1) === e.text))
        .map((u) => `${f}:${u.line} ${u.what}: ${u.text}`),
    );
    assert.deepEqual(offenders, []);
    for (const e of SOURCES_ENGLISH_ON_PURPOSE) {
      assert.ok(untranslated(fs.readFileSync(path.join(root, e.file), 'utf8'), e.file, isSourceCode).some((u) => u.text.slice(1, -1) === e.text), `${e.file} still has '${e.text}' (${e.why})`);
    }
  });

  it('catches a word outside l10n.t in a sample of a source, and leaves its SQL, names, refs, codes and log alone', () => {
    const sample = [
      'function details() {',
      "facts.push({ label: 'Started', value: x });",
      'warnings.push(`${col} is not a time.`);',
      "const d = n === 1 ? '1 run' : `${n} runs`;",
      "reader.all('SELECT id FROM runs WHERE id = ?', [id]);",
      'const q = `SELECT ${capped(\'name\', 400)} FROM projects`;',
      "for (const c of ['created_at', 'updated_at', 'name']) checkNumber(row, c, warnings);",
      "const ref = `project:${key}`; const k = { key: 'run', level: 'run', status: ok ? 'completed' : 'failed', format: j ? 'json' : 'plain' };",
      "log.debug(`Opened ${p} in ${ms} ms.`); throw failures.stepGone({ label }, `no row with id ${id}`);",
      "if ('deleted' in ref) return 'unknown';",
      "const levels = [level('run', () => l10n.t('run'), () => l10n.t('runs'))];",
      '}',
      "function statusOf(raw: string): NodeStatus { return raw ? 'running' : 'pending'; }",
    ].join('\n');
    assert.deepEqual(
      untranslated(sample, 'sample.ts', isSourceCode).map((u) => `${u.line} ${u.what}: ${u.text}`),
      ["2 a string: 'Started'", '3 a template: `${col} is not a time.`', "4 a string: '1 run'", '4 a template: `${n} runs`'],
    );
  });

  it('catches a word outside l10n.t in a sample of a text module, and leaves code alone', () => {
    const sample = [
      "import { x } from './format';",
      'function text() {',
      "const STATUS = { RUNNING: 'running' };",
      "parts.push('no start time');",
      'return `${n} ${n === 1 ? \'step\' : \'steps\'}`;',
      'lines.push(`Filter: ${words}`);',
      "const done = phase === 'done' ? l10n.t('finished') : l10n.t('{0} of {1} steps', n, total);",
      "const n = total.toLocaleString('en-US') + (path.endsWith('-wal') ? '' : '');",
      "switch (kind) { case 'journal': return { id: 'sync~spin', color: 'testing.iconFailed', kind: 'text' }; }",
      "const key: Pick<Step, 'label'> = s;",
      "const ago = l10n.t({ message: '{0}m ago', args: [m], comment: 'minutes ago, short' });",
      'const label = () => `$(file) ${l10n.t(\'Journal\')}`; const ref = `stash@{${i}}`; const when = `${day} UTC`;',
      '}',
      "export const FROM_THE_LOG = l10n.t('(from the log)'); const WORDS = { done: () => l10n.t('finished') };",
    ].join('\n');
    assert.deepEqual(
      untranslated(sample).map((u) => `${u.line} ${u.what}: ${u.text}`),
      [
        "3 a string: 'running'",
        "4 a string: 'no start time'",
        "5 a string: 'step'",
        "5 a string: 'steps'",
        '6 a template: `Filter: ${words}`',
        "14 a translation at load: l10n.t('(from the log)')",
      ],
    );
  });

  it('leaves log lines, git\'s records, file names and values of string literal types alone in a sample, and catches the words around them', function () {
    this.timeout(60_000);
    const sample = [
      "import * as path from 'path';",
      "type Phase = 'planned' | 'backed-up';",
      'declare const log: { info(m: string): void }; declare const options: { log?: { warn(m: string): void } };',
      'declare function logFailure(log: unknown, what: string, err: unknown): void;',
      "declare const repo: { updateRef(ref: string, sha: string, message: string): void; stashPush(message: string, paths: string[] | 'everything'): void };",
      'export function run(id: string, advance: (phase: Phase) => void, kind: \'undo\' | \'revert\') {',
      "  log.info(`[rollback] starting ${id}`); options.log?.warn('[rollback] could not close the journal'); logFailure(log, '[rollback] opening the repository', null);",
      "  repo.updateRef('refs/x', id, `Step History: before rolling back to ${id}`); repo.stashPush(stashMessage(id), 'everything');",
      "  advance('backed-up'); const file = path.join('/tmp', `tasks-S${id}.db`);",
      "  return kind === 'undo' ? 'Undid the rollback.' : `Reverted ${file}.`;",
      '}',
      'const stashMessage = (id: string) => `Step History: before rolling back (${id})`;',
      "let phase: Phase = 'planned'; phase = 'backed-up'; const shown: string = 'backed up';",
    ].join('\n');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l10n-sample-'));
    try {
      const file = path.join(dir, 'sample.ts');
      fs.writeFileSync(file, sample);
      const program = ts.createProgram([file], { strict: true, noEmit: true, types: ['node'], typeRoots: [path.join(root, 'node_modules', '@types')] });
      assert.deepEqual(
        untranslated(sample, file, undefined, program).map((u) => `${u.line} ${u.what}: ${u.text}`),
        ["10 a string: 'Undid the rollback.'", '10 a template: `Reverted ${file}.`', "13 a string: 'backed up'"],
      );
      assert.ok(untranslated(sample, file).some((u) => u.text === "'backed-up'"), 'without the type checker a literal type value is not told from text');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
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
