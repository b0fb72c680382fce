/** Pieces every Autonomous Software Studio source shares: statuses, metrics, node refs. */
import type { HistoryNode, NodeMetrics, NodeStatus } from '../types';

const STATUS: Record<string, NodeStatus> = {
  pending: 'pending',
  running: 'running',
  awaiting_approval: 'waiting',
  completed: 'completed',
  complete: 'completed',
  failed: 'failed',
  expired: 'stopped',
};

export function statusOf(raw: string | null): NodeStatus {
  if (raw === null) return 'unknown';
  return STATUS[raw.trim().toLowerCase()] ?? 'unknown';
}

export function metrics(start: Date | null, end: Date | null, durationMs: number | null = null): NodeMetrics {
  const duration = durationMs ?? (start && end && end.getTime() >= start.getTime() ? end.getTime() - start.getTime() : null);
  return { start, end, durationMs: duration, tokens: null, costUsd: null, model: null };
}

/** `<level>:<parts…>`, each part URI-encoded so that `/` can join them. */
export const makeRef = (level: string, ...parts: string[]): string => `${level}:${parts.map(encodeURIComponent).join('/')}`;

export function parseRef(ref: string): { level: string; parts: string[] } | null {
  const i = ref.indexOf(':');
  if (i <= 0) return null;
  try {
    return { level: ref.slice(0, i), parts: ref.slice(i + 1).split('/').map(decodeURIComponent) };
  } catch {
    return null;
  }
}

export function page<T>(items: T[], p?: { offset?: number; limit?: number }): T[] {
  const offset = Math.max(0, p?.offset ?? 0);
  const limit = Math.max(0, p?.limit ?? 200);
  return items.slice(offset, offset + limit);
}

export const firstLine = (s: string, max = 120): string => {
  const line = s.split(/\r?\n/, 1)[0] ?? '';
  return line.length > max ? line.slice(0, max - 1) + '…' : line;
};

export type NodeInit = Omit<HistoryNode, 'warnings' | 'hasChildren' | 'isStep'> & Partial<Pick<HistoryNode, 'warnings' | 'hasChildren' | 'isStep'>>;

export const node = (n: NodeInit): HistoryNode => ({ hasChildren: false, isStep: false, warnings: [], ...n });
