/**
 * Builds the test-runner extension into out/runner-extension: test/runner-extension/package.json
 * plus one bundle of test/integration/runner.ts, mocha and every test/integration/*.test.ts
 * (`vscode` stays external). The extension host has no node_modules for it, so everything it
 * needs is in the bundle. Then packs it as a VSIX for code-server's --install-extension.
 */
import * as esbuild from 'esbuild';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const RUNNER_DIR = path.join(ROOT, 'out', 'runner-extension');
export const RUNNER_MAIN = path.join(RUNNER_DIR, 'dist', 'runner.js');
export const RUNNER_VSIX = path.join(ROOT, 'out', 'step-history-test-runner.vsix');

const INTEGRATION_DIR = path.join(ROOT, 'test', 'integration');
const SUITE_MODULE = 'step-history:integration-tests';

/** Test files in name order, so runs are repeatable. */
export function integrationTestFiles(): string[] {
  return fs.readdirSync(INTEGRATION_DIR).filter((f) => f.endsWith('.test.ts')).sort().map((f) => path.join(INTEGRATION_DIR, f));
}

const suitePlugin: esbuild.Plugin = {
  name: 'integration-tests',
  setup(build) {
    build.onResolve({ filter: /^step-history:integration-tests$/ }, () => ({ path: SUITE_MODULE, namespace: 'suite' }));
    build.onLoad({ filter: /.*/, namespace: 'suite' }, () => {
      const files = integrationTestFiles();
      // require() inside the function: esbuild then defers each file's top level until mocha's
      // globals (describe, it) exist.
      const body = files.map((f) => `  require(${JSON.stringify(f)});`).join('\n');
      return { contents: `export function loadTests() {\n${body}\n}\n`, loader: 'ts', resolveDir: INTEGRATION_DIR, watchFiles: files };
    });
  },
};

export async function buildRunnerBundle(): Promise<void> {
  fs.rmSync(RUNNER_DIR, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(RUNNER_MAIN), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'test', 'runner-extension', 'package.json'), path.join(RUNNER_DIR, 'package.json'));
  const result = await esbuild.build({
    entryPoints: [path.join(INTEGRATION_DIR, 'runner.ts')],
    outfile: RUNNER_MAIN,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: ['vscode'],
    sourcemap: 'inline',
    logLevel: 'warning',
    // mocha's parallel mode (unused here) resolves worker files at run time; bundling cannot follow.
    logOverride: { 'require-resolve-not-external': 'silent' },
    plugins: [suitePlugin],
  });
  if (result.errors.length > 0) throw new Error('building the integration test bundle failed');
}

export function packRunnerExtension(): void {
  fs.writeFileSync(path.join(RUNNER_DIR, 'LICENSE'), fs.readFileSync(path.join(ROOT, 'LICENSE')));
  const vsce = path.join(ROOT, 'node_modules', '.bin', 'vsce');
  const r = spawnSync(vsce, ['package', '--no-dependencies', '--allow-missing-repository', '--out', RUNNER_VSIX], {
    cwd: RUNNER_DIR,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`vsce could not pack the test runner:\n${r.stdout}${r.stderr}`);
}

export async function buildRunnerExtension(): Promise<void> {
  await buildRunnerBundle();
  packRunnerExtension();
}

if (require.main === module) {
  buildRunnerExtension().then(
    () => console.log(`built ${path.relative(ROOT, RUNNER_VSIX)}`),
    (err) => {
      console.error(err.message ?? err);
      process.exit(1);
    },
  );
}
