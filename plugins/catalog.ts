// The bundled plugins by the names a vc.config.jsonc gives them: each collector factory under the
// name of the collector it makes, each channel factory under its channel's name, and the default
// rule pack. The CLI hands this to the config loader (lib names no plugin).
import type { ConfigCatalog } from "vibe-cockpit";
import { afsc } from "./afsc/index.ts";
import { beads } from "./beads/index.ts";
import { caam } from "./caam/index.ts";
import { cass } from "./cass/index.ts";
import { caut } from "./caut/index.ts";
import { cautCost } from "./caut/cost.ts";
import { agentMail, alertsJsonl, desktop, stdoutChannel, webhook } from "./channels/index.ts";
import { cloudBenchmarker } from "./cloud_benchmarker/index.ts";
import { dcg } from "./dcg/index.ts";
import { mcpAgentMail } from "./mcp_agent_mail/index.ts";
import { ntm } from "./ntm/index.ts";
import { ntmAttention } from "./ntm/attention.ts";
import { pt } from "./pt/index.ts";
import { rano } from "./rano/index.ts";
import { rch } from "./rch/index.ts";
import { ru } from "./ru/index.ts";
import { defaultRules } from "./rules/index.ts";
import { sysmoni } from "./sysmoni/index.ts";
import { sysprobe } from "./sysprobe/index.ts";

/**
 * What a vc.config.jsonc may name.
 * @example "collectors": ["sysprobe", { "name": "beads", "options": { "intervalSeconds": 300 } }]
 */
export const catalog: ConfigCatalog = {
  collectors: {
    sysprobe,
    sysmoni,
    ntm,
    ntm_attention: ntmAttention,
    caut,
    caut_cost: cautCost,
    caam,
    cass,
    mcp_agent_mail: mcpAgentMail,
    dcg,
    rano,
    ru,
    rch,
    pt,
    beads,
    afsc,
    cloud_benchmarker: cloudBenchmarker,
  },
  channels: { "alerts.jsonl": alertsJsonl, stdout: stdoutChannel, webhook, "agent-mail": agentMail, desktop },
  rules: defaultRules,
};
