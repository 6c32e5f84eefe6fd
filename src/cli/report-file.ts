/**
 * `--report FILE.html`: checked before any work (a bad path is invalid input, exit 2, and costs nothing),
 * written whole or not at all (a private temporary file beside it, then rename).
 */
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, openSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { InputError, OperationError } from "../errors.js";

export interface ReportFile {
  path: string;
  /** Write the page and move it into place. */
  write(html: string): void;
  /** Remove the reserved temporary file (when the command fails before writing). */
  discard(): void;
}

/** Reserve `path` for a report: its directory must be writable and the path must not be a directory. */
export function reserveReportFile(path: string): ReportFile {
  if (existsSync(path) && statSync(path).isDirectory()) {
    throw new InputError(`cannot write the report ${path}: it is a directory`, [
      { path: "--report", message: "name a file such as report.html" },
    ]);
  }
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  let fd: number;
  try {
    fd = openSync(tmp, "wx", 0o644);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    throw new InputError(`cannot write the report ${path} (${code})`, [
      { path: "--report", message: "name a new or existing .html file in a writable directory" },
    ]);
  }
  let done = false;
  return {
    path,
    write(html: string) {
      try {
        writeSync(fd, html);
        closeSync(fd);
        done = true;
        renameSync(tmp, path);
      } catch (err) {
        if (!done) closeSync(fd);
        rmSync(tmp, { force: true });
        done = true;
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "EISDIR" || code === "ENOTDIR") {
          throw new InputError(`cannot write the report ${path} (${code})`, [
            { path: "--report", message: "name a file, not a directory" },
          ]);
        }
        throw new OperationError(`cannot write the report ${path}: ${(err as Error).message}`);
      }
    },
    discard() {
      if (!done) {
        closeSync(fd);
        done = true;
      }
      rmSync(tmp, { force: true });
    },
  };
}
