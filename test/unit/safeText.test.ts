import * as assert from 'assert';
import { safeText } from '../../src/shared/safeText';

describe('safeText', () => {
  it('writes bidirectional controls as escapes, so they cannot reorder what follows', () => {
    assert.strictEqual(safeText('abc\u202Edef'), 'abc\\u202Edef');
    const bidi = ['\u061C', '\u200E', '\u200F', '\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069'];
    for (const c of bidi) {
      const escaped = `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
      assert.strictEqual(safeText(`x${c}y`), `x${escaped}y`, escaped);
    }
  });

  it('writes NUL, the other C0 controls, DEL and the C1 controls as escapes, and keeps tab', () => {
    assert.strictEqual(safeText('a\u0000b'), 'a\\u0000b');
    assert.strictEqual(safeText('\u0001\u0007\u001B[31m\u001F\u007F'), '\\u0001\\u0007\\u001B[31m\\u001F\\u007F');
    assert.strictEqual(safeText('\u0080\u0085\u009B\u009F'), '\\u0080\\u0085\\u009B\\u009F');
    assert.strictEqual(safeText('a\tb'), 'a\tb');
    for (let code = 0; code < 0xa0; code++) {
      const c = String.fromCharCode(code);
      const kept = code === 9 || (code >= 0x20 && code < 0x7f);
      assert.strictEqual(safeText(c) === c, kept, `U+${code.toString(16).padStart(4, '0')}`);
    }
  });

  it('keeps line breaks only where the text may span lines, and escapes the invisible separators', () => {
    assert.strictEqual(safeText('one\ntwo\r\n'), 'one\\u000Atwo\\u000D\\u000A');
    assert.strictEqual(safeText('one\ntwo\r\n', { multiline: true }), 'one\ntwo\r\n');
    assert.strictEqual(safeText('a\u2028b\u2029c', { multiline: true }), 'a\\u2028b\\u2029c');
  });

  it('escapes lone surrogates but keeps whole characters, joiners and backslashes', () => {
    assert.strictEqual(safeText('\uD800x\uDC00'), '\\uD800x\\uDC00');
    const text = 'naïve 日本 👩‍💻 C:\\work \\u202E';
    assert.strictEqual(safeText(text), text);
  });
});
