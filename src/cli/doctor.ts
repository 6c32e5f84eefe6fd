/**
 * `xeks doctor [FILE]`: live and read-only. Reads the real state of the cluster account and every client account,
 * then runs the same links as `plan` on it and prints the same report (text, `--output json`, `--report FILE.html`).
 * Exit 0 when the verdict is pass, 1 when a link fails or could not be decided, 2 for bad input.
 */
import type { Command } from "commander";
import { InputError } from "../errors.js";
import { type FromClientFlags, fromClientBranch, withFromClientOptions } from "./probe.js";

interface DoctorOptions {
  clusterProfile?: string;
  clientProfile: string[];
  output: string;
  report?: string;
  concurrency: string;
  verbose?: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `NAME=PROFILE` pairs of `--client-profile`, checked for shape. */
export function parseClientProfiles(
  values: readonly string[],
  flag = "--client-profile",
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const m = /^([a-z][a-z0-9-]{0,30})=(\S+)$/.exec(v);
    if (!m?.[1] || !m[2]) {
      throw new InputError(`bad ${flag} "${v}"`, [
        {
          path: flag,
          message: "expected NAME=PROFILE: a client name of the topology, =, an AWS profile name",
        },
      ]);
    }
    if (out[m[1]] !== undefined && out[m[1]] !== m[2]) {
      throw new InputError(`${flag} gives client ${m[1]} two profiles`, [
        { path: flag, message: `${m[1]}=${out[m[1]]} and ${m[1]}=${m[2]}: give one` },
      ]);
    }
    out[m[1]] = m[2];
  }
  return out;
}

export function parseConcurrency(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) {
    throw new InputError(`bad --concurrency "${value}"`, [
      { path: "--concurrency", message: "expected a whole number from 1 to 64" },
    ]);
  }
  return n;
}

export function registerDoctor(program: Command): void {
  withFromClientOptions(program.command("doctor"))
    .summary("Live, read-only. Check every link of the chain on the real accounts.")
    .description(
      "Live and read-only. Read the real state of the cluster account and every client account (IAM, EC2, EKS) " +
        "and check every link of the chain with the same link ids as plan. Works on setups xeks did not create. " +
        "A read the credentials may not make marks the links that need it unknown, naming the permission.",
    )
    .argument("[file]", "topology file", "xeks.yaml")
    .option(
      "--cluster-profile <profile>",
      "AWS profile for the cluster account (default: ambient credentials)",
    )
    .option(
      "--client-profile <name=profile>",
      "AWS profile for a client's account (repeatable; default: ambient credentials)",
      collect,
      [],
    )
    .option("-o, --output <format>", "text or json", "text")
    .option("--report <file.html>", "also write the report as a self-contained HTML page")
    .option("--concurrency <n>", "AWS calls in flight at once", "8")
    .option("-v, --verbose", "show the evidence of every link (text output)")
    .addHelpText(
      "after",
      "\nExit codes: 0 every link passes or only warns, 1 a link fails or could not be decided (unknown),\n" +
        "2 invalid input (bad file, bad flags, credentials for the wrong account).\n" +
        "Permissions it needs: see docs/doctor.md (a read-only policy to attach).",
    )
    .action(async (file: string, opts: DoctorOptions) => {
      if (await fromClientBranch(file, opts as DoctorOptions & FromClientFlags)) return;
      if (opts.output !== "text" && opts.output !== "json") {
        throw new InputError(`unknown output format "${opts.output}"`, [
          { path: "--output", message: "expected text or json" },
        ]);
      }
      const clientProfiles = parseClientProfiles(opts.clientProfile);
      const concurrency = parseConcurrency(opts.concurrency);
      const { loadTopology } = await import("../topology/load.js");
      const topology = loadTopology(file);
      const { loadLiveModel, checkClientProfiles } = await import("../model/live/load.js");
      checkClientProfiles(topology, clientProfiles);
      const { reserveReportFile } = await import("./report-file.js");
      const reportFile = opts.report ? reserveReportFile(opts.report) : undefined;
      try {
        const { model, stats } = await loadLiveModel(topology, {
          clusterProfile: opts.clusterProfile,
          clientProfiles,
          concurrency,
        });
        const { prove } = await import("../chain/prove.js");
        const report = await prove(topology, model, "live");
        const { exitCodeFor, renderHtml, renderJson, renderText } = await import("../report/index.js");
        // The report on stdout first: a failing HTML write must not lose the live run.
        if (opts.output === "json") {
          process.stdout.write(renderJson(report));
        } else {
          const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
          process.stdout.write(renderText(report, { color, verbose: opts.verbose }));
          process.stdout.write(
            `\nRead ${stats.calls} AWS API calls (read-only, ${stats.concurrency} at a time) in ${(stats.ms / 1000).toFixed(1)} s` +
              `${opts.report ? `; HTML report: ${opts.report}` : ""}.\n`,
          );
        }
        process.exitCode = exitCodeFor(report);
        reportFile?.write(renderHtml(report, { clients: report.clients }));
      } finally {
        reportFile?.discard();
      }
    });
}
