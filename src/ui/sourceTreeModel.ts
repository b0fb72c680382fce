/**
 * The Steps tree for a database another system than LaForge wrote (core/sources): its nodes
 * level by level as its adapter lists them, paged, and under each step what it changed. No
 * `vscode` value: StepsTreeModel delegates to it and the provider draws its nodes.
 *
 * Nodes keep their identity across reloads of the same page (found by ref), so VS Code keeps
 * what was expanded.
 */
import * as l10n from '@vscode/l10n';
import { describeError, logFailure } from '../core/errors';
import type { Logger } from '../core/log';
import type { HistoryNode, NodeRef } from '../core/sources/types';
import type { StepDatabase, StepFilter } from '../core/stepDatabase';
import { databaseError, message, type ChangeNode, type ItemMoreNode, type ItemNode, type MessageNode, type TreeNode } from './treeNodes';
import { remediesOf } from '../core/remedies';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface Level {
  nodes: Mutable<ItemNode>[];
  /** How many a reload fetches: a page, plus a page for each "Load more". */
  want: number;
  hasMore: boolean;
  stale: boolean;
  loading: Promise<void> | undefined;
  error: MessageNode | undefined;
  more: ItemMoreNode | undefined;
}

const TOP = '\u0000top';

export class SourceTreeModel {
  /** By database id, then by parent ref (TOP for the top level). */
  private readonly levels = new Map<string, Map<string, Level>>();
  private readonly changeLists = new Map<string, Promise<TreeNode[]>>();
  private readonly parents = new WeakMap<object, TreeNode>();

  constructor(
    private readonly pageSize: () => number,
    private readonly log: Logger,
    /** The Steps view's filter: steps that do not match it are left out of each page shown; containers stay. */
    private readonly filter: () => StepFilter = () => ({}),
  ) {}

  /** Everything is shown again from its first page (the filter changed). */
  restart(): void {
    for (const byParent of this.levels.values()) {
      for (const level of byParent.values()) {
        level.want = this.pageSize();
        level.stale = true;
      }
    }
  }

  /** The top level of the database: its projects, sessions or workflows. */
  roots(database: StepDatabase): Promise<TreeNode[]> {
    return this.list(database, null);
  }

  async children(node: ItemNode): Promise<TreeNode[]> {
    const nested = node.item.hasChildren ? await this.list(node.database, node.item.ref, node) : [];
    if (!node.item.isStep) return nested;
    return [...nested, ...(await this.changes(node))];
  }

  getParent(node: TreeNode): TreeNode | undefined {
    return this.parents.get(node);
  }

  /** Shows one more page under `node`'s parent. */
  async loadMore(node: ItemMoreNode): Promise<void> {
    const level = this.levels.get(node.database.id)?.get(node.parent ?? TOP);
    if (!level) return;
    level.want = Math.max(level.want, level.nodes.length) + this.pageSize();
    level.stale = true;
  }

  /** The database changed: everything under it is read again when next shown. */
  forget(databaseId: string): void {
    for (const level of this.levels.get(databaseId)?.values() ?? []) level.stale = true;
    for (const key of [...this.changeLists.keys()]) if (key.startsWith(`${databaseId}|`)) this.changeLists.delete(key);
  }

  /** The database went away. */
  drop(databaseId: string): void {
    this.levels.delete(databaseId);
    this.forget(databaseId);
  }

  private level(database: StepDatabase, parent: NodeRef | null): Level {
    let byParent = this.levels.get(database.id);
    if (!byParent) this.levels.set(database.id, (byParent = new Map()));
    let level = byParent.get(parent ?? TOP);
    if (!level) {
      level = { nodes: [], want: this.pageSize(), hasMore: false, stale: true, loading: undefined, error: undefined, more: undefined };
      byParent.set(parent ?? TOP, level);
    }
    return level;
  }

