/**
 * The Steps view's commands: refresh, reveal, filter, the rolled-back toggle, copy a commit
 * hash, open the settings, load more. Each is wrapped in `guarded`, so a failure reaches the
 * user as one sentence with "Show Log".
 */
import * as vscode from 'vscode';
import type { Logger } from '../core/log';
import { requireCommitBefore } from '../core/model';
import { sameCommit, stepCommitSourceText } from '../core/stepCommits';
import { safeText } from '../shared/safeText';
import { pickStep } from './pickStep';
import { guarded } from './showError';
import { recentModels } from '../core/sources/walk';
import { isOtherSystem, type StepDatabases } from '../core/stepDatabase';
import type { StepsTree } from './stepsTree';
import { isFileNode, isStepNode, type StepNode, type TreeNode } from './treeNodes';
import { shortHash } from '../core/figures';

export const EXTENSION_ID = 'step-history.step-history';

interface TreeCommandDeps {
  databases: StepDatabases;
  tree: StepsTree;
  /** The Steps view's id, for its progress bar. */
  viewId: string;
  log: Logger;
}

export function registerTreeCommands(context: vscode.ExtensionContext, deps: TreeCommandDeps): void {
  const { log } = deps;
  const register = <A extends unknown[]>(id: string, handler: (...args: A) => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, guarded(log, id, handler)));

  register('stepHistory.refresh', () => refresh(deps));
  register('stepHistory.revealStep', () => revealStep(deps));
  register('stepHistory.filter', () => chooseFilter(deps));
  register('stepHistory.clearFilter', () => deps.tree.model.setFilter({}));
  register('stepHistory.showRolledBack', () => setShowRolledBack(deps, true));
  register('stepHistory.hideRolledBack', () => setShowRolledBack(deps, false));
  register('stepHistory.copyCommitHash', (arg?: unknown) => copyCommitHash(deps, arg));
  register('stepHistory.openSettings', () =>
    vscode.commands.executeCommand('workbench.action.openSettings', `@ext:${EXTENSION_ID}`),
  );
  register('stepHistory.loadMore', (arg?: unknown) => {
    const node = arg as TreeNode | undefined;
    if (node?.kind === 'loadMore') return deps.tree.model.loadMore(node);
    if (node?.kind === 'itemMore') return deps.tree.model.loadMoreItems(node);
  });
}

async function refresh({ databases, tree, viewId, log }: TreeCommandDeps): Promise<void> {
  log.info('refresh');
  await vscode.window.withProgress({ location: { viewId } }, () => databases.refresh());
  tree.model.refreshAll();
}

async function revealStep({ databases, tree }: TreeCommandDeps): Promise<void> {
  const node = await pickStep(databases, { title: vscode.l10n.t('Reveal Step in the Steps View') });
  if (node) await tree.reveal(node.database.id, node.step.id, node.projectId);
}

interface FilterChoice extends vscode.QuickPickItem {
  action: 'failed' | 'model' | 'text' | 'clear';
}

async function chooseFilter({ databases, tree }: TreeCommandDeps): Promise<void> {
  const { model } = tree;
  const current = model.filter;
  const choices: FilterChoice[] = [
    {
      label: current.failedOnly ? `$(check) ${vscode.l10n.t('Failed steps only')}` : vscode.l10n.t('Failed steps only'),
      description: current.failedOnly ? vscode.l10n.t('on: pick to show every status') : undefined,
      action: 'failed',
    },
    { label: vscode.l10n.t('By model…'), description: current.model, action: 'model' },
    { label: vscode.l10n.t('By text…'), description: current.text && `"${current.text}"`, action: 'text' },
  ];
  if (model.filterActive) choices.push({ label: vscode.l10n.t('Clear filter'), action: 'clear' });
  const choice = await vscode.window.showQuickPick(choices, { title: vscode.l10n.t('Filter Steps'), placeHolder: vscode.l10n.t('Show only some steps') });
  if (!choice) return;
  switch (choice.action) {
    case 'failed':
      return model.setFilter({ ...current, failedOnly: !current.failedOnly });
    case 'clear':
      return model.setFilter({});
    case 'text': {
      const text = await vscode.window.showInputBox({
        title: vscode.l10n.t('Filter Steps by Text'),
        prompt: vscode.l10n.t("Steps whose label (S12), commits, model or configuration contain this text; empty for any"),
        value: current.text ?? '',
      });
      if (text !== undefined) model.setFilter({ ...current, text });
      return;
    }
    case 'model': {
      // The label shows the name made safe; the filter needs the name as stored.
      type ModelPick = vscode.QuickPickItem & { model: string | undefined };
      const models = vscode.window.showQuickPick<ModelPick>(
        knownModels(databases).then((names) => {
          const items: ModelPick[] = names.map((name) => ({
            label: safeText(name),
            description: name === current.model ? 'current' : undefined,
            model: name,
          }));
          if (current.model) items.unshift({ label: vscode.l10n.t('Any model'), description: vscode.l10n.t('stop filtering by model'), alwaysShow: true, model: undefined });
          return items;
        }),
        { title: vscode.l10n.t('Filter Steps by Model'), placeHolder: vscode.l10n.t('Show only steps run with this model') },
      );
      const picked = await models;
      if (!picked) return;
      model.setFilter({ ...current, model: picked.model });
      return;
    }
  }
}

