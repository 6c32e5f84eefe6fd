/**
 * The lab's AWS emulator: `moto_server` on 127.0.0.1, with the project's moto patches (src/sandbox/patches.ts) or
 * as shipped. One implementation for `xeks sandbox up` (detached, output in DIR/moto.log, src/sandbox/up.ts) and
 * the tests (a child of the test process, test/helpers/moto.ts). moto listens on the given port only and routes
 * by the SigV4 credential scope (moto docs, "Server mode"). Nothing here prints.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { InputError, OperationError } from "../errors.js";
import { motoPatchEnv } from "./patches.js";
import {
  findOnPath,
  freePorts,
  httpAnswers,
  processIdentity,
  SANDBOX_WAITS,
  startDetached,
  stopChild,
  tail,
  waitFor,
} from "./processes.js";

/** The one command that installs moto_server (moto's docs, "Server mode"). */
export const MOTO_INSTALL_COMMAND = "pip install 'moto[server]'";

/**
 * The path of `moto_server` on `env.PATH`. Errors: InputError (exit 2, path `moto_server`) naming
 * MOTO_INSTALL_COMMAND when it is not there.
 */
export function findMoto(env: NodeJS.ProcessEnv = process.env): string {
  const moto = findOnPath("moto_server", env.PATH);
  if (!moto)
    throw new InputError("moto_server is not installed: the sandbox's AWS emulator is moto", [
      { path: "moto_server", message: `install it with: ${MOTO_INSTALL_COMMAND}` },
    ]);
  return moto;
}

/** Options of `startMoto`. */
export interface StartMotoOptions {
  /** Port of 127.0.0.1. Default: a free one. */
  port?: number;
  /** Environment to find moto_server on (PATH) and start it with. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * With the moto patches (default true: PYTHONPATH gets src/sandbox/moto-patches, XEKS_MOTO_SHIM=1); false starts
   * moto as shipped (nothing added; XEKS_MOTO_SHIM from `vars` applies, e.g. "0").
   */
  patches?: boolean;
  /** More variables, over `env` and the patches' (e.g. XEKS_SANDBOX_EKS_URL, MOTO_ENABLE_RECORDING). */
  vars?: Record<string, string>;
  /**
   * Detached, as the leader of a new process group, its output appended to DIR/NAME (files.ts openLog), working
   * directory DIR: how `sandbox up` starts it, so that it outlives the CLI. Default: a child of this process
   * (not detached, killed with it by whoever holds it), its stderr kept (last 4,000 characters) for the error.
   */
  log?: { dir: string; name: string };
  /** Called as soon as the process exists, before it answers (`up` records it in state.json then). */
  onSpawn?: (child: ChildProcess & { pid: number }) => void;
  /** Aborting it stops the wait: the process is stopped and startMoto rejects with OperationError "interrupted". */
  signal?: AbortSignal;
  /** Bound on the wait for the first answer, ms. Default SANDBOX_WAITS.motoMs (60 s). */
  waitMs?: number;
}

/** A running moto_server. */
export interface MotoProcess {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  child: ChildProcess & { pid: number };
  /** SIGTERM (its group when detached), SIGKILL after SANDBOX_WAITS.stopMs; true once it exited. */
  stop(): Promise<boolean>;
}

/**
 * Start moto_server on 127.0.0.1 and wait until it answers GET /moto-api/data.json. Errors: InputError when
 * moto_server is not on PATH (nothing started); OperationError when it exits or does not answer within the
 * bound, or `signal` aborts (the process is stopped first, its log's or stderr's last lines in the message).
 */
export async function startMoto(options: StartMotoOptions = {}): Promise<MotoProcess> {
  const env = options.env ?? process.env;
  const moto = findMoto(env);
  const port = options.port ?? ((await freePorts(1))[0] as number);
  const url = `http://127.0.0.1:${port}`;
  const childEnv: NodeJS.ProcessEnv = {
    ...env,
    ...(options.patches === false ? {} : motoPatchEnv(env.PYTHONPATH)),
    ...options.vars,
  };
  const args = ["-H", "127.0.0.1", "-p", String(port)];
  let stderr = "";
  let child: ChildProcess & { pid: number };
  if (options.log) {
    child = startDetached(moto, args, childEnv, options.log.dir, options.log.name, options.log.dir);
  } else {
    const c = spawn(moto, args, { env: childEnv, stdio: ["ignore", "ignore", "pipe"] });
    c.on("error", () => {});
    c.stderr?.setEncoding("utf8").on("data", (d: string) => {
      stderr = (stderr + d).slice(-4000);
    });
    if (c.pid === undefined) throw new OperationError(`could not start ${moto}`);
    child = c as ChildProcess & { pid: number };
  }
  const why = () =>
    options.log
      ? `log ${join(options.log.dir, options.log.name)}: ${tail(join(options.log.dir, options.log.name))}`
      : `stderr: ${stderr.trim().split("\n").slice(-5).join(" | ")}`;
  const waitMs = options.waitMs ?? SANDBOX_WAITS.motoMs;
  try {
    // Inside the try: a callback that throws (recording the process, writing state) still stops the child.
    options.onSpawn?.(child);
    if (!(await waitFor(() => httpAnswers(`${url}/moto-api/data.json`), child.pid, waitMs, options.signal)))
      throw new OperationError(
        processIdentity(child.pid)
          ? `moto_server did not answer on ${url} within ${waitMs / 1000} s (${why()})`
          : `moto_server exited before it answered on ${url} (${why()})`,
      );
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return { url, port, child, stop: () => stopChild(child) };
}
