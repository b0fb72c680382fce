/**
 * One webview panel's plumbing, for every panel of the extension: the page (a strict CSP,
 * scripts by nonce, only the extension's own files), the `ready` handshake (a message posted
 * before the page says it is ready waits, the newest one only, and is sent again when a hidden
 * page comes back and says `ready` again), safe posting (a closed panel or a failed post is a
 * log line, never an error), and the page's messages checked before the panel sees them.
 */
import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
import type { Logger } from '../core/log';

export interface WebviewHostOptions<Page extends { type: string }> {
  viewType: string;
  /** The page's script under dist/webview/ and its stylesheet under media/ (after the shared webview.css), by file name. */
  script: string;
  style: string;
  /** The tab's icon under media/. */
  icon: string;
  /** The page's document title. */
  documentTitle: string;
  /** The host's check of what the page sends: anything else is ignored, with a log line. */
  isPageMessage(value: unknown): value is Page;
  /** A page message other than `ready`. */
  onMessage(message: Page): Promise<void>;
  /** The panel was closed. */
  onDidDispose?(): void;
  log: Logger;
}

export class WebviewHost<Host extends { type: string }, Page extends { type: string }> implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  /** The message the page should show now; sent when it says `ready`. */
  private pending: Host | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly options: WebviewHostOptions<Page>,
  ) {}

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  /** Opens the panel, or brings it forward, with this tab title. */
  show(title: string): void {
    if (this.panel) this.panel.reveal(undefined, false);
    else this.panel = this.create();
    this.panel.title = title;
  }

  /** Shows this message on the page now, or as soon as the page is ready. */
  post(message: Host): void {
    this.pending = message;
    if (this.ready) this.send(message);
  }

  dispose(): void {
    this.panel?.dispose();
  }

  private create(): vscode.WebviewPanel {
    const extensionUri = this.context.extensionUri;
    const scriptRoot = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
    const mediaRoot = vscode.Uri.joinPath(extensionUri, 'media');
    const panel = vscode.window.createWebviewPanel(
      this.options.viewType,
      this.options.documentTitle,
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
      { enableScripts: true, enableCommandUris: false, localResourceRoots: [scriptRoot, mediaRoot] },
    );
    panel.iconPath = vscode.Uri.joinPath(mediaRoot, this.options.icon);
    this.ready = false;
    panel.webview.html = pageHtml(
      panel.webview,
      vscode.Uri.joinPath(scriptRoot, this.options.script),
      [vscode.Uri.joinPath(mediaRoot, BASE_STYLE), vscode.Uri.joinPath(mediaRoot, this.options.style)],
      this.options.documentTitle,
    );
    panel.webview.onDidReceiveMessage((message: unknown) => this.receive(message));
    panel.onDidDispose(() => {
      this.panel = undefined;
      this.ready = false;
      this.pending = undefined;
      this.options.onDidDispose?.();
    });
    return panel;
  }

  private send(message: Host): void {
    const panel = this.panel;
    const { log } = this.options;
    if (!panel) {
      log.debug(`not posting ${message.type}: the panel is closed`);
      return;
    }
    try {
      panel.webview.postMessage(message).then(
        (delivered) => {
          if (!delivered) log.debug(`${message.type} not delivered: the page is hidden; it is sent again when the page is ready`);
        },
        (err: unknown) => log.debug(`posting ${message.type} failed: ${String(err)}`),
      );
    } catch (err) {
      // A panel disposed between the check and the call throws here.
      log.debug(`posting ${message.type} failed: ${String(err)}`);
    }
  }

  private receive(raw: unknown): void {
    if (typeof raw === 'object' && raw !== null && (raw as { type?: unknown }).type === 'ready') {
      this.ready = true;
      if (this.pending) this.send(this.pending);
      return;
    }
    if (!this.options.isPageMessage(raw)) {
      this.options.log.warn(`ignored a message from the ${this.options.documentTitle} page: ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    this.options.onMessage(raw).catch((err: unknown) => this.options.log.warn(`${this.options.documentTitle} page ${raw.type}: ${String(err)}`));
  }
}

/** What every page's look shares, under media/. */
const BASE_STYLE = 'webview.css';

function pageHtml(webview: vscode.Webview, script: vscode.Uri, styles: vscode.Uri[], title: string): string {
  const nonce = crypto.randomBytes(18).toString('base64');
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource}`,
    `style-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${styles.map((style) => `<link rel="stylesheet" href="${webview.asWebviewUri(style).toString()}">`).join('\n')}
<title>${title.replace(/[<>&"]/g, '')}</title>
</head>
<body>
<main id="root" aria-live="polite"><p class="muted">Loading…</p></main>
<script nonce="${nonce}" src="${webview.asWebviewUri(script).toString()}"></script>
</body>
</html>`;
}
