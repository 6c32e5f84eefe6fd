/**
 * The deployment layout: which stacks exist, in which account and phase, what each one creates, and which
 * values cross from one phase to the next. Plain data computed from the topology alone; the CDK stacks
 * (`stacks.ts`), the manifest (`manifest.ts`) and the printed plan (`describe.ts`) are all read from it, so what
 * plan prints is what it synthesized.
 *
 * Phases (see docs/infra.md):
 *   1 client-identity (client accounts): the client's role (EC2 role and instance profile, web-identity role, Pod
 *     Identity role and association) and its sts:AssumeRole policy; no stack for a permission set (sso), where
 *     xeks writes nothing in the client account, nor for an existing role that assumes no access role.
 *   2 cluster-access (cluster account): the peering accepter role; per access role, the role (trusting the exact
 *     client role ARNs, which exist since phase 1) and its EKS access entry.
 *   3 client-link (client accounts): the VPC peering request (accepted through the accepter role), routes to
 *     the cluster CIDR, the optional client instance. Outputs the peering connection id.
 *   4 cluster-link (cluster account): per client, routes to the client CIDR through its peering connection
 *     (a parameter filled from phase 3's output) and the cluster security group ingress on 443.
 */
import { formatArn, partitionOf, roleArn, vpcArn } from "../domain/arn.js";
import { ec2IdPatternSource } from "../domain/names.js";
import type { AssumeAction, ClientPrincipal } from "../domain/principal.js";
import type { OrganizationTrust } from "../domain/trust.js";
import { accessOrganizationTrust } from "../topology/organization.js";
import type { AccessPolicyRef, Client, NamedPolicy, Topology, Vpc } from "../topology/types.js";
import {
  type Adoption,
  adoptedAccessEntry,
  adoptedAccessRole,
  adoptedAssumePolicy,
  adoptedIngress,
  adoptedPeering,
  adoptedRoute,
  keptPolicies,
  type PieceLayout,
} from "./adopt.js";
import {
  ACCESS_ROLE_POLICY_NAME,
  accepterRoleName,
  assumePolicyName,
  shortHash,
  stackNames,
} from "./names.js";
import { type StackSetLayout, stackSetOf } from "./stackset.js";

export type { Adoption, PieceAction, PieceLayout } from "./adopt.js";
export type { StackSetLayout } from "./stackset.js";

/** The four phases, in deployment order. */
export const PHASES = [
  {
    number: 1,
    name: "client-identity",
    side: "client",
    title:
      "the role of each client (EC2, web-identity or Pod Identity role; none for a permission set; for a client from an organization, a StackSet that creates it in every member account), first, so that the access roles can trust it (by exact ARN, or by organization and role name)",
  },
  {
    number: 2,
    name: "cluster-access",
    side: "cluster",
    title: "the peering accepter role, the access roles and their EKS access entries",
  },
  {
    number: 3,
    name: "client-link",
    side: "client",
    title: "the VPC peering requests, the routes to the cluster, the client instances",
  },
  {
    number: 4,
    name: "cluster-link",
    side: "cluster",
    title: "the routes back through each peering connection, TCP 443 ingress on the cluster security group",
  },
] as const;

export type PhaseName = (typeof PHASES)[number]["name"];
export type Side = "cluster" | "client";

/** What kind of stack: one per client (client-*, cluster-link), one per access role, or one per cluster. */
export type StackKind =
  | "client-identity"
  | "cluster-base"
  | "cluster-access"
  | "client-link"
  | "cluster-link";

/** Where a phase-crossing parameter gets its value: an output of a stack deployed in an earlier phase. */
export interface ParameterSource {
  stack: string;
  output: string;
  phase: number;
}

export interface ParameterLayout {
  name: string;
  description: string;
  /** CloudFormation AllowedPattern, checked at deploy. */
  allowedPattern: string;
  from: ParameterSource;
}

export interface OutputLayout {
  name: string;
  description: string;
  /** The value when it is known offline (a literal ARN or name); absent for ids CloudFormation assigns. */
  value?: string;
}

// ---- What a stack creates (intents). Every field is a literal known from the topology. ----

