import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { DiscoveredDatabase, discoverDatabases, DiscoveryFolder, expandHome } from '../../src/core/discovery';
import type { Logger } from '../../src/core/log';
import { makeTempDir } from '../fixtures/stepFixtures';

function touch(file: string, content = 'SQLite format 3\0'): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return file;
}

function recordingLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (m: string) => lines.push(m);
  return { lines, trace: push, debug: push, info: push, warn: push, error: push };
}

const folder = (p: string, patterns: string[] = ['**/steps.db'], laforgeProjects = true): DiscoveryFolder => ({
  path: p,
  patterns,
  laforgeProjects,
});

const paths = (found: DiscoveredDatabase[]) => found.map((d) => d.path);

describe('discoverDatabases', () => {
  let tmp: string;
  let home: string;
  let ws: string;

  beforeEach(() => {
    tmp = fs.realpathSync(makeTempDir());
    home = path.join(tmp, 'home');
    ws = path.join(tmp, 'ws');
    fs.mkdirSync(home);
    fs.mkdirSync(ws);
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  function laforgeProject(name: string, projectJson: string | null, withDb = true): string {
    const dir = path.join(home, '.laforge', 'projects', name);
    fs.mkdirSync(dir, { recursive: true });
    if (projectJson !== null) fs.writeFileSync(path.join(dir, 'project.json'), projectJson);
    return withDb ? touch(path.join(dir, 'steps.db')) : path.join(dir, 'steps.db');
  }

  it('finds steps.db files in the workspace by default, skipping node_modules and .git', async () => {
    const top = touch(path.join(ws, 'steps.db'));
    const nested = touch(path.join(ws, 'tools', 'agent', 'steps.db'));
    const hidden = touch(path.join(ws, '.agent', 'steps.db'));
    touch(path.join(ws, 'node_modules', 'pkg', 'steps.db'));
    touch(path.join(ws, 'tools', 'node_modules', 'steps.db'));
    touch(path.join(ws, '.git', 'steps.db'));
    touch(path.join(ws, 'other.db'));
    const found = await discoverDatabases({ folders: [folder(ws)], home });
    assert.deepStrictEqual(paths(found).sort(), [hidden, top, nested].sort());
    const nestedFound = found.find((d) => d.path === nested)!;
    assert.strictEqual(nestedFound.workspaceFolder, ws);
    assert.strictEqual(nestedFound.repositoryPath, ws);
    assert.strictEqual(nestedFound.label, 'tools/agent/steps.db');
    assert.strictEqual(nestedFound.source, 'pattern');
  });

  it('takes relative paths, relative globs, absolute globs and ~ patterns', async () => {
    const relative = touch(path.join(ws, 'data', 'history.sqlite'));
    const globbed = touch(path.join(ws, 'runs', 'a', 'run.db'));
    touch(path.join(ws, 'runs', 'a', 'run.txt'));
    const elsewhere = path.join(tmp, 'elsewhere');
    const absolute = touch(path.join(elsewhere, 'x', 'steps.sqlite3'));
    const inHome = touch(path.join(home, 'agents', 'one', 'steps.db'));
    const found = await discoverDatabases({
      folders: [folder(ws, ['data/history.sqlite', 'runs/*/*.db', `${elsewhere}/*/*.sqlite3`, '~/agents/**/steps.db', 'missing.db'])],
      home,
    });
    assert.deepStrictEqual(paths(found), [relative, globbed, absolute, inHome]);
    const byPath = new Map(found.map((d) => [d.path, d]));
    assert.strictEqual(byPath.get(relative)!.label, 'data/history.sqlite');
    assert.strictEqual(byPath.get(inHome)!.label, '~/agents/one/steps.db');
    assert.strictEqual(byPath.get(absolute)!.label, absolute);
    // A database outside every folder belongs to the folder whose setting named it.
    assert.strictEqual(byPath.get(absolute)!.repositoryPath, ws);
    assert.strictEqual(byPath.get(inHome)!.workspaceFolder, ws);
  });

  it('expands ~ only at the start', () => {
    assert.strictEqual(expandHome('~', '/h'), '/h');
    assert.strictEqual(expandHome('~/a/b.db', '/h'), path.join('/h', 'a/b.db'));
    assert.strictEqual(expandHome('a/~/b.db', '/h'), 'a/~/b.db');
    assert.strictEqual(expandHome('~other/b.db', '/h'), '~other/b.db');
  });

  it('uses absolute patterns without a workspace folder and skips relative ones', async () => {
    const file = touch(path.join(tmp, 'loose', 'steps.db'));
    const found = await discoverDatabases({ folders: [], patternsWithoutFolder: ['**/steps.db', path.join(tmp, 'loose', '*.db')], home });
    assert.deepStrictEqual(paths(found), [file]);
    assert.strictEqual(found[0].workspaceFolder, undefined);
    assert.strictEqual(found[0].repositoryPath, path.dirname(file));
  });

  it('lists a file reached twice (two patterns, or a symlink) once', async () => {
    const file = touch(path.join(ws, 'steps.db'));
    fs.symlinkSync(path.join(ws), path.join(ws, 'loop'));
    const found = await discoverDatabases({ folders: [folder(ws, ['**/steps.db', 'steps.db'])], home });
    assert.deepStrictEqual(paths(found), [file]);
  });

  it('finds LaForge projects whose repository_path is a workspace folder, each folder of a multi-root workspace separately', async () => {
    const second = path.join(tmp, 'second');
    const unrelated = path.join(tmp, 'unrelated');
    fs.mkdirSync(second);
    fs.mkdirSync(unrelated);
    const first = laforgeProject('alpha', JSON.stringify({ name: 'alpha', repository_path: ws }));
    const other = laforgeProject('beta', JSON.stringify({ repository_path: second + '/' }));
    laforgeProject('gamma', JSON.stringify({ repository_path: unrelated }));
    const found = await discoverDatabases({ folders: [folder(ws), folder(second)], home });
    assert.deepStrictEqual(paths(found), [first, other]);
    assert.strictEqual(found[0].workspaceFolder, ws);
    assert.strictEqual(found[0].repositoryPath, ws);
    assert.strictEqual(found[0].label, '~/.laforge/projects/alpha/steps.db');
    assert.strictEqual(found[0].source, 'laforge');
    assert.strictEqual(found[1].workspaceFolder, second);
    assert.strictEqual(found[1].repositoryPath, second);
  });

  it('matches repository_path and workspace folders through symlinks, and honours the per-folder switch', async () => {
    const real = path.join(tmp, 'real-repo');
    fs.mkdirSync(real);
    const link = path.join(tmp, 'link-repo');
    fs.symlinkSync(real, link);
    const db = laforgeProject('linked', JSON.stringify({ repository_path: link }));
    // The workspace opened the real folder; project.json names the link.
    let found = await discoverDatabases({ folders: [folder(real)], home });
    assert.deepStrictEqual(paths(found), [db]);
    assert.strictEqual(found[0].repositoryPath, real);
    // And the other way round.
    const db2 = laforgeProject('direct', JSON.stringify({ repository_path: real }));
    found = await discoverDatabases({ folders: [folder(link)], home });
    assert.deepStrictEqual(paths(found).sort(), [db2, db].sort());
    found = await discoverDatabases({ folders: [folder(real, ['**/steps.db'], false)], home });
    assert.deepStrictEqual(paths(found), []);
  });

  it('skips broken project.json files with a log line and never fails', async () => {
    const good = laforgeProject('good', JSON.stringify({ repository_path: ws }));
    laforgeProject('bad-json', '{ "repository_path": ');
    laforgeProject('no-field', JSON.stringify({ name: 'x' }));
    laforgeProject('wrong-type', JSON.stringify({ repository_path: 42 }));
    laforgeProject('null', 'null');
    laforgeProject('no-project-json', null);
    laforgeProject('no-db', JSON.stringify({ repository_path: ws }), false);
    fs.writeFileSync(path.join(home, '.laforge', 'projects', 'stray-file'), 'x');
    const log = recordingLog();
    const found = await discoverDatabases({ folders: [folder(ws, [])], home, log });
    assert.deepStrictEqual(paths(found), [good]);
    for (const name of ['bad-json', 'no-field', 'wrong-type', 'null']) {
      assert.ok(log.lines.some((l) => l.includes(path.join(name, 'project.json')) && /skipped/.test(l)), `no log line for ${name}:\n${log.lines.join('\n')}`);
    }
  });

  it('keeps databases the user added, after the discovered ones, and drops those that are gone', async () => {
    const discovered = touch(path.join(ws, 'steps.db'));
    const inWorkspace = touch(path.join(ws, 'data', 'picked.sqlite'));
    const loose = touch(path.join(tmp, 'loose', 'picked.db'));
    const repo = path.join(tmp, 'repo');
    fs.mkdirSync(repo);
    const project = laforgeProject('elsewhere', JSON.stringify({ repository_path: repo }));
    const found = await discoverDatabases({
      folders: [folder(ws)],
      added: [inWorkspace, loose, project, discovered, path.join(tmp, 'deleted.db')],
      home,
    });
    assert.deepStrictEqual(paths(found), [discovered, inWorkspace, loose, project]);
    const [, a, b, c] = found;
    assert.deepStrictEqual([a.source, a.workspaceFolder, a.repositoryPath, a.label], ['added', ws, ws, 'data/picked.sqlite']);
    assert.deepStrictEqual([b.workspaceFolder, b.repositoryPath], [undefined, path.dirname(loose)]);
    assert.deepStrictEqual([c.workspaceFolder, c.repositoryPath, c.label], [undefined, repo, '~/.laforge/projects/elsewhere/steps.db']);
  });

  it('finds nothing, quietly, without a ~/.laforge folder or matching files', async () => {
    const found = await discoverDatabases({ folders: [folder(ws), folder(path.join(tmp, 'gone'))], home });
    assert.deepStrictEqual(found, []);
  });
});
