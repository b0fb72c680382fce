/**
 * The sentences of the failures met reading a step database, its logs and its steps' fields,
 * and of the extension's API: one maker each, named for what happened.
 */
import * as l10n from '@vscode/l10n';
import { api, db, field, log } from './make';

export const database = {
  // The file itself
  databaseMissing: db<{ path: string }>('FILE_MISSING', (f) => l10n.t('The step database {0} does not exist.', f.path)),
  databaseGone: db<{ path: string }>('FILE_MISSING', (f) => l10n.t('The step database {0} no longer exists.', f.path)),
  databaseIsFolder: db<{ path: string }>('READ_FAILED', (f) => l10n.t('The step database {0} is a folder, not a file.', f.path)),
  databaseUnreadable: db<{ path: string }>('READ_FAILED', (f) => l10n.t('Step History could not read the step database {0}.', f.path)),
  databaseEmpty: db<{ path: string }>('NOT_SQLITE', (f) => l10n.t('The step database {0} is empty (0 bytes), so it holds no steps yet.', f.path)),
  notSqlite: db<{ path: string }>('NOT_SQLITE', (f) => l10n.t('The file {0} is not a SQLite database.', f.path)),
  headerCutOff: db<{ path: string }>('CORRUPT', (f) => l10n.t('The step database {0} is damaged: it is cut off inside its 100-byte header.', f.path)),
  noPageSize: db<{ path: string }>('CORRUPT', (f) => l10n.t('The step database {0} is damaged: its header has no valid page size.', f.path)),
  notWholePages: db<{ path: string; bytes: number; pageSize: number }>('CORRUPT', (f) =>
    l10n.t('The step database {0} is damaged: its size, {1} bytes, is not a whole number of {2}-byte pages, so it is truncated.', f.path, f.bytes, f.pageSize),
  ),
  pagesMissing: db<{ path: string; pages: number; present: number }>('CORRUPT', (f) =>
    l10n.t('The step database {0} is damaged: its header counts {1} pages but only {2} are there, so it is truncated.', f.path, f.pages, f.present),
  ),
  sqliteCannotRead: db<{ path: string }>('CORRUPT', (f) => l10n.t('The step database {0} is damaged: SQLite cannot read it.', f.path)),
  sqliteCannotOpen: db<{ path: string }>('CORRUPT', (f) => l10n.t('SQLite could not open {0}.', f.path)),
  keptChanging: db<{ path: string }>('CHANGED_WHILE_READING', (f) =>
    l10n.t('The step database {0} kept changing while Step History read it. Try again when the step has finished writing.', f.path),
  ),
  databaseTooLarge: db<{ path: string; size: string; beside: string; limit: string }>('TOO_LARGE', (f) =>
    f.beside
      ? l10n.t('The step database {0} is {1} with {2} beside it; Step History can open step databases up to {3} (the stepHistory.maxDatabaseSizeMb setting).', f.path, f.size, f.beside, f.limit)
      : l10n.t('The step database {0} is {1}; Step History can open step databases up to {2} (the stepHistory.maxDatabaseSizeMb setting).', f.path, f.size, f.limit),
  ),
  walTooLarge: db<{ path: string; size: string; limit: string }>('TOO_LARGE', (f) =>
    l10n.t('The step database {0} is {1} with its -wal file; Step History can open step databases up to {2} (the stepHistory.maxDatabaseSizeMb setting).', f.path, f.size, f.limit),
  ),
  outOfMemory: db<{ path: string | null; limitMb: number | null }>('TOO_LARGE', (f) =>
    f.path === null
      ? f.limitMb
        ? l10n.t('Step History ran out of memory reading a step database: its database reader may use up to {0} MB. The reader restarts on the next request.', f.limitMb)
        : l10n.t('Step History ran out of memory reading a step database. The reader restarts on the next request.')
      : f.limitMb
        ? l10n.t('Step History ran out of memory reading the step database {0}: its database reader may use up to {1} MB. The reader restarts on the next request.', f.path, f.limitMb)
        : l10n.t('Step History ran out of memory reading the step database {0}. The reader restarts on the next request.', f.path),
  ),

  // Schemas
  unknownSchema: db<{ path: string; systems: string; holds: string }>('UNSUPPORTED_SCHEMA', (f) => l10n.t('The database {0} was not written by {1}: {2}.', f.path, f.systems, f.holds)),
  noStepsTable: db<{ path: string }>('UNSUPPORTED_SCHEMA', (f) => l10n.t('The database {0} has no steps table, so it is not a LaForge step database.', f.path)),
  stepsColumnsMissing: db<{ path: string; columns: readonly string[] }>('UNSUPPORTED_SCHEMA', (f) =>
    f.columns.length === 1
      ? l10n.t('The steps table in {0} has no {1} column, which Step History needs.', f.path, f.columns[0])
      : l10n.t('The steps table in {0} has no {1} columns, which Step History needs.', f.path, f.columns.join(', ')),
  ),
  constellationColumnsMissing: db<{ table: string; columns: readonly string[] }>('UNSUPPORTED_SCHEMA', (f) =>
    l10n.t("This Constellation database's {0} table lacks the column(s) {1}.", f.table, f.columns.join(', ')),
  ),
  notConstellation: db<{ table: string }>('UNSUPPORTED_SCHEMA', (f) => l10n.t('This is not a Constellation database: it has no {0} table.', f.table)),
  llmoTablesUnreadable: db<Record<string, never>>('UNSUPPORTED_SCHEMA', () => l10n.t("This LLM Orchestration database's tables cannot be read.")),
  llmoTablesMissing: db<Record<string, never>>('UNSUPPORTED_SCHEMA', () =>
    l10n.t('This is not an LLM Orchestration database Step History can read: tables or columns are missing.'),
  ),
  sessionsUnreadable: db<{ path: string | null }>('UNSUPPORTED_SCHEMA', (f) =>
    f.path === null ? l10n.t('The sessions table cannot be read.') : l10n.t('The sessions table of {0} cannot be read.', f.path),
  ),
  notLaforge: db<Record<string, never>>('READ_FAILED', () => l10n.t('This database was written by another system than LaForge: it has no LaForge projects or steps.')),

  // The reader (sql.js in its worker)
  engineMissing: db<Record<string, never>>('READ_FAILED', () => l10n.t('Step History could not load its SQLite engine (sql.js).')),
  readerNotStarted: db<Record<string, never>>('READ_FAILED', () => l10n.t('Step History could not start its database reader.')),
  readerStopped: db<Record<string, never>>('READ_FAILED', () => l10n.t("Step History's database reader stopped unexpectedly. Try again; it restarts on the next request.")),
  readerRestarted: db<Record<string, never>>('READ_FAILED', () => l10n.t("Step History's database reader restarted, so the step database must be opened again.")),
  stoppedReading: db<Record<string, never>>('READ_FAILED', () => l10n.t('Step History has stopped reading step databases.')),
  readUnexpected: db<Record<string, never>>('READ_FAILED', () => l10n.t('Step History could not read the step database: an unexpected error happened. See the log for details.')),
  databaseClosed: db<{ path: string | null }>('READ_FAILED', (f) =>
    f.path === null ? l10n.t('The step database was already closed.') : l10n.t('The step database {0} was already closed.', f.path),
  ),
  databaseNotShown: db<{ path: string }>('READ_FAILED', (f) => l10n.t('The step database {0} is no longer shown.', f.path)),
  databaseNotOpen: db<{ database: string }>('FILE_MISSING', (f) => l10n.t('The step database {0} is no longer open in Step History.', f.database)),
  stepGone: db<{ label: string }>('READ_FAILED', (f) => l10n.t('Step {0} is no longer in the database.', f.label)),
  nodeGone: db<{ ref: string }>('READ_FAILED', (f) => l10n.t('{0} is no longer in the database.', f.ref)),

  // The command line's target
  nothingAt: db<{ target: string }>('FILE_MISSING', (f) => l10n.t('There is no file or folder at {0}.', f.target)),
  noDatabaseIn: db<{ target: string }>('FILE_MISSING', (f) => l10n.t('No step database was found in {0}.', f.target)),

  // Step logs
  logsUnlisted: log<{ folder: string }>('READ_FAILED', (f) => l10n.t('Step History could not list the step logs in {0}.', f.folder)),
  logGone: log<{ file: string }>('LOG_MISSING', (f) => l10n.t('The step log {0} no longer exists.', f.file)),
  logUnreadable: log<{ file: string }>('READ_FAILED', (f) => l10n.t('Step History could not read the step log {0}.', f.file)),

  // A step's fields
  noCommitBefore: field<{ stepId: number; label: string }>('commitBefore', (f) => l10n.t('{0} has no commit before recorded.', f.label)),
  badCommitBefore: field<{ stepId: number; label: string; value: string }>('commitBefore', (f) =>
    l10n.t('{0} has no valid commit before: {1} is not a commit hash.', f.label, f.value),
  ),
  badCommitAfter: field<{ stepId: number; label: string; value: string }>('commitAfter', (f) =>
    l10n.t('{0} has no valid commit after: {1} is not a commit hash.', f.label, f.value),
  ),
  runningNoCommitAfter: field<{ stepId: number; label: string }>('commitAfter', (f) => l10n.t('{0} is still running and has no commit after yet.', f.label)),
  noCommitAfter: field<{ stepId: number; label: string }>('commitAfter', (f) => l10n.t('{0} has no commit after recorded.', f.label)),
  noStartTime: field<{ stepId: number; label: string }>('startTime', (f) => l10n.t('{0} has no start time.', f.label)),
  badStartTime: field<{ stepId: number; label: string; value: string }>('startTime', (f) =>
    l10n.t("{0}'s start time {1} is not a date Step History can read.", f.label, f.value),
  ),
  runningNoCommit: field<{ stepId: number; label: string }>('commitAfter', (f) => l10n.t('{0} is still running and has no commit yet.', f.label)),
  madeNoCommit: field<{ stepId: number; label: string }>('commit', (f) => l10n.t('{0} made no commit.', f.label)),

  // The API
  unknownDatabase: api<{ id: string }>('UNKNOWN_DATABASE', (f) => l10n.t('Step History has no database {0}.', f.id)),
  unknownStep: api<{ database: string; label: string }>('UNKNOWN_STEP', (f) => l10n.t('The database {0} has no step {1}.', f.database, f.label)),
};
