/**
 * How every figure a user sees is written, in one place: counts, tokens, costs, durations,
 * times (relative and absolute) and commit hashes. The tree, the details, the tooltips, the
 * status bar, the quick picks, the notifications, the sources' details and the command line
 * all write them through here, so a step reads the same wherever it is shown. Pure, no
 * `vscode` import. Their words and units go through `@vscode/l10n`: in the user's language
 * once the extension has configured its bundle, in English where none is (the command line).
 */
import * as l10n from '@vscode/l10n';
import type { TokenCounts } from './sources/types';

/** What a figure reads when the system recorded none: never a made-up zero. */
export const notRecorded = (): string => l10n.t('not recorded');

/** A figure through `format`, or notRecorded() when the system recorded none (null). */
export const recordedText = (value: number | null, format: (n: number) => string): string => (value === null ? notRecorded() : format(value));

/**
 * The same words, always in English: for text that is not translated yet (the command
 * line's). Translated text, the sources' details among it, uses notRecorded().
 */
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

/** A day of each month and a time on a row, `Nov 2 14:05`: the month's name and the order are the language's. */
const MONTH_DAYS: ((day: number, time: string) => string)[] = [
  (day, time) => l10n.t('Jan {0} {1}', day, time),
  (day, time) => l10n.t('Feb {0} {1}', day, time),
  (day, time) => l10n.t('Mar {0} {1}', day, time),
  (day, time) => l10n.t('Apr {0} {1}', day, time),
  (day, time) => l10n.t('May {0} {1}', day, time),
  (day, time) => l10n.t('Jun {0} {1}', day, time),
  (day, time) => l10n.t('Jul {0} {1}', day, time),
  (day, time) => l10n.t('Aug {0} {1}', day, time),
  (day, time) => l10n.t('Sep {0} {1}', day, time),
  (day, time) => l10n.t('Oct {0} {1}', day, time),
  (day, time) => l10n.t('Nov {0} {1}', day, time),
  (day, time) => l10n.t('Dec {0} {1}', day, time),
];
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
  return MONTH_DAYS[date.getMonth()](date.getDate(), `${pad2(date.getHours())}:${pad2(date.getMinutes())}`);
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
  if (ms < MINUTE) return l10n.t('just now');
  if (ms < HOUR) return l10n.t({ message: '{0}m ago', args: [Math.floor(ms / MINUTE)], comment: 'minutes ago, short' });
  if (ms < DAY) return l10n.t({ message: '{0}h ago', args: [Math.floor(ms / HOUR)], comment: 'hours ago, short' });
  if (ms < 30 * DAY) return l10n.t({ message: '{0}d ago', args: [Math.floor(ms / DAY)], comment: 'days ago, short' });
  if (ms < 365 * DAY) return l10n.t({ message: '{0}mo ago', args: [Math.floor(ms / (30 * DAY))], comment: 'months ago, short' });
  return l10n.t({ message: '{0}y ago', args: [Math.floor(ms / (365 * DAY))], comment: 'years ago, short' });
}

/** The same, spelled out for screen readers: `3 minutes ago`. */
export function relativeTimeSpoken(date: Date, now: Date = new Date()): string {
  const ms = now.getTime() - date.getTime();
  if (ms < MINUTE) return l10n.t('just now');
  if (ms < HOUR) {
    const n = Math.floor(ms / MINUTE);
    return n === 1 ? l10n.t('1 minute ago') : l10n.t('{0} minutes ago', n);
  }
  if (ms < DAY) {
    const n = Math.floor(ms / HOUR);
    return n === 1 ? l10n.t('1 hour ago') : l10n.t('{0} hours ago', n);
  }
  if (ms < 30 * DAY) {
    const n = Math.floor(ms / DAY);
    return n === 1 ? l10n.t('1 day ago') : l10n.t('{0} days ago', n);
  }
  if (ms < 365 * DAY) {
    const n = Math.floor(ms / (30 * DAY));
    return n === 1 ? l10n.t('1 month ago') : l10n.t('{0} months ago', n);
  }
  const n = Math.floor(ms / (365 * DAY));
  return n === 1 ? l10n.t('1 year ago') : l10n.t('{0} years ago', n);
}

