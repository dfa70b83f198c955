// The list a screen shows now: its items after the filter (the screen's) and the search (here),
// the selected one, and the machine the screen is about.
import type { AlertView } from "../alerts/ops.ts";
import { has, type AnyScreen } from "./screen.ts";
import { eventItem } from "./screens/common.ts";
import type { ListItem, ViewState } from "./types.ts";

/** The screen the state shows (the overview's when an id is unknown). */
export function screenOf(s: ViewState, id: string = s.screen): AnyScreen {
  return s.screens.find((x) => x.id === id) ?? s.screens[0]!;
}

/** The left pane's selectable items on the current screen, after filter and search. */
export function listItems(s: ViewState): ListItem[] {
  const screen = screenOf(s);
  if (screen.noList || !screen.items) return [];
  // The list is drawn from the last data whatever it was read for (a drill-down clears what it
  // enters, so a list never shows another repo's rows); the detail checks the key.
  let items = screen.items(s, s.data.screens[screen.id]?.data);
  if (s.search) {
    items = items.filter(
      (i) =>
        has(
          Object.values(i.cells)
            .map((c) => c[0])
            .join(" "),
          s.search,
        ) || has(i.text, s.search),
    );
    // Content found by the search tools follows the facts vc matched.
    const found = s.data.sessions;
    if (found && !found.pending && found.query === s.search) items = [...items, ...found.events.filter((e) => has(e.machine_id, s.filter.machine)).map((e) => eventItem(e, s))];
  }
  return items;
}

/** The selected item (the index clamped to the list). */
export function selectedItem(s: ViewState): ListItem | undefined {
  const items = listItems(s);
  if (items.length === 0) return undefined;
  return items[Math.max(0, Math.min(items.length - 1, s.selected[s.screen] ?? 0))];
}

/** The machine the screen is about: the selected row's, else the one drilled into (the levels: theirs). */
export function focusMachine(s: ViewState): string | null {
  if (s.screen === "repo") return s.repo?.machine_id ?? s.machineId;
  if (s.screen === "event") return s.event?.machine_id ?? s.machineId;
  return selectedItem(s)?.machineId ?? s.machineId;
}

/** The alert x and s act on: the selected one, or the one the event level shows. */
export function selectedAlert(s: ViewState): AlertView | undefined {
  if (s.screen === "event") return s.event?.alert ? (s.data.alerts.find((a) => a.alert_id === s.event!.alert!.alert_id) ?? s.event.alert) : undefined;
  return selectedItem(s)?.alert;
}
