/**
 * Single-flight refresh for `xeks token`: when many plugin processes miss the cache at once (kubectl, k9s
 * and CI jobs start several right after a token expires), one of them takes a lock file next to the cache
 * entry and calls STS; the others wait for it and read what it wrote, instead of each calling
 * sts:AssumeRole (STS throttles per account).
 *
 * The lock is advisory: correctness never depends on it (entries are written atomically, and every output
 * is a valid token). So every wait is bounded, a lock that cannot be judged is ignored rather than waited on,
 * and each race it loses costs at most one extra STS call. Only node built-ins; loaded on a cache miss only.
 *
 * The lock: `<dir>/<hash>.lock` beside `<hash>.json`, created with O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600, in
 * the cache's 0700 directory, holding `{"pid":N,"host":"H","at":"ISO time"}`. Its age is its mtime; a lock
 * whose mtime lies more than LOCK_CLOCK_SKEW_MS ahead of the clock is abandoned, as if very old.
 */
import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readSync,
  type Stats,
  unlinkSync,
  writeSync,
} from "node:fs";
import { hostname } from "node:os";
import { describeFileType } from "./cache.js";

/**
 * A lock this old is abandoned whatever its pid says (removed by the next caller): no `xeks token` process
 * lives this long, every wait and every AWS call being bounded.
 */
export const LOCK_ABANDONED_MS = 10 * 60_000;

/**
 * How far in the future a lock's mtime may lie (clocks of hosts sharing a home directory, a step of the clock)
 * before the lock counts as abandoned: its age cannot be judged, and a live pid in it (any pid: pid 1 always
 * lives) would otherwise hold every caller for the whole wait bound without one refresh.
 */
export const LOCK_CLOCK_SKEW_MS = 5_000;

/** Between two looks at a held lock: a jittered 20-50 ms (a refresh at STS takes ~100-500 ms). */
export const LOCK_POLL_MIN_MS = 20;
export const LOCK_POLL_MAX_MS = 50;

/** What a lock file says about its holder (each field absent when the file does not say it). */
export interface LockOwner {
  pid?: number;
  host?: string;
  /** ISO 8601, informational: the age is judged by the file's mtime. */
  at?: string;
}

/**
 * A lock file as seen by inspectLock: its identity (to remove exactly it: inode numbers are reused at once
 * after an unlink, so the content is compared too) and its holder.
 */
export interface LockFile {
  ino: number;
  dev: number;
  mtimeMs: number;
  /** The file's text (at most 512 bytes). */
  text: string;
  owner: LockOwner;
}

const LOCK_READ_FLAGS =
  constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | (constants.O_NOCTTY ?? 0);

/**
 * Read a lock file without ever blocking: O_NOFOLLOW (a symlink is not followed), O_NONBLOCK (a FIFO does
 * not block the open), fstat before any read: only a regular file owned by this user is read.
 */
function readLock(path: string): { st: Stats; text: string } | { absent: true } | { foreign: string } {
  let fd: number;
  try {
    fd = openSync(path, LOCK_READ_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { absent: true };
    if (code === "ELOOP") return { foreign: "a symbolic link" };
    if (code === "ENXIO") return { foreign: "a socket" };
    return { foreign: `unreadable (${code ?? "error"})` };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { foreign: describeFileType(st) };
    const me = myUid();
    if (me !== undefined && st.uid !== me) return { foreign: `owned by uid ${st.uid}` };
    const buf = Buffer.alloc(512);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return { st, text: buf.toString("utf8", 0, n) };
  } catch (err) {
    return { foreign: `unreadable (${(err as NodeJS.ErrnoException).code ?? "error"})` };
  } finally {
    closeSync(fd);
  }
}

/**
 * Unlink `path` if it is still the lock file described: same text (pid, host and time to the millisecond:
 * no other lock has it) and, when known, same inode and device.
 */
function unlinkIfSame(path: string, text: string, ino?: number, dev?: number): boolean {
  const seen = readLock(path);
  if (!("st" in seen) || seen.text !== text) return false;
  if ((ino !== undefined && seen.st.ino !== ino) || (dev !== undefined && seen.st.dev !== dev)) return false;
  unlinkSync(path);
  return true;
}

/**
 * - `absent`: no lock.
 * - `held`: a regular lock file younger than the bound whose holder may be alive: wait for it.
 * - `stale`: do not wait: its holder is gone (pid dead on this host) or it is older than the bound.
 *   `abandoned` when it may also be removed: holder gone, older than LOCK_ABANDONED_MS, or dated more than
 *   LOCK_CLOCK_SKEW_MS in the future (whatever its pid says).
 * - `foreign`: not a regular file of ours (FIFO, socket, device, directory, symlink, another owner): never
 *   waited on, read through, written or removed.
 */
export type LockInspection =
  | { state: "absent" }
  | { state: "held"; file: LockFile }
  | { state: "stale"; file: LockFile; why: string; abandoned: boolean }
  | { state: "foreign"; why: string };

/** The lock file of a cache entry: `<hash>.lock` beside `<hash>.json`. */
export function lockPathFor(entryPath: string): string {
  return `${entryPath.replace(/\.json$/, "")}.lock`;
}

function parseOwner(text: string): LockOwner {
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    const owner: LockOwner = {};
    if (Number.isSafeInteger(v.pid) && (v.pid as number) > 0) owner.pid = v.pid as number;
    if (typeof v.host === "string") owner.host = v.host;
    if (typeof v.at === "string") owner.at = v.at;
    return owner;
  } catch {
    return {}; // empty (being written) or garbage: judged by age alone
  }
}

