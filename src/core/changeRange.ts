/**
 * The commits a step's changes are read between. Today: the step's commit before and commit
 * after as the database records them. Callers ask here only, so that a better answer (the
 * commit a `Step-id` note or a `step-S<N>` branch names) can replace this one in one place.
 */
import { requireCommitRange, type Step } from './model';

export type ChangeRange =
  | { from: string; to: string; source: 'recorded' }
  /** Why there is no usable range: one sentence (a running step, a field LaForge left empty or broken). */
  | { unavailable: string };

export function stepChangeRange(step: Step): ChangeRange {
  try {
    const { before, after } = requireCommitRange(step);
    return { from: before, to: after, source: 'recorded' };
  } catch (err) {
    return { unavailable: err instanceof Error ? err.message : String(err) };
  }
}
