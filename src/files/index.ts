/**
 * The user's files: every file the CLI reads from or writes to a path the user named (the topology, the
 * kubeconfig, `--report`, discover's `--out`) goes through this module. The rules (docs/security.md, "What
 * xeks reads", "What xeks writes", "Symlinks"; tested in test/files.test.ts):
 *
 * Reads: regular files only. The file is opened with O_RDONLY|O_NONBLOCK|O_NOCTTY and checked with fstat
 * before a byte is read, so a FIFO, a device, a socket or a directory is refused (InputError, exit 2) without
 * blocking, and a file larger than the cap of its kind (READ_LIMITS) is refused without being read whole.
 * Every successful read records the file's identity (dev+ino and resolved path) in a per-process registry.
 *
 * Writes: only a regular file is replaced, never a device, FIFO, socket or directory; never a file the same
 * command reads under another flag (the registry, plus inputs declared up front with `declareInput`); never a
 * read-only file (no write bit for anyone: root passes access(W_OK), so the mode bits are looked at); always by
 * atomic rename of a temporary file written in the same directory, keeping the replaced file's mode (and its
 * owner when running as root). Symlinks: a symlink is written through to its target (as kubectl does); a
 * dangling symlink is refused; a symlink in a sticky world-writable directory (such as /tmp) owned by neither
 * this user nor the directory's owner is refused (the kernel's fs.protected_symlinks rule, which a rename to
 * the resolved target would otherwise bypass); a symlink to a device, FIFO or socket follows the device rules.
 * A directory with no write bit for anyone (0555) is refused like a 0444 file, also as root.
 *
 * Temporary files: `.xeks-<tag>-<pid>-<8 hex>.tmp` beside the target (short, so a 255-byte target name has one;
 * `<tag>` names the host and pid namespace: `namespaceTag`).
 * A SIGINT, SIGTERM or SIGHUP during a write lets the write finish or fail whole, removes its temporary file
 * and then re-raises the signal (one listener in this module, installed only while a write is under way). A
 * writer killed by SIGKILL leaves its temporary file: the next write to the same directory removes every such
 * file of this user, of this host and pid namespace, whose pid is no longer alive (`sweepStaleTemps`).
 *
 * Node built-ins only and no import of src/ but src/errors.ts: the token bundle (dist/token.cjs) may use it.
 */
