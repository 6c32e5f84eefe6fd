/**
 * `xeks discover --cluster-name N [--region R] --client-account NAME=ACCOUNT[:ROLE] ... [--role-arn ARN|NAME ...]
 * [--out FILE] [-o text|json]`: read-only; writes a topology file from live state, ready for `plan` and `doctor`.
 * Never overwrites a file without `--force`. The rules are in src/discover/ and docs/doctor.md.
 * `--client` (a client NAME in every other command) and `--access-role` are deprecated spellings (docs/cli.md).
 */
import type { Command } from "commander";
import { redact } from "../aws/redact.js";
import { InputError } from "../errors.js";
import { checkWriteTarget, type WriteOptions, writeFileAtomic } from "../files/index.js";
import { parseConcurrency } from "./doctor.js";
import { addAssumeRoleOptions, collect, parseAssumeRoleOptions, parseClientProfiles } from "./profiles.js";
import { deprecatedAlias } from "./vocabulary.js";

interface DiscoverCliOptions {
  clusterName?: string;
  region?: string;
  clientAccount: string[];
  roleArn: string[];
  clusterProfile?: string;
  clientProfile: string[];
  profile?: string;
  assumeRoleName?: string;
  out: string;
  force?: boolean;
  concurrency: string;
  output: string;
}

/** `--role-arn` of discover: a role of the cluster account, by ARN or name; the name and the ARN's account. */
async function accessRoleName(value: string): Promise<{ name: string; account?: string }> {
  if (value.startsWith("arn:")) {
    const { roleOfArn } = await import("../domain/arn.js");
    const role = roleOfArn(value);
    if (role && role.session === undefined) return { name: role.name, account: role.account };
  } else if (/^[\w+=,.@-]{1,64}$/.test(value)) {
    return { name: value };
  }
  throw new InputError(`bad --role-arn "${value}"`, [
    {
      path: "--role-arn",
      message:
        "expected an access role of the cluster account: its ARN (arn:aws:iam::ACCOUNT:role/NAME) or its name (1-64 of letters, digits and +=,.@_-)",
    },
  ]);
}

export function registerDiscover(program: Command): void {
  const discover = program
    .command("discover")
    .summary(
      "Live, read-only. Write a topology file from an existing cluster and its peered client accounts.",
    )
    .description(
      "Live and read-only. Write a topology file from live state: the cluster (authentication mode, endpoint " +
        "access, security group, VPC and the route tables of its subnets), each client's VPC (the other side of " +
        "its peering with the cluster VPC) and route tables, the clients' existing roles, the access roles with " +
        "their access policies, and the cluster's access entries. What exists is marked so that deploy adopts it " +
        "instead of creating it again: the peering, the routes through it, the 443 rule, the access roles and their " +
        "entries, the clients' AssumeRole policies (docs/adopt.md). A client whose role is an IAM Identity Center " +
        "permission set's (under /aws-reserved/) is written as identity kind sso, with publicCidrs when it has no " +
        "peered VPC. The file is ready for plan, deploy and doctor.",
    )
    // Not a commander requiredOption: commander checks those before unknown flags, so a misspelt
    // --cluster-name would be reported as missing instead of misspelt.
    .option("--cluster-name <name>", "the EKS cluster (required)")
    .option("--region <region>", "the cluster's region (default: AWS_REGION or the cluster profile's region)")
    .option(
      "--client-account <name=account[:role]>",
      "a client: its short name, its account id and optionally its EC2 role, or :sso:PERMISSIONSET for the people of an IAM Identity Center permission set (repeatable, at least one)",
      collect,
      [],
    )
    .option(
      "--role-arn <arn>",
      "an access role of the cluster account, its ARN or name (repeatable; default: found)",
      collect,
      [],
    )
    .option(
      "--cluster-profile <profile>",
      "AWS profile for the cluster account (default: ambient credentials)",
    )
    .option(
      "--client-profile <name=profile>",
      "AWS profile for a client's account (repeatable)",
      collect,
      [],
    );
  // --profile, --assume-role-name: each client account without a profile of its own assumes the role; the
  // cluster (whose account discover finds out) is read with --cluster-profile or the base session itself.
  addAssumeRoleOptions(discover)
    .option("--out <file>", "the topology file to write, or - for stdout", "xeks.yaml")
    .option("--force", "overwrite the file if it exists")
    .option("--concurrency <n>", "AWS calls in flight at once", "8")
    .option(
      "-o, --output <format>",
      "text, or json: one DiscoverResult document (with the topology text under `topology` when --out -)",
      "text",
    )
    .addHelpText(
      "after",
      "\nExample: xeks discover --cluster-name prac-eks-abhi --region ap-south-1 \\\n" +
        "           --client-account ops=222222222222:EC2-EKS-CrossAccount-Role --cluster-profile a --client-profile ops=b\n" +
        "         xeks discover --cluster-name prac-eks-abhi --client-account people=333333333333:sso:PlatformEngineers ...\n" +
        "Exit codes: 0 written, 1 live state that cannot be described (no peering, no access role), 2 invalid input.",
    );
  // Old spellings (docs/cli.md): `--client NAME=ACCOUNT[:ROLE]` (in every other command --client is a name).
  deprecatedAlias(discover, "--client <name=account[:role]>", "--client-account", {
    refuse: (value) =>
      value.includes("=")
        ? undefined
        : new InputError(`discover has no --client NAME: "${value}" names no account`, [
            {
              path: "--client-account",
              message: `give each client as --client-account ${value}=ACCOUNT[:ROLE] (--client is a client name in kubeconfig and doctor)`,
            },
          ]),
  });
  deprecatedAlias(discover, "--access-role <name>", "--role-arn");
  discover.action((opts: DiscoverCliOptions) => runDiscover(opts));
}

