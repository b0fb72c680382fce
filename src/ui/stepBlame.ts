/**
 * Which step wrote a line, in the editor: a hover on any line of a file in a LaForge
 * database's repository, and, when `stepHistory.blame.currentLineAnnotation` is on, the cursor
 * line's owner at its end. A file is blamed once per HEAD commit and modification time on disk
 * (core/stepBlame.ts's blameFile); typing moves the owners with the lines (shiftOwners) and a
 * save blames the file again. Reading only, so it works in Restricted Mode as the diffs do. A
 * failure is logged and shows nothing: a hover never raises a notification.
 */
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { debounce, type Debounced } from '../core/async';
import { describeError, logFailure } from '../core/errors';
import type { Logger } from '../core/log';
import { blameFile, shiftOwners, type FileBlame, type LineEdit, type LineOwner } from '../core/stepBlame';
import type { StepDatabase, StepDatabases } from '../core/stepDatabase';
import { databaseForFile, type FileDatabase } from '../core/fileDatabase';
import { BLAME_HOVER_COMMANDS, blameAnnotation, blameHoverLines, noCommitsHoverLines } from './stepBlameText';
import { stepTitles } from './stepTitles';

const SETTINGS = 'stepHistory.blame';
const ANNOTATION_COLOR = 'stepHistory.blameAnnotationForeground';
const SAVE_DELAY_MS = 300;
const SELECTION_DELAY_MS = 150;

/** A line not committed yet that typing made. */
const TYPED: LineOwner = { kind: 'uncommitted', commit: { commit: null, author: '', authorMail: '', authorTimeMs: null, summary: '', filename: '', boundary: false } };

interface Blamed {
  database: StepDatabase;
  head: string | null;
  mtimeMs: number;
  blame: FileBlame;
  /** The database or the settings changed since: blamed again when the document matches the file on disk. */
  stale?: boolean;
}

/** What the integration tests read. */
export interface StepBlameProbe {
  /** How many times a file was blamed (git run) this session. */
  blameCount(): number;
  /** The annotation shown now, if any. */
  annotation(): { uri: string; line: number; text: string } | undefined;
}

const settings = (uri?: vscode.Uri) => vscode.workspace.getConfiguration(SETTINGS, uri);

export function registerStepBlame(context: vscode.ExtensionContext, databases: StepDatabases, log: Logger): StepBlameProbe {
  const blame = new StepBlame(databases, log);
  context.subscriptions.push(blame, vscode.languages.registerHoverProvider({ scheme: 'file' }, blame));
  return blame;
}

