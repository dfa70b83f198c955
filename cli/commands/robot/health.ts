import { robotCommand } from "../../_robot.ts";

export default robotCommand({
  name: "health",
  description: "Fleet and per-machine health (vc.robot.health.v1); --at T answers from the snapshot at or before T",
  args: { at: { type: "string", description: "an ISO 8601 time: the fleet as it was then", valueHint: "TIME" } },
  answer: (vc, args) => {
    if (!args.at) return vc.robotHealth();
    const at = new Date(args.at);
    if (Number.isNaN(at.getTime())) throw new Error(`--at: "${args.at}" is not an ISO 8601 time`);
    return vc.robotHealthAt(at);
  },
});
