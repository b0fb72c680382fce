/// <reference lib="dom" />
/**
 * The step details page (browser). Builds its DOM with createElement and textContent only:
 * every string from a database is shown as text, never parsed as HTML, and with its control
 * characters escaped (safeText) by the helpers of dom.ts. Talks to the host with the messages of
 * detailsProtocol, and says `ready` first.
 */
import { safeText } from '../shared/safeText';
import { button, el, link, text, type Child } from './dom';
import type {
  AgentView,
  CommitView,
  FileView,
  HistoryDetailsView,
  HistorySectionView,
  HostMessage,
  LogView,
  PageMessage,
  SectionView,
  StepDetailsView,
} from '../shared/detailsProtocol';

interface VsCodeApi {
  postMessage(message: PageMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const root = document.getElementById('root') as HTMLElement;

const post = (message: PageMessage) => vscode.postMessage(message);
const copyButton = (value: string, what: string) =>
  button('Copy', () => post({ type: 'copy', text: value }), { className: 'secondary small', title: `Copy ${what}` });

function section(title: string, id: string, ...children: Child[]): HTMLElement {
  const heading = text('h2', title);
  heading.id = id;
  const node = el('section', undefined, heading, ...children);
  node.setAttribute('aria-labelledby', id);
  return node;
}

/** A definition list; rows whose value is null are left out. */
function facts(rows: [string, Child | string | number | null][]): HTMLElement {
  const list = el('dl', 'facts');
  for (const [name, value] of rows) {
    if (value === null || value === undefined || value === false) continue;
    list.append(text('dt', name), el('dd', undefined, typeof value === 'number' ? String(value) : value));
  }
  return list;
}

/** A time as the host wrote it (absolute and relative), with its ISO form for assistive technology. */
function date(iso: string | null, shown: string | null): HTMLElement | null {
  if (!iso) return null;
  const node = el('time');
  node.dateTime = iso;
  node.title = iso;
  node.textContent = shown ?? iso;
  return node;
}

function commitFact(sha: string | null, what: string): Child {
  if (!sha) return null;
  return el('span', 'commit', text('code', sha), ' ', copyButton(sha, what));
}

function stepCommitFact(details: StepDetailsView): Child {
  const own = details.stepCommit;
  if (!own) return null;
  const source = text('span', own.sha ? ` (${own.source})` : own.source, 'muted');
  const notMerged = own.notMerged ? text('span', own.notMerged, 'badge') : null;
  if (!own.sha) return el('span', 'commit', source, notMerged ? ' ' : '', notMerged);
  return el('span', 'commit', text('code', own.sha), source, ' ', copyButton(own.sha, 'step commit'), notMerged ? ' ' : '', notMerged);
}

function sectionError(message: string): HTMLElement {
  const node = text('p', message, 'section-error');
  node.setAttribute('role', 'status');
  return node;
}

function more<T>(view: Extract<SectionView<T>, { state: 'ok' }>, noun: string): Child {
  return view.total > view.items.length ? text('p', `Showing ${view.items.length} of ${view.total} ${noun}.`, 'muted') : null;
}

function renderAgent(agent: AgentView): HTMLElement {
  const children: Child[] = [];
  if (agent.name) children.push(facts([['Configuration', text('span', agent.name)]]));
  const config = agent.config;
  if (config) {
    const tools = config.tools.length ? el('ul', 'chips', ...config.tools.map((t) => text('li', t, 'chip'))) : null;
    children.push(
      facts([
        ['Model', config.model],
        ['Max tokens', config.maxTokens],
        ['Temperature', config.temperature],
        ['Tools', tools],
      ]),
    );
    if (config.metadata.length) {
      children.push(text('h3', 'Metadata'), facts(config.metadata.map(({ key, value }) => [key, value])));
    }
    if (config.systemPrompt !== null) children.push(text('h3', 'System prompt'), text('pre', config.systemPrompt, 'prompt'));
  }
  if (agent.unreadable !== null) children.push(text('h3', 'Stored configuration (unreadable)'), text('pre', agent.unreadable, 'prompt'));
  if (children.length === 0) children.push(text('p', 'No agent configuration recorded.', 'muted'));
  return section('Agent', 'agent', ...children);
}

function renderCommits(view: SectionView<CommitView>): HTMLElement {
  if (view.state === 'error') return section('Commits', 'commits', sectionError(view.message));
  if (view.items.length === 0) return section('Commits', 'commits', text('p', 'No commits between before and after.', 'muted'));
  const list = el('ol', 'commits');
  for (const commit of view.items) {
    const sha = text('code', commit.shortSha);
    sha.title = safeText(commit.sha);
    list.append(
      el('li', undefined, sha, ' ', text('span', commit.subject, 'subject'), commit.stepId ? text('span', commit.stepId, 'badge') : null, ' ', copyButton(commit.sha, `commit ${commit.shortSha}`)),
    );
  }
  return section('Commits', 'commits', list, more(view, 'commits'));
}

const STATUS_LETTER: Record<string, string> = {
  added: 'A', modified: 'M', deleted: 'D', renamed: 'R', copied: 'C', typeChanged: 'T', unmerged: 'U',
};

function renderFiles(view: SectionView<FileView>, stepId: number): HTMLElement {
  if (view.state === 'error') return section('Changed files', 'files', sectionError(view.message));
  if (view.items.length === 0) return section('Changed files', 'files', text('p', 'No files changed.', 'muted'));
  const list = el('ul', 'files');
  for (const file of view.items) {
    const letter = text('span', STATUS_LETTER[file.status] ?? '?', `status-letter status-${file.status}`);
    letter.title = safeText(file.status);
    const name = button(file.oldPath ? `${file.oldPath} → ${file.path}` : file.path, () => post({ type: 'openFile', stepId, path: file.path }), {
      className: 'link',
      title: `Open the changes of ${file.path}`,
    });
    const counts = file.binary
      ? text('span', 'binary', 'muted')
      : el('span', 'counts', file.added !== null ? text('span', `+${file.added}`, 'added') : null, ' ', file.removed !== null ? text('span', `−${file.removed}`, 'removed') : null);
    list.append(el('li', undefined, letter, name, counts));
  }
  return section(`Changed files (${view.total})`, 'files', list, more(view, 'files'));
}

const FROM_THE_LOG = '(from the log)';

/** Tokens and cost: the row's, or "Not recorded" and the figures of the log's summary, marked. */
function renderTokens(details: StepDetailsView): HTMLElement {
  const t = details.tokens;
  const summary = details.log?.summary ?? null;
  const rows: [string, string | null][] = t
    ? [
        ['Prompt', t.promptText],
        ['Completion', t.completionText],
        ['Total', t.totalText],
        ['Cost', t.costText],
      ]
    : [['Tokens', 'Not recorded']];
  if (summary) {
    if (summary.costText && (!t || t.cost === 0)) rows.push(['Cost', `${summary.costText} ${FROM_THE_LOG}`]);
    if (summary.turns !== null) rows.push(['Turns', `${summary.turns} ${FROM_THE_LOG}`]);
    if (summary.durationText) rows.push(['Agent time', `${summary.durationText} ${FROM_THE_LOG}`]);
    rows.push(['Agent result', `${summary.resultText} ${FROM_THE_LOG}`]);
  }
  return section('Tokens and cost', 'tokens', facts(rows), renderFinalMessage(details.log));
}

function renderFinalMessage(log: LogView | null): Child {
  if (!log) return null;
  if (!log.summary) return text('p', 'The log has no summary yet: the step is running, or the agent stopped without one.', 'muted');
  if (!log.summary.finalMessage) return null;
  return el('div', undefined, text('h3', 'Final message'), text('pre', log.summary.finalMessage, 'prompt'));
}

/** The Analytics panel of what the page shows. */
const analyticsLink = (title: string) => link('Show Analytics', () => post({ type: 'showAnalytics' }), title);

function render(details: StepDetailsView): void {
  const status = text('span', details.status, `badge status status-${details.status.toLowerCase().replace(' ', '-')}`);
  const canShowChanges = details.files.state === 'ok' && details.files.total > 0;
  const header = el(
    'header',
    undefined,
    el('h1', undefined, details.title ? `${details.label} · ${details.title}` : details.label, ' ', status),
    el(
      'div',
      'actions',
      button('Show Changes', () => post({ type: 'showChanges', stepId: details.id }), { disabled: !canShowChanges, title: 'Open every changed file in the diff editor' }),
      details.log
        ? button('Open Step Log', () => post({ type: 'openLog', stepId: details.id }), { className: 'secondary', title: "Open the agent's transcript of this step" })
        : null,
      analyticsLink('Show the charts of this step\'s project'),
    ),
  );

  const warnings = details.warnings.length
    ? el('section', 'warnings', text('h2', 'Warnings'), el('ul', undefined, ...details.warnings.map((w) => text('li', w.message))))
    : null;
  if (warnings) warnings.setAttribute('role', 'note');

  const parent = details.parent
    ? details.parent.missing
      ? text('span', `${details.parent.label} (not in this database)`)
      : link(details.parent.label, () => post({ type: 'openStep', stepId: details.parent!.id }), `Open ${details.parent.label}'s details`)
    : null;

  const overview = section(
    'Overview',
    'overview',
    facts([
      ['Status', details.active ? details.status : `${details.status} (inactive)`],
      ['Started', date(details.startTime, details.startText)],
      ['Ended', date(details.endTime, details.endText)],
      ['Duration', details.durationText],
      ['Exit code', details.exitCode],
      ['Parent', parent],
      ['Project', details.projectLabel],
      ['Database', details.databaseLabel],
      ['Created', date(details.createdAt, details.createdText)],
      ['Commit before', commitFact(details.commitBefore, 'commit before')],
      ['Commit after', commitFact(details.commitAfter, 'commit after')],
      ['Step commit', stepCommitFact(details)],
    ]),
  );

  const tokens = renderTokens(details);
  root.replaceChildren(header, warnings ?? '', overview, renderAgent(details.agent), tokens, renderCommits(details.commits), renderFiles(details.files, details.id));
}

/** The details of a node of another system's database: a header, then each section as it came. */
function renderHistory(details: HistoryDetailsView): void {
  const status = text('span', details.statusText, `badge status status-${details.status}`);
  const header = el(
    'header',
    undefined,
    el('h1', undefined, details.label || '(unnamed)', ' ', status),
    text('p', details.kindText, 'muted'),
    el(
      'div',
      'actions',
      details.changes > 0
        ? button(`Show Changes (${details.changes})`, () => post({ type: 'showItemChanges', ref: details.ref }), { title: 'Open what this step changed in the diff editor' })
        : null,
      analyticsLink('Show the charts of this database'),
    ),
  );
  root.replaceChildren(header, ...details.sections.map((s, i) => renderHistorySection(s, i)));
}

function renderHistorySection(view: HistorySectionView, index: number): HTMLElement {
  const id = `section-${index}`;
  switch (view.kind) {
    case 'facts':
      return section(view.title, id, facts(view.facts.map((f) => [f.label, f.value])));
    case 'text':
      return section(view.title, id, text('pre', view.text, 'prompt'));
    case 'warnings': {
      const node = el('section', 'warnings', text('h2', view.title), el('ul', undefined, ...view.warnings.map((w) => text('li', w))));
      node.setAttribute('role', 'note');
      return node;
    }
    case 'timeline':
      return section(
        view.title,
        id,
        view.events.length
          ? el('ol', 'timeline', ...view.events.map((e) => el('li', undefined, text('span', e.time, 'muted'), ' ', text('strong', e.label), e.detail ? text('pre', e.detail) : null)))
          : text('p', 'Nothing recorded.', 'muted'),
      );
    case 'messages':
      return section(
        view.title,
        id,
        view.messages.length
          ? el(
              'ol',
              'messages',
              ...view.messages.map((m) =>
                el(
                  'li',
                  `message role-${m.role.replace(/[^a-z]/gi, '')}`,
                  el('div', 'message-head', text('strong', m.role), m.meta ? text('span', ` · ${m.meta}`, 'muted') : null),
                  m.text ? text('pre', m.text, 'prompt') : text('p', '(no text)', 'muted'),
                  ...m.extras.map((x) => {
                    const more = el('details', undefined, text('summary', x.label), text('pre', x.text));
                    return more;
                  }),
                ),
              ),
            )
          : text('p', 'No messages recorded yet.', 'muted'),
      );
  }
}

function showMessage(message: string, className: string): void {
  root.replaceChildren(text('p', message, className));
}

window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  const message = event.data;
  switch (message.type) {
    case 'loading':
      // Keeps the previous step on screen, dimmed, so a refresh does not flicker.
      if (root.querySelector('header')) root.classList.add('stale');
      else showMessage(`Loading ${message.label}…`, 'muted');
      break;
    case 'details':
      root.classList.remove('stale');
      vscode.setState({ details: message.details });
      render(message.details);
      break;
    case 'history':
      root.classList.remove('stale');
      vscode.setState({ history: message.details });
      renderHistory(message.details);
      break;
    case 'error':
      root.classList.remove('stale');
      showMessage(message.message, 'section-error');
      break;
  }
});

// Shown at once when the page comes back; the host's reply to `ready` replaces it.
const saved = vscode.getState() as { details?: StepDetailsView; history?: HistoryDetailsView } | undefined;
if (saved?.details) render(saved.details);
else if (saved?.history) renderHistory(saved.history);
post({ type: 'ready' });
