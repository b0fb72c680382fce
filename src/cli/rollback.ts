/**
 * `step-history rollback` and `step-history undo`: the editor's Roll Back to Step… and Undo
 * Last Rollback (src/core/rollback/, the same plan, refusals, protection, journal and
 * backups), planned and shown first, carried out only with `--yes`. The journals are the
 * editor's too (core/stateDir.ts), so each undoes what the other did.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { DiscoveredDatabase } from '../core/discovery';
import type { RollbackError } from '../core/errors';
import { GitRepository } from '../core/git';
import type { Logger } from '../core/log';
import { failures } from '../core/messages';
import {
  executeRollback,
  lastRollback,
  pendingRollbacks,
  planRollback,
  readJournals,
  undoRollback,
  type RollbackJournal,
  type RollbackPlan,
  type RollbackResult,
} from '../core/rollback';
import { safeText } from '../shared/safeText';
import { planMarkdown, undoSentence, type PlanWording } from '../ui/rollbackText';
import { EXIT_DONE, EXIT_REFUSED, errorReport, JSON_VERSION, type Io } from './io';
import { refusalReason } from '../core/databaseFile';

export interface CommandContext {
  io: Io;
  json: boolean;
  yes: boolean;
  journalDir: string;
  wasmPath?: string;
  log: Logger;
}

const CLI_WORDING: PlanWording = {
  protect: '`--protect`',
  undo: '`step-history undo`',
  showChanges: null,
};

export async function rollbackCommand(
  db: DiscoveredDatabase,
  request: { projectId: string; stepId: number; protect: boolean; assumeNoWriter: boolean; restoreTasks: boolean },
  ctx: CommandContext,
): Promise<number> {
  const target = { dbPath: path.resolve(db.path), repositoryPath: path.resolve(db.repositoryPath), projectId: request.projectId, stepId: request.stepId };
  const plan = await planRollback(target, { log: ctx.log, wasmPath: ctx.wasmPath, journalDir: ctx.journalDir });
  const blocked = blockingError(plan, request);
  if (!ctx.json) {
    ctx.io.out(planMarkdown(plan, { databaseLabel: db.label, wording: CLI_WORDING }));
  }
  if (blocked) {
    if (ctx.json) ctx.io.out(json({ command: 'rollback', outcome: 'refused', plan: planReport(plan), error: errorReport(blocked) }));
    ctx.io.err(`step-history: ${safeText(errorReport(blocked).message)}\n`);
    return EXIT_REFUSED;
  }
  if (!ctx.yes) {
    if (ctx.json) ctx.io.out(json({ command: 'rollback', outcome: 'planned', plan: planReport(plan) }));
    else ctx.io.out('Nothing was changed. Run again with --yes to roll back.\n');
    return EXIT_DONE;
  }
  const result = await executeRollback(plan, {
    journalDir: ctx.journalDir,
    log: ctx.log,
    wasmPath: ctx.wasmPath,
    protect: request.protect,
    assumeNoWriter: request.assumeNoWriter,
    restoreTasks: request.restoreTasks,
    onProgress: progress(ctx),
  });
  if (ctx.json) ctx.io.out(json({ command: 'rollback', outcome: 'rolledBack', plan: planReport(plan), ...resultReport(result) }));
  else ctx.io.out(resultText(result));
  return EXIT_DONE;
}

/** What would stop the rollback with these options, as the editor's command decides it, worded for the command line. */
function blockingError(plan: RollbackPlan, request: { protect: boolean; assumeNoWriter: boolean }): RollbackError | undefined {
  const refusals = plan.refusals.filter((r) => !(r.overridable && request.assumeNoWriter));
  if (refusals.length > 0) {
    const [first] = refusals;
    const facts = { message: first.message, remedy: first.remedy, others: refusals.length - 1 };
    const more = { detail: refusals.map((r) => `${r.code}: ${r.message}`).join('\n'), reasons: refusals.map(refusalReason) };
    return first.overridable ? failures.planRefusedAssumeNoWriter(facts, more) : failures.planRefusedWithOthers(facts, more);
  }
  if (plan.needsProtection && !request.protect) {
    return failures.wouldLoseWork({ label: plan.step.label, caller: 'cli' });
  }
  return undefined;
}

