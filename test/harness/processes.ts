/**
 * Every long-lived process the harness starts is registered here and stopped when the run ends:
 * normally, on an error, and on Ctrl-C or SIGTERM. Each runs in its own process group
 * (`detached`), so stopping it also stops what it started (code-server's extension host,
 * its file watcher, ...).
 */
import { ChildProcess } from 'child_process';
import { log } from './log';

const running = new Set<ChildProcess>();
const cleanups: Array<() => Promise<void>> = [];

export function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
}

/** Registers async cleanup (closing the browser) to run before processes are killed. */
export function onCleanup(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

const hasExited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/**
 * Stops one tracked process group: SIGTERM, then SIGKILL if the leader is still there after
 * `graceMs`, and finally SIGKILL for whatever of its group outlived the leader.
 */
export async function stop(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (!hasExited(child)) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    signalGroup(child, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
  signalGroup(child, 'SIGKILL');
  running.delete(child);
}

export async function stopAll(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) {
    await fn().catch((err) => log('cleanup', `error during cleanup: ${err}`));
  }
  await Promise.all([...running].map((child) => stop(child)));
}

let interrupted = false;

/** True once Ctrl-C or SIGTERM arrived: callers stop starting work and stay quiet. */
export function wasInterrupted(): boolean {
  return interrupted;
}

/** Ctrl-C / SIGTERM: stop everything, then exit with the conventional status. */
export function stopAllOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (interrupted) return;
      interrupted = true;
      log('cleanup', `${signal} received; stopping ${running.size} process group(s)`);
      const hardStop = setTimeout(() => {
        for (const child of running) signalGroup(child, 'SIGKILL');
        process.exit(130);
      }, 8000);
      void stopAll().finally(() => {
        clearTimeout(hardStop);
        process.exit(signal === 'SIGINT' ? 130 : 143);
      });
    });
  }
  // Last resort if the process exits some other way: no group outlives the harness.
  process.on('exit', () => {
    for (const child of running) signalGroup(child, 'SIGKILL');
  });
}
