/**
 * The live readers: one function per kind of fact, from SDK answers to the plain facts of src/domain/facts.ts
 * (the model's, re-exported by src/model/types.ts), through a session of ./session.ts. They throw ReadFailure
 * (./read-errors.ts, naming the permission) and never decide anything: deciding is the links' job. Shared by
 * doctor's model (src/model/live/load.ts) and discover (src/discover/read.ts). Sources: the IAM (GetRole,
 * ListRolePolicies, GetRolePolicy, ListAttachedRolePolicies, GetPolicy, GetPolicyVersion,
 * ListInstanceProfilesForRole), EC2 (DescribeVpcs, DescribeRouteTables, DescribeSubnets,
 * DescribeVpcPeeringConnections, DescribeSecurityGroupRules, DescribeInstances) and EKS (DescribeCluster,
 * ListAccessEntries, DescribeAccessEntry, ListAssociatedAccessPolicies) API references; for the client kinds of
 * issue 13, IAM ListRoles (PathPrefix, Marker/IsTruncated), GetOpenIDConnectProvider and EKS
 * ListPodIdentityAssociations, DescribePodIdentityAssociation.
 */
import {
  DescribeVpcsCommand,
  type Instance,
  paginateDescribeInstances,
  paginateDescribeRouteTables,
  paginateDescribeSecurityGroupRules,
  paginateDescribeSubnets,
  paginateDescribeVpcPeeringConnections,
  type Route,
  type RouteTable,
  type VpcPeeringConnection,
} from "@aws-sdk/client-ec2";
import {
  type AccessEntry,
  DescribeAccessEntryCommand,
  DescribePodIdentityAssociationCommand,
  paginateListAccessEntries,
  paginateListAssociatedAccessPolicies,
  paginateListPodIdentityAssociations,
} from "@aws-sdk/client-eks";
import {
  GetOpenIDConnectProviderCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  type GetRoleCommandOutput,
  GetRolePolicyCommand,
  ListRolesCommand,
  paginateListAttachedRolePolicies,
  paginateListInstanceProfilesForRole,
  paginateListRolePolicies,
} from "@aws-sdk/client-iam";
import type {
  AccessEntryFact,
  AccessPolicyAssociationFact,
  InstanceFact,
  OidcProviderFact,
  PeeringFact,
  PeeringStatus,
  PodIdentityAssociationFact,
  PolicyDocument,
  PolicyFact,
  RoleFact,
  RouteFact,
  RouteTableFact,
  SecurityGroupRuleFact,
} from "../domain/facts.js";
import { type ClusterDescription, describeClusterIfExists } from "./eks.js";
import { ReadFailure, read } from "./read-errors.js";
import type { Session } from "./session.js";

/** Collect every page of a paginator into one list. */
async function all<P, T>(pages: AsyncIterable<P>, pick: (page: P) => T[] | undefined): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) out.push(...(pick(page) ?? []));
  return out;
}

/** IAM returns policy documents URL-encoded; some tools hand them back already decoded. */
export function parsePolicyDocument(raw: string | undefined, what: string): PolicyDocument {
  if (!raw) return { Version: "2012-10-17", Statement: [] as never };
  for (const text of [raw, safeDecode(raw)]) {
    try {
      return JSON.parse(text) as PolicyDocument;
    } catch {
      // try the next form
    }
  }
  throw new ReadFailure({
    kind: "failed",
    awsKind: "other",
    code: "InvalidPolicyDocument",
    permission: "iam:GetRole",
    detail: `the policy document of ${what} is not JSON`,
  });
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Managed policy documents by ARN, read once per run (the same AWS-managed policy is on many roles). */
export class PolicyCache {
  private readonly docs = new Map<string, Promise<PolicyDocument>>();
  get(session: Session, arn: string): Promise<PolicyDocument> {
    let doc = this.docs.get(arn);
    if (!doc) {
      doc = (async () => {
        const policy = await read("iam:GetPolicy", () =>
          session.iam.send(new GetPolicyCommand({ PolicyArn: arn })),
        );
        const version = policy.Policy?.DefaultVersionId ?? "v1";
        const out = await read("iam:GetPolicyVersion", () =>
          session.iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: version })),
        );
        return parsePolicyDocument(out.PolicyVersion?.Document, arn);
      })();
      this.docs.set(arn, doc);
    }
    return doc;
  }
}

