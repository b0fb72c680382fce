/** Debian's Chromium driven by playwright-core, showing code-server's workbench. */
import * as fs from 'fs';
import * as path from 'path';
import { Browser, chromium, Page } from 'playwright-core';
import { onCleanup } from './processes';
import { CHROMIUM } from './setup';

export async function launchBrowser(): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
    // The harness stops everything itself on these signals (processes.ts).
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  onCleanup(() => browser.close());
  return browser;
}

export interface OpenWorkbench {
  page: Page;
  close(): Promise<void>;
}

/** Opens `url` in a fresh browser context and waits for the workbench; the page's console goes to resultsDir. */
export async function openWorkbench(browser: Browser, url: string, resultsDir: string): Promise<OpenWorkbench> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const consoleLog = fs.createWriteStream(path.join(resultsDir, 'browser-console.log'));
  page.on('console', (m) => consoleLog.write(`[${m.type()}] ${m.text()}\n`));
  page.on('pageerror', (e) => consoleLog.write(`[pageerror] ${e.message}\n`));
  const close = async () => {
    await context.close().catch(() => undefined);
    await new Promise((resolve) => consoleLog.end(resolve));
  };
  try {
    await page.goto(url);
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
  } catch (err) {
    await page.screenshot({ path: path.join(resultsDir, 'workbench-did-not-open.png') }).catch(() => undefined);
    await close();
    throw err;
  }
  return { page, close };
}
