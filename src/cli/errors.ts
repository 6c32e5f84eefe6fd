/**
 * How errors become messages and exit codes. One paragraph, no stack trace (XEKS_DEBUG=1 adds it).
 */
import { InputError, OperationError } from "../errors.js";

export const EXIT_OK = 0;
export const EXIT_FAIL = 1;
export const EXIT_INPUT = 2;

/** Format an error for stderr and choose the exit code. */
export function describeError(err: unknown): { message: string; exitCode: number } {
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
