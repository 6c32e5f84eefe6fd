/**
 * Quotas as links (issue 14): every policy of xeks's own roles is measured against its IAM quota, and the
 * peering connections of the cluster VPC against the VPC quota, so a plan that CloudFormation would refuse
 * half-way fails before deploy, naming the quota and the fix. The numbers and their sources: src/domain/quotas.ts
 * (IAM User Guide, "IAM and AWS STS quotas"; Amazon VPC User Guide, "Amazon VPC quotas").
 */
import { roleArn } from "../../domain/arn.js";
import { documentSize, QUOTAS } from "../../domain/quotas.js";
import { accepterRoleName } from "../../layout/names.js";
import { factKey, type Model, type PeeringFact, type RoleFact, unread } from "../../model/types.js";
import type { Topology } from "../../topology/types.js";
import { type Finding, factSource, fail, type Link, pass, unknown, warn } from "../link.js";
import type { Evidence } from "../types.js";
import { peeringLabel } from "./common.js";

/** A number as the IAM and VPC guides write it: 2,048 (`toLocaleString("en-US")`, with one formatter). */
const EN_US = new Intl.NumberFormat("en-US");
const n = (x: number) => EN_US.format(x);

/** What a role is to xeks, for the fix: an access role (may be split), the accepter role, a client's role. */
type RoleKind =
  | { kind: "access"; clients: number }
  | { kind: "accepter"; accounts: number }
  | { kind: "client"; client: string; existing: boolean };

/** One measured quota of a role that is over. */
interface Over {
  what: string;
  fix: string;
}

/** The role trust policy quota of an account: the declared raise for the cluster account, else the default. */
export function trustQuotaOf(topology: Topology, account: string): number {
  const raised = topology.cluster.quotas?.trustPolicyLength;
  return account === topology.cluster.account && raised !== undefined ? raised : QUOTAS.trustPolicyLength;
}

/**
 * Measure one role: its trust policy against the account's "Role trust policy length" (unless `trust` is false:
 * the trust of an existing role is not xeks's), the aggregate of its inline policies against 10,240, and each
 * managed policy xeks generates (source template) against 6,144. AWS managed policies are AWS's and are not
 * measured; when xeks generates a managed policy for the role, the number of managed policies attached against 10.
 * Returns the evidence (each measure) and what is over.
 */
