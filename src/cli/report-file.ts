/**
 * `--report FILE.html`: checked before any work (a bad path is invalid input, exit 2, and costs nothing),
 * written whole or not at all (a temporary file beside it, then rename), by the rules of src/files.
 */
import { redact } from "../aws/redact.js";
import { checkWriteTarget, type WriteOptions, writeFileAtomic } from "../files/index.js";

export interface ReportFile {
  path: string;
  /** Write the page and move it into place (the rules of src/files are checked again). */
  write(html: string): void;
  /** Nothing to clean any more (no file is reserved); kept so callers stay unchanged. */
  discard(): void;
}

const REPORT: WriteOptions = {
  field: "--report",
  what: "the report",
  mode: 0o644,
  hint: "name a new or existing regular .html file in a writable directory, not an input of the command",
};

/**
 * Check `path` for a report before any work (src/files `checkWriteTarget`): not a directory, FIFO, device or
 * socket, not read-only, not a file the command reads (the topology: load it, or `declareInput` it, first),
 * in a directory where a file can be created. InputError (exit 2) naming `--report`.
 */
export function reserveReportFile(path: string): ReportFile {
  checkWriteTarget(path, REPORT);
  return {
    path,
    write(html: string) {
      // The page carries AWS text (link summaries, evidence): redacted like the terminal (src/aws/redact.ts).
      writeFileAtomic(path, redact(html), REPORT);
    },
    discard() {},
  };
}
