/** Collects chunks up to `limit` bytes, counting (not keeping) the rest. */
export function createCappedBuffer(limit: number) {
  const parts: Uint8Array[] = [];
  let kept = 0;
  let total = 0;
  let truncated = false;
  return {
    /** Adds a chunk; true when this chunk went past the limit (the moment to stop the writer). */
    push(chunk: Uint8Array): boolean {
      total += chunk.byteLength;
      if (truncated) return false;
      if (kept + chunk.byteLength > limit) {
        parts.push(chunk.subarray(0, limit - kept));
        kept = limit;
        truncated = true;
        return true;
      }
      parts.push(chunk);
      kept += chunk.byteLength;
      return false;
    },
    get total() {
      return total;
    },
    get truncated() {
      return truncated;
    },
    bytes: () => concat(parts, kept),
  };
}

/**
 * Reads a byte stream, keeping up to `limit` bytes; reports how many there were and whether it
 * was cut. Past `limit` it stops at once, or — with a larger `drainTo` — reads on, counting and
 * dropping, until `drainTo` bytes (a noisy stderr is not a flood; an endless one is). Either way
 * `onOverflow` is called when it stops for size. `stop` ends the read early (and closes the
 * stream): a pipe a daemonized grandchild still holds never reaches its end.
 */
export async function readCapped(
  stream: ReadableStream<Uint8Array> | null | undefined,
  limit: number,
  onOverflow: () => void,
  stop?: AbortSignal,
  drainTo = limit,
): Promise<{ bytes: Uint8Array; total: number; truncated: boolean }> {
  const buf = createCappedBuffer(limit);
  if (!stream) return { bytes: new Uint8Array(), total: 0, truncated: false };
  const reader = stream.getReader();
  const cancel = () => void reader.cancel().catch(() => {});
  if (stop?.aborted) cancel();
  stop?.addEventListener("abort", cancel, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buf.push(value);
      if (buf.total > drainTo) {
        onOverflow();
        break;
      }
    }
  } catch {
    // The stream closes abruptly when the process is killed: what was read stands.
  } finally {
    stop?.removeEventListener("abort", cancel);
    cancel();
  }
  return { bytes: buf.bytes(), total: buf.total, truncated: buf.truncated };
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
