// The cockpit's data for frame tests: read through the library from a fixture store.
import { openCockpit, resolveConfig, type Cockpit } from "../../lib/index.ts";
import { sysprobe, toolPlugins } from "../../plugins/index.ts";
import { createFixedClock } from "../../lib/clock.ts";
import { initialState, loadCore, loadScreen } from "../../lib/tui/app.ts";
import { emptyData, listItems, type ViewState } from "../../lib/tui/frame.ts";
import { screensFor } from "../../lib/tui/screens/index.ts";
import { END } from "./_fixture.ts";

/**
 * Opens the fixture's store read-only with the clock at the fleet's end. The config is built here,
 * not imported from the fleet's vc.config.ts: in a full test run another file may have registered
 * the "vibe-cockpit/plugins" module first.
 */
export async function openFixture(fleet: { db: string; machines: string[] }): Promise<Cockpit> {
  const config = await resolveConfig(
    { db: fleet.db, polling: { interval_seconds: 120 }, machines: fleet.machines.map((id) => ({ id, ssh: `demo@${id}.invalid` })), collectors: [sysprobe()], plugins: toolPlugins },
    { source: "test/tui fixture" },
  );
  return openCockpit({ config, readOnly: true, clock: createFixedClock(END) });
}

/** A view-state on `screen` with everything that screen needs loaded (machine screens: `machineId`). */
export async function loadedState(vc: Cockpit, screen: string, size: { width: number; height: number }, machineId: string | null = null): Promise<ViewState> {
  const base = initialState({
    ...size,
    now: END,
    staleAfterSeconds: vc.config.polling.interval_seconds * vc.config.polling.stale_after_intervals,
    data: emptyData("local"),
    screens: screensFor(vc.config.plugins ?? []),
  });
  const data = await loadCore(vc, base.data, base.screens);
  let s: ViewState = { ...base, screen, machineId, data };
  if (machineId)
    s = {
      ...s,
      selected: {
        [screen]: Math.max(
          0,
          listItems(s).findIndex((i) => i.machineId === machineId),
        ),
      },
    };
  return { ...s, data: await loadScreen(vc, s) };
}
