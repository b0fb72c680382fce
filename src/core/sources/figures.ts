/**
 * The sources' details write a figure a system may not have recorded: the one format
 * (core/figures.ts) for a value, "not recorded" for none, never a made-up zero.
 */
import * as l10n from '@vscode/l10n';
import { dateTime, formatCost as cost, formatDuration as duration, formatExactCount, notRecorded } from '../figures';
import { asText } from './sqlValues';
import type { DetailFact, LevelInfo, SqlValue } from './types';

/** Tokens as every view writes them, "not recorded" for none. */
export { nodeTokensText as formatTokens } from '../figures';

export function formatCost(c: number | null): string {
  return c === null ? notRecorded() : cost(c);
}

export function formatDuration(ms: number | null): string {
  return ms === null ? notRecorded() : duration(ms);
}

/**
 * A count of things as the views write it: `1 run`, `3 payloads`, `1,234 characters`, each
 * form a whole phrase with the count as `{0}`, chosen by the count:
 * `counted(n, (c) => l10n.t('{0} run', c), (c) => l10n.t('{0} runs', c))`.
 */
export function counted(n: number, one: (count: string) => string, many: (count: string) => string): string {
  return n === 1 ? one(formatExactCount(n)) : many(formatExactCount(n));
}

/**
 * A level of a source's tree whose names are read when asked for, so they are in the
 * language configured by then; the same object every time (a source's `levels`).
 */
export function level(key: string, singular: () => string, plural: () => string): LevelInfo {
  return {
    key,
    get singular() {
      return singular();
    },
    get plural() {
      return plural();
    },
  };
}

/** What follows a time read as this computer's local time because it was stored without an offset. */
export const localTimeFactNote = (): string => l10n.t('(no offset stored: read as local time)');

/**
 * A time in a step's details, as every system's details write it: `2026-11-02 14:05:00 UTC`
 * (with the local-time note when it was stored without an offset and read as local time),
 * "not recorded" when nothing is stored, and the stored value with
 * `(not a time Step History can read)` when it cannot be read. The fact carries the Date, so
 * a view can add how long ago it was (`historyDetailsView` does); `value` is its whole text,
 * as the command line prints it.
 *
 * `raw` is the value as stored (a column's value, a JSON member); null or undefined when none
 * is, as for a time the adapter works out itself (an iteration's end).
 */
export function timeFact(label: string, date: Date | null, raw: unknown, options: { local?: boolean } = {}): DetailFact {
  const value = timeText(date, raw, options);
  if (!readable(date)) return { label, value };
  return options.local ? { label, value, time: date, note: localTimeFactNote() } : { label, value, time: date };
}

/** The text of `timeFact`, for a time written inside another value (an output's type and time). */
export function timeText(date: Date | null, raw: unknown, options: { local?: boolean } = {}): string {
  if (readable(date)) return options.local ? l10n.t('{0} (no offset stored: read as local time)', dateTime(date)) : dateTime(date);
  if (raw === null || raw === undefined) return notRecorded();
  return l10n.t('{0} (not a time Step History can read)', rawText(raw));
}

const readable = (date: Date | null): date is Date => date !== null && !Number.isNaN(date.getTime());

function rawText(raw: unknown): string {
  if (typeof raw === 'string' || typeof raw === 'number' || raw instanceof Uint8Array) return asText(raw as SqlValue) ?? '';
  if (typeof raw === 'object') {
    try {
      return JSON.stringify(raw);
    } catch {
      return String(raw);
    }
  }
  return String(raw);
}
