/**
 * Roll Back to Step…, Undo Last Rollback and Manage Kept Rollback States…: the editor side of
 * `src/core/rollback/` and `src/core/rollbackRetention.ts`.
 *
 * A rollback is planned first (nothing changes), the plan is shown as a read-only document,
 * then a modal confirmation says the consequence in one sentence; its default is to cancel,
 * and where work would be lost the only way on is to keep it safe first. Rollbacks that
 * stopped half-way are offered to be finished or reverted on the next start, and a little
 * later what the retention settings no longer keep is pruned.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { inspectDatabase, refusalReason } from '../core/databaseFile';
import { isPassingState } from '../core/errors';
import type { Logger } from '../core/log';
import { failures } from '../core/messages';
import { prepareJournalDir } from '../core/stateDir';
import { countStates, deleteKeptStates, listKeptStates, pruneKeptStates, type KeptState } from '../core/rollbackRetention';
import {
  executeRollback,
  finishRollback,
  lastRollback,
  pendingRollbacks,
  planRollback,
  revertRollback,
  undoRollback,
  type ExecuteOptions,
  type RollbackJournal,
  type RollbackPlan,
  type RollbackResult,
  type RollbackTarget,
} from '../core/rollback';
import type { ChangesOpener } from './diffs';
import { pickStep } from './pickStep';
import { deleteConfirmation, keptStateItem } from './rollbackStatesText';
import { confirmationDetail, passingStateSentences, pendingSentence, planMarkdown, undoSentence } from './rollbackText';
import { stepTitles } from './stepTitles';
import { showError } from './showError';
import type { StepDatabase, StepDatabases } from '../core/stepDatabase';
import { isStepNode } from './treeNodes';

export const PLAN_SCHEME = 'step-history-plan';
export const CAN_UNDO_CONTEXT_KEY = 'stepHistory.canUndoRollback';
/** How long after activation half-done rollbacks are looked for: activation never waits for it. */
const RECOVERY_DELAY_MS = 1500;
/** How long after activation kept rollback states are pruned, and how long to wait while a rollback runs. */
const PRUNE_DELAY_MS = 10_000;
/** How often, while a rollback waits out a passing state, it looks whether the state is over; and for how long at most. */
const WAIT_POLL_MS = 2000;
const WAIT_LIMIT_MS = 60 * 60_000;

export const ROLL_BACK = vscode.l10n.t('Roll Back');
export const PROTECT_AND_ROLL_BACK = vscode.l10n.t('Keep My Work Safe and Roll Back');
export const SHOW_CHANGES = vscode.l10n.t('Show Changes');
export const RESTORE_TASKS = vscode.l10n.t('Restore Task Database');
export const KEEP_TASKS = vscode.l10n.t('Leave It As It Is');
export const ROLL_BACK_ANYWAY = vscode.l10n.t('No Agent Is Running: Roll Back');
export const UNDO = vscode.l10n.t('Undo');
export const UNDO_ROLLBACK = vscode.l10n.t('Undo Rollback');
const SHOW_LOG = vscode.l10n.t('Show Log');

export interface RollbackOptions {
  /** Ask with a modal confirmation first; default true. Only an explicit `false` skips it. */
  confirm?: boolean;
  /** Keep uncommitted work and foreign commits safe (stash, backup ref) and proceed. */
  protect?: boolean;
  /**
   * Go ahead where the system cannot tell whether the program that left the database's
   * write-ahead log still has it open (only then: on Linux it is known).
   */
  assumeNoWriter?: boolean;
  /** Also restore the older LaForge's `tasks-S<N>.db` in place of `tasks.db`, where the plan found one. */
  restoreTasks?: boolean;
}

/** A step to roll back to, named for automation: the database by id or by its file's path. */
export interface RollbackTargetArgument {
  databaseId?: string;
  dbPath?: string;
  projectId: string;
  stepId: number;
}

export type RollbackOutcome =
  | { outcome: 'rolledBack'; message: string; journal: RollbackJournal }
  | { outcome: 'cancelled' };

export type UndoOutcome =
  | { outcome: 'undone'; message: string; journal: RollbackJournal }
  | { outcome: 'cancelled' }
  | { outcome: 'nothingToUndo' };

