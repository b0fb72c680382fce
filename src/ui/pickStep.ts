import * as vscode from 'vscode';
import { silentLogger, type Logger } from '../core/log';
import { recentSteps } from '../core/sources/walk';
import { isOtherSystem, type StepDatabase, type StepDatabases } from '../core/stepDatabase';
import { historyPickText, stepPickText } from './format';
import { stepTitles } from './stepTitles';
import type { ItemNode, StepNode } from './treeNodes';

export interface PickStepOptions {
  title: string;
  placeHolder?: string;
  /** Only active steps (not rolled back): what a rollback can target. */
  activeOnly?: boolean;
  /** Leave this step out (for "compare with…"). */
  exclude?: StepNode;
  /** Where a title that cannot be read is logged. */
  log?: Logger;
  /** Offer the other systems' steps too (what opens details): each system's newest, at most this many per database. */
  otherSystems?: number;
}

interface StepPick<N> extends vscode.QuickPickItem {
  node: N;
}

/** Another system's newest steps, with the containers above each. */
async function itemPicks(database: StepDatabase, limit: number, many: boolean): Promise<StepPick<ItemNode>[]> {
  const levels = database.source?.levels ?? [];
  const steps = await recentSteps(database, limit);
  return steps.map(({ step, path }) => ({
    ...historyPickText(step, { levelName: levels.find((l) => l.key === step.level)?.singular ?? step.level, path, database: many ? database.label : undefined }),
    node: { kind: 'item', database, item: step, parent: path.length ? path[path.length - 1].ref : null },
  }));
}

/**
 * A quick pick of steps from every readable database and project, newest first; the
 * palette's way to name a step when no tree item was the argument.
 */
export async function pickStep(databases: StepDatabases, options: PickStepOptions & { otherSystems: number }): Promise<StepNode | ItemNode | undefined>;
export async function pickStep(databases: StepDatabases, options: PickStepOptions): Promise<StepNode | undefined>;
export async function pickStep(databases: StepDatabases, options: PickStepOptions): Promise<StepNode | ItemNode | undefined> {
  const load = async (): Promise<StepPick<StepNode | ItemNode>[]> => {
    const picks: StepPick<StepNode | ItemNode>[] = [];
    const many = databases.all.length > 1;
    for (const database of databases.all) {
      if (database.state.kind === 'error') continue;
      if (isOtherSystem(database)) {
        if (options.otherSystems) picks.push(...(await itemPicks(database, options.otherSystems, many)));
        continue;
      }
      for (const project of await database.projects()) {
        const steps = await database.steps(project.id, { limit: 500, activeOnly: options.activeOnly });
        const titles = await stepTitles(database, steps, options.log ?? silentLogger);
        for (const step of steps) {
          if (options.exclude && options.exclude.database.id === database.id && options.exclude.step.id === step.id) continue;
          picks.push({
            ...stepPickText(step, { project: project.id, database: many ? database.label : undefined, title: titles.get(step.id) }),
            node: { kind: 'step', database, projectId: project.id, step },
          });
        }
      }
    }
    return picks;
  };
  const picked = await vscode.window.showQuickPick(load(), {
    title: options.title,
    placeHolder: options.placeHolder ?? 'Pick a step',
    matchOnDescription: true,
    matchOnDetail: true,
  });
  return picked?.node;
}
