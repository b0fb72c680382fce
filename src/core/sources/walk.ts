/**
 * Walks down a history, any system's: its newest step (what the status bar shows), and its
 * recent steps with the containers above each (what a quick pick offers). Only pages are
 * read, never a whole level.
 *
 * Containers are listed newest first; steps are listed in the order the system shows them
 * (time order for most, newest first for LaForge), so of a level's first and last node the
 * one that started later is taken.
 */
import type { HistoryNode, NodeRef, Page } from './types';

export interface HistoryPages {
  children(parent: NodeRef | null, page?: Page): Promise<HistoryNode[]>;
  count(parent: NodeRef | null): Promise<number>;
}

/** Deeper than any system's tree: a guard against a cycle in stored parent links. */
const MAX_DEPTH = 16;

const startOf = (n: HistoryNode): number => n.metrics.start?.getTime() ?? -Infinity;

/** The node of `parent`'s children that started last: the first or the last listed. */
async function newestChild(history: HistoryPages, parent: NodeRef | null): Promise<HistoryNode | undefined> {
  const [first] = await history.children(parent, { limit: 1 });
  if (!first) return undefined;
  const count = await history.count(parent);
  if (count <= 1) return first;
  const [last] = await history.children(parent, { offset: count - 1, limit: 1 });
  if (!last) return first;
  if (startOf(last) !== startOf(first)) return startOf(last) > startOf(first) ? last : first;
  // No time tells them apart: containers are listed newest first, steps mostly in time order.
  return first.isStep ? last : first;
}

/** The newest step: down the newest node at each level until a step. Undefined when the history holds none yet. */
export async function latestStep(history: HistoryPages): Promise<HistoryNode | undefined> {
  let parent: NodeRef | null = null;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const node = await newestChild(history, parent);
    if (!node) return undefined;
    if (node.isStep) return node;
    if (!node.hasChildren) return undefined;
    parent = node.ref;
  }
  return undefined;
}

export interface PathedStep {
  step: HistoryNode;
  /** The containers above it, top down. */
  path: HistoryNode[];
}

/**
 * Steps from the newest containers, at most `limit`, each with its path: the first `perLevel`
 * nodes of each level, depth first. Steps nested under steps are listed too.
 */
export async function recentSteps(history: HistoryPages, limit: number, perLevel = 50): Promise<PathedStep[]> {
  const out: PathedStep[] = [];
  const visit = async (parent: NodeRef | null, path: HistoryNode[]): Promise<void> => {
    if (path.length >= MAX_DEPTH) return;
    for (const node of await history.children(parent, { limit: perLevel })) {
      if (out.length >= limit) return;
      if (node.isStep) out.push({ step: node, path });
      if (node.hasChildren) await visit(node.ref, [...path, node]);
    }
  };
  await visit(null, []);
  return out;
}
