// The plan's colour scheme (Appendix C): deep-space backgrounds, status and provider colours.

/** A colour as red, green, blue (0–255). */
export type Rgb = readonly [number, number, number];

/** How a run of text is drawn. Styles are shared constants, so runs compare by identity. */
export interface Style {
  fg: Rgb;
  bg: Rgb;
  bold?: boolean;
  inverse?: boolean;
}

export const colors = {
  bgPrimary: [13, 17, 23],
  bgSecondary: [22, 27, 34],
  bgSelected: [48, 54, 61],
  text: [201, 209, 217],
  dim: [110, 118, 129],
  accent: [88, 166, 255],
  healthy: [63, 185, 80],
  warning: [210, 153, 34],
  critical: [248, 81, 73],
  claude: [217, 119, 87],
  codex: [16, 163, 127],
  gemini: [66, 133, 244],
} as const satisfies Record<string, Rgb>;

const s = (fg: Rgb, bg: Rgb = colors.bgPrimary, extra: Partial<Style> = {}): Style => ({ fg, bg, ...extra });

/** The styles the frame uses. */
export const styles = {
  text: s(colors.text),
  dim: s(colors.dim),
  title: s(colors.accent, colors.bgPrimary, { bold: true }),
  bar: s(colors.text, colors.bgSecondary),
  barDim: s(colors.dim, colors.bgSecondary),
  barBold: s(colors.text, colors.bgSecondary, { bold: true }),
  tab: s(colors.dim, colors.bgSecondary),
  tabActive: s(colors.bgPrimary, colors.accent, { bold: true }),
  selected: s(colors.text, colors.bgSelected, { bold: true }),
  healthy: s(colors.healthy),
  warning: s(colors.warning),
  critical: s(colors.critical, colors.bgPrimary, { bold: true }),
  barHealthy: s(colors.healthy, colors.bgSecondary, { bold: true }),
  barWarning: s(colors.warning, colors.bgSecondary, { bold: true }),
  barCritical: s(colors.critical, colors.bgSecondary, { bold: true }),
  stale: s(colors.bgPrimary, colors.warning, { bold: true }),
  overlay: s(colors.text, colors.bgSecondary),
  overlayTitle: s(colors.accent, colors.bgSecondary, { bold: true }),
  claude: s(colors.claude),
  codex: s(colors.codex),
  gemini: s(colors.gemini),
} as const satisfies Record<string, Style>;

/** The style for a severity (ok/low → healthy, medium/high → warning, critical → critical). */
export function severityStyle(severity: string | null | undefined, onBar = false): Style {
  if (severity === "critical") return onBar ? styles.barCritical : styles.critical;
  if (severity === "high" || severity === "medium" || severity === "warning") return onBar ? styles.barWarning : styles.warning;
  if (severity === "ok" || severity === "low" || severity === "info") return onBar ? styles.barHealthy : styles.healthy;
  return onBar ? styles.barDim : styles.dim;
}

/** The style for a provider's name (claude, codex/openai, gemini/google). */
export function providerStyle(provider: string | null | undefined): Style {
  const p = (provider ?? "").toLowerCase();
  if (p.includes("claude") || p.includes("anthropic")) return styles.claude;
  if (p.includes("codex") || p.includes("openai") || p.includes("gpt")) return styles.codex;
  if (p.includes("gemini") || p.includes("google")) return styles.gemini;
  return styles.text;
}
