import { robotCommand } from "../../_robot.ts";

export default robotCommand({
  name: "machine",
  description: "One machine: health factors, latest sample, disks, processes, rch, agents, accounts, mail, dcg, collectors, tools (vc.robot.machine.v1)",
  args: { id: { type: "positional", description: "machine id", required: true } },
  answer: (vc, args) => vc.robotMachine(args.id),
});
