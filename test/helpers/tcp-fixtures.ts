/**
 * TCP endpoints that misbehave, on loopback only:
 *  - `startBlackhole`: a listener whose accept queue is full (a python3 helper listens with backlog 0 and
 *    never accepts, and fills the queue itself), so the kernel drops new SYNs and a connect times out, as
 *    behind a missing route or a security group.
 *  - `startSilentServer`: accepts TCP and never says a word (a TLS handshake then times out).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type Socket } from "node:net";

export interface TcpFixture {
  host: string;
  port: number;
  close(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

const BLACKHOLE = `
import socket, sys
host = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind((host, 0))
s.listen(0)
port = s.getsockname()[1]
fillers = []
for i in range(3):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.setblocking(False)
    try:
        c.connect((host, port))
    except BlockingIOError:
        pass
    fillers.append(c)
print(port, flush=True)
sys.stdin.read()
`;

export function startBlackhole(host = "127.0.0.1"): Promise<TcpFixture> {
  if (!host.startsWith("127.")) throw new Error("blackhole fixtures stay on 127.0.0.0/8");
  return new Promise((resolve, reject) => {
    const child = spawn("python3", ["-c", BLACKHOLE, host], { stdio: ["pipe", "pipe", "pipe"] });
    running.add(child);
    let out = "";
    let err = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      err += d;
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      if (!out.includes("\n")) reject(new Error(`blackhole helper exited (${code}): ${err}`));
    });
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      if (!out.includes("\n")) return;
      const port = Number(out.trim());
      resolve({
        host,
        port,
        close: () =>
          new Promise<void>((done) => {
            running.delete(child);
            if (child.exitCode !== null) return done();
            child.once("exit", () => done());
            child.stdin.end();
            child.kill("SIGTERM");
          }),
      });
    });
  });
}

export async function startSilentServer(host = "127.0.0.1"): Promise<TcpFixture> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const addr = server.address();
  return {
    host,
    port: typeof addr === "object" && addr ? addr.port : 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