function measure(
  topology: Topology,
  model: Model,
  role: RoleFact,
  kind: RoleKind,
  trust: boolean,
): { evidence: Evidence[]; over: Over[] } {
  const source = role.source === "declared" ? ("declared" as const) : factSource(model);
  const evidence: Evidence[] = [];
  const over: Over[] = [];
  const where = `in account ${role.account}`;
  if (trust) {
    const quota = trustQuotaOf(topology, role.account);
    const size = documentSize(role.trustPolicy);
    evidence.push({
      fact: `trust policy of ${role.arn}`,
      source,
      detail: `${n(size)} of ${n(quota)} characters (Role trust policy length)`,
    });
    if (size > quota) {
      const declare =
        role.account === topology.cluster.account
          ? " and declare the granted value as cluster.quotas.trustPolicyLength"
          : "";
      const raise =
        size <= QUOTAS.trustPolicyLengthMax
          ? `${where}: request a raise of the IAM quota "Role trust policy length" in Service Quotas (up to ${n(QUOTAS.trustPolicyLengthMax)}, at least ${n(size)})${declare}`
          : `no raise reaches ${n(size)} characters (the quota "Role trust policy length" goes up to ${n(QUOTAS.trustPolicyLengthMax)})`;
      const split =
        kind.kind === "access"
          ? `split access role ${role.name} (fewer clients per role: move some of its ${kind.clients} clients to another access[] entry)`
          : kind.kind === "accepter"
            ? `peer fewer client accounts with this cluster (the accepter role trusts each of the ${kind.accounts} accounts that request a peering)`
            : `give client ${kind.client} fewer principals (split it into two clients)`;
      over.push({
        what: `the trust policy of ${role.name} has ${n(size)} characters, over the IAM quota "Role trust policy length" of ${n(quota)}: CreateRole (or UpdateAssumeRolePolicy) fails with LimitExceeded (ACLSizePerRole)`,
        fix: `${raise}; or ${split}`,
      });
    }
  }
  const inline = role.policies.filter((p) => p.name.startsWith("inline "));
  if (inline.length > 0) {
    const size = inline.reduce((sum, p) => sum + documentSize(p.document), 0);
    evidence.push({
      fact: `inline policies of ${role.arn} (${inline.map((p) => p.name.slice("inline ".length)).join(", ")})`,
      source,
      detail: `${n(size)} of ${n(QUOTAS.inlinePoliciesPerRole)} characters (Role inline policies, aggregate)`,
    });
    if (size > QUOTAS.inlinePoliciesPerRole) {
      over.push({
        what: `the inline policies of ${role.name} total ${n(size)} characters, over the IAM quota of ${n(QUOTAS.inlinePoliciesPerRole)} for all inline policies of a role (not adjustable)`,
        fix:
          kind.kind === "client" && kind.existing
            ? `${where}: move some inline policies of ${role.name} to customer managed policies (aws iam create-policy, then attach-role-policy; ${n(QUOTAS.managedPolicySize)} characters each) or delete those it no longer needs`
            : `${where}: shorten the inline policies of ${role.name} or move some to customer managed policies (${n(QUOTAS.managedPolicySize)} characters each)`,
      });
    }
  }
  for (const p of role.policies.filter((x) => x.name.startsWith("managed ") && x.source === "template")) {
    const size = documentSize(p.document);
    evidence.push({
      fact: `${p.name} of ${role.arn}`,
      source,
      detail: `${p.name.slice("managed ".length)}: ${n(size)} of ${n(QUOTAS.managedPolicySize)} characters (Managed policy size)`,
    });
    if (size > QUOTAS.managedPolicySize) {
      over.push({
        what: `${p.name} of ${role.name} has ${n(size)} characters, over the IAM quota "Managed policy size" of ${n(QUOTAS.managedPolicySize)} (not adjustable)`,
        fix: `split ${p.name.slice("managed ".length)} into two managed policies`,
      });
    }
  }
  const managed = role.policies.filter((x) => x.name.startsWith("managed "));
  if (managed.some((x) => x.source === "template")) {
    evidence.push({
      fact: `managed policies attached to ${role.arn}`,
      source,
      detail: `${managed.length} of ${QUOTAS.managedPoliciesPerRole} (Managed policies attached to an IAM role)`,
    });
    if (managed.length > QUOTAS.managedPoliciesPerRole) {
      over.push({
        what: `${role.name} would have ${managed.length} managed policies attached, over the IAM quota "Managed policies attached to an IAM role" of ${QUOTAS.managedPoliciesPerRole}: AttachRolePolicy fails with LimitExceeded`,
        fix:
          kind.kind === "accepter"
            ? `peer fewer client VPCs with this cluster (each managed policy of the accepter role holds about 90 requester VPCs), or ${where}: request a raise of "Managed policies attached to an IAM role" in Service Quotas (up to 20)`
            : `${where}: attach fewer managed policies to ${role.name}, or request a raise of "Managed policies attached to an IAM role" in Service Quotas (up to 20)`,
      });
    }
  }
  return { evidence, over };
}

/** The finding of a measured role: fail naming every quota it is over, else pass with the measures. */
function finding(role: RoleFact, m: { evidence: Evidence[]; over: Over[] }): Finding {
  if (m.over.length > 0) {
    return fail(m.over.map((o) => o.what).join("; "), m.over.map((o) => o.fix).join("; "), m.evidence);
  }
  return pass(
    `the policies of ${role.name} fit IAM's quotas (${m.evidence.map((e) => e.detail).join("; ")})`,
    m.evidence,
  );
}

/**
 * iam.policy-size for the cluster: the peering accepter role xeks creates in the cluster account, whose trust
 * names every client account that requests a peering (about 33 characters each: the default quota holds about
 * 55 accounts; with an organization, one statement for its accounts: docs/organizations.md), and whose requester
 * VPCs move into managed policies past the inline quota (src/infra/constructs/network.ts). Not applicable (null) when the model has no such role (no client requests a peering; doctor,
 * which does not read it).
 */
