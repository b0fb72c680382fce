/**
 * The integration suites' root titles (no `vscode` import: the harness reads these too). Each
 * names the workspace its tests need; the harness opens that workspace and runs only the
 * matching suite (mocha `grep`), one editor session per workspace.
 */
export const WITH_DATABASE = 'In a workspace with a steps.db';
export const WITHOUT_DATABASE = 'In a workspace without a step database';
export const IN_DEMO = 'In the demo workspace';
export const IN_RESTRICTED_MODE = 'In an untrusted workspace, in Restricted Mode';
export const IN_LAFORGE = 'In a LaForge project found under ~/.laforge';
export const IN_OTHER_SYSTEMS = 'In a workspace with the other systems\' databases';
/** Measurements, not tests of behaviour: run by `npm run bench`, never by `npm test`. */
export const AT_SCALE = 'With 100,000 steps, measured for the benchmark';

/** Where the harness leaves the demo workspace's description (DemoWorkspace as JSON) for the tests. */
export const DEMO_DESCRIPTION = '.git/step-history-demo.json';
/** Where the harness leaves the LaForge fixture's description (LaforgeFixture as JSON). */
export const LAFORGE_DESCRIPTION = '.git/step-history-laforge.json';
/** Where the harness leaves the other systems' fixtures' descriptions ({ llmo, studio, constellation }) for the tests. */
export const SYSTEMS_DESCRIPTION = '.step-history-systems.json';