/**
 * Who a created client role trusts (its trust policy, built in src/domain/trust.ts): EC2 (kind instance), an OIDC
 * provider for exact subjects (`webIdentityTrustPolicy`, kind oidc), or EKS Pod Identity
 * (`podIdentityTrustPolicy`, kind pod-identity). Ignored for an existing role (its trust is left as it is).
 */
export type ClientRoleTrust =
  | { kind: "ec2" }
  | { kind: "web-identity"; providerArn: string; provider: string; audience: string; subjects: string[] }
  | { kind: "pod-identity" };

export interface ClientRoleIntent {
  kind: "client-role";
  client: string;
  roleName: string;
  path: string;
  arn: string;
  /** true: the role exists; only the inline policy is added (AWS::IAM::RolePolicy). */
  existing: boolean;
  /** The trust policy of a created role. */
  trust: ClientRoleTrust;
  /** The instance profile (kind instance only): created with the role, or the existing role's. */
  instanceProfileName?: string;
  /** The actions of the inline policy on `assumes`: sts:AssumeRole, plus sts:TagSession for Pod Identity. */
  assumeActions: AssumeAction[];
  permissionsBoundaryArn?: string;
  /** Exact access role ARNs this role may sts:AssumeRole (empty: no policy). */
  assumes: string[];
  policyName: string;
  /** Attach AmazonSSMManagedInstanceCore (a client instance runs with this role); created roles only. */
  ssmManagedInstance: boolean;
  /** The existing role's AssumeRole inline policy, adopted under `policyName` (`role.assumePolicy`). */
  adoptPolicy?: Adoption;
}

export interface AccessRoleIntent {
  kind: "access-role";
  roleName: string;
  arn: string;
  /** What the trust policy lets in, per client (`accessTrustPolicy` in src/domain/trust.ts writes it). */
  principals: ClientPrincipal[];
  /** For messages: the exact role ARNs and the role ARN patterns (sso) of `principals`. */
  trustedBy: string[];
  externalId: string | null;
  /**
   * The organization statement (`organization`, docs/organizations.md): the covered principals get in by
   * organization and role name pattern instead of by exact ARN. Absent without an organization.
   */
  organization?: OrganizationTrust;
  clusterArn: string;
  /** The role exists: CloudFormation takes it over (`access[].adopt`). */
  adopt?: Adoption;
  /** Inline policies found on an adopted role that xeks does not write: kept as they are. */
  keepPolicies: NamedPolicy[];
}

export interface AccessEntryIntent {
  kind: "access-entry";
  clusterName: string;
  principalArn: string;
  /** The access role's name: the entry depends on the role created beside it. */
  roleName: string;
  policies: AccessPolicyRef[];
  kubernetesGroups: string[];
  username: string | null;
  /** The entry exists (declared in `cluster.accessEntries`) and its role is adopted: CloudFormation takes it over. */
  adopt?: Adoption;
}

export interface AccepterRoleIntent {
  kind: "peering-accepter-role";
  roleName: string;
  arn: string;
  /** Client account ids, trusted as `arn:PARTITION:iam::ACCOUNT:root` (with an organization: those outside it). */
  trustedAccounts: string[];
  /**
   * With an organization (docs/organizations.md): every account of it is trusted (aws:PrincipalOrgID, and
   * aws:PrincipalOrgPaths under `paths` when declared). Absent without an organization.
   */
  organization?: { id: string; paths: string[] };
  accepterVpcArn: string;
  requesterVpcArns: string[];
  /** `arn:PARTITION:ec2:REGION:CLUSTER_ACCOUNT:vpc-peering-connection/*`: the id is assigned in phase 3. */
  peeringConnectionArnPattern: string;
}

/**
 * An EKS Pod Identity association in the client account's cluster (kind pod-identity): the pods of
 * `namespace`/`serviceAccount` get the role `roleName` created in the same stack
 * (`AWS::EKS::PodIdentityAssociation`; the plain form, without a target role: docs/clients.md).
 */
