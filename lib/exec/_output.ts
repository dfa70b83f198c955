/** Reads a byte stream up to `limit` bytes; reports how many there were and whether it was cut. */
export async function readCapped(
  stream: ReadableStream<Uint8Array> | null | undefined,
  limit: number,
  onOverflow: () => void,
): Promise<{ bytes: Uint8Array; total: number; truncated: boolean }> {
  const parts: Uint8Array[] = [];
  let kept = 0;
  let total = 0;
  let truncated = false;
  if (!stream) return { bytes: new Uint8Array(), total, truncated };
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (truncated) continue;
      if (kept + value.byteLength > limit) {
        parts.push(value.subarray(0, limit - kept));
        kept = limit;
        truncated = true;
        onOverflow();
        break;
      }
      parts.push(value);
      kept += value.byteLength;
    }
  } catch {
    // The stream closes abruptly when the process is killed: what was read stands.
  } finally {
    reader.cancel().catch(() => {});
  }
  return { bytes: concat(parts, kept), total, truncated };
}

export function concat(parts: readonly Uint8Array[], size = parts.reduce((n, p) => n + p.byteLength, 0)): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

const strict = new TextDecoder("utf-8", { fatal: true });
const lenient = new TextDecoder("utf-8");

/** Text of some bytes; bytes that are not UTF-8 become U+FFFD and are reported. */
export function decodeUtf8(bytes: Uint8Array, cut = false): { text: string; invalid: boolean } {
  try {
    return { text: strict.decode(bytes), invalid: false };
  } catch {
    // A cut can split a multibyte character: that alone is not invalid input.
    if (cut) {
      for (let back = 1; back <= 3 && back <= bytes.byteLength; back++) {
        try {
          return { text: strict.decode(bytes.subarray(0, bytes.byteLength - back)), invalid: false };
        } catch {}
      }
    }
    return { text: lenient.decode(bytes), invalid: true };
  }
}
