/// <reference lib="dom" />
/**
 * The webview pages' DOM helpers, one copy for every page (details, analytics). They build
 * elements with createElement and textContent only: every string is shown as text, never
 * parsed as HTML, with its control characters escaped (safeText).
 */
import { safeText } from '../shared/safeText';

export type Child = Node | string | null | undefined | false;

/** An element with a class and children; a string child becomes a text node. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(safeText(child)) : child);
  }
  return node;
}

/** A `pre` keeps its line breaks; anything else shows on one line. */
export function text(tag: keyof HTMLElementTagNameMap, value: string, className?: string): HTMLElement {
  const node = el(tag, className);
  node.textContent = safeText(value, { multiline: tag === 'pre' });
  return node;
}

export function button(label: string, onClick: () => void, options: { className?: string; title?: string; disabled?: boolean } = {}): HTMLButtonElement {
  const node = el('button', options.className);
  node.type = 'button';
  node.textContent = safeText(label);
  if (options.title) node.title = safeText(options.title);
  if (options.disabled) node.disabled = true;
  node.addEventListener('click', onClick);
  return node;
}

export function link(label: string, onActivate: () => void, title?: string): HTMLAnchorElement {
  const node = el('a');
  node.href = '#';
  node.textContent = safeText(label);
  if (title) node.title = safeText(title);
  node.addEventListener('click', (event) => {
    event.preventDefault();
    onActivate();
  });
  return node;
}
