/**
 * Typed errors, born where the failure is found, made by `failures` (core/messages): each
 * carries its code, the facts it was made from and the sentence those make. `message` is
 * always a sentence a user understands; `detail` carries what belongs in the log (stderr,
 * SQLite's own message).
 */
import type { Logger } from './log';

/** What an error was made from: the values its sentence names (a path, a step's label, a count). */
export type Facts = Readonly<Record<string, string | number | boolean | null | readonly string[]>>;

/** Set on an error by the maker in core/messages that made it: its name there, and its facts. */
export interface MadeError {
  /** The maker's name in `failures` (`databaseMissing`, …); the sentence can be made again from it and `facts`. */
  messageId?: string;
  facts?: Facts;
}

export type StepDbErrorCode =
  | 'FILE_MISSING'
  | 'NOT_SQLITE'
  | 'CORRUPT'
  | 'UNSUPPORTED_SCHEMA'
  | 'CHANGED_WHILE_READING'
  /** Too large for the memory Step History's database reader may use: refused before reading, or it ran out. */
  | 'TOO_LARGE'
  | 'READ_FAILED';

export class StepDbError extends Error implements MadeError {
  messageId?: string;
  facts?: Facts;
  override readonly name = 'StepDbError';
  constructor(
    readonly code: StepDbErrorCode,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}

export type GitErrorCode =
  | 'GIT_MISSING'
  | 'REPOSITORY_MISSING'
  | 'NOT_A_REPOSITORY'
  | 'INVALID_COMMIT'
  | 'UNKNOWN_COMMIT'
  | 'NOT_IN_COMMIT'
  | 'GIT_FAILED';

export class GitError extends Error implements MadeError {
  messageId?: string;
  facts?: Facts;
  override readonly name = 'GitError';
  constructor(
    readonly code: GitErrorCode,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}

/** A step whose stored field is unusable for the operation asked of it. */
export class StepFieldError extends Error implements MadeError {
  messageId?: string;
  facts?: Facts;
  override readonly name = 'StepFieldError';
  constructor(
    readonly stepId: number,
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export type StepLogErrorCode = 'LOG_MISSING' | 'READ_FAILED';

/** A step log that was found but could not be read. */
export class StepLogError extends Error implements MadeError {
  messageId?: string;
  facts?: Facts;
  override readonly name = 'StepLogError';
  constructor(
    readonly code: StepLogErrorCode,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}

export type RollbackErrorCode =
  | 'REFUSED'
  | 'NEEDS_PROTECTION'
  | 'DATABASE_CHANGED'
  | 'DATABASE_BUSY'
  | 'DATABASE_WAL_UNKNOWN'
  | 'DATABASE_MISSING'
  | 'BRANCH_MOVED'
  | 'NEW_WORK'
  | 'NOTHING_TO_UNDO'
  | 'WRITE_FAILED';

/**
 * A rollback or undo that stopped, or would not start; `remedy` says what the user can do.
 * `reasons` are the codes of what refused it (a plan's refusals, `ROLLBACK_UNDER_WAY`), for
 * telling a passing state from a failure (isPassingState).
 */
export class RollbackError extends Error implements MadeError {
  messageId?: string;
  facts?: Facts;
  override readonly name = 'RollbackError';
  constructor(
    readonly code: RollbackErrorCode,
    message: string,
    readonly remedy?: string,
    readonly detail?: string,
    readonly reasons: readonly string[] = [],
  ) {
    super(message);
  }
}

/**
 * The refusals that are a passing state, not a failure: each ends by itself, with nothing for
 * the user to fix. A step still running finishes; a program holding the step database open
 * closes it; another rollback or undo of this window ends.
 */
export const PASSING_STATES: ReadonlySet<string> = new Set(['STEP_RUNNING', 'DATABASE_BUSY', 'ROLLBACK_UNDER_WAY']);

/**
 * Whether `err` reports a passing state rather than a failure: a RollbackError every reason
 * of which is one of PASSING_STATES. Such a state is shown as a warning that goes away, never
 * as an error that stays. The one place this is decided.
 */
export function isPassingState(err: unknown): err is RollbackError {
  return err instanceof RollbackError && err.reasons.length > 0 && err.reasons.every((reason) => PASSING_STATES.has(reason));
}

export type ApiErrorCode =
  /** No database of that id is found or added. */
  | 'UNKNOWN_DATABASE'
  /** The database has no step of that id. */
  | 'UNKNOWN_STEP';

/** A call of the extension's API that names something Step History does not have: a typed rejection, not an unexpected error. */
export class ApiError extends Error implements MadeError {
  messageId?: string;
  facts?: Facts;
  override readonly name = 'ApiError';
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}

export type StepHistoryError = StepDbError | GitError | StepFieldError | RollbackError | StepLogError | ApiError;

export function isStepHistoryError(err: unknown): err is StepHistoryError {
  return (
    err instanceof StepDbError ||
    err instanceof GitError ||
    err instanceof StepFieldError ||
    err instanceof RollbackError ||
    err instanceof StepLogError ||
    err instanceof ApiError
  );
}

/**
 * The one place an unknown failure becomes a sentence for the user plus a detail for the log.
 * A typed error was raised on purpose, so its detail is what it carries (stderr, SQLite's
 * message), possibly nothing; only an unexpected error brings its stack. `whereDetails` says
 * where that stack can be read (the editor's log, or the command line's `--verbose`).
 */
export function describeError(err: unknown, whereDetails = 'See the log for details.'): { message: string; detail: string } {
  if (isStepHistoryError(err)) {
    const detail = 'detail' in err && err.detail ? err.detail : '';
    const message = err instanceof RollbackError && err.remedy ? `${err.message} ${err.remedy}` : err.message;
    return { message, detail };
  }
  if (err instanceof Error) {
    return { message: `Step History hit an unexpected error. ${whereDetails}`, detail: err.stack ?? err.message };
  }
  return { message: `Step History hit an unexpected error. ${whereDetails}`, detail: String(err) };
}

/**
 * Logs a failure met while doing `what`, as much as it deserves:
 * - a StepFieldError is an expected state of a step (still running, so no commit after yet; a
 *   field LaForge left empty), and a passing state (isPassingState): one line at info;
 * - another typed error is a real failure: its sentence and its detail, if any, at `level`;
 * - anything else is unexpected: an error with its stack.
 */
export function logFailure(log: Logger, what: string | undefined, err: unknown, level: 'warn' | 'error' = 'error'): void {
  const { message, detail } = describeError(err);
  const line = what ? `${what}: ${message}` : message;
  if (err instanceof StepFieldError || isPassingState(err)) log.info(line.replace(/\s*[\r\n]+\s*/g, ' '));
  else if (isStepHistoryError(err)) log[level](detail ? `${line}\n${detail}` : line);
  else log.error(`${line}\n${detail}`);
}