/** Whether a process with this pid exists on this host (EPERM: it exists, owned by someone else). */
export function pidAlive(pid: number): boolean {
  if (pid === process.pid) return false; // not our lock (we never inspect our own): left by a dead pid twin
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function myUid(): number | undefined {
  return typeof process.getuid === "function" ? process.getuid() : undefined;
}

/**
 * Look at a lock without ever blocking: opened O_RDONLY|O_NOFOLLOW|O_NONBLOCK|O_NOCTTY (a FIFO does not
 * block the open, a symlink is not followed) and fstat'ed before anything is read; a lock owned by another
 * uid is foreign.
 * `staleAfterMs` is the wait bound: a lock older than it is not waited on.
 */
export function inspectLock(
  path: string,
  opts: { staleAfterMs: number; now?: number; host?: string },
): LockInspection {
  const now = opts.now ?? Date.now();
  const host = opts.host ?? hostname();
  const seen = readLock(path);
  if ("absent" in seen) return { state: "absent" };
  if ("foreign" in seen) return { state: "foreign", why: seen.foreign };
  const { st, text } = seen;
  const owner = parseOwner(text);
  const file: LockFile = { ino: st.ino, dev: st.dev, mtimeMs: st.mtimeMs, text, owner };
  const age = now - st.mtimeMs;
  if (owner.pid !== undefined && owner.host === host && !pidAlive(owner.pid)) {
    return { state: "stale", file, why: `its holder (pid ${owner.pid}) is gone`, abandoned: true };
  }
  if (age < -LOCK_CLOCK_SKEW_MS) {
    // Dated ahead of the clock: no lock created now can be; treated as if older than LOCK_ABANDONED_MS.
    return {
      state: "stale",
      file,
      why: `its time is ${Math.round(-age / 1000)} s in the future`,
      abandoned: true,
    };
  }
  if (age > LOCK_ABANDONED_MS) {
    return { state: "stale", file, why: `it is ${Math.round(age / 1000)} s old`, abandoned: true };
  }
  if (age > opts.staleAfterMs) {
    const holder =
      owner.pid !== undefined
        ? `pid ${owner.pid}${owner.host === host ? "" : ` on ${owner.host}`}`
        : "an unknown holder";
    return {
      state: "stale",
      file,
      why: `it is older than the ${opts.staleAfterMs} ms bound (held by ${holder})`,
      abandoned: false,
    };
  }
  return { state: "held", file };
}

/**
 * Remove a stale lock, but only the very file that was judged (same inode, device and text): a lock taken
 * since by another caller is left alone. (The check and the unlink are two calls; losing that race removes a
 * fresh lock, which costs one extra STS call, nothing else.) True when it was removed.
 */
export function breakLock(path: string, file: LockFile): boolean {
  try {
    return unlinkIfSame(path, file.text, file.ino, file.dev);
  } catch {
    return false;
  }
}

const RELEASE_SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/**
 * A lock this process holds. `release()` removes the file if it is still the one created (a caller that
 * judged it abandoned may have replaced it), is idempotent and never throws. Until then the lock is also
 * removed on process exit and on SIGINT, SIGTERM and SIGHUP (after which the signal's default action runs).
 * The guard is installed before the file is created: node runs signal listeners between synchronous steps
 * only, so no signal can land between the create and the guard.
 */
export class RefreshLock {
  private released = false;
  private ino: number | undefined;
  private dev: number | undefined;
  private readonly onExit = () => this.release();
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.release();
    process.kill(process.pid, signal); // no listener left: the default action (termination)
  };

  /** `text`: what the file holds (pid, host, time): with the inode, what tells our file from a later one. */
  constructor(
    readonly path: string,
    private readonly text: string,
  ) {
    process.on("exit", this.onExit);
    for (const s of RELEASE_SIGNALS) process.on(s, this.onSignal);
  }

  /** Record the created file's inode and device. */
  bind(ino: number, dev: number): void {
    this.ino = ino;
    this.dev = dev;
  }

  /** Stop guarding without touching the file (it was not created, or is being removed by the caller). */
  disarm(): void {
    this.released = true;
    process.removeListener("exit", this.onExit);
    for (const s of RELEASE_SIGNALS) process.removeListener(s, this.onSignal);
  }

  release(): void {
    if (this.released) return;
    this.disarm();
    try {
      unlinkIfSame(this.path, this.text, this.ino, this.dev);
    } catch {
      // gone already, or the directory went away
    }
  }
}

