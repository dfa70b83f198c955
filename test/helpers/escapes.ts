// Hostile strings a tool (or a remote machine) can put in what vc collects: terminal escape
// sequences of every family, 7- and 8-bit, C0 and C1 controls, bidi controls. Used by the
// sanitizer's tests, the CLI output tests and the reliability benchmark.

/** Each entry: a name and a string with visible text around the hostile part. */
export const ESCAPE_CORPUS: readonly (readonly [string, string])[] = [
  ["osc title bel", "a\x1b]0;pwned\x07b"],
  ["osc title st", "a\x1b]2;pwned\x1b\\b"],
  ["osc 52 clipboard", "a\x1b]52;c;cHduZWQ=\x07b"],
  ["osc 8 hyperlink", "a\x1b]8;;http://evil.example\x07click\x1b]8;;\x07b"],
  ["csi clear", "a\x1b[2J\x1b[Hb"],
  ["csi sgr", "a\x1b[31;1mred\x1b[0mb"],
  ["csi private", "a\x1b[?1049hb"],
  ["c1 csi", "a\u009b2Jb"],
  ["c1 osc", "a\u009d0;pwned\u009cb"],
  ["c1 osc bel", "a\u009d52;c;eA==\x07b"],
  ["dcs", "a\x1bP1$qm\x1b\\b"],
  ["c1 dcs", "a\u0090q#0;2;0;0;0\u009cb"],
  ["apc", "a\x1b_payload\x1b\\b"],
  ["pm and sos", "a\x1b^pm\x1b\\\x1bXsos\x1b\\b"],
  ["ris reset", "a\x1bcb"],
  ["charset", "a\x1b(0b"],
  ["keypad", "a\x1b=b"],
  ["lone esc", "a\x1bb"],
  ["unterminated osc", "a\x1b]0;never ends"],
  ["unterminated csi", "a\x1b[12"],
  ["c0 controls", "a\x00\x01\x07\x08\x0b\x0c\x0e\x1a\x1fb"],
  ["carriage return", "a\rb"],
  ["del", "a\x7fb"],
  ["c1 controls", "a\u0080\u0085\u008d\u0094\u009fb"],
  ["bidi override", "a\u202eb"],
  ["bidi embeddings", "a\u202a\u202b\u202c\u202db"],
  ["bidi isolates", "a\u2066\u2067\u2068\u2069b"],
  ["bidi marks", "a\u200e\u200f\u061cb"],
  ["line separators", "a\u2028\u2029b"],
  ["trojan source", "ok /*\u202e } \u2066if (admin)\u2069 \u2066*/ b"],
];

/** One string holding every entry of the corpus. */
export const ALL_ESCAPES = ESCAPE_CORPUS.map(([, s]) => s).join(" ");

/** Any character a terminal acts on: C0 but tab and newline, DEL, C1, bidi controls, line separators. */
export const UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;
export const UNSAFE_ALL = new RegExp(UNSAFE.source, "g");

/** How many unsafe characters a text holds. */
export function countUnsafe(text: string): number {
  return text.match(UNSAFE_ALL)?.length ?? 0;
}