/** A role and everything the links ask of it; undefined when it does not exist. */
export async function readRole(
  session: Session,
  name: string,
  account: string,
  cache: PolicyCache,
): Promise<RoleFact | undefined> {
  let role: NonNullable<GetRoleCommandOutput["Role"]>;
  try {
    const out = await read("iam:GetRole", () => session.iam.send(new GetRoleCommand({ RoleName: name })));
    if (!out.Role) return undefined;
    role = out.Role;
  } catch (err) {
    if (err instanceof ReadFailure && err.error.kind === "notFound") return undefined;
    throw err;
  }
  const iam = { client: session.iam };
  const [inline, attached, profiles, boundary] = await Promise.all([
    read("iam:ListRolePolicies", () =>
      all(paginateListRolePolicies(iam, { RoleName: name }), (p) => p.PolicyNames),
    ).then((names) =>
      Promise.all(
        names.map(async (policyName): Promise<PolicyFact> => {
          const out = await read("iam:GetRolePolicy", () =>
            session.iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: policyName })),
          );
          return {
            name: `inline ${policyName}`,
            document: parsePolicyDocument(out.PolicyDocument, `inline policy ${policyName} of ${name}`),
            source: "live",
          };
        }),
      ),
    ),
    read("iam:ListAttachedRolePolicies", () =>
      all(paginateListAttachedRolePolicies(iam, { RoleName: name }), (p) => p.AttachedPolicies),
    ).then((list) =>
      Promise.all(
        list.map(
          async (p): Promise<PolicyFact> => ({
            name: `managed ${p.PolicyName ?? p.PolicyArn}`,
            document: await cache.get(session, p.PolicyArn ?? ""),
            source: "live",
          }),
        ),
      ),
    ),
    read("iam:ListInstanceProfilesForRole", () =>
      all(paginateListInstanceProfilesForRole(iam, { RoleName: name }), (p) => p.InstanceProfiles),
    ),
    role.PermissionsBoundary?.PermissionsBoundaryArn
      ? cache.get(session, role.PermissionsBoundary.PermissionsBoundaryArn).then(
          (document): PolicyFact => ({
            name: role.PermissionsBoundary?.PermissionsBoundaryArn ?? "permissions boundary",
            document,
            source: "live",
          }),
        )
      : Promise.resolve(undefined),
  ]);
  return {
    arn: role.Arn ?? "",
    account,
    name: role.RoleName ?? name,
    path: role.Path ?? "/",
    uniqueId: role.RoleId,
    createdAt: role.CreateDate?.toISOString(),
    trustPolicy: parsePolicyDocument(role.AssumeRolePolicyDocument, `the trust policy of ${name}`),
    policies: [...inline, ...attached],
    ...(boundary ? { permissionsBoundary: boundary } : {}),
    instanceProfiles: profiles.map((p) => p.InstanceProfileName ?? "").filter(Boolean),
    source: "live",
  };
}

export interface VpcRead {
  id: string;
  /** Primary first, then the associated secondary IPv4 CIDRs. */
  cidrs: string[];
  ownerId?: string;
}

