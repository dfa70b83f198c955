// The bundled plugins, imported by a config as "vibe-cockpit/plugins".
export { sysprobe } from "./sysprobe/index.ts";
export { beads, type BeadsOptions } from "./beads/index.ts";
export { afsc, type AfscOptions } from "./afsc/index.ts";
export { cloudBenchmarker, type CloudBenchmarkerOptions } from "./cloud_benchmarker/index.ts";
export { sysmoni, type SysmoniOptions } from "./sysmoni/index.ts";
export { ru, type RuOptions } from "./ru/index.ts";
export { rch, DEFAULT_METRICS_URL, TRACKED_METRICS, type RchOptions } from "./rch/index.ts";
export { pt, type PtOptions } from "./pt/index.ts";
export { ntm, type NtmOptions } from "./ntm/index.ts";
export { caut, type CautOptions } from "./caut/index.ts";
export { caam, type CaamOptions } from "./caam/index.ts";
export { cass, type CassOptions } from "./cass/index.ts";
export { mcpAgentMail, type McpAgentMailOptions } from "./mcp_agent_mail/index.ts";
export { dcg } from "./dcg/index.ts";
export { rano, type RanoOptions } from "./rano/index.ts";
export { defaultRules, DEFAULT_RULES, type RuleOverrides } from "./rules/index.ts";
export { alertsJsonl, stdoutChannel, webhook, slackPayload } from "./channels/index.ts";
