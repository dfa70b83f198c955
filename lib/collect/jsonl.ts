/** What `parseJsonLines` found in some bytes of JSON Lines. */
export interface JsonLinesResult {
  values: unknown[];
  /** Lines that are not JSON: byte offset (from the start of the input) and the parser's message. */
  bad: { offset: number; error: string }[];
  /** Bytes consumed: everything up to the last complete line. A cursor resumes here. */
  consumed: number;
}

const NL = 0x0a;

/**
 * Parses JSON Lines with Bun's native parser, skipping (and reporting) lines that are not JSON.
 * Only complete lines count: a partial last line (a writer mid-append) is left for next time.
 * @example const { values, bad, consumed } = parseJsonLines(await exec.readRange(path, offset, size))
 */
export function parseJsonLines(input: Uint8Array | string): JsonLinesResult {
  const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
  const end = bytes.lastIndexOf(NL) + 1;
  const values: unknown[] = [];
  const bad: JsonLinesResult["bad"] = [];
  let pos = 0;
  while (pos < end) {
    const r = Bun.JSONL.parseChunk(bytes, pos, end);
    for (const v of r.values) values.push(v);
    if (!r.error) break;
    // Parsing stops after the last good value: the bad line is the next one that is not blank.
    let lineStart = r.read;
    while (lineStart < end && (bytes[lineStart] === NL || bytes[lineStart] === 0x20 || bytes[lineStart] === 0x0d || bytes[lineStart] === 0x09)) lineStart++;
    if (lineStart >= end) break;
    const nl = bytes.indexOf(NL, lineStart);
    bad.push({ offset: lineStart, error: r.error.message });
    pos = nl === -1 || nl >= end ? end : nl + 1;
  }
  return { values, bad, consumed: end };
}