export interface PodIdentityAssociationIntent {
  kind: "pod-identity-association";
  client: string;
  clusterName: string;
  namespace: string;
  serviceAccount: string;
  roleName: string;
  roleArn: string;
}

export interface PeeringIntent {
  kind: "peering-connection";
  client: string;
  vpcId: string;
  peerVpcId: string;
  peerOwnerId: string;
  peerRegion: string;
  /**
   * The accepter role the request names. Absent for an adopted connection: it was accepted already, and adding
   * `PeerRoleArn` to an imported connection would make CloudFormation replace it.
   */
  peerRoleArn?: string;
  /** The connection exists (`clients[].peering`): CloudFormation takes it over. */
  adopt?: Adoption;
}

export interface RoutesIntent {
  kind: "routes";
  side: Side;
  client: string;
  routeTableIds: string[];
  destinationCidr: string;
  /**
   * "resource": the peering connection in the same stack; "parameter": filled from `from`; "id": an existing
   * connection xeks leaves as it is (`clients[].peering.adopt: false`), by id.
   */
  peering: { resource: true } | { parameter: string; from: ParameterSource } | { id: string };
  /** Routes that exist through that connection, by route table: adopted. */
  adopt: Record<string, Adoption>;
}

export interface IngressIntent {
  kind: "cluster-ingress";
  client: string;
  securityGroupId: string;
  cidr: string;
  port: number;
  /** The rule exists (`cluster.ingressRules`): adopted. */
  adopt?: Adoption;
}

/** One kubeconfig context on the client instance: an access role the client may assume. */
export interface KubeconfigContext {
  roleName: string;
  roleArn: string;
  externalId: string | null;
}

export interface InstanceIntent {
  kind: "client-instance";
  client: string;
  vpcId: string;
  subnetId: string;
  instanceType: string;
  architecture: "x86_64" | "arm64";
  instanceProfileName: string;
  clusterName: string;
  region: string;
  endpoint?: string;
  certificateAuthority?: string;
  contexts: KubeconfigContext[];
}

export type Intent =
  | ClientRoleIntent
  | PodIdentityAssociationIntent
  | AccessRoleIntent
  | AccessEntryIntent
  | AccepterRoleIntent
  | PeeringIntent
  | RoutesIntent
  | IngressIntent
  | InstanceIntent;

export interface StackLayout {
  /** Stack name, also the cloud assembly artifact id and the template file's base name. */
  name: string;
  kind: StackKind;
  phase: number;
  side: Side;
  account: string;
  region: string;
  /** The client the stack is about (client-identity, client-link, cluster-link). */
  client?: string;
  /** The access role the stack is about (cluster-access). */
  accessRole?: string;
  description: string;
  /** Stacks that must be deployed before this one (and destroyed after it). */
  dependsOn: string[];
  parameters: ParameterLayout[];
  outputs: OutputLayout[];
  intents: Intent[];
}

export interface PhaseLayout {
  number: number;
  name: PhaseName;
  side: Side;
  title: string;
  stacks: StackLayout[];
}

export interface Layout {
  cluster: { name: string; account: string; region: string; arn: string; partition: string };
  phases: PhaseLayout[];
  /** Every stack, in deployment order (phase by phase). */
  stacks: StackLayout[];
  /** Things that will not stop synthesis but that the user should know. */
  notes: string[];
  /** Each piece of the chain and what deploy does with it: create, adopt, leave (docs/adopt.md). */
  pieces: PieceLayout[];
  /**
   * The StackSets of clients from an organization (phase 1, in their administrator accounts; docs/organizations.md),
   * beside `stacks`, which holds none of them. Absent or empty: none.
   */
  stackSets?: StackSetLayout[];
}

/** `t4g.small`, `m7gd.large`, `a1.medium`: Graviton (arm64). Everything else: x86_64. */
export function architectureOf(instanceType: string): "x86_64" | "arm64" {
  const family = instanceType.split(".")[0] ?? "";
  return /^a1$|^[a-z]+\d+g[a-z]*$/.test(family) ? "arm64" : "x86_64";
}

export const PEERING_ID_PATTERN = ec2IdPatternSource("pcx");
const OUTPUT_PEERING_ID = "PeeringConnectionId";

