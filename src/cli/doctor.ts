/**
 * `xeks doctor [FILE]`: live and read-only. Reads the real state of the cluster account and every client account,
 * then runs the same links as `plan` on it and prints the same report (text, `--output json`, `--report FILE.html`).
 * Exit 0 when the verdict is pass, 1 when a link fails or could not be decided, 2 for bad input.
 */
import type { Command } from "commander";
import { InputError } from "../errors.js";
import { type FromClientFlags, fromClientBranch, withFromClientOptions } from "./probe.js";
import {
  addAssumeRoleOptions,
  addProfileOptions,
  parseAssumeRoleOptions,
  parseClientProfiles,
} from "./profiles.js";

interface DoctorOptions {
  clusterProfile?: string;
  clientProfile: string[];
  profile?: string;
  assumeRoleName?: string;
  output: string;
  report?: string;
  concurrency: string;
  verbose?: boolean;
}

/**
 * `--concurrency N` (doctor, deploy, destroy): decimal digits only (no sign, blank, exponent or hex), 1 to 64.
 * Throws InputError (exit 2, naming the flag) otherwise.
 */
export function parseConcurrency(value: string): number {
  const n = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 64) {
    throw new InputError(`bad --concurrency "${value}"`, [
      { path: "--concurrency", message: "expected a whole number from 1 to 64" },
    ]);
  }
  return n;
}

export function registerDoctor(program: Command): void {
  const doctor = withFromClientOptions(program.command("doctor"))
    .summary("Live, read-only. Check every link of the chain on the real accounts.")
    .description(
      "Live and read-only. Read the real state of the cluster account and every client account (IAM, EC2, EKS) " +
        "and check every link of the chain with the same link ids as plan. Works on setups xeks did not create. " +
        "A read the credentials may not make marks the links that need it unknown, naming the permission.",
    )
    .argument("[file]", "topology file", "xeks.yaml");
  addAssumeRoleOptions(addProfileOptions(doctor))
    .option("-o, --output <format>", "text or json", "text")
    .option("--report <file.html>", "also write the report as a self-contained HTML page")
    .option("--concurrency <n>", "AWS calls in flight at once", "8")
    .option(
      "-v, --verbose",
      "show the evidence of every link, and every client (text output; past 10 passing clients, the text folds " +
        "them into one line per access role)",
    )
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
      const concurrency = parseConcurrency(opts.concurrency);
      const { loadTopology } = await import("../topology/load.js");
      const topology = loadTopology(file);
      const clientProfiles = parseClientProfiles(opts.clientProfile, topology);
      const { baseSessionOptions } = await import("../deploy/doctor.js");
      const base = baseSessionOptions(topology, await parseAssumeRoleOptions(opts));
      const { loadLiveModel } = await import("../model/live/load.js");
      const { reserveReportFile } = await import("./report-file.js");
      const reportFile = opts.report ? reserveReportFile(opts.report) : undefined;
      try {
        // The wait bound (docs/security.md, "Wait bounds"): an endpoint that gives no whole answer for
        // 3 × XEKS_AWS_TIMEOUT_MS + 3 s is given up; the reads it still owes fail at once (their links are
        // unknown) and the report is printed, naming it.
        const { awsTimeoutMs } = await import("../aws/sdk.js");
        const { AwsWatchdog, describeSilence, describeSilentEndpoint, silenceBoundMs } = await import(
          "../aws/watchdog.js"
        );
        const watchdog = new AwsWatchdog(silenceBoundMs(awsTimeoutMs(process.env)), { giveUp: "endpoint" });
        const { model, stats } = await watchdog.run(() =>
          loadLiveModel(topology, {
            clusterProfile: opts.clusterProfile,
            clientProfiles,
            concurrency,
            ...base,
          }),
        );
        const stopped = watchdog
          .stopped()
          .map(
            (s) =>
              `no answer from AWS: ${describeSilentEndpoint(s)} ${describeSilence(s)}; ` +
              "the reads it still owed were not made, and the links that need them are unknown.\n",
          );
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
          for (const line of stopped) process.stdout.write(line);
        }
        // JSON stays JSON: the endpoints given up go to stderr.
        if (opts.output === "json") for (const line of stopped) process.stderr.write(`xeks: ${line}`);
        process.exitCode = stopped.length > 0 ? Math.max(1, exitCodeFor(report)) : exitCodeFor(report);
        reportFile?.write(renderHtml(report, { clients: report.clients }));
      } finally {
        reportFile?.discard();
      }
    });
}
