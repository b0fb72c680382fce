/**
 * How every figure a user sees is written, in one place: counts, tokens, costs, durations,
 * times (relative and absolute) and commit hashes. The tree, the details, the tooltips, the
 * status bar, the quick picks, the notifications, the sources' details and the command line
 * all write them through here, so a step reads the same wherever it is shown. Pure, no
 * `vscode` import.
 */
import type { TokenCounts } from './sources/types';

/** What a figure reads when the system recorded none: never a made-up zero. */
export const NOT_RECORDED = 'not recorded';

/** How many hex digits of a commit hash are shown: git's own short form. */
export const SHORT_HASH_LENGTH = 7;

/** A commit hash as the views show it: its first seven hex digits. */
export const shortHash = (hash: string, length = SHORT_HASH_LENGTH): string => hash.slice(0, length);

/** A time as details and tooltips write it: ISO without milliseconds, in UTC, so it reads the same for everyone. */
export function dateTime(date: Date): string {
  return date.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC');
}

/** A time as details and tooltips give it: absolute and relative, `2026-11-02 14:05:00 UTC (29d ago)`. */
export function bothTimes(date: Date, now: Date = new Date()): string {
  return `${dateTime(date)} (${relativeTime(date, now)})`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number) => String(n).padStart(2, '0');

/**
 * A time on a row, where a column of "29d ago" would tell no step from the next: relative
 * within a day (`3h ago`), then the local date and time (`Nov 2 14:05`), with the year once
 * it is not this year's (`2025-11-02`).
 */
export function rowTime(date: Date, now: Date = new Date()): string {
  const ms = now.getTime() - date.getTime();
  if (ms < DAY) return relativeTime(date, now);
  if (date.getFullYear() !== now.getFullYear()) return `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())}`;
  return `${MONTHS[date.getMonth()]} ${date.getDate()} ${pad2(date.getHours())}:${pad2(date.getMinutes())}`;
}

/** A count written in full, as details give it: `41,450`. */
export const formatExactCount = (n: number): string => (Number.isFinite(n) ? n.toLocaleString('en-US') : '?');

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** `just now`, `3m ago`, `5h ago`, `2d ago`, `4mo ago`, `2y ago`. A time in the future reads as `just now`. */
export function relativeTime(date: Date, now: Date = new Date()): string {
  const ms = now.getTime() - date.getTime();
  if (ms < MINUTE) return 'just now';
  if (ms < HOUR) return `${Math.floor(ms / MINUTE)}m ago`;
  if (ms < DAY) return `${Math.floor(ms / HOUR)}h ago`;
  if (ms < 30 * DAY) return `${Math.floor(ms / DAY)}d ago`;
  if (ms < 365 * DAY) return `${Math.floor(ms / (30 * DAY))}mo ago`;
  return `${Math.floor(ms / (365 * DAY))}y ago`;
}

/** The same, spelled out for screen readers: `3 minutes ago`. */
export function relativeTimeSpoken(date: Date, now: Date = new Date()): string {
  const ms = now.getTime() - date.getTime();
  const unit = (n: number, name: string) => `${n} ${name}${n === 1 ? '' : 's'} ago`;
  if (ms < MINUTE) return 'just now';
  if (ms < HOUR) return unit(Math.floor(ms / MINUTE), 'minute');
  if (ms < DAY) return unit(Math.floor(ms / HOUR), 'hour');
  if (ms < 30 * DAY) return unit(Math.floor(ms / DAY), 'day');
  if (ms < 365 * DAY) return unit(Math.floor(ms / (30 * DAY)), 'month');
  return unit(Math.floor(ms / (365 * DAY)), 'year');
}

/** `850ms`, `4.2s`, `12s`, `1m 20s`, `2h 5m`, `3d 4h`; two units at most, the smaller one left out when 0. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < SECOND) return `${Math.round(ms)}ms`;
  // One decimal below ten seconds, where it still says something: `4.2s`.
  if (ms < 10 * SECOND) return `${(Math.floor(ms / 100) / 10).toFixed(1).replace(/\.0$/, '')}s`;
  if (ms < MINUTE) return `${Math.floor(ms / SECOND)}s`;
  const two = (big: number, bigUnit: string, small: number, smallUnit: string) =>
    small === 0 ? `${big}${bigUnit}` : `${big}${bigUnit} ${small}${smallUnit}`;
  if (ms < HOUR) return two(Math.floor(ms / MINUTE), 'm', Math.floor((ms % MINUTE) / SECOND), 's');
  if (ms < DAY) return two(Math.floor(ms / HOUR), 'h', Math.floor((ms % HOUR) / MINUTE), 'm');
  return two(Math.floor(ms / DAY), 'd', Math.floor((ms % DAY) / HOUR), 'h');
}

/** `950`, `1.2k`, `12.3k`, `123k`, `1.2M`: one decimal below 100 of the unit, trailing `.0` dropped. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '?';
  const sign = n < 0 ? '-' : '';
  const abs = Math.abs(n);
  if (abs < 999.5) return `${sign}${Math.round(abs)}`;
  const units: [number, string][] = [
    [1e3, 'k'],
    [1e6, 'M'],
    [1e9, 'B'],
  ];
  for (const [size, suffix] of units) {
    const value = abs / size;
    const text = value < 99.95 ? value.toFixed(1).replace(/\.0$/, '') : String(Math.round(value));
    // Rounding may reach the next unit: 999,949 reads 1M, not 1000k.
    if (Number(text) < 1000 || suffix === 'B') return `${sign}${text}${suffix}`;
  }
  return `${sign}${abs}`;
}

export const formatTokens = (n: number): string => `${formatCount(n)} ${n === 1 ? 'token' : 'tokens'}`;

/** `$0.04`, `$12.50`, `$123`; a positive cost under a cent reads `<$0.01`. */
export function formatCost(cost: number): string {
  if (!Number.isFinite(cost)) return '?';
  if (cost > 0 && cost < 0.005) return '<$0.01';
  if (cost >= 100) return `$${Math.round(cost).toLocaleString('en-US')}`;
  return `$${cost.toFixed(2)}`;
}

/** Tokens as `12.3k tokens (12k in, 300 out)`, each part only when recorded. */
export function nodeTokensText(tokens: TokenCounts | null): string {
  if (!tokens) return NOT_RECORDED;
  const total = tokens.total ?? (tokens.prompt !== null || tokens.completion !== null ? (tokens.prompt ?? 0) + (tokens.completion ?? 0) : null);
  if (total === null) return NOT_RECORDED;
  const parts = [tokens.prompt !== null ? `${formatCount(tokens.prompt)} in` : '', tokens.completion !== null ? `${formatCount(tokens.completion)} out` : ''].filter(Boolean);
  return parts.length ? `${formatTokens(total)} (${parts.join(', ')})` : formatTokens(total);
}