import { createHash, randomBytes } from "node:crypto";
import {
  accessSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  realpathSync,
  renameSync,
  type Stats,
  statfsSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { InputError, OperationError } from "../errors.js";

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Size caps in bytes, per kind of file. A larger file is an InputError (exit 2) naming the cap.
 * - topology: 1 MiB (a topology of hundreds of clients is tens of KiB)
 * - kubeconfig: 16 MiB (kubeconfigs with embedded certificates for many clusters reach a few MiB)
 * - awsConfig: 4 MiB (~/.aws/config and ~/.aws/credentials, read for diagnostics only)
 * - system: 64 KiB (small system files read for diagnostics: /etc/resolv.conf, cloud-init's instance-id)
 */
export const READ_LIMITS = {
  topology: 1 * MiB,
  kubeconfig: 16 * MiB,
  awsConfig: 4 * MiB,
  system: 64 * KiB,
} as const;

/** How a file is named in messages: the flag or field the user gave it with, and what it is. */
export interface FileRole {
  /** The flag or field named in errors (`--report`, `--kubeconfig`, `$KUBECONFIG`, `FILE`). */
  field: string;
  /**
   * What the file is, as it reads after "cannot read " / "cannot write " in messages: "topology file",
   * "the kubeconfig", "the report".
   */
  what: string;
  /** What would be valid, appended to the issue (default: a sentence about regular files). */
  hint?: string;
  /**
   * The file's role for the own-input rule (default: `field`): a write may replace a file this command read
   * under the same role (the kubeconfig, read then merged and written back), never one read under another
   * role. Give it when the field named in messages varies (`--kubeconfig` or `KUBECONFIG`).
   */
  role?: string;
}

/** Options of a read. */
export interface ReadOptions extends FileRole {
  /** Refuse a file larger than this many bytes (one of READ_LIMITS). */
  maxBytes: number;
}

/** Options of a write. */
export interface WriteOptions extends FileRole {
  /** Mode of a new file (default 0o644). A replaced file keeps its own mode, masked by `maxMode`. */
  mode?: number;
  /**
   * The most a replaced file's mode may allow (default 0o7777: kept as it is). The kubeconfig uses 0o600: a
   * group- or world-readable kubeconfig loses those bits when xeks replaces it.
   */
  maxMode?: number;
  /** Create the missing parent directory (and its parents) with this mode (default: do not create: exit 2). */
  createDirMode?: number;
  /** Replace an existing file (default true). When false an existing file is an InputError naming `field`. */
  overwrite?: boolean;
  /** What to say when `overwrite` is false and the file exists (default: "name another file"). */
  existsHint?: string;
  /** fsync the temporary file before the rename (default false). */
  fsync?: boolean;
}

/** One file the command reads (or has declared it will read). */
export interface FileIdentity {
  /** The path as given. */
  path: string;
  /** The resolved path (symlinks followed), or the absolute path when the file does not exist yet. */
  realpath: string;
  /** Device and inode, when the file exists. */
  dev?: number;
  ino?: number;
  /** The flag or field it was read for. */
  field: string;
  /** Its role for the own-input rule (FileRole.role, default the field). */
  role: string;
}

/** The outcome of `checkWriteTarget`: where a write of `path` would land. */
export interface WriteTarget {
  /** The path as given. */
  path: string;
  /** The file that would be replaced or created: `path` with symlinks of its last component followed. */
  target: string;
  /** Whether `target` exists (a regular file, writable). */
  exists: boolean;
  /** The mode a write gives the file: the existing file's (masked by maxMode), else the new-file mode. */
  mode: number;
}

const registry: FileIdentity[] = [];

/** What this process has read or declared it will read (a copy). */
export function recordedInputs(): FileIdentity[] {
  return registry.map((r) => ({ ...r }));
}

/** Forget every recorded input. For tests that run several commands in one process. */
export function resetFileRegistry(): void {
  registry.length = 0;
}

function absolute(path: string): string {
  return resolve(path);
}

function resolvedPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    // Does not exist yet: resolve the directory when it exists.
    try {
      return join(realpathSync(dirname(absolute(path))), basename(path));
    } catch {
      return absolute(path);
    }
  }
}

function record(path: string, field: string, role: string, st: Stats | undefined): void {
  const real = resolvedPath(path);
  const entry: FileIdentity = { path, realpath: real, field, role };
  if (st) {
    entry.dev = st.dev;
    entry.ino = st.ino;
  }
  const same = registry.find(
    (r) => r.role === role && r.realpath === real && r.dev === entry.dev && r.ino === entry.ino,
  );
  if (!same) registry.push(entry);
}

/**
 * Declare, before any work, a file the command WILL read under `field` (the topology argument, say), so that
 * `checkWriteTarget` refuses an output of another flag that names it. A missing file is recorded by path.
 */
export function declareInput(path: string, field: string, role: string = field): void {
  let st: Stats | undefined;
  try {
    st = statSync(path);
  } catch {
    st = undefined;
  }
  record(path, field, role, st);
}

/** A file type in words, for messages. */
export function describeType(st: Stats): string {
  if (st.isFile()) return "a regular file";
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  if (st.isSymbolicLink()) return "a symlink";
  return "not a regular file";
}

function formatBytes(n: number): string {
  if (n >= MiB && n % MiB === 0) return `${n / MiB} MiB`;
  if (n >= KiB && n % KiB === 0) return `${n / KiB} KiB`;
  return `${n} bytes`;
}

/** `hint`: what to do in this one case; else the role's hint, else the general rule. */
function readError(path: string, role: FileRole, why: string, hint?: string): InputError {
  return new InputError(`cannot read ${role.what} ${path}: ${why}`, [
    { path: role.field, message: hint ?? role.hint ?? READ_HINT },
  ]);
}

