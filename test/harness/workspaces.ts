/** Workspaces the editor sessions open, made fresh in a temporary folder for every run. */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { makeDatabaseProblems } from '../fixtures/databaseProblems';
import { ROOT } from './buildRunner';
import { addDemoAgents } from '../fixtures/demoAgents';
import { makeDemoWorkspace } from '../fixtures/demoWorkspace';
import { makeConstellation } from '../fixtures/constellation';
import { makeLaforgeToday } from '../fixtures/laforgeToday';
import { makeLlmOrchestration } from '../fixtures/llmOrchestration';
import { makeStudioReal } from '../fixtures/studio';
import {
  AT_SCALE,
  DEMO_DESCRIPTION,
  IN_DEMO,
  IN_LAFORGE,
  IN_OTHER_SYSTEMS,
  IN_RESTRICTED_MODE,
  LAFORGE_DESCRIPTION,
  SYSTEMS_DESCRIPTION,
  WITH_DATABASE,
  WITHOUT_DATABASE,
} from '../integration/suites';

export interface WorkspaceKind {
  name: string;
  /**
   * Fills the empty folder `dir`. Returns, when the editor should open another folder than
   * `dir` or run with more environment (a HOME of its own), which.
   */
  make(dir: string): void | { folder: string; env?: Record<string, string> };
}

function writeProjectFiles(dir: string): void {
  fs.writeFileSync(path.join(dir, 'README.md'), '# Demo project\n\nA workspace made by the Step History test harness.\n');
  fs.mkdirSync(path.join(dir, 'src'));
  fs.writeFileSync(path.join(dir, 'src', 'main.py'), 'print("hello")\n');
}

/** A steps.db written by the real SQLite engine (python3's sqlite3 module), in LaForge's schema. */
export function writeStepsDb(file: string): void {
  const script = `
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript('''
CREATE TABLE steps (
  id INTEGER PRIMARY KEY,
  commit_sha_before TEXT NOT NULL,
  commit_sha_after TEXT,
  project_id TEXT NOT NULL,
  parent_step_id INTEGER,
  agent_config_json TEXT,
  prompt TEXT,
  started_at TEXT,
  ended_at TEXT,
  exit_code INTEGER,
  is_active INTEGER NOT NULL DEFAULT 1
);
INSERT INTO steps (id, commit_sha_before, commit_sha_after, project_id, parent_step_id, agent_config_json, prompt, started_at, ended_at, exit_code)
VALUES
  (1, 'a1b2c3d4', 'b2c3d4e5', 'demo', NULL, '{"model": "demo-model"}', 'Add a greeting', '2025-01-01T10:00:00Z', '2025-01-01T10:02:00Z', 0),
  (2, 'b2c3d4e5', 'c3d4e5f6', 'demo', 1, '{"model": "demo-model"}', 'Fix the greeting', '2025-01-01T10:05:00Z', '2025-01-01T10:06:30Z', 0);
''')
c.commit()
c.close()
`;
  execFileSync('python3', ['-c', script, file], { stdio: 'inherit' });
}

export const withStepsDb: WorkspaceKind = {
  name: 'with-steps-db',
  make(dir) {
    writeProjectFiles(dir);
    writeStepsDb(path.join(dir, 'steps.db'));
  },
};

export const withoutStepsDb: WorkspaceKind = {
  name: 'without-steps-db',
  make(dir) {
    writeProjectFiles(dir);
    // A file that merely mentions the name must not count.
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'steps.db lives elsewhere\n');
  },
};

/** The demo workspace (a git repository with 22 recorded steps); its description goes beside it for the tests. */
export const demo: WorkspaceKind = {
  name: 'demo',
  make(dir) {
    const described = makeDemoWorkspace(dir);
    fs.writeFileSync(path.join(dir, DEMO_DESCRIPTION), JSON.stringify(described, null, 2));
  },
};

/** The demo workspace with the other three systems' databases under `agents/`, as `npm start` makes it. */
export const demoWithAgents: WorkspaceKind = {
  name: 'demo-with-agents',
  make(dir) {
    const described = makeDemoWorkspace(dir);
    fs.writeFileSync(path.join(dir, DEMO_DESCRIPTION), JSON.stringify(described, null, 2));
    const agents = addDemoAgents(dir, described.now);
    fs.writeFileSync(path.join(dir, '.git', 'step-history-agents.json'), JSON.stringify(agents, null, 2));
  },
};

