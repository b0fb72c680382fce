/**
 * shiftOwners: the owners of a document's lines kept in step with typing, without blame. Each
 * case is an edit as VS Code reports it, and the lines it leaves as they were keep their owner.
 */
import * as assert from 'assert';
import type { BlameCommit } from '../../src/core/blame';
import { shiftOwners, type LineEdit, type LineOwner } from '../../src/core/stepBlame';

const commit = (name: string): BlameCommit => ({ commit: name.padEnd(40, '0'), author: name, authorMail: '', authorTimeMs: 0, summary: name, filename: 'f', boundary: false });
const line = (name: string): LineOwner => ({ kind: 'commit', commit: commit(name) });
const NEW: LineOwner = { kind: 'uncommitted', commit: { ...commit('x'), commit: null } };
const names = (owners: readonly LineOwner[]) => owners.map((o) => (o === NEW ? '+' : o.commit.author));
const at = (line: number, character: number) => ({ line, character });
const edit = (start: [number, number], end: [number, number], text: string, atLineEnd?: boolean): LineEdit => ({ range: { start: at(...start), end: at(...end) }, text, atLineEnd });

describe('shiftOwners', () => {
  const file = () => ['a', 'b', 'c', 'd'].map(line);

  it('marks a line typed in as not committed, and leaves the others', () => {
    assert.deepStrictEqual(names(shiftOwners(file(), [edit([1, 2], [1, 2], 'x')], NEW)), ['a', '+', 'c', 'd']);
  });

  it('inserts whole lines above a line, which moves down with its owner', () => {
    assert.deepStrictEqual(names(shiftOwners(file(), [edit([1, 0], [1, 0], 'one\ntwo\n')], NEW)), ['a', '+', '+', 'b', 'c', 'd']);
  });

  it('keeps a line that a line break at its end splits off nothing from', () => {
    assert.deepStrictEqual(names(shiftOwners(file(), [edit([0, 5], [0, 5], '\n  ', true)], NEW)), ['a', '+', 'b', 'c', 'd']);
    // The same break inside the line changes it and the line it makes.
    assert.deepStrictEqual(names(shiftOwners(file(), [edit([0, 2], [0, 2], '\n')], NEW)), ['+', '+', 'b', 'c', 'd']);
  });

  it('removes deleted lines, and the line after them moves up with its owner', () => {
    assert.deepStrictEqual(names(shiftOwners(file(), [edit([1, 0], [3, 0], '')], NEW)), ['a', 'd']);
  });

  it('joins the lines a selection spans into one changed line', () => {
    assert.deepStrictEqual(names(shiftOwners(file(), [edit([0, 1], [2, 1], '')], NEW)), ['+', 'd']);
    assert.deepStrictEqual(names(shiftOwners(file(), [edit([1, 1], [2, 1], 'p\nq\nr')], NEW)), ['a', '+', '+', '+', 'd']);
  });

  it('applies several edits in order, each to the lines the previous one left', () => {
    // Two cursors, as the editor reports them: the lower edit first.
    const edits = [edit([3, 0], [3, 0], 'new\n'), edit([0, 1], [0, 1], 'x')];
    assert.deepStrictEqual(names(shiftOwners(file(), edits, NEW)), ['+', 'b', 'c', '+', 'd']);
  });

  it('types on the empty last line after the final line break', () => {
    assert.deepStrictEqual(names(shiftOwners(file(), [edit([4, 0], [4, 0], 'e')], NEW)), ['a', 'b', 'c', 'd', '+']);
  });

  it('changes nothing for an empty edit, and leaves the array it was given as it was', () => {
    const owners = file();
    assert.deepStrictEqual(names(shiftOwners(owners, [edit([2, 1], [2, 1], '')], NEW)), ['a', 'b', 'c', 'd']);
    shiftOwners(owners, [edit([0, 0], [2, 0], '')], NEW);
    assert.deepStrictEqual(names(owners), ['a', 'b', 'c', 'd']);
  });

  it('counts a CRLF line break once', () => {
    assert.deepStrictEqual(names(shiftOwners(file(), [edit([2, 0], [2, 0], 'one\r\ntwo\r\n')], NEW)), ['a', 'b', '+', '+', 'c', 'd']);
  });
});
