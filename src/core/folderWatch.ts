/** Watching a folder for any change, where the platform allows, recursively. */
import * as fs from 'node:fs';
import { silentLogger, type Logger } from './log';

export interface FolderWatch {
  dispose(): void;
}

/**
 * Calls `onChange` when anything under `folder` changes: recursively where the platform can
 * (unless `recursive` is false), else the folder itself. An error (the folder removed) is reported as a change too, so the
 * caller reads again and finds the work tree gone.
 */
export function watchFolder(folder: string, onChange: () => void, log: Logger = silentLogger, options: { recursive?: boolean } = {}): FolderWatch {
  let watcher: fs.FSWatcher | undefined;
  try {
    watcher = fs.watch(folder, { recursive: options.recursive ?? true, persistent: false }, () => onChange());
  } catch (err) {
    try {
      watcher = fs.watch(folder, { persistent: false }, () => onChange());
      log.info(`[worktrees] watching ${folder} without its subfolders: ${String(err)}`);
    } catch (again) {
      log.info(`[worktrees] cannot watch ${folder}: ${String(again)}`);
      return { dispose() {} };
    }
  }
  watcher.on('error', () => {
    watcher?.close();
    onChange();
  });
  return { dispose: () => watcher?.close() };
}
