import { defineView } from "./define.ts";

/** `vc robot machines`: the inventory with what the store knows (no network). */
export default defineView({
  name: "machines",
  summary: "Every configured machine: how it is reached, tags, last successful poll, tools found, collectors in trouble (no network)",
  args: {},
  async run(vc) {
    return { data: { machines: await vc.machines() } };
  },
});
