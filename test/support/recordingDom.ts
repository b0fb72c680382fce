/**
 * A minimal DOM that records what a webview page builds, for running a page's bundle in
 * node:vm: elements with children, attributes, properties and listeners, text nodes, a body
 * whose class a test changes (MutationObserver), animation frames a test runs, computed style
 * variables, and the webview's API (postMessage, getState/setState). It has no HTML parser at
 * all, so markup in a field can only ever appear as text. A canvas has no 2D context unless
 * the test gives one.
 */
import * as vm from 'node:vm';
import { buildSync } from 'esbuild';

export class FakeText {
  readonly nodeType = 3;
  parentNode: FakeElement | null = null;
  constructor(public data: string) {}
  get textContent(): string {
    return this.data;
  }
}

type Listener = (event: unknown) => void;

/** The size of every element's box, in CSS pixels. */
export const BOX = { width: 600, height: 260 };

/** What every element of one page shares. */
interface DomParts {
  getContext: (canvas: FakeElement) => unknown;
  document?: unknown;
}

export class FakeElement {
  readonly nodeType = 1;
  children: (FakeElement | FakeText)[] = [];
  parentNode: FakeElement | null = null;
  attributes = new Map<string, string>();
  listeners = new Map<string, Listener[]>();
  className = '';
  classList = {
    add: (c: string) => void (this.className = [...this.classes().filter((x) => x !== c), c].join(' ')),
    remove: (c: string) => void (this.className = this.classes().filter((x) => x !== c).join(' ')),
    contains: (c: string) => this.classes().includes(c),
  };
  [key: string]: unknown;
  readonly #dom: DomParts | undefined;
  constructor(readonly tagName: string, dom?: DomParts) {
    this.#dom = dom;
    if (tagName === 'canvas') this.getContext = () => dom?.getContext(this) ?? null;
  }
  /** The document, whose defaultView is the window (Chart.js reads computed style through it). */
  get ownerDocument(): unknown {
    return this.#dom?.document;
  }
  classes(): string[] {
    return this.className.split(/\s+/).filter(Boolean);
  }
  /** Whether the element is in the page (under the body). */
  get isConnected(): boolean {
    let node: FakeElement | null = this;
    while (node.parentNode) node = node.parentNode;
    return node.tagName === 'body';
  }
  /** Every element is laid out as one chart's box. */
  get clientWidth(): number {
    return BOX.width;
  }
  get clientHeight(): number {
    return BOX.height;
  }
  getBoundingClientRect() {
    return { x: 0, y: 0, top: 0, left: 0, ...BOX, right: BOX.width, bottom: BOX.height };
  }
  get parentElement(): FakeElement | null {
    return this.parentNode;
  }
  append(...nodes: (FakeElement | FakeText | string)[]): void {
    for (const n of nodes) {
      const node = typeof n === 'string' ? new FakeText(n) : n;
      node.parentNode?.removeChild(node);
      node.parentNode = this;
      this.children.push(node);
    }
  }
  removeChild(node: FakeElement | FakeText): void {
    this.children = this.children.filter((c) => c !== node);
    node.parentNode = null;
  }
  replaceChildren(...nodes: (FakeElement | FakeText | string)[]): void {
    for (const c of this.children) c.parentNode = null;
    this.children = [];
    this.append(...nodes);
  }
  get textContent(): string {
    return this.children.map((c) => c.textContent).join('');
  }
  set textContent(value: string) {
    this.replaceChildren(new FakeText(value));
  }
  setAttribute(name: string, value: string): void {
    this.attributes.set(name, String(value));
  }
  getAttribute(name: string): string | null {
    return this.attributes.get(name) ?? null;
  }
  removeAttribute(name: string): void {
    this.attributes.delete(name);
  }
  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  removeEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, (this.listeners.get(type) ?? []).filter((l) => l !== listener));
  }
  /** Sends an event to the element's listeners; returns whether one prevented its default. */
  dispatch(type: string, fields: Record<string, unknown> = {}): boolean {
    let prevented = false;
    const event = { type, target: this, preventDefault: () => void (prevented = true), ...fields };
    for (const l of this.listeners.get(type) ?? []) l(event);
    return prevented;
  }
  click(): void {
    this.dispatch('click');
  }
  querySelector(tag: string): FakeElement | null {
    return this.all().find((e) => e.tagName === tag) ?? null;
  }
  /** Every element under this one, depth first. */
  all(): FakeElement[] {
    return this.children.flatMap((c) => (c instanceof FakeElement ? [c, ...c.all()] : []));
  }
  byId(id: string): FakeElement | undefined {
    return this.all().find((e) => e.id === id);
  }
  texts(): string[] {
    return this.children.flatMap((c) => (c instanceof FakeElement ? c.texts() : [c.data]));
  }
}

