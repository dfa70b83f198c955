// A table whose columns sort on a click (or Enter on the header's button), whose rows can be
// focused and opened with Enter, and that keeps its sort across live refreshes.
import { type Child, h } from "./dom.ts";

export interface Column<R> {
  key: string;
  title: string;
  /** What the column sorts by (null last); also the cell's text when `cell` is absent. */
  value(r: R): string | number | null | undefined;
  cell?(r: R): Child;
  /** Right-aligned, sorted as a number. */
  num?: boolean;
  /** Left out on a narrow screen. */
  optional?: boolean;
  /** Not sortable (an action column). */
  fixed?: boolean;
}

export interface TableOptions<R> {
  /** Names the table: its sort is kept under it. */
  id: string;
  caption?: string;
  rowKey(r: R): string;
  /** Enter or a click on the row (outside its buttons and links). */
  onOpen?(r: R): void;
  /** Classes for a row (severity, staleness). */
  rowClass?(r: R): string;
  empty?: string;
  /** The sort to start with. */
  sort?: { key: string; dir: 1 | -1 };
  /** Filled with each row's element and item (for a filter bar that hides rows). */
  rows?: { el: HTMLElement; item: R }[];
}

const sorts = new Map<string, { key: string; dir: 1 | -1 }>();

function compare(a: unknown, b: unknown): number {
  const na = a === null || a === undefined || a === "";
  const nb = b === null || b === undefined || b === "";
  if (na || nb) return na === nb ? 0 : na ? 1 : -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

/** The table, in a wrapper that scrolls sideways on a narrow screen. */
export function sortableTable<R>(cols: readonly Column<R>[], rows: readonly R[], o: TableOptions<R>): HTMLElement {
  const tbody = h("tbody");
  const heads = new Map<string, HTMLTableCellElement>();
  // Each row is made once; a sort only moves them (a row hidden by a filter stays hidden).
  const made = new Map<R, HTMLTableRowElement>();
  const draw = () => {
    const s = sorts.get(o.id) ?? o.sort ?? null;
    const col = s ? cols.find((c) => c.key === s.key) : undefined;
    const sorted = col && s ? [...rows].sort((a, b) => compareRows(col.value(a), col.value(b), s.dir)) : rows;
    tbody.replaceChildren(...sorted.map((r) => made.get(r)!));
    for (const [k, th] of heads) th.setAttribute("aria-sort", s?.key === k ? (s.dir === 1 ? "ascending" : "descending") : "none");
  };
  const compareRows = (a: unknown, b: unknown, dir: 1 | -1) => {
    // Nothing sorts last whichever the direction.
    const empty = (x: unknown) => x === null || x === undefined || x === "";
    if (empty(a) || empty(b)) return compare(a, b);
    return dir * compare(a, b);
  };
  const row = (r: R) => {
    const key = o.rowKey(r);
    const tr = h(
      "tr",
      {
        class: `${o.rowClass?.(r) ?? ""}${o.onOpen ? " openable" : ""}`.trim() || null,
        "data-row": "",
        "data-key": `${o.id}:${key}`,
        tabindex: o.onOpen ? 0 : null,
        onkeydown: o.onOpen
          ? (e: Event) => {
              const k = e as KeyboardEvent;
              if (k.key === "Enter" && k.target === tr) {
                k.preventDefault();
                o.onOpen!(r);
              }
            }
          : null,
        onclick: o.onOpen
          ? (e: Event) => {
              if ((e.target as Element).closest("a,button,input,select,summary")) return;
              o.onOpen!(r);
            }
          : null,
      },
      cols.map((c) => h("td", { class: `${c.num ? "num" : ""}${c.optional ? " opt" : ""}`.trim() || null, "data-col": c.key }, c.cell ? c.cell(r) : (c.value(r) ?? "–"))),
    );
    return tr;
  };
  const head = h(
    "tr",
    null,
    cols.map((c) => {
      const th = h("th", { scope: "col", class: `${c.num ? "num" : ""}${c.optional ? " opt" : ""}`.trim() || null, "data-col": c.key });
      if (c.fixed) th.append(c.title);
      else {
        heads.set(c.key, th);
        th.append(
          h(
            "button",
            {
              type: "button",
              class: "sort",
              "data-key": `${o.id}:sort:${c.key}`,
              title: `sort by ${c.title}`,
              onclick: () => {
                const cur = sorts.get(o.id) ?? o.sort;
                sorts.set(o.id, { key: c.key, dir: cur?.key === c.key ? (cur.dir === 1 ? -1 : 1) : c.num ? -1 : 1 });
                draw();
              },
            },
            c.title,
          ),
        );
      }
      return th;
    }),
  );
  for (const r of rows) {
    const el = row(r);
    made.set(r, el);
    o.rows?.push({ el, item: r });
  }
  draw();
  const table = h("table", { class: "grid", "data-table": o.id }, o.caption ? h("caption", null, o.caption) : null, h("thead", null, head), tbody);
  return h("div", { class: "scroll" }, rows.length === 0 ? h("p", { class: "empty" }, o.empty ?? "Nothing here.") : table);
}