/** The VPC's IPv4 CIDRs; undefined when it does not exist. */
export async function readVpc(session: Session, vpcId: string): Promise<VpcRead | undefined> {
  try {
    const out = await read("ec2:DescribeVpcs", () =>
      session.ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] })),
    );
    const vpc = out.Vpcs?.find((v) => v.VpcId === vpcId);
    if (!vpc) return undefined;
    const cidrs = [vpc.CidrBlock ?? ""];
    for (const a of vpc.CidrBlockAssociationSet ?? []) {
      const state = a.CidrBlockState?.State;
      if (a.CidrBlock && !cidrs.includes(a.CidrBlock) && (!state || state === "associated"))
        cidrs.push(a.CidrBlock);
    }
    return { id: vpcId, cidrs: cidrs.filter(Boolean), ownerId: vpc.OwnerId };
  } catch (err) {
    if (err instanceof ReadFailure && err.error.kind === "notFound") return undefined;
    throw err;
  }
}

function routeTarget(r: Route): string {
  return (
    r.VpcPeeringConnectionId ??
    r.TransitGatewayId ??
    r.NatGatewayId ??
    r.GatewayId ??
    r.NetworkInterfaceId ??
    r.InstanceId ??
    r.EgressOnlyInternetGatewayId ??
    r.LocalGatewayId ??
    r.CarrierGatewayId ??
    r.CoreNetworkArn ??
    "unknown"
  );
}

export function routeTableFact(t: RouteTable, account: string): RouteTableFact {
  const routes: RouteFact[] = (t.Routes ?? [])
    .filter((r) => r.DestinationCidrBlock)
    .map((r) => ({
      destination: r.DestinationCidrBlock ?? "",
      target: routeTarget(r),
      state: r.State === "blackhole" ? "blackhole" : "active",
      source: "live",
    }));
  return {
    id: t.RouteTableId ?? "",
    vpcId: t.VpcId ?? "",
    account,
    routes,
    main: (t.Associations ?? []).some((a) => a.Main),
    subnets: (t.Associations ?? []).flatMap((a) => (a.SubnetId ? [a.SubnetId] : [])),
  };
}

/** Every route table of a VPC (main and subnet associations included). */
export async function readRouteTables(
  session: Session,
  vpcId: string,
  account: string,
): Promise<RouteTableFact[]> {
  const tables = await read("ec2:DescribeRouteTables", () =>
    all(
      paginateDescribeRouteTables(
        { client: session.ec2 },
        { Filters: [{ Name: "vpc-id", Values: [vpcId] }] },
      ),
      (p) => p.RouteTables,
    ),
  );
  // Filters are applied by EC2; keep the check for emulators that ignore them.
  return tables.filter((t) => t.VpcId === vpcId).map((t) => routeTableFact(t, account));
}

/** Subnets of a VPC. */
export async function readSubnets(session: Session, vpcId: string): Promise<string[]> {
  const subnets = await read("ec2:DescribeSubnets", () =>
    all(
      paginateDescribeSubnets({ client: session.ec2 }, { Filters: [{ Name: "vpc-id", Values: [vpcId] }] }),
      (p) => p.Subnets,
    ),
  );
  return subnets.filter((s) => s.VpcId === vpcId).flatMap((s) => (s.SubnetId ? [s.SubnetId] : []));
}

const PEERING_STATUSES: readonly PeeringStatus[] = [
  "active",
  "pending-acceptance",
  "initiating-request",
  "provisioning",
  "failed",
  "expired",
  "rejected",
  "deleted",
  "deleting",
];

export function peeringFact(p: VpcPeeringConnection, fallbackRegion: string): PeeringFact {
  const code = p.Status?.Code as PeeringStatus | undefined;
  return {
    id: p.VpcPeeringConnectionId ?? "",
    requester: {
      vpcId: p.RequesterVpcInfo?.VpcId ?? "",
      account: p.RequesterVpcInfo?.OwnerId ?? "",
      region: p.RequesterVpcInfo?.Region ?? fallbackRegion,
    },
    accepter: {
      vpcId: p.AccepterVpcInfo?.VpcId ?? "",
      account: p.AccepterVpcInfo?.OwnerId ?? "",
      region: p.AccepterVpcInfo?.Region ?? fallbackRegion,
    },
    status: code && PEERING_STATUSES.includes(code) ? code : "failed",
    source: "live",
  };
}

