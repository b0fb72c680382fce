/**
 * GitRepository.blame on real repositories: each line's commit, through a rename and a merge,
 * lines not committed yet, and a path that starts like an option; the parser on output that
 * is not porcelain. Every expectation is what plain `git blame --porcelain` and `git log` say.
 */
import * as assert from 'assert';
import { parseBlamePorcelain } from '../../src/core/blame';
import { GitRepository } from '../../src/core/git';
import { commitAll, git, makeRepo, removeRepositories, write } from '../support/gitRepo';

describe('GitRepository.blame', () => {
  after(removeRepositories);

  it('names the commit of each line, following a rename, through a merge, and marks the lines not committed yet', async () => {
    const dir = makeRepo('blame');
    write(dir, 'src/a.ts', 'one\ntwo\nthree\n');
    const first = commitAll(dir, 'Add a.ts');
    git(dir, 'mv', 'src/a.ts', 'src/b.ts');
    const renamed = commitAll(dir, 'Rename a.ts to b.ts');
    git(dir, 'checkout', '-q', '-b', 'side');
    write(dir, 'src/b.ts', 'one\ntwo\nthree\nfour from side\n');
    const side = commitAll(dir, 'Add a fourth line');
    git(dir, 'checkout', '-q', 'main');
    write(dir, 'src/b.ts', 'zero\none\ntwo\nthree\n');
    const main = commitAll(dir, 'Add a line before');
    git(dir, 'merge', '-q', '--no-edit', 'side');
    write(dir, 'src/b.ts', 'zero\none\nTWO, edited\nthree\nfour from side\n');

    const lines = await (await GitRepository.open(dir)).blame('src/b.ts');
    assert.deepStrictEqual(
      lines.map((l) => [l.line, l.info.commit, l.info.filename]),
      [
        [1, main, 'src/b.ts'],
        [2, first, 'src/a.ts'],
        [3, null, 'src/b.ts'],
        [4, first, 'src/a.ts'],
        [5, side, 'src/b.ts'],
      ],
    );
    assert.strictEqual(lines[1].info, lines[3].info, 'one record per commit');
    assert.strictEqual(lines[1].info.summary, 'Add a.ts');
    assert.strictEqual(lines[1].info.author, 'Step History Tests');
    assert.strictEqual(lines[1].info.authorTimeMs, Number(git(dir, 'log', '-1', '--format=%at', first).trim()) * 1000);
    assert.strictEqual(lines[2].info.author, 'Not Committed Yet');
    assert.deepStrictEqual(lines.map((l) => l.originalLine), [1, 1, 3, 3, 4]);
    assert.ok(!lines.some((l) => l.info.commit === renamed), 'a rename writes no line');
  });

  it('reads a path that starts like an option as a path', async () => {
    const dir = makeRepo('blame-option');
    write(dir, '--output=x', 'text\n');
    const commit = commitAll(dir, 'A file named like an option');
    const lines = await (await GitRepository.open(dir)).blame('--output=x');
    assert.deepStrictEqual(lines.map((l) => l.info.commit), [commit]);
  });

  it('refuses output that is not porcelain, and output cut short', () => {
    assert.throws(() => parseBlamePorcelain('fatal: no such path\n'), /not git blame --porcelain output/);
    assert.throws(() => parseBlamePorcelain(`${'a'.repeat(40)} 1 1 1\nauthor x\n`), /ends before the text/);
    assert.deepStrictEqual(parseBlamePorcelain(''), []);
  });
});
