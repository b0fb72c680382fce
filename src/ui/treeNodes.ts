/**
 * The elements of the Steps tree. Commands receive them as arguments from the tree's menus,
 * so every command that acts on a step or a file accepts these shapes.
 */
import type { ChangedFile } from '../core/git';
import type { ChangeItem, HistoryNode, NodeRef } from '../core/sources/types';
import type { Step } from '../core/model';
import type { StepCommit } from '../core/stepCommits';
import type { ProjectSummary } from '../core/stepStore';
import type { StepWorktree } from '../core/worktrees';
import type { StepDatabase, StepDatabases } from '../core/stepDatabase';
import type { Remedy } from '../core/remedies';
import { stepLabel } from '../core/model';
import { failures } from '../core/messages';

export interface ProjectNode {
  readonly kind: 'project';
  readonly database: StepDatabase;
  readonly project: ProjectSummary;
  /** The project's name from its LaForge project.json, when it gives one. */
  readonly name?: string;
  /** How many of its steps the view lists, with the filter and the rolled-back toggle; undefined when it lists them all. */
  readonly shown?: number;
}

export interface StepNode {
  readonly kind: 'step';
  readonly database: StepDatabase;
  readonly projectId: string;
  readonly step: Step;
  /** The step's own commit, when the tree has resolved it. */
  readonly commit?: StepCommit;
  /** The first line of that commit's message, when read; null when the step has no commit git knows. */
  readonly subject?: string | null;
  /** A running step's live work tree and its files so far, while it exists. */
  readonly live?: StepWorktree;
}

export interface FileNode {
  readonly kind: 'file';
  readonly database: StepDatabase;
  readonly projectId: string;
  readonly step: Step;
  readonly file: ChangedFile;
  /** A running step's file: compared from `base` to the file in the work tree at `path`. */
  readonly worktree?: { path: string; base: string };
}

export interface LoadMoreNode {
  readonly kind: 'loadMore';
  readonly database: StepDatabase;
  readonly projectId: string;
  /** How many steps are shown before this item. */
  readonly offset: number;
}

/** A line that explains something instead of showing data: an unreadable database, no git, … */
export interface MessageNode {
  readonly kind: 'message';
  readonly id: string;
  readonly message: string;
  readonly detail?: string;
  readonly severity: 'info' | 'warning' | 'error';
  /** Shown after the sentence, dimmed: the database it is about. */
  readonly description?: string;
  /** The whole sentence with the path it names, when the row shows it shorter. */
  readonly tooltip?: string;
  /** What choosing the row does about it (an error's first remedy). */
  readonly remedy?: Remedy;
}

/** A node of a database another system wrote: a container (session, workflow, agent, run) or a step. */
export interface ItemNode {
  readonly kind: 'item';
  readonly database: StepDatabase;
  readonly item: HistoryNode;
  /** The node it is listed under; null at the top. */
  readonly parent: NodeRef | null;
}

/** Something such a step changed, shown as a diff of two stored texts. */
export interface ChangeNode {
  readonly kind: 'change';
  readonly database: StepDatabase;
  /** The step that made the change. */
  readonly step: HistoryNode;
  readonly change: ChangeItem;
}

/** "Load more" under a node (or the top) of another system's database. */
export interface ItemMoreNode {
  readonly kind: 'itemMore';
  readonly database: StepDatabase;
  readonly parent: NodeRef | null;
  readonly offset: number;
}

export type TreeNode = ProjectNode | StepNode | FileNode | LoadMoreNode | MessageNode | ItemNode | ChangeNode | ItemMoreNode;

export const isProjectNode = (value: unknown): value is ProjectNode =>
  typeof value === 'object' && value !== null && (value as TreeNode).kind === 'project';

export const isStepNode = (value: unknown): value is StepNode =>
  typeof value === 'object' && value !== null && (value as TreeNode).kind === 'step';

export const isFileNode = (value: unknown): value is FileNode =>
  typeof value === 'object' && value !== null && (value as TreeNode).kind === 'file';

export const isItemNode = (value: unknown): value is ItemNode =>
  typeof value === 'object' && value !== null && (value as TreeNode).kind === 'item';

export const isChangeNode = (value: unknown): value is ChangeNode =>
  typeof value === 'object' && value !== null && (value as TreeNode).kind === 'change';

/**
 * A LaForge step named by ids: what a command URI's JSON argument can carry (a hover's links),
 * where the tree hands its commands a StepNode.
 */
export interface StepReference {
  readonly databaseId: string;
  readonly stepId: number;
}

export const isStepReference = (value: unknown): value is StepReference =>
  typeof value === 'object' && value !== null && typeof (value as StepReference).databaseId === 'string' && Number.isInteger((value as StepReference).stepId);

/** The step node a StepReference names; undefined for any other argument. Rejects for a database or step that is not there. */
export async function referencedStep(databases: Pick<StepDatabases, 'get'>, arg: unknown): Promise<StepNode | undefined> {
  if (!isStepReference(arg)) return undefined;
  const database = databases.get(arg.databaseId);
  if (!database) throw failures.unknownDatabase({ id: arg.databaseId });
  const step = await database.step(arg.stepId);
  if (!step) throw failures.unknownStep({ database: database.label, label: stepLabel(arg.stepId) });
  return { kind: 'step', database, projectId: step.projectId, step };
}

/** A message row: one sentence, its detail for the tooltip and log. */
export function message(
  id: string,
  text: string,
  severity: MessageNode['severity'],
  detail?: string,
  more: Pick<MessageNode, 'description' | 'tooltip' | 'remedy'> = {},
): MessageNode {
  return { kind: 'message', id, message: text, severity, detail, ...more };
}

/**
 * A database's error as its row: the reason first, the path it names left out of the row (a
 * sidebar cuts a long line at its end), the database's label after it and the whole sentence
 * with the path in the tooltip.
 */
export function databaseError(id: string, database: { label: string; path: string }, sentence: string, detail?: string, remedy?: Remedy): MessageNode {
  const reason = sentence.split(database.path).join('').replace(/ {2,}/g, ' ').replace(/ ([.,;:])/g, '$1').trim();
  // The tooltip names the path once: the sentence's own mention, or after it.
  const tooltip = sentence.includes(database.path) ? sentence : `${sentence}\n${database.path}`;
  return message(id, reason || sentence, 'error', detail, { description: database.label, tooltip, remedy });
}
