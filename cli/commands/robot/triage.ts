import { robotCommand } from "../../_robot.ts";

export default robotCommand({
  name: "triage",
  description: "What to do next: firing alerts and unhealthy machines ranked by severity, recency and blast radius, each with why and suggested commands (vc.robot.triage.v1)",
  args: { limit: { type: "string", description: "how many items (default 20)", valueHint: "N" } },
  answer: (vc, args) => vc.robotTriage({ limit: args.limit ? Number(args.limit) : undefined }),
});