export interface PageOptions<Page> {
  /** What vscode.getState() answers. */
  state?: unknown;
  /** The body's classes: the theme's kind. */
  bodyClass?: string;
  /** The computed style's variables (`--vscode-charts-blue`, …). */
  cssVariables?: Record<string, string>;
  /** What a canvas's getContext('2d') answers: null (no context) unless given. */
  getContext?: (canvas: FakeElement) => unknown;
  /** Each message the page posts, as it posts it. */
  onPost?: (message: Page) => void;
}

export interface LoadedPage<Host, Page> {
  root: FakeElement;
  body: FakeElement;
  posted: Page[];
  /** The last vscode.setState(). */
  state(): unknown;
  receive(data: Host): void;
  /** Runs the animation frames the page asked for. */
  runFrames(): void;
  /** Changes the body's class as VS Code does on a theme change, telling the observers. */
  setBodyClass(className: string): void;
  cssVariables: Record<string, string>;
  /** The page's console.error and console.warn lines. */
  consoleErrors: string[];
}

/** A page's entry bundled as it ships: esbuild, one IIFE for the browser. */
export function bundlePage(entry: string, minify = false): string {
  const { outputFiles } = buildSync({ entryPoints: [entry], bundle: true, write: false, format: 'iife', platform: 'browser', target: 'es2022', minify, logLevel: 'silent' });
  return outputFiles[0].text;
}

/** Runs a bundled page on a fresh recording DOM. */
export function runPage<Host, Page>(code: string, options: PageOptions<Page> = {}): LoadedPage<Host, Page> {
  const dom: DomParts = { getContext: options.getContext ?? (() => null) };
  const make = (tag: string) => new FakeElement(tag, dom);
  const root = make('main');
  root.id = 'root';
  const body = make('body');
  body.className = options.bodyClass ?? 'vscode-dark';
  body.append(root);
  const posted: Page[] = [];
  let state = options.state;
  const cssVariables = { ...options.cssVariables };
  const windowListeners: ((event: { data: Host }) => void)[] = [];
  const frames: (() => void)[] = [];
  const observers: { callback: (records: unknown[]) => void; target: unknown; filter?: string[] }[] = [];
  const consoleErrors: string[] = [];
  class MutationObserver {
    constructor(private readonly callback: (records: unknown[]) => void) {}
    observe(target: unknown, init: { attributeFilter?: string[] }) {
      observers.push({ callback: this.callback, target, filter: init.attributeFilter });
    }
    disconnect() {}
  }
  const context: Record<string, unknown> = {
    acquireVsCodeApi: () => ({
      postMessage: (m: Page) => {
        const copy = JSON.parse(JSON.stringify(m)) as Page;
        posted.push(copy);
        options.onPost?.(copy);
      },
      getState: () => state,
      setState: (s: unknown) => void (state = JSON.parse(JSON.stringify(s))),
    }),
    document: {
      body,
      getElementById: (id: string) => (id === 'root' ? root : (body.byId(id) ?? null)),
      createElement: make,
      createTextNode: (data: string) => new FakeText(data),
    },
    addEventListener: (type: string, l: (event: { data: Host }) => void) => type === 'message' && windowListeners.push(l),
    removeEventListener: () => undefined,
    getComputedStyle: () => ({ getPropertyValue: (name: string) => cssVariables[name] ?? '' }),
    requestAnimationFrame: (f: () => void) => frames.push(f),
    cancelAnimationFrame: () => undefined,
    MutationObserver,
    ResizeObserver: class {
      observe() {}
      unobserve() {}
      disconnect() {}
    },
    performance,
    scrollY: 0,
    scrollTo(_x: number, y: number) {
      context.scrollY = y;
    },
    devicePixelRatio: 1,
    navigator: { userAgent: 'node' },
    setTimeout,
    clearTimeout,
    console: { ...console, error: (...a: unknown[]) => consoleErrors.push(a.join(' ')), warn: (...a: unknown[]) => consoleErrors.push(a.join(' ')) },
  };
  context.window = context;
  dom.document = { ...(context.document as object), defaultView: context };
  vm.runInNewContext(code, context);
  return {
    root,
    body,
    posted,
    state: () => state,
    receive: (data: Host) => windowListeners.forEach((l) => l({ data })),
    runFrames: () => frames.splice(0).forEach((f) => f()),
    setBodyClass: (className: string) => {
      body.className = className;
      for (const o of observers) if (o.target === body && (!o.filter || o.filter.includes('class'))) o.callback([{ type: 'attributes', attributeName: 'class', target: body }]);
    },
    cssVariables,
    consoleErrors,
  };
}