export const policySizeCluster: Link<"cluster"> = {
  id: "iam.policy-size",
  title: "the accepter role's policies fit IAM's quotas",
  subject: "cluster",
  evaluate({ topology, model }): Finding | null {
    const c = topology.cluster;
    const role = model.roles[roleArn(c.partition, c.account, accepterRoleName(c.name))];
    if (!role) return null;
    const statements = Array.isArray(role.trustPolicy.Statement) ? role.trustPolicy.Statement : [];
    const accounts = new Set(
      statements.flatMap((s) => {
        const aws = (s.Principal as { AWS?: string | string[] } | undefined)?.AWS;
        return aws === undefined ? [] : Array.isArray(aws) ? aws : [aws];
      }),
    ).size;
    return finding(role, measure(topology, model, role, { kind: "accepter", accounts }, true));
  },
};

/**
 * iam.policy-size for an access role: its trust (one statement per client principal, so it grows with the
 * clients it names: the default quota holds about 35 role ARNs) against the cluster account's "Role trust
 * policy length" (2,048, or `cluster.quotas.trustPolicyLength`), its inline policies against 10,240. Plan: the
 * planned role; doctor: the live one. Not applicable (null) when the model has no such role (iam.access-role-trust
 * reports a missing or unread role).
 */
export const policySizeAccess: Link<"access"> = {
  id: "iam.policy-size",
  title: "the access role's policies fit IAM's quotas",
  subject: "access",
  evaluate({ topology, model }, { access }): Finding | null {
    const role = model.roles[access.arn];
    if (!role) return null;
    return finding(
      role,
      measure(topology, model, role, { kind: "access", clients: access.clients.length }, true),
    );
  },
};

/**
 * iam.policy-size for a client: the role xeks creates for it (its trust against the client account's default
 * 2,048, or the declared raise when the client shares the cluster account) or the existing role xeks adds its
 * inline assume policy to (the aggregate of all its inline policies against 10,240: IAM counts them together;
 * the trust of an existing role is not xeks's and is not measured). Not applicable (null) to a permission set
 * (its roles are Identity Center's) or when the model has no such role.
 */
export const policySizeClient: Link<"client"> = {
  id: "iam.policy-size",
  title: "the client role's policies fit IAM's quotas",
  subject: "client",
  evaluate({ topology, model }, { client }): Finding | null {
    const r = client.role;
    if (!r || client.identity.kind === "sso") return null;
    const role = model.roles[r.arn];
    if (!role) return null;
    const kind: RoleKind = { kind: "client", client: client.name, existing: r.existing };
    return finding(role, measure(topology, model, role, kind, !r.existing));
  },
};

/** Statuses that hold (or will hold) a place under "Active VPC peering connections per VPC". */
const COUNTED = new Set<PeeringFact["status"]>([
  "active",
  "planned",
  "pending-acceptance",
  "initiating-request",
  "provisioning",
]);

/**
 * network.peering-quota: the peering connections of the cluster VPC (active and planned, and live the ones
 * deploy will create for clients that have none yet) against "Active VPC peering connections per VPC" (50 by
 * default, or `cluster.quotas.peeringsPerVpc`, at most 125; Amazon VPC User Guide, "Amazon VPC quotas"). At plan
 * the count is what the plan knows (planned and declared peerings; doctor counts the live ones, including
 * peerings the topology does not name). Live, when the cluster account's peerings could not be read, the count
 * is what the client accounts see: a warning when under the quota (peerings outside the topology are not
 * counted), unknown when no account could read them. Not applicable (null) when no client has a VPC.
 */