class StepBlame implements vscode.HoverProvider, vscode.Disposable, StepBlameProbe {
  private readonly files = new Map<string, Blamed>();
  /** Blames under way, with the edits made meanwhile, applied when they end. */
  private readonly pending = new Map<string, { promise: Promise<Blamed | undefined>; edits: LineEdit[][] }>();
  private readonly heads = new Map<StepDatabase, Promise<string | null>>();
  /** Files whose skip or failure was logged this session, by path and reason. */
  private readonly logged = new Set<string>();
  private readonly saves = new Map<string, Debounced>();
  private readonly decoration = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor(ANNOTATION_COLOR), margin: '0 0 0 3em' },
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedOpen,
  });
  private readonly subscriptions: vscode.Disposable[] = [];
  private shown: { uri: string; line: number; text: string } | undefined;
  private blames = 0;
  private annotating = 0;
  private readonly annotateSoon = debounce(() => void this.annotate(), SELECTION_DELAY_MS);

  constructor(
    private readonly databases: StepDatabases,
    private readonly log: Logger,
  ) {
    this.subscriptions.push(
      this.decoration,
      { dispose: () => this.annotateSoon.cancel() },
      vscode.workspace.onDidChangeTextDocument((e) => this.edited(e)),
      vscode.workspace.onDidSaveTextDocument((document) => this.saved(document)),
      vscode.workspace.onDidCloseTextDocument((document) => this.forget(document.uri.toString())),
      // The cursor matters only to the annotation; with it off, an editor is blamed when it becomes active.
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (e.textEditor === vscode.window.activeTextEditor && settings(e.textEditor.document.uri).get<boolean>('currentLineAnnotation', false)) this.annotateSoon();
      }),
      vscode.window.onDidChangeActiveTextEditor(() => this.annotateSoon()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration(SETTINGS)) return;
        // A file skipped as too large may be under a new limit, or one blamed over it.
        if (e.affectsConfiguration(`${SETTINGS}.maxFileSizeKb`)) for (const blamed of this.files.values()) blamed.stale = true;
        this.annotateSoon();
      }),
      // A new step, a commit or a moved HEAD: the owners are read again when next asked for.
      databases.onDidChangeDatabase((database) => this.invalidate(database)),
      databases.onDidChangeDatabases(() => {
        for (const database of [...this.heads.keys()]) if (!databases.all.includes(database)) this.invalidate(database);
        this.annotateSoon();
      }),
    );
    this.annotateSoon();
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    for (const d of this.saves.values()) d.cancel();
  }

  blameCount(): number {
    return this.blames;
  }

  annotation(): { uri: string; line: number; text: string } | undefined {
    return this.shown && { ...this.shown };
  }

  async provideHover(document: vscode.TextDocument, position: vscode.Position): Promise<vscode.Hover | undefined> {
    if (!settings(document.uri).get<boolean>('enabled', true)) return undefined;
    const found = await this.ownerAt(document, position.line);
    if (!found) return undefined;
    const lines = found.kind === 'otherSystems' ? noCommitsHoverLines(found.systems) : await this.hoverLines(found.database, found.owner);
    const markdown = new vscode.MarkdownString(lines.join('  \n'), true);
    markdown.supportHtml = false;
    markdown.isTrusted = { enabledCommands: [...BLAME_HOVER_COMMANDS] };
    return new vscode.Hover(markdown, document.lineAt(position.line).range);
  }

  private async hoverLines(database: StepDatabase, owner: LineOwner): Promise<string[]> {
    if (owner.kind !== 'step') return blameHoverLines(owner);
    const title = (await stepTitles(database, [owner.step], this.log)).get(owner.step.id);
    return blameHoverLines(owner, { title, reference: { databaseId: database.id, stepId: owner.step.id } });
  }

  /** The owner of a line, or that only other systems' databases cover the file; undefined when nothing can be said. */
  private async ownerAt(document: vscode.TextDocument, line: number): Promise<{ kind: 'line'; database: StepDatabase; owner: LineOwner } | { kind: 'otherSystems'; systems: string[] } | undefined> {
    if (document.uri.scheme !== 'file') return undefined;
    try {
      const where = await this.where(document.uri.fsPath);
      if (!where) return undefined;
      if (where.kind === 'otherSystems') return where;
      const blamed = await this.blamed(document, where.database);
      if (blamed?.blame.kind !== 'blamed') return undefined;
      const owner = blamed.blame.owners[line];
      return owner && { kind: 'line', database: where.database, owner };
    } catch (err) {
      this.logOnce(document.uri.fsPath, err);
      return undefined;
    }
  }

  private where(file: string): Promise<FileDatabase | undefined> {
    return databaseForFile(this.databases.all, file);
  }

  private head(database: StepDatabase): Promise<string | null> {
    let found = this.heads.get(database);
    if (!found) {
      found = database.repository().then((repo) => repo.head()).then((h) => h.sha);
      this.heads.set(database, found);
      found.catch(() => this.heads.get(database) === found && this.heads.delete(database));
    }
    return found;
  }

  /**
   * The file's owners: as cached while HEAD and the file on disk are as they were blamed, else
   * blamed again. A document with unsaved edits keeps its cache, stale or not, which typing
   * has kept in step (or the blame under way, which applies the edits made meanwhile); one never
   * blamed has none, since the file on disk no longer matches its lines.
   */
  private async blamed(document: vscode.TextDocument, database: StepDatabase): Promise<Blamed | undefined> {
    const key = document.uri.toString();
    const cached = this.files.get(key);
    const running = this.pending.get(key);
    if (running) return running.promise;
    if (document.isDirty) return cached?.database === database ? cached : undefined;
    const [head, stat] = await Promise.all([this.head(database), fs.promises.stat(document.uri.fsPath)]);
    if (cached && !cached.stale && cached.database === database && cached.head === head && cached.mtimeMs === stat.mtimeMs) return cached;
    const again = this.pending.get(key);
    if (again) return again.promise;
    const edits: LineEdit[][] = [];
    const promise = this.blameNow(document, database, head, stat.mtimeMs, edits).finally(() => this.pending.delete(key));
    this.pending.set(key, { promise, edits });
    return promise;
  }

  private async blameNow(document: vscode.TextDocument, database: StepDatabase, head: string | null, mtimeMs: number, edits: LineEdit[][]): Promise<Blamed> {
    const file = document.uri.fsPath;
    const maxBytes = Math.max(1, settings(document.uri).get<number>('maxFileSizeKb', 1024)) * 1024;
    this.blames++;
    const blame = await blameFile(database, file, { maxBytes });
    if (blame.kind === 'skipped') this.logSkip(file, blame);
    // Edits made while git ran, unless the document is back to the file git read.
    else if (document.isDirty) for (const batch of edits) blame.owners = shiftOwners(blame.owners, batch, TYPED);
    const blamed = { database, head, mtimeMs, blame };
    this.files.set(document.uri.toString(), blamed);
    return blamed;
  }

  private edited(e: vscode.TextDocumentChangeEvent): void {
    const key = e.document.uri.toString();
    const cached = this.files.get(key);
    // Saved, reverted or undone to what is saved (a change of the dirty state is an event too):
    // the lines are the file's again, blamed anew when next asked for.
    if (!e.document.isDirty && cached) cached.stale = true;
    if (e.contentChanges.length === 0) return;
    const edits = e.contentChanges.map((c): LineEdit => ({ range: c.range, text: c.text }));
    // A line break typed at a line's end leaves that line as it was: the line after it ends as the text inserted does.
    if (edits.length === 1) {
      const [only] = edits;
      const breaks = only.text.split('\n').length - 1;
      const last = only.text.slice(only.text.lastIndexOf('\n') + 1);
      const after = only.range.start.line + breaks;
      if (breaks > 0 && after < e.document.lineCount) only.atLineEnd = e.document.lineAt(after).text === last;
    }
    this.pending.get(key)?.edits.push(edits);
    if (cached?.blame.kind === 'blamed') cached.blame.owners = shiftOwners(cached.blame.owners, edits, TYPED);
    if (vscode.window.activeTextEditor?.document === e.document) this.annotateSoon();
  }

  private saved(document: vscode.TextDocument): void {
    const key = document.uri.toString();
    if (!this.files.has(key) && !this.pending.has(key)) return;
    let later = this.saves.get(key);
    if (!later) {
      later = debounce(() => {
        this.saves.delete(key);
        void this.refresh(document);
      }, SAVE_DELAY_MS);
      this.saves.set(key, later);
    }
    later();
  }

  /** Blames a saved file again and shows its annotation anew. */
  private async refresh(document: vscode.TextDocument): Promise<void> {
    const where = await this.where(document.uri.fsPath).catch(() => undefined);
    if (where?.kind !== 'laforge') return;
    await this.blamed(document, where.database).catch((err: unknown) => this.logOnce(document.uri.fsPath, err));
    this.annotateSoon();
  }

  private forget(key: string): void {
    this.files.delete(key);
    this.saves.get(key)?.cancel();
    this.saves.delete(key);
  }

  private invalidate(database: StepDatabase): void {
    this.heads.delete(database);
    for (const blamed of this.files.values()) if (blamed.database === database) blamed.stale = true;
    this.annotateSoon();
  }

  /** The cursor line's owner at the end of the line, when the setting is on. */
  private async annotate(): Promise<void> {
    const mine = ++this.annotating;
    const editor = vscode.window.activeTextEditor;
    const clear = () => {
      for (const e of vscode.window.visibleTextEditors) e.setDecorations(this.decoration, []);
      this.shown = undefined;
    };
    if (!editor || editor.document.uri.scheme !== 'file') return clear();
    const config = settings(editor.document.uri);
    if (!config.get<boolean>('currentLineAnnotation', false)) {
      clear();
      // Blamed while its lines match the file on disk, so typing before the first hover keeps them in step.
      if (config.get<boolean>('enabled', true) && !editor.document.isDirty) void this.ownerAt(editor.document, 0);
      return;
    }
    const line = editor.selection.active.line;
    const found = await this.ownerAt(editor.document, line);
    let text: string | undefined;
    if (found?.kind === 'line') {
      const { owner, database } = found;
      const title = owner.kind === 'step' ? (await stepTitles(database, [owner.step], this.log)).get(owner.step.id) : undefined;
      text = blameAnnotation(owner, title);
    }
    if (mine !== this.annotating || vscode.window.activeTextEditor !== editor || line >= editor.document.lineCount) return;
    clear();
    if (text === undefined) return;
    const end = editor.document.lineAt(line).range.end;
    editor.setDecorations(this.decoration, [{ range: new vscode.Range(end, end), renderOptions: { after: { contentText: text } } }]);
    this.shown = { uri: editor.document.uri.toString(), line, text };
  }

  private logSkip(file: string, skip: Extract<FileBlame, { kind: 'skipped' }>): void {
    if (this.logged.has(`${file}\0${skip.reason}`)) return;
    this.logged.add(`${file}\0${skip.reason}`);
    const why = skip.reason === 'tooLarge' ? `it is larger (${skip.bytes} bytes) than ${SETTINGS}.maxFileSizeKb` : skip.reason === 'binary' ? 'it is binary' : 'it is outside the repository';
    this.log.info(`Not blaming ${file}: ${why}.`);
  }

  /** A failure, logged once per file and message: a hover asked again does not repeat it. */
  private logOnce(file: string, err: unknown): void {
    const key = `${file}\0${describeError(err).message}`;
    if (this.logged.has(key)) return;
    this.logged.add(key);
    logFailure(this.log, `blame of ${file}`, err, 'warn');
  }
}
