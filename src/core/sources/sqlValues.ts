/** Reading the values a row holds, whatever their storage class: nothing here throws on a stored value. */
import type { SqlValue } from './types';

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** A column's value as text: numbers as written, BLOBs decoded as UTF-8, NULL as null. Control characters and markup are kept. */
export function asText(value: SqlValue | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return utf8.decode(value);
}
