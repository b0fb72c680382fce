/**
 * Each error sentence is made in one place: no two constructions of a typed error in src/
 * write the same sentence (its interpolations aside). A sentence needed twice gets a maker
 * (`databaseMissing`, `needsProtectionError`, …) that both places call.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const src = path.resolve(__dirname, '..', '..', 'src');
const CONSTRUCTION = /new (StepDbError|GitError|RollbackError|StepLogError|ApiError)\(\s*'[A-Z_]+',\s*(`(?:[^`\\]|\\.)*`|'(?:[^'\\]|\\.)*')/g;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

/** Sentence (interpolations as X) → where each construction writes it. */
export function sentences(files: { name: string; text: string }[]): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const { name, text } of files) {
    for (const m of text.matchAll(CONSTRUCTION)) {
      const sentence = m[2].slice(1, -1).replace(/\$\{[^}]*\}/g, 'X');
      const line = text.slice(0, m.index).split('\n').length;
      found.set(sentence, [...(found.get(sentence) ?? []), `${name}:${line}`]);
    }
  }
  return found;
}

describe('error sentences: each made in one place', () => {
  it('finds no sentence written by two constructions', () => {
    const files = sourceFiles(src).map((f) => ({ name: path.relative(src, f), text: fs.readFileSync(f, 'utf8') }));
    const all = sentences(files);
    assert.ok(all.size > 50, `${all.size} sentences read`);
    const twice = [...all].filter(([, at]) => at.length > 1).map(([s, at]) => `${s} — ${at.join(', ')}`);
    assert.deepEqual(twice, []);
  });

  it('catches a sentence written twice', () => {
    const text = "throw new StepDbError('FILE_MISSING', `The step database ${a} does not exist.`);\nthrow new StepDbError('FILE_MISSING', `The step database ${b.path} does not exist.`);";
    assert.deepEqual([...sentences([{ name: 'x.ts', text }])].map(([s, at]) => [s, at.length]), [['The step database X does not exist.', 2]]);
  });
});
