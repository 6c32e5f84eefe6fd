/**
 * `xeks audit` as a library: read the whole cluster and its VPC (live, read-only) and report what is stale,
 * orphaned or wider than declared (docs/audit.md). Sessions and credentials are those of doctor
 * (src/aws/session.ts): `--cluster-profile` for the cluster account, `--client-profile NAME=PROFILE` for other
 * accounts (the account each profile reaches is learned with sts:GetCallerIdentity, and checked against the
 * topology's client NAME when a topology is given). A principal in an account no credentials reach is `unknown`.
 * Never prints.
 */
import { checkAccounts, clientProfileFlag, clusterProfileFlag } from "../aws/accounts.js";
import { readCluster } from "../aws/read.js";
import { ReadFailure } from "../aws/read-errors.js";
import { AwsContext, type CredentialSource, type Session, whoAmI } from "../aws/session.js";
import { canonicalRoleArn, parseArn, partitionOf } from "../domain/arn.js";
import { InputError, OperationError } from "../errors.js";
import type { Topology } from "../topology/types.js";
import { runChecks } from "./checks.js";
import { type AuditEstate, readEstate } from "./estate.js";
import type { AuditReport } from "./findings.js";

export { runChecks } from "./checks.js";
export type { AuditEstate } from "./estate.js";
export * from "./findings.js";
export { renderAuditJson, renderAuditSarif, renderAuditText } from "./render.js";

/** What to audit, with which credentials. */
export interface AuditOptions {
  clusterName: string;
  region: string;
  /** Profile for the cluster account; undefined: the ambient credentials. */
  clusterProfile?: string;
  /**
   * Label -> profile, from `--client-profile NAME=PROFILE`: credentials for other accounts (a principal's). With a
   * topology, NAME is a client and the profile must reach that client's account.
   */
  clientProfiles?: Record<string, string>;
  /** With a topology: also entry.undeclared and entry.wider-than-declared; its clients' networks count as known. */
  topology?: Topology;
  /** AWS calls in flight at once, across all accounts. Default 8. */
  concurrency?: number;
  /** `--profile`: the base session, for every account without a profile of its own. Default: ambient. */
  baseProfile?: string;
  /**
   * `--assume-role-name NAME`: every account without a profile of its own (the cluster's when the topology names
   * its account, every principal's) is read by assuming `arn:P:iam::ACCOUNT:role/NAME` with the base session
   * (src/aws/assume-role-name.ts, through src/aws/session.ts). A refused assumption makes that account's checks
   * unknown.
   */
  assumeRoleName?: string;
}

/**
 * Audit the cluster. Throws InputError (exit 2) for credentials of another account than the topology names or
 * than the cluster ARN (DescribeCluster) names, or a cluster that does not exist for these credentials in this
 * region; OperationError (exit 1) when the cluster
 * cannot be described (DescribeCluster denied or failing) or credentials cannot be used. Any other read that
 * fails becomes `unknown` findings in the report.
 */
