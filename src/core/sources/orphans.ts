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

/**
 * The warning on a row whose parent is gone: `It belongs to no project (project_id is NULL).`,
 * `Its workflow (id 3) has been deleted.`. `id` is the stored value as text; null for NULL.
 */
export function missingParentWarning(parent: string, column: string, id: string | null): string {
  if (id === null) return `It belongs to no ${parent} (${column} is NULL).`;
  if (id === '') return `It belongs to no ${parent} (${column} is empty).`;
  return `Its ${parent} (id ${id}) has been deleted.`;
}

/**
 * Whether a synthetic node that comes after `before` real nodes (at index `before` of the whole
 * list) falls inside the page [offset, offset + limit).
 */
export function syntheticInPage(before: number, offset: number, limit: number): boolean {
  return limit > 0 && offset <= before && before < offset + limit;
}

/** A synthetic group's second line: `3 runs whose workflow is gone`. */
export function orphanGroupDescription(n: number, one: string, many: string, parent: string): string {
  return `${n} ${n === 1 ? one : many} whose ${parent} is gone`;
}
