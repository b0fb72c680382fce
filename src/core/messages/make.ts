/**
 * How a section of the catalogue declares an error: its class, its code and the sentence its
 * facts make, through `@vscode/l10n` (English when no bundle is loaded: the command line, the
 * store worker). Each maker stamps the error with its facts; `failures` (messages/index.ts)
 * adds its name, so the sentence can be made again where a bundle is loaded.
 */
import {
  ApiError,
  type ApiErrorCode,
  type Facts,
  GitError,
  type GitErrorCode,
  RollbackError,
  type RollbackErrorCode,
  StepDbError,
  type StepDbErrorCode,
  StepFieldError,
  StepLogError,
  type StepLogErrorCode,
} from '../errors';

export type { Facts };

export const db =
  <F extends Facts>(code: StepDbErrorCode, say: (f: F) => string) =>
  (facts: F, detail?: string): StepDbError =>
    stamp(new StepDbError(code, say(facts), detail), facts);

export const git =
  <F extends Facts>(code: GitErrorCode, say: (f: F) => string) =>
  (facts: F, detail?: string): GitError =>
    stamp(new GitError(code, say(facts), detail), facts);

export const log =
  <F extends Facts>(code: StepLogErrorCode, say: (f: F) => string) =>
  (facts: F, detail?: string): StepLogError =>
    stamp(new StepLogError(code, say(facts), detail), facts);

export const api =
  <F extends Facts>(code: ApiErrorCode, say: (f: F) => string) =>
  (facts: F, detail?: string): ApiError =>
    stamp(new ApiError(code, say(facts), detail), facts);

/** A step's field that does not serve the operation: `field` names it, the facts name the step (`stepId`, `label`). */
export const field =
  <F extends Facts & { stepId: number }>(fieldName: string, say: (f: F) => string) =>
  (facts: F): StepFieldError =>
    stamp(new StepFieldError(facts.stepId, fieldName, say(facts)), facts);

/** A rollback or undo refused or stopped: its sentence, and what the user can do (`remedy`; undefined when nothing). */
export const rollback =
  <F extends Facts>(code: RollbackErrorCode, say: (f: F) => string, remedy?: (f: F) => string | undefined) =>
  (facts: F, options: { detail?: string; reasons?: readonly string[] } = {}): RollbackError =>
    stamp(new RollbackError(code, say(facts), remedy?.(facts), options.detail, options.reasons ?? []), facts);

function stamp<E extends { facts?: Facts }>(err: E, facts: Facts): E {
  err.facts = facts;
  return err;
}
