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
export { ntmAttention, type NtmAttentionOptions } from "./ntm/attention.ts";
export { caut, type CautOptions } from "./caut/index.ts";
export { cautCost, type CautCostOptions } from "./caut/cost.ts";
export { caam, type CaamOptions } from "./caam/index.ts";
export { cass, type CassOptions } from "./cass/index.ts";
export { mcpAgentMail, type McpAgentMailOptions } from "./mcp_agent_mail/index.ts";
export { dcg } from "./dcg/index.ts";
export { rano, type RanoOptions } from "./rano/index.ts";
export { defaultRules, DEFAULT_RULES, type RuleOverrides } from "./rules/index.ts";
export { accountsPlugin, accountsView, type AccountsData, type AccountUsage, type AccountWindow, type ProfileLimits, type ToolProfile } from "./accounts/index.ts";
export { ntmPlugin } from "./ntm/plugin.ts";
export { cassPlugin } from "./cass/plugin.ts";
export { dcgPlugin } from "./dcg/plugin.ts";
export { mailPlugin } from "./mcp_agent_mail/plugin.ts";
export { ruPlugin, reposView, type ReposData, type MachineRepos, type RepoLine } from "./ru/plugin.ts";
export { sysmoniPlugin } from "./sysmoni/plugin.ts";
export { sysprobePlugin } from "./sysprobe/plugin.ts";
export { ptPlugin } from "./pt/plugin.ts";
export { rchPlugin } from "./rch/plugin.ts";
export { ranoPlugin } from "./rano/plugin.ts";
export { beadsPlugin, beadsView, type BeadsData, type BeadsTriage } from "./beads/plugin.ts";
import type { Plugin } from "vibe-cockpit";
import { accountsPlugin as accounts } from "./accounts/index.ts";
import { cassPlugin as cassP } from "./cass/plugin.ts";
import { dcgPlugin as dcgP } from "./dcg/plugin.ts";
import { mailPlugin as mailP } from "./mcp_agent_mail/plugin.ts";
import { ntmPlugin as ntmP } from "./ntm/plugin.ts";
import { ptPlugin as ptP } from "./pt/plugin.ts";
import { rchPlugin as rchP } from "./rch/plugin.ts";
import { ranoPlugin as ranoP } from "./rano/plugin.ts";
import { beadsPlugin as beadsP } from "./beads/plugin.ts";
import { ruPlugin as ruP } from "./ru/plugin.ts";
import { sysmoniPlugin as sysmoniP } from "./sysmoni/plugin.ts";
import { sysprobePlugin as sysprobeP } from "./sysprobe/plugin.ts";

/**
 * The bundled tools' views, machine sections and health factors without their collectors: for a
 * store whose data came from elsewhere (a replayed or pushed fleet), read as the collectors would.
 */
export const toolPlugins: readonly Plugin[] = [accounts, ntmP, cassP, dcgP, mailP, ruP, sysmoniP, sysprobeP, ptP, rchP, ranoP, beadsP];
export { alertsJsonl, stdoutChannel, webhook, slackPayload, agentMail, desktop, type AgentMailOptions, type DesktopOptions } from "./channels/index.ts";
export { catalog } from "./catalog.ts";
