/**
 * Single-flight token refresh and cache entries that are not regular files (issue 10):
 * - unit: the lock functions of src/token/lock.ts (create, inspect, break, release, acquire-or-wait) and
 *   TokenCache with a FIFO, socket, directory or symlink where an entry should be;
 * - end to end, the real `bin/xeks token` against a private moto_server (which records every request, so
 *   AssumeRole calls are counted): 50 and 10 concurrent cold calls make one AssumeRole; a FIFO as the entry
 *   neither hangs nor is replaced; a lock left by a dead process, or held past the bound by a live one, does
 *   not hold the call back.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:net";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { cacheKey, TokenCache } from "../src/token/cache.js";
import {
  acquireRefreshLock,
  breakLock,
  inspectLock,
  LOCK_ABANDONED_MS,
  LOCK_CLOCK_SKEW_MS,
  LOCK_POLL_MAX_MS,
  lockPathFor,
  pidAlive,
  tryCreateLock,
} from "../src/token/lock.js";
import { verifyToken } from "../src/token/verify.js";
import { type IsolatedEnv, isolatedAwsEnv } from "./helpers/aws-env.js";
import { ROOT, XEKS } from "./helpers/cli.js";
import { parseExecCredential } from "./helpers/exec-credential.js";
import { type MotoServer, startMoto } from "./helpers/moto.js";
import { xeksAsync } from "./helpers/spawn.js";
import { startSilentServer, type TcpFixture } from "./helpers/tcp-fixtures.js";

const CLUSTER = "c";
const ROLE = "arn:aws:iam::123456789012:role/r";
const ARGS = ["token", "--cluster-name", CLUSTER, "--role-arn", ROLE];

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "xeks-lock-"));
  dirs.push(d);
  return d;
}

/** A pid that existed a moment ago and does not any more. */
function deadPid(): number {
  const r = spawnSync("true");
  assert.ok(r.pid && !pidAlive(r.pid));
  return r.pid;
}

function mkfifo(path: string): void {
  const r = spawnSync("mkfifo", ["-m", "600", path]);
  assert.equal(r.status, 0, String(r.stderr));
}

function writeLock(path: string, owner: Record<string, unknown>, ageMs = 0): void {
  writeFileSync(path, JSON.stringify(owner), { mode: 0o600 });
  if (ageMs > 0) {
    const t = new Date(Date.now() - ageMs);
    utimesSync(path, t, t);
  }
}

const tokenEntry = (key: string) => ({
  version: 1 as const,
  key,
  token: {
    token: "k8s-aws-v1.x",
    expirationTimestamp: `${new Date(Date.now() + 10 * 60_000).toISOString().slice(0, 19)}Z`,
    signedAt: new Date().toISOString(),
  },
});

