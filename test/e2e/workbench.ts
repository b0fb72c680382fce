/** What the end-to-end scenes do to VS Code's workbench, in the user's terms. */
import * as path from 'path';
import { FrameLocator, Locator, Page } from 'playwright-core';

export class Workbench {
  private shots = 0;
  readonly screenshots: string[] = [];

  /** `suffix` ends every screenshot's name (`-light`, `-dark` for a session run in a theme). */
  constructor(readonly page: Page, private readonly resultsDir: string, private readonly suffix = '') {}

  /** Saves a numbered full-window screenshot under test-results/e2e and returns its path. */
  async screenshot(name: string): Promise<string> {
    const file = path.join(this.resultsDir, `${String(++this.shots).padStart(2, '0')}-${name}${this.suffix}.png`);
    await this.page.screenshot({ path: file });
    this.screenshots.push(file);
    return file;
  }

  /** Closes whatever widget a previous scene left open (quick input, menus). */
  async reset(): Promise<void> {
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('Escape');
  }

  activityBarItem(title: string): Locator {
    return this.page.locator(`.part.activitybar .action-item .action-label[aria-label^="${title}"]`);
  }

  sideBar(): Locator {
    return this.page.locator('.part.sidebar');
  }

  panel(): Locator {
    return this.page.locator('.part.panel');
  }

  /** Opens a view container from the activity bar (unless it is already open) and waits for the side bar to show it. */
  async openViewContainer(title: string): Promise<Locator> {
    const sideBar = this.sideBar();
    const heading = sideBar.locator('.composite.title', { hasText: new RegExp(title, 'i') });
    // Clicking the item of the container already shown would close the side bar.
    if (!(await heading.isVisible())) await this.activityBarItem(title).click();
    await heading.waitFor({ state: 'visible' });
    return sideBar;
  }

  /** F1, then enters `text` after the palette's `>`; returns the quick input widget. */
  async commandPalette(text: string): Promise<Locator> {
    await this.page.keyboard.press('F1');
    const widget = this.page.locator('.quick-input-widget');
    const input = widget.locator('input');
    await input.waitFor({ state: 'visible' });
    // fill() sets the whole value at once: keystrokes can be lost while the widget settles.
    await input.fill(`>${text}`);
    return widget;
  }

  /** The row of the quick pick whose label is exactly `label` (the palette's "Category: Title"). */
  quickPickRow(label: string): Locator {
    return this.page.locator('.quick-input-widget .monaco-list-row', { has: this.page.getByText(label, { exact: true }) });
  }

  /**
   * Opens the palette on `text` and waits for the row `label`. Right after the window opens the
   * palette can still lack the extensions' commands, so a palette without the row is closed and
   * opened again, a few times.
   */
  async paletteRow(text: string, label: string): Promise<Locator> {
    const row = this.quickPickRow(label);
    for (let attempt = 1; ; attempt++) {
      await this.commandPalette(text);
      try {
        await row.waitFor({ state: 'visible', timeout: 5_000 });
        return row;
      } catch (err) {
        if (attempt === 4) throw err;
        await this.reset();
      }
    }
  }

  /**
   * Runs a command from the palette by its full label. The row is clicked, not chosen with
   * Enter: while the palette is still sorting its list, Enter can run the row focused before
   * (a command used recently) instead of the one asked for.
   */
  async runCommand(label: string): Promise<void> {
    const row = await this.paletteRow(label, label);
    await row.click();
    await row.waitFor({ state: 'hidden' });
  }

  /** A row of the side bar's tree whose label is `label`, alone or followed by a title (`S12 · Add CSV import`). */
  treeRow(label: string): Locator {
    return this.sideBar().locator('.monaco-list-row', { has: this.page.locator('.label-name', { hasText: labelled(label) }) }).first();
  }

  /**
   * Right-clicks the tree row labelled `label` and picks `item` from its context menu. A tree
   * still drawing (after a filter or a refresh) can move another row under the pointer, so the
   * row VS Code focused for the menu is checked to be `label`'s before the item is picked.
   */
  async rowMenu(label: string, item: string): Promise<void> {
    const menuItem = this.page.locator('.monaco-menu .action-label', { hasText: new RegExp(`^${escapeRegExp(item)}$`) }).first();
    const focused = this.sideBar().locator('.monaco-list-row.focused', { has: this.page.locator('.label-name', { hasText: labelled(label) }) });
    for (let attempt = 1; ; attempt++) {
      await this.treeRow(label).click({ button: 'right' });
      await menuItem.waitFor({ state: 'visible', timeout: 10_000 });
      if (await focused.count()) break;
      const shown = await this.sideBar().locator('.monaco-list-row.focused .label-name').allTextContents();
      if (attempt === 3) throw new Error(`the context menu opened on "${shown.join(', ')}", not on ${label}`);
      await this.reset();
      await this.page.waitForTimeout(500);
    }
    await menuItem.click();
    // A click that reached the menu closes it; one that did not (the menu still showing) is
    // made again, once.
    const menu = this.page.locator('.monaco-menu').first();
    try {
      await menu.waitFor({ state: 'hidden', timeout: 5_000 });
    } catch {
      await menuItem.click();
      await menu.waitFor({ state: 'hidden', timeout: 5_000 });
    }
  }

