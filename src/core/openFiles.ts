import * as fs from 'fs';

export interface FileHolder {
  pid: number;
  /** The program's name, as the system reports it. */
  name: string;
}

/**
 * Who else has any of `files` open: a list (empty when nobody), or null where the system
 * cannot tell. Tests pass their own to stand in for a system without /proc.
 */
export type HolderLookup = (files: readonly string[]) => FileHolder[] | null;

/** Whether this system says which processes hold a file open (Linux's /proc). */
function canTellFileHolders(): boolean {
  return fs.existsSync('/proc/self/fd');
}

/**
 * The other processes that have any of `files` open, where the system tells (Linux's /proc);
 * null elsewhere. Processes this user may not inspect are not seen. A database renamed over
 * while a writer holds it open would keep that writer writing to the old, unlinked file.
 */
export const holdersOf: HolderLookup = (files) => {
  if (!canTellFileHolders()) return null;
  const targets = new Set<string>();
  for (const file of files) {
    try {
      targets.add(fs.realpathSync(file));
    } catch {
      // not there: nobody holds it
    }
  }
  if (targets.size === 0) return [];
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  const holders: FileHolder[] = [];
  for (const pid of pids) {
    if (Number(pid) === process.pid) continue;
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to inspect
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (targets.has(link)) {
        holders.push({ pid: Number(pid), name: processName(pid) });
        break;
      }
    }
  }
  return holders;
};

function processName(pid: string): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() || `process ${pid}`;
  } catch {
    return `process ${pid}`;
  }
}