function declaredRouteNotes(
  side: string,
  vpc: Vpc,
  destination: string,
  routeTables: readonly string[],
  peeringId: string | undefined,
): string[] {
  return vpc.routes
    .filter(
      (r) => r.destination === destination && routeTables.includes(r.routeTable) && r.target !== peeringId,
    )
    .map(
      (r) =>
        `${side} route table ${r.routeTable} already has a route to ${destination} (target ${r.target}); ` +
        "creating the planned route will fail until it is removed",
    );
}

/**
 * Compute the layout. Overlapping client CIDRs are laid out as written: the proof reports them
 * (topology.cidr-overlap), as the issue asks, instead of refusing the file.
 */
export function planLayout(topology: Topology): Layout {
  const c = topology.cluster;
  const notes: string[] = [];
  const pieces: PieceLayout[] = [];

  const accepterName = accepterRoleName(c.name);
  const accepterArn = roleArn(c.partition, c.account, accepterName);
  const clusterVpcArn = vpcArn(c.partition, c.region, c.account, c.vpc.id);
  const base = stackNames.clusterBase(c.name);
  const identityOf = new Map(
    topology.clients.map((cl) => [cl.name, stackNames.clientIdentity(c.name, cl.name)]),
  );
  const linkOf = new Map(topology.clients.map((cl) => [cl.name, stackNames.clientLink(c.name, cl.name)]));
  const clientByName = new Map(topology.clients.map((cl) => [cl.name, cl]));

  // Phase 1: client identity. A client whose stack would hold nothing (a permission set; an existing role that
  // assumes no access role) has no identity stack.
  const identity: StackLayout[] = [];
  const stackSets: StackSetLayout[] = [];
  for (const client of topology.clients) {
    const access = topology.access.filter((a) => a.clients.includes(client.name));
    if (access.length === 0) {
      notes.push(
        `client ${client.name} is named by no access role, so it has no access to the cluster: its role may assume ` +
          "no access role (add it to access[].clients; the proof warns on iam.assume-permission)",
      );
    }
    const stack = identityStack(
      topology,
      client,
      access,
      identityOf.get(client.name) as string,
      pieces,
      notes,
    );
    const set = stackSetOf(client, stack);
    if (set) stackSets.push(set);
    else if (stack) identity.push(stack);
  }
  const identityStacks = new Set(identity.map((st) => st.name));

  // Phase 2: cluster base (accepter role) and one stack per access role. The accepter role serves the clients that
  // request a peering connection; one that exists (adopted or left) was accepted already.
  const requesting = topology.clients.filter(
    (cl): cl is Client & { vpc: Vpc } => cl.vpc !== undefined && !cl.peering,
  );
  const org = topology.organization;
  const accounts = [
    ...new Set(requesting.filter((cl) => !org || cl.organizationId !== org.id).map((cl) => cl.account)),
  ].sort();
  const accepter: AccepterRoleIntent = {
    kind: "peering-accepter-role",
    roleName: accepterName,
    arn: accepterArn,
    trustedAccounts: accounts,
    ...(org && requesting.some((cl) => cl.organizationId === org.id)
      ? { organization: { id: org.id, paths: [...org.paths] } }
      : {}),
    accepterVpcArn: clusterVpcArn,
    requesterVpcArns: requesting.map((cl) =>
      vpcArn(partitionOf(cl.region), cl.region, cl.account, cl.vpc.id),
    ),
    peeringConnectionArnPattern: formatArn({
      partition: c.partition,
      service: "ec2",
      region: c.region,
      account: c.account,
      resource: "vpc-peering-connection/*",
    }),
  };
  if (requesting.length > 0) {
    pieces.push({ piece: `peering accepter role ${accepterName}`, action: "create", stack: base });
  }
  const baseStack: StackLayout = {
    name: base,
    kind: "cluster-base",
    phase: 2,
    side: "cluster",
    account: c.account,
    region: c.region,
    description: `xeks ${c.name}: peering accepter role for the client accounts`,
    dependsOn: [],
    parameters: [],
    outputs: [
      {
        name: "PeeringAccepterRoleArn",
        description: "Role the client accounts assume to accept the peering",
        value: accepterArn,
      },
    ],
    intents: [accepter],
  };
  // Role names may differ only in characters a stack name cannot hold (EKS_Admin, EKS.Admin): such names get
  // a hash of the role name, so each access role keeps its own stack.
  const accessNames = topology.access.map((a) => stackNames.clusterAccess(c.name, a.role));
  // How many access stacks have each name, case-insensitively (counted once: hundreds of access roles).
  const sameName = new Map<string, number>();
  for (const n of accessNames) sameName.set(n.toLowerCase(), (sameName.get(n.toLowerCase()) ?? 0) + 1);
  const accessStacks: StackLayout[] = topology.access.map((a, i) => {
    const principals = a.clients.map((name) => (clientByName.get(name) as Client).principal);
    const trustedBy = principals.flatMap((p) => (p.arn ? [p.arn] : (p.arnPatterns ?? [])));
    const plain = accessNames[i] as string;
    const clash = (sameName.get(plain.toLowerCase()) ?? 0) > 1;
    const stackName = clash ? stackNames.clusterAccess(c.name, `${a.role}-${shortHash(a.role)}`) : plain;
    const roleAdoption = adoptedAccessRole(a);
    const entryAdoption = adoptedAccessEntry(topology, a);
    pieces.push(
      { piece: `access role ${a.role}`, action: roleAdoption ? "adopt" : "create", stack: stackName },
      { piece: `access entry of ${a.role}`, action: entryAdoption ? "adopt" : "create", stack: stackName },
    );
    return {
      name: stackName,
      kind: "cluster-access",
      phase: 2,
      side: "cluster",
      account: c.account,
      region: c.region,
      accessRole: a.role,
      description: `xeks ${c.name}: access role ${a.role} and its EKS access entry`,
      dependsOn: a.clients
        .map((name) => identityOf.get(name) as string)
        .filter((st) => identityStacks.has(st)),
      parameters: [],
      outputs: [{ name: "AccessRoleArn", description: `The access role ${a.role}`, value: a.arn }],
      intents: [
        {
          kind: "access-role",
          roleName: a.role,
          arn: a.arn,
          principals,
          trustedBy,
          externalId: a.externalId,
          ...(topology.organization
            ? { organization: accessOrganizationTrust(topology, a) as OrganizationTrust }
            : {}),
          clusterArn: c.arn,
          ...adoption(roleAdoption),
          keepPolicies: keptPolicies(a, ACCESS_ROLE_POLICY_NAME),
        },
        {
          kind: "access-entry",
          clusterName: c.name,
          // An adopted entry keeps the principal ARN it was made with (EKS matches path and case; CloudFormation
          // would replace an entry whose PrincipalArn changed).
          principalArn: entryAdoption?.identifier.PrincipalArn ?? a.arn,
          roleName: a.role,
          policies: a.policies,
          kubernetesGroups: a.kubernetesGroups,
          username: a.username,
          ...adoption(entryAdoption),
        },
      ],
    };
  });

  // Phase 3: client link, for clients with a VPC (a client with publicCidrs reaches the public endpoint: no link).
  const linked = topology.clients.filter((cl): cl is Client & { vpc: Vpc } => cl.vpc !== undefined);
  const link: StackLayout[] = linked.map((client) => {
    const linkName = linkOf.get(client.name) as string;
    const peeringId = client.peering?.id;
    notes.push(...declaredRouteNotes("client", client.vpc, c.vpc.cidr, client.vpc.routeTables, peeringId));
    const intents: Intent[] = [];
    const outputs: OutputLayout[] = [];
    if (!client.peering || client.peering.adopt) {
      const peeringAdoption = adoptedPeering(client);
      intents.push({
        kind: "peering-connection",
        client: client.name,
        vpcId: client.vpc.id,
        peerVpcId: c.vpc.id,
        peerOwnerId: c.account,
        peerRegion: c.region,
        ...(peeringAdoption ? { adopt: peeringAdoption } : { peerRoleArn: accepterArn }),
      });
      outputs.push({
        name: OUTPUT_PEERING_ID,
        description: `VPC peering connection between client ${client.name} and the cluster`,
        ...(peeringId ? { value: peeringId } : {}),
      });
      pieces.push({
        piece: peeringAdoption?.piece ?? `peering connection (client ${client.name})`,
        action: peeringAdoption ? "adopt" : "create",
        stack: linkName,
      });
    } else {
      pieces.push({
        piece: `peering connection ${peeringId} (client ${client.name})`,
        action: "leave",
        note: "adopt: false: xeks refers to it by id and never changes it",
      });
    }
    const clientRoutes = routesIntent("client", client.name, client.vpc, c.vpc.cidr, client.peering, {
      resource: true,
    });
    intents.push(clientRoutes);
    pieces.push(...routePieces(clientRoutes, linkName));
    if (client.instance) {
      const contexts = topology.access
        .filter((a) => a.clients.includes(client.name))
        .map((a) => ({ roleName: a.role, roleArn: a.arn, externalId: a.externalId }));
      if (contexts.length === 0) {
        notes.push(
          `client ${client.name}: the instance gets kubectl but no kubeconfig context, since no access role names the client`,
        );
      } else if (!c.endpoint || !c.certificateAuthority) {
        notes.push(
          `client ${client.name}: the topology lacks cluster.endpoint or cluster.certificateAuthority; the instance reads both ` +
            "at boot with eks:DescribeCluster through the access role (needs HTTPS egress to the EKS API)",
        );
      }
      intents.push({
        kind: "client-instance",
        client: client.name,
        vpcId: client.vpc.id,
        subnetId: client.instance.subnetId,
        instanceType: client.instance.type,
        architecture: architectureOf(client.instance.type),
        instanceProfileName: client.role?.instanceProfile ?? "",
        clusterName: c.name,
        region: c.region,
        endpoint: c.endpoint,
        certificateAuthority: c.certificateAuthority,
        contexts,
      });
      outputs.push(
        {
          name: "InstanceId",
          description: `Client instance of ${client.name} (aws ssm start-session --target)`,
        },
        {
          name: "InstanceSecurityGroupId",
          description: `Security group of the client instance of ${client.name}`,
        },
      );
    }
    return {
      name: linkName,
      kind: "client-link",
      phase: 3,
      side: "client",
      account: client.account,
      region: client.region,
      client: client.name,
      description: `xeks ${c.name}: network link of client ${client.name} (peering request, routes, instance)`,
      dependsOn: [
        ...[identityOf.get(client.name) as string].filter((st) => identityStacks.has(st)),
        ...(client.peering ? [] : [base]),
      ],
      parameters: [],
      outputs,
      intents,
    };
  });

  // Phase 4: cluster link, one stack per client.
  const clusterLink: StackLayout[] = linked.map((client) => {
    notes.push(
      ...declaredRouteNotes("cluster", c.vpc, client.vpc.cidr, c.vpc.routeTables, client.peering?.id),
    );
    const from: ParameterSource = {
      stack: linkOf.get(client.name) as string,
      output: OUTPUT_PEERING_ID,
      phase: 3,
    };
    const name = stackNames.clusterLink(c.name, client.name);
    const left = client.peering && !client.peering.adopt;
    const routes = routesIntent("cluster", client.name, c.vpc, client.vpc.cidr, client.peering, {
      parameter: "PeeringConnectionId",
      from,
    });
    const ingressAdoption = adoptedIngress(topology, client);
    pieces.push(...routePieces(routes, name), {
      piece: ingressAdoption?.piece ?? `443 rule from ${client.vpc.cidr} on ${c.securityGroupId}`,
      action: ingressAdoption ? "adopt" : "create",
      stack: name,
    });
    return {
      name,
      kind: "cluster-link",
      phase: 4,
      side: "cluster",
      account: c.account,
      region: c.region,
      client: client.name,
      description: `xeks ${c.name}: cluster side of the link to client ${client.name} (routes, 443 ingress)`,
      dependsOn: [from.stack],
      parameters: left
        ? []
        : [
            {
              name: "PeeringConnectionId",
              description: `Id of the VPC peering connection to client ${client.name} (output ${OUTPUT_PEERING_ID} of ${from.stack})`,
              allowedPattern: PEERING_ID_PATTERN,
              from,
            },
          ],
      outputs: [],
      intents: [
        routes,
        {
          kind: "cluster-ingress",
          client: client.name,
          securityGroupId: c.securityGroupId,
          cidr: client.vpc.cidr,
          port: 443,
          ...adoption(ingressAdoption),
        },
      ],
    };
  });

  const byPhase: StackLayout[][] = [
    identity,
    requesting.length > 0 ? [baseStack, ...accessStacks] : accessStacks,
    link,
    clusterLink,
  ];
  const phases: PhaseLayout[] = PHASES.map((p, i) => ({
    number: p.number,
    name: p.name,
    side: p.side,
    title: p.title,
    stacks: byPhase[i] ?? [],
  }));
  return {
    cluster: { name: c.name, account: c.account, region: c.region, arn: c.arn, partition: c.partition },
    phases,
    stacks: phases.flatMap((p) => p.stacks),
    notes,
    pieces,
    ...(stackSets.length > 0 ? { stackSets } : {}),
  };
}

