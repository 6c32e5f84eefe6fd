/**
 * kubectl's kubeconfig lock, taken by `xeks kubeconfig` around its read-merge-write so that xeks and
 * kubectl (and several xeks) never lose each other's changes.
 *
 * The protocol is client-go's (kubernetes/client-go tools/clientcmd/loader.go `lockFile`/`unlockFile`/
 * `lockName`, and config.go `ModifyConfig`, which `kubectl config set-context`, `use-context`, `set-cluster`...
 * call): the lock is the file `<kubeconfig>.lock`, created with O_CREAT|O_EXCL and mode 0 next to the path as
 * given (a symlinked kubeconfig is locked at the symlink's path, not at its target), and removed when done.
 * client-go locks every file of the loading precedence (each path of $KUBECONFIG, sorted); xeks reads and
 * writes only the first one, and locks that one. kubectl does not wait: a held lock fails at once with
 * `error: open <file>.lock: file exists` (exit 1). xeks waits a bounded time for it (XEKS_KUBECONFIG_LOCK_WAIT_MS,
 * default 5000 ms, polling with jitter), then fails (OperationError, exit 1) naming the lock file and how to
 * remove a stale one. While held, SIGINT, SIGTERM and SIGHUP remove the lock before the process dies.
 *
 * Node built-ins and src/errors.ts only; prints nothing.
 */
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { InputError, OperationError } from "../errors.js";

/** Default wait for a held kubeconfig lock, in milliseconds. */
export const DEFAULT_LOCK_WAIT_MS = 5000;
/** Largest XEKS_KUBECONFIG_LOCK_WAIT_MS accepted, in milliseconds. */
export const MAX_LOCK_WAIT_MS = 600_000;
/** Polling interval bounds while waiting, in milliseconds (before jitter of x0.5..x1.5). */
const FIRST_POLL_MS = 10;
const LAST_POLL_MS = 250;

/** Signals that remove a held lock before the process dies of them. */
const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/**
 * The wait for a held kubeconfig lock: XEKS_KUBECONFIG_LOCK_WAIT_MS (a whole number of milliseconds,
 * 0-600000; 0 tries once, as kubectl does), else DEFAULT_LOCK_WAIT_MS. A bad value is an InputError (exit 2).
 */
export function lockWaitMs(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env.XEKS_KUBECONFIG_LOCK_WAIT_MS?.trim();
  if (raw === undefined || raw === "") return DEFAULT_LOCK_WAIT_MS;
  const n = /^\d{1,6}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= 0 && n <= MAX_LOCK_WAIT_MS)) {
    throw new InputError(`invalid XEKS_KUBECONFIG_LOCK_WAIT_MS ${JSON.stringify(raw)}`, [
      {
        path: "XEKS_KUBECONFIG_LOCK_WAIT_MS",
        message: `expected a whole number of milliseconds from 0 to ${MAX_LOCK_WAIT_MS} (default ${DEFAULT_LOCK_WAIT_MS}), or unset`,
      },
    ]);
  }
  return n;
}

/** The lock of a kubeconfig path: `<path>.lock`, beside the path as given (client-go's `lockName`). */
export function lockPathFor(kubeconfig: string): string {
  return `${kubeconfig}.lock`;
}

/** A lock this process holds. */
export interface HeldLock {
  /** The lock file. */
  readonly path: string;
  /** Remove the lock file (only if it is still the one this process created). Idempotent; never throws. */
  release(): void;
}

/** Options of `acquireKubeconfigLock`. */
export interface LockOptions {
  /** How long to wait for a held lock, in milliseconds (see `lockWaitMs`). */
  waitMs: number;
  /** The flag or variable that named the kubeconfig, for messages (default `--kubeconfig`). */
  flag?: string;
}

/** Why a lock cannot be created, by errno: the user's input (exit 2), not a failed operation. */
const UNUSABLE: Record<string, string> = {
  EACCES: "its directory is not writable by this user (permission denied)",
  EPERM: "its directory is not writable by this user (operation not permitted)",
  EROFS: "its directory is on a read-only file system",
  ENOTDIR: "its directory is under a file, not a directory",
  ENAMETOOLONG: "its name is too long",
  ELOOP: "its directory is a symlink loop",
};

function quote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

function ageOf(path: string): string {
  try {
    const seconds = Math.max(0, Math.round((Date.now() - lstatSync(path).mtimeMs) / 1000));
    return seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
  } catch {
    return "";
  }
}

