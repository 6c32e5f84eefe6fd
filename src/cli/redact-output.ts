/**
 * The one place where what the CLI writes to the terminal is redacted: `installOutputRedaction` wraps
 * `process.stdout.write` and `process.stderr.write`, so every byte written through them (xeks's own messages,
 * the deploy live display and progress lines, toolkit-lib and SDK text, XEKS_DEBUG stack traces, the
 * warnings bin/xeks passes on) goes through `redact` (src/aws/redact.ts) first. `xeks token` does not come
 * through here (bin/xeks runs its bundle directly): it redacts its stderr itself and prints the token on stdout.
 *
 * Redaction works per write call: a secret split across two writes would escape it. xeks writes whole
 * messages and lines, and so do the libraries whose text reaches the terminal (console.*, toolkit-lib's IoHost
 * goes through xeks's events).
 */
import { redact } from "../aws/redact.js";

const installed = new WeakSet<NodeJS.WriteStream>();

type Write = NodeJS.WriteStream["write"];

/** Text encodings a string chunk may be given in; other encodings (hex, base64) are passed on untouched. */
const TEXT_ENCODINGS = new Set([undefined, "utf8", "utf-8", "ascii", "latin1", "binary"]);

/** The chunk, redacted; the same chunk when there was nothing to redact. */
export function redactChunk(chunk: unknown, encoding?: BufferEncoding): unknown {
  if (typeof chunk === "string") {
    return TEXT_ENCODINGS.has(encoding?.toLowerCase()) ? redact(chunk) : chunk;
  }
  if (chunk instanceof Uint8Array) {
    const text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("utf8");
    const out = redact(text);
    return out === text ? chunk : Buffer.from(out, "utf8");
  }
  return chunk;
}

/**
 * Wrap `write` of each stream (default process.stdout and process.stderr) with redaction. Idempotent; the
 * streams keep working as before (same return value, callbacks, encodings).
 */
export function installOutputRedaction(
  streams: NodeJS.WriteStream[] = [process.stdout, process.stderr],
): void {
  for (const stream of streams) {
    if (installed.has(stream)) continue;
    installed.add(stream);
    const original = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    const write = (chunk: unknown, ...rest: unknown[]): boolean => {
      const encoding = typeof rest[0] === "string" ? (rest[0] as BufferEncoding) : undefined;
      return original(redactChunk(chunk, encoding), ...rest);
    };
    stream.write = write as Write;
  }
}
