/** What the command line writes, and where: results on stdout, reasons and progress on stderr. */
import { describeError, isStepHistoryError, RollbackError, StepDbError, GitError } from '../core/errors';
import { silentLogger, type Logger } from '../core/log';
import { safeText } from '../shared/safeText';

export const EXIT_DONE = 0;
export const EXIT_REFUSED = 1;
export const EXIT_USAGE = 2;
export const EXIT_UNEXPECTED = 3;

/** The version of every JSON object the command line prints. */
export const JSON_VERSION = 1;

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** Wrong arguments: the message, then the usage text, on stderr; exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function stderrLogger(io: Io, verbose: boolean): Logger {
  if (!verbose) return silentLogger;
  const line = (level: string) => (message: string) => io.err(`[${level}] ${message}\n`);
  return { trace: line('trace'), debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}

export interface ErrorReport {
  /** The typed error's code (`REFUSED`, `NEEDS_PROTECTION`, `FILE_MISSING`, `UNKNOWN_COMMIT`, …); null for an unexpected error. */
  code: string | null;
  /** The sentence, with the remedy when there is one. */
  message: string;
}

export function errorReport(err: unknown): ErrorReport {
  const code = err instanceof RollbackError || err instanceof StepDbError || err instanceof GitError ? err.code : isStepHistoryError(err) ? 'STEP_FIELD' : null;
  return { code, message: describeError(err, 'Run again with --verbose for its details.').message };
}

/** Says why on stderr (with the detail under --verbose) and returns the exit code. */
export function reportFailure(io: Io, err: unknown, verbose: boolean): number {
  const { message, detail } = describeError(err, 'Run again with --verbose for its details.');
  io.err(`step-history: ${safeText(message)}\n`);
  if (verbose && detail) io.err(`${safeText(detail, { multiline: true })}\n`);
  return isStepHistoryError(err) ? EXIT_REFUSED : EXIT_UNEXPECTED;
}