/** `850ms`, `4.2s`, `12s`, `1m 20s`, `2h 5m`, `3d 4h`; two units at most, the smaller one left out when 0. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < SECOND) return l10n.t({ message: '{0}ms', args: [Math.round(ms)], comment: 'milliseconds, in a duration' });
  // One decimal below ten seconds, where it still says something: `4.2s`.
  if (ms < 10 * SECOND) return seconds((Math.floor(ms / 100) / 10).toFixed(1).replace(/\.0$/, ''));
  if (ms < MINUTE) return seconds(Math.floor(ms / SECOND));
  if (ms < HOUR) {
    const [m, s] = [Math.floor(ms / MINUTE), Math.floor((ms % MINUTE) / SECOND)];
    return s === 0
      ? l10n.t({ message: '{0}m', args: [m], comment: 'minutes, in a duration' })
      : l10n.t({ message: '{0}m {1}s', args: [m, s], comment: 'minutes and seconds, in a duration' });
  }
  if (ms < DAY) {
    const [h, m] = [Math.floor(ms / HOUR), Math.floor((ms % HOUR) / MINUTE)];
    return m === 0
      ? l10n.t({ message: '{0}h', args: [h], comment: 'hours, in a duration' })
      : l10n.t({ message: '{0}h {1}m', args: [h, m], comment: 'hours and minutes, in a duration' });
  }
  const [d, h] = [Math.floor(ms / DAY), Math.floor((ms % DAY) / HOUR)];
  return h === 0
    ? l10n.t({ message: '{0}d', args: [d], comment: 'days, in a duration' })
    : l10n.t({ message: '{0}d {1}h', args: [d, h], comment: 'days and hours, in a duration' });
}

const seconds = (s: number | string): string => l10n.t({ message: '{0}s', args: [s], comment: 'seconds, in a duration' });

/** `950`, `1.2k`, `12.3k`, `123k`, `1.2M`: one decimal below 100 of the unit, trailing `.0` dropped. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '?';
  const sign = n < 0 ? '-' : '';
  const abs = Math.abs(n);
  if (abs < 999.5) return `${sign}${Math.round(abs)}`;
  const units: [number, (figure: string) => string][] = [
    [1e3, (figure) => l10n.t({ message: '{0}k', args: [figure], comment: 'thousands, in a short count' })],
    [1e6, (figure) => l10n.t({ message: '{0}M', args: [figure], comment: 'millions, in a short count' })],
    [1e9, (figure) => l10n.t({ message: '{0}B', args: [figure], comment: 'billions, in a short count' })],
  ];
  for (const [size, suffixed] of units) {
    const value = abs / size;
    const text = value < 99.95 ? value.toFixed(1).replace(/\.0$/, '') : String(Math.round(value));
    // Rounding may reach the next unit: 999,949 reads 1M, not 1000k.
    if (Number(text) < 1000 || size === 1e9) return suffixed(`${sign}${text}`);
  }
  return `${sign}${abs}`;
}

export const formatTokens = (n: number): string => (n === 1 ? l10n.t('{0} token', formatCount(n)) : l10n.t('{0} tokens', formatCount(n)));

/** A share as a percentage: `0%`, `12.5%`, `100%`; one decimal below 10 points of a whole, none above. */
export function formatPercent(rate: number): string {
  if (!Number.isFinite(rate)) return '?';
  const percent = rate * 100;
  const text = percent > 0 && percent < 0.05 ? '<0.1' : percent < 10 ? percent.toFixed(1).replace(/\.0$/, '') : String(Math.round(percent));
  return l10n.t({ message: '{0}%', args: [text], comment: 'a percentage' });
}

/** `$0.04`, `$12.50`, `$123`; a positive cost under a cent reads `<$0.01`. */
export function formatCost(cost: number): string {
  if (!Number.isFinite(cost)) return '?';
  if (cost > 0 && cost < 0.005) return '<$0.01';
  if (cost >= 100) return `$${Math.round(cost).toLocaleString('en-US')}`;
  return `$${cost.toFixed(2)}`;
}

/** Tokens as `12.3k tokens (12k in, 300 out)`, each part only when recorded. */
export function nodeTokensText(tokens: TokenCounts | null): string {
  if (!tokens) return notRecorded();
  const total = tokens.total ?? (tokens.prompt !== null || tokens.completion !== null ? (tokens.prompt ?? 0) + (tokens.completion ?? 0) : null);
  if (total === null) return notRecorded();
  if (tokens.prompt !== null && tokens.completion !== null) return l10n.t('{0} ({1} in, {2} out)', formatTokens(total), formatCount(tokens.prompt), formatCount(tokens.completion));
  if (tokens.prompt !== null) return l10n.t('{0} ({1} in)', formatTokens(total), formatCount(tokens.prompt));
  if (tokens.completion !== null) return l10n.t('{0} ({1} out)', formatTokens(total), formatCount(tokens.completion));
  return formatTokens(total);
}