async function runDiscover(opts: DiscoverCliOptions): Promise<void> {
  if (opts.output !== "text" && opts.output !== "json") {
    throw new InputError(`unknown output format "${opts.output}"`, [
      { path: "--output", message: "expected text or json" },
    ]);
  }
  const clusterName = opts.clusterName;
  if (clusterName === undefined) {
    throw new InputError("discover needs the cluster", [
      { path: "--cluster-name", message: "give --cluster-name NAME, the EKS cluster to describe" },
    ]);
  }
  const { discover, parseClientSpec } = await import("../discover/index.js");
  if (opts.clientAccount.length === 0) {
    throw new InputError("discover needs at least one client", [
      {
        path: "--client-account",
        message: "give --client-account NAME=ACCOUNT[:ROLE] for each client account",
      },
    ]);
  }
  const clients = opts.clientAccount.map(parseClientSpec);
  const clientProfiles = parseClientProfiles(opts.clientProfile);
  const concurrency = parseConcurrency(opts.concurrency);
  const base = await parseAssumeRoleOptions(opts);
  const roles = await Promise.all(opts.roleArn.map(accessRoleName));
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
  // The wait bound (docs/security.md, "Wait bounds"): an endpoint that gives no whole answer for
  // 3 × XEKS_AWS_TIMEOUT_MS + 3 s ends the command (exit 1, naming it): every read discover makes is needed.
  const { awsTimeoutMs } = await import("../aws/sdk.js");
  const { AwsWatchdog, silenceBoundMs } = await import("../aws/watchdog.js");
  const result = await new AwsWatchdog(silenceBoundMs(awsTimeoutMs(process.env))).run(() =>
    discover({
      clusterName,
      region: opts.region,
      clients,
      accessRoles: roles.map((r) => r.name),
      clusterProfile: opts.clusterProfile,
      clientProfiles,
      ...(base.profile !== undefined ? { baseProfile: base.profile } : {}),
      ...(base.assumeRoleName !== undefined ? { assumeRoleName: base.assumeRoleName } : {}),
      concurrency,
      file: toStdout ? "xeks.yaml" : opts.out,
    }),
  );
  const t = result.topology;
  const elsewhere = roles.find((r) => r.account !== undefined && r.account !== t.cluster.account);
  if (elsewhere) {
    throw new InputError(
      `--role-arn names role ${elsewhere.name} in account ${elsewhere.account}, not the cluster's account ${t.cluster.account}`,
      [{ path: "--role-arn", message: "an access role is a role of the cluster account" }],
    );
  }
  const summary = [
    `cluster ${t.cluster.name} (account ${t.cluster.account}, ${t.cluster.region}): ${t.cluster.authenticationMode ?? "unknown mode"}, ` +
      `endpoint private ${t.cluster.endpointAccess?.private}, public ${t.cluster.endpointAccess?.public}, ` +
      `VPC ${t.cluster.vpc.id} ${t.cluster.vpc.cidr}, route tables ${t.cluster.vpc.routeTables.join(", ")}`,
    ...t.clients.map(
      (c) =>
        `client ${c.name} (account ${c.account}): ${c.vpc ? `VPC ${c.vpc.id} ${c.vpc.cidr}, route tables ${c.vpc.routeTables.join(", ")}` : `public endpoint from ${c.publicCidrs.join(", ")}`}, ${clientWho(c)}` +
        `${c.peering ? `, peering ${c.peering.id}${c.peering.adopt ? "" : " (left as it is)"}` : ""}`,
    ),
    ...t.access.map(
      (a) =>
        `access role ${a.role}${a.adopt ? " (exists: adopted)" : ""} for ${a.clients.join(", ")}: ${a.policies.map((p) => (p.scope.type === "cluster" ? p.name : `${p.name} (${p.scope.namespaces.join(", ")})`)).join(", ")}`,
    ),
    ...(t.cluster.accessEntries.length > 0
      ? [
          `${t.cluster.accessEntries.length} access entr${t.cluster.accessEntries.length === 1 ? "y" : "ies"} declared, ` +
            `${t.cluster.accessEntries.filter((e) => t.access.some((a) => a.adopt && a.arn === e.principalArn)).length} of them the access roles' (adopted with them)`,
        ]
      : []),
    ...(t.cluster.ingressRules.length > 0
      ? [
          `${t.cluster.ingressRules.length} inbound rule${t.cluster.ingressRules.length === 1 ? "" : "s"} from the clients' CIDRs declared`,
        ]
      : []),
    ...result.notes.map((n) => `note: ${n}`),
  ];
  if (opts.output === "json") {
    if (!toStdout) writeFileAtomic(opts.out, redact(result.text), out);
    const doc = {
      kind: "DiscoverResult",
      version: 1,
      file: toStdout ? null : opts.out,
      calls: result.calls,
      cluster: { name: t.cluster.name, account: t.cluster.account, region: t.cluster.region },
      clients: t.clients.map((c) => ({
        name: c.name,
        account: c.account,
        kind: c.identity.kind,
        ...(c.role ? { role: c.role.name } : {}),
        ...(c.identity.kind === "sso" ? { permissionSet: c.identity.permissionSet } : {}),
      })),
      accessRoles: t.access.map((a) => a.role),
      summary,
      notes: result.notes,
      ...(toStdout ? { topology: redact(result.text) } : {}),
    };
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return;
  }
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
}

/** How the summary names a client's identity: its role, or its permission set (kind sso). */
function clientWho(c: import("../topology/types.js").Client): string {
  const id = c.identity;
  if (id.kind === "sso") return `permission set ${id.permissionSet}`;
  return c.role ? `${id.kind === "instance" ? "role" : `${id.kind} role`} ${c.role.name}` : id.kind;
}
