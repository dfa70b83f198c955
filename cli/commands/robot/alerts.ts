import { robotCommand } from "../../_robot.ts";

export default robotCommand({
  name: "alerts",
  description: "Active alerts with their state, values, acks and silences (vc.robot.alerts.v1); --all adds resolved ones",
  args: { all: { type: "boolean", description: "include resolved alerts" } },
  answer: (vc, args) => vc.robotAlerts({ all: Boolean(args.all) }),
});
