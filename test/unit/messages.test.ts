/**
 * Each error sentence is made in one place, core/messages: every typed error of src/ comes
 * from a maker there, which makes its sentence through @vscode/l10n from the error's facts;
 * no two makers write the same sentence; and an error made where no bundle is loaded (the
 * store worker) is made again in the host's language from its maker's name and facts.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as l10n from '@vscode/l10n';
import { StepDbError, StepFieldError } from '../../src/core/errors';
import { failures, remake } from '../../src/core/messages';

const src = path.resolve(__dirname, '..', '..', 'src');
const messagesDir = path.join(src, 'core', 'messages');
const CLASSES = 'StepDbError|GitError|RollbackError|StepLogError|ApiError|StepFieldError';
const MAKER_KINDS = 'db|git|log|api|field|rollback';

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

/** Where a file of src/ constructs a typed error itself, outside core/messages. */
export function constructions(name: string, text: string): string[] {
  return [...text.matchAll(new RegExp(`new (${CLASSES})\\(`, 'g'))].map((m) => `${name}:${text.slice(0, m.index).split('\n').length} (${m[1]})`);
}

/** A section file's makers: name → the text declaring it. */
export function makers(text: string): Map<string, string> {
  const found = new Map<string, string>();
  const starts = [...text.matchAll(new RegExp(`^ {2}(\\w+): (?:${MAKER_KINDS})<`, 'gm'))];
  starts.forEach((m, i) => found.set(m[1], text.slice(m.index, i + 1 < starts.length ? starts[i + 1].index : text.length)));
  return found;
}

/** The sentences a text asks l10n for. */
const SENTENCE = /l10n\.t\(\s*(`(?:[^`\\]|\\.)*`|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")/g;

export function sentences(text: string): string[] {
  return [...text.matchAll(SENTENCE)].map((m) => m[1].slice(1, -1));
}

const sections = () => sourceFiles(messagesDir).filter((f) => !['index.ts', 'make.ts'].includes(path.basename(f)));

describe('error sentences: each made once, in core/messages', () => {
  it('finds no typed error constructed outside core/messages', () => {
    // The one exception: an error the store worker sent without its maker's name (it cannot be made again).
    const allowed = new Set(['core/remoteStore.ts (StepDbError)']);
    const found = sourceFiles(src)
      .filter((f) => !f.startsWith(messagesDir + path.sep) && f !== path.join(src, 'core', 'errors.ts'))
      .flatMap((f) => constructions(path.relative(src, f), fs.readFileSync(f, 'utf8')))
      .filter((at) => !allowed.has(at.replace(/:\d+ /, ' ')));
    assert.deepEqual(found, []);
  });

  it('catches a construction outside the makers', () => {
    assert.deepEqual(constructions('x.ts', "const a = 1;\nthrow new GitError('GIT_FAILED', 'Git broke.');"), ['x.ts:2 (GitError)']);
  });

  it('makes every maker\'s sentence through l10n, from its facts, never from glued text', () => {
    let count = 0;
    for (const file of sections()) {
      for (const [name, text] of makers(fs.readFileSync(file, 'utf8'))) {
        count++;
        // An error from a refusal (the plan's, the database's) takes the sentence its refusal's maker made here.
        const passedOn = /\(f\) => f\.message,/.test(text);
        assert.ok(sentences(text).length > 0 || passedOn, `${path.basename(file)}: ${name} asks l10n for no sentence`);
        assert.ok(!/`[^`]*[A-Za-z]{3,}[^`]*\$\{/.test(text.replace(/l10n\.t\([^)]*\)/g, '')), `${path.basename(file)}: ${name} writes a sentence outside l10n.t`);
      }
    }
    assert.equal(count, Object.keys(failures).length, 'each maker of failures is declared in a section');
    assert.ok(count > 50, `${count} makers read`);
  });

  it('writes no sentence in two makers', () => {
    // Every sentence of the sections: the errors' makers, and the refusals' and words' beside them.
    const seen = new Map<string, string[]>();
    for (const file of sections()) {
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(SENTENCE)) {
        const at = `${path.basename(file)}:${text.slice(0, m.index).split('\n').length}`;
        seen.set(m[1].slice(1, -1), [...(seen.get(m[1].slice(1, -1)) ?? []), at]);
      }
    }
    assert.ok(seen.size > 100, `${seen.size} sentences read`);
    const twice = [...seen].filter(([, at]) => at.length > 1).map(([s, at]) => `${s} — ${at.join(', ')}`);
    assert.deepEqual(twice, []);
  });

  it('gives each error its code, its facts and its maker\'s name, and the sentence they make', () => {
    const err = failures.badCommitBefore({ stepId: 7, label: 'S7', value: '"--output=x"' });
    assert.ok(err instanceof StepFieldError);
    assert.equal(err.stepId, 7);
    assert.equal(err.field, 'commitBefore');
    assert.equal(err.messageId, 'badCommitBefore');
    assert.deepEqual(err.facts, { stepId: 7, label: 'S7', value: '"--output=x"' });
    assert.equal(err.message, 'S7 has no valid commit before: "--output=x" is not a commit hash.');

    const many = failures.stepsColumnsMissing({ path: '/p/steps.db', columns: ['status', 'exit_code'] }, 'columns: id');
    assert.ok(many instanceof StepDbError);
    assert.equal(many.code, 'UNSUPPORTED_SCHEMA');
    assert.equal(many.detail, 'columns: id');
    assert.equal(many.message, 'The steps table in /p/steps.db has no status, exit_code columns, which Step History needs.');
    assert.equal(failures.stepsColumnsMissing({ path: '/p/steps.db', columns: ['status'] }).message, 'The steps table in /p/steps.db has no status column, which Step History needs.');
  });

  it('makes an error from the worker again in the language of the bundle loaded here', () => {
    const sent = failures.databaseMissing({ path: '/data/steps.db' }, 'ENOENT');
    assert.equal(sent.message, 'The step database /data/steps.db does not exist.');
    try {
      l10n.config({ contents: { 'The step database {0} does not exist.': 'La base de pas {0} n’existe pas.' } });
      const again = remake(sent.messageId!, sent.facts!, sent.detail);
      assert.ok(again instanceof StepDbError);
      assert.equal(again.code, 'FILE_MISSING');
      assert.equal(again.message, 'La base de pas /data/steps.db n’existe pas.');
      assert.equal(again.detail, 'ENOENT');
    } finally {
      l10n.config({ contents: {} });
    }
    assert.equal(remake('noSuchMaker', {}), undefined);
    assert.equal(remake('toString', {}), undefined);
  });

  it('has makers of every kind of typed error: database, git, log, API, step field, rollback', () => {
    const kinds = new Set<string>();
    for (const file of sections()) {
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(new RegExp(`^ {2}\\w+: (${MAKER_KINDS})<`, 'gm'))) kinds.add(m[1]);
    }
    for (const kind of ['db', 'git', 'log', 'api', 'field', 'rollback']) assert.ok(kinds.has(kind), `a section declares ${kind} makers`);
  });
});
