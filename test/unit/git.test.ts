import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GitError } from '../../src/core/errors';
import { GitRepository, parseDiffOutput, toGitError, type ChangedFile } from '../../src/core/git';
import type { Logger } from '../../src/core/log';
import { commitAll, git, helperEnv, makeRepo, makeTempDir, removeRepositories, write } from '../support/gitRepo';

// ---------------------------------------------------------------------------------------------
// Real repositories in temp folders, built by running git.

function lines(prefix: string, count: number): string {
  return Array.from({ length: count }, (_, i) => `${prefix} line ${i}`).join('\n') + '\n';
}

interface CapturedLog extends Logger {
  lines: string[];
  invocations(): string[];
}

function captureLog(): CapturedLog {
  const lines: string[] = [];
  const push = (m: string) => void lines.push(m);
  return {
    lines,
    trace: push,
    debug: push,
    info: push,
    warn: push,
    error: push,
    invocations: () => lines.filter((l) => l.startsWith('[git] git ')),
  };
}

async function rejectsWith(promise: Promise<unknown>, code: string, message?: string | RegExp): Promise<GitError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof GitError, `expected a GitError, got ${String(err)}`);
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    if (typeof message === 'string') assert.equal(err.message, message);
    else if (message) assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected GitError ${code}, but the call succeeded`);
}

after(() => {
  removeRepositories();
});

// ---------------------------------------------------------------------------------------------

describe('GitRepository.open', () => {
  it('opens the work tree containing a subfolder and reports its root', async () => {
    const dir = makeRepo('open');
    write(dir, 'sub/deeper/file.txt', 'x\n');
    commitAll(dir, 'first');
    const repo = await GitRepository.open(path.join(dir, 'sub', 'deeper'));
    assert.equal(repo.root, fs.realpathSync(dir));
  });

  it('refuses a folder that does not exist with REPOSITORY_MISSING', async () => {
    const missing = path.join(makeTempDir('missing'), 'no', 'such', 'folder');
    await rejectsWith(GitRepository.open(missing), 'REPOSITORY_MISSING', `The folder ${missing} does not exist.`);
  });

  it('refuses a plain folder with NOT_A_REPOSITORY', async () => {
    const plain = makeTempDir('plain');
    await rejectsWith(GitRepository.open(plain), 'NOT_A_REPOSITORY', `${plain} is not inside a git work tree.`);
  });

  it('refuses a file with NOT_A_REPOSITORY', async () => {
    const dir = makeTempDir('file');
    write(dir, 'f.txt', 'x');
    await rejectsWith(GitRepository.open(path.join(dir, 'f.txt')), 'NOT_A_REPOSITORY');
  });

  it('refuses the inside of a .git folder with NOT_A_REPOSITORY', async () => {
    const dir = makeRepo('dotgit');
    await rejectsWith(GitRepository.open(path.join(dir, '.git')), 'NOT_A_REPOSITORY');
  });

  it('reports GIT_MISSING when the configured git binary does not exist', async () => {
    const dir = makeRepo('nogit');
    const bogus = path.join(makeTempDir('bin'), 'no-such-git');
    const err = await rejectsWith(GitRepository.open(dir, { gitBinary: bogus }), 'GIT_MISSING', 'Git is not installed or not on PATH.');
    assert.match(err.detail ?? '', /ENOENT/);
  });

  it('reports GIT_MISSING when git is not on PATH', async () => {
    const dir = makeRepo('nopath');
    const emptyBin = makeTempDir('emptybin');
    const saved = process.env.PATH;
    process.env.PATH = emptyBin;
    try {
      await rejectsWith(GitRepository.open(dir), 'GIT_MISSING', 'Git is not installed or not on PATH.');
    } finally {
      process.env.PATH = saved;
    }
  });

  it('logs each git invocation with its timing', async () => {
    const dir = makeRepo('log');
    const sha = commitAll(dir, 'first');
    const log = captureLog();
    const repo = await GitRepository.open(dir, { log });
    await repo.commitExists(sha);
    const calls = log.invocations();
    assert.equal(calls.length, 2);
    assert.match(calls[0], /^\[git\] git --no-pager rev-parse --show-toplevel --absolute-git-dir --git-common-dir \(\d+\.\d ms\)$/);
    assert.match(calls[1], new RegExp(`rev-parse --verify --end-of-options ${sha}\\^\\{commit\\} \\(\\d+\\.\\d ms\\)$`));
  });
});

// ---------------------------------------------------------------------------------------------

describe('GitRepository.changedFiles', () => {
  const binaryBefore = Buffer.from([0, 1, 2, 3, 0, 255, 254, 0, 10, 13, 0]);
  const binaryAfter = Buffer.from([0, 1, 2, 3, 0, 255, 254, 0, 10, 13, 0, 7, 0]);
  const weirdNames = [
    'with space.txt',
    'café 日本.txt',
    `quote"s and 'apostrophes'.txt`,
    '-rf.txt',
    'tab\there.txt',
    'new\nline.txt',
    'back\\slash.txt',
    'nested dir/ünïcödé/файл.txt',
  ];
  let dir: string;
  let base: string;
  let step: string;
  let repo: GitRepository;
  let files: ChangedFile[];

  before(async () => {
    dir = makeRepo('diff');
    write(dir, 'keep.txt', 'unchanged\n');
    write(dir, 'modify.txt', 'one\ntwo\nthree\n');
    write(dir, 'delete.txt', lines('delete', 3));
    write(dir, 'rename-plain.txt', lines('rename plain', 20));
    write(dir, 'rename-edit.txt', lines('rename edit', 20));
    write(dir, 'typechange.txt', 'a regular file\n');
    write(dir, 'mode.sh', '#!/bin/sh\necho hi\n');
    write(dir, 'image.bin', binaryBefore);
    write(dir, 'old\nname with\ttab.txt', lines('weird rename', 20));
    base = commitAll(dir, 'base');

    fs.writeFileSync(path.join(dir, 'modify.txt'), 'one\nTWO\nthree\nfour\n');
    fs.rmSync(path.join(dir, 'delete.txt'));
    fs.renameSync(path.join(dir, 'rename-plain.txt'), path.join(dir, 'renamed-plain.txt'));
    fs.rmSync(path.join(dir, 'rename-edit.txt'));
    write(dir, 'renamed-edit.txt', lines('rename edit', 20).replace('rename edit line 3\n', 'changed line 3\n'));
    fs.rmSync(path.join(dir, 'typechange.txt'));
    fs.symlinkSync('keep.txt', path.join(dir, 'typechange.txt'));
    fs.chmodSync(path.join(dir, 'mode.sh'), 0o755);
    fs.writeFileSync(path.join(dir, 'image.bin'), binaryAfter);
    fs.renameSync(path.join(dir, 'old\nname with\ttab.txt'), path.join(dir, '-new "name"\n.txt'));
    weirdNames.forEach((name, i) => write(dir, name, `content ${i}\nsecond line\n`));
    step = commitAll(dir, 'step');

    repo = await GitRepository.open(dir);
    files = await repo.changedFiles(base, step);
  });

  function file(p: string): ChangedFile {
    const found = files.find((f) => f.path === p);
    assert.ok(found, `no entry for ${JSON.stringify(p)} in ${JSON.stringify(files.map((f) => f.path))}`);
    return found;
  }

  it('lists every changed file exactly once and nothing else', () => {
    const expected = [
      'modify.txt', 'delete.txt', 'renamed-plain.txt', 'renamed-edit.txt', 'typechange.txt', 'mode.sh',
      'image.bin', '-new "name"\n.txt', ...weirdNames,
    ].sort();
    assert.deepEqual(files.map((f) => f.path).sort(), expected);
  });

  it('reports an added file with its line count', () => {
    assert.deepEqual(file('with space.txt'), { path: 'with space.txt', status: 'added', added: 2, removed: 0, binary: false });
  });

  it('reports a modified file with added and removed lines', () => {
    assert.deepEqual(file('modify.txt'), { path: 'modify.txt', status: 'modified', added: 2, removed: 1, binary: false });
  });

  it('reports a deleted file', () => {
    assert.deepEqual(file('delete.txt'), { path: 'delete.txt', status: 'deleted', added: 0, removed: 3, binary: false });
  });

  it('reports a pure rename with its old path and full similarity', () => {
    assert.deepEqual(file('renamed-plain.txt'), {
      path: 'renamed-plain.txt', oldPath: 'rename-plain.txt', status: 'renamed', added: 0, removed: 0, binary: false, similarity: 100,
    });
  });

  it('reports a rename with modification, its similarity and line counts', () => {
    const f = file('renamed-edit.txt');
    assert.equal(f.status, 'renamed');
    assert.equal(f.oldPath, 'rename-edit.txt');
    assert.equal(f.added, 1);
    assert.equal(f.removed, 1);
    assert.ok(f.similarity !== undefined && f.similarity >= 50 && f.similarity < 100, `similarity ${f.similarity}`);
  });

  it('reports a rename between names with newlines, tabs, quotes and a leading dash', () => {
    const f = file('-new "name"\n.txt');
    assert.equal(f.status, 'renamed');
    assert.equal(f.oldPath, 'old\nname with\ttab.txt');
    assert.equal(f.similarity, 100);
  });

  it('reports a file that became a symlink as a type change', () => {
    assert.equal(file('typechange.txt').status, 'typeChanged');
  });

  it('reports a mode change as a modification without line changes', () => {
    assert.deepEqual(file('mode.sh'), { path: 'mode.sh', status: 'modified', added: 0, removed: 0, binary: false });
  });

  it('marks binary files with null line counts', () => {
    assert.deepEqual(file('image.bin'), { path: 'image.bin', status: 'modified', added: null, removed: null, binary: true });
  });

  it('keeps spaces, unicode, quotes, a leading dash, tabs, backslashes and newlines intact', () => {
    for (const name of weirdNames) {
      const f = file(name);
      assert.equal(f.status, 'added', name);
      assert.equal(f.added, 2, name);
    }
  });

  it('returns an empty list for a commit compared with itself', async () => {
    assert.deepEqual(await repo.changedFiles(step, step), []);
  });

  it('accepts abbreviated hashes', async () => {
    const short = await repo.changedFiles(base.slice(0, 8), step.slice(0, 8));
    assert.deepEqual(short, files);
  });

  it('reads copies from git output when copy detection is on', () => {
    const copyRepo = makeRepo('copy');
    write(copyRepo, 'original.txt', lines('original', 30));
    const a = commitAll(copyRepo, 'base');
    write(copyRepo, 'copy of original.txt', lines('original', 30));
    write(copyRepo, 'original.txt', lines('original', 30) + 'one more\n');
    const b = commitAll(copyRepo, 'copy');
    const out = git(copyRepo, 'diff', '--raw', '--numstat', '-z', '-C', '-C', a, b, '--');
    assert.deepEqual(
      parseDiffOutput(out).sort((x, y) => x.path.localeCompare(y.path)),
      [
        { path: 'copy of original.txt', oldPath: 'original.txt', status: 'copied', added: 0, removed: 0, binary: false, similarity: 100 },
        { path: 'original.txt', status: 'modified', added: 1, removed: 0, binary: false },
      ],
    );
  });

  it('names the missing commit when one of the two is unknown', async () => {
    const absent = 'deadbeef'.repeat(5);
    await rejectsWith(repo.changedFiles(base, absent), 'UNKNOWN_COMMIT', 'Commit deadbee is not in this repository.');
    await rejectsWith(repo.changedFiles(absent, step), 'UNKNOWN_COMMIT', 'Commit deadbee is not in this repository.');
  });

  it('refuses a blob hash as a commit', async () => {
    const blob = git(dir, 'rev-parse', `${step}:modify.txt`).trim();
    await rejectsWith(repo.changedFiles(blob, step), 'UNKNOWN_COMMIT');
  });
});