/** Peering connections with `vpcId` on either side, as this account sees them. */
export async function readPeerings(session: Session, vpcId: string): Promise<PeeringFact[]> {
  const ec2 = { client: session.ec2 };
  const [asRequester, asAccepter] = await Promise.all(
    ["requester-vpc-info.vpc-id", "accepter-vpc-info.vpc-id"].map((name) =>
      read("ec2:DescribeVpcPeeringConnections", () =>
        all(
          paginateDescribeVpcPeeringConnections(ec2, { Filters: [{ Name: name, Values: [vpcId] }] }),
          (p) => p.VpcPeeringConnections,
        ),
      ),
    ),
  );
  const byId = new Map<string, PeeringFact>();
  for (const p of [...(asRequester ?? []), ...(asAccepter ?? [])]) {
    const fact = peeringFact(p, session.region);
    // Filters are applied by EC2; keep the check for emulators that ignore them.
    if (fact.requester.vpcId === vpcId || fact.accepter.vpcId === vpcId) byId.set(fact.id, fact);
  }
  return [...byId.values()];
}

/** Ingress rules of a security group (DescribeSecurityGroupRules), with their ids and descriptions. */
export async function readSecurityGroupRules(
  session: Session,
  groupId: string,
): Promise<SecurityGroupRuleFact[]> {
  const rules = await read("ec2:DescribeSecurityGroupRules", () =>
    all(
      paginateDescribeSecurityGroupRules(
        { client: session.ec2 },
        { Filters: [{ Name: "group-id", Values: [groupId] }] },
      ),
      (p) => p.SecurityGroupRules,
    ),
  );
  return rules
    .filter((r) => r.GroupId === groupId && !r.IsEgress)
    .map((r) => ({
      groupId,
      ...(r.SecurityGroupRuleId ? { id: r.SecurityGroupRuleId } : {}),
      ...(r.Description ? { description: r.Description } : {}),
      protocol: r.IpProtocol ?? "-1",
      fromPort: r.FromPort ?? -1,
      toPort: r.ToPort ?? -1,
      ...(r.CidrIpv4 ? { cidr: r.CidrIpv4 } : {}),
      ...(r.ReferencedGroupInfo?.GroupId ? { sourceGroupId: r.ReferencedGroupInfo.GroupId } : {}),
      source: "live" as const,
    }));
}

/** Instances (not terminated) in a subnet, with their instance profiles. */
export async function readInstances(
  session: Session,
  subnetId: string,
  account: string,
): Promise<InstanceFact[]> {
  const reservations = await read("ec2:DescribeInstances", () =>
    all(
      paginateDescribeInstances(
        { client: session.ec2 },
        {
          Filters: [
            { Name: "subnet-id", Values: [subnetId] },
            { Name: "instance-state-name", Values: ["pending", "running", "stopping", "stopped"] },
          ],
        },
      ),
      (p) => p.Reservations,
    ),
  );
  const instances: Instance[] = reservations.flatMap((r) => r.Instances ?? []);
  return instances
    .filter((i) => i.SubnetId === subnetId && !["terminated", "shutting-down"].includes(i.State?.Name ?? ""))
    .map((i) => ({
      id: i.InstanceId ?? "",
      account,
      subnetId: i.SubnetId,
      ...(i.IamInstanceProfile?.Arn ? { instanceProfile: i.IamInstanceProfile.Arn } : {}),
      httpTokensRequired: i.MetadataOptions?.HttpTokens === "required",
      source: "live" as const,
    }));
}

/** DescribeCluster (the one in src/aws/eks.ts); undefined when there is no such cluster. */
export async function readCluster(session: Session, name: string): Promise<ClusterDescription | undefined> {
  return await read("eks:DescribeCluster", () => describeClusterIfExists(session.eks(), name));
}

