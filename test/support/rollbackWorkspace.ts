/**
 * Real workspaces for rollback tests: copies of the demo workspace (git plus a steps.db written
 * by python3's sqlite3) in temp folders, and the real tools (git, python3's sqlite3) that check
 * them from outside.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RollbackError } from '../../src/core/errors';
import type { RollbackTarget } from '../../src/core/rollback';
import { appendDemoStep, makeDemoWorkspace, type DemoWorkspace } from '../fixtures/demoWorkspace';

const tempDirs: string[] = [];
export function tempDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `step-history-rollback-${label}-`));
  tempDirs.push(dir);
  return dir;
}

const helperEnv: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toUpperCase().startsWith('GIT_')));
helperEnv.LC_ALL = 'C';
helperEnv.GIT_CONFIG_NOSYSTEM = '1';
helperEnv.GIT_CONFIG_GLOBAL = os.devNull;

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: helperEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 }).trim();
}

export function gitOk(cwd: string, ...args: string[]): boolean {
  try {
    git(cwd, ...args);
    return true;
  } catch {
    return false;
  }
}

/** Runs python3's sqlite3 on `db`: `sql` statements, then the answer of `query`. */
export function sqlite(db: string, sql: string[], query?: string): unknown[][] {
  const script = String.raw`
import json, sqlite3, sys
req = json.load(sys.stdin)
db = sqlite3.connect(req["db"], isolation_level=None)
for s in req["sql"]:
    db.execute(s)
rows = db.execute(req["query"]).fetchall() if req.get("query") else []
db.close()
print(json.dumps(rows))
`;
  return JSON.parse(execFileSync('python3', ['-c', script], { input: JSON.stringify({ db, sql, query }), encoding: 'utf8' }));
}

export const integrity = (db: string) => sqlite(db, [], 'PRAGMA integrity_check')[0][0];
export const activeIds = (db: string) => sqlite(db, [], 'SELECT id FROM steps WHERE active ORDER BY id').map((r) => Number(r[0]));
export const allRows = (db: string) => sqlite(db, [], 'SELECT * FROM steps ORDER BY id');

/** Every file of the work tree except .git and the step database, path -> sha256 of its bytes. */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${entry.name}` : entry.name;
      if (p === '.git' || p.startsWith('steps.db')) continue;
      if (entry.isDirectory()) walk(p);
      else out.set(p, crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, p))).digest('hex'));
    }
  };
  walk('');
  return out;
}

export function write(dir: string, file: string, content: string | Buffer): void {
  fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  fs.writeFileSync(path.join(dir, file), content);
}

export const stepHistoryRefs = (dir: string) => git(dir, 'for-each-ref', '--format=%(refname) %(objectname)', 'refs/step-history/').split('\n').filter(Boolean);

export async function rejectsWith(promise: Promise<unknown>, code: string): Promise<RollbackError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof RollbackError, `expected RollbackError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.ok(err.message.length > 0);
    return err;
  }
  assert.fail(`expected RollbackError ${code}`);
}

// The demo workspace takes seconds to build: build each kind once and copy it per test.
const templates = new Map<string, DemoWorkspace>();
function demoTemplate(kind: 'finished' | 'running' | 'wal'): DemoWorkspace {
  let ws = templates.get(kind);
  if (!ws) {
    const dir = path.join(tempDir(`template-${kind}`), 'ledgerline');
    ws = makeDemoWorkspace(dir, { now: new Date('2026-03-01T12:00:00Z'), journalMode: kind === 'wal' ? 'wal' : 'delete' });
    // The running step finishes and one more step is recorded: a clean tree, S17-S23 active.
    if (kind !== 'running') appendDemoStep(dir, { now: new Date('2026-03-01T12:10:00Z') });
    templates.set(kind, ws);
  }
  return ws;
}

export interface Demo {
  dir: string;
  db: string;
  journalDir: string;
  ws: DemoWorkspace;
  target(stepId: number): RollbackTarget;
  before(stepId: number): string;
  /** Removes the copy now rather than after the run. */
  dispose(): void;
}

export function demo(kind: 'finished' | 'running' | 'wal' = 'finished', options: { journalDir?: string } = {}): Demo {
  const ws = demoTemplate(kind);
  const root = tempDir(kind);
  const dir = path.join(root, 'ledgerline');
  fs.cpSync(ws.path, dir, { recursive: true });
  const db = path.join(dir, 'steps.db');
  return {
    dir,
    db,
    journalDir: options.journalDir ?? path.join(root, 'journals'),
    ws,
    target: (stepId) => ({ dbPath: db, repositoryPath: dir, projectId: ws.projectId, stepId }),
    before: (stepId) => String(sqlite(db, [], `SELECT commit_sha_before FROM steps WHERE id = ${stepId}`)[0][0]),
    dispose: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}

export function cleanupTempDirs(): void {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  templates.clear();
}

