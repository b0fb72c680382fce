/**
 * The integration suite on desktop VS Code through @vscode/test-electron, for machines that can
 * download VS Code (this one cannot reach Microsoft's servers; there the code-server harness,
 * run.ts, runs the same suite). As with code-server, Step History is installed from the VSIX
 * into a fresh extensions folder, and the test-runner extension is the development extension
 * whose bundle is the `extensionTestsPath`. One VS Code run per workspace the suites need.
 *
 * Usage: tsx test/harness/electron.ts   (needs step-history.vsix: `npm run package`)
 * VSCODE_VERSION picks the VS Code build (default: stable).
 */
import { downloadAndUnzipVSCode, resolveCliArgsFromVSCodeExecutablePath, runTests } from '@vscode/test-electron';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { SuiteResults } from '../integration/runner';
import { buildRunnerBundle, ROOT, RUNNER_DIR, RUNNER_MAIN } from './buildRunner';
import { log } from './log';
import { integrationSessions } from './workspaces';

const VSIX = path.join(ROOT, 'step-history.vsix');

async function main(): Promise<number> {
  if (!fs.existsSync(VSIX)) throw new Error('step-history.vsix is missing: run `npm run package` first');
  await buildRunnerBundle();
  const vscodeExecutablePath = await downloadAndUnzipVSCode(process.env.VSCODE_VERSION || 'stable');
  const [cli, ...cliArgs] = resolveCliArgsFromVSCodeExecutablePath(vscodeExecutablePath);
  // resolveCliArgs adds its own --extensions-dir/--user-data-dir; each session uses fresh ones.
  const baseArgs = cliArgs.filter((a) => !a.startsWith('--extensions-dir') && !a.startsWith('--user-data-dir'));

  let passed = 0;
  let failed = 0;
  const errors: string[] = [];
  for (const spec of integrationSessions) {
    const state = fs.mkdtempSync(path.join(os.tmpdir(), `step-history-electron-${spec.name}-`));
    const resultsDir = path.join(ROOT, 'test-results', 'electron', spec.name);
    fs.rmSync(resultsDir, { recursive: true, force: true });
    fs.mkdirSync(resultsDir, { recursive: true });
    const resultsFile = path.join(resultsDir, 'results.json');
    const userDataDir = path.join(state, 'user-data');
    const extensionsDir = path.join(state, 'extensions');
    const workspace = path.join(state, spec.workspace.name);
    fs.mkdirSync(workspace);
    spec.workspace.make(workspace);
    try {
      const install = spawnSync(cli, [...baseArgs, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--install-extension', VSIX], {
        encoding: 'utf8',
        shell: process.platform === 'win32',
      });
      if (install.status !== 0) throw new Error(`installing the VSIX failed:\n${install.stdout}${install.stderr}`);
      log(spec.name, `suite "${spec.grep}" on ${workspace}`);
      await runTests({
        vscodeExecutablePath,
        extensionDevelopmentPath: RUNNER_DIR,
        extensionTestsPath: RUNNER_MAIN,
        launchArgs: [workspace, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--disable-workspace-trust',
          '--skip-welcome', '--skip-release-notes'],
        extensionTestsEnv: { STEP_HISTORY_TEST_GREP: spec.grep, STEP_HISTORY_TEST_RESULTS: resultsFile },
      }).catch((err) => errors.push(`[${spec.name}] ${err instanceof Error ? err.message : String(err)}`));
      if (!fs.existsSync(resultsFile)) throw new Error('the suite wrote no results');
      const results = JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as SuiteResults;
      for (const t of results.tests) {
        console.log(`    ${t.state === 'passed' ? '✓' : t.state === 'failed' ? '✗' : '-'} ${t.fullTitle}`);
        if (t.error) console.log(`        ${t.error.message}`);
      }
      for (const [name, value] of Object.entries(results.metrics)) log(spec.name, `metric ${name}: ${value}`);
      passed += results.passed;
      failed += results.failed + results.pending;
      if (results.tests.length === 0) errors.push(`[${spec.name}] no tests matched "${spec.grep}"`);
    } catch (err) {
      errors.push(`[${spec.name}] ${(err as Error).message}`);
    } finally {
      fs.rmSync(state, { recursive: true, force: true });
    }
  }
  for (const e of errors) console.log(`integration (electron): ERROR ${e}`);
  console.log(`integration (electron): ${passed} passed, ${failed} failed`);
  return failed === 0 && errors.length === 0 && passed > 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`electron: ${(err as Error).message ?? err}`);
    process.exit(1);
  },
);
