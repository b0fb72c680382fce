// Builds dist/extension.js and the store worker dist/storeWorker.js (Node, CommonJS, `vscode`
// external) with sql.js's WASM beside them, the command line dist/cli.js (Node, CommonJS,
// the same WASM), and the webview pages' scripts into dist/webview/ (browser, IIFE).
const esbuild = require('esbuild');
const fs = require('fs');
const path = require('path');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const outdir = path.join(__dirname, 'dist');

function copyWasm() {
  const wasm = require.resolve('sql.js/dist/sql-wasm.wasm');
  fs.mkdirSync(outdir, { recursive: true });
  fs.copyFileSync(wasm, path.join(outdir, 'sql-wasm.wasm'));
}

/** Reports build results in the format VS Code's esbuild problem matcher reads. */
const problemMatcherPlugin = {
  name: 'problem-matcher',
  setup(build) {
    build.onStart(() => console.log('[watch] build started'));
    build.onEnd((result) => {
      for (const { text, location } of result.errors) {
        console.error(`✘ [ERROR] ${text}`);
        if (location) console.error(`    ${location.file}:${location.line}:${location.column}:`);
      }
      if (result.errors.length === 0) copyWasm();
      console.log('[watch] build finished');
    });
  },
};

/** The same report for the webview bundle, which has no WASM to copy. */
const webviewProblemMatcherPlugin = {
  name: 'problem-matcher-webview',
  setup(build) {
    build.onEnd((result) => {
      for (const { text, location } of result.errors) {
        console.error(`✘ [ERROR] ${text}`);
        if (location) console.error(`    ${location.file}:${location.line}:${location.column}:`);
      }
    });
  },
};

const shared = {
  bundle: true,
  minify: production,
  sourcemap: !production,
  sourcesContent: false,
  logLevel: 'silent',
};

/** The command line `step-history` (package.json `bin`); also built by its tests. */
function cliOptions(out) {
  return {
    ...shared,
    entryPoints: { cli: 'src/cli/main.ts' },
    format: 'cjs',
    platform: 'node',
    target: 'node18',
    outdir: out,
    banner: { js: '#!/usr/bin/env node' },
  };
}

/** Marks the bundle executable, so the `bin` runs as it is. */
const executablePlugin = {
  name: 'executable',
  setup(build) {
    build.onEnd((result) => {
      if (result.errors.length === 0) fs.chmodSync(path.join(build.initialOptions.outdir, 'cli.js'), 0o755);
    });
  },
};

async function main() {
  const contexts = await Promise.all([
    esbuild.context({
      ...shared,
      entryPoints: { extension: 'src/extension.ts', storeWorker: 'src/core/storeWorker.ts' },
      format: 'cjs',
      platform: 'node',
      target: 'node18',
      outdir,
      external: ['vscode'],
      plugins: [problemMatcherPlugin],
    }),
    esbuild.context({ ...cliOptions(outdir), plugins: [webviewProblemMatcherPlugin, executablePlugin] }),
    esbuild.context({
      ...shared,
      entryPoints: { details: 'src/webview/details.ts', analytics: 'src/webview/analytics.ts' },
      format: 'iife',
      platform: 'browser',
      target: 'es2022',
      outdir: path.join(outdir, 'webview'),
      plugins: [webviewProblemMatcherPlugin],
    }),
  ]);
  if (watch) {
    await Promise.all(contexts.map((ctx) => ctx.watch()));
  } else {
    const results = await Promise.allSettled(contexts.map((ctx) => ctx.rebuild()));
    await Promise.all(contexts.map((ctx) => ctx.dispose()));
    if (results.some((r) => r.status === 'rejected')) process.exit(1);
  }
}

module.exports = { cliOptions };

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