/**
 * Principal ARNs of the cluster's access entries. A cluster in CONFIG_MAP mode refuses the call
 * (InvalidRequestException): it has no access entries, so the answer is an empty list.
 */
export async function listAccessEntries(session: Session, cluster: string): Promise<string[]> {
  try {
    return await read("eks:ListAccessEntries", () =>
      all(
        paginateListAccessEntries({ client: session.eks() }, { clusterName: cluster }),
        (p) => p.accessEntries,
      ),
    );
  } catch (err) {
    if (
      err instanceof ReadFailure &&
      (err.error.code === "InvalidRequestException" || err.error.code === "InvalidParameterException") &&
      /authentication mode/i.test(err.message)
    ) {
      return [];
    }
    throw err;
  }
}

function scopeOf(
  s: { type?: string; namespaces?: string[] } | undefined,
): AccessPolicyAssociationFact["scope"] {
  return s?.type === "namespace"
    ? { type: "namespace", namespaces: [...(s.namespaces ?? [])] }
    : { type: "cluster" };
}

/** One access entry with its policy associations; undefined when it is gone. */
export async function readAccessEntry(
  session: Session,
  cluster: string,
  principalArn: string,
): Promise<AccessEntryFact | undefined> {
  let entry: AccessEntry | undefined;
  let policies: AccessPolicyAssociationFact[];
  try {
    const [described, associated] = await Promise.all([
      read("eks:DescribeAccessEntry", () =>
        session.eks().send(new DescribeAccessEntryCommand({ clusterName: cluster, principalArn })),
      ),
      read("eks:ListAssociatedAccessPolicies", () =>
        all(
          paginateListAssociatedAccessPolicies(
            { client: session.eks() },
            { clusterName: cluster, principalArn },
          ),
          (p) => p.associatedAccessPolicies,
        ),
      ),
    ]);
    entry = described.accessEntry;
    policies = associated.map((a) => ({ policyArn: a.policyArn ?? "", scope: scopeOf(a.accessScope) }));
  } catch (err) {
    if (err instanceof ReadFailure && err.error.kind === "notFound") return undefined;
    throw err;
  }
  if (!entry) return undefined;
  return {
    principalArn: entry.principalArn ?? principalArn,
    type: entry.type ?? "STANDARD",
    ...(entry.username ? { username: entry.username } : {}),
    kubernetesGroups: [...(entry.kubernetesGroups ?? [])],
    policies,
    ...(entry.createdAt ? { createdAt: entry.createdAt.toISOString() } : {}),
    source: "live",
  };
}

/** A role as IAM ListRoles names it. */
export interface ListedRole {
  name: string;
  arn: string;
  path: string;
}

/** At most this many ListRoles pages (of up to 1000 roles each) are read for one path prefix. */
export const LIST_ROLES_MAX_PAGES = 10;

/**
 * The roles of the session's account whose path starts with `pathPrefix` (IAM ListRoles, PathPrefix, pages
 * of up to 1000 followed with Marker). Bounded: more than LIST_ROLES_MAX_PAGES pages is a ReadFailure
 * ("failed"), so the fact becomes unread instead of a guess. ListRoles returns no trust or policies: read
 * each role with `readRole`.
 */
