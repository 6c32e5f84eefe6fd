/**
 * The disk cache of `xeks token`: per key, the assumed-role credentials and the last token, in one JSON file
 * `<dir>/<sha256 of the key>.json`. Files are 0600 in a 0700 directory owned by the user; a directory or
 * file that group or others can read is refused (not read), and the next write fixes the directory and
 * wipes what it held. Writes are atomic (temporary file + rename), so concurrent kubectl calls see either
 * the old file or the new one. An entry path that holds anything but a regular file (a FIFO, socket, device,
 * directory or symlink) is a miss that never blocks (opened O_NONBLOCK|O_NOFOLLOW, fstat before reading) and
 * is left in place: never written into, through or over (that key is then not cached). The refresh lock
 * beside each entry is src/token/lock.ts. Only node built-ins: this is the fast path.
 */
import {
  chmodSync,
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  type Stats,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

/** Cached credentials are reused while at least this much of their life remains (the SDK's own margin). */
const CREDENTIALS_REFRESH_MARGIN_MS = 5 * 60_000;
/** A cached token is reused until a minute before its expirationTimestamp. */
const TOKEN_REFRESH_MARGIN_MS = 60_000;

export interface CachedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** ISO 8601. */
  expiration: string;
}

export interface CachedToken {
  token: string;
  /** `%Y-%m-%dT%H:%M:%SZ`, as printed in the ExecCredential. */
  expirationTimestamp: string;
  /** When it was signed (ISO 8601). */
  signedAt: string;
}

export interface CacheEntry {
  version: 1;
  /** The full key (see cacheKey), compared exactly on read: a hash collision can only cause a miss. */
  key: string;
  credentials?: CachedCredentials;
  token?: CachedToken;
}

/**
 * The key: the parts as JSON. It holds no secret (access key ids, ARNs, names, file stamps), is stored in the
 * entry and compared exactly, so the file name only needs a well-spread hash, not a cryptographic one (and
 * node:crypto, a few milliseconds to load, stays off the cached path).
 */
export function cacheKey(parts: readonly unknown[]): string {
  return JSON.stringify(parts);
}

/** cyrb53: a fast, well-distributed 53-bit string hash. */
function hash53(text: string, seed: number): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** The file name part for a key: 106 bits of hash as hex. */
function cacheKeyHash(key: string): string {
  return hash53(key, 1).toString(16).padStart(14, "0") + hash53(key, 2).toString(16).padStart(14, "0");
}

let tmpCounter = 0;

const READ_FLAGS =
  constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | (constants.O_NOCTTY ?? 0);

function isString(v: unknown): v is string {
  return typeof v === "string" && v.length > 0;
}

function validCredentials(v: unknown): v is CachedCredentials {
  const c = v as CachedCredentials;
  return (
    c !== null &&
    typeof c === "object" &&
    isString(c.accessKeyId) &&
    isString(c.secretAccessKey) &&
    isString(c.sessionToken) &&
    isString(c.expiration) &&
    !Number.isNaN(Date.parse(c.expiration))
  );
}

function validToken(v: unknown): v is CachedToken {
  const t = v as CachedToken;
  return (
    t !== null &&
    typeof t === "object" &&
    isString(t.token) &&
    t.token.startsWith("k8s-aws-v1.") &&
    isString(t.expirationTimestamp) &&
    !Number.isNaN(Date.parse(t.expirationTimestamp)) &&
    isString(t.signedAt) &&
    !Number.isNaN(Date.parse(t.signedAt))
  );
}

/** The token if it can still be handed out at `now` (signed in the past, more than a minute left). */
export function usableToken(entry: CacheEntry | undefined, now: Date): CachedToken | undefined {
  const t = entry?.token;
  if (!t) return undefined;
  const signed = Date.parse(t.signedAt);
  const expires = Date.parse(t.expirationTimestamp);
  if (signed > now.getTime() + 60_000) return undefined; // clock went backwards
  if (expires - signed > 15 * 60_000) return undefined; // not a token we wrote
  return expires - now.getTime() > TOKEN_REFRESH_MARGIN_MS ? t : undefined;
}

/** The credentials if at least five minutes of their life remain at `now`. */
export function usableCredentials(entry: CacheEntry | undefined, now: Date): CachedCredentials | undefined {
  const c = entry?.credentials;
  if (!c) return undefined;
  return Date.parse(c.expiration) - now.getTime() > CREDENTIALS_REFRESH_MARGIN_MS ? c : undefined;
}

function uid(): number | undefined {
  return typeof process.getuid === "function" ? process.getuid() : undefined;
}

/** Why a directory or file cannot be trusted, or undefined when it can. */
function distrust(mode: number, owner: number, kind: string): string | undefined {
  const me = uid();
  if (me !== undefined && owner !== me) return `${kind} is owned by uid ${owner}, not ${me}`;
  if ((mode & 0o077) !== 0)
    return `${kind} is readable or writable by group or others (mode ${(mode & 0o777).toString(8)})`;
  return undefined;
}

/** "a FIFO", "a directory"...: what a file that is not a regular file is, for messages. */
export function describeFileType(st: Stats): string {
  if (st.isFile()) return "a regular file";
  if (st.isFIFO()) return "a FIFO";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isDirectory()) return "a directory";
  if (st.isSymbolicLink()) return "a symbolic link";
  return "not a regular file";
}

