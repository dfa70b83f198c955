import { accountsView } from "../robot/accounts.ts";
import { defineView } from "./define.ts";

/** `vc robot accounts`: usage per provider account and profile, with staleness. */
export default defineView({
  name: "accounts",
  summary: "Provider accounts: used % per window, resets, status (caut); limits per profile, active profile and auth health per tool (caam); stale data flagged",
  args: {},
  run(vc) {
    const staleAfterSeconds = vc.config.polling.interval_seconds * vc.config.polling.stale_after_intervals;
    return accountsView(vc.store, vc.clock.now().toISOString(), { staleAfterSeconds });
  },
});
