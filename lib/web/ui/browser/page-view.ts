// Any registered view (the API's listing): a form for its arguments and its answer as text and
// tables. Whatever a plugin registers can be read here without a page of its own.
import { get, routes, view } from "./data.ts";
import { h } from "./dom.ts";
import { generic } from "./generic.ts";
import type { PageContext } from "./page.ts";
import type { ViewInfo } from "./types.ts";
import { link, section, warnings } from "./widgets.ts";

let listing: Promise<ViewInfo[]> | null = null;

/** The registered views (asked once per page load). */
export function listViews(signal?: AbortSignal): Promise<ViewInfo[]> {
  listing ??= get<{ views?: ViewInfo[] } | ViewInfo[]>(routes.views, signal).then(
    (x) => (Array.isArray(x) ? x : (x.views ?? [])),
    (err: unknown) => {
      listing = null;
      throw err;
    },
  );
  return listing;
}

export async function viewPage(ctx: PageContext): Promise<Node> {
  const views = await listViews(ctx.signal);
  const name = ctx.params[0];
  const info = views.find((v) => v.name === name);
  if (!name || !info) {
    return h(
      "div",
      { class: "page views" },
      h("h1", null, "Views"),
      name ? h("p", { class: "error" }, "No view named ", name, ".") : null,
      h("p", { class: "muted" }, "Every answer vc gives, as the API serves it (GET /api/<view>)."),
      h(
        "dl",
        { class: "kv" },
        views.map((v) => [h("dt", null, h("a", { href: link.view(v.name) }, v.name)), h("dd", null, v.summary)]),
      ),
    );
  }
  const props = info.args.properties ?? {};
  const required = new Set(info.args.required ?? []);
  const args: Record<string, string> = {};
  for (const [k, v] of ctx.query) if (k in props) args[k] = v;
  const missing = Object.keys(props).filter((k) => required.has(k) && !args[k]);
  const form = h(
    "form",
    {
      class: "filters",
      onsubmit: (e: Event) => {
        e.preventDefault();
        const q = new URLSearchParams();
        for (const el of (e.currentTarget as HTMLFormElement).querySelectorAll<HTMLInputElement>("input[name]")) {
          if (el.type === "checkbox") {
            if (el.checked) q.set(el.name, "true");
          } else if (el.value) q.set(el.name, el.value);
        }
        ctx.go(`${link.view(info.name)}${q.size ? `?${q}` : ""}`);
      },
    },
    Object.entries(props).map(([k, a]) => {
      const id = `arg-${k}`;
      const input =
        a.type === "boolean"
          ? h("input", { id, name: k, type: "checkbox", checked: args[k] === "true" })
          : h("input", { id, name: k, type: "text", value: args[k] ?? "", placeholder: a.type ?? "", required: required.has(k) });
      return h("label", { class: "filter", for: id, title: a.description }, h("span", null, k), input);
    }),
    h("button", { type: "submit", class: "primary" }, "Ask"),
  );
  let answer: Node;
  if (missing.length) answer = h("p", { class: "muted" }, `Give ${missing.join(", ")} to ask.`);
  else {
    const r = await view<unknown>(info.name, args, ctx.signal);
    answer = h("div", null, warnings(r.warnings), generic(r.data, 4, r.generated_at));
  }
  return h("div", { class: "page view" }, h("h1", null, info.name), h("p", { class: "muted" }, info.summary), form, section("Answer", answer));
}
