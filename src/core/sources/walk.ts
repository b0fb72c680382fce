/**
 * Walks down a history, any system's: its newest step (what the status bar shows), and its
 * recent steps with the containers above each (what a quick pick offers). Only pages are
 * read, never a whole level.
 *
 * Containers are listed newest first; steps are listed in the order the system shows them
 * (time order for most, newest first for LaForge), so of a level's first and last pages the
 * node that started latest is taken.
 */
import type { HistoryNode, NodeRef, Page } from './types';

export interface HistoryPages {
  children(parent: NodeRef | null, page?: Page): Promise<HistoryNode[]>;
  count(parent: NodeRef | null): Promise<number>;
}

/** Deeper than any system's tree: a guard against a cycle in stored parent links. */
export const MAX_DEPTH = 16;

const startOf = (n: HistoryNode): number => n.metrics.start?.getTime() ?? -Infinity;

/** How many nodes of a level's head and of its tail are read to find its newest. */
const EDGE = 200;

/**
 * The node of `parent`'s children that started last, of the first and the last page listed
 * (a node without a time never wins over one with a time). Without any time: the first listed
 * of containers (newest first), the last of steps (mostly time order).
 */
async function newestChild(history: HistoryPages, parent: NodeRef | null): Promise<HistoryNode | undefined> {
  const head = await history.children(parent, { limit: EDGE });
  if (head.length === 0) return undefined;
  const count = head.length < EDGE ? head.length : await history.count(parent);
  const tail = count > EDGE ? await history.children(parent, { offset: Math.max(EDGE, count - EDGE), limit: EDGE }) : [];
  const nodes = [...head, ...tail];
  let best: HistoryNode | undefined;
  for (const n of nodes) if (startOf(n) > -Infinity && (!best || startOf(n) > startOf(best))) best = n;
  return best ?? (head[0].isStep ? nodes[nodes.length - 1] : head[0]);
}

/** The newest step under `node`: down the newest node at each level until a step. */
async function newestUnder(history: HistoryPages, node: HistoryNode): Promise<HistoryNode | undefined> {
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    if (node.isStep) return node;
    if (!node.hasChildren) return undefined;
    const child = await newestChild(history, node.ref);
    if (!child) return undefined;
    node = child;
  }
  return undefined;
}

/**
 * The newest step: of the first `breadth` top-level nodes (newest first by their system's
 * order, which may be by creation), the newest step under each, and of those the one that
 * started last. Undefined when the history holds no step yet.
 */
export async function latestStep(history: HistoryPages, breadth = 10): Promise<HistoryNode | undefined> {
  let best: HistoryNode | undefined;
  for (const top of await history.children(null, { limit: breadth })) {
    const step = await newestUnder(history, top);
    if (step && (!best || startOf(step) > startOf(best))) best = step;
  }
  return best;
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

/** The models the newest `limit` steps name (what the filter's model pick offers), sorted. */
export async function recentModels(history: HistoryPages, limit: number): Promise<string[]> {
  const names = new Set<string>();
  for (const { step } of await recentSteps(history, limit)) if (step.metrics.model) names.add(step.metrics.model);
  return [...names].sort((a, b) => a.localeCompare(b));
}
