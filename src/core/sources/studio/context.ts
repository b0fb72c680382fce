/**
 * A SourceContext for Autonomous Software Studio files. `SourceContext.openSibling` is
 * synchronous while snapshots open asynchronously, so the siblings a variant reads are opened
 * here beforehand: for 'orchestrator', the `checkpoints.db` in the same folder. Texts (artifact
 * files under `projects/<session_id>/`) are read relative to the database's folder, never from
 * outside the folder above it (the app's root, which holds `data/` and `projects/`).
 */
import * as fs from 'fs';
import * as path from 'path';
import { openSnapshot, sqlReader, type SnapshotOptions } from '../snapshot';
import type { Detection, SourceContext, SqlReader } from '../types';

/** The sibling files each variant reads. */
export const STUDIO_SIBLINGS: Readonly<Record<string, readonly string[]>> = { orchestrator: ['checkpoints.db'] };

/** Texts larger than this are not read. */
const MAX_TEXT_FILE = 5 * 1024 * 1024;

export interface StudioContext extends SourceContext {
  /** Closes the siblings it opened that no source took over. */
  close(): void;
}

export async function openStudioContext(dbPath: string, detection: Detection, options: SnapshotOptions = {}): Promise<StudioContext> {
  const dir = path.dirname(path.resolve(dbPath));
  const root = path.dirname(dir);
  const siblings = new Map<string, SqlReader & { close(): void }>();
  for (const file of STUDIO_SIBLINGS[detection.variant] ?? []) {
    const p = path.join(dir, file);
    if (!fs.existsSync(p)) continue;
    const snap = await openSnapshot(p, options);
    siblings.set(file, sqlReader(snap.db, p, options.log));
  }
  const taken = new Set<string>();
  return {
    path: dbPath,
    openSibling(file: string): SqlReader | null {
      const r = siblings.get(file) ?? null;
      if (r) taken.add(file);
      return r;
    },
    readText(file: string): string | null {
      const p = path.resolve(dir, file);
      if (p !== root && !p.startsWith(root + path.sep)) return null;
      try {
        const st = fs.statSync(p);
        if (!st.isFile() || st.size > MAX_TEXT_FILE) return null;
        const bytes = fs.readFileSync(p);
        if (bytes.includes(0)) return null;
        return bytes.toString('utf8');
      } catch {
        return null;
      }
    },
    close(): void {
      for (const [file, r] of siblings) if (!taken.has(file)) r.close();
    },
  };
}
