/**
 * `xeks discover --cluster-name N [--region R] --client NAME=ACCOUNT[:ROLE] ... [--access-role NAME] [--out FILE]`:
 * read-only; writes a topology file from live state, ready for `plan` and `doctor`. Never overwrites a file
 * without `--force`. The rules are in src/model/live/discover.ts and docs/doctor.md.
 */
import type { Command } from "commander";
import { redact } from "../aws/redact.js";
import { InputError } from "../errors.js";
import { checkWriteTarget, type WriteOptions, writeFileAtomic } from "../files/index.js";
import { parseConcurrency } from "./doctor.js";
import { collect, parseClientProfiles } from "./profiles.js";

interface DiscoverCliOptions {
  clusterName: string;
  region?: string;
  client: string[];
  accessRole: string[];
  clusterProfile?: string;
  clientProfile: string[];
  out: string;
  force?: boolean;
  concurrency: string;
}

export function registerDiscover(program: Command): void {
  program
    .command("discover")
    .summary(
      "Live, read-only. Write a topology file from an existing cluster and its peered client accounts.",
    )
    .description(
      "Live and read-only. Write a topology file from live state: the cluster (authentication mode, endpoint " +
        "access, security group, VPC and the route tables of its subnets), each client's VPC (the other side of " +
        "its peering with the cluster VPC) and route tables, the clients' existing roles, the access roles with " +
        "their access policies, and the cluster's other access entries. The file is ready for plan and doctor.",
    )
    .requiredOption("--cluster-name <name>", "the EKS cluster")
    .option("--region <region>", "the cluster's region (default: AWS_REGION or the cluster profile's region)")
    .option(
      "--client <name=account[:role]>",
      "a client: its short name, its account id and optionally its EC2 role (repeatable, at least one)",
      collect,
      [],
    )
    .option(
      "--access-role <name>",
      "an access role of the cluster account (repeatable; default: found)",
      collect,
      [],
    )
    .option(
      "--cluster-profile <profile>",
      "AWS profile for the cluster account (default: ambient credentials)",
    )
    .option("--client-profile <name=profile>", "AWS profile for a client's account (repeatable)", collect, [])
    .option("--out <file>", "the topology file to write, or - for stdout", "xeks.yaml")
    .option("--force", "overwrite the file if it exists")
    .option("--concurrency <n>", "AWS calls in flight at once", "8")
    .addHelpText(
      "after",
      "\nExample: xeks discover --cluster-name prac-eks-abhi --region ap-south-1 \\\n" +
        "           --client ops=222222222222:EC2-EKS-CrossAccount-Role --cluster-profile a --client-profile ops=b\n" +
        "Exit codes: 0 written, 1 live state that cannot be described (no peering, no access role), 2 invalid input.",
    )
    .action(async (opts: DiscoverCliOptions) => {
      const { discover, parseClientSpec } = await import("../model/live/discover.js");
      if (opts.client.length === 0) {
        throw new InputError("discover needs at least one client", [
          { path: "--client", message: "give --client NAME=ACCOUNT[:ROLE] for each client account" },
        ]);
      }
      const clients = opts.client.map(parseClientSpec);
      const clientProfiles = parseClientProfiles(opts.clientProfile);
      const concurrency = parseConcurrency(opts.concurrency);
      for (const role of opts.accessRole) {
        if (!/^[\w+=,.@-]{1,64}$/.test(role)) {
          throw new InputError(`bad --access-role "${role}"`, [
            {
              path: "--access-role",
              message: "expected an IAM role name: 1-64 of letters, digits and +=,.@_-",
            },
          ]);
        }
      }
      const toStdout = opts.out === "-";
      // Refuse before reading anything: an existing file without --force, and whatever src/files refuses
      // (a FIFO, a device, a directory, a read-only file), --force or not.
      const out: WriteOptions = {
        field: "--out",
        what: "the topology file",
        mode: 0o644,
        overwrite: Boolean(opts.force),
        existsHint: "name another file, or pass --force to overwrite it",
      };
      if (!toStdout) checkWriteTarget(opts.out, out);
      const result = await discover({
        clusterName: opts.clusterName,
        region: opts.region,
        clients,
        accessRoles: opts.accessRole,
        clusterProfile: opts.clusterProfile,
        clientProfiles,
        concurrency,
        file: toStdout ? "xeks.yaml" : opts.out,
      });
      const t = result.topology;
      const summary = [
        `cluster ${t.cluster.name} (account ${t.cluster.account}, ${t.cluster.region}): ${t.cluster.authenticationMode ?? "unknown mode"}, ` +
          `endpoint private ${t.cluster.endpointAccess?.private}, public ${t.cluster.endpointAccess?.public}, ` +
          `VPC ${t.cluster.vpc.id} ${t.cluster.vpc.cidr}, route tables ${t.cluster.vpc.routeTables.join(", ")}`,
        ...t.clients.map(
          (c) =>
            `client ${c.name} (account ${c.account}): VPC ${c.vpc.id} ${c.vpc.cidr}, route tables ${c.vpc.routeTables.join(", ")}, role ${c.role.name}`,
        ),
        ...t.access.map(
          (a) =>
            `access role ${a.role} for ${a.clients.join(", ")}: ${a.policies.map((p) => (p.scope.type === "cluster" ? p.name : `${p.name} (${p.scope.namespaces.join(", ")})`)).join(", ")}`,
        ),
        ...(t.cluster.accessEntries.length > 0
          ? [
              `${t.cluster.accessEntries.length} other access entr${t.cluster.accessEntries.length === 1 ? "y" : "ies"} declared`,
            ]
          : []),
        ...result.notes.map((n) => `note: ${n}`),
      ];
      if (toStdout) {
        process.stdout.write(result.text);
        process.stderr.write(`${summary.map((l) => `xeks: ${l}`).join("\n")}\n`);
        return;
      }
      // Redacted like the terminal: the file is built from AWS answers (src/aws/redact.ts).
      writeFileAtomic(opts.out, redact(result.text), out);
      process.stdout.write(
        `Wrote ${opts.out} (${result.calls} read-only AWS calls):\n${summary.map((l) => `  ${l}`).join("\n")}\n` +
          `Next: xeks doctor ${opts.out}, xeks plan ${opts.out}\n`,
      );
    });
}
