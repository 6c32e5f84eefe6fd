/**
 * `xeks doctor --from-client [FILE] [--client NAME] [--role-arn ARN|NAME]`: run on the client instance, walk
 * the chain the way kubectl does (src/probe) and print the client report. Hooked into `xeks doctor` by
 * `withFromClientOptions(program.command("doctor"))` and, first thing in its action,
 * `if (await fromClientBranch(file, opts)) return;`.
 */
import { hostname } from "node:os";
import type { Command } from "commander";
import { InputError } from "../errors.js";
import { collect } from "./profiles.js";
import { deprecatedAlias } from "./vocabulary.js";

export interface FromClientFlags {
  fromClient?: boolean;
  client?: string;
  roleArn?: string;
  timeout?: string;
  deadline?: string;
  resolve?: string[];
  sessionName?: string;
  output?: string;
  report?: string;
  verbose?: boolean;
  clusterProfile?: string;
  clientProfile?: string[];
  profile?: string;
  assumeRoleName?: string;
}

/** Add the flags of the client probe to the doctor command. */
export function withFromClientOptions(cmd: Command): Command {
  cmd
    .option(
      "--from-client",
      "run on the client instance: walk the chain as kubectl does (identity, AssumeRole, DNS, TCP, TLS, token, whoami, can-i)",
    )
    .option(
      "--client <name>",
      "with --from-client: the topology's client this instance is (default: the only one)",
    )
    .option(
      "--role-arn <arn>",
      "with --from-client: the access role to assume, its ARN or name (default: the client's only one)",
    )
    // No commander defaults: an explicit --timeout or --deadline without --from-client must be refused.
    .option(
      "--timeout <ms>",
      "with --from-client: time limit of each network step in milliseconds (default 5000)",
    )
    .option(
      "--deadline <ms>",
      "with --from-client: time limit of the whole probe in milliseconds (default 30000)",
    )
    .option(
      "--resolve <host:addr>",
      "with --from-client: resolve HOST to ADDR[,ADDR...] (as curl --resolve), or to nxdomain|nodata|servfail|timeout (repeatable)",
      collect,
    )
    .option(
      "--session-name <name>",
      "with --from-client: RoleSessionName for AssumeRole (default as xeks token)",
    );
  return deprecatedAlias(cmd, "--access-role <name>", "--role-arn");
}

function parseMs(value: string, flag: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < min || n > max) {
    throw new InputError(`bad ${flag} "${value}"`, [
      { path: flag, message: `expected milliseconds, a whole number from ${min} to ${max}` },
    ]);
  }
  return n;
}

/**
 * The doctor action's branch: returns false when --from-client is not given (after checking that no
 * probe-only flag was), else runs the probe, prints, sets the exit code and returns true.
 */
export async function fromClientBranch(file: string, opts: FromClientFlags): Promise<boolean> {
  if (!opts.fromClient) {
    const stray = (
      [
        ["--client", opts.client],
        ["--role-arn", opts.roleArn],
        ["--session-name", opts.sessionName],
        ["--resolve", opts.resolve?.length ? "x" : undefined],
        ["--timeout", opts.timeout],
        ["--deadline", opts.deadline],
      ] as const
    ).filter(([, v]) => v !== undefined);
    if (stray.length > 0) {
      throw new InputError(`${stray.map(([f]) => f).join(", ")} only with --from-client`, [
        {
          path: stray[0]?.[0] ?? "",
          message: "add --from-client to probe from the client instance, or drop it",
        },
      ]);
    }
    return false;
  }
  await runFromClient(file, opts);
  return true;
}

export async function runFromClient(file: string, opts: FromClientFlags): Promise<void> {
  const output = opts.output ?? "text";
  if (output !== "text" && output !== "json") {
    throw new InputError(`unknown output format "${output}"`, [
      { path: "--output", message: "expected text or json" },
    ]);
  }
  if (
    opts.clusterProfile !== undefined ||
    (opts.clientProfile?.length ?? 0) > 0 ||
    opts.profile !== undefined ||
    opts.assumeRoleName !== undefined
  ) {
    throw new InputError(
      "--cluster-profile, --client-profile, --profile and --assume-role-name do not apply with --from-client",
      [
        {
          path:
            opts.clusterProfile !== undefined
              ? "--cluster-profile"
              : (opts.clientProfile?.length ?? 0) > 0
                ? "--client-profile"
                : opts.profile !== undefined
                  ? "--profile"
                  : "--assume-role-name",
          message: "the probe uses the instance's own credentials, as kubectl does; drop the flag",
        },
      ],
    );
  }
  const timeoutMs = parseMs(opts.timeout ?? "5000", "--timeout", 10, 120_000);
  const deadlineMs = parseMs(opts.deadline ?? "30000", "--deadline", 10, 600_000);
  const { parseResolveSpecs, tableResolver, systemResolver, probeFromClient } = await import(
    "../probe/index.js"
  );
  const table = parseResolveSpecs(opts.resolve ?? []);
  const resolver = Object.keys(table).length > 0 ? tableResolver(table, systemResolver()) : undefined;
  if (opts.sessionName !== undefined) {
    const { SESSION_NAME_PATTERN } = await import("../token/environment.js");
    if (!SESSION_NAME_PATTERN.test(opts.sessionName)) {
      throw new InputError(`bad --session-name "${opts.sessionName}"`, [
        { path: "--session-name", message: "expected 2-64 characters of letters, digits and +=,.@_-" },
      ]);
    }
  }
  const { loadTopology } = await import("../topology/load.js");
  const topology = loadTopology(file);
  const { reserveReportFile } = await import("./report-file.js");
  const reportFile = opts.report ? reserveReportFile(opts.report) : undefined;
  const started = Date.now();
  const report = await probeFromClient({
    topology,
    ...(opts.client !== undefined ? { client: opts.client } : {}),
    ...(opts.roleArn !== undefined ? { accessRole: opts.roleArn } : {}),
    ...(opts.sessionName !== undefined ? { sessionName: opts.sessionName } : {}),
    ...(resolver ? { resolver } : {}),
    timeoutMs,
    deadlineMs,
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const { exitCodeFor, renderHtml, renderJson, renderText } = await import("../report/index.js");
  let text: string;
  if (output === "json") {
    text = renderJson(report);
  } else {
    const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
    text =
      renderText(report, { color, verbose: opts.verbose }) +
      `\nProbed from ${hostname()} in ${seconds} s (each step at most ${timeoutMs} ms, the whole probe at most ${deadlineMs} ms)` +
      `${opts.report ? `; HTML report: ${opts.report}` : ""}.\n`;
  }
  process.exitCode = exitCodeFor(report);
  await new Promise<void>((resolve) => process.stdout.write(text, () => resolve()));
  try {
    reportFile?.write(renderHtml(report, { clients: report.clients }));
  } finally {
    reportFile?.discard();
  }
  // A step that timed out may leave a lookup or socket behind that keeps the process alive: do not wait for it.
  setTimeout(() => process.exit(), 200).unref();
}
