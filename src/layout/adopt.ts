/**
 * Adoption: which pieces of the chain exist already (declared in the topology, as `xeks discover` writes them) and
 * how CloudFormation takes them over. Plain data from the topology alone, read by the layout (`layout.ts`), the
 * stacks (`stacks.ts`: `DeletionPolicy: Retain` and the import record) and the plan. The rules: docs/adopt.md.
 *
 * Import identifiers are each resource type's `primaryIdentifier` in its CloudFormation registry schema (the
 * schemas cfn-lint bundles; checked by test/adopt.test.ts): AWS::IAM::Role `RoleName`; AWS::IAM::RolePolicy
 * `PolicyName` + `RoleName`; AWS::EKS::AccessEntry `PrincipalArn` + `ClusterName`; AWS::EC2::VPCPeeringConnection
 * `Id`; AWS::EC2::Route `RouteTableId` + `CidrBlock`; AWS::EC2::SecurityGroupIngress `Id`.
 */
import { entryMatchesRole } from "../domain/access-entry.js";
import type { AccessScope } from "../domain/scope.js";
import type {
  AccessRole,
  Client,
  DeclaredIngressRule,
  PolicyDocument,
  Topology,
  Vpc,
} from "../topology/types.js";

/** What happens to one piece of the chain on deploy. */
export type PieceAction = "create" | "adopt" | "leave";

/**
 * A piece that exists and that CloudFormation takes over with an IMPORT change set (deploy), then updates to what
 * xeks writes. The resource carries `DeletionPolicy: Retain` and `UpdateReplacePolicy: Retain`.
 */
export interface Adoption {
  /** What the piece is, for people: "access role EKS-CrossAccount-Access-Role". */
  piece: string;
  /** The CloudFormation resource type: "AWS::IAM::Role". */
  resourceType: string;
  /** `ResourcesToImport[].ResourceIdentifier`: the type's primary identifier, as found. */
  identifier: Record<string, string>;
  /**
   * CloudFormation properties of the piece as found, where they differ from what xeks writes or are not literal
   * in xeks's template (a `Ref`). `null` means the property is absent on the piece. The import template is xeks's
   * resource with these properties in place; the update that follows applies xeks's values.
   */
  found: Record<string, unknown>;
}

/** One piece of the chain and its action, for the plan's table. */
export interface PieceLayout {
  piece: string;
  action: PieceAction;
  /** The stack that holds it (create, adopt); none for leave. */
  stack?: string;
  /** Why, or what the user should know. */
  note?: string;
}

/** The 443 rule of the cluster security group that admits `cidr`, when one is declared (`cluster.ingressRules`). */
export function ingressRuleFor(
  rules: readonly DeclaredIngressRule[],
  cidr: string,
): DeclaredIngressRule | undefined {
  return rules.find((r) => r.protocol === "tcp" && r.fromPort === 443 && r.toPort === 443 && r.cidr === cidr);
}

/**
 * The existing route of `table` to `destination` through `peeringId`, declared in `vpc.routes`. Only such a route
 * is adopted; a route to the destination through anything else is a conflict (the route links say so).
 */
export function adoptedRoute(
  vpc: Vpc,
  table: string,
  destination: string,
  peeringId: string | undefined,
): Adoption | undefined {
  if (!peeringId) return undefined;
  const found = vpc.routes.find(
    (r) => r.routeTable === table && r.destination === destination && r.target === peeringId,
  );
  if (!found) return undefined;
  return {
    piece: `route ${destination} -> ${peeringId} in ${table}`,
    resourceType: "AWS::EC2::Route",
    identifier: { RouteTableId: table, CidrBlock: destination },
    found: { VpcPeeringConnectionId: peeringId },
  };
}

/** The adoption of a client's peering connection (`clients[].peering` with `adopt: true`). */
export function adoptedPeering(client: Client): Adoption | undefined {
  if (!client.peering?.adopt) return undefined;
  return {
    piece: `peering connection ${client.peering.id} (client ${client.name})`,
    resourceType: "AWS::EC2::VPCPeeringConnection",
    identifier: { Id: client.peering.id },
    found: {},
  };
}

/** The adoption of an existing client role's AssumeRole inline policy (`role.assumePolicy`). */
export function adoptedAssumePolicy(client: Client): Adoption | undefined {
  const r = client.role;
  if (!r?.existing || !r.assumePolicy) return undefined;
  const declared = r.policies.find((p) => p.name === r.assumePolicy);
  return {
    piece: `inline policy ${r.assumePolicy} of client role ${r.name}`,
    resourceType: "AWS::IAM::RolePolicy",
    identifier: { PolicyName: r.assumePolicy, RoleName: r.name },
    found: declared ? { PolicyDocument: declared.document } : {},
  };
}

/** The adoption of an access role (`access[].adopt`): its trust and inline policies as found. */
export function adoptedAccessRole(a: AccessRole): Adoption | undefined {
  if (!a.adopt) return undefined;
  return {
    piece: `access role ${a.role}`,
    resourceType: "AWS::IAM::Role",
    identifier: { RoleName: a.role },
    found: {
      AssumeRolePolicyDocument: a.adopt.trustPolicy,
      Policies:
        a.adopt.policies.length > 0
          ? a.adopt.policies.map((p) => ({ PolicyName: p.name, PolicyDocument: p.document }))
          : null,
      Description: null,
    },
  };
}

/** The declared access entry of an adopted access role (`cluster.accessEntries` with its ARN). */
export function adoptedAccessEntry(topology: Topology, a: AccessRole): Adoption | undefined {
  if (!a.adopt) return undefined;
  // EKS keeps one entry per principal, whatever the ARN's path or case (src/domain/access-entry.ts).
  const e = topology.cluster.accessEntries.find((x) => entryMatchesRole(x.principalArn, a.arn));
  if (!e) return undefined;
  return {
    piece: `access entry of ${a.role}`,
    resourceType: "AWS::EKS::AccessEntry",
    identifier: { PrincipalArn: e.principalArn, ClusterName: topology.cluster.name },
    found: {
      Type: e.type,
      AccessPolicies: e.policies.map((p) => ({ PolicyArn: p.arn, AccessScope: scopeProperty(p.scope) })),
      KubernetesGroups: e.kubernetesGroups.length > 0 ? [...e.kubernetesGroups] : null,
      Username: e.username ?? null,
    },
  };
}

/** The adoption of a client's 443 rule on the cluster security group (`cluster.ingressRules`). */
export function adoptedIngress(topology: Topology, client: Client): Adoption | undefined {
  if (!client.vpc) return undefined;
  const rule = ingressRuleFor(topology.cluster.ingressRules, client.vpc.cidr);
  if (!rule) return undefined;
  return {
    piece: `443 rule ${rule.id} from ${client.vpc.cidr}`,
    resourceType: "AWS::EC2::SecurityGroupIngress",
    identifier: { Id: rule.id },
    found: { Description: rule.description ?? null },
  };
}

/** The CloudFormation form of an access scope (AWS::EKS::AccessEntry AccessPolicies[].AccessScope). */
function scopeProperty(scope: AccessScope): Record<string, unknown> {
  return scope.type === "namespace"
    ? { Type: "namespace", Namespaces: [...scope.namespaces] }
    : { Type: "cluster" };
}

/** Inline policies found on an adopted access role that xeks does not write itself: kept (nothing lost). */
export function keptPolicies(
  a: AccessRole,
  xeksPolicyName: string,
): { name: string; document: PolicyDocument }[] {
  return (a.adopt?.policies ?? []).filter((p) => p.name !== xeksPolicyName);
}