// ---------------------------------------------------------------------------------------------

describe('GitRepository.fileAt', () => {
  const binary = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), crypto.randomBytes(64 * 1024), Buffer.from([0, 0, 13, 10])]);
  const big = crypto.randomBytes(3 * 1024 * 1024);
  let dir: string;
  let first: string;
  let second: string;
  let repo: GitRepository;

  before(async () => {
    dir = makeRepo('fileat');
    write(dir, 'text.txt', 'héllo\r\nwörld\n');
    write(dir, 'data.bin', binary);
    write(dir, 'big.bin', big);
    write(dir, 'gone.txt', 'soon deleted\n');
    write(dir, 'line\nbreak.txt', 'newline in the name\n');
    write(dir, '-rf.txt', 'dash\n');
    write(dir, 'folder/inner.txt', 'inner\n');
    write(dir, 'empty.txt', '');
    first = commitAll(dir, 'first');
    fs.rmSync(path.join(dir, 'gone.txt'));
    fs.writeFileSync(path.join(dir, 'text.txt'), 'changed\n');
    second = commitAll(dir, 'second');
    repo = await GitRepository.open(dir);
  });

  it('returns text exactly as committed', async () => {
    assert.deepEqual(await repo.fileAt(first, 'text.txt'), Buffer.from('héllo\r\nwörld\n'));
    assert.deepEqual(await repo.fileAt(second, 'text.txt'), Buffer.from('changed\n'));
  });

  it('returns binary content byte for byte', async () => {
    const out = await repo.fileAt(first, 'data.bin');
    assert.ok(out.equals(binary), 'binary content differs');
  });

  it('returns a 3 MB file intact', async () => {
    const out = await repo.fileAt(second, 'big.bin');
    assert.equal(out.length, big.length);
    assert.ok(out.equals(big), 'large content differs');
  });

  it('returns an empty file as an empty buffer', async () => {
    assert.equal((await repo.fileAt(first, 'empty.txt')).length, 0);
  });

  it('reads paths with a newline, a leading dash, and in subfolders', async () => {
    assert.equal((await repo.fileAt(first, 'line\nbreak.txt')).toString(), 'newline in the name\n');
    assert.equal((await repo.fileAt(first, '-rf.txt')).toString(), 'dash\n');
    assert.equal((await repo.fileAt(first, 'folder/inner.txt')).toString(), 'inner\n');
  });

  it('reports a path deleted in that commit as NOT_IN_COMMIT', async () => {
    assert.equal((await repo.fileAt(first, 'gone.txt')).toString(), 'soon deleted\n');
    await rejectsWith(repo.fileAt(second, 'gone.txt'), 'NOT_IN_COMMIT', `"gone.txt" is not a file in commit ${second.slice(0, 7)}.`);
  });

  it('reports a folder, an empty path and a path outside the repository as NOT_IN_COMMIT', async () => {
    await rejectsWith(repo.fileAt(first, 'folder'), 'NOT_IN_COMMIT');
    await rejectsWith(repo.fileAt(first, ''), 'NOT_IN_COMMIT');
    await rejectsWith(repo.fileAt(first, '../outside.txt'), 'NOT_IN_COMMIT');
  });

  it('treats an option-like path as a path', async () => {
    const marker = path.join(makeTempDir('optpath'), 'x');
    await rejectsWith(repo.fileAt(first, `--output=${marker}`), 'NOT_IN_COMMIT');
    assert.equal(fs.existsSync(marker), false);
  });

  it('reports a missing path whose name looks like another git error as NOT_IN_COMMIT', async () => {
    for (const name of ["x'\nfatal: invalid object name 'y", 'not a git repository', 'spawn git ENOENT', 'unknown revision']) {
      await rejectsWith(repo.fileAt(first, name), 'NOT_IN_COMMIT', `${JSON.stringify(name)} is not a file in commit ${first.slice(0, 7)}.`);
    }
  });

  it('reports an unknown commit as UNKNOWN_COMMIT', async () => {
    await rejectsWith(repo.fileAt('0123456789abcdef', 'text.txt'), 'UNKNOWN_COMMIT', 'Commit 0123456 is not in this repository.');
  });
});

