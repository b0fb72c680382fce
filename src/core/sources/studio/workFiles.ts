/**
 * An artifact's file in its session's work_dir, as the documented schema names them. The files
 * are overwritten in place and the artifacts table keeps only each version's content_hash (a
 * SHA-256 hex digest, docs/internal/DATABASE_SCHEMA.md), so only an artifact's newest version can
 * be on disk, and its hash tells whether the file is still that version or a later edit.
 *
 * work_dir is relative to the app's working folder in the app's own code (`projects/<id>`): it is
 * tried under the database's folder, then under the folder above it (where the app's `data/`
 * files sit). file_path is relative to work_dir unless absolute; a relative path that starts with
 * work_dir itself, as the app's state keeps them (`projects/<id>/docs/PRD.md`), is read from
 * work_dir's own base. Both come from the database: a path that leads out of work_dir is refused.
 */
import * as crypto from 'crypto';
import * as path from 'path';
import type { SourceContext } from '../types';

/** How a file on disk compares with the version's content_hash. */
export type HashCheck = 'matches' | 'differs' | 'none' | 'unchecked';

export type WorkFile =
  | { kind: 'noWorkDir' }
  /** file_path leads out of work_dir: not read. */
  | { kind: 'outside' }
  /** Inside work_dir, but no readable text file there (missing, binary, too large, a link out). */
  | { kind: 'notRead' }
  | { kind: 'onDisk'; text: string; hash: HashCheck };

const segments = (p: string): string[] => p.replace(/\\/g, '/').split('/').filter((s) => s !== '' && s !== '.');

/** `filePath` as a relative path inside `workDirAbs`, or null when it leads out of it. */
function pathInWorkDir(workDir: string, filePath: string, workDirAbs: string): string | null {
  let rel: string;
  if (path.isAbsolute(filePath)) {
    rel = path.relative(workDirAbs, filePath);
  } else {
    const file = segments(filePath);
    const own = path.isAbsolute(workDir) ? [] : segments(workDir);
    const fromBase = own.length > 0 && own.length < file.length && own.every((s, i) => file[i] === s);
    rel = path.posix.normalize((fromBase ? file.slice(own.length) : file).join('/'));
  }
  rel = rel.replace(/\\/g, '/');
  if (rel === '' || rel === '.' || rel === '..' || rel.startsWith('../') || path.isAbsolute(rel)) return null;
  return rel;
}

/**
 * Whether `text` is the content whose SHA-256 `recorded` holds (hex, any case, `sha256:` allowed).
 * The text is hashed as UTF-8, which is the file's bytes whenever the file is valid UTF-8.
 */
export function checkHash(text: string, recorded: string | null): HashCheck {
  const stored = recorded?.trim();
  if (!stored) return 'none';
  const hex = /^(?:sha256:)?([0-9a-f]{64})$/i.exec(stored)?.[1];
  if (!hex) return 'unchecked';
  return crypto.createHash('sha256').update(text, 'utf8').digest('hex') === hex.toLowerCase() ? 'matches' : 'differs';
}

/** The artifact's file under the session's work_dir, through the context's reader. */
export function readWorkFile(context: SourceContext, workDir: string | null, filePath: string, recordedHash: string | null): WorkFile {
  if (!workDir?.trim()) return { kind: 'noWorkDir' };
  const dbFolder = path.dirname(context.path);
  const bases = path.isAbsolute(workDir) ? [workDir] : [path.resolve(dbFolder, workDir), path.resolve(dbFolder, '..', workDir)];
  let inside = false;
  for (const base of bases) {
    const rel = pathInWorkDir(workDir, filePath, base);
    if (rel === null) continue;
    inside = true;
    const text = context.readFileUnder?.(base, rel) ?? null;
    if (text !== null) return { kind: 'onDisk', text, hash: checkHash(text, recordedHash) };
  }
  return inside ? { kind: 'notRead' } : { kind: 'outside' };
}
