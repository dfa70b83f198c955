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

/**
 * How many colours a terminal shows: 24-bit, the xterm 256, the ANSI 16, or none at all
 * (NO_COLOR, a dumb terminal: attributes only, the selection in reverse video).
 */
export type ColorDepth = "truecolor" | "256" | "16" | "none";

/** What terminal-kit detected of the terminal (`term.support`). */
export interface TermSupport {
  trueColor?: boolean;
  "256colors"?: boolean;
}

/**
 * The colour depth to draw with: none when NO_COLOR is set (and not empty) or TERM is dumb;
 * 24-bit only when terminal-kit or COLORTERM says so; 256 when terminal-kit, TERM or COLORTERM
 * says so; else the ANSI 16.
 * @example colorDepth(process.env, term.support) // "256" in tmux with TERM=screen-256color
 */
export function colorDepth(env: Record<string, string | undefined> = process.env, support?: TermSupport): ColorDepth {
  const term = env.TERM ?? "";
  const colorterm = (env.COLORTERM ?? "").toLowerCase();
  if (env.NO_COLOR || term === "dumb") return "none";
  if (support?.trueColor || colorterm === "truecolor" || colorterm === "24bit") return "truecolor";
  if (support?.["256colors"] || /256/.test(term) || /256/.test(colorterm)) return "256";
  return "16";
}

const dist2 = (a: Rgb, b: Rgb) => (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2 + (a[2] - b[2]) ** 2;
const cubeLevels = [0, 95, 135, 175, 215, 255];

/** The nearest of the xterm 256 colours (the 6×6×6 cube or the 24 greys; never 0–15, whose look the user's palette decides). */
export function ansi256(c: Rgb): number {
  const level = (v: number) => (v < 48 ? 0 : v < 115 ? 1 : Math.min(5, Math.floor((v - 35) / 40)));
  const [r, g, b] = [level(c[0]), level(c[1]), level(c[2])];
  const cube: Rgb = [cubeLevels[r]!, cubeLevels[g]!, cubeLevels[b]!];
  const grey = Math.max(0, Math.min(23, Math.round(((c[0] + c[1] + c[2]) / 3 - 8) / 10)));
  const greyRgb: Rgb = [8 + grey * 10, 8 + grey * 10, 8 + grey * 10];
  return dist2(c, cube) <= dist2(c, greyRgb) ? 16 + 36 * r + 6 * g + b : 232 + grey;
}

// xterm's default ANSI 16, for colours the palette below does not name.
const ansi16Rgb: readonly Rgb[] = [
  [0, 0, 0],
  [205, 0, 0],
  [0, 205, 0],
  [205, 205, 0],
  [0, 0, 238],
  [205, 0, 205],
  [0, 205, 205],
  [229, 229, 229],
  [127, 127, 127],
  [255, 0, 0],
  [0, 255, 0],
  [255, 255, 0],
  [92, 92, 255],
  [255, 0, 255],
  [0, 255, 255],
  [255, 255, 255],
];

// The scheme on 16 colours, chosen rather than computed (the nearest of 16 turns every dark
// background into black and the selection invisible): [as text, as background], ANSI indexes.
// Bars on blue, the selection black on white, the active tab and STALE black on cyan / yellow.
const ansi16Scheme = new Map<Rgb, readonly [number, number]>([
  [colors.bgPrimary, [0, 0]],
  [colors.bgSecondary, [4, 4]],
  [colors.bgSelected, [7, 7]],
  [colors.text, [7, 7]],
  [colors.dim, [8, 8]],
  [colors.accent, [12, 6]],
  [colors.healthy, [2, 2]],
  [colors.warning, [11, 3]],
  [colors.critical, [9, 1]],
  [colors.claude, [3, 3]],
  [colors.codex, [6, 6]],
  [colors.gemini, [12, 4]],
]);

/** The nearest of the ANSI 16 colours (an index 0–15), or the scheme's choice for the theme's own colours. */
export function ansi16(c: Rgb, as: "fg" | "bg" = "fg"): number {
  const chosen = ansi16Scheme.get(c);
  if (chosen) return chosen[as === "fg" ? 0 : 1];
  let best = 0;
  for (let i = 1; i < 16; i++) if (dist2(c, ansi16Rgb[i]!) < dist2(c, ansi16Rgb[best]!)) best = i;
  return best;
}

const lightAnsi = new Set([2, 3, 6, 7, 10, 11, 12, 13, 14, 15]);

/**
 * The SGR parameters of a style at a colour depth (after a reset): 24-bit `38;2;…`, 256 `38;5;n`,
 * 16 `3x/9x` and `4x/10x`, and for none only bold, faint and reverse video — a highlighted
 * background (the selection, the active tab, STALE) becomes reverse video, dim text faint.
 */
export function styleSgr(st: Style, depth: ColorDepth): string {
  const attrs = [st.bold ? "1" : "", st.inverse ? "7" : ""];
  switch (depth) {
    case "truecolor":
      return [...attrs, `38;2;${st.fg.join(";")}`, `48;2;${st.bg.join(";")}`].filter(Boolean).join(";");
    case "256":
      return [...attrs, `38;5;${ansi256(st.fg)}`, `48;5;${ansi256(st.bg)}`].filter(Boolean).join(";");
    case "16": {
      const bg = ansi16(st.bg, "bg");
      let fg = ansi16(st.fg, "fg");
      if (fg === bg) fg = lightAnsi.has(bg) ? 0 : 15; // never text in its background's colour
      const code = (i: number, base: number) => (i < 8 ? base + i : base + 60 + i - 8);
      return [...attrs, String(code(fg, 30)), String(code(bg, 40))].filter(Boolean).join(";");
    }
    case "none": {
      const highlighted = st.inverse || (st.bg !== colors.bgPrimary && st.bg !== colors.bgSecondary);
      return [st.bold ? "1" : "", st.fg === colors.dim && !highlighted ? "2" : "", highlighted ? "7" : ""].filter(Boolean).join(";");
    }
  }
}