/** What the API offers; the commands go through the same paths. */
export interface RollbackService {
  rollback(target: RollbackTargetArgument, options?: RollbackOptions): Promise<RollbackOutcome>;
  /** Undoes the newest rollback; asks first only with `confirm: true`. */
  undoLast(options?: { confirm?: boolean }): Promise<UndoOutcome>;
  /** For the integration tests: what the editor shows of rollbacks waiting out a passing state. */
  readonly probe: RollbackProbe;
}

export interface RollbackProbe {
  /** The sentences of the notifications up now for rollbacks waiting out a passing state. */
  waiting(): string[];
}

interface ResolvedTarget {
  database: StepDatabase;
  projectId: string;
  stepId: number;
}

export function registerRollback(
  context: vscode.ExtensionContext,
  databases: StepDatabases,
  log: Logger,
  diffs: ChangesOpener,
): RollbackService {
  const rollbacks = new Rollbacks(context, databases, log, diffs);
  context.subscriptions.push(
    vscode.workspace.registerTextDocumentContentProvider(PLAN_SCHEME, rollbacks.plans),
    vscode.commands.registerCommand('stepHistory.rollback', (arg?: unknown, options?: RollbackOptions) => rollbacks.rollbackCommand(arg, options)),
    vscode.commands.registerCommand('stepHistory.undoRollback', (options?: { confirm?: boolean }) => rollbacks.undoCommand(options)),
    vscode.commands.registerCommand('stepHistory.manageRollbackStates', () => rollbacks.manageStatesCommand()),
    rollbacks,
  );
  rollbacks.startUp();
  return {
    rollback: (target, options) => rollbacks.rollbackFromApi(target, options),
    undoLast: (options) => rollbacks.undoLast({ confirm: options?.confirm === true }),
    probe: { waiting: () => [...rollbacks.waits.values()] },
  };
}

/** The read-only plan documents, by URI; each plan gets a new URI so no stale copy is shown. */
class PlanDocuments implements vscode.TextDocumentContentProvider {
  private readonly documents = new Map<string, string>();
  private count = 0;

  add(title: string, markdown: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: PLAN_SCHEME, path: `/${title}.md`, query: `plan=${++this.count}` });
    this.documents.set(uri.toString(), markdown);
    // A long session keeps only the latest plans.
    for (const key of this.documents.keys()) {
      if (this.documents.size <= 20) break;
      this.documents.delete(key);
    }
    return uri;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.documents.get(uri.toString()) ?? 'This rollback plan is no longer available. Run Roll Back to Step… again for a fresh one.';
  }
}

