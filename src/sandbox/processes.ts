/**
 * The sandbox's process plumbing, shared by `xeks sandbox up` (src/sandbox/up.ts), the lab's moto_server
 * (src/sandbox/moto.ts) and the tests that start the same lab: finding an executable, free loopback ports,
 * bounded waits that an AbortSignal interrupts, starting a detached process with its output in a log file, and
 * stopping a child (SIGTERM, then SIGKILL after a bound). Linux /proc gives process identities and groups.
 * Nothing here prints.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { connect, createServer, type Server } from "node:net";
import { delimiter, join } from "node:path";
import { OperationError } from "../errors.js";
import { openLog } from "./files.js";

/**
 * Bounds, ms (documented in up.ts's module comment and docs/tour.md): moto_server answers within motoMs, the serve
 * process listens within serveMs; a stopped process gets stopMs after SIGTERM, then killMs after SIGKILL.
 */
export const SANDBOX_WAITS = { motoMs: 60_000, serveMs: 20_000, stopMs: 5_000, killMs: 2_000 } as const;

/** The executable `name` on `pathVar`, or undefined. */
export function findOnPath(name: string, pathVar: string | undefined): string | undefined {
  for (const d of (pathVar ?? "").split(delimiter)) {
    if (!d) continue;
    const f = join(d, name);
    try {
      if (existsSync(f)) return f;
    } catch {
      // unreadable folder: skip
    }
  }
  return undefined;
}

/** /proc/PID/stat start time and /proc/PID/cmdline; undefined when no such process (or no /proc). */
export function processIdentity(pid: number): { startTime: string; cmdline: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
    if (fields[0] === "Z") return undefined;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return { startTime: fields[19] ?? "", cmdline };
  } catch {
    return undefined;
  }
}

/** Loopback ports in LISTEN state (/proc/net/tcp, 127.0.0.1 and 0.0.0.0). */
export function listeningPorts(): Set<number> {
  const out = new Set<number>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] !== "0A") continue; // TCP_LISTEN
      const port = Number.parseInt(cols[1]?.split(":")[1] ?? "", 16);
      if (Number.isFinite(port)) out.add(port);
    }
  }
  return out;
}

/**
 * `n` distinct free ports of 127.0.0.1: all `n` listeners are held open while the ports are drawn (so the kernel
 * cannot hand out one twice), then closed.
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const srv = createServer();
      servers.push(srv);
      await new Promise<void>((ok, fail) => {
        srv.once("error", fail);
        srv.listen(0, "127.0.0.1", () => ok());
      });
    }
    return servers.map((srv) => {
      const addr = srv.address();
      return typeof addr === "object" && addr ? addr.port : 0;
    });
  } finally {
    await Promise.all(servers.map((srv) => new Promise<void>((done) => srv.close(() => done()))));
  }
}

/** The rejection of an aborted start (`sandbox up`'s message). */
export function interrupted(): OperationError {
  return new OperationError("sandbox up interrupted");
}

/** `p`, or a rejection as soon as `signal` aborts. */
export function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(interrupted());
  return new Promise<T>((ok, fail) => {
    const onAbort = () => fail(interrupted());
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        ok(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        fail(e);
      },
    );
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether `url` answers any HTTP status within 1 s. */
export function httpAnswers(url: string): Promise<boolean> {
  return new Promise((done) => {
    const req = request(url, { method: "GET", timeout: 1000 }, (res) => {
      res.resume();
      done(true);
    });
    req.on("error", () => done(false));
    req.on("timeout", () => {
      req.destroy();
      done(false);
    });
    req.end();
  });
}

/** Whether port `port` of 127.0.0.1 accepts a TCP connection within 1 s. */
export function tcpAnswers(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = connect({ host: "127.0.0.1", port, timeout: 1000 });
    s.on("connect", () => {
      s.destroy();
      done(true);
    });
    s.on("error", () => done(false));
    s.on("timeout", () => {
      s.destroy();
      done(false);
    });
  });
}

/**
 * Wait until `ready()` or the deadline; false when the process died or the time ran out. Rejects ("interrupted")
 * as soon as `signal` aborts.
 */
export async function waitFor(
  ready: () => Promise<boolean>,
  pid: number,
  ms: number,
  signal?: AbortSignal,
): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await abortable(ready(), signal)) return true;
    if (!processIdentity(pid)) return false;
    await sleep(100);
  }
  return false;
}

/** The last 5 lines of a log file, joined by " | " (empty when unreadable). */
export function tail(file: string): string {
  try {
    const lines = readFileSync(file, "utf8").trim().split("\n");
    return lines.slice(-5).join(" | ");
  } catch {
    return "";
  }
}

/** /proc/PID/stat field 5 (the process group id), or undefined. */
export function processGroupOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const pgrp = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
    return Number.isInteger(pgrp) ? pgrp : undefined;
  } catch {
    return undefined;
  }
}

/** Start `command` in a new process group (detached), output appended to DIR/log (files.ts openLog). */
export function startDetached(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  dir: string,
  logName: string,
  cwd: string,
): ChildProcess & { pid: number } {
  const fd = openLog(dir, logName);
  const log = join(dir, logName);
  try {
    const child = spawn(command, args, { cwd, env, detached: true, stdio: ["ignore", fd, fd] });
    child.on("error", () => {});
    child.unref();
    if (child.pid === undefined) throw new OperationError(`could not start ${command} (see ${log})`);
    return child as ChildProcess & { pid: number };
  } finally {
    closeSync(fd);
  }
}

/**
 * Stop a process this process started and still holds: while node has not seen it exit its pid cannot be reused,
 * so no identity check is needed (a pyenv shim may have exec'd into python since it was recorded). SIGTERM to
 * its process group (spawned detached, it leads one) or to it alone if it left the group, SIGKILL after
 * SANDBOX_WAITS.stopMs; true once it exited (within SANDBOX_WAITS.killMs more).
 */
export async function stopChild(child: ChildProcess & { pid: number }): Promise<boolean> {
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  if (exited()) return true;
  const exit = new Promise<true>((done) => child.once("exit", () => done(true)));
  const within = async (ms: number) => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((done) => {
      timer = setTimeout(() => done(false), ms);
    });
    const r = await Promise.race([exit, late]);
    clearTimeout(timer);
    return r || exited();
  };
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(processGroupOf(child.pid) === child.pid ? -child.pid : child.pid, sig);
    } catch {
      // already gone
    }
  };
  signal("SIGTERM");
  if (await within(SANDBOX_WAITS.stopMs)) return true;
  signal("SIGKILL");
  return within(SANDBOX_WAITS.killMs);
}
