// The cockpit's screens: the core's (overview, machine, events, guardian, and the repo, event and run levels)
// with each plugin's in between, in plugin order. Two screens with one id or one jump key are
// refused, naming both owners.
import { VcError } from "../../errors.ts";
import type { AnyScreen } from "../screen.ts";
import event from "./event.ts";
import events from "./events.ts";
import { guardianRunScreen, guardianScreen } from "./guardian.ts";
import machine from "./machine.ts";
import overview from "./overview.ts";
import repo from "./repo.ts";

export const coreScreens: readonly AnyScreen[] = [overview, machine, events, guardianScreen, repo, event, guardianRunScreen];

/** The screens in tab order: overview, machine, the plugins', events, guardian; then the levels. */
export function screensFor(plugins: readonly { name: string; screens?: readonly AnyScreen[] }[]): AnyScreen[] {
  const owner = new Map<string, string>();
  const claim = (what: string, name: string, by: string) => {
    const prev = owner.get(`${what}\u0000${name}`);
    if (prev && prev !== by) throw new VcError("config_invalid", `TUI screen ${what} "${name}" is claimed by both ${prev} and ${by}`, { hint: `rename one screen's ${what}` });
    owner.set(`${what}\u0000${name}`, by);
  };
  const own = (sc: AnyScreen, by: string) => {
    claim("id", sc.id, by);
    if (sc.key) claim("key", sc.key, by);
    return sc;
  };
  for (const sc of coreScreens) own(sc, "vc");
  const theirs = plugins.flatMap((p) => (p.screens ?? []).map((sc) => own(sc, `plugin ${p.name}`)));
  return [overview, machine, ...theirs, events, guardianScreen, repo, event, guardianRunScreen];
}