/** `{ adopt }` when there is an adoption, else nothing (so that the intent has no `adopt: undefined` key). */
function adoption(a: Adoption | undefined): { adopt?: Adoption } {
  return a ? { adopt: a } : {};
}

/**
 * The routes of one side to the peer CIDR: through the connection `planned` says (the stack's own or the
 * parameter), or, for a connection left as it is, by its id; routes that exist through that connection are adopted.
 */
function routesIntent(
  side: Side,
  client: string,
  vpc: Vpc,
  destination: string,
  peering: Client["peering"],
  planned: RoutesIntent["peering"],
): RoutesIntent {
  const adopt: Record<string, Adoption> = {};
  for (const table of vpc.routeTables) {
    const a = adoptedRoute(vpc, table, destination, peering?.id);
    if (a) adopt[table] = a;
  }
  return {
    kind: "routes",
    side,
    client,
    routeTableIds: [...vpc.routeTables],
    destinationCidr: destination,
    peering: peering && !peering.adopt ? { id: peering.id } : planned,
    adopt,
  };
}

/** One piece per route of a routes intent: adopt where the route exists, else create. */
function routePieces(routes: RoutesIntent, stack: string): PieceLayout[] {
  return routes.routeTableIds.map((table) => {
    const a = routes.adopt[table];
    return a
      ? { piece: a.piece, action: "adopt" as const, stack }
      : {
          piece: `route ${routes.destinationCidr} in ${table} (${routes.side} side)`,
          action: "create" as const,
          stack,
        };
  });
}