  /** What the window shows when a scene fails: the editor tabs, the notifications, the side bar's focused row. */
  async describe(): Promise<string> {
    const texts = async (locator: Locator) =>
      (await locator.allTextContents().catch(() => [])).map((t) => t.replace(/\s+/g, ' ').trim()).filter(Boolean);
    const tabs = await texts(this.page.locator('.tabs-container .tab .label-name'));
    const toasts = await texts(this.page.locator('.notifications-toasts .notification-list-item-message'));
    const focused = await texts(this.sideBar().locator('.monaco-list-row.focused .label-name'));
    const quickInput = this.page.locator('.quick-input-widget');
    const picking = (await quickInput.isVisible().catch(() => false))
      ? `shown, "${(await quickInput.locator('.quick-input-title').textContent().catch(() => ''))?.trim() ?? ''}", ${await quickInput.locator('.monaco-list-row').count()} rows`
      : '(none)';
    const menu = await texts(this.page.locator('.monaco-menu .action-label'));
    return [
      `tabs: ${tabs.join(' | ') || '(none)'}`,
      `context menu: ${menu.join(' | ') || '(none)'}`,
      `notifications: ${toasts.join(' | ') || '(none)'}`,
      `focused row: ${focused.join(' | ') || '(none)'}`,
      `quick input: ${picking}`,
    ].join('\n');
  }

  /** An editor tab whose label matches. */
  editorTab(label: RegExp): Locator {
    return this.page.locator('.tabs-container .tab', { hasText: label }).first();
  }

  /**
   * Runs a command that asks with a quick pick, and picks `item`. Rarely, the palette closes
   * on the click without starting the command (nothing reaches the extension, no quick input
   * comes): then the command is run once more, and the run's output says so.
   */
  async runCommandAndPick(command: string, item: string): Promise<void> {
    const widget = this.page.locator('.quick-input-widget');
    await this.runCommand(command);
    try {
      // The command's own pick, with its rows: the palette closing is not it.
      await widget.locator('.monaco-list-row').first().waitFor({ state: 'visible', timeout: 10_000 });
    } catch {
      console.log(`        (the palette closed without starting "${command}"; running it again)`);
      await this.runCommand(command);
    }
    await this.pickQuickPickItem(item);
  }

  /** Waits for the open quick pick's items, filters them to `label`, and picks that item. */
  async pickQuickPickItem(label: string): Promise<void> {
    const widget = this.page.locator('.quick-input-widget');
    await widget.locator('.monaco-list-row').first().waitFor({ state: 'visible', timeout: 30_000 });
    await widget.locator('input').fill(label);
    const row = widget.locator('.monaco-list-row', { has: this.page.locator('.label-name', { hasText: labelled(label) }) }).first();
    await row.waitFor({ state: 'visible', timeout: 20_000 });
    await row.click();
    await widget.waitFor({ state: 'hidden' });
  }

  /** Opens a workspace file by its relative path with Quick Open, and waits for its tab. */
  async openFile(relativePath: string): Promise<void> {
    await this.reset();
    await this.page.keyboard.press('Control+P');
    const widget = this.page.locator('.quick-input-widget');
    const input = widget.locator('input');
    await input.waitFor({ state: 'visible' });
    await input.fill(relativePath);
    const folder = path.posix.dirname(relativePath);
    let row = widget.locator('.monaco-list-row', { has: this.page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(path.posix.basename(relativePath))}$`) }) });
    if (folder !== '.') row = row.filter({ has: this.page.locator('.label-description', { hasText: folder }) });
    row = row.first();
    await row.waitFor({ state: 'visible', timeout: 20_000 });
    await row.click();
    await widget.waitFor({ state: 'hidden' });
    await this.editorTab(new RegExp(`^${escapeRegExp(path.posix.basename(relativePath))}`)).waitFor({ state: 'visible', timeout: 20_000 });
    await this.page.locator('.part.editor .monaco-editor .view-lines').first().waitFor({ state: 'visible', timeout: 20_000 });
  }

  /** Moves the active editor's cursor to the start of line `line` (Go to Line). */
  async goToLine(line: number): Promise<void> {
    await this.page.keyboard.press('Control+G');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`:${line}`);
    await this.page.keyboard.press('Enter');
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  }

  /** The content of the active webview (VS Code nests the page in two iframes). */
  webview(): FrameLocator {
    return this.page.frameLocator('iframe.webview.ready').last().frameLocator('#active-frame');
  }
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * `label` as a whole label, or as the start of one followed by a space (`S12` in `S12 · Add CSV
 * import`), after a codicon's space if the label starts with one (`$(project) ledgerline`).
 */
function labelled(label: string): RegExp {
  return new RegExp(`^\\s*${escapeRegExp(label)}(?:$|\\s)`);
}