// ---------------------------------------------------------------------------------------------

describe('GitRepository.commitExists', () => {
  let dir: string;
  let sha: string;
  let repo: GitRepository;

  before(async () => {
    dir = makeRepo('exists');
    write(dir, 'a.txt', 'a\n');
    sha = commitAll(dir, 'first');
    repo = await GitRepository.open(dir);
  });

  it('is true for a full and an abbreviated hash of a commit', async () => {
    assert.equal(await repo.commitExists(sha), true);
    assert.equal(await repo.commitExists(sha.slice(0, 7).toUpperCase()), true);
  });

  it('is false for a hash that is not in the repository', async () => {
    assert.equal(await repo.commitExists('feedface'.repeat(5)), false);
  });

  it('is false for the hash of an object that is not a commit', async () => {
    const blob = git(dir, 'rev-parse', `${sha}:a.txt`).trim();
    assert.equal(await repo.commitExists(blob), false);
  });
});

// ---------------------------------------------------------------------------------------------

describe('GitRepository.commitsBetween', () => {
  let dir: string;
  const shas: string[] = [];
  let repo: GitRepository;

  before(async () => {
    dir = makeRepo('log');
    write(dir, 'f.txt', '0\n');
    shas.push(commitAll(dir, 'base'));
    for (let i = 1; i <= 4; i++) {
      write(dir, 'f.txt', `${i}\n`);
      const message = i === 2 ? `step two: subject with "quotes"\n\nBody text.\n\nStep-id: S4` : `step ${i}`;
      shas.push(commitAll(dir, message));
    }
    git(dir, 'notes', 'add', '-m', 'Step-id: S3', shas[1]);
    git(dir, 'notes', 'add', '-m', 'reviewed\nStep-id: S12\n', shas[3]);
    git(dir, 'notes', 'add', '-m', 'just a note', shas[4]);
    repo = await GitRepository.open(dir);
  });

  it('lists commits oldest first with subjects and Step-id from notes and trailers', async () => {
    assert.deepEqual(await repo.commitsBetween(shas[0], shas[4]), [
      { sha: shas[1], subject: 'step 1', stepId: 'S3' },
      { sha: shas[2], subject: 'step two: subject with "quotes"', stepId: 'S4' },
      { sha: shas[3], subject: 'step 3', stepId: 'S12' },
      { sha: shas[4], subject: 'step 4' },
    ]);
  });

  it('lists a sub-range and nothing for an empty range', async () => {
    assert.deepEqual((await repo.commitsBetween(shas[2], shas[3])).map((c) => c.sha), [shas[3]]);
    assert.deepEqual(await repo.commitsBetween(shas[4], shas[4]), []);
  });

  it('names the unknown commit', async () => {
    await rejectsWith(repo.commitsBetween(shas[0], 'abcdef1234'), 'UNKNOWN_COMMIT', 'Commit abcdef1 is not in this repository.');
  });
});