/**
 * The identity stack of one client (phase 1), or undefined when it would hold nothing: a permission set (sso:
 * xeks never writes to Identity Center's roles) or an existing role that assumes no access role. Pushes the
 * client's pieces (create/leave/adopt) and notes.
 */
function identityStack(
  topology: Topology,
  client: Client,
  access: Topology["access"],
  name: string,
  pieces: PieceLayout[],
  notes: string[],
): StackLayout | undefined {
  const c = topology.cluster;
  const r = client.role;
  const id = client.identity;
  if (!r || id.kind === "sso") {
    if (id.kind === "sso") {
      pieces.push({
        piece: `roles of permission set ${id.permissionSet} (client ${client.name})`,
        action: "leave",
        note: "IAM Identity Center's roles: declared, proven, never changed by xeks (docs/clients.md)",
      });
    }
    return undefined;
  }
  if (client.instance && r.existing) {
    notes.push(
      `client ${client.name}: the existing role ${r.name} must already allow Session Manager ` +
        "(AmazonSSMManagedInstanceCore) to reach the client instance; xeks adds only its sts:AssumeRole policy",
    );
  }
  const assumeActions: AssumeAction[] = [...client.principal.actions];
  const role: ClientRoleIntent = {
    kind: "client-role",
    client: client.name,
    roleName: r.name,
    path: r.path,
    arn: r.arn,
    existing: r.existing,
    trust:
      id.kind === "oidc"
        ? {
            kind: "web-identity",
            providerArn: id.providerArn,
            provider: id.provider,
            audience: id.audience,
            subjects: [...id.subjects],
          }
        : id.kind === "pod-identity"
          ? { kind: "pod-identity" }
          : { kind: "ec2" },
    ...(r.instanceProfile !== undefined ? { instanceProfileName: r.instanceProfile } : {}),
    assumeActions,
    permissionsBoundaryArn: r.existing ? undefined : r.permissionsBoundary?.arn,
    assumes: access.map((a) => a.arn),
    policyName: r.assumePolicy ?? assumePolicyName(c.name),
    ssmManagedInstance: !r.existing && client.instance !== undefined,
  };
  if (r.existing && access.length === 0) {
    pieces.push({
      piece: `client role ${r.name} (client ${client.name})`,
      action: "leave",
      note: "an existing role: declared, proven, never changed by xeks; no access role names the client, so no policy",
    });
    return undefined;
  }
  const policyAdoption = adoptedAssumePolicy(client);
  if (policyAdoption) role.adoptPolicy = policyAdoption;
  const what =
    id.kind === "oidc"
      ? "web-identity role"
      : id.kind === "pod-identity"
        ? "Pod Identity role"
        : id.kind === "role"
          ? "role"
          : "client role";
  pieces.push(
    r.existing
      ? {
          piece: `${what} ${r.name} (client ${client.name})`,
          action: "leave",
          note:
            id.kind === "role"
              ? "an existing role: its trust is left as it is, declared and proven; xeks adds only its sts:AssumeRole policy"
              : "an existing role: declared, proven, never changed by xeks (instances run as it)",
        }
      : { piece: `${what} ${r.name} (client ${client.name})`, action: "create", stack: name },
  );
  if (access.length > 0) {
    pieces.push(
      role.adoptPolicy
        ? { piece: role.adoptPolicy.piece, action: "adopt", stack: name }
        : {
            piece: `inline policy ${role.policyName} of ${what} ${r.name}`,
            action: "create",
            stack: name,
          },
    );
  }
  const intents: Intent[] = [role];
  const outputs: OutputLayout[] = [
    {
      name: "ClientRoleArn",
      // The same text as the template's output (src/infra/stacks.ts).
      description:
        id.kind === "oidc"
          ? "The web-identity role of the client"
          : id.kind === "pod-identity"
            ? "The Pod Identity role of the client"
            : r.instanceProfile !== undefined
              ? "The client EC2 role"
              : "The client role",
      value: r.arn,
    },
  ];
  if (r.instanceProfile !== undefined) {
    outputs.push({
      name: "InstanceProfileName",
      description: "Instance profile of the client role",
      value: r.instanceProfile,
    });
  }
  if (id.kind === "pod-identity") {
    intents.push({
      kind: "pod-identity-association",
      client: client.name,
      clusterName: id.cluster,
      namespace: id.namespace,
      serviceAccount: id.serviceAccount,
      roleName: r.name,
      roleArn: r.arn,
    });
    pieces.push({
      piece: `Pod Identity association ${id.namespace}/${id.serviceAccount} on cluster ${id.cluster} (client ${client.name})`,
      action: "create",
      stack: name,
    });
  }
  const description =
    id.kind === "oidc"
      ? `xeks ${c.name}: identity of client ${client.name} (web-identity role for ${id.provider}, allowed to assume the access roles)`
      : id.kind === "pod-identity"
        ? `xeks ${c.name}: identity of client ${client.name} (Pod Identity role and association, allowed to assume the access roles)`
        : id.kind === "role"
          ? `xeks ${c.name}: identity of client ${client.name} (sts:AssumeRole policy of the existing role ${r.name})`
          : `xeks ${c.name}: identity of client ${client.name} (EC2 role allowed to assume the access roles)`;
  return {
    name,
    kind: "client-identity",
    phase: 1,
    side: "client",
    account: client.account,
    region: client.region,
    client: client.name,
    description,
    dependsOn: [],
    parameters: [],
    outputs,
    intents,
  };
}