/**
 * A folder without git holding three step databases: a good one, a file under that name that is
 * not SQLite, and one with damaged rows (fixtures/databaseProblems.ts).
 */
export const databaseProblems: WorkspaceKind = {
  name: 'database-problems',
  make(dir) {
    makeDatabaseProblems(dir);
  },
};

/**
 * A project as LaForge at HEAD leaves it: `~/.laforge/projects/<id>/` (project.json, steps.db,
 * logs) under a HOME of the session's own, the repository elsewhere; the editor opens the
 * repository and finds the project through `~/.laforge` discovery.
 */
export const laforge: WorkspaceKind = {
  name: 'laforge',
  make(dir) {
    const fixture = makeLaforgeToday({ root: dir, now: new Date('2026-11-20T17:00:00Z') });
    fs.writeFileSync(path.join(fixture.repoPath, LAFORGE_DESCRIPTION), JSON.stringify(fixture, null, 2));
    return { folder: fixture.repoPath, env: { HOME: fixture.home } };
  },
};

/**
 * The other systems' databases where each keeps it, found by the default patterns: LLM
 * Orchestration's `data/llm_orchestration.db` in an app folder of the workspace, and Autonomous
 * Software Studio's `data/orchestrator.db` with its `checkpoints.db` and `projects/` in another,
 * and Constellation's `~/.constellation/constellation.db` under the session's own HOME.
 */
export const otherSystems: WorkspaceKind = {
  name: 'other-systems',
  make(dir) {
    const workspace = path.join(dir, 'workspace');
    const now = new Date('2026-11-20T17:00:00Z');
    // ~/.constellation/constellation.db as the app leaves it while it runs: the newest rows in its -wal.
    const constellation = makeConstellation({ root: dir, kind: 'example', live: true, now });
    const home = constellation.home;
    fs.mkdirSync(workspace, { recursive: true });
    const llmo = makeLlmOrchestration({ root: path.join(workspace, 'llm-orchestration'), now });
    const studio = makeStudioReal({ root: path.join(workspace, 'studio'), now, shape: 'fallback' });
    fs.writeFileSync(path.join(workspace, SYSTEMS_DESCRIPTION), JSON.stringify({ llmo, studio, constellation }, null, 2));
    return { folder: workspace, env: { HOME: home } };
  },
};

/**
 * A folder holding a LaForge steps.db of 100,000 steps (bench/make-bench-db.py, the real SQLite
 * engine), copied from the benchmark's cache, where it is written the first time.
 */
export const atScale: WorkspaceKind = {
  name: 'at-scale',
  make(dir) {
    const cached = path.join(ROOT, 'bench', '.work', 'steps-100000.db');
    if (!fs.existsSync(cached)) {
      fs.mkdirSync(path.dirname(cached), { recursive: true });
      execFileSync('python3', [path.join(ROOT, 'bench', 'make-bench-db.py'), cached, '100000']);
    }
    fs.copyFileSync(cached, path.join(dir, 'steps.db'));
  },
};

/**
 * One editor session per integration suite, each on the workspace its suite needs. A `bench`
 * session measures rather than tests: it runs only when named (`--session`), as `npm run
 * bench` does.
 */
export const integrationSessions: { name: string; grep: string; workspace: WorkspaceKind; restricted?: boolean; bench?: boolean }[] = [
  { name: 'with-steps-db', grep: WITH_DATABASE, workspace: withStepsDb },
  { name: 'without-steps-db', grep: WITHOUT_DATABASE, workspace: withoutStepsDb },
  { name: 'demo', grep: IN_DEMO, workspace: demo },
  { name: 'restricted', grep: IN_RESTRICTED_MODE, workspace: demo, restricted: true },
  { name: 'laforge', grep: IN_LAFORGE, workspace: laforge },
  { name: 'other-systems', grep: IN_OTHER_SYSTEMS, workspace: otherSystems },
  { name: 'at-scale', grep: AT_SCALE, workspace: atScale, bench: true },
];
