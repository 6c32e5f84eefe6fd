/**
 * `xeks audit [FILE] --cluster-name N [--region R] [--cluster-profile P] [--client-profile NAME=P]...
 * [-o text|json|sarif] [--fail-on error|warning|note]`: live and read-only. Reads the whole cluster (every access
 * entry) and its VPC, and reports what is stale, orphaned or wider than declared (src/audit, docs/audit.md).
 * Exit 0 when no finding is at or above `--fail-on` (default warning), 1 otherwise, 2 for invalid input.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { InputError } from "../errors.js";
import { parseConcurrency } from "./doctor.js";
import {
  addAssumeRoleOptions,
  addProfileOptions,
  parseAssumeRoleOptions,
  parseClientProfiles,
} from "./profiles.js";

interface AuditFlags {
  clusterName?: string;
  region?: string;
  clusterProfile?: string;
  clientProfile: string[];
  profile?: string;
  assumeRoleName?: string;
  output: string;
  failOn: string;
  concurrency: string;
  verbose?: boolean;
}

const OUTPUTS = ["text", "json", "sarif"];
const SEVERITIES = ["error", "warning", "note"];

function packageVersion(): string | undefined {
  try {
    return (
      JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
    ).version;
  } catch {
    return undefined;
  }
}

export function registerAudit(program: Command): void {
  const audit = program
    .command("audit")
    .summary("Live, read-only. Find stale, orphaned or wider-than-declared access on a cluster and its VPC.")
    .description(
      "Live and read-only. Read every access entry of the cluster (and its principal, once each), the route " +
        "tables of the cluster's subnets, the cluster security group and the peering connections of the cluster " +
        "VPC, and report what is stale, orphaned or wider than declared. With FILE (a topology) it also reports " +
        "access entries that no topology declares and entries with more access than it declares. A principal in " +
        "another account is checked there when --client-profile gives credentials for that account, or " +
        "--assume-role-name a role to assume there with the base session (--profile); otherwise, " +
        "and whenever a read is denied, the finding is unknown (never clean), naming what would decide it.",
    )
    .argument("[file]", "topology file (optional): adds entry.undeclared and entry.wider-than-declared")
    .option("--cluster-name <name>", "the EKS cluster (default: the topology's)")
    .option(
      "--region <region>",
      "the cluster's region (default: the topology's, AWS_REGION or the profile's region)",
    );
  addAssumeRoleOptions(addProfileOptions(audit))
    .option("-o, --output <format>", "text, json or sarif (SARIF 2.1.0, for code scanning)", "text")
    .option("--fail-on <severity>", "exit 1 when a finding is at or above: error, warning or note", "warning")
    .option("--concurrency <n>", "AWS calls in flight at once", "8")
    .option("-v, --verbose", "show the evidence of every finding (text output)")
    .addHelpText(
      "after",
      "\nFindings (id, severity):\n" +
        "  entry.principal-missing    warning  an access entry's role or user was deleted (IAM NoSuchEntity)\n" +
        "  entry.principal-recreated  error    the role was created after its entry: the entry grants it nothing\n" +
        "  entry.undeclared           warning  (with FILE) a STANDARD entry no topology declares\n" +
        "  entry.wider-than-declared  error    (with FILE) more policies, a wider scope or more groups than declared\n" +
        "  route.blackhole            warning  a route of the cluster's subnets to a target that is gone\n" +
        "  sg.orphan-cidr             warning  a 443 rule of the cluster security group for a network nobody peers with\n" +
        "  trust.dangling-principal   warning  an entry role's trust policy names a deleted principal (AROA…/AIDA…)\n" +
        "  peering.unused             note     an active peering of the cluster VPC that no route uses\n" +
        "Unknown findings (a read was denied, or no credentials reach the principal's account) keep their\n" +
        "severity: they fail like found ones.\n" +
        "\nExit codes: 0 no finding at or above --fail-on, 1 some finding is (or the audit could not run),\n" +
        "2 invalid input (bad file, bad flags, credentials for the wrong account, no such cluster).\n" +
        "\nExample: xeks audit --cluster-name prod --region eu-west-1 --client-profile ops=ops-readonly -o sarif > audit.sarif\n" +
        "Permissions, the CI example and every check: docs/audit.md.",
    )
    .action(async (file: string | undefined, opts: AuditFlags) => {
      if (!OUTPUTS.includes(opts.output)) {
        throw new InputError(`unknown output format "${opts.output}"`, [
          { path: "--output", message: "expected text, json or sarif" },
        ]);
      }
      if (!SEVERITIES.includes(opts.failOn)) {
        throw new InputError(`bad --fail-on "${opts.failOn}"`, [
          { path: "--fail-on", message: "expected error, warning or note" },
        ]);
      }
      const failOn = opts.failOn as "error" | "warning" | "note";
      // What was asked, for the report of an audit that cannot run (-o json, -o sarif).
      const asked: { cluster?: string; region?: string; topology?: string } = {
        ...(opts.clusterName !== undefined ? { cluster: opts.clusterName } : {}),
        ...(opts.region !== undefined ? { region: opts.region } : {}),
        ...(file !== undefined ? { topology: file } : {}),
      };
      try {
        await runAuditCommand(file, opts, failOn, asked);
      } catch (err) {
        // CI redirects stdout to the report and uploads it whatever happens: a run that failed still writes one
        // document, saying it failed (docs/audit.md, "When the audit cannot run"); stderr and the exit code are
        // those of any error.
        if (opts.output !== "text") {
          const { describeError, visible } = await import("./errors.js");
          const { redact } = await import("../aws/redact.js");
          const { message, exitCode } = describeError(err);
          const lib = await import("../audit/index.js");
          const report = lib.failedAuditReport(asked, {
            message: visible(redact(message.replace(/^xeks: /, ""))),
            exitCode: exitCode === 2 ? 2 : 1,
          });
          if (opts.output === "json") process.stdout.write(lib.renderAuditJson(report));
          else process.stdout.write(lib.renderAuditSarif(report, sarifOptions()));
        }
        throw err;
      }
    });
}

function sarifOptions(): { toolVersion?: string } {
  const version = packageVersion();
  return version ? { toolVersion: version } : {};
}

async function runAuditCommand(
  file: string | undefined,
  opts: AuditFlags,
  failOn: "error" | "warning" | "note",
  asked: { cluster?: string; region?: string },
): Promise<void> {
  const concurrency = parseConcurrency(opts.concurrency);
  const topology = file ? (await import("../topology/load.js")).loadTopology(file) : undefined;
  const clientProfiles = parseClientProfiles(opts.clientProfile, topology);
  const base = await parseAssumeRoleOptions(opts);
  if (topology && opts.clusterName && opts.clusterName !== topology.cluster.name) {
    throw new InputError(
      `--cluster-name ${opts.clusterName} is not the topology's cluster ${topology.cluster.name}`,
      [{ path: "--cluster-name", message: `leave it out, or give ${topology.cluster.name}` }],
    );
  }
  if (topology && opts.region && opts.region !== topology.cluster.region) {
    throw new InputError(`--region ${opts.region} is not the topology's region ${topology.cluster.region}`, [
      { path: "--region", message: `leave it out, or give ${topology.cluster.region}` },
    ]);
  }
  const clusterName = opts.clusterName ?? topology?.cluster.name;
  if (clusterName) asked.cluster = clusterName;
  if (!clusterName) {
    throw new InputError("which cluster? give --cluster-name (or a topology file)", [
      { path: "--cluster-name", message: "expected the name of the EKS cluster to audit" },
    ]);
  }
  const { configuredRegion } = await import("../aws/region.js");
  const region =
    opts.region ?? topology?.cluster.region ?? (await configuredRegion(opts.clusterProfile ?? base.profile));
  if (region) asked.region = region;
  if (!region) {
    throw new InputError("which region? give --region", [
      {
        path: "--region",
        message: "expected the cluster's region (or set AWS_REGION, or a region in the profile)",
      },
    ]);
  }
  // The wait bound of doctor (docs/security.md, "Wait bounds"): an endpoint silent for 3 × XEKS_AWS_TIMEOUT_MS
  // + 3 s is given up; the reads it still owes fail at once and their checks are unknown.
  const { awsTimeoutMs } = await import("../aws/sdk.js");
  const { AwsWatchdog, describeSilence, describeSilentEndpoint, silenceBoundMs } = await import(
    "../aws/watchdog.js"
  );
  const watchdog = new AwsWatchdog(silenceBoundMs(awsTimeoutMs(process.env)), { giveUp: "endpoint" });
  const lib = await import("../audit/index.js");
  const report = await watchdog.run(() =>
    lib.runAudit({
      clusterName,
      region,
      ...(opts.clusterProfile !== undefined ? { clusterProfile: opts.clusterProfile } : {}),
      clientProfiles,
      ...(base.profile !== undefined ? { baseProfile: base.profile } : {}),
      ...(base.assumeRoleName !== undefined ? { assumeRoleName: base.assumeRoleName } : {}),
      ...(topology ? { topology } : {}),
      concurrency,
    }),
  );
  const stopped = watchdog
    .stopped()
    .map(
      (s) =>
        `no answer from AWS: ${describeSilentEndpoint(s)} ${describeSilence(s)}; the reads it still owed were not made, and their checks are unknown.`,
    );
  if (opts.output === "json") process.stdout.write(lib.renderAuditJson(report));
  else if (opts.output === "sarif") process.stdout.write(lib.renderAuditSarif(report, sarifOptions()));
  else {
    // Every string from AWS or the file, escaped as the CLI's other terminal output is (control and bidi
    // characters as \u{…}); a line break inside one value is shown as \n so a value cannot fake a line.
    const { visible } = await import("./errors.js");
    const escapeText = (t: string) => visible(t).replaceAll("\n", "\\n").replaceAll("\t", "\\t");
    process.stdout.write(lib.renderAuditText(report, { verbose: Boolean(opts.verbose), escape: escapeText }));
    for (const line of stopped) process.stdout.write(`${line}\n`);
  }
  if (opts.output !== "text") for (const line of stopped) process.stderr.write(`xeks: ${line}\n`);
  const code = lib.auditExitCode(report, failOn);
  process.exitCode = stopped.length > 0 ? 1 : code;
}
