/**
 * The readers `xeks audit` needs beyond those of ./read.ts (which it reuses by import): an access entry without
 * its policies, an entry's policy associations, a principal (role or user) in one read, and the peering
 * connections of a VPC with the CIDRs of both sides. Same rules as ./read.ts: through a session of ./session.ts
 * (read-only guard, the shared limit on calls in flight, the call count), every page followed, errors thrown as
 * ReadFailure naming the permission (./read-errors.ts), nothing decided here.
 *
 * Sources: the EKS API reference, DescribeAccessEntry (`accessEntry.principalArn`, `type`, `username`,
 * `kubernetesGroups`, `createdAt`, `accessEntryArn`) and ListAssociatedAccessPolicies (`policyArn`,
 * `accessScope`); the IAM API reference, GetRole (`Role.RoleId`, `CreateDate`, `AssumeRolePolicyDocument`,
 * NoSuchEntity when the role does not exist) and GetUser (`User.UserId`, `CreateDate`, NoSuchEntity); the EC2 API
 * reference, DescribeVpcPeeringConnections (`RequesterVpcInfo`/`AccepterVpcInfo` `VpcId`, `OwnerId`, `Region`,
 * `CidrBlock`, `CidrBlockSet`; `Status.Code`).
 */
import { paginateDescribeVpcPeeringConnections, type VpcPeeringConnectionVpcInfo } from "@aws-sdk/client-ec2";
import { DescribeAccessEntryCommand, paginateListAssociatedAccessPolicies } from "@aws-sdk/client-eks";
import { GetRoleCommand, GetUserCommand } from "@aws-sdk/client-iam";
import { roleOfArn } from "../domain/arn.js";
import type { AccessPolicyAssociationFact, PeeringFact, PolicyDocument } from "../domain/facts.js";
import { parsePolicyDocument, peeringFact } from "./read.js";
import { ReadFailure, read } from "./read-errors.js";
import type { Session } from "./session.js";

/** An access entry as DescribeAccessEntry answers it (no policies: see {@link readEntryPolicies}). */
export interface AuditEntry {
  principalArn: string;
  /** STANDARD, EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX, HYBRID_LINUX, … */
  type: string;
  username?: string;
  kubernetesGroups: string[];
  /** When EKS created the entry (ISO 8601). */
  createdAt?: string;
  /** `arn:P:eks:R:A:access-entry/CLUSTER/…` */
  accessEntryArn?: string;
}

/** One access entry, without its policies; undefined when it is gone (deleted since it was listed). */
export async function describeAccessEntry(
  session: Session,
  cluster: string,
  principalArn: string,
): Promise<AuditEntry | undefined> {
  try {
    const out = await read("eks:DescribeAccessEntry", () =>
      session.eks().send(new DescribeAccessEntryCommand({ clusterName: cluster, principalArn })),
    );
    const e = out.accessEntry;
    if (!e) return undefined;
    return {
      principalArn: e.principalArn ?? principalArn,
      type: e.type ?? "STANDARD",
      ...(e.username ? { username: e.username } : {}),
      kubernetesGroups: [...(e.kubernetesGroups ?? [])],
      ...(e.createdAt ? { createdAt: e.createdAt.toISOString() } : {}),
      ...(e.accessEntryArn ? { accessEntryArn: e.accessEntryArn } : {}),
    };
  } catch (err) {
    if (err instanceof ReadFailure && err.error.kind === "notFound") return undefined;
    throw err;
  }
}

/** The access policies associated with one entry, every page (ListAssociatedAccessPolicies). */
export async function readEntryPolicies(
  session: Session,
  cluster: string,
  principalArn: string,
): Promise<AccessPolicyAssociationFact[]> {
  const out: AccessPolicyAssociationFact[] = [];
  await read("eks:ListAssociatedAccessPolicies", async () => {
    for await (const page of paginateListAssociatedAccessPolicies(
      { client: session.eks() },
      { clusterName: cluster, principalArn },
    )) {
      for (const a of page.associatedAccessPolicies ?? []) {
        const s = a.accessScope;
        out.push({
          policyArn: a.policyArn ?? "",
          scope:
            s?.type === "namespace"
              ? { type: "namespace", namespaces: [...(s.namespaces ?? [])] }
              : { type: "cluster" },
        });
      }
    }
  });
  return out;
}

