// Building the page's DOM without ever parsing HTML: every string becomes a text node (stripped of
// terminal escape sequences and control characters first), attributes are set one by one, and
// links may only point inside the dashboard. Nothing a collector wrote can become markup.
import { oneLine, stripControl } from "../../../text.ts";

export type Child = Node | string | number | boolean | null | undefined | readonly Child[];
type Handler = (e: Event) => void;
export type Attrs = Record<string, string | number | boolean | null | undefined | Handler>;

/** Untrusted text as it is shown: one line, no escape sequences or controls. */
export const clean = (s: unknown): string => (s === null || s === undefined ? "" : oneLine(String(s)));

/** Untrusted multi-line text (a message body): newlines kept, escapes and controls removed. */
export const cleanBlock = (s: unknown): string => (s === null || s === undefined ? "" : stripControl(String(s)));

function append(el: Node, c: Child): void {
  if (c === null || c === undefined || c === false || c === true) return;
  if (Array.isArray(c)) {
    for (const x of c as readonly Child[]) append(el, x);
    return;
  }
  el.appendChild(c instanceof Node ? c : document.createTextNode(clean(c)));
}

/** An href inside the dashboard (`#/…`) or on its own origin (`/…`); anything else is dropped. */
const safeHref = (v: string) => (/^#/.test(v) || (/^\/(?!\/)/.test(v) && !/^\/\\/.test(v)) ? v : null);

/**
 * An element with attributes and children. `on<event>` attributes take listeners; `class` sets the
 * class; strings are text, never markup.
 * @example h("a", { href: "#/machine/node-01", class: "link" }, "node-01")
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === "function") {
      el.addEventListener(k.replace(/^on/, "").toLowerCase(), v);
      continue;
    }
    if (k === "class") el.className = String(v);
    else if (k === "href") {
      const href = safeHref(String(v));
      if (href !== null) el.setAttribute("href", href);
    } else if (/^on/i.test(k) || k === "style" || k === "src" || k === "srcdoc") continue;
    else el.setAttribute(k, v === true ? "" : clean(v));
  }
  for (const c of children) append(el, c);
  return el;
}

const SVG = "http://www.w3.org/2000/svg";

/** An SVG element (charts drawn without a library: sparklines). Attribute values are numbers or fixed words. */
export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, ...children: Node[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.appendChild(c);
  return el;
}

/** Sets a width as a percentage through the CSSOM (allowed by the CSP, unlike a style attribute). */
export function widthPct(el: HTMLElement, pct: number): HTMLElement {
  el.style.width = `${Math.max(0, Math.min(100, pct))}%`;
  return el;
}
