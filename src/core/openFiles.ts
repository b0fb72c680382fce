import * as fs from 'fs';

export interface FileHolder {
  pid: number;
  /** The program's name, as the system reports it. */
  name: string;
}

/**
 * The other processes that have `file` open, where the system tells (Linux's /proc); an empty
 * list elsewhere, and for processes this user may not inspect. A database renamed over while
 * a writer holds it open would keep that writer writing to the old, unlinked file.
 */
export function otherProcessesHolding(file: string): FileHolder[] {
  let target: string;
  let pids: string[];
  try {
    target = fs.realpathSync(file);
    pids = fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
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
      if (link === target) {
        holders.push({ pid: Number(pid), name: processName(pid) });
        break;
      }
    }
  }
  return holders;
}

function processName(pid: string): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() || `process ${pid}`;
  } catch {
    return `process ${pid}`;
  }
}
