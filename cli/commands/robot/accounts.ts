import { robotCommand } from "../../_robot.ts";

export default robotCommand({
  name: "accounts",
  description: "Provider accounts: used % per window, resets, status (caut); limits per profile, active profile and auth health per tool (caam); stale data flagged (vc.robot.accounts.v1)",
  answer: (vc) => vc.robotAccounts(),
});
