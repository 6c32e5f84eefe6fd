/**
 * `xeks sandbox up [--port P] [--dir DIR]`, `xeks sandbox down [--dir DIR]`, `xeks sandbox status [--dir DIR]`:
 * a two-account EKS lab on 127.0.0.1 (moto_server with the project's patches, the EKS emulator, a Kubernetes
 * API stand-in), for the guided tour (docs/tour.md). The rules are in src/sandbox/up.ts.
 */
import type { Command } from "commander";
import { shellQuote } from "../domain/shell.js";
import { InputError } from "../errors.js";
import { SIGNAL_EXIT } from "./interrupt.js";

interface DirOptions {
  dir?: string;
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1024 || n > 65533)
    throw new InputError(`bad --port "${value}"`, [
      {
        path: "--port",
        message:
          "expected a base port P from 1024 to 65533 (the sandbox listens on P, P+1 and P+2 of 127.0.0.1)",
      },
    ]);
  return n;
}

export function registerSandbox(program: Command): void {
  const sandbox = program
    .command("sandbox")
    .description(
      "A two-account EKS lab on this machine, on 127.0.0.1 only: moto_server (the AWS emulator, with the moto " +
        "patches xeks ships), an EKS emulator with access entries, and a Kubernetes API stand-in that " +
        "authenticates EKS tokens and authorizes with the access policies. For the guided tour: docs/tour.md.",
    );
  sandbox
    .command("up")
    .description(
      "Start the sandbox and create the two accounts' starting state (VPCs, subnets, route tables, the cluster). " +
        "Writes DIR/env.sh (source it), DIR/aws-config (profiles sandbox-cluster and sandbox-ops) and DIR/xeks.yaml " +
        "(the seed topology with the sandbox's ids). Exit 2 when moto_server is not installed (nothing started).",
    )
    .option(
      "--port <port>",
      "base port P: moto P, EKS emulator P+1, Kubernetes stand-in P+2 (default: free ports)",
    )
    .option(
      "--dir <dir>",
      "state directory: a new one is created mode 0700; an existing one must be yours, not writable by group or " +
        "others, and empty or an earlier sandbox's",
      ".xeks-sandbox",
    )
    .action(async (opts: DirOptions & { port?: string }) => {
      const port = parsePort(opts.port);
      const { sandboxUp } = await import("../sandbox/up.js");
      // SIGINT/SIGTERM while starting: `up` stops what it started and removes its partial state.json, then this
      // exits 130/143 (interrupt.ts SIGNAL_EXIT); a second signal exits at once.
      const controller = new AbortController();
      let first: "SIGINT" | "SIGTERM" | undefined;
      const onSignal = (sig: "SIGINT" | "SIGTERM") => {
        if (first) process.exit(SIGNAL_EXIT[first]);
        first = sig;
        process.stderr.write(
          `\nxeks: ${sig}: stopping what sandbox up started (${sig === "SIGINT" ? "Ctrl-C" : "SIGTERM"} again exits at once)\n`,
        );
        controller.abort();
      };
      const onInt = () => onSignal("SIGINT");
      const onTerm = () => onSignal("SIGTERM");
      process.on("SIGINT", onInt);
      process.on("SIGTERM", onTerm);
      let r: Awaited<ReturnType<typeof sandboxUp>>;
      try {
        r = await sandboxUp({
          dir: opts.dir,
          signal: controller.signal,
          ...(port !== undefined ? { port } : {}),
        });
      } catch (err) {
        if (!first) throw err;
        process.stderr.write(
          `xeks: sandbox up interrupted (${first}): the processes it had started are stopped, nothing is recorded\n`,
        );
        // A call to moto in flight may hold a timer: exit now rather than wait for it.
        process.exit(SIGNAL_EXIT[first]);
      } finally {
        process.off("SIGINT", onInt);
        process.off("SIGTERM", onTerm);
      }
      const rel = opts.dir ?? ".xeks-sandbox";
      process.stdout.write(
        [
          `sandbox up in ${r.dir}`,
          `  AWS (moto_server)      ${r.urls.moto}   pid ${r.state.processes[0]?.pid}`,
          `  EKS emulator           ${r.urls.eks}`,
          `  Kubernetes stand-in    ${r.urls.kube}   pid ${r.state.processes[1]?.pid}`,
          `  cluster ${"prac-eks-abhi"} in 111111111111 (vpc ${r.state.ids.cluster.vpcId}), client ops in 222222222222 (vpc ${r.state.ids.client.vpcId})`,
          "next:",
          `  source ${shellQuote(`${rel}/env.sh`)}`,
          `  xeks deploy ${shellQuote(`${rel}/xeks.yaml`)} --cluster-profile sandbox-cluster --client-profile ops=sandbox-ops --yes`,
          `stop: xeks sandbox down${opts.dir && opts.dir !== ".xeks-sandbox" ? ` --dir ${shellQuote(opts.dir)}` : ""}`,
          "",
        ].join("\n"),
      );
    });
  sandbox
    .command("down")
    .description(
      "Stop the processes `sandbox up` started from DIR (only those: checked by start time and command line).",
    )
    .option("--dir <dir>", "state directory", ".xeks-sandbox")
    .action(async (opts: DirOptions) => {
      const { sandboxDown } = await import("../sandbox/up.js");
      const r = await sandboxDown(opts.dir);
      if (r.processes.length === 0) {
        process.stdout.write(`no sandbox recorded in ${r.dir}\n`);
        return;
      }
      for (const p of r.processes) {
        const what =
          p.outcome === "stopped"
            ? "stopped"
            : p.outcome === "gone"
              ? "had already exited"
              : "left alone: its pid now belongs to another process";
        process.stdout.write(`${p.name} (pid ${p.pid}): ${what}\n`);
      }
      if (r.stillListening.length > 0) {
        process.stderr.write(
          `xeks: port ${r.stillListening.join(", ")} of 127.0.0.1 still listens (another process)\n`,
        );
        process.exitCode = 1;
      }
    });
  sandbox
    .command("status")
    .description("Say which sandbox processes run and listen. Exit 0 when all do, 1 otherwise.")
    .option("--dir <dir>", "state directory", ".xeks-sandbox")
    .action(async (opts: DirOptions) => {
      const { sandboxStatus } = await import("../sandbox/up.js");
      const s = sandboxStatus(opts.dir);
      if (s.processes.length === 0) {
        process.stdout.write(`no sandbox recorded in ${s.dir}\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`sandbox in ${s.dir}: ${s.running ? "running" : "not running"}\n`);
      for (const p of s.processes) {
        process.stdout.write(
          `  ${p.name.padEnd(12)} pid ${p.pid}  ${p.alive ? "alive" : "not running"}, port ${p.port} ${p.listening ? "listening" : "closed"}\n`,
        );
      }
      if (s.urls)
        process.stdout.write(`  AWS ${s.urls.moto}  EKS ${s.urls.eks}  Kubernetes ${s.urls.kube}\n`);
      if (!s.running) process.exitCode = 1;
    });
}
