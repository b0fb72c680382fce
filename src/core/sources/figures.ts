/**
 * The figures of the sources' details (cost, tokens, durations), written the same way for
 * every system; "not recorded" where a system stored none, never a made-up zero.
 */
import type { TokenCounts } from './types';

export function formatCost(c: number | null): string {
  return c === null ? 'not recorded' : `$${Number(c.toFixed(6))}`;
}

export function formatTokens(t: TokenCounts | null): string {
  if (!t) return 'not recorded';
  const f = (n: number | null) => (n === null ? '?' : n.toLocaleString('en-US'));
  return `${f(t.total)} (${f(t.prompt)} in, ${f(t.completion)} out)`;
}

export function formatDuration(ms: number | null): string {
  if (ms === null) return 'not recorded';
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
