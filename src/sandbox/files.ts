/**
 * The sandbox directory's files, written so that nothing in the directory redirects a write (src/sandbox/up.ts):
 * - the directory must be a real directory (not a symbolic link, file or FIFO), owned by the current user and not
 *   writable by group or others (checkSandboxDir), so that only the user can have put links in it;
 * - every file is written atomically: a new temporary file in the directory (O_CREAT|O_EXCL|O_NOFOLLOW, mode
 *   0600), then renamed over the name (a symbolic link at the name is replaced, never followed);
 * - logs are opened for appending with O_NOFOLLOW (a link at the name is an error);
 * - a state file read back must be a regular file owned by the user.
 * Errors: InputError naming `--dir` for a directory or file that fails a check (exit 2).
 */
import { randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  lstatSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors.js";

/** O_NOFOLLOW where the platform has it (Linux, macOS); 0 elsewhere. */
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/**
 * The file `up` writes first into a sandbox directory and `down` keeps: a non-empty directory without it (and
 * without state.json) is not the sandbox's, and `up` refuses it.
 */
export const SANDBOX_MARKER = ".xeks-sandbox-dir";

function errCode(err: unknown): string {
  return String((err as NodeJS.ErrnoException)?.code ?? (err as Error)?.message ?? err);
}

function kindOf(st: import("node:fs").Stats): string {
  if (st.isFile()) return "a regular file";
  if (st.isFIFO()) return "a FIFO";
  if (st.isSocket()) return "a socket";
  if (st.isSymbolicLink()) return "a symbolic link";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device";
  return "not a directory";
}

/** An InputError about the sandbox directory, on the flag `--dir`. */
export function dirError(dir: string, what: string, fix: string): InputError {
  return new InputError(`sandbox directory ${dir} ${what}`, [{ path: "--dir", message: fix }]);
}

/**
 * Check the sandbox directory `dir` (an absolute path). Returns false when nothing exists at `dir`, true when it
 * is a directory that passes: a real directory (lstat: a symbolic link is refused), owned by the current user
 * (process.getuid; not checked where there is none), mode without group or other write bits. Errors: InputError
 * (`--dir`) otherwise, and when `dir` cannot be examined (ENOTDIR, EACCES).
 */
export function checkSandboxDir(dir: string): boolean {
  let st: import("node:fs").Stats;
  try {
    st = lstatSync(dir);
  } catch (err) {
    if (errCode(err) === "ENOENT") return false;
    throw dirError(dir, `cannot be examined (${errCode(err)})`, "name a directory of yours, or a new path");
  }
  if (!st.isDirectory())
    throw dirError(
      dir,
      `is ${kindOf(st)}, not a directory`,
      "name a directory of yours, or a path that does not exist yet (the sandbox does not follow links)",
    );
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid)
    throw dirError(
      dir,
      `is owned by uid ${st.uid}, not by you (uid ${uid})`,
      "name a directory you own, or a path that does not exist yet",
    );
  if ((st.mode & 0o022) !== 0)
    throw dirError(
      dir,
      `is writable by group or others (mode ${(st.mode & 0o777).toString(8)})`,
      "remove those bits (chmod go-w DIR) or name another directory",
    );
  return true;
}

/**
 * Write `text` to `dir/name` atomically: a new temporary file in `dir` created with O_CREAT|O_EXCL|O_NOFOLLOW
 * (mode 0600), renamed over `name`. Returns the path written. Errors: the fs error (the temporary file is removed).
 */
export function writeDirFile(dir: string, name: string, text: string): string {
  const file = join(dir, name);
  const tmp = join(dir, `.${name}.${randomBytes(6).toString("hex")}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW, 0o600);
  try {
    writeFileSync(fd, text);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  return file;
}

/**
 * Open `dir/name` for appending (created mode 0600), never through a symbolic link. Returns the descriptor.
 * Errors: InputError (`--dir`) when the name is a symbolic link or not a regular file.
 */
export function openLog(dir: string, name: string): number {
  const file = join(dir, name);
  try {
    return openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | O_NOFOLLOW, 0o600);
  } catch (err) {
    const code = errCode(err);
    throw dirError(
      dir,
      `holds ${name}, which cannot be opened without following a link (${code})`,
      `remove ${file} and run the command again`,
    );
  }
}

/**
 * The text of `dir/name` when it exists, undefined when not. Errors: InputError (`--dir`) when it is a symbolic
 * link, not a regular file, or not owned by the current user.
 */
export function readOwnFile(dir: string, name: string): string | undefined {
  const file = join(dir, name);
  let st: import("node:fs").Stats;
  try {
    st = lstatSync(file);
  } catch (err) {
    if (errCode(err) === "ENOENT") return undefined;
    throw dirError(dir, `holds ${name}, which cannot be examined (${errCode(err)})`, `remove ${file}`);
  }
  if (!st.isFile())
    throw dirError(dir, `holds ${name}, which is ${kindOf(st)}`, `remove ${file}: xeks writes it as a file`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid)
    throw dirError(dir, `holds ${name}, owned by uid ${st.uid}, not by you (uid ${uid})`, `remove ${file}`);
  const fd = openSync(file, constants.O_RDONLY | O_NOFOLLOW);
  try {
    return readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
}
