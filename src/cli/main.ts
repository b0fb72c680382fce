/**
 * `step-history`: the command line for people and scripts. Reads step databases as the
 * editor does, and rolls back and undoes with the editor's rules and its journals.
 * Exit codes: 0 done, 1 refused (the reason on stderr), 2 bad usage, 3 unexpected error.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'node:util';
import { rollbackJournalDir } from '../core/stateDir';
import { inspect, inspectText, TEXT_LIMIT } from './inspect';
import { EXIT_DONE, EXIT_REFUSED, EXIT_UNEXPECTED, EXIT_USAGE, errorReport, JSON_VERSION, reportFailure, stderrLogger, UsageError, type Io } from './io';
import { locateDatabases } from './locate';
import { rollbackCommand, undoCommand } from './rollback';

export const USAGE = `Usage:
  step-history inspect PATH [--project ID] [--repo DIR] [--limit N] [--json]
  step-history rollback PATH --project ID --step N [--repo DIR] [--protect] [--assume-no-writer] [--restore-tasks] [--yes] [--json]
  step-history undo [--repo DIR] [--yes] [--json]

PATH is a database file of LaForge, Autonomous Software Studio, LLM Orchestration or
Constellation, a LaForge project folder (~/.laforge/projects/<id>), or a folder to look for
databases in (**/steps.db, **/data/orchestrator.db, **/data/llm_orchestration.db). --repo is the git work tree of the steps' commits (default:
the database's folder, or the repository_path of the LaForge project).

  inspect     the projects and steps, with the files each step changed (--json); another
              system's database as its tree, each step with what it changed
  rollback    plans the rollback to before step N and prints the plan; --yes carries it out
  undo        says which rollback it would undo (the newest, of --repo when given); --yes undoes it

  --protect           keep uncommitted work and commits no step recorded in a stash and a backup ref first
  --assume-no-writer  go ahead where it cannot be known whether an agent still writes the database
  --restore-tasks     also put the older LaForge's tasks-S<N>.db in place of tasks.db (the current one kept; undo puts it back)
  --limit N           inspect, another system's tree: at most N nodes under each node (default 20 in
                      the text, all in --json), and in the text at most N changes per step
  --json              one JSON object on stdout (see the README)
  --verbose           log lines and error details on stderr
  --help              this text

Exit codes: 0 done, 1 refused (the reason on stderr), 2 bad usage, 3 unexpected error.
`;

const OPTIONS = {
  project: { type: 'string' },
  step: { type: 'string' },
  repo: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean' },
  yes: { type: 'boolean' },
  protect: { type: 'boolean' },
  'assume-no-writer': { type: 'boolean' },
  'restore-tasks': { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Where the WASM is: beside the bundle (dist/), else sql.js's own (run from the sources). */
function wasmPath(): string | undefined {
  const beside = path.join(__dirname, 'sql-wasm.wasm');
  return fs.existsSync(beside) ? beside : undefined;
}

function limitNumber(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^\d{1,9}$/.exec(text.trim());
  if (!m || Number(m[0]) < 1) throw new UsageError(`--limit takes a whole number of 1 or more, not ${JSON.stringify(text)}.`);
  return Number(m[0]);
}

function stepNumber(text: string | undefined): number {
  if (text === undefined) throw new UsageError('rollback needs --step N.');
  const m = /^[Ss]?(\d{1,15})$/.exec(text.trim());
  if (!m) throw new UsageError(`--step takes a step number such as 12 or S12, not ${JSON.stringify(text)}.`);
  return Number(m[1]);
}

export async function run(argv: readonly string[], io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    io.err(`step-history: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(USAGE);
    return EXIT_DONE;
  }
  const verbose = values.verbose === true;
  const json = values.json === true;
  const log = stderrLogger(io, verbose);
  const [command, ...rest] = positionals;
  try {
    const ctx = { io, json, yes: values.yes === true, journalDir: rollbackJournalDir({ env }), wasmPath: wasmPath(), log };
    switch (command) {
      case 'inspect': {
        if (rest.length !== 1) throw new UsageError('inspect takes one PATH.');
        for (const flag of ['step', 'yes', 'protect', 'assume-no-writer', 'restore-tasks'] as const) if (values[flag] !== undefined) throw new UsageError(`inspect does not take --${flag}.`);
        const given = limitNumber(values.limit);
        const limit = json ? given : (given ?? TEXT_LIMIT);
        const databases = await locateDatabases(rest[0], { repo: values.repo, log });
        const report = await inspect(databases, { projectId: values.project, withFiles: json, limit, wasmPath: ctx.wasmPath, log });
        io.out(json ? JSON.stringify(report, null, 2) + '\n' : inspectText(report, limit));
        return report.databases.some((d) => d.error) ? EXIT_REFUSED : EXIT_DONE;
      }
      case 'rollback': {
        if (rest.length !== 1) throw new UsageError('rollback takes one PATH.');
        if (values.project === undefined) throw new UsageError('rollback needs --project ID.');
        if (values.limit !== undefined) throw new UsageError('rollback does not take --limit.');
        const stepId = stepNumber(values.step);
        const databases = await locateDatabases(rest[0], { repo: values.repo, log });
        if (databases.length > 1) {
          throw new UsageError(`${rest[0]} holds ${databases.length} step databases (${databases.map((d) => d.label).join(', ')}): name one.`);
        }
        return await rollbackCommand(
          databases[0],
          { projectId: values.project, stepId, protect: values.protect === true, assumeNoWriter: values['assume-no-writer'] === true, restoreTasks: values['restore-tasks'] === true },
          ctx,
        );
      }
      case 'undo': {
        if (rest.length !== 0) throw new UsageError('undo takes no PATH; --repo DIR picks the repository.');
        for (const flag of ['project', 'step', 'limit', 'protect', 'assume-no-writer', 'restore-tasks'] as const) if (values[flag] !== undefined) throw new UsageError(`undo does not take --${flag}.`);
        return await undoCommand({ repo: values.repo }, ctx);
      }
      case undefined:
        throw new UsageError('Name a command: inspect, rollback or undo.');
      default:
        throw new UsageError(`There is no command ${JSON.stringify(command)}.`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`step-history: ${err.message}\n\n${USAGE}`);
      return EXIT_USAGE;
    }
    const code = reportFailure(io, err, verbose);
    if (json) {
      const outcome = code === EXIT_UNEXPECTED ? 'error' : 'refused';
      io.out(JSON.stringify({ version: JSON_VERSION, command: command ?? null, outcome, error: errorReport(err) }, null, 2) + '\n');
    }
    return code;
  }
}

if (require.main === module) {
  const io: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };
  run(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`step-history: Step History hit an unexpected error. ${String(err)}\n`);
      process.exitCode = EXIT_UNEXPECTED;
    },
  );
}
