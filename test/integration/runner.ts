/**
 * Runs the integration suite inside a VS Code extension host, with the real `vscode` API.
 * Bundled with mocha and the tests into one file (test/harness/buildRunner.ts), which is both:
 *  - the main of a small test-runner extension installed beside Step History in code-server:
 *    with STEP_HISTORY_TEST_AUTORUN=1 it runs the suite once startup has finished;
 *  - the `extensionTestsPath` module for @vscode/test-electron, which calls `run()`.
 * Either way the results go to STEP_HISTORY_TEST_RESULTS as JSON, written atomically.
 *
 * Environment: STEP_HISTORY_TEST_GREP selects the suite for the open workspace (its root title).
 */
import * as fs from 'fs';
import Mocha from 'mocha';
import * as vscode from 'vscode';
import { loadTests } from 'step-history:integration-tests';
import { metrics } from './support';

interface TestResult {
  fullTitle: string;
  state: 'passed' | 'failed' | 'pending';
  durationMs: number;
  error?: { message: string; stack?: string };
}

export interface SuiteResults {
  host: { appName: string; version: string; node: string };
  /** Set when the suite could not run at all (a test file threw while loading, ...). */
  runError?: string;
  grep: string | null;
  passed: number;
  failed: number;
  pending: number;
  durationMs: number;
  tests: TestResult[];
  metrics: Record<string, number>;
}

let startupFinished: () => void;
/** Resolves once this extension activated (onStartupFinished): eager activations are done by then. */
const afterStartup = new Promise<void>((resolve) => (startupFinished = resolve));

export function activate(): void {
  startupFinished();
  if (process.env.STEP_HISTORY_TEST_AUTORUN === '1') {
    // Not awaited: activation must return; the results file tells the harness how it went.
    void run().catch((err) => console.error('[test-runner]', err));
  }
}

export function deactivate(): void {}

let running: Promise<void> | undefined;

export function run(): Promise<void> {
  running ??= runOnce();
  return running;
}

async function runOnce(): Promise<void> {
  try {
    await runSuite();
  } catch (err) {
    // Tell the harness now rather than let it wait for its time-out.
    const target = process.env.STEP_HISTORY_TEST_RESULTS;
    if (target && !fs.existsSync(target)) {
      writeResults(target, {
        host: { appName: vscode.env.appName, version: vscode.version, node: process.version },
        runError: err instanceof Error ? err.stack ?? err.message : String(err),
        grep: process.env.STEP_HISTORY_TEST_GREP || null,
        passed: 0, failed: 0, pending: 0, durationMs: 0, tests: [], metrics,
      });
    }
    throw err;
  }
}

function writeResults(target: string, results: SuiteResults): void {
  fs.writeFileSync(`${target}.tmp`, JSON.stringify(results, null, 2));
  fs.renameSync(`${target}.tmp`, target);
}

async function runSuite(): Promise<void> {
  await Promise.race([
    afterStartup,
    new Promise((_, reject) => setTimeout(() => reject(new Error('the test-runner extension was not activated within 60 s')), 60_000)),
  ]);
  const grep = process.env.STEP_HISTORY_TEST_GREP || null;
  const mocha = new Mocha({ ui: 'bdd', timeout: 20_000, color: false, reporter: SilentCollector });
  if (grep) mocha.grep(grep);
  mocha.suite.emit('pre-require', globalThis, 'integration', mocha);
  loadTests();

  const started = Date.now();
  const results: TestResult[] = [];
  await new Promise<void>((resolve) => {
    const runner = mocha.run(() => resolve());
    runner.on('pass', (test) => results.push({ fullTitle: test.fullTitle(), state: 'passed', durationMs: test.duration ?? 0 }));
    runner.on('pending', (test) => results.push({ fullTitle: test.fullTitle(), state: 'pending', durationMs: 0 }));
    runner.on('fail', (test, err: Error) =>
      results.push({ fullTitle: test.fullTitle(), state: 'failed', durationMs: test.duration ?? 0, error: { message: String(err?.message ?? err), stack: err?.stack } }),
    );
  });

  const summary: SuiteResults = {
    host: { appName: vscode.env.appName, version: vscode.version, node: process.version },
    grep,
    passed: results.filter((r) => r.state === 'passed').length,
    failed: results.filter((r) => r.state === 'failed').length,
    pending: results.filter((r) => r.state === 'pending').length,
    durationMs: Date.now() - started,
    tests: results,
    metrics,
  };
  const target = process.env.STEP_HISTORY_TEST_RESULTS;
  if (target) writeResults(target, summary);
  for (const r of results) console.log(`[test-runner] ${r.state.padEnd(7)} ${r.fullTitle}${r.error ? `: ${r.error.message}` : ''}`);
  if (summary.failed > 0) throw new Error(`${summary.failed} integration test(s) failed`);
  if (summary.passed === 0) throw new Error(`no integration test ran${grep ? ` for "${grep}"` : ''}`);
}

/** Mocha needs a reporter; results are collected from the runner's events above. */
class SilentCollector extends Mocha.reporters.Base {}
