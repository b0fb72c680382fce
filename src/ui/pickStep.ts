import * as vscode from 'vscode';
import { silentLogger, type Logger } from '../core/log';
import { stepPickText } from './format';
import { stepTitles } from './stepTitles';
import type { StepDatabases } from '../core/stepDatabase';
import type { StepNode } from './treeNodes';

export interface PickStepOptions {
  title: string;
  placeHolder?: string;
  /** Only active steps (not rolled back): what a rollback can target. */
  activeOnly?: boolean;
  /** Leave this step out (for "compare with…"). */
  exclude?: StepNode;
  /** Where a title that cannot be read is logged. */
  log?: Logger;
}

interface StepPick extends vscode.QuickPickItem {
  node: StepNode;
}

/**
 * A quick pick of steps from every readable database and project, newest first; the
 * palette's way to name a step when no tree item was the argument.
 */
export async function pickStep(databases: StepDatabases, options: PickStepOptions): Promise<StepNode | undefined> {
  const load = async (): Promise<StepPick[]> => {
    const picks: StepPick[] = [];
    const many = databases.all.length > 1;
    for (const database of databases.all) {
      if (database.state.kind === 'error') continue;
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