/** How many of another system's newest steps are read for the models they name. */
const MODEL_SAMPLE = 500;

/** Every model named in any readable database's projects, or in another system's newest steps, sorted. */
async function knownModels(databases: StepDatabases): Promise<string[]> {
  const names = new Set<string>();
  for (const database of databases.all) {
    if (database.state.kind !== 'ready') continue;
    if (isOtherSystem(database)) {
      for (const name of await recentModels(database, MODEL_SAMPLE)) names.add(name);
      continue;
    }
    for (const project of await database.projects()) {
      for (const name of await database.models(project.id)) names.add(name);
    }
  }
  return [...names].sort((a, b) => a.localeCompare(b));
}

async function setShowRolledBack({ tree }: TreeCommandDeps, show: boolean): Promise<void> {
  const config = vscode.workspace.getConfiguration('stepHistory');
  const inspected = config.inspect<boolean>('showRolledBack');
  // Change the value where it is set, so a workspace value does not silently win.
  const target =
    inspected?.workspaceFolderValue !== undefined
      ? vscode.ConfigurationTarget.WorkspaceFolder
      : inspected?.workspaceValue !== undefined
        ? vscode.ConfigurationTarget.Workspace
        : vscode.ConfigurationTarget.Global;
  await config.update('showRolledBack', show, target);
  tree.model.updateSettings({ pageSize: tree.model.pageSize, showRolledBack: show });
}

/** The step a command acts on: its argument, else the tree's selection, else one the user picks. */
async function stepArgument({ databases, tree }: TreeCommandDeps, arg: unknown, title: string): Promise<StepNode | undefined> {
  const fromNode = (value: unknown): StepNode | undefined => {
    if (isStepNode(value)) return value;
    if (isFileNode(value)) return { kind: 'step', database: value.database, projectId: value.projectId, step: value.step };
    return undefined;
  };
  return fromNode(arg) ?? fromNode(tree.view.selection[0]) ?? (await pickStep(databases, { title }));
}

interface CommitChoice extends vscode.QuickPickItem {
  hash: string;
}

async function copyCommitHash(deps: TreeCommandDeps, arg: unknown): Promise<void> {
  const node = await stepArgument(deps, arg, 'Copy Commit Hash of Step');
  if (!node) return;
  const { step } = node;
  const choices: CommitChoice[] = [];
  if (step.commitBefore) choices.push({ label: vscode.l10n.t('Commit before'), description: step.commitBefore, hash: step.commitBefore });
  if (step.commitAfter) choices.push({ label: vscode.l10n.t('Commit after'), description: step.commitAfter, hash: step.commitAfter });
  const own = await node.database.stepCommit(step).catch(() => undefined);
  if (own?.commit && !sameCommit(own.commit, step.commitAfter)) {
    choices.push({ label: vscode.l10n.t('Step commit'), description: own.commit, detail: stepCommitSourceText(own), hash: own.commit });
  }
  // No valid commit at all: the model's refusal says why (missing, or not a hash).
  if (choices.length === 0) requireCommitBefore(step);
  const choice =
    choices.length === 1
      ? choices[0]
      : await vscode.window.showQuickPick(choices, { title: vscode.l10n.t('Copy a Commit Hash of {0}', step.label), placeHolder: vscode.l10n.t('Which commit?') });
  if (!choice) return;
  await vscode.env.clipboard.writeText(choice.hash);
  void vscode.window.showInformationMessage(vscode.l10n.t('Copied {0}\'s {1} {2}.', step.label, choice.label.toLowerCase(), shortHash(choice.hash)));
}
