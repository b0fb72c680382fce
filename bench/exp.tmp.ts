import { StepStore } from '/work/main/src/core/stepStore';
import { analyticsCharts, readTheme } from '/work/main/src/webview/analyticsCharts';
(async () => {
  const store = await StepStore.open('/work/main/bench/.work/steps-100000.db', { wasmPath: '/work/main/node_modules/sql.js/dist/sql-wasm.wasm' });
  const a = store.analytics({ sinceMs: null, grouping: 'step' });
  const theme = readTheme({ getPropertyValue: () => '' }, 'vscode-dark');
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    analyticsCharts(a, theme, { widthPx: 400 });
    console.log('charts', performance.now() - t);
  }
  const t = performance.now();
  JSON.parse(JSON.stringify(a));
  console.log('json roundtrip', performance.now() - t, JSON.stringify(a).length);
})();
