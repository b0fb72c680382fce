/**
 * The colour themes an end-to-end session can run its scenes in: the pinned VS Code's own
 * default light and dark themes (code-server 4.139.1 ships VS Code 1.139, whose defaults are
 * "Light 2026" and "Dark 2026"; its "Light Modern" and "Dark Modern" are there too, under those
 * ids, not desktop VS Code's older "Default Light Modern"). A session run in a theme gets it as
 * the user setting `workbench.colorTheme`; the window is checked to show it before any scene.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Page } from 'playwright-core';
import type { Harness } from './setup';

export const THEMES = {
  light: { id: 'Light 2026', kind: 'vs' },
  dark: { id: 'Dark 2026', kind: 'vs-dark' },
  highContrast: { id: 'Default High Contrast', kind: 'hc-black' },
} as const;

export type ThemeName = keyof typeof THEMES;

/** The user settings that choose `theme`. */
export function themeSettings(theme: ThemeName): Record<string, unknown> {
  return { 'workbench.colorTheme': THEMES[theme].id };
}

/**
 * Throws unless the installed VS Code ships the theme: an unknown `workbench.colorTheme` is
 * ignored without a word, and the window would show the default theme instead.
 */
export function checkThemeShipped(h: Harness, theme: ThemeName): void {
  const manifest = path.join(h.codeServerDir, 'lib', 'vscode', 'extensions', 'theme-defaults', 'package.json');
  const { contributes } = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { contributes: { themes: { id?: string; label: string }[] } };
  const ids = contributes.themes.map((t) => t.id ?? t.label);
  if (!ids.includes(THEMES[theme].id)) {
    throw new Error(`the installed VS Code has no theme "${THEMES[theme].id}" (it has ${ids.join(', ')})`);
  }
}

/** Waits until the workbench shows a theme of `theme`'s kind (VS Code puts `vs` or `vs-dark` on it). */
export async function waitForTheme(page: Page, theme: ThemeName): Promise<void> {
  await page.locator(`.monaco-workbench.${THEMES[theme].kind}`).waitFor({ state: 'attached', timeout: 30_000 });
}
