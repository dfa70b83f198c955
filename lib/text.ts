// Untrusted text (anything a collector read, a tool printed, a remote machine sent) on its way to
// a person's terminal or a program's JSON. One sanitizer for every human output, one escaper for
// every machine-readable one.

// Escape sequences, 7-bit and 8-bit: CSI (ESC [ / U+009B), OSC (ESC ] / U+009D, ended by BEL or
// ST; OSC 52 writes the clipboard), DCS, SOS, PM and APC (ESC P X ^ _ / U+0090 U+0098 U+009E
// U+009F, ended by ST), then any other two-byte or nF escape (ESC ( B …).
const SEQUENCE = new RegExp(
  [
    "(?:\\x1b\\[|\\x9b)[\\x30-\\x3f]*[\\x20-\\x2f]*[\\x40-\\x7e]?",
    "(?:\\x1b\\]|\\x9d)[^\\x07\\x1b\\x9c]*(?:\\x07|\\x1b\\\\|\\x9c)?",
    "(?:\\x1b[PX^_]|[\\x90\\x98\\x9e\\x9f])[^\\x1b\\x9c]*(?:\\x1b\\\\|\\x9c)?",
    "\\x1b[\\x20-\\x2f]*[\\x30-\\x7e]?",
  ].join("|"),
  "g",
);
// C0 controls but tab and newline, DEL, C1 controls.
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;
// Bidirectional controls (they reorder what follows them on screen: "Trojan Source") and the
// Unicode line and paragraph separators.
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

/**
 * Removes terminal escape sequences (CSI, OSC, DCS …, 7- and 8-bit), control characters (C0 but
 * `\n` and `\t`, DEL, C1) and bidi controls from untrusted text. Every line vc prints for a person
 * from collected text goes through here.
 * @example stripControl("ok\x1b]0;pwned\x07\u202e") // "ok"
 */
export function stripControl(s: string): string {
  return s.replace(SEQUENCE, "").replace(CONTROL, "").replace(BIDI, "");
}

/** Untrusted text as one safe line: stripped, with tabs, newlines and carriage returns as spaces. */
export function oneLine(s: string): string {
  return stripControl(s.replace(/[\t\n\r\v\f]+/g, " "));
}

// What JSON.stringify leaves raw inside strings although a terminal acts on it: DEL, C1 controls,
// bidi controls, line and paragraph separators.
const JSON_RAW = /[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

/**
 * JSON text with every control a terminal would act on written as a `\uXXXX` escape: the same
 * value to a parser, inert on a screen (`cat`ed robot output, a log). JSON.stringify already
 * escapes C0; this adds DEL, C1 and bidi controls. Such characters only occur inside strings, so
 * the replacement never touches the structure.
 * @example escapeJsonControls(JSON.stringify({ m: "\u202e" })) // '{"m":"\\u202e"}'
 */
export function escapeJsonControls(json: string): string {
  return json.replace(JSON_RAW, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** `JSON.stringify` for output a terminal may show: controls escaped (see escapeJsonControls). */
export function safeJson(value: unknown, space?: number): string {
  return escapeJsonControls(JSON.stringify(value, null, space));
}