class Rollbacks implements vscode.Disposable {
  readonly plans = new PlanDocuments();
  /** One rollback, undo or recovery at a time: each moves the branch. */
  private busy = false;
  private readonly offered = new Set<string>();
  /** The rollbacks waiting out a passing state (waitOut), by target, with their notification's sentence: one each. */
  readonly waits = new Map<string, string>();
  private recoveryTimer: ReturnType<typeof setTimeout> | undefined;
  private pruneTimer: ReturnType<typeof setTimeout> | undefined;
  /** A prune under way: a rollback or undo waits for it. */
  private pruning: Promise<void> | undefined;
  /** The undo context key as last set; undefined until the first setting. */
  private canUndoShown: boolean | undefined;
  private readonly wasmPath: string;
  private journalDirReady: Promise<string> | undefined;
  private journalWatcher: fs.FSWatcher | undefined;
  private journalChangeTimer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly databases: StepDatabases,
    private readonly log: Logger,
    private readonly diffs: ChangesOpener,
  ) {
    this.wasmPath = context.asAbsolutePath(path.join('dist', 'sql-wasm.wasm'));
  }

  dispose(): void {
    this.disposed = true;
    if (this.recoveryTimer) clearTimeout(this.recoveryTimer);
    if (this.pruneTimer) clearTimeout(this.pruneTimer);
    if (this.journalChangeTimer) clearTimeout(this.journalChangeTimer);
    this.journalWatcher?.close();
  }

  /** Sets the undo context key and, a little later, looks for half-done rollbacks and prunes kept states. Returns at once. */
  startUp(): void {
    void this.updateCanUndo().then(() => this.watchJournals());
    this.recoveryTimer = setTimeout(() => void this.offerRecovery(), RECOVERY_DELAY_MS);
    (this.recoveryTimer as { unref?: () => void }).unref?.();
    this.schedulePrune();
  }

  // -------------------------------------------------------------------------------------
  // Entry points

  /**
   * The command, from the palette (no argument: pick a step), a step's context menu (its
   * StepNode) or automation (a RollbackTargetArgument). A failure is shown; automation also
   * gets it as the command's rejection.
   */
  async rollbackCommand(arg: unknown, options: RollbackOptions = {}): Promise<RollbackOutcome | undefined> {
    const automated = isTargetArgument(arg);
    try {
      if (!this.checkTrust(!automated)) return undefined;
      const target = automated ? this.resolve(arg) : await this.targetFromTreeOrPick(arg);
      if (!target) return undefined;
      return await this.rollback(target, options, !automated);
    } catch (err) {
      void showError(err, this.log, 'rollback');
      if (automated) throw err;
      return undefined;
    }
  }

  async rollbackFromApi(arg: RollbackTargetArgument, options: RollbackOptions = {}): Promise<RollbackOutcome> {
    this.requireTrust();
    return this.rollback(this.resolve(arg), options);
  }

  async undoCommand(options: { confirm?: boolean } = {}): Promise<UndoOutcome | undefined> {
    try {
      if (!this.checkTrust(true)) return undefined;
      return await this.undoLast({ confirm: options.confirm !== false, interactive: true });
    } catch (err) {
      void showError(err, this.log, 'undo rollback');
      return undefined;
    }
  }

  async undoLast(options: { confirm: boolean; interactive?: boolean }): Promise<UndoOutcome> {
    this.requireTrust();
    const journal = await lastRollback(await this.journalDir());
    if (!journal) {
      await this.updateCanUndo();
      if (options.interactive) void vscode.window.showInformationMessage(vscode.l10n.t('There is no rollback to undo.'));
      return { outcome: 'nothingToUndo' };
    }
    return this.undo(journal, options.confirm);
  }

  // -------------------------------------------------------------------------------------
  // Rollback

  /**
   * `interactive`: started by the user from the tree or the palette, so a refusal that is a
   * passing state is waited out with them (waitOut) instead of rejecting.
   */
  private async rollback(target: ResolvedTarget, options: RollbackOptions, interactive = false): Promise<RollbackOutcome> {
    const confirm = options.confirm !== false;
    const { database } = target;
    const rollbackTarget: RollbackTarget = {
      dbPath: database.path,
      repositoryPath: database.repositoryPath,
      projectId: target.projectId,
      stepId: target.stepId,
    };
    const journalDir = await this.journalDir();
    const plan = await this.exclusive(() =>
      vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Planning rollback…') }, () =>
        // The database as the store worker reads it now: the plan does not open the file again here.
        database.readNow().then((store) => planRollback(rollbackTarget, { log: this.log, wasmPath: this.wasmPath, journalDir, store })),
      ),
    );
    this.log.info(`plan for ${target.projectId} to S${target.stepId}: ${plan.summary} (${plan.refusals.length} refusals, protection ${plan.needsProtection ? 'needed' : 'not needed'})`);
    if (confirm) await this.showPlan(database, plan);

    let assumeNoWriter = options.assumeNoWriter === true;
    if (confirm && plan.refusals.length > 0 && plan.refusals.every((r) => r.overridable) && !assumeNoWriter) {
      assumeNoWriter = (await this.askAboutWriter(plan)) === ROLL_BACK_ANYWAY;
      if (!assumeNoWriter) {
        this.log.info(`rollback to ${plan.step.label} cancelled: ${plan.refusals[0].code}`);
        return { outcome: 'cancelled' };
      }
    }
    const refusals = plan.refusals.filter((r) => !(r.overridable && assumeNoWriter));
    if (refusals.length > 0) {
      const [first] = refusals;
      const refused = failures.planRefusedWithOthers(
        { message: first.message, remedy: first.remedy, others: refusals.length - 1 },
        { detail: refusals.map((r) => `${r.code}: ${r.message} ${r.remedy}`).join('\n'), reasons: refusals.map(refusalReason) },
      );
      if (interactive && isPassingState(refused)) {
        this.log.info(`rollback to ${plan.step.label} waits: ${refusals.map((r) => r.code).join(', ')}`);
        void this.waitOut(target, plan);
        return { outcome: 'cancelled' };
      }
      throw refused;
    }

    let protect = options.protect === true;
    let restoreTasks = options.restoreTasks === true;
    if (confirm) {
      const choice = await this.confirm(plan);
      if (choice === SHOW_CHANGES) {
        await this.showPlanChanges(database, plan);
        void this.offerAgain(target, plan);
        return { outcome: 'cancelled' };
      }
      if (choice === undefined) {
        this.log.info(`rollback to ${plan.step.label} cancelled`);
        return { outcome: 'cancelled' };
      }
      protect = choice === PROTECT_AND_ROLL_BACK;
      if (plan.taskDatabase) {
        const tasks = await this.askAboutTasks(plan);
        if (tasks === undefined) {
          this.log.info(`rollback to ${plan.step.label} cancelled`);
          return { outcome: 'cancelled' };
        }
        restoreTasks = tasks === RESTORE_TASKS;
      }
    } else if (plan.needsProtection && !protect) {
      throw failures.wouldLoseWork({ label: plan.step.label, caller: 'api' });
    }

    const result = await this.run(vscode.l10n.t('Rolling back {0} to {1}', target.projectId, plan.step.label), (options) =>
      executeRollback(plan, { ...options, protect, assumeNoWriter, restoreTasks }),
    );
    void this.announce(result);
    return { outcome: 'rolledBack', message: result.message, journal: result.journal };
  }

  /**
   * A rollback refused only by passing states (a step still running, the database busy): a
   * progress notification says so for as long as they last and ends by itself when they are
   * over (or on Cancel), so nothing about a state that has ended stays on screen; then an
   * information message offers the rollback again, with a fresh plan. Nothing rolls back by
   * itself.
   */
  private async waitOut(target: ResolvedTarget, plan: RollbackPlan): Promise<void> {
    const key = JSON.stringify([target.database.id, target.projectId, target.stepId]);
    // Asked again while its notification is up: that notification is the answer.
    if (this.waits.has(key)) return;
    const { waiting, over } = passingStateSentences(plan);
    this.waits.set(key, waiting);
    const ended = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: waiting, cancellable: true },
      async (_progress, token) => {
        const deadline = Date.now() + WAIT_LIMIT_MS;
        while (!token.isCancellationRequested && !this.disposed && Date.now() < deadline) {
          if (!(await this.stillPassing(target, plan))) return true;
          let cancelled: vscode.Disposable | undefined;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, WAIT_POLL_MS);
            cancelled = token.onCancellationRequested(() => {
              clearTimeout(timer);
              resolve();
            });
          });
          cancelled?.dispose();
        }
        return false;
      },
    ).then(
      (value) => value,
      () => false,
    );
    this.waits.delete(key);
    if (!ended) {
      this.log.info(`stopped waiting to roll back to ${plan.step.label}`);
      return;
    }
    this.log.info(`rollback to ${plan.step.label}: ${over}`);
    const again = vscode.l10n.t('Roll Back to {0}…', plan.step.label);
    if ((await vscode.window.showInformationMessage(over, again)) !== again) return;
    try {
      if (this.checkTrust(true)) await this.rollback(target, {}, true);
    } catch (err) {
      void showError(err, this.log, 'rollback');
    }
  }

  /** Whether a passing state that refused `plan` still holds: one of its running steps still runs, or the database is still busy. */
  private async stillPassing(target: ResolvedTarget, plan: RollbackPlan): Promise<boolean> {
    try {
      if (plan.refusals.some((r) => r.code === 'DATABASE_BUSY') && inspectDatabase(target.database.path).refusal?.code === 'DATABASE_BUSY') return true;
      if (plan.runningSteps.length === 0) return false;
      const store = await target.database.readNow();
      for (const step of plan.runningSteps) if ((await store.step(step.id))?.status === 'RUNNING') return true;
      return false;
    } catch (err) {
      // The next attempt plans afresh and says what is wrong now.
      this.log.debug(`while waiting to roll back to ${plan.step.label}: ${String(err)}`);
      return false;
    }
  }

  /** Where it cannot be known whether a writer still holds the WAL: the finding, the risk, and the choice. */
  private async askAboutWriter(plan: RollbackPlan): Promise<string | undefined> {
    const [refusal] = plan.refusals;
    return vscode.window.showWarningMessage(refusal.message, { modal: true, detail: refusal.remedy }, ROLL_BACK_ANYWAY);
  }

  /** The older LaForge's task database backup beside the database: restore it too, as LaForge's rollback did? */
  private async askAboutTasks(plan: RollbackPlan): Promise<string | undefined> {
    const { backup, current } = plan.taskDatabase!;
    return vscode.window.showWarningMessage(
      vscode.l10n.t('Also restore {0} from {1}, as LaForge\'s own rollback did?', path.basename(current), path.basename(backup)),
      {
        modal: true,
        detail: vscode.l10n.t('{0} is the copy of the task database LaForge made before {1}. The current {2} is kept first, and Undo Last Rollback puts it back.', path.basename(backup), plan.step.label, path.basename(current)),
      },
      RESTORE_TASKS,
      KEEP_TASKS,
    );
  }

  /** The modal confirmation; resolves to the button chosen, undefined for Cancel. */
  private async confirm(plan: RollbackPlan): Promise<string | undefined> {
    const primary = plan.needsProtection ? PROTECT_AND_ROLL_BACK : ROLL_BACK;
    const buttons = plan.filesToChange.length > 0 && plan.head ? [primary, SHOW_CHANGES] : [primary];
    return vscode.window.showWarningMessage(plan.summary, { modal: true, detail: confirmationDetail(plan) }, ...buttons);
  }

  private async showPlan(database: StepDatabase, plan: RollbackPlan): Promise<void> {
    const titles = await stepTitles(database, plan.stepsToDeactivate, this.log);
    const markdown = planMarkdown(plan, { databaseLabel: database.label, titles });
    const uri = this.plans.add(`Rollback plan for ${plan.step.label}`, markdown);
    try {
      await vscode.commands.executeCommand('markdown.showPreview', uri);
    } catch (err) {
      // Without the built-in Markdown extension the plan still reads well as text.
      this.log.debug(`Markdown preview unavailable (${String(err)}); showing the plan as text`);
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: true });
    }
  }

  /** The files that change, from HEAD to the commit the branch is reset to, in one diff. */
  private async showPlanChanges(database: StepDatabase, plan: RollbackPlan): Promise<void> {
    if (!plan.head) return;
    const root = (await database.repository()).root;
    await this.diffs.openChanges(database, root, `Rollback to ${plan.step.label}`, plan.filesToChange, plan.head, {
      kind: 'commit',
      commit: plan.resetTo,
    });
  }

  /** After "Show Changes": nothing changed; a button starts over with a fresh plan. */
  private async offerAgain(target: ResolvedTarget, plan: RollbackPlan): Promise<void> {
    const again = vscode.l10n.t('Roll Back to {0}…', plan.step.label);
    const choice = await vscode.window.showInformationMessage(
      vscode.l10n.t('Nothing was rolled back. When you have looked at the changes, roll back to {0} from here.', plan.step.label),
      again,
    );
    if (choice === again) {
      await this.rollbackCommand({ databaseId: target.database.id, projectId: target.projectId, stepId: target.stepId }).catch(() => undefined);
    }
  }

  private async announce(result: RollbackResult): Promise<void> {
    const choice = await tell(result, UNDO, SHOW_LOG);
    if (choice === SHOW_LOG) await vscode.commands.executeCommand('stepHistory.showLog');
    if (choice === UNDO) {
      try {
        this.requireTrust();
        await this.undo(result.journal, true);
      } catch (err) {
        await showError(err, this.log, 'undo rollback');
      }
    }
  }

  // -------------------------------------------------------------------------------------
  // Undo and recovery

  private async undo(journal: RollbackJournal, confirm: boolean): Promise<UndoOutcome> {
    if (confirm) {
      const choice = await vscode.window.showWarningMessage(
        undoSentence(journal),
        {
          modal: true,
          detail:
            `Repository ${journal.target.repositoryPath}; the branch goes back to the backup ref ${journal.backupRef}. ` +
            'If new work happened on top since the rollback, nothing changes and Step History says why.',
        },
        UNDO_ROLLBACK,
      );
      if (choice !== UNDO_ROLLBACK) return { outcome: 'cancelled' };
    }
    const result = await this.run(vscode.l10n.t('Undoing the rollback of {0} to {1}', journal.target.projectId, journal.stepLabel), async (options) =>
      // The steps as the store worker reads them, when the database is one of the views'.
      undoRollback(journal, { ...options, store: await this.databases.get(journal.target.dbPath)?.readNow() }),
    );
    void tell(result, SHOW_LOG).then((choice) => {
      if (choice === SHOW_LOG) void vscode.commands.executeCommand('stepHistory.showLog');
    });
    return { outcome: 'undone', message: result.message, journal: result.journal };
  }

  /** Offers to finish or revert each rollback of this workspace that stopped half-way. */
  async offerRecovery(): Promise<void> {
    let pending: RollbackJournal[];
    try {
      pending = await pendingRollbacks(await this.journalDir());
    } catch (err) {
      this.log.warn(`could not look for half-done rollbacks: ${String(err)}`);
      return;
    }
    for (const journal of pending) {
      if (this.offered.has(journal.id)) continue;
      if (!this.inWorkspace(journal)) {
        this.log.info(`half-done rollback ${journal.id} belongs to ${journal.target.repositoryPath}, not this workspace; left for its own window`);
        continue;
      }
      this.offered.add(journal.id);
      void this.offerOne(journal).finally(() => this.offered.delete(journal.id));
    }
  }

  private async offerOne(journal: RollbackJournal): Promise<void> {
    const sentence = pendingSentence(journal);
    this.log.warn(`${sentence} Journal ${journal.id}.`);
    const finishIt = vscode.l10n.t('Finish Rollback');
    const revertIt = vscode.l10n.t('Revert');
    const choice = await vscode.window.showWarningMessage(sentence, finishIt, revertIt, SHOW_LOG);
    try {
      if (choice === SHOW_LOG) await vscode.commands.executeCommand('stepHistory.showLog');
      if (choice !== finishIt && choice !== revertIt) return;
      this.requireTrust();
      const finish = choice === finishIt;
      const title = finish
        ? vscode.l10n.t('Finishing the rollback of {0} to {1}', journal.target.projectId, journal.stepLabel)
        : vscode.l10n.t('Reverting the rollback of {0} to {1}', journal.target.projectId, journal.stepLabel);
      // protect: the journal says what was kept safe; finishing must never discard the rest.
      const result = await this.run(title, (options) =>
        finish ? finishRollback(journal, { ...options, protect: true }) : revertRollback(journal, options),
      );
      void tell(result, SHOW_LOG).then((c) => {
        if (c === SHOW_LOG) void vscode.commands.executeCommand('stepHistory.showLog');
      });
    } catch (err) {
      await showError(err, this.log, 'recover rollback');
    }
  }

  private inWorkspace(journal: RollbackJournal): boolean {
    const inside = (file: string, folder: string) => {
      const relative = path.relative(folder, file);
      return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
    };
    const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
    const known = this.databases.all.map((d) => d.path);
    return (
      known.includes(journal.target.dbPath) ||
      folders.some((folder) => inside(journal.target.repositoryPath, folder) || inside(journal.target.dbPath, folder))
    );
  }

  // -------------------------------------------------------------------------------------
  // Kept rollback states

  private schedulePrune(): void {
    this.pruneTimer = setTimeout(() => void this.prune(), PRUNE_DELAY_MS);
    (this.pruneTimer as { unref?: () => void }).unref?.();
  }

  /** Prunes what the settings no longer keep, in this workspace's repositories; logs, never throws. Waits while a rollback runs. */
  private async prune(): Promise<void> {
    // Pruning runs git in the workspace's repositories: only in a trusted workspace.
    if (vscode.workspace.isTrusted !== true) return;
    if (this.busy) {
      this.schedulePrune();
      return;
    }
    const run = async () => {
      try {
        const config = vscode.workspace.getConfiguration('stepHistory.rollback');
        await pruneKeptStates({
          journalDir: await this.journalDir(),
          repositories: this.repositories(),
          policy: { keepCount: config.get<number>('keepCount'), keepDays: config.get<number>('keepDays') },
          log: this.log,
        });
        await this.updateCanUndo();
      } catch (err) {
        this.log.warn(`could not prune kept rollback states: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    this.pruning = run().finally(() => (this.pruning = undefined));
    await this.pruning;
  }

  /** Manage Kept Rollback States…: lists them, deletes those picked after a modal confirmation. */
  async manageStatesCommand(): Promise<void> {
    try {
      if (!this.checkTrust(true)) return;
      const journalDir = await this.journalDir();
      const states = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Reading kept rollback states…') }, () =>
        listKeptStates({ journalDir, repositories: this.repositories(), sizes: true, log: this.log }),
      );
      if (states.length === 0) {
        void vscode.window.showInformationMessage(vscode.l10n.t('Step History keeps no rollback states in the repositories of this workspace.'));
        return;
      }
      const picked = await vscode.window.showQuickPick(keptStatePicks(states), {
        title: vscode.l10n.t('Kept Rollback States'),
        placeHolder: vscode.l10n.t('Pick the states to delete'),
        canPickMany: true,
        matchOnDescription: true,
        matchOnDetail: true,
      });
      const chosen = (picked ?? []).flatMap((p) => (p.state ? [p.state] : []));
      if (chosen.length === 0) return;
      const { message, detail } = deleteConfirmation(chosen);
      const remove = vscode.l10n.t('Delete');
      if ((await vscode.window.showWarningMessage(message, { modal: true, detail }, remove)) !== remove) return;
      const { deleted, failures } = await this.exclusive(() => deleteKeptStates(chosen, { journalDir, log: this.log }));
      await this.updateCanUndo();
      if (failures.length === 0) {
        void vscode.window.showInformationMessage(vscode.l10n.t('Deleted {0}.', countStates(deleted)));
      } else {
        void vscode.window.showWarningMessage(vscode.l10n.t('Deleted {0}. {1}', countStates(deleted), failures.join(' ')), SHOW_LOG).then((choice) => {
          if (choice === SHOW_LOG) void vscode.commands.executeCommand('stepHistory.showLog');
        });
      }
    } catch (err) {
      void showError(err, this.log, 'manage kept rollback states');
    }
  }

  /** The folders whose repositories hold this workspace's rollbacks: the databases' repositories and the workspace folders. */
  private repositories(): string[] {
    const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
    return [...new Set([...this.databases.all.map((d) => d.repositoryPath), ...folders])];
  }

  // -------------------------------------------------------------------------------------
  // Shared steps

  /** Runs a core operation under a progress notification, then refreshes the views and the undo key. */
  private async run(title: string, operation: (options: ExecuteOptions) => Promise<RollbackResult>): Promise<RollbackResult> {
    const journalDir = await this.journalDir();
    try {
      return await this.exclusive(() =>
        vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title }, (progress) =>
          operation({
            journalDir,
            log: this.log,
            wasmPath: this.wasmPath,
            // The core logs each phase itself.
            onProgress: (message) => progress.report({ message }),
          }),
        ),
      );
    } catch (err) {
      // A failure half-way leaves a journal: offer to finish or revert it now.
      void this.offerRecovery();
      throw err;
    } finally {
      await this.databases.refresh().catch((err: unknown) => this.log.warn(`refresh after ${title}: ${String(err)}`));
      await this.updateCanUndo();
    }
  }

  private async exclusive<T>(task: () => Thenable<T>): Promise<T> {
    if (this.busy) {
      throw failures.rollbackUnderWay({}, { reasons: ['ROLLBACK_UNDER_WAY'] });
    }
    this.busy = true;
    try {
      await this.pruning;
      return await task();
    } finally {
      this.busy = false;
    }
  }

  private async updateCanUndo(): Promise<void> {
    let canUndo = false;
    try {
      canUndo = (await lastRollback(await this.journalDir())) !== undefined;
    } catch (err) {
      this.log.debug(`no rollback journal to read: ${String(err)}`);
    }
    // Set only when it changes: each setting re-evaluates the Steps view's title menu.
    if (canUndo === this.canUndoShown) return;
    this.canUndoShown = canUndo;
    await vscode.commands.executeCommand('setContext', CAN_UNDO_CONTEXT_KEY, canUndo);
  }

  /**
   * The journal folder the command line shares (core/stateDir.ts); journals an older version
   * kept in the editor's global storage are moved into it first, once per session.
   */
  private journalDir(): Promise<string> {
    if (!this.journalDirReady) {
      const legacy = path.join(this.context.globalStorageUri.fsPath, 'rollbacks');
      this.journalDirReady = prepareJournalDir([legacy], this.log);
      // A failure (the folder cannot be made) is reported by the caller; the next call tries again.
      this.journalDirReady.catch(() => (this.journalDirReady = undefined));
    }
    return this.journalDirReady;
  }

  /** A rollback or undo made by the command line changes whether Undo Last Rollback has something to undo. */
  private async watchJournals(): Promise<void> {
    try {
      const dir = await this.journalDir();
      if (this.disposed) return;
      this.journalWatcher = fs.watch(dir, () => {
        if (this.journalChangeTimer) clearTimeout(this.journalChangeTimer);
        this.journalChangeTimer = setTimeout(() => void this.updateCanUndo(), 300);
      });
      this.journalWatcher.on('error', (err) => this.log.debug(`rollback journal watcher stopped: ${String(err)}`));
    } catch (err) {
      this.log.debug(`rollback journals are not watched: ${String(err)}`);
    }
  }

  /** In Restricted Mode says why and returns false (commands), or throws (API). */
  private checkTrust(interactive: boolean): boolean {
    if (vscode.workspace.isTrusted) return true;
    if (interactive) {
      const manage = vscode.l10n.t('Manage Workspace Trust');
      void vscode.window
        .showWarningMessage(vscode.l10n.t('Roll back and undo change files and the branch, so they are unavailable in Restricted Mode. Trust this workspace to use them.'), manage)
        .then((choice) => {
          if (choice === manage) void vscode.commands.executeCommand('workbench.trust.manage');
        });
      return false;
    }
    this.requireTrust();
    return false;
  }

  private requireTrust(): void {
    if (!vscode.workspace.isTrusted) {
      throw failures.restrictedMode({});
    }
  }

  private resolve(arg: RollbackTargetArgument): ResolvedTarget {
    const database = arg.databaseId !== undefined ? this.databases.get(arg.databaseId) : this.databaseAt(arg.dbPath ?? '');
    if (!database) {
      throw failures.notOpenedForRollback({ database: arg.databaseId ?? arg.dbPath ?? null });
    }
    return { database, projectId: arg.projectId, stepId: arg.stepId };
  }

  private databaseAt(dbPath: string): StepDatabase | undefined {
    const real = (p: string) => {
      try {
        return fs.realpathSync(p);
      } catch {
        return path.resolve(p);
      }
    };
    const wanted = real(dbPath);
    return this.databases.all.find((d) => d.path === dbPath || real(d.path) === wanted);
  }

  private async targetFromTreeOrPick(arg: unknown): Promise<ResolvedTarget | undefined> {
    const node = isStepNode(arg)
      ? arg
      : await pickStep(this.databases, { title: vscode.l10n.t('Roll Back to Step'), placeHolder: vscode.l10n.t('Pick the step to roll back to: it and every later step are rolled back'), activeOnly: true });
    return node && { database: node.database, projectId: node.projectId, stepId: node.step.id };
  }
}

interface KeptStatePick extends vscode.QuickPickItem {
  state?: KeptState;
}

/** One item per state, under a separator per repository when there are several. */
function keptStatePicks(states: readonly KeptState[]): KeptStatePick[] {
  const now = new Date();
  const roots = [...new Set(states.map((s) => s.repositoryRoot))];
  const picks: KeptStatePick[] = [];
  for (const root of roots) {
    if (roots.length > 1) picks.push({ label: path.basename(root) || root, kind: vscode.QuickPickItemKind.Separator });
    for (const state of states.filter((s) => s.repositoryRoot === root)) picks.push({ ...keptStateItem(state, now), state });
  }
  return picks;
}

/** The result sentence; a warning instead when something did not go as planned (a stash that did not apply cleanly). */
function tell(result: RollbackResult, ...buttons: string[]): Thenable<string | undefined> {
  if (result.warnings.length === 0) return vscode.window.showInformationMessage(result.message, ...buttons);
  return vscode.window.showWarningMessage(vscode.l10n.t('{0} {1}', result.message, result.warnings.join(' ')), ...buttons);
}

function isTargetArgument(value: unknown): value is RollbackTargetArgument {
  if (typeof value !== 'object' || value === null || isStepNode(value)) return false;
  const v = value as Record<string, unknown>;
  return (typeof v.databaseId === 'string' || typeof v.dbPath === 'string') && typeof v.projectId === 'string' && typeof v.stepId === 'number';
}
