import { robotCommand } from "../../_robot.ts";

export default robotCommand({
  name: "repos",
  description: "Repos per machine: branch, dirty, ahead/behind, last commit, ready beads (vc.robot.repos.v1)",
  answer: (vc) => vc.robotRepos(),
});
