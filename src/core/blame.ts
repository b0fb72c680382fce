/**
 * `git blame --porcelain` read into lines: which commit last changed each line of a file as it
 * is in the work tree (a line not committed yet has no commit), with the commit's author, time
 * and summary and the file's name in that commit (blame follows a file's renames). Pure: the
 * git process is GitRepository.blame's.
 */

/** A commit as blame names it: once per commit, however many lines it wrote. */
export interface BlameCommit {
  /** The full hash; null for lines not committed yet. */
  commit: string | null;
  author: string;
  authorMail: string;
  /** The author's time, ms since the epoch; null when git gave none. */
  authorTimeMs: number | null;
  summary: string;
  /** The file's path in that commit (another name when the file was renamed since). */
  filename: string;
  /** The commit is the range's boundary (blame looked no further back). */
  boundary: boolean;
}

export interface BlameLine {
  /** 1-based, in the file as blamed. */
  line: number;
  /** 1-based, in the file as `commit` left it. */
  originalLine: number;
  info: BlameCommit;
}

/** The hash git writes for lines not committed yet. */
const NOT_COMMITTED = /^0{40}$|^0{64}$/;
const HEADER = /^([0-9a-f]{40}|[0-9a-f]{64}) (\d+) (\d+)(?: (\d+))?$/;

/** Each line of `git blame --porcelain`'s output, in order. Throws on output that is not porcelain. */
export function parseBlamePorcelain(output: string): BlameLine[] {
  const commits = new Map<string, BlameCommit>();
  const lines: BlameLine[] = [];
  const rows = output.split('\n');
  let i = 0;
  while (i < rows.length) {
    const row = rows[i];
    if (row === '' && i === rows.length - 1) break;
    const header = HEADER.exec(row);
    if (!header) throw new Error(`not git blame --porcelain output at line ${i + 1}: ${JSON.stringify(row.slice(0, 80))}`);
    const sha = header[1];
    let info = commits.get(sha);
    if (!info) {
      info = { commit: NOT_COMMITTED.test(sha) ? null : sha, author: '', authorMail: '', authorTimeMs: null, summary: '', filename: '', boundary: false };
      commits.set(sha, info);
    }
    i++;
    // The commit's headers (the first time it appears) and the file's name, up to the line's text.
    for (; i < rows.length && !rows[i].startsWith('\t'); i++) {
      const r = rows[i];
      const space = r.indexOf(' ');
      const key = space < 0 ? r : r.slice(0, space);
      const value = space < 0 ? '' : r.slice(space + 1);
      if (key === 'author') info.author = value;
      else if (key === 'author-mail') info.authorMail = value;
      else if (key === 'author-time') info.authorTimeMs = /^\d+$/.test(value) ? Number(value) * 1000 : null;
      else if (key === 'summary') info.summary = value;
      else if (key === 'filename') info.filename = value;
      else if (key === 'boundary') info.boundary = true;
    }
    if (i >= rows.length) throw new Error(`git blame --porcelain output ends before the text of line ${header[3]}`);
    i++; // the line's text, after its tab
    lines.push({ line: Number(header[3]), originalLine: Number(header[2]), info });
  }
  return lines;
}
