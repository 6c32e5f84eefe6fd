/**
 * What `xeks audit` reads: the whole cluster (every access entry, its principal in one read, the policies of the
 * entries a topology declares) and the cluster VPC (its CIDRs, route tables, peering connections, the rules of
 * the cluster security group). All reads go through src/aws (./read.ts and ./audit-read.ts) on the sessions of
 * src/aws/session.ts: read-only by construction, at most `concurrency` calls in flight across all accounts,
 * every page followed, each principal read once. A read that fails is kept as its failure (`ok: false`), so that
 * the checks (./checks.ts) report what it would have decided as `unknown`, never as clean.
 */
import {
  type AuditEntry,
  type AuditPeering,
  type AuditPrincipal,
  describeAccessEntry,
  principalKind,
  readEntryPolicies,
  readPrincipal,
  readVpcPeerings,
} from "../aws/audit-read.js";
import type { ClusterDescription } from "../aws/eks.js";
import { listAccessEntries, readRouteTables, readSecurityGroupRules, readVpc } from "../aws/read.js";
import { ReadFailure } from "../aws/read-errors.js";
import type { Session } from "../aws/session.js";
import { canonicalRoleArn, parseArn } from "../domain/arn.js";
import type { AccessPolicyAssociationFact, RouteTableFact, SecurityGroupRuleFact } from "../domain/facts.js";
import type { Topology } from "../topology/types.js";

/** A read's answer, or why there is none (the permission it needed, in which account). */
export type Read<T> =
  | { ok: true; value: T }
  | { ok: false; detail: string; permission: string; account: string; denied: boolean; hint?: string };

/** What is known of an access entry's principal. */
export type PrincipalState =
  /** Read: `principal` undefined means IAM answered NoSuchEntity. */
  | { state: "read"; principal: AuditPrincipal | undefined }
  /** The read was denied or failed. */
  | { state: "unread"; detail: string; permission: string; account: string }
  /** No credentials given reach the principal's account. */
  | { state: "no-credentials"; account: string };

/** One access entry with what the checks need of it. */
export interface EntryEstate {
  entry: AuditEntry;
  /** Read only for entries the topology declares (for entry.wider-than-declared). */
  policies?: Read<AccessPolicyAssociationFact[]>;
  /** Undefined when the entry names neither an IAM role nor a user (root, a session ARN): not checked. */
  principal?: PrincipalState;
}

/** The cluster as DescribeCluster answered it, and where it is. */
export interface AuditCluster {
  name: string;
  account: string;
  region: string;
  partition: string;
  description: ClusterDescription;
}

/** Everything the checks look at. */
export interface AuditEstate {
  cluster: AuditCluster;
  topology?: Topology;
  entries: Read<EntryEstate[]>;
  /** The cluster VPC's IPv4 CIDRs. */
  vpcCidrs: Read<string[]>;
  /** Every route table of the cluster VPC. */
  routeTables: Read<RouteTableFact[]>;
  /** Peering connections of the cluster VPC, as the cluster account sees them. */
  peerings: Read<AuditPeering[]>;
  /** Inbound rules of each security group audited: the cluster security group (and the topology's, if other). */
  securityGroups: { groupId: string; rules: Read<SecurityGroupRuleFact[]> }[];
  /**
   * What would give credentials for an account the audit cannot read: the flag to pass (`--client-profile
   * NAME=PROFILE`, naming the topology's client of that account when there is one).
   */
  credentialsFlag(account: string): string;
}

/** Where the audit reads, and with which sessions. */
export interface EstateSources {
  cluster: AuditCluster;
  /** The cluster account's session. */
  clusterSession: Session;
  /**
   * The session for an account: one the given credentials reach (the cluster's included), or with
   * `--assume-role-name` one that assumes the role there; undefined when nothing reaches the account.
   */
  sessionFor(account: string): Session | undefined;
  /** `--assume-role-name`, for the message of an account that nothing reaches. */
  assumeRoleName?: string;
  topology?: Topology;
}

/** Run a read; a ReadFailure becomes `ok: false` (anything else is a bug and is thrown). */
export async function attempt<T>(account: string, call: () => Promise<T>): Promise<Read<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (err) {
    if (!(err instanceof ReadFailure)) throw err;
    const e = err.error;
    return {
      ok: false,
      detail: e.detail,
      permission: e.permission,
      account,
      denied: e.kind === "denied",
      ...(e.hint ? { hint: e.hint } : {}),
    };
  }
}