function writeError(path: string, role: FileRole, why: string, hint?: string): InputError {
  return new InputError(`cannot write ${role.what} ${path}: ${why}`, [
    { path: role.field, message: hint ?? role.hint ?? WRITE_HINT },
  ]);
}

/** Why a path cannot be opened, by errno: the user's input (exit 2), not a failed operation. */
const UNUSABLE: Record<string, string> = {
  ENOENT: "no such file",
  EISDIR: "it is a directory",
  ENOTDIR: "it is under a file, not a directory",
  EACCES: "permission denied for this user",
  EPERM: "operation not permitted for this user",
  ELOOP: "it is a symlink loop",
  ENAMETOOLONG: "the name is too long",
  ENXIO: "it is a device or socket that cannot be opened",
  EROFS: "it is on a read-only file system",
};

/** Read-side wording where it differs. */
const READ_WHY: Record<string, string> = {
  EACCES: "it cannot be read by this user (permission denied)",
  EPERM: "it cannot be read by this user (operation not permitted)",
};

const READ_HINT = "name a regular file (not a FIFO, device, socket or directory) this user may read";

function readFd(fd: number, path: string, opts: ReadOptions): string {
  const st = fstatSync(fd);
  if (!st.isFile()) {
    throw readError(path, opts, `it is ${describeType(st)}, not a regular file`);
  }
  const tooLarge = () =>
    readError(
      path,
      opts,
      `it is larger than ${formatBytes(opts.maxBytes)}, the most xeks reads of this kind of file`,
      `name a file of at most ${formatBytes(opts.maxBytes)}`,
    );
  if (st.size > opts.maxBytes) throw tooLarge();
  // The size may be wrong (files of /proc and /sys) or change while reading: read at most cap + 1 bytes.
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const buf = Buffer.allocUnsafe(Math.min(64 * KiB, opts.maxBytes + 1 - total));
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    chunks.push(buf.subarray(0, n));
    total += n;
    if (total > opts.maxBytes) throw tooLarge();
  }
  record(path, opts.field, opts.role ?? opts.field, st);
  return Buffer.concat(chunks, total).toString("utf8");
}

