/**
 * Asynchronous process runs for tests that also serve HTTP in-process (a fake IMDS, a fake Kubernetes API):
 * spawnSync would block the event loop those servers need.
 */
import { spawn } from "node:child_process";
import { XEKS } from "./cli.js";

export interface AsyncRunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function run(
  command: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<AsyncRunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
    // A child that exits before reading its input (a refusal at once) closes the pipe: EPIPE is not an error here.
    child.stdin.on("error", () => {});
    child.stdin.end(opts.input ?? "");
  });
}

/** `bin/xeks ARGS`, asynchronously. */
export function xeksAsync(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<AsyncRunResult> {
  return run(XEKS, args, opts);
}
