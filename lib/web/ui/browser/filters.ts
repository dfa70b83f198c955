// A bar of filters over a list already loaded: text boxes and selects that hide the items that do
// not match, at once and without a request. Their values outlive a live redraw.
import { h } from "./dom.ts";

export interface FilterSpec {
  key: string;
  label: string;
  /** A select's options (value, label); a text box without. The first option is "any". */
  options?: readonly (readonly [string, string])[];
  placeholder?: string;
}

export type FilterValues = Record<string, string>;

const kept = new Map<string, FilterValues>();

/**
 * The bar, and a function that applies the values to `items` (each with its element and a match
 * test). The first text box answers `/`.
 */
export function filterBar<T>(
  id: string,
  specs: readonly FilterSpec[],
  items: readonly { el: HTMLElement; item: T }[],
  match: (item: T, v: FilterValues) => boolean,
  onCount?: (shown: number) => void,
): HTMLElement {
  const values: FilterValues = { ...(kept.get(id) ?? {}) };
  const apply = () => {
    kept.set(id, { ...values });
    let shown = 0;
    for (const x of items) {
      const ok = match(x.item, values);
      x.el.hidden = !ok;
      if (ok) shown++;
    }
    onCount?.(shown);
  };
  let first = true;
  const controls = specs.map((s) => {
    const fid = `f-${id}-${s.key}`;
    let control: HTMLInputElement | HTMLSelectElement;
    if (s.options) {
      control = h(
        "select",
        { id: fid, "data-filter-key": s.key, "data-key": `filter:${id}:${s.key}` },
        s.options.map(([v, l]) => h("option", { value: v }, l)),
      );
      control.value = values[s.key] ?? s.options[0]?.[0] ?? "";
      control.addEventListener("change", () => ((values[s.key] = control.value), apply()));
    } else {
      control = h("input", {
        id: fid,
        type: "search",
        placeholder: s.placeholder ?? "",
        autocomplete: "off",
        "data-filter": first ? "" : null,
        "data-filter-key": s.key,
        "data-key": `filter:${id}:${s.key}`,
      });
      first = false;
      control.value = values[s.key] ?? "";
      control.addEventListener("input", () => ((values[s.key] = control.value), apply()));
    }
    return h("label", { class: "filter", for: fid }, h("span", null, s.label), control);
  });
  apply();
  return h("div", { class: "filters", role: "search" }, controls);
}

/** Whether `text` holds every word of the query (case-insensitive). */
export const matches = (text: string, query: string | undefined) => {
  const q = (query ?? "").trim().toLowerCase();
  if (!q) return true;
  const t = text.toLowerCase();
  return q.split(/\s+/).every((w) => t.includes(w));
};
