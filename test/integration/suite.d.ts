/**
 * Generated at build time by test/harness/buildRunner.ts: loads every test/integration/*.test.ts
 * into mocha's globals. A virtual module, so adding a test file needs no list to update.
 */
declare module 'step-history:integration-tests' {
  export function loadTests(): void;
}
