/**
 * The messages between the extension host and the step details page, one union per
 * direction. Imported by both bundles, so: no `vscode`, no DOM, plain JSON data only
 * (dates are ISO 8601 strings). Every string that came from a database is data: the page
 * shows it with textContent, never as HTML.
 */

export type StepStatusText = 'RUNNING' | 'COMPLETED' | 'FAILED' | 'ROLLED BACK';

export interface AgentConfigView {
  model: string | null;
  maxTokens: number | null;
  temperature: number | null;
  systemPrompt: string | null;
  tools: string[];
  metadata: { key: string; value: string }[];
}

export interface AgentView {
  /** `agent_config_name`, in the newer schema. */
  name: string | null;
  /** `agent_config_json`, read. */
  config: AgentConfigView | null;
  /** The stored configuration text when it could not be read (a warning says why). */
  unreadable: string | null;
}

export interface TokensView {
  prompt: number;
  completion: number;
  total: number;
  cost: number;
  /** The counts and the cost as the views write them: `41,450`, `$0.36`. */
  promptText: string;
  completionText: string;
  totalText: string;
  costText: string;
}

/** A step's log (LaForge's `logs/step-S<N>-*.log`), and the summary at its end. */
export interface LogView {
  /** null while the step runs, or when the agent stopped without a summary line. */
  summary: {
    outcome: 'success' | 'error';
    /** `Success`, `Error`, `Error: reached its turn limit`. */
    resultText: string;
    turns: number | null;
    /** The agent's own time, e.g. `1 min 25 s`. */
    durationText: string | null;
    /** e.g. `$0.4213`. */
    costText: string | null;
    /** The agent's final message, as text. */
    finalMessage: string;
  } | null;
}

export interface ParentView {
  id: number;
  label: string;
  /** The parent is not in this database (a warning says so); the link is not offered. */
  missing: boolean;
}

export interface CommitView {
  sha: string;
  shortSha: string;
  subject: string;
  /** From the commit's `Step-id` note or trailer, e.g. `S12`. */
  stepId: string | null;
}

export interface FileView {
  path: string;
  oldPath: string | null;
  /** added, modified, deleted, renamed, copied, typeChanged, unmerged, unknown. */
  status: string;
  added: number | null;
  removed: number | null;
  binary: boolean;
}

export interface StepCommitView {
  /** Null when the step made no commit. */
  sha: string | null;
  /** `from its Step-id note`, `from branch step-S9`, `recorded`, or `made no commit`. */
  source: string;
  /** `not merged (step-S9)` for a kept branch outside HEAD's history. */
  notMerged: string | null;
}

/**
 * A part of the page that needs git: its items (perhaps only the first `shown` of `total`),
 * or the sentence saying why it is not available. The rest of the page shows either way.
 */
export type SectionView<T> = { state: 'ok'; items: T[]; total: number } | { state: 'error'; message: string };

export interface WarningView {
  field: string;
  message: string;
}

export interface StepDetailsView {
  databaseId: string;
  databaseLabel: string;
  /** The project's key, as the store names it. */
  projectId: string;
  /** The project as the views name it: `(no project)`, `42`, or its text. */
  projectLabel: string;
  id: number;
  label: string;
  /** What the step did: its commit's first line, or its log's final message's; null when nothing says. */
  title: string | null;
  status: StepStatusText;
  active: boolean;
  startTime: string | null;
  endTime: string | null;
  createdAt: string | null;
  /** The same times as the views write them, absolute and relative: `2026-11-02 14:05:00 UTC (29d ago)`. */
  startText: string | null;
  endText: string | null;
  createdText: string | null;
  durationMs: number | null;
  /** e.g. `3m 5s`. */
  durationText: string | null;
  exitCode: number | null;
  commitBefore: string | null;
  commitAfter: string | null;
  /** The step's own commit and where it came from; null when git could not tell. */
  stepCommit: StepCommitView | null;
  agent: AgentView;
  /** null when the row records no token usage: shown as not recorded, never as zero. */
  tokens: TokensView | null;
  /** null when the step has no log. */
  log: LogView | null;
  parent: ParentView | null;
  commits: SectionView<CommitView>;
  files: SectionView<FileView>;
  warnings: WarningView[];
}

/** A part of the details of another system's node, its figures already formatted. */
export type HistorySectionView =
  | { kind: 'facts'; title: string; facts: { label: string; value: string }[] }
  | { kind: 'text'; title: string; text: string }
  | { kind: 'messages'; title: string; messages: { role: string; meta: string; text: string; extras: { label: string; text: string }[] }[] }
  | { kind: 'timeline'; title: string; events: { time: string; label: string; detail: string | null }[] }
  | { kind: 'warnings'; title: string; warnings: string[] };

/** The details of a node of another system's database (core/sources). */
export interface HistoryDetailsView {
  ref: string;
  label: string;
  /** e.g. `iteration · Constellation`. */
  kindText: string;
  statusText: string;
  status: string;
  /** Whether it is a step with changes to show. */
  changes: number;
  sections: HistorySectionView[];
}

/** Host → page. */
export type HostMessage =
  | { type: 'loading'; label: string }
  | { type: 'details'; details: StepDetailsView }
  | { type: 'history'; details: HistoryDetailsView }
  | { type: 'error'; message: string };

/** Page → host. The page sends `ready` first, and again whenever it is reloaded. */
export type PageMessage =
  | { type: 'ready' }
  | { type: 'openStep'; stepId: number }
  | { type: 'openFile'; stepId: number; path: string }
  | { type: 'showChanges'; stepId: number }
  | { type: 'openLog'; stepId: number }
  | { type: 'showItemChanges'; ref: string }
  /** The Analytics panel of what is shown: the step's project, or the node's container. */
  | { type: 'showAnalytics' }
  | { type: 'copy'; text: string };

/** The host's check of what the page sends: anything else is ignored. */
export function isPageMessage(value: unknown): value is PageMessage {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  const isId = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v);
  switch (m.type) {
    case 'ready':
    case 'showAnalytics':
      return true;
    case 'openStep':
    case 'showChanges':
    case 'openLog':
      return isId(m.stepId);
    case 'openFile':
      return isId(m.stepId) && typeof m.path === 'string' && m.path.length > 0;
    case 'copy':
      return typeof m.text === 'string';
    case 'showItemChanges':
      return typeof m.ref === 'string' && m.ref.length > 0;
    default:
      return false;
  }
}