/** A role or user as IAM answers it: what the audit asks of a principal. */
export interface AuditPrincipal {
  kind: "role" | "user";
  arn: string;
  name: string;
  account: string;
  /** AROA… (role) or AIDA… (user). */
  uniqueId?: string;
  /** When IAM created it (ISO 8601). */
  createdAt?: string;
  /** Roles only: the trust policy, parsed. */
  trustPolicy?: PolicyDocument;
}

/**
 * The IAM principal an ARN names, in one read: iam:GetRole for `arn:P:iam::A:role/…` (the name is the last path
 * segment), iam:GetUser for `arn:P:iam::A:user/…`. Undefined when it does not exist (NoSuchEntity). Throws
 * ReadFailure (denied, failed) otherwise; a RangeError when the ARN names neither a role nor a user.
 */
export async function readPrincipal(
  session: Session,
  principalArn: string,
): Promise<AuditPrincipal | undefined> {
  const kind = principalKind(principalArn);
  if (!kind) throw new RangeError(`not a role or user ARN: ${principalArn}`);
  const account = roleOfArn(principalArn)?.account ?? principalArn.split(":")[4] ?? "";
  const name = principalArn.split("/").pop() ?? "";
  try {
    if (kind === "role") {
      const out = await read("iam:GetRole", () => session.iam.send(new GetRoleCommand({ RoleName: name })));
      const r = out.Role;
      if (!r) return undefined;
      return {
        kind,
        arn: r.Arn ?? principalArn,
        name: r.RoleName ?? name,
        account,
        ...(r.RoleId ? { uniqueId: r.RoleId } : {}),
        ...(r.CreateDate ? { createdAt: r.CreateDate.toISOString() } : {}),
        trustPolicy: parsePolicyDocument(r.AssumeRolePolicyDocument, `the trust policy of ${name}`),
      };
    }
    const out = await read("iam:GetUser", () => session.iam.send(new GetUserCommand({ UserName: name })));
    const u = out.User;
    if (!u) return undefined;
    return {
      kind,
      arn: u.Arn ?? principalArn,
      name: u.UserName ?? name,
      account,
      ...(u.UserId ? { uniqueId: u.UserId } : {}),
      ...(u.CreateDate ? { createdAt: u.CreateDate.toISOString() } : {}),
    };
  } catch (err) {
    if (err instanceof ReadFailure && err.error.kind === "notFound") return undefined;
    throw err;
  }
}

/** "role" or "user" for an IAM role or user ARN with a twelve-digit account; undefined for anything else. */
export function principalKind(arn: string): "role" | "user" | undefined {
  const m = /^arn:[\w-]+:iam::\d{12}:(role|user)\/.+/.exec(arn);
  return m?.[1] as "role" | "user" | undefined;
}

/** A peering connection with the IPv4 CIDRs of both VPCs, as the reading account sees them. */
export interface AuditPeering extends PeeringFact {
  requesterCidrs: string[];
  accepterCidrs: string[];
}

function cidrsOf(info: VpcPeeringConnectionVpcInfo | undefined): string[] {
  const out = new Set<string>();
  if (info?.CidrBlock) out.add(info.CidrBlock);
  for (const c of info?.CidrBlockSet ?? []) if (c.CidrBlock) out.add(c.CidrBlock);
  return [...out];
}

/** Peering connections with `vpcId` on either side (two filtered, paginated DescribeVpcPeeringConnections). */
export async function readVpcPeerings(session: Session, vpcId: string): Promise<AuditPeering[]> {
  const byId = new Map<string, AuditPeering>();
  await Promise.all(
    ["requester-vpc-info.vpc-id", "accepter-vpc-info.vpc-id"].map((name) =>
      read("ec2:DescribeVpcPeeringConnections", async () => {
        for await (const page of paginateDescribeVpcPeeringConnections(
          { client: session.ec2 },
          { Filters: [{ Name: name, Values: [vpcId] }] },
        )) {
          for (const p of page.VpcPeeringConnections ?? []) {
            const fact = peeringFact(p, session.region);
            // Filters are applied by EC2; keep the check for emulators that ignore them.
            if (fact.requester.vpcId !== vpcId && fact.accepter.vpcId !== vpcId) continue;
            byId.set(fact.id, {
              ...fact,
              requesterCidrs: cidrsOf(p.RequesterVpcInfo),
              accepterCidrs: cidrsOf(p.AccepterVpcInfo),
            });
          }
        }
      }),
    ),
  );
  return [...byId.values()];
}