export async function undoCommand(request: { repo?: string }, ctx: CommandContext): Promise<number> {
  const journal = await newestUndoable(ctx.journalDir, request.repo, ctx.log);
  if (!journal) {
    const pending = (await pendingRollbacks(ctx.journalDir)).length;
    throw failures.noRollbackToUndo({ repo: request.repo ? path.resolve(request.repo) : null, pending });
  }
  if (!ctx.yes) {
    if (ctx.json) ctx.io.out(json({ command: 'undo', outcome: 'planned', rollback: journalReport(journal) }));
    else ctx.io.out(`${undoSentence(journal)}\nNothing was changed. Run again with --yes to undo it.\n`);
    return EXIT_DONE;
  }
  const result = await undoRollback(journal, { journalDir: ctx.journalDir, log: ctx.log, wasmPath: ctx.wasmPath, onProgress: progress(ctx) });
  if (ctx.json) ctx.io.out(json({ command: 'undo', outcome: 'undone', ...resultReport(result) }));
  else ctx.io.out(resultText(result));
  return EXIT_DONE;
}

/** The newest finished rollback, of the repository holding `repo` when given. */
async function newestUndoable(journalDir: string, repo: string | undefined, log: Logger): Promise<RollbackJournal | undefined> {
  if (repo === undefined) return lastRollback(journalDir);
  const root = real((await GitRepository.open(repo, { log })).root);
  const inside = (p: string) => {
    const rel = path.relative(root, real(p));
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  };
  return (await readJournals(journalDir, log)).find((j) => j.phase === 'done' && inside(j.target.repositoryPath));
}

function real(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

const progress = (ctx: CommandContext) => (message: string) => {
  if (!ctx.json) ctx.io.err(`${safeText(message)}\n`);
};

const json = (body: Record<string, unknown>): string => JSON.stringify({ version: JSON_VERSION, ...body }, null, 2) + '\n';

function resultText(result: RollbackResult): string {
  return [result.message, ...result.warnings].map((line) => safeText(line)).join('\n') + '\n';
}

function resultReport(result: RollbackResult) {
  return { message: result.message, warnings: result.warnings, rollback: journalReport(result.journal) };
}

export function journalReport(j: RollbackJournal) {
  return {
    id: j.id,
    createdAt: j.createdAt,
    phase: j.phase,
    database: j.target.dbPath,
    repository: j.target.repositoryPath,
    projectId: j.target.projectId,
    step: j.stepLabel,
    stepIds: j.stepIds,
    branch: j.branch,
    oldHead: j.oldHead,
    resetTo: j.resetTo,
    backupRef: j.backupRef,
    stashRef: j.stashRef ?? null,
  };
}

export function planReport(plan: RollbackPlan) {
  const entry = (e: { status: string; path: string; oldPath?: string }) => ({ status: e.status, path: e.path, oldPath: e.oldPath ?? null });
  return {
    database: plan.target.dbPath,
    repository: plan.target.repositoryPath,
    projectId: plan.target.projectId,
    step: { id: plan.step.id, label: plan.step.label },
    summary: plan.summary,
    stepsToDeactivate: plan.stepsToDeactivate.map((s) => ({ id: s.id, label: s.label, status: s.status })),
    branch: plan.branch,
    head: plan.head,
    detached: plan.detached,
    headOnLine: plan.headOnLine,
    resetTo: plan.resetTo,
    filesToChange: plan.filesToChange.map((f) => ({ ...entry(f), added: f.added, removed: f.removed, binary: f.binary })),
    staged: plan.staged.map(entry),
    unstaged: plan.unstaged.map(entry),
    untrackedOverwritten: plan.untrackedOverwritten,
    ignoredOverwritten: plan.ignoredOverwritten,
    untrackedKept: plan.untrackedKept,
    foreignCommits: plan.foreignCommits.map((c) => ({ sha: c.sha, subject: c.subject })),
    runningSteps: plan.runningSteps.map((s) => s.id),
    protectedPaths: plan.protectedPaths,
    leftoverWal: plan.leftoverWal,
    needsProtection: plan.needsProtection,
    refusals: plan.refusals.map((r) => ({ code: r.code, message: r.message, remedy: r.remedy, overridable: r.overridable === true })),
  };
}
