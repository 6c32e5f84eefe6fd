/**
 * How errors become messages and exit codes. One paragraph, no stack trace (XEKS_DEBUG=1 adds it).
 */
import { InputError, OperationError } from "../errors.js";

export const EXIT_OK = 0;
export const EXIT_FAIL = 1;
export const EXIT_INPUT = 2;

/**
 * Control characters (C0 but newline and tab, DEL, C1) and bidirectional overrides (U+202A-U+202E, U+2066-U+2069)
 * that a hostile file can put in a key or a value: written as `\u{...}` so that an error message cannot move the
 * cursor, recolour the terminal or reorder what the user reads.
 */
function invisible(code: number): boolean {
  return (
    (code <= 0x1f && code !== 0x0a && code !== 0x09) ||
    (code >= 0x7f && code <= 0x9f) ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

/** `text` with every such character written as `\u{HEX}`. */
export function visible(text: string): string {
  let out = "";
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    out += invisible(code) ? `\\u{${code.toString(16)}}` : ch;
  }
  return out;
}

/** Format an error for stderr and choose the exit code; control characters in it are made visible. */
export function describeError(err: unknown): { message: string; exitCode: number } {
  const d = describe(err);
  return { ...d, message: visible(d.message) };
}

function describe(err: unknown): { message: string; exitCode: number } {
  if (err instanceof InputError) {
    const lines = [`xeks: ${err.message}`];
    for (const issue of err.issues) {
      const where =
        err.file && issue.line !== undefined ? `${err.file}:${issue.line}:${issue.column ?? 1}: ` : "";
      const path = issue.path ? `${issue.path}: ` : "";
      lines.push(`  ${where}${path}${issue.message}`);
    }
    return { message: lines.join("\n"), exitCode: EXIT_INPUT };
  }
  if (err instanceof OperationError) {
    return { message: `xeks: ${err.message}${err.hint ? `\n  ${err.hint}` : ""}`, exitCode: EXIT_FAIL };
  }
  const e = err as Error;
  const text = e?.message ?? String(err);
  return { message: `xeks: ${text}`, exitCode: EXIT_FAIL };
}

/** Print the error and set the exit code. */
export function reportError(err: unknown): void {
  const { message, exitCode } = describeError(err);
  process.stderr.write(`${message}\n`);
  if (process.env.XEKS_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exitCode = exitCode;
}