export class TokenCache {
  /** Problems met while reading (a refused directory or file); for `XEKS_DEBUG`. */
  readonly notes: string[] = [];
  /**
   * Set by `read` when the entry's path holds something that is not a regular file (a FIFO, socket, device,
   * directory or symlink): what it is. Such an entry is a miss, and `write` leaves it in place (no caching).
   */
  blocked: string | undefined;

  constructor(readonly dir: string) {}

  pathFor(key: string): string {
    return join(this.dir, `${cacheKeyHash(key)}.json`);
  }

  /** The directory's state: missing, trusted, or refused with a reason. */
  private directoryState(): "missing" | "ok" | string {
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(this.dir, { throwIfNoEntry: false });
    } catch {
      return "missing";
    }
    if (!st) return "missing";
    if (!st.isDirectory()) return `${this.dir} is not a directory`;
    return distrust(st.mode, st.uid, `cache directory ${this.dir}`) ?? "ok";
  }

  /** Read the entry for a key; undefined when absent, refused, corrupted or written for another key. */
  read(key: string): CacheEntry | undefined {
    const state = this.directoryState();
    if (state === "missing") return undefined;
    if (state !== "ok") {
      this.notes.push(`refused the cache: ${state}`);
      return undefined;
    }
    const path = this.pathFor(key);
    let fd: number;
    try {
      // O_NONBLOCK: a FIFO does not block the open (and fstat refuses it below); O_NOFOLLOW: nor a symlink;
      // O_NOCTTY: a terminal device never becomes our controlling terminal. Same syscalls as a plain open.
      fd = openSync(path, READ_FLAGS);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ELOOP") this.blocked = "a symbolic link";
      else if (code === "ENXIO") this.blocked = "a socket";
      if (this.blocked) this.notes.push(`the cache entry ${path} is ${this.blocked}: ignored, left in place`);
      return undefined;
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) {
        this.blocked = describeFileType(st);
        this.notes.push(`the cache entry ${path} is ${this.blocked}: ignored, left in place`);
        return undefined;
      }
      const why = distrust(st.mode, st.uid, `cache file ${path}`);
      if (why) {
        this.notes.push(`refused ${why}`);
        return undefined;
      }
      const entry = JSON.parse(readFileSync(fd, "utf8")) as CacheEntry;
      if (entry === null || typeof entry !== "object" || entry.version !== 1 || entry.key !== key)
        return undefined;
      const clean: CacheEntry = { version: 1, key };
      if (validCredentials(entry.credentials)) clean.credentials = entry.credentials;
      if (validToken(entry.token)) clean.token = entry.token;
      return clean;
    } catch {
      this.notes.push(`ignored a corrupted cache file ${path}`);
      return undefined;
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Create the directory 0700, or take back an untrusted one (chmod 0700 and remove what it held). Throws
   * when it cannot (not a directory, another owner, no permission).
   */
  prepareDirectory(): void {
    const state = this.directoryState();
    if (state === "ok") return;
    if (state === "missing") {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      chmodSync(this.dir, 0o700);
      return;
    }
    const st = lstatSync(this.dir);
    if (!st.isDirectory() || (uid() !== undefined && st.uid !== uid())) {
      throw new Error(state);
    }
    chmodSync(this.dir, 0o700);
    for (const name of readdirSync(this.dir)) {
      rmSync(join(this.dir, name), { force: true, recursive: true });
    }
  }

  /**
   * Write the entry atomically, mode 0600. Throws on failure (the caller turns that into one warning),
   * including when the entry's path holds something other than a regular file (a FIFO, socket, device,
   * directory or symlink): that is never written into, through or over.
   */
  write(entry: CacheEntry): void {
    this.prepareDirectory();
    const path = this.pathFor(entry.key);
    const existing = lstatSync(path, { throwIfNoEntry: false });
    if (existing && !existing.isFile()) {
      this.blocked = describeFileType(existing);
      throw new Error(`${path} is ${this.blocked}, not a regular file; left in place`);
    }
    const unique = `${process.pid}-${Date.now().toString(36)}-${(tmpCounter++).toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
    const tmp = join(this.dir, `.${cacheKeyHash(entry.key).slice(0, 12)}.${unique}.tmp`);
    try {
      writeFileSync(tmp, JSON.stringify(entry), { mode: 0o600, flag: "wx" });
      renameSync(tmp, path);
    } catch (err) {
      try {
        unlinkSync(tmp);
      } catch {
        // nothing to clean
      }
      throw err;
    }
  }

  /** Remove entries whose file has not been rewritten for a day (best effort, on the slow path). */
  prune(now: Date, maxAgeMs = 24 * 3600_000): void {
    try {
      for (const name of readdirSync(this.dir)) {
        const p = join(this.dir, name);
        try {
          const st = lstatSync(p);
          // Regular files only: a FIFO, device or socket someone put here is left alone.
          if (st.isFile() && now.getTime() - st.mtimeMs > maxAgeMs) unlinkSync(p);
        } catch {
          // raced with another process
        }
      }
    } catch {
      // no directory
    }
  }
}