/** The canonical principal ARNs (src/domain/arn.ts canonicalRoleArn) the topology creates or declares entries for. */
export function declaredPrincipals(topology: Topology | undefined): Set<string> {
  if (!topology) return new Set();
  return new Set(
    [...topology.access.map((a) => a.arn), ...topology.cluster.accessEntries.map((e) => e.principalArn)].map(
      canonicalRoleArn,
    ),
  );
}

/** Read the estate. Never throws for a denied read: each part records its own failure. */
export async function readEstate(src: EstateSources): Promise<AuditEstate> {
  const { cluster, clusterSession, topology } = src;
  const account = cluster.account;
  const vpcId = cluster.description.vpcId;
  const declared = declaredPrincipals(topology);
  const groups = [
    ...new Set(
      [cluster.description.securityGroupIds[0], topology?.cluster.securityGroupId].filter(
        (g): g is string => typeof g === "string" && g.length > 0,
      ),
    ),
  ];

  // One read per principal, whatever the number of entries naming it.
  const principals = new Map<string, Promise<PrincipalState>>();
  const principalOf = (arn: string): Promise<PrincipalState> | undefined => {
    if (!principalKind(arn)) return undefined;
    const key = canonicalRoleArn(arn);
    let p = principals.get(key);
    if (!p) {
      const owner = parseArn(arn)?.account ?? "";
      const session = src.sessionFor(owner);
      p = session
        ? attempt(owner, () => readPrincipal(session, arn)).then(
            (r): PrincipalState =>
              r.ok
                ? { state: "read", principal: r.value }
                : { state: "unread", detail: r.detail, permission: r.permission, account: owner },
          )
        : Promise.resolve({ state: "no-credentials", account: owner });
      principals.set(key, p);
    }
    return p;
  };

  const entries = attempt(account, async () => {
    const arns = await listAccessEntries(clusterSession, cluster.name);
    const out = await Promise.all(
      arns.map(async (arn): Promise<EntryEstate | undefined> => {
        const isDeclared = declared.has(canonicalRoleArn(arn));
        const [entry, principal, policies] = await Promise.all([
          describeAccessEntry(clusterSession, cluster.name, arn),
          principalOf(arn),
          isDeclared
            ? attempt(account, () => readEntryPolicies(clusterSession, cluster.name, arn))
            : Promise.resolve(undefined),
        ]);
        if (!entry) return undefined;
        return { entry, ...(principal ? { principal } : {}), ...(policies ? { policies } : {}) };
      }),
    );
    return out.filter((e): e is EntryEstate => e !== undefined);
  });

  const missingVpc = <T>(): Read<T> => ({
    ok: false,
    detail: "DescribeCluster reported no VPC for the cluster",
    permission: "eks:DescribeCluster",
    account,
    denied: false,
  });
  const [entriesRead, vpcCidrs, routeTables, peerings, securityGroups] = await Promise.all([
    entries,
    vpcId
      ? attempt(account, async () => (await readVpc(clusterSession, vpcId))?.cidrs ?? [])
      : Promise.resolve(missingVpc<string[]>()),
    vpcId
      ? attempt(account, () => readRouteTables(clusterSession, vpcId, account))
      : Promise.resolve(missingVpc<RouteTableFact[]>()),
    vpcId
      ? attempt(account, () => readVpcPeerings(clusterSession, vpcId))
      : Promise.resolve(missingVpc<AuditPeering[]>()),
    Promise.all(
      groups.map(async (groupId) => ({
        groupId,
        rules: await attempt(account, () => readSecurityGroupRules(clusterSession, groupId)),
      })),
    ),
  ]);

  const clientOfAccount = (a: string) => topology?.clients.find((c) => c.account === a)?.name;
  return {
    cluster,
    ...(topology ? { topology } : {}),
    entries: entriesRead,
    vpcCidrs,
    routeTables,
    peerings,
    securityGroups,
    credentialsFlag: (a) =>
      `--client-profile ${clientOfAccount(a) ?? "NAME"}=PROFILE (a profile of account ${a})` +
      (src.assumeRoleName
        ? ""
        : `, or --assume-role-name NAME (a role in account ${a} that the base session may assume)`),
  };
}