/** One attempt to create the lock: O_CREAT|O_EXCL (never through an existing file of any type), 0600. */
export function tryCreateLock(
  path: string,
  owner: LockOwner = { pid: process.pid, host: hostname(), at: new Date().toISOString() },
): { kind: "acquired"; lock: RefreshLock } | { kind: "exists" } | { kind: "error"; code: string } {
  const text = `${JSON.stringify(owner)}\n`;
  const lock = new RefreshLock(path, text);
  let fd: number;
  try {
    fd = openSync(
      path,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | constants.O_NONBLOCK,
      0o600,
    );
  } catch (err) {
    lock.disarm();
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    return code === "EEXIST" ? { kind: "exists" } : { kind: "error", code };
  }
  try {
    writeSync(fd, text);
    const st = fstatSync(fd);
    lock.bind(st.ino, st.dev);
    return { kind: "acquired", lock };
  } catch (err) {
    lock.disarm();
    try {
      unlinkSync(path);
    } catch {
      // nothing to clean
    }
    return { kind: "error", code: (err as NodeJS.ErrnoException).code ?? "error" };
  } finally {
    closeSync(fd);
  }
}

export interface RefreshLockOptions {
  /** The longest this call waits for another holder, in ms; also the age beyond which a lock is stale. */
  waitMs: number;
  /** Whether the cache now has what the caller needs (re-reads the entry). Called between looks. */
  ready: () => boolean;
  /** For tests: the clock (ms), the sleep and the random source of the jitter. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/**
 * The outcome of acquireRefreshLock:
 * - `acquired`: this process holds the lock: refresh, write the entry, then `lock.release()` (in `finally`);
 * - `ready`: another process refreshed the entry meanwhile: read it;
 * - `unlocked`: refresh without the lock (`why` says why: the wait bound passed, a stale lock whose holder
 *   lives, the holder finished without a usable entry, a lock that is not a regular file, no lock possible).
 */
export type RefreshLockOutcome =
  | { outcome: "acquired"; lock: RefreshLock; waitedMs: number }
  | { outcome: "ready"; waitedMs: number }
  | { outcome: "unlocked"; why: string; waitedMs: number };

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Take the refresh lock at `path` or wait, at most `waitMs`, for its holder to refresh the entry. Never
 * throws and never waits longer than `waitMs` plus one poll interval. A lock whose holder is gone is removed
 * and taken (a few times at most); a lock that is not a regular file is left in place and ignored.
 */
export async function acquireRefreshLock(
  path: string,
  opts: RefreshLockOptions,
): Promise<RefreshLockOutcome> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? defaultSleep;
  const random = opts.random ?? Math.random;
  const host = hostname();
  const start = now();
  const deadline = start + opts.waitMs;
  const waited = () => Math.max(0, now() - start);
  const timedOut = (): RefreshLockOutcome => ({
    outcome: "unlocked",
    why: `gave up waiting for another xeks token after ${opts.waitMs} ms`,
    waitedMs: waited(),
  });
  let mayCreate = true;
  let attempts = 0;
  let hasWaited = false;
  for (;;) {
    if (mayCreate) {
      attempts++;
      const created = tryCreateLock(path, { pid: process.pid, host, at: new Date(now()).toISOString() });
      if (created.kind === "acquired") {
        // Double check: a holder may have finished between our miss and our create.
        if (opts.ready()) {
          created.lock.release();
          return { outcome: "ready", waitedMs: waited() };
        }
        return { outcome: "acquired", lock: created.lock, waitedMs: waited() };
      }
      if (created.kind === "error")
        return { outcome: "unlocked", why: `cannot create ${path} (${created.code})`, waitedMs: waited() };
    } else {
      const left = deadline - now();
      if (left <= 0) return timedOut();
      const jitter = LOCK_POLL_MIN_MS + random() * (LOCK_POLL_MAX_MS - LOCK_POLL_MIN_MS);
      await sleep(Math.max(1, Math.min(Math.round(jitter), left)));
    }
    const seen = inspectLock(path, { staleAfterMs: opts.waitMs, now: now(), host });
    switch (seen.state) {
      case "foreign":
        return { outcome: "unlocked", why: `${path} is ${seen.why}; left in place`, waitedMs: waited() };
      case "absent":
        if (opts.ready()) return { outcome: "ready", waitedMs: waited() };
        if (hasWaited || attempts >= 4) {
          return {
            outcome: "unlocked",
            why: "the other refresh ended without a usable entry",
            waitedMs: waited(),
          };
        }
        mayCreate = true; // released between our create and our look: try again
        continue;
      case "stale":
        if (seen.abandoned && attempts < 4) {
          breakLock(path, seen.file);
          mayCreate = true;
          continue;
        }
        return { outcome: "unlocked", why: `ignored ${path}: ${seen.why}`, waitedMs: waited() };
      case "held":
        if (opts.ready()) return { outcome: "ready", waitedMs: waited() };
        if (now() >= deadline) return timedOut();
        hasWaited = true;
        mayCreate = false;
        continue;
    }
  }
}