export async function runAudit(options: AuditOptions): Promise<AuditReport> {
  const started = Date.now();
  const { clusterName, region, topology } = options;
  // With --assume-role-name: the account each source acts for (the topology's, or the principal's account).
  const accountOfLabel = new Map<string, string>();
  if (topology) {
    accountOfLabel.set("the cluster", topology.cluster.account);
    for (const c of topology.clients) accountOfLabel.set(`client ${c.name}`, c.account);
  }
  const ctx = new AwsContext({
    concurrency: options.concurrency ?? 8,
    ...(options.baseProfile !== undefined ? { baseProfile: options.baseProfile } : {}),
    ...(options.assumeRoleName
      ? {
          assumeRoleName: options.assumeRoleName,
          accountOf: (s: CredentialSource) => accountOfLabel.get(s.label),
        }
      : {}),
  });
  try {
    const clusterSource: CredentialSource = {
      profile: options.clusterProfile,
      label: "the cluster",
      flag: clusterProfileFlag(),
    };
    const clusterSession = ctx.session(clusterSource, region);
    const clients = Object.entries(options.clientProfiles ?? {}).map(([name, profile]) => ({
      name,
      profile,
      session: ctx.session({ profile, label: `client ${name}`, flag: clientProfileFlag(name) }, region),
    }));
    const [clusterId, ...clientIds] = await Promise.all([
      whoAmI(clusterSession),
      ...clients.map((c) => whoAmI(c.session)),
    ]);
    if (!clusterId) throw new OperationError("sts:GetCallerIdentity gave no answer for the cluster");
    if (topology) {
      checkAccounts(
        [
          {
            expect: {
              who: "the cluster",
              account: topology.cluster.account,
              ...(options.clusterProfile !== undefined ? { profile: options.clusterProfile } : {}),
              flag: clusterProfileFlag(),
            },
            identity: clusterId,
          },
          ...clients.flatMap((c, i) => {
            const client = topology.clients.find((t) => t.name === c.name);
            const identity = clientIds[i];
            return client && identity
              ? [
                  {
                    expect: {
                      who: `client ${c.name}`,
                      account: client.account,
                      profile: c.profile,
                      flag: clientProfileFlag(c.name),
                    },
                    identity,
                  },
                ]
              : [];
          }),
        ],
        "nothing else was read",
      );
    }
    const account = clusterId.account;
    const sessions = new Map<string, Session>([[account, clusterSession]]);
    clients.forEach((c, i) => {
      const id = clientIds[i];
      if (id && !sessions.has(id.account)) sessions.set(id.account, c.session);
    });

    let description: Awaited<ReturnType<typeof readCluster>>;
    try {
      description = await readCluster(clusterSession, clusterName);
    } catch (err) {
      if (!(err instanceof ReadFailure)) throw err;
      throw new OperationError(
        `cannot audit cluster ${clusterName}: ${err.error.detail}`,
        err.error.kind === "denied"
          ? `allow eks:DescribeCluster in account ${account}`
          : (err.error.hint ?? `check that EKS answers in ${region}`),
      );
    }
    if (!description) {
      throw new InputError(`no cluster ${clusterName} in account ${account}, region ${region}`, [
        {
          path: topology ? "cluster.name" : "--cluster-name",
          message: `expected the name of an EKS cluster that the cluster credentials (account ${account}) see in ${region} (--region)`,
        },
      ]);
    }
    // The cluster's ARN names the account that owns it; credentials of another account read another account's
    // VPC (nothing: 0 route tables, 0 rules), which would pass for a clean estate.
    const owner = description.arn ? parseArn(description.arn)?.account : undefined;
    if (owner && owner !== account) {
      throw new InputError(
        `the cluster credentials are of account ${account}, but cluster ${clusterName} (${description.arn}) is in account ${owner}: nothing else was read`,
        [
          {
            path: "--cluster-profile",
            message: `expected a profile of account ${owner}, the cluster's account${options.clusterProfile !== undefined ? ` (profile ${options.clusterProfile} is of account ${account})` : ` (the ambient credentials are of account ${account})`}`,
          },
        ],
      );
    }
    const assumeRoleName = options.assumeRoleName;
    const sessionFor = (a: string): Session | undefined => {
      const known = sessions.get(a);
      if (known || !assumeRoleName) return known;
      const label = `account ${a}`;
      accountOfLabel.set(label, a);
      const s = ctx.session(
        { label, flag: `--client-profile NAME=PROFILE (a profile of account ${a})` },
        region,
      );
      sessions.set(a, s);
      return s;
    };
    const estate = await readEstate({
      cluster: { name: clusterName, account, region, partition: partitionOf(region), description },
      clusterSession,
      sessionFor,
      ...(assumeRoleName ? { assumeRoleName } : {}),
      ...(topology ? { topology } : {}),
    });
    const findings = runChecks(estate);
    return {
      kind: "AuditReport",
      version: 1,
      scope: scopeOf(estate),
      findings,
      stats: { calls: ctx.stats.calls, byAction: { ...ctx.stats.byAction }, ms: Date.now() - started },
    };
  } finally {
    ctx.destroy();
  }
}

function scopeOf(estate: AuditEstate): AuditReport["scope"] {
  const c = estate.cluster;
  const entries = estate.entries.ok ? estate.entries.value : [];
  const principals = new Set(
    entries.filter((e) => e.principal?.state === "read").map((e) => canonicalRoleArn(e.entry.principalArn)),
  );
  return {
    cluster: {
      name: c.name,
      ...(c.description.arn ? { arn: c.description.arn } : {}),
      account: c.account,
      region: c.region,
      ...(c.description.vpcId ? { vpcId: c.description.vpcId } : {}),
    },
    ...(estate.topology?.file ? { topology: estate.topology.file } : {}),
    accessEntries: entries.length,
    principals: principals.size,
    routeTables: estate.routeTables.ok ? estate.routeTables.value.length : 0,
    securityGroupRules: estate.securityGroups.reduce(
      (n, g) => n + (g.rules.ok ? g.rules.value.length : 0),
      0,
    ),
    peerings: estate.peerings.ok ? estate.peerings.value.length : 0,
  };
}