export const peeringQuota: Link<"cluster"> = {
  id: "network.peering-quota",
  title: "the cluster VPC's peerings fit the VPC quota",
  subject: "cluster",
  evaluate({ topology, model }): Finding | null {
    const c = topology.cluster;
    const peered = topology.clients.filter((x) => x.vpc);
    if (peered.length === 0) return null;
    const vpc = c.vpc.id;
    // Live, the cluster account sees every peering of its VPC; when it may not read them, the client accounts'
    // answers (src/model/live/load.ts) show only the topology's own: a partial count.
    const missing = model.source === "live" ? unread(model, factKey.peerings(c.account)) : undefined;
    const allowRead = missing
      ? (missing.hint ??
        `allow ${missing.permission ?? "ec2:DescribeVpcPeeringConnections"} to the credentials used for account ${c.account}`)
      : "";
    if (missing && peered.every((x) => unread(model, factKey.peerings(x.account)))) {
      return unknown(
        `the peering connections of ${vpc} could not be read in account ${c.account}: ${missing.reason}`,
        allowRead,
      );
    }
    const counted = model.peerings.filter(
      (p) => COUNTED.has(p.status) && (p.requester.vpcId === vpc || p.accepter.vpcId === vpc),
    );
    const ids = new Set(counted.map((p) => p.id));
    // Live: a client VPC without a peering gets one at deploy; count it now.
    const toCreate =
      model.source === "live"
        ? peered.filter(
            (x) =>
              !counted.some(
                (p) =>
                  (p.requester.vpcId === x.vpc?.id && p.accepter.vpcId === vpc) ||
                  (p.accepter.vpcId === x.vpc?.id && p.requester.vpcId === vpc),
              ),
          ).length
        : 0;
    const total = ids.size + toCreate;
    const quota = c.quotas?.peeringsPerVpc ?? QUOTAS.peeringsPerVpc;
    const byStatus = new Map<string, number>();
    for (const p of counted) byStatus.set(p.status, (byStatus.get(p.status) ?? 0) + 1);
    const parts = [...byStatus].map(([s, k]) => `${k} ${s}`);
    if (toCreate > 0) parts.push(`${toCreate} to create`);
    const evidence: Evidence[] = [
      {
        fact: `peering connections of ${vpc}`,
        source: factSource(model),
        detail: `${total} (${parts.join(", ") || "none"})${
          counted.length > 0
            ? `: ${counted
                .slice(0, 3)
                .map((p) => peeringLabel(p.id))
                .join(", ")}${counted.length > 3 ? ", ..." : ""}`
            : ""
        }`,
      },
    ];
    if (c.quotas?.peeringsPerVpc !== undefined) {
      evidence.push({
        fact: "Active VPC peering connections per VPC (cluster.quotas.peeringsPerVpc)",
        source: "declared",
        detail: String(quota),
      });
    }
    const scope =
      model.source === "plan"
        ? " (those the plan knows of: doctor counts the live ones)"
        : missing
          ? ` (those the client accounts see: the cluster account's could not be read: ${missing.reason})`
          : "";
    if (total <= quota) {
      const summary = `${total} peering connection(s) of ${vpc}${scope}, quota ${quota}`;
      return missing ? warn(summary, allowRead, evidence) : pass(summary, evidence);
    }
    const tgw = "or join the VPCs through a Transit Gateway instead of peerings (not built by xeks yet)";
    const fix =
      total <= QUOTAS.peeringsPerVpcMax
        ? `in account ${c.account}, region ${c.region}: request a raise of the Amazon VPC quota "Active VPC peering connections per VPC" in Service Quotas to at least ${total} (up to ${QUOTAS.peeringsPerVpcMax}) and declare the granted value as cluster.quotas.peeringsPerVpc; ${tgw}`
        : `no raise reaches ${total} (the quota "Active VPC peering connections per VPC" goes up to ${QUOTAS.peeringsPerVpcMax}): join the VPCs through a Transit Gateway (not built by xeks yet), or give fewer clients a VPC on this cluster (a client without a VPC reaches the public endpoint: clients[].publicCidrs)`;
    return fail(
      `${vpc} would have ${total} peering connections${scope}, over the VPC quota "Active VPC peering connections per VPC" of ${quota}${c.quotas?.peeringsPerVpc !== undefined ? " (declared)" : " (default)"}: ${total - quota} of them cannot become active`,
      fix,
      evidence,
    );
  },
};