// ---------------------------------------------------------------------------------------------

describe('GitRepository.status and head', () => {
  it('reports staged, unstaged, untracked and renamed files, and not ignored ones', async () => {
    const dir = makeRepo('status');
    write(dir, '.gitignore', 'ignored.log\n');
    write(dir, 'staged.txt', 'a\n');
    write(dir, 'unstaged.txt', 'a\n');
    write(dir, 'both.txt', 'a\n');
    write(dir, 'deleted.txt', 'a\n');
    write(dir, 'to rename.txt', lines('rename', 10));
    const head = commitAll(dir, 'base');

    write(dir, 'staged.txt', 'b\n');
    write(dir, 'added.txt', 'new\n');
    git(dir, 'add', 'staged.txt', 'added.txt');
    write(dir, 'both.txt', 'b\n');
    git(dir, 'add', 'both.txt');
    write(dir, 'both.txt', 'c\n');
    write(dir, 'unstaged.txt', 'b\n');
    fs.rmSync(path.join(dir, 'deleted.txt'));
    git(dir, 'mv', 'to rename.txt', 'renamed\tnow.txt');
    write(dir, 'deep/er/still/untracked file.txt', 'u\n');
    write(dir, 'untracked\nnewline.txt', 'u\n');
    write(dir, 'ignored.log', 'i\n');

    const repo = await GitRepository.open(dir);
    const s = await repo.status();
    assert.equal(s.branch, 'main');
    assert.equal(s.head, head);
    assert.equal(s.detached, false);
    const byPath = (entries: { path: string }[]) => [...entries].sort((a, b) => a.path.localeCompare(b.path));
    assert.deepEqual(byPath(s.staged), [
      { path: 'added.txt', status: 'added' },
      { path: 'both.txt', status: 'modified' },
      { path: 'renamed\tnow.txt', oldPath: 'to rename.txt', status: 'renamed' },
      { path: 'staged.txt', status: 'modified' },
    ]);
    assert.deepEqual(byPath(s.unstaged), [
      { path: 'both.txt', status: 'modified' },
      { path: 'deleted.txt', status: 'deleted' },
      { path: 'unstaged.txt', status: 'modified' },
    ]);
    assert.deepEqual([...s.untracked].sort(), ['deep/er/still/untracked file.txt', 'untracked\nnewline.txt']);
    assert.deepEqual(s.conflicted, []);
  });

  it('reports conflicted files during a merge', async () => {
    const dir = makeRepo('conflict');
    write(dir, 'shared.txt', 'base\n');
    write(dir, 'clean.txt', 'base\n');
    commitAll(dir, 'base');
    git(dir, 'checkout', '-q', '-b', 'other');
    write(dir, 'shared.txt', 'theirs\n');
    commitAll(dir, 'theirs');
    git(dir, 'checkout', '-q', 'main');
    write(dir, 'shared.txt', 'ours\n');
    write(dir, 'clean.txt', 'ours\n');
    const ours = commitAll(dir, 'ours');
    const merge = spawnSync('git', ['merge', '-q', '--no-edit', 'other'], { cwd: dir, env: helperEnv, encoding: 'utf8' });
    assert.notEqual(merge.status, 0, 'the merge was expected to conflict');

    const repo = await GitRepository.open(dir);
    const s = await repo.status();
    assert.deepEqual(s.conflicted, ['shared.txt']);
    assert.deepEqual(s.staged, []);
    assert.deepEqual(s.unstaged, []);
    assert.equal(s.head, ours);
    assert.equal(s.branch, 'main');
  });

  it('reports a detached HEAD', async () => {
    const dir = makeRepo('detached');
    write(dir, 'a.txt', 'a\n');
    const first = commitAll(dir, 'first');
    write(dir, 'a.txt', 'b\n');
    commitAll(dir, 'second');
    git(dir, 'checkout', '-q', '--detach', first);
    const repo = await GitRepository.open(dir);
    const s = await repo.status();
    assert.equal(s.detached, true);
    assert.equal(s.branch, null);
    assert.equal(s.head, first);
    assert.deepEqual(await repo.head(), { sha: first, branch: null, detached: true });
  });

  it('reports the branch and commit of HEAD', async () => {
    const dir = makeRepo('head');
    write(dir, 'a.txt', 'a\n');
    const sha = commitAll(dir, 'first');
    git(dir, 'checkout', '-q', '-b', 'feature/x');
    const repo = await GitRepository.open(dir);
    assert.deepEqual(await repo.head(), { sha, branch: 'feature/x', detached: false });
  });

  it('handles a repository without commits', async () => {
    const dir = makeRepo('empty');
    write(dir, 'first.txt', 'x\n');
    write(dir, 'later/untracked.txt', 'y\n');
    git(dir, 'add', 'first.txt');
    const repo = await GitRepository.open(dir);
    assert.deepEqual(await repo.head(), { sha: null, branch: 'main', detached: false });
    const s = await repo.status();
    assert.equal(s.head, null);
    assert.equal(s.branch, 'main');
    assert.equal(s.detached, false);
    assert.deepEqual(s.staged, [{ path: 'first.txt', status: 'added' }]);
    assert.deepEqual(s.untracked, ['later/untracked.txt']);
    assert.deepEqual(await repo.commitsBetween('abcd', 'abcd').catch((e: GitError) => e.code), 'UNKNOWN_COMMIT');
  });
});

