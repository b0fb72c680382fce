/**
 * Text from a database (or from git) made safe to show: the characters that would change how
 * the rest of a line reads, or show as nothing or as a box, are written as escapes (`\u202E`,
 * `\u0000`). Imported by the extension and by the webview bundle, so: no `vscode`, no DOM.
 *
 * Escaped:
 * - the C0 controls, NUL included, and DEL; tab is kept (it reads as a space), and line feed
 *   and carriage return too where the text may span lines (`multiline`);
 * - the C1 controls U+0080–U+009F;
 * - the bidirectional controls U+061C, U+200E, U+200F, U+202A–U+202E and U+2066–U+2069, which
 *   would reorder what follows them (a project name ending in U+202E would turn "1 step" round);
 * - the line and paragraph separators U+2028 and U+2029, which break a line where none shows;
 * - lone surrogates, which are no character at all.
 * A backslash is left as it is, so a path such as `C:\work` reads as itself.
 */

const UNSAFE =
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const UNSAFE_LINE = /[\n\r]/g;

const escape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;

export interface SafeTextOptions {
  /** Keep line feeds and carriage returns, for text shown on several lines (a prompt). */
  multiline?: boolean;
}

export function safeText(text: string, options: SafeTextOptions = {}): string {
  const safe = text.replace(UNSAFE, escape);
  return options.multiline ? safe : safe.replace(UNSAFE_LINE, escape);
}