function heldError(kubeconfig: string, lock: string, waitMs: number): OperationError {
  const age = ageOf(lock);
  return new OperationError(
    `the kubeconfig ${kubeconfig} is locked: ${lock} exists${age ? ` (created ${age} ago)` : ""} and was not removed within ${waitMs} ms`,
    `kubectl and xeks create it while they change the file and remove it when done. If neither is running ` +
      `(one was killed), the lock is stale: remove it with \`rm ${quote(lock)}\` and run the command again. ` +
      `XEKS_KUBECONFIG_LOCK_WAIT_MS sets the wait (default ${DEFAULT_LOCK_WAIT_MS}).`,
  );
}

function createError(kubeconfig: string, lock: string, err: unknown, flag: string): Error {
  const code = (err as NodeJS.ErrnoException).code ?? "";
  const why = UNUSABLE[code];
  if (why) {
    return new InputError(`cannot lock the kubeconfig ${kubeconfig}: ${lock} cannot be created, ${why}`, [
      {
        path: flag,
        message: "expected a kubeconfig in a directory this user may write (kubectl locks it there too)",
      },
    ]);
  }
  return new OperationError(`cannot create the kubeconfig lock ${lock}: ${(err as Error).message}`);
}

/** Try once: the lock's inode when created, undefined when another process holds it. */
function tryCreate(lock: string): { dev: number; ino: number } | undefined {
  let fd: number;
  try {
    fd = openSync(lock, constants.O_CREAT | constants.O_EXCL | constants.O_RDONLY, 0o000);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return undefined;
    throw err;
  }
  try {
    const st = fstatSync(fd);
    return { dev: st.dev, ino: st.ino };
  } finally {
    closeSync(fd);
  }
}

/**
 * Take the lock of `kubeconfig` (an absolute path, as kubectl would be given it): create `<kubeconfig>.lock`
 * exclusively, creating a missing directory (0700) first as client-go does. A held lock is polled every
 * 10-250 ms (jittered) for `waitMs`; then OperationError (exit 1) naming the lock and how to remove a stale
 * one. A lock that cannot be created (directory not writable, read-only file system) is an InputError
 * (exit 2) naming `flag`. Until released, SIGINT/SIGTERM/SIGHUP and process exit remove the lock.
 */
export async function acquireKubeconfigLock(kubeconfig: string, opts: LockOptions): Promise<HeldLock> {
  const lock = lockPathFor(kubeconfig);
  const flag = opts.flag ?? "--kubeconfig";
  try {
    mkdirSync(dirname(lock), { recursive: true, mode: 0o700 });
  } catch (err) {
    throw createError(kubeconfig, lock, err, flag);
  }
  const deadline = Date.now() + opts.waitMs;
  let identity: { dev: number; ino: number } | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      identity = tryCreate(lock);
    } catch (err) {
      throw createError(kubeconfig, lock, err, flag);
    }
    if (identity) break;
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw heldError(kubeconfig, lock, opts.waitMs);
    const base = Math.min(LAST_POLL_MS, FIRST_POLL_MS * 1.5 ** attempt);
    await sleep(Math.max(1, Math.min(remaining, Math.round(base * (0.5 + Math.random())))));
  }
  return hold(lock, identity);
}

function hold(lock: string, identity: { dev: number; ino: number }): HeldLock {
  let released = false;
  const removeFile = () => {
    if (released) return;
    released = true;
    try {
      // Only our own lock: if someone removed it as stale and another process took it, leave theirs.
      const st = lstatSync(lock);
      if (st.dev === identity.dev && st.ino === identity.ino) unlinkSync(lock);
    } catch {
      // already gone, or the directory became unwritable: nothing more to do here
    }
  };
  const onSignal = (signal: NodeJS.Signals) => {
    removeFile();
    detach();
    // Die of the signal as if no handler had been installed, unless someone else handles it.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const onExit = () => removeFile();
  const detach = () => {
    for (const s of SIGNALS) process.removeListener(s, onSignal);
    process.removeListener("exit", onExit);
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  process.on("exit", onExit);
  return {
    path: lock,
    release() {
      removeFile();
      // A signal that arrived while the (synchronous) critical section ran is dispatched in the next poll
      // phase; keep the handlers until then so it is acted upon (re-raised), not swallowed.
      setImmediate(detach);
    },
  };
}

/**
 * Run `fn` holding the lock of `kubeconfig` (see `acquireKubeconfigLock`), and release it afterwards, also
 * when `fn` throws. Returns what `fn` returns.
 */
export async function withKubeconfigLock<T>(
  kubeconfig: string,
  opts: LockOptions,
  fn: () => T | Promise<T>,
): Promise<T> {
  const held = await acquireKubeconfigLock(kubeconfig, opts);
  try {
    return await fn();
  } finally {
    held.release();
  }
}