  private async list(database: StepDatabase, parent: NodeRef | null, parentNode?: ItemNode): Promise<TreeNode[]> {
    const level = this.level(database, parent);
    while (level.stale) {
      level.loading ??= this.load(database, parent, level).finally(() => (level.loading = undefined));
      await level.loading;
    }
    const filter = this.filter();
    const matching = level.nodes.filter((n) => matchesFilter(n.item, filter));
    const shown: TreeNode[] = level.error ? [level.error] : matching;
    if (!level.error && level.hasMore) {
      level.more = { kind: 'itemMore', database, parent, offset: level.nodes.length };
      shown.push(level.more);
    } else if (!level.error && level.nodes.length > 0 && matching.length === 0) {
      shown.push(message(`${database.id}|${parent ?? ''}|nomatch`, l10n.t('Nothing here matches the filter.'), 'info'));
    } else if (!level.error && level.nodes.length === 0) {
      shown.push(message(`${database.id}|${parent ?? ''}|empty`, parent === null ? l10n.t('{0} holds nothing yet.', database.label) : l10n.t('Nothing recorded yet.'), 'info'));
    }
    if (parentNode) for (const child of shown) this.parents.set(child, parentNode);
    return shown;
  }

  private async load(database: StepDatabase, parent: NodeRef | null, level: Level): Promise<void> {
    level.stale = false;
    const want = level.want;
    try {
      const page = await database.children(parent, { offset: 0, limit: want + 1 });
      const previous = new Map(level.nodes.map((n) => [n.item.ref, n]));
      level.nodes = page.slice(0, want).map((item) => {
        const kept = previous.get(item.ref);
        if (kept) {
          kept.item = item;
          kept.database = database;
          return kept;
        }
        return { kind: 'item', database, item, parent };
      });
      level.hasMore = page.length > want;
      level.error = undefined;
    } catch (err) {
      const { message: sentence, detail } = describeError(err);
      logFailure(this.log, `listing ${parent ?? 'the top level'} of ${database.path}`, err);
      const id = `${database.id}|${parent ?? ''}|error`;
      level.error = parent === null ? databaseError(id, database, sentence, detail, remediesOf(err)[0]) : message(id, sentence, 'error', detail);
    }
  }

  private changes(node: ItemNode): Promise<TreeNode[]> {
    const key = `${node.database.id}|${node.item.ref}`;
    let pending = this.changeLists.get(key);
    if (!pending) {
      pending = this.readChanges(node, key);
      this.changeLists.set(key, pending);
    }
    return pending;
  }

  private async readChanges(node: ItemNode, key: string): Promise<TreeNode[]> {
    let children: TreeNode[];
    try {
      const changes = await node.database.changes(node.item.ref);
      children = changes.map((change): ChangeNode => ({ kind: 'change', database: node.database, step: node.item, change }));
      if (children.length === 0 && !node.item.hasChildren) children = [message(`${key}|nochanges`, l10n.t('No changes recorded.'), 'info')];
    } catch (err) {
      const { message: sentence, detail } = describeError(err);
      logFailure(this.log, `the changes of ${node.item.ref} in ${node.database.path}`, err, 'warn');
      this.changeLists.delete(key);
      children = [message(`${key}|error`, sentence, 'error', detail)];
    }
    for (const child of children) this.parents.set(child, node);
    return children;
  }
}

/** Whether a node passes the filter: containers always do; a step by its status, model and text. */
export function matchesFilter(item: HistoryNode, filter: StepFilter): boolean {
  if (!item.isStep) return true;
  if (filter.failedOnly && item.status !== 'failed') return false;
  if (filter.model && item.metrics.model !== filter.model) return false;
  if (filter.text) {
    const needle = filter.text.toLowerCase();
    const haystack = [item.label, item.description ?? '', item.metrics.model ?? '', item.rawStatus ?? ''].join('\n').toLowerCase();
    if (!haystack.includes(needle)) return false;
  }
  return true;
}

