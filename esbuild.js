// Builds dist/extension.js and the store worker dist/storeWorker.js (Node, CommonJS, `vscode`
// external) and puts sql.js's WASM beside them.
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

async function main() {
  const ctx = await esbuild.context({
    entryPoints: { extension: 'src/extension.ts', storeWorker: 'src/core/storeWorker.ts' },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node18',
    outdir,
    external: ['vscode'],
    minify: production,
    sourcemap: !production,
    sourcesContent: false,
    logLevel: 'silent',
    plugins: [problemMatcherPlugin],
  });
  if (watch) {
    await ctx.watch();
  } else {
    await ctx.rebuild();
    await ctx.dispose();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