function readOrMissing(path: string, opts: ReadOptions): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "";
    if (code === "ENOENT") return undefined;
    const why = READ_WHY[code] ?? UNUSABLE[code];
    if (why) throw readError(path, opts, why);
    throw new OperationError(`cannot read ${opts.what} ${path}: ${(err as Error).message}`);
  }
  try {
    return readFd(fd, path, opts);
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? "";
    const why = UNUSABLE[code];
    if (why) throw readError(path, opts, why);
    throw new OperationError(`cannot read ${opts.what} ${path}: ${(err as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

/**
 * Read a user's file as UTF-8 text. A missing file, a FIFO, a device, a socket, a directory, a file larger
 * than `maxBytes`, a file this user may not read: InputError (exit 2) naming the file and `field`, without
 * blocking. An I/O failure (EIO): OperationError (exit 1). Records the file in the registry.
 */
export function readUserFile(path: string, opts: ReadOptions): string {
  const text = readOrMissing(path, opts);
  if (text === undefined) throw readError(path, opts, UNUSABLE.ENOENT as string);
  return text;
}

/** As `readUserFile`, but a missing file (ENOENT) is undefined instead of an error. */
export function readUserFileIfExists(path: string, opts: ReadOptions): string | undefined {
  return readOrMissing(path, opts);
}

/**
 * Best-effort read of a file that only informs a diagnostic (~/.aws/config, /etc/resolv.conf): the text, or
 * undefined for anything but a readable regular file of at most `maxBytes`. Never throws, never blocks, and
 * does not record the file.
 */
export function readOptionalFile(path: string, maxBytes: number): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch {
    return undefined;
  }
  try {
    const before = registry.length;
    const text = readFd(fd, path, { field: "", what: "file", maxBytes });
    registry.length = before;
    return text;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

const WRITE_HINT =
  "name a regular file or a new file in an existing writable directory (not a FIFO, device, socket or directory)";

function uid(): number | undefined {
  return typeof process.geteuid === "function" ? process.geteuid() : undefined;
}

/**
 * Follow the symlinks of the last component of `path` (directories are resolved by the kernel, which applies
 * fs.protected_symlinks itself). Refuses a loop, a dangling symlink, and a symlink the kernel would not let
 * this user follow in a sticky world-writable directory.
 */
function followLinks(path: string, role: FileRole): { target: string; st: Stats | undefined } {
  let current = absolute(path);
  for (let hops = 0; hops < 40; hops++) {
    let st: Stats;
    try {
      st = lstatSync(current);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "";
      if (code === "ENOENT") {
        if (hops > 0) {
          throw writeError(
            path,
            role,
            `it is a dangling symlink (to ${current}, which does not exist)`,
            "create the file the symlink points to, or remove the symlink",
          );
        }
        return { target: current, st: undefined };
      }
      const why = UNUSABLE[code];
      if (why) throw writeError(path, role, why);
      throw new OperationError(`cannot write ${role.what} ${path}: ${(err as Error).message}`);
    }
    if (!st.isSymbolicLink()) return { target: current, st };
    const dir = dirname(current);
    const me = uid();
    if (me !== undefined && st.uid !== me) {
      let dst: Stats | undefined;
      try {
        dst = statSync(dir);
      } catch {
        dst = undefined;
      }
      // fs.protected_symlinks: in a sticky world-writable directory, follow only a link owned by the follower
      // or by the directory's owner.
      if (dst && (dst.mode & 0o1002) === 0o1002 && st.uid !== dst.uid) {
        throw writeError(
          path,
          role,
          `it is a symlink owned by another user (uid ${st.uid}) in the shared directory ${dir}`,
          "name a file in a directory other users cannot write to, or remove the symlink",
        );
      }
    }
    current = resolve(dir, readlinkSync(current));
  }
  throw writeError(path, role, UNUSABLE.ELOOP as string);
}

function conflicts(target: string, st: Stats | undefined, role: string): FileIdentity | undefined {
  const real = resolvedPath(target);
  return registry.find(
    (r) =>
      r.role !== role &&
      (r.realpath === real ||
        (st !== undefined && r.dev !== undefined && r.dev === st.dev && r.ino === st.ino)),
  );
}

function checkTarget(path: string, opts: WriteOptions): WriteTarget {
  const { target, st } = followLinks(path, opts);
  const newMode = (opts.mode ?? 0o644) & 0o7777;
  if (st) {
    if (!st.isFile()) {
      throw writeError(path, opts, `it is ${describeType(st)}; xeks replaces regular files only`);
    }
    if (opts.overwrite === false) {
      throw writeError(path, opts, "it exists", opts.existsHint ?? "name another file");
    }
    if ((st.mode & 0o222) === 0) {
      throw writeError(
        path,
        opts,
        `it is read-only (mode ${(st.mode & 0o7777).toString(8).padStart(4, "0")})`,
        "make it writable (chmod u+w) or name another file",
      );
    }
    if (uid() !== 0) {
      try {
        accessSync(target, constants.W_OK);
      } catch {
        throw writeError(path, opts, "it is not writable by this user", "name a file this user may write");
      }
    }
  }
  const clash = conflicts(target, st, opts.role ?? opts.field);
  if (clash) {
    throw writeError(
      path,
      opts,
      `it is the file this command reads as ${clash.field} (${clash.path})`,
      `name another file for ${opts.field}: xeks never writes over its own input`,
    );
  }
  const dir = dirname(target);
  let dst: Stats | undefined;
  try {
    dst = statSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "";
    if (code !== "ENOENT" || opts.createDirMode === undefined) {
      const why = code === "ENOENT" ? `its directory ${dir} does not exist` : UNUSABLE[code];
      if (why) throw writeError(path, opts, why);
      throw new OperationError(`cannot write ${opts.what} ${path}: ${(err as Error).message}`);
    }
  }
  if (dst && !dst.isDirectory()) {
    throw writeError(path, opts, UNUSABLE.ENOTDIR as string);
  }
  const virtual = dst ? virtualFileSystem(dir) : undefined;
  if (virtual) {
    throw writeError(
      path,
      opts,
      `its directory ${dir} is on ${virtual}, a virtual file system where no file can be created`,
      "name a file on an ordinary file system",
    );
  }
  if (dst && (dst.mode & 0o222) === 0) {
    // As for a read-only file: root may write into a 0555 directory, but its owner said no.
    throw writeError(
      path,
      opts,
      `its directory ${dir} is read-only (mode ${(dst.mode & 0o7777).toString(8).padStart(4, "0")})`,
      "make the directory writable (chmod u+w) or name a file in another directory",
    );
  }
  const mode = st ? st.mode & 0o7777 & (opts.maxMode ?? 0o7777) : newMode;
  return { path, target, exists: st !== undefined, mode };
}

/**
 * Check, before any work, that `path` can be written under the rules of this module, and that a file can be
 * created in its directory (a temporary file is created and removed at once). Call `declareInput` for the
 * command's inputs first. Throws InputError (exit 2) naming `field`; an unexpected I/O failure is an
 * OperationError (exit 1). `writeFileAtomic` checks again when it writes.
 */
export function checkWriteTarget(path: string, opts: WriteOptions): WriteTarget {
  const t = checkTarget(path, opts);
  const dir = dirname(t.target);
  let dirExists = true;
  try {
    statSync(dir);
  } catch {
    dirExists = false; // createDirMode is set (checkTarget refused otherwise): the write creates it
  }
  if (dirExists) {
    const probe = tempName(t.target);
    try {
      closeSync(openSync(probe, "wx", 0o600));
      unlinkSync(probe);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "";
      if (code === "ENOENT") {
        // ENOENT in a directory that exists: a file system that creates no files (/proc, /sys).
        throw writeError(path, opts, noCreateWhy(dir), "name a file on an ordinary file system");
      }
      const why = UNUSABLE[code];
      if (why) {
        throw writeError(
          path,
          opts,
          `its directory ${dir}: ${why}`,
          "name a file in a directory this user may write",
        );
      }
      throw new OperationError(`cannot write ${opts.what} ${path}: ${(err as Error).message}`);
    }
  }
  return t;
}

/** Whether `path` is a directory (symlinks followed); false when it cannot be stat'ed. */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** statfs magic numbers of the kernel's virtual file systems (linux/magic.h PROC_SUPER_MAGIC, SYSFS_MAGIC). */
const VIRTUAL_FS = new Map<number, string>([
  [0x9fa0, "/proc (procfs)"],
  [0x62656572, "/sys (sysfs)"],
]);

/** "/proc (procfs)" or "/sys (sysfs)" when `dir` is on one of them (Linux; undefined elsewhere or on error). */
function virtualFileSystem(dir: string): string | undefined {
  try {
    return VIRTUAL_FS.get(Number(statfsSync(dir).type));
  } catch {
    return undefined;
  }
}

/** Why no file can be created in an existing directory that answers ENOENT to a create (/proc/self, /sys). */
function noCreateWhy(dir: string): string {
  return `no file can be created in its directory ${dir} (a virtual file system such as /proc or /sys)`;
}

/**
 * The temporary file of a write: `.xeks-<pid>-<8 hex>.tmp` in the target's directory. Short whatever the
 * target's name (a 255-byte name, the longest most file systems allow, still has a temporary file); the pid lets
 * a later write tell a dead writer's leftover from a write in flight (`sweepStaleTemps`).
 */
function tempName(target: string): string {
  return join(
    dirname(target),
    `.xeks-${namespaceTag()}-${process.pid}-${randomBytes(4).toString("hex")}.tmp`,
  );
}

let tag: string | undefined;

/**
 * 8 hex digits naming this host and pid namespace (sha256 of the host name and the `/proc/self/ns/pid` link,
 * computed once): the names of temporary files and of plan's staging directories carry it, so that a sweep never
 * takes another container's or host's file in flight for a dead one of its own (two containers sharing a volume
 * are often both pid 1).
 */
export function namespaceTag(): string {
  if (tag === undefined) {
    let ns = "";
    try {
      ns = readlinkSync("/proc/self/ns/pid");
    } catch {
      // not Linux: the host name alone
    }
    tag = createHash("sha256").update(`${hostname()}\0${ns}`).digest("hex").slice(0, 8);
  }
  return tag;
}

/**
 * How long an untagged leftover of an earlier release (a temporary file or a staging directory without
 * `namespaceTag`) must have been left unmodified before a sweep removes it: its writer may be in another pid
 * namespace, where its pid says nothing; no write or synthesis leaves its file untouched for a day.
 */
const UNTAGGED_STALE_MS = 24 * 60 * 60 * 1000;

/**
 * Whether a writer's leftover (a temporary file of this module, a staging directory of `xeks plan`) may be removed:
 * `tag` and `pid` come from its name (`tag` undefined for the untagged names of earlier releases), `st` is its
 * lstat. Yes when it is this user's and its writer is dead: the tag is this host's and pid namespace's
 * (`namespaceTag`) and the pid is no live process; for an untagged name, the pid is no live process here and the
 * leftover was not modified for a day (`UNTAGGED_STALE_MS`).
 */
export function leftoverOfDeadWriter(tag: string | undefined, pid: number, st: Stats): boolean {
  const me = uid();
  if (me !== undefined && st.uid !== me) return false;
  if (tag !== undefined && tag !== namespaceTag()) return false;
  if (pidAlive(pid)) return false;
  return tag !== undefined || Date.now() - st.mtimeMs >= UNTAGGED_STALE_MS;
}

/**
 * A temporary file of this module: `.xeks-<tag>-<pid>-<hex>.tmp`; of earlier releases, `.xeks-<pid>-<hex>.tmp` and
 * `.<target>.xeks-<pid>-<hex>.tmp`.
 */
const TEMP_NAME = /^\.xeks-([0-9a-f]{8})-(\d{1,10})-[0-9a-f]{8}\.tmp$/;
const UNTAGGED_TEMP_NAME = /^\.xeks-(\d{1,10})-[0-9a-f]{8}\.tmp$/;
const OLD_TEMP_SUFFIX = /\.xeks-(\d{1,10})-[0-9a-f]{8}\.tmp$/;

/**
 * Whether a process with this pid exists on this host (EPERM: it exists, owned by another user). This process's
 * own pid counts as dead: its writes and its synthesis are synchronous, so no temporary file or staging
 * directory of its own is in flight when a sweep runs.
 */
function pidAlive(pid: number): boolean {
  if (pid === process.pid) return false; // synchronous writers: nothing of ours is in flight here
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Remove the temporary files a killed writer (SIGKILL, a power cut) left beside `target`: files of the form
 * `.xeks-<tag>-<pid>-<hex>.tmp` in its directory, regular files owned by this user, with this host's and pid
 * namespace's tag and a pid that is not a live process; the untagged forms of earlier releases
 * (`.xeks-<pid>-<hex>.tmp`, `.<target name>.xeks-<pid>-<hex>.tmp`) when their pid is not live here and they were not
 * modified for `UNTAGGED_STALE_MS`. Never throws: a sweep that cannot list or remove leaves the files.
 */
function sweepStaleTemps(target: string): void {
  const dir = dirname(target);
  const oldPrefix = `.${basename(target)}`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const tagged = TEMP_NAME.exec(name);
    const untagged = tagged
      ? null
      : (UNTAGGED_TEMP_NAME.exec(name) ??
        (name.startsWith(oldPrefix) ? OLD_TEMP_SUFFIX.exec(name.slice(oldPrefix.length)) : null));
    if (!tagged && !untagged) continue;
    const path = join(dir, name);
    if (inFlight.has(path)) continue;
    try {
      const st = lstatSync(path);
      const pid = Number(tagged ? tagged[2] : untagged?.[1]);
      if (st.isFile() && leftoverOfDeadWriter(tagged?.[1], pid, st)) unlinkSync(path);
    } catch {
      // gone meanwhile, or not ours to remove
    }
  }
}

/**
 * Signals during a write. Node runs signal listeners between synchronous steps only, and a write is one
 * synchronous step: while one is under way a listener is installed, so a SIGINT, SIGTERM or SIGHUP that
 * arrives meanwhile waits until the target is replaced whole (or left as it was) and the temporary file is
 * gone; then the listener removes any temporary file still listed and re-raises the signal, so the process
 * dies of it as it would have (unless another part of xeks handles that signal). Without the listener the
 * default action would kill the process between the write and the rename and leave the temporary file.
 */
const WRITE_SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
const inFlight = new Set<string>();
let guarded = false;
let generation = 0;

function onWriteSignal(signal: NodeJS.Signals): void {
  for (const tmp of inFlight) {
    try {
      unlinkSync(tmp);
    } catch {
      // renamed or removed already
    }
  }
  inFlight.clear();
  unguard();
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function guard(tmp: string): void {
  generation++;
  inFlight.add(tmp);
  if (guarded) return;
  guarded = true;
  for (const s of WRITE_SIGNALS) process.on(s, onWriteSignal);
}

function unguard(): void {
  if (!guarded) return;
  guarded = false;
  for (const s of WRITE_SIGNALS) process.removeListener(s, onWriteSignal);
}

/**
 * The write is done: drop the listener once node has looked for signals. A signal that arrived during the
 * write is dispatched in the next poll phase; removing the listener before it would lose the signal (neither
 * handled nor fatal). Two turns of setImmediate put a whole poll phase in between.
 */
function unguardSoon(tmp: string): void {
  inFlight.delete(tmp);
  const mine = generation;
  setImmediate(() =>
    setImmediate(() => {
      if (mine === generation && inFlight.size === 0) unguard();
    }),
  );
}

/**
 * Write `data` to `path` whole or not at all: the checks of `checkWriteTarget`, then a temporary file in the
 * target's directory (mode: the replaced file's, else `mode`), optionally fsynced, moved into place by
 * rename (or, with `overwrite: false`, by link, which never replaces a file created meanwhile). Returns the
 * file written (`path` with its symlinks followed). InputError (exit 2) for the rules; OperationError (exit 1)
 * when the disk fails (ENOSPC, EIO).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, opts: WriteOptions): string {
  const t = checkTarget(path, opts);
  const dir = dirname(t.target);
  if (opts.createDirMode !== undefined) {
    try {
      mkdirSync(dir, { recursive: true, mode: opts.createDirMode });
    } catch (err) {
      const why = UNUSABLE[(err as NodeJS.ErrnoException).code ?? ""];
      if (why) throw writeError(path, opts, `cannot create its directory ${dir}: ${why}`);
      throw new OperationError(`cannot create ${dir}: ${(err as Error).message}`);
    }
  }
  sweepStaleTemps(t.target);
  const tmp = tempName(t.target);
  guard(tmp);
  let fd: number | undefined;
  let opened = false;
  try {
    fd = openSync(tmp, "wx", 0o600);
    opened = true;
    const buf = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fchmodSync(fd, t.mode);
    if (t.exists && uid() === 0) {
      const old = statSync(t.target);
      const mine = fstatSync(fd);
      if (old.uid !== mine.uid || old.gid !== mine.gid) {
        try {
          fchownSync(fd, old.uid, old.gid);
        } catch {
          // keep root's ownership when the file system refuses
        }
      }
    }
    if (opts.fsync) fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    // Last look right before the rename: a FIFO or device swapped in since the check is still refused.
    const again = checkTarget(path, opts);
    if (again.target !== t.target) throw new OperationError(`${path} changed while it was being written`);
    if (opts.overwrite === false) {
      linkSync(tmp, t.target);
      unlinkSync(tmp);
    } else {
      renameSync(tmp, t.target);
    }
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean
    }
    if (err instanceof InputError || err instanceof OperationError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? "";
    if (code === "ENOENT" && !opened && isDirectory(dir)) throw writeError(path, opts, noCreateWhy(dir));
    if (code === "EEXIST" && opts.overwrite === false) {
      throw writeError(path, opts, "it exists", opts.existsHint ?? "name another file");
    }
    const why = UNUSABLE[code];
    if (why && code !== "ENOENT") throw writeError(path, opts, why);
    throw new OperationError(`cannot write ${opts.what} ${path}: ${(err as Error).message}`);
  } finally {
    unguardSoon(tmp);
  }
  return t.target;
}
