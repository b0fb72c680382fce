/**
 * End-to-end scenes: what a user sees in the workbench, run in order in one window opened on a
 * workspace with a steps.db. Each scene starts from whatever the last one left (reset() closes
 * widgets), checks what it shows by waiting for it, and takes its screenshots. Add a scene by
 * appending to `scenes`.
 */
import { Workbench } from './workbench';

export interface Scene {
  name: string;
  run(wb: Workbench): Promise<void>;
}

export const scenes: Scene[] = [
  {
    name: 'workspace-open',
    async run(wb) {
      await wb.sideBar().locator('.monaco-list-row', { hasText: 'steps.db' }).waitFor({ state: 'visible' });
      await wb.screenshot('workspace-open');
    },
  },
  {
    name: 'step-history-view',
    async run(wb) {
      await wb.reset();
      const sideBar = await wb.openViewContainer('Step History');
      // A container with one view shows it under the container's title ("Step History: Steps")
      // and hides the view's own header, which still exists.
      await sideBar.locator('.composite.title', { hasText: 'Steps' }).waitFor({ state: 'visible' });
      await sideBar.locator('.pane-header[aria-label^="Steps"]').waitFor({ state: 'attached' });
      await sideBar.getByText('No step database found').waitFor({ state: 'visible' });
      await sideBar.getByRole('button', { name: 'Open Step Database…' }).waitFor({ state: 'visible' });
      await wb.screenshot('step-history-view');
    },
  },
  {
    name: 'command-palette',
    async run(wb) {
      await wb.reset();
      await wb.commandPalette('Step History');
      await wb.quickPickRow('Step History: Show Log').waitFor({ state: 'visible' });
      await wb.screenshot('command-palette');
    },
  },
  {
    name: 'show-log',
    async run(wb) {
      await wb.reset();
      await wb.runCommand('Step History: Show Log');
      // The Output panel opens on the extension's log channel.
      const panel = wb.panel();
      await panel.waitFor({ state: 'visible' });
      await panel.locator('select[aria-label="Switch Output"] option:checked', { hasText: /^Step History$/ }).first().waitFor({ state: 'attached' });
      await wb.screenshot('show-log');
    },
  },
];