after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("lock functions", () => {
  test("create: O_EXCL, 0600, holding pid, host and time; release removes only our own file", () => {
    const path = join(tempDir(), "k.lock");
    const first = tryCreateLock(path);
    assert.equal(first.kind, "acquired");
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const owner = JSON.parse(readFileSync(path, "utf8"));
    assert.equal(owner.pid, process.pid);
    assert.equal(owner.host, hostname());
    assert.ok(!Number.isNaN(Date.parse(owner.at)));
    assert.equal(tryCreateLock(path).kind, "exists");
    if (first.kind !== "acquired") return;
    first.lock.release();
    assert.throws(() => lstatSync(path), /ENOENT/);
    first.lock.release(); // idempotent

    // A lock replaced by another caller (another inode) is not ours to remove.
    const mine = tryCreateLock(path);
    assert.equal(mine.kind, "acquired");
    unlinkSync(path);
    writeLock(path, { pid: process.ppid, host: hostname() });
    if (mine.kind === "acquired") mine.lock.release();
    assert.ok(lstatSync(path).isFile(), "the other caller's lock stays");

    assert.deepEqual(tryCreateLock(join(tempDir(), "missing", "k.lock")), { kind: "error", code: "ENOENT" });
  });

  test("inspect: absent, held, stale (dead holder, past the bound, abandoned), foreign", () => {
    const dir = tempDir();
    const path = join(dir, "k.lock");
    const host = hostname();
    assert.deepEqual(inspectLock(path, { staleAfterMs: 10_000 }), { state: "absent" });

    writeLock(path, { pid: process.ppid, host });
    assert.equal(inspectLock(path, { staleAfterMs: 10_000 }).state, "held");

    writeFileSync(path, ""); // created, pid not written yet: judged by its age
    assert.equal(inspectLock(path, { staleAfterMs: 10_000 }).state, "held");

    writeLock(path, { pid: deadPid(), host });
    const dead = inspectLock(path, { staleAfterMs: 10_000 });
    assert.ok(dead.state === "stale" && dead.abandoned, JSON.stringify(dead));

    // Our own pid in a lock we did not take: a previous process with the same pid is gone.
    writeLock(path, { pid: process.pid, host });
    const twin = inspectLock(path, { staleAfterMs: 10_000 });
    assert.ok(twin.state === "stale" && twin.abandoned);

    // A dead pid on another host cannot be judged: held until the bound.
    writeLock(path, { pid: deadPid(), host: `not-${host}` });
    assert.equal(inspectLock(path, { staleAfterMs: 10_000 }).state, "held");

    writeLock(path, { pid: process.ppid, host }, 60_000);
    const old = inspectLock(path, { staleAfterMs: 10_000 });
    assert.ok(old.state === "stale" && !old.abandoned, "a live holder past the bound: not waited on, kept");

    writeLock(path, { pid: process.ppid, host }, LOCK_ABANDONED_MS + 60_000);
    const ancient = inspectLock(path, { staleAfterMs: 10_000 });
    assert.ok(ancient.state === "stale" && ancient.abandoned);

    rmSync(path);
    mkfifo(path);
    assert.deepEqual(inspectLock(path, { staleAfterMs: 10_000 }), { state: "foreign", why: "a FIFO" });
    rmSync(path);
    mkdirSync(path);
    assert.deepEqual(inspectLock(path, { staleAfterMs: 10_000 }), { state: "foreign", why: "a directory" });
    rmSync(path, { recursive: true });
    symlinkSync(join(dir, "elsewhere"), path);
    assert.deepEqual(inspectLock(path, { staleAfterMs: 10_000 }), {
      state: "foreign",
      why: "a symbolic link",
    });
  });

  test("inspect: a lock dated beyond the clock skew in the future is abandoned whatever its pid", () => {
    const path = join(tempDir(), "k.lock");
    const host = hostname();
    const future = (ms: number) => {
      const t = new Date(Date.now() + ms);
      utimesSync(path, t, t);
    };
    writeLock(path, { pid: 1, host }); // pid 1 always lives
    future(LOCK_CLOCK_SKEW_MS + 60_000);
    const ahead = inspectLock(path, { staleAfterMs: 10_000 });
    assert.ok(ahead.state === "stale" && ahead.abandoned, JSON.stringify(ahead));
    assert.match(ahead.state === "stale" ? ahead.why : "", /in the future/);
    future(24 * 3600_000);
    const tomorrow = inspectLock(path, { staleAfterMs: 10_000 });
    assert.ok(tomorrow.state === "stale" && tomorrow.abandoned);
    // Within the skew (another host's clock a little ahead): a live holder's lock is waited on.
    future(LOCK_CLOCK_SKEW_MS / 2);
    assert.equal(inspectLock(path, { staleAfterMs: 10_000 }).state, "held");
  });

  test("break: removes the very file judged stale, not one taken since", () => {
    const path = join(tempDir(), "k.lock");
    writeLock(path, { pid: deadPid(), host: hostname() });
    const seen = inspectLock(path, { staleAfterMs: 10_000 });
    assert.equal(seen.state, "stale");
    if (seen.state !== "stale") return;
    rmSync(path);
    writeLock(path, { pid: process.ppid, host: hostname() }); // another caller's fresh lock
    assert.equal(breakLock(path, seen.file), false);
    assert.ok(lstatSync(path).isFile());
    const again = inspectLock(path, { staleAfterMs: 10_000 });
    assert.equal(again.state, "held");
    if (again.state === "held") assert.equal(breakLock(path, again.file), true);
    assert.throws(() => lstatSync(path), /ENOENT/);
  });

  /** A fake clock advanced by the fake sleep, and a hook run at each sleep. */
  function fakeTime(onSleep: (n: number) => void = () => {}) {
    let t = Date.now();
    let sleeps = 0;
    return {
      now: () => t,
      sleep: async (ms: number) => {
        assert.ok(ms >= 1 && ms <= LOCK_POLL_MAX_MS, `poll interval ${ms}`);
        t += ms;
        onSleep(++sleeps);
      },
      sleeps: () => sleeps,
      elapsed: (start: number) => t - start,
    };
  }

  test("acquire: a free lock is taken; a refresh finished meanwhile is read instead", async () => {
    const path = join(tempDir(), "k.lock");
    const got = await acquireRefreshLock(path, { waitMs: 10_000, ready: () => false });
    assert.equal(got.outcome, "acquired");
    if (got.outcome === "acquired") got.lock.release();
    const late = await acquireRefreshLock(path, { waitMs: 10_000, ready: () => true });
    assert.equal(late.outcome, "ready");
    assert.throws(() => lstatSync(path), /ENOENT/, "the double-check releases the lock it took");
  });

  test("acquire: waits for a held lock until the entry is ready, without touching the lock", async () => {
    const path = join(tempDir(), "k.lock");
    writeLock(path, { pid: process.ppid, host: hostname() });
    let written = false;
    const clock = fakeTime((n) => {
      if (n === 3) written = true;
    });
    const got = await acquireRefreshLock(path, { waitMs: 10_000, ready: () => written, ...clock });
    assert.equal(got.outcome, "ready");
    assert.equal(clock.sleeps(), 3);
    assert.ok(lstatSync(path).isFile());
  });

  test("acquire: a lock held past the bound is given up on, and left in place", async () => {
    const path = join(tempDir(), "k.lock");
    writeLock(path, { pid: process.ppid, host: hostname() });
    const clock = fakeTime();
    const start = clock.now();
    const got = await acquireRefreshLock(path, { waitMs: 2_000, ready: () => false, ...clock });
    assert.equal(got.outcome, "unlocked");
    assert.ok(clock.elapsed(start) <= 2_000 + LOCK_POLL_MAX_MS, `waited ${clock.elapsed(start)} ms`);
    assert.ok(lstatSync(path).isFile());
  });

  test("acquire: a holder that ends without a usable entry lets the waiters refresh on their own", async () => {
    const path = join(tempDir(), "k.lock");
    writeLock(path, { pid: process.ppid, host: hostname() });
    const clock = fakeTime((n) => {
      if (n === 2) rmSync(path);
    });
    const got = await acquireRefreshLock(path, { waitMs: 10_000, ready: () => false, ...clock });
    assert.equal(got.outcome, "unlocked", "not a second holder in turn: no chain of refreshes");
    assert.throws(() => lstatSync(path), /ENOENT/);
  });

  test("acquire: a dead holder's lock is removed and taken; a holder that dies while we wait too", async () => {
    const dir = tempDir();
    const path = join(dir, "k.lock");
    writeLock(path, { pid: deadPid(), host: hostname() });
    const got = await acquireRefreshLock(path, { waitMs: 10_000, ready: () => false });
    assert.equal(got.outcome, "acquired");
    assert.equal(JSON.parse(readFileSync(path, "utf8")).pid, process.pid);
    if (got.outcome === "acquired") got.lock.release();

    const sleeper = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      writeLock(path, { pid: sleeper.pid, host: hostname() });
      const clock = fakeTime((n) => {
        if (n === 2) sleeper.kill("SIGKILL");
      });
      await new Promise((r) => setTimeout(r, 0));
      const waited = await acquireRefreshLock(path, {
        waitMs: 10_000,
        ready: () => false,
        now: clock.now,
        // Real time too, so the killed sleeper is reaped and its pid gone.
        sleep: async (ms) => {
          await clock.sleep(ms);
          await new Promise((r) => setTimeout(r, 30));
        },
      });
      assert.equal(waited.outcome, "acquired");
      if (waited.outcome === "acquired") waited.lock.release();
    } finally {
      sleeper.kill("SIGKILL");
    }
  });

  test("acquire: a lock that is not a regular file is ignored and left in place; no directory: no lock", async () => {
    const dir = tempDir();
    const path = join(dir, "k.lock");
    mkfifo(path);
    const got = await acquireRefreshLock(path, { waitMs: 10_000, ready: () => false });
    assert.equal(got.outcome, "unlocked");
    assert.ok(lstatSync(path).isFIFO());
    const none = await acquireRefreshLock(join(dir, "missing", "k.lock"), {
      waitMs: 10_000,
      ready: () => false,
    });
    assert.equal(none.outcome, "unlocked");
  });

  test("a held lock is removed when its process is stopped by SIGTERM", async () => {
    const path = join(tempDir(), "k.lock");
    const script = `
      import { tryCreateLock } from ${JSON.stringify(join(ROOT, "src/token/lock.ts"))};
      const got = tryCreateLock(${JSON.stringify(path)});
      if (got.kind !== "acquired") process.exit(3);
      process.stdout.write("held\\n");
      setTimeout(() => {}, 60_000);
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on("data", () => resolve());
      child.on("exit", (code) => reject(new Error(`exited ${code} before taking the lock`)));
    });
    assert.ok(lstatSync(path).isFile());
    const exit = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_c, s) => resolve(s)));
    child.kill("SIGTERM");
    assert.equal(await exit, "SIGTERM", "the signal's default action still runs");
    assert.throws(() => lstatSync(path), /ENOENT/);
  });
});

describe("cache entries that are not regular files", () => {
  let socketServer: Server | undefined;
  after(() => socketServer?.close());

  test("a FIFO, socket, directory or symlink is a miss at once, is not written over, is not pruned", async () => {
    const cache = new TokenCache(join(tempDir(), "xeks"));
    cache.prepareDirectory();
    const kinds: [string, (p: string) => Promise<void> | void, (p: string) => boolean][] = [
      ["a FIFO", mkfifo, (p) => lstatSync(p).isFIFO()],
      [
        "a socket",
        (p) =>
          new Promise<void>((resolve) => {
            socketServer = createServer().listen(p, () => resolve());
          }),
        (p) => lstatSync(p).isSocket(),
      ],
      ["a directory", (p) => mkdirSync(p), (p) => lstatSync(p).isDirectory()],
      ["a symbolic link", (p) => symlinkSync("/dev/null", p), (p) => lstatSync(p).isSymbolicLink()],
    ];
    for (const [kind, make, still] of kinds) {
      const key = cacheKey([kind]);
      const path = cache.pathFor(key);
      await make(path);
      const fresh = new TokenCache(cache.dir);
      assert.equal(fresh.read(key), undefined, kind);
      assert.equal(fresh.blocked, kind);
      assert.throws(() => fresh.write(tokenEntry(key)), /not a regular file/, kind);
      const old = new Date(Date.now() - 2 * 24 * 3600_000);
      if (kind !== "a symbolic link" && kind !== "a socket") utimesSync(path, old, old);
      fresh.prune(new Date());
      assert.ok(still(path), `${kind} left in place`);
    }
    // The directory's other entries still work.
    const ok = cacheKey(["regular"]);
    cache.write(tokenEntry(ok));
    assert.equal(cache.read(ok)?.token?.token, "k8s-aws-v1.x");
    assert.equal(cache.blocked, undefined);
  });
});

describe("xeks token against moto: single flight", () => {
  let moto: MotoServer;
  const envs: IsolatedEnv[] = [];
  before(async () => {
    moto = await startMoto();
  });
  after(async () => {
    await moto?.stop();
    for (const e of envs) e.cleanup();
  });

  function isolated(vars: Record<string, string> = {}): IsolatedEnv {
    const e = isolatedAwsEnv({
      vars: {
        AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
        AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        AWS_ENDPOINT_URL_STS: moto.url,
        AWS_REGION: "ap-south-1",
        ...vars,
      },
    });
    envs.push(e);
    return e;
  }
  const cacheDir = (e: IsolatedEnv) => join(e.cacheHome, "xeks");
  const assumeRoles = () => moto.count("AssumeRole", "sts");

  function assertValid(stdout: string): string {
    const cred = parseExecCredential(stdout);
    assert.equal(cred.kind, "ExecCredential");
    const verdict = verifyToken(cred.token, { now: new Date() });
    assert.ok(verdict.ok, JSON.stringify(verdict));
    assert.ok(cred.accessKeyId.startsWith("ASIA"), "signed with the assumed role's key");
    return cred.token;
  }

  /** The entry's file name (`<hash>.json`) for ARGS in this environment, made by one call. */
  async function entryPath(e: IsolatedEnv): Promise<string> {
    const r = await xeksAsync(ARGS, { env: e.env });
    assert.equal(r.status, 0, r.stderr);
    const [name] = readdirSync(cacheDir(e)).filter((f) => f.endsWith(".json"));
    assert.ok(name);
    return join(cacheDir(e), name);
  }

  for (const n of [50, 10]) {
    test(`${n} concurrent cold calls: ${n} valid ExecCredentials, exactly one AssumeRole`, async () => {
      // A generous bound, so that a loaded machine cannot turn a slow holder into a second AssumeRole.
      const e = isolated({ XEKS_AWS_TIMEOUT_MS: "60000" });
      const before = assumeRoles();
      const results = await Promise.all(
        Array.from({ length: n }, () => xeksAsync(ARGS, { env: e.env, timeoutMs: 120_000 })),
      );
      const tokens = new Set<string>();
      for (const r of results) {
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stderr, "");
        tokens.add(assertValid(r.stdout));
      }
      assert.equal(assumeRoles() - before, 1);
      assert.equal(tokens.size, 1, "every caller printed the holder's token");
      assert.deepEqual(
        readdirSync(cacheDir(e)).filter((f) => !f.endsWith(".json")),
        [],
        "no lock or temporary file left",
      );
    });
  }

  test("a FIFO as the cache entry: a prompt, valid credential each time; the FIFO stays a FIFO", async () => {
    const e = isolated();
    const path = await entryPath(e);
    rmSync(path);
    mkfifo(path);
    for (let i = 0; i < 2; i++) {
      const before = assumeRoles();
      // A hang would be killed at the timeout and fail the status check.
      const r = await xeksAsync(ARGS, { env: e.env, timeoutMs: 30_000 });
      assert.equal(r.status, 0, r.stderr);
      assertValid(r.stdout);
      assert.equal(assumeRoles() - before, 1, "not cached: minted");
      const lines = r.stderr.split("\n").filter((l) => l !== "");
      assert.equal(lines.length, 1, r.stderr);
      assert.match(
        lines[0] ?? "",
        /^xeks: warning: cannot write the token cache .* is a FIFO, not a regular file/,
      );
      assert.ok(lstatSync(path).isFIFO());
      assert.equal(lstatSync(lockPathFor(path), { throwIfNoEntry: false }), undefined, "no lock taken");
    }
  });

  test("a lock left by a dead process is removed and the call goes on at once", async () => {
    const e = isolated({ XEKS_AWS_TIMEOUT_MS: "120000" });
    const path = await entryPath(e);
    rmSync(path);
    const lock = lockPathFor(path);
    writeLock(lock, { pid: deadPid(), host: hostname(), at: new Date().toISOString() });
    const before = assumeRoles();
    // Waiting for the 120 s bound would be killed at 60 s and fail the status check.
    const r = await xeksAsync(ARGS, { env: e.env, timeoutMs: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "");
    assertValid(r.stdout);
    assert.equal(assumeRoles() - before, 1);
    assert.equal(lstatSync(lock, { throwIfNoEntry: false }), undefined);
    assert.ok(lstatSync(path).isFile(), "cached again");
  });

  test("a live pid's lock dated a day ahead: no wait, one AssumeRole for 3 concurrent calls", async () => {
    // Before: each call waited the whole bound (60 s here) and then each refreshed on its own.
    const e = isolated({ XEKS_AWS_TIMEOUT_MS: "60000" });
    const path = await entryPath(e);
    rmSync(path);
    const lock = lockPathFor(path);
    writeLock(lock, { pid: 1, host: hostname(), at: new Date().toISOString() });
    const tomorrow = new Date(Date.now() + 24 * 3600_000);
    utimesSync(lock, tomorrow, tomorrow);
    const before = assumeRoles();
    const results = await Promise.all(
      Array.from({ length: 3 }, () => xeksAsync(ARGS, { env: e.env, timeoutMs: 30_000 })),
    );
    const tokens = new Set<string>();
    for (const r of results) {
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, "");
      tokens.add(assertValid(r.stdout));
    }
    assert.equal(assumeRoles() - before, 1, "one single refresh");
    assert.equal(tokens.size, 1);
    assert.equal(lstatSync(lock, { throwIfNoEntry: false }), undefined, "the future lock is gone");
  });

  test("a live process's lock: waited on up to the bound, not at all past it; never removed", async () => {
    const sleeper: ChildProcess = spawn("sleep", ["60"], { stdio: "ignore" });
    try {
      const owner = { pid: sleeper.pid, host: hostname(), at: new Date().toISOString() };

      // Older than the (default, 10 s) bound: no wait at all.
      const e = isolated({ XEKS_AWS_TIMEOUT_MS: "10000" });
      const path = await entryPath(e);
      rmSync(path);
      const lock = lockPathFor(path);
      writeLock(lock, owner, 60_000);
      const before = assumeRoles();
      const r = await xeksAsync(ARGS, { env: { ...e.env, XEKS_DEBUG: "1" }, timeoutMs: 9_000 });
      assert.equal(r.status, 0, r.stderr);
      assertValid(r.stdout);
      assert.match(r.stderr, /refreshing without the lock: ignored .* older than the 10000 ms bound/);
      assert.equal(assumeRoles() - before, 1);
      assert.deepEqual(JSON.parse(readFileSync(lock, "utf8")), owner, "a live holder's lock is not removed");

      // Young, with a 1 s bound: the call waits for it, then refreshes on its own.
      const e2 = isolated({ XEKS_AWS_TIMEOUT_MS: "1000" });
      const path2 = await entryPath(e2);
      rmSync(path2);
      writeLock(lockPathFor(path2), owner);
      const r2 = await xeksAsync(ARGS, { env: { ...e2.env, XEKS_DEBUG: "1" }, timeoutMs: 30_000 });
      assert.equal(r2.status, 0, r2.stderr);
      assertValid(r2.stdout);
      // Which of the two is seen first depends on timing: the lock's age reaches the bound as our wait does.
      assert.match(
        r2.stderr,
        /refreshing without the lock: (gave up waiting .* after 1000 ms|ignored .* older than the 1000 ms bound)/,
      );
      assert.ok(lstatSync(lockPathFor(path2)).isFile());
      assert.ok(lstatSync(path2).isFile(), "the entry is written anyway");
    } finally {
      sleeper.kill("SIGKILL");
    }
  });

  describe("no lock is left behind", () => {
    let silent: TcpFixture;
    before(async () => {
      silent = await startSilentServer();
    });
    after(async () => {
      await silent?.close();
    });

    test("when STS fails (timeouts): every caller exits 1 with one message, and the lock is gone", async () => {
      const e = isolated({
        AWS_ENDPOINT_URL_STS: `http://127.0.0.1:${silent.port}`,
        XEKS_AWS_TIMEOUT_MS: "300",
      });
      const results = await Promise.all(
        Array.from({ length: 4 }, () => xeksAsync(ARGS, { env: e.env, timeoutMs: 45_000 })),
      );
      for (const r of results) {
        assert.equal(r.status, 1, r.stderr);
        assert.match(r.stderr, /timed out/);
      }
      assert.deepEqual(readdirSync(cacheDir(e)), [], "no lock, no entry, no temporary file");
    });

    test("when the holder is stopped by SIGINT or SIGTERM while STS does not answer", async () => {
      for (const signal of ["SIGINT", "SIGTERM"] as const) {
        const e = isolated({
          AWS_ENDPOINT_URL_STS: `http://127.0.0.1:${silent.port}`,
          XEKS_AWS_TIMEOUT_MS: "30000",
        });
        const child = spawn(XEKS, ARGS, { env: e.env, stdio: "ignore" });
        const exited = new Promise<NodeJS.Signals | null>((resolve) =>
          child.on("exit", (_c, s) => resolve(s)),
        );
        try {
          // Wait (bounded) for the lock to appear: the holder is then waiting on the silent endpoint.
          let lock: string | undefined;
          for (let i = 0; i < 1500 && !lock; i++) {
            await new Promise((r) => setTimeout(r, 20));
            try {
              lock = readdirSync(cacheDir(e)).find((f) => f.endsWith(".lock"));
            } catch {
              // the directory is not there yet
            }
          }
          assert.ok(lock, "the holder took the lock");
          child.kill(signal);
          assert.equal(await exited, signal, "the process still dies of the signal");
          assert.deepEqual(readdirSync(cacheDir(e)), [], `the lock is removed on ${signal}`);
        } finally {
          child.kill("SIGKILL");
        }
      }
    });
  });
});