// ---------------------------------------------------------------------------------------------

describe('hostile commit references', () => {
  let dir: string;
  let sandbox: string;
  let wrapperLog: string;
  let good: string;
  let repo: GitRepository;
  let log: CapturedLog;
  const literalTargets = ['/tmp/x', '/tmp/pwned'];
  const existedBefore = new Map(literalTargets.map((p) => [p, fs.existsSync(p)]));

  function hostileValues(): string[] {
    const marker = (name: string) => path.join(sandbox, name);
    return [
      `--output=${marker('x')}`,
      `-c core.pager=touch ${marker('pwned-pager')}`,
      `HEAD;touch ${marker('pwned-semicolon')}`,
      `$(touch ${marker('pwned-subshell')})`,
      `\`touch ${marker('pwned-backtick')}\``,
      '--output=/tmp/x',
      '-c core.pager=touch /tmp/pwned',
      'HEAD;touch /tmp/pwned',
      '$(touch /tmp/pwned)',
      '`touch /tmp/pwned`',
      'HEAD',
      'main',
      'abc',
      'a'.repeat(65),
      '',
      '--end-of-options',
      'deadbeef\n',
      ' deadbeef',
      'deadbeef --output=x',
      'deadbeef..HEAD',
      'deadbeef^{tree}',
      'deadbeef:secret.txt',
    ];
  }

  before(async () => {
    dir = makeRepo('hostile');
    write(dir, 'a.txt', 'a\n');
    good = commitAll(dir, 'first');
    sandbox = makeTempDir('sandbox');
    wrapperLog = path.join(sandbox, 'invocations.log');
    const wrapper = path.join(sandbox, 'git-wrapper');
    fs.writeFileSync(wrapper, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${wrapperLog}'\nexec git "$@"\n`, { mode: 0o755 });
    log = captureLog();
    repo = await GitRepository.open(dir, { log, gitBinary: wrapper });
  });

  function spawnedCount(): number {
    return fs.existsSync(wrapperLog) ? fs.readFileSync(wrapperLog, 'utf8').split('\n').filter(Boolean).length : 0;
  }

  it('runs git through the recording wrapper for valid hashes', async () => {
    const spawned = spawnedCount();
    const loggedBefore = log.invocations().length;
    assert.ok(spawned >= 1, 'open() should have run git through the wrapper');
    assert.equal(await repo.commitExists(good), true);
    assert.equal(spawnedCount(), spawned + 1);
    assert.equal(log.invocations().length, loggedBefore + 1);
  });

  it('refuses every hostile value in every method with INVALID_COMMIT, without running git', async () => {
    const spawnedBefore = spawnedCount();
    const loggedBefore = log.invocations().length;
    let checked = 0;
    for (const bad of hostileValues()) {
      const expected = `${JSON.stringify(bad)} is not a commit hash.`;
      const calls: [string, () => Promise<unknown>][] = [
        ['changedFiles(bad, good)', () => repo.changedFiles(bad, good)],
        ['changedFiles(good, bad)', () => repo.changedFiles(good, bad)],
        ['fileAt', () => repo.fileAt(bad, 'a.txt')],
        ['commitExists', () => repo.commitExists(bad)],
        ['commitsBetween(bad, good)', () => repo.commitsBetween(bad, good)],
        ['commitsBetween(good, bad)', () => repo.commitsBetween(good, bad)],
      ];
      for (const [name, call] of calls) {
        const err = await rejectsWith(call(), 'INVALID_COMMIT', expected).catch((e: Error) => {
          throw new Error(`${name} with ${JSON.stringify(bad)}: ${e.message}`);
        });
        assert.ok(err.detail?.includes(JSON.stringify(bad).slice(0, 20)), 'detail names the rejected value');
        checked++;
      }
    }
    assert.equal(checked, hostileValues().length * 6);
    assert.equal(spawnedCount(), spawnedBefore, 'git was spawned for a hostile value');
    assert.equal(log.invocations().length, loggedBefore, 'a git invocation was logged for a hostile value');
    assert.deepEqual(fs.readdirSync(sandbox).filter((f) => f !== 'git-wrapper' && f !== 'invocations.log'), []);
    for (const target of literalTargets) {
      if (!existedBefore.get(target)) assert.equal(fs.existsSync(target), false, `${target} was created`);
    }
  });

  it('refuses values that are not strings at all', async () => {
    const spawnedBefore = spawnedCount();
    for (const bad of [null, undefined, 1234, { toString: () => 'deadbeef' }] as unknown[]) {
      await rejectsWith(repo.commitExists(bad as string), 'INVALID_COMMIT', /is not a commit hash\.$/);
      await rejectsWith(repo.fileAt(bad as string, 'a.txt'), 'INVALID_COMMIT');
    }
    assert.equal(spawnedCount(), spawnedBefore);
  });

  it('shows the value as inert quoted text in the message', async () => {
    const err = await rejectsWith(repo.commitExists('a\nb'), 'INVALID_COMMIT');
    assert.equal(err.message, '"a\\nb" is not a commit hash.');
    const long = await rejectsWith(repo.commitExists('-'.repeat(500)), 'INVALID_COMMIT');
    assert.ok(long.message.length < 120, 'long values are shortened in the sentence');
  });
});

// ---------------------------------------------------------------------------------------------

describe('toGitError', () => {
  const ctx = { args: ['diff'], commits: ['0123456789abcdef'] };

  it('maps git stderr to codes', () => {
    const cases: [string, string][] = [
      ["fatal: not a git repository (or any of the parent directories): .git", 'NOT_A_REPOSITORY'],
      ["fatal: ambiguous argument '0123': unknown revision or path not in the working tree.", 'UNKNOWN_COMMIT'],
      ['fatal: bad object 0123456789abcdef', 'UNKNOWN_COMMIT'],
      ['fatal: Not a valid object name 0123456789abcdef', 'UNKNOWN_COMMIT'],
      ["fatal: invalid object name '0123'.", 'UNKNOWN_COMMIT'],
      ['Error: spawn git ENOENT', 'GIT_MISSING'],
      ['fatal: unable to read tree 0123456789abcdef', 'GIT_FAILED'],
    ];
    for (const [stderr, code] of cases) assert.equal(toGitError(new Error(stderr), ctx).code, code, stderr);
  });

  it('maps path messages to NOT_IN_COMMIT only when a path was asked for', () => {
    const stderr = "fatal: path 'a.txt' exists on disk, but not in '0123456789abcdef'";
    assert.equal(toGitError(new Error(stderr), { ...ctx, path: 'a.txt' }).code, 'NOT_IN_COMMIT');
    assert.equal(toGitError(new Error(stderr), ctx).code, 'GIT_FAILED');
  });

  it('keeps stderr in the detail and a sentence in the message', () => {
    const err = toGitError(new Error('fatal: unable to read tree 0123456789abcdef'), ctx);
    assert.equal(err.message, 'Git failed: unable to read tree 0123456789abcdef');
    assert.match(err.detail ?? '', /^git diff\nfatal: unable to read tree/);
  });
});

// ---------------------------------------------------------------------------------------------

describe('GitRepository.changedFilesAgainstWorkingTree', () => {
  let dir: string;
  let base: string;
  let repo: GitRepository;

  before(async () => {
    dir = makeRepo('worktree');
    write(dir, 'keep.txt', 'unchanged\n');
    write(dir, 'modify.txt', 'one\ntwo\nthree\n');
    write(dir, 'delete.txt', lines('delete', 3));
    write(dir, 'rename.txt', lines('rename', 20));
    write(dir, 'image.bin', Buffer.from([0, 1, 2, 0, 255]));
    write(dir, 'sub/dir/nested.txt', 'nested\n');
    base = commitAll(dir, 'base');
    repo = await GitRepository.open(path.join(dir, 'sub'));
  });

  function byPath(files: ChangedFile[]): Map<string, ChangedFile> {
    return new Map(files.map((f) => [f.path, f]));
  }

  it('lists nothing for a clean work tree at that commit', async () => {
    assert.deepEqual(await repo.changedFilesAgainstWorkingTree(base), []);
  });

  it('lists unstaged, staged and committed changes since the commit, with root-relative paths', async () => {
    fs.writeFileSync(path.join(dir, 'modify.txt'), 'one\nTWO\nthree\nfour\n'); // unstaged
    fs.rmSync(path.join(dir, 'delete.txt'));
    git(dir, 'mv', 'rename.txt', 'renamed.txt'); // staged rename
    write(dir, 'staged-new.txt', 'new\n');
    git(dir, 'add', 'staged-new.txt');
    write(dir, 'image.bin', Buffer.from([0, 1, 2, 0, 254, 7]));
    write(dir, 'sub/dir/nested.txt', 'nested\nmore\n');
    commitAll(dir, 'later'); // a commit after the step: still a difference from `base`
    write(dir, 'sub/dir/nested.txt', 'nested\nmore\nand more\n');
    write(dir, 'untracked.txt', 'not added\n');

    const files = byPath(await repo.changedFilesAgainstWorkingTree(base));
    assert.deepEqual([...files.keys()].sort(), ['delete.txt', 'image.bin', 'modify.txt', 'renamed.txt', 'staged-new.txt', 'sub/dir/nested.txt']);
    assert.deepEqual(files.get('modify.txt'), { path: 'modify.txt', status: 'modified', added: 2, removed: 1, binary: false });
    assert.deepEqual(files.get('delete.txt'), { path: 'delete.txt', status: 'deleted', added: 0, removed: 3, binary: false });
    assert.deepEqual(files.get('staged-new.txt'), { path: 'staged-new.txt', status: 'added', added: 1, removed: 0, binary: false });
    const renamed = files.get('renamed.txt');
    assert.equal(renamed?.status, 'renamed');
    assert.equal(renamed?.oldPath, 'rename.txt');
    assert.equal(renamed?.similarity, 100);
    assert.equal(files.get('image.bin')?.binary, true);
    assert.deepEqual(files.get('sub/dir/nested.txt'), { path: 'sub/dir/nested.txt', status: 'modified', added: 2, removed: 0, binary: false });
    assert.ok(!files.has('untracked.txt'), 'untracked files are left to status()');
  });

  it('names an unknown commit', async () => {
    await rejectsWith(repo.changedFilesAgainstWorkingTree('0123456789abcdef0123456789abcdef01234567'), 'UNKNOWN_COMMIT', 'Commit 0123456 is not in this repository.');
  });

  it('refuses a hostile value with INVALID_COMMIT without running git', async () => {
    const sandbox = makeTempDir('worktree-sandbox');
    const wrapperLog = path.join(sandbox, 'invocations.log');
    const wrapper = path.join(sandbox, 'git-wrapper');
    fs.writeFileSync(wrapper, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${wrapperLog}'\nexec git "$@"\n`, { mode: 0o755 });
    const wrapped = await GitRepository.open(dir, { gitBinary: wrapper });
    const spawned = () => fs.readFileSync(wrapperLog, 'utf8').split('\n').filter(Boolean);
    const before = spawned().length;
    for (const bad of ['--output=' + path.join(sandbox, 'x'), 'HEAD', 'HEAD;touch x', 'deadbeef..HEAD', 'abc', '', '--end-of-options']) {
      await rejectsWith(wrapped.changedFilesAgainstWorkingTree(bad), 'INVALID_COMMIT', `${JSON.stringify(bad)} is not a commit hash.`);
    }
    assert.equal(spawned().length, before, 'git was spawned for a hostile value');
    assert.ok(!fs.existsSync(path.join(sandbox, 'x')));

    await wrapped.changedFilesAgainstWorkingTree(base);
    const last = spawned().at(-1) ?? '';
    assert.match(last, new RegExp(`--end-of-options ${base}\\^\\{commit\\} --$`), 'the commit follows --end-of-options and paths follow --');
  });
});

describe('GitRepository write operations for rollback', () => {
  let dir: string;
  let repo: GitRepository;
  let first: string;
  let second: string;

  beforeEach(async () => {
    dir = makeRepo('write');
    write(dir, 'a.txt', 'one\n');
    first = commitAll(dir, 'first');
    write(dir, 'a.txt', 'two\n');
    write(dir, 'b.txt', 'b\n');
    second = commitAll(dir, 'second');
    repo = await GitRepository.open(dir);
  });

  it('points only Step History refs, and only at validated commits', async () => {
    await repo.updateRef('refs/step-history/backup/20260101T000000000Z-abc', first, 'test', null);
    assert.equal(git(dir, 'rev-parse', 'refs/step-history/backup/20260101T000000000Z-abc').trim(), first);
    assert.equal(await repo.refTarget('refs/step-history/backup/20260101T000000000Z-abc'), first);
    assert.equal(await repo.refTarget('refs/step-history/backup/none'), null);
    // Created only if missing; moved only from the expected commit.
    await rejectsWith(repo.updateRef('refs/step-history/backup/20260101T000000000Z-abc', second, 'test', null), 'GIT_FAILED');
    await repo.updateRef('refs/step-history/backup/20260101T000000000Z-abc', second, 'test', first);
    assert.equal(await repo.refTarget('refs/step-history/backup/20260101T000000000Z-abc'), second);
    for (const bad of ['refs/heads/main', 'HEAD', 'refs/step-history/backup/../../heads/main', 'refs/step-history/other/x', '--all', 'refs/step-history/stash/-x']) {
      await rejectsWith(repo.updateRef(bad, first, 'test'), 'GIT_FAILED', /is not a Step History ref/);
    }
    await rejectsWith(repo.updateRef('refs/step-history/stash/x', '--output=x', 'test'), 'INVALID_COMMIT');
    assert.equal(git(dir, 'rev-parse', 'main').trim(), second);
  });

  it('tells ancestors apart and lists the commits between two commits with their parents', async () => {
    assert.equal(await repo.isAncestor(first, second), true);
    assert.equal(await repo.isAncestor(second, first), false);
    assert.equal(await repo.isAncestor(first.slice(0, 10), second), true);
    git(dir, 'checkout', '-q', '--orphan', 'unrelated');
    const orphan = commitAll(dir, 'unrelated root');
    assert.equal(await repo.isAncestor(first, orphan), false);
    git(dir, 'checkout', '-q', 'main');
    await rejectsWith(repo.isAncestor('0123456789abcdef0123456789abcdef01234567', second), 'UNKNOWN_COMMIT');
    const graph = await repo.commitGraph(first, second);
    assert.deepEqual([...graph], [[second, [first]]]);
    assert.deepEqual(await repo.treePaths(first), ['a.txt']);
    assert.equal(await repo.treePaths(second, 3), null);
    assert.deepEqual(await repo.indexPaths(), ['a.txt', 'b.txt']);
  });

  it('resets only the named branch, and never a detached HEAD', async () => {
    await repo.resetHard(first, 'main');
    assert.equal(git(dir, 'rev-parse', 'HEAD').trim(), first);
    assert.equal(fs.readFileSync(path.join(dir, 'a.txt'), 'utf8'), 'one\n');
    await rejectsWith(repo.resetHard(second, 'other'), 'GIT_FAILED', /not other/);
    git(dir, 'checkout', '-q', '--detach');
    await rejectsWith(repo.resetHard(second, 'main'), 'GIT_FAILED', /detached/);
    assert.equal(git(dir, 'rev-parse', 'HEAD').trim(), first);
  });

  it('stashes exactly the paths given, read literally, and applies the stash back with its index', async () => {
    write(dir, 'a.txt', 'changed\n');
    write(dir, 'b.txt', 'staged\n');
    git(dir, 'add', 'b.txt');
    write(dir, '[ab].txt', 'untracked with a glob in its name\n');
    write(dir, '*.txt', 'another\n');
    write(dir, 'keep.txt', 'not stashed\n');
    const stash = await repo.stashPush('Step History: test', ['a.txt', 'b.txt', '[ab].txt']);
    assert.ok(stash);
    assert.equal(git(dir, 'status', '--porcelain', '--untracked-files=all'), '?? *.txt\n?? keep.txt\n');
    assert.deepEqual(await repo.treePaths(stash, 3), ['[ab].txt']);
    assert.equal(await repo.stashPush('nothing', ['missing.txt']).catch(() => null), null);
    await repo.stashApply(stash);
    assert.equal(fs.readFileSync(path.join(dir, 'a.txt'), 'utf8'), 'changed\n');
    assert.equal(fs.readFileSync(path.join(dir, '[ab].txt'), 'utf8'), 'untracked with a glob in its name\n');
    assert.equal(git(dir, 'diff', '--cached', '--name-only'), 'b.txt\n');
  });
});
