/**
 * Rows whose parent row is gone, as the adapters list them.
 *
 * Systems that leave foreign keys off (LLM Orchestration never turns them on; a Constellation
 * file edited by a connection that did not) keep rows whose parent was deleted: runs of a deleted
 * workflow, responses of a deleted run, agents of a deleted project. Such rows are not reachable
 * from their parent, so each adapter lists them under one synthetic node per level, placed after
 * the real nodes of that level and present only when such rows exist; every orphan row carries a
 * warning sentence made here, so all adapters word it alike.
 */

import * as l10n from '@vscode/l10n';

/** The kinds of parent a row can lose, as the adapters name them to the code. */
export type ParentKind = 'project' | 'workflow' | 'run';

/**
 * The warning on a row whose parent is gone: `It belongs to no project (project_id is NULL).`,
 * `Its workflow (id 3) has been deleted.`. `column` is the column naming the parent, `id` the
 * stored value as text; null for NULL.
 */
export function missingParentWarning(parent: ParentKind, column: string, id: string | null): string {
  if (id === null) return belongsToNoneNull[parent](column);
  if (id === '') return belongsToNoneEmpty[parent](column);
  return parentDeleted[parent](id);
}

const belongsToNoneNull: Record<ParentKind, (column: string) => string> = {
  project: (column) => l10n.t('It belongs to no project ({0} is NULL).', column),
  workflow: (column) => l10n.t('It belongs to no workflow ({0} is NULL).', column),
  run: (column) => l10n.t('It belongs to no run ({0} is NULL).', column),
};

const belongsToNoneEmpty: Record<ParentKind, (column: string) => string> = {
  project: (column) => l10n.t('It belongs to no project ({0} is empty).', column),
  workflow: (column) => l10n.t('It belongs to no workflow ({0} is empty).', column),
  run: (column) => l10n.t('It belongs to no run ({0} is empty).', column),
};

const parentDeleted: Record<ParentKind, (id: string) => string> = {
  project: (id) => l10n.t('Its project (id {0}) has been deleted.', id),
  workflow: (id) => l10n.t('Its workflow (id {0}) has been deleted.', id),
  run: (id) => l10n.t('Its run (id {0}) has been deleted.', id),
};

/**
 * Whether a synthetic node that comes after `before` real nodes (at index `before` of the whole
 * list) falls inside the page [offset, offset + limit).
 */
export function syntheticInPage(before: number, offset: number, limit: number): boolean {
  return limit > 0 && offset <= before && before < offset + limit;
}

/** The rows a synthetic group holds: agents of a deleted project, runs of a deleted workflow, responses of a deleted run. */
export type OrphanKind = 'agent' | 'run' | 'response';

/** A synthetic group's second line: `3 runs whose workflow is gone`. */
export function orphanGroupDescription(n: number, kind: OrphanKind): string {
  const count = String(n);
  switch (kind) {
    case 'agent':
      return n === 1 ? l10n.t('{0} agent whose project is gone', count) : l10n.t('{0} agents whose project is gone', count);
    case 'run':
      return n === 1 ? l10n.t('{0} run whose workflow is gone', count) : l10n.t('{0} runs whose workflow is gone', count);
    case 'response':
      return n === 1 ? l10n.t('{0} response whose run is gone', count) : l10n.t('{0} responses whose run is gone', count);
  }
}