export async function listRolesUnderPath(session: Session, pathPrefix: string): Promise<ListedRole[]> {
  const out: ListedRole[] = [];
  let marker: string | undefined;
  for (let page = 0; page < LIST_ROLES_MAX_PAGES; page++) {
    const answer = await read("iam:ListRoles", () =>
      session.iam.send(
        new ListRolesCommand({
          PathPrefix: pathPrefix,
          MaxItems: 1000,
          ...(marker ? { Marker: marker } : {}),
        }),
      ),
    );
    for (const r of answer.Roles ?? []) {
      const path = r.Path ?? "/";
      // PathPrefix is applied by IAM; keep the check for emulators that ignore it.
      if (r.RoleName && r.Arn && path.startsWith(pathPrefix))
        out.push({ name: r.RoleName, arn: r.Arn, path });
    }
    if (!answer.IsTruncated || !answer.Marker) return out;
    marker = answer.Marker;
  }
  throw new ReadFailure({
    kind: "failed",
    awsKind: "other",
    code: "TooManyRoles",
    permission: "iam:ListRoles",
    detail: `iam:ListRoles under ${pathPrefix} returned more than ${LIST_ROLES_MAX_PAGES} pages; xeks stopped reading`,
    hint: `list them yourself: aws iam list-roles --path-prefix ${pathPrefix}`,
  });
}

/**
 * An IAM OIDC identity provider (IAM GetOpenIDConnectProvider: `Url`, `ClientIDList`); undefined when it does
 * not exist (NoSuchEntity). `url` is stored without `https://`, as in the provider's ARN.
 */
export async function readOidcProvider(
  session: Session,
  arn: string,
  account: string,
): Promise<OidcProviderFact | undefined> {
  try {
    const out = await read("iam:GetOpenIDConnectProvider", () =>
      session.iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn })),
    );
    const url = (out.Url ?? arn.slice(arn.indexOf("oidc-provider/") + "oidc-provider/".length)).replace(
      /^https:\/\//,
      "",
    );
    return { arn, account, url, audiences: [...(out.ClientIDList ?? [])], source: "live" };
  } catch (err) {
    if (err instanceof ReadFailure && err.error.kind === "notFound") return undefined;
    throw err;
  }
}

/**
 * The EKS Pod Identity associations of `cluster` for one namespace and service account
 * (ListPodIdentityAssociations with both filters, every page, then DescribePodIdentityAssociation for the
 * role: the list's summaries carry no roleArn). A cluster that does not exist has none: [].
 */
export async function readPodIdentityAssociations(
  session: Session,
  where: { cluster: string; namespace: string; serviceAccount: string; account: string; region: string },
): Promise<PodIdentityAssociationFact[]> {
  const eks = session.eks();
  let ids: string[];
  try {
    const summaries = await read("eks:ListPodIdentityAssociations", () =>
      all(
        paginateListPodIdentityAssociations(
          { client: eks },
          { clusterName: where.cluster, namespace: where.namespace, serviceAccount: where.serviceAccount },
        ),
        (p) => p.associations,
      ),
    );
    ids = summaries
      // Filters are applied by EKS; keep the check for emulators that ignore them.
      .filter((a) => a.namespace === where.namespace && a.serviceAccount === where.serviceAccount)
      .flatMap((a) => (a.associationId ? [a.associationId] : []));
  } catch (err) {
    if (err instanceof ReadFailure && err.error.kind === "notFound") return [];
    throw err;
  }
  const facts = await Promise.all(
    ids.map(async (associationId): Promise<PodIdentityAssociationFact | undefined> => {
      try {
        const out = await read("eks:DescribePodIdentityAssociation", () =>
          eks.send(new DescribePodIdentityAssociationCommand({ clusterName: where.cluster, associationId })),
        );
        const a = out.association;
        if (!a?.roleArn) return undefined;
        return {
          id: a.associationId ?? associationId,
          account: where.account,
          region: where.region,
          clusterName: a.clusterName ?? where.cluster,
          namespace: a.namespace ?? where.namespace,
          serviceAccount: a.serviceAccount ?? where.serviceAccount,
          roleArn: a.roleArn,
          ...(a.targetRoleArn ? { targetRoleArn: a.targetRoleArn } : {}),
          source: "live",
        };
      } catch (err) {
        // Deleted between the list and the describe.
        if (err instanceof ReadFailure && err.error.kind === "notFound") return undefined;
        throw err;
      }
    }),
  );
  return facts.filter((f): f is PodIdentityAssociationFact => f !== undefined);
}
