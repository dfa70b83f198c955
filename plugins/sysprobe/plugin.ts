// What sysprobe adds beyond its collector: the guardian's disk-space protocol (its df is what triggers it).
import { definePlugin } from "vibe-cockpit";
import { diskSpaceRecovery } from "./protocols.ts";

export const sysprobePlugin = definePlugin({ name: "sysprobe", protocols: [diskSpaceRecovery] });
