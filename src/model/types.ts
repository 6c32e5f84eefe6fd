/**
 * One normalized picture of both accounts (architecture.md "The model"). Plain, serializable data keyed by
 * ARN or id. Built from synthesized templates plus declared facts (`plan`, see from-assembly.ts) or from live
 * AWS (`doctor`). Links read only this.
 */
import type { AuthenticationMode, PolicyDocument, Topology } from "../topology/types.js";

export type { AuthenticationMode, PolicyDocument };

/** Where a fact came from: the synthesized templates (will be created), the topology (declared), or AWS. */
export type FactSource = "template" | "declared" | "live";

export interface PolicyFact {
  /** For messages: "inline AssumeAccessRoles", "managed ReadOnlyAccess", "SCP deny-assume". */
  name: string;
  document: PolicyDocument;
  source: FactSource;
}

export interface RoleFact {
  arn: string;
  account: string;
  name: string;
  path: string;
  /** AROA… when known (live), so a recreated role can be told apart from the one an entry was made for. */
  uniqueId?: string;
  /** Live: when the role was created (ISO 8601). A role created after its access entry is a recreated role. */
  createdAt?: string;
  trustPolicy: PolicyDocument;
  /** Inline and attached managed policies. */
  policies: PolicyFact[];
  permissionsBoundary?: PolicyFact;
  /** Names of instance profiles that hold the role. */
  instanceProfiles: string[];
  source: FactSource;
}

export interface RouteFact {
  destination: string;
  /** `local`, `pcx-…`, `tgw-…`, …, or for planned peerings the PeeringFact id. */
  target: string;
  /** active unless live says blackhole. */
  state: "active" | "blackhole";
  source: FactSource;
}

export interface RouteTableFact {
  id: string;
  vpcId: string;
  account: string;
  routes: RouteFact[];
  /** Live only: the VPC's main table, and the subnets explicitly associated. */
  main?: boolean;
  subnets?: string[];
}

export interface VpcFact {
  id: string;
  account: string;
  region: string;
  cidrs: string[];
  source: FactSource;
}

export type PeeringStatus =
  | "planned"
  | "active"
  | "pending-acceptance"
  | "initiating-request"
  | "provisioning"
  | "failed"
  | "expired"
  | "rejected"
  | "deleted"
  | "deleting";

export interface PeeringFact {
  /** `pcx-…` live; `planned:<stack>/<logicalId>` for one a template will create. */
  id: string;
  requester: { vpcId: string; account: string; region: string };
  accepter: { vpcId: string; account: string; region: string };
  status: PeeringStatus;
  /** For planned peerings: the role EC2 assumes in the accepter account. */
  peerRoleArn?: string;
  source: FactSource;
}

export interface SecurityGroupRuleFact {
  groupId: string;
  /** `tcp`, `udp`, `icmp`, or `-1` for all. */
  protocol: string;
  fromPort: number;
  toPort: number;
  cidr?: string;
  sourceGroupId?: string;
  source: FactSource;
}

export interface AccessPolicyAssociationFact {
  policyArn: string;
  scope: { type: "cluster" } | { type: "namespace"; namespaces: string[] };
}

export interface AccessEntryFact {
  principalArn: string;
  type: string;
  username?: string;
  kubernetesGroups: string[];
  policies: AccessPolicyAssociationFact[];
  /** Live: the unique id EKS recorded for the principal, when it could be learned. */
  principalUniqueId?: string;
  /**
   * Live: when the entry was created (ISO 8601). EKS checks that the principal exists when the entry is made, so
   * an entry older than its role was made for an earlier role of the same ARN: the API does not expose the
   * unique id EKS recorded, so this is how doctor tells a deleted and recreated role.
   */
  createdAt?: string;
  /** Plan: why creating this entry would fail (an entry for the principal exists already). */
  conflict?: string;
  source: FactSource;
}

export interface ClusterFact {
  name: string;
  account: string;
  region: string;
  partition: string;
  arn: string;
  authenticationMode?: AuthenticationMode;
  endpointAccess?: { private: boolean; public: boolean };
  endpoint?: string;
  certificateAuthority?: string;
  securityGroupId: string;
  /** Live: every security group on the control plane's network interfaces (the cluster group first). */
  securityGroupIds?: string[];
  vpcId: string;
  source: FactSource;
}

export interface InstanceFact {
  id: string;
  account: string;
  subnetId?: string;
  /** Instance profile ARN or name attached, if any. */
  instanceProfile?: string;
  httpTokensRequired?: boolean;
  source: FactSource;
}

/** A fact that could not be read, so links that need it are `unknown`. */
export interface UnreadFact {
  /** Key of the fact, see `factKey`. */
  key: string;
  reason: string;
  /** The IAM permission that was missing, when the read was denied. */
  permission?: string;
  /**
   * What to do when the read failed for another reason than a denial (refused, timeout, not an AWS answer,
   * ...), from the one table of hints (src/aws/errors.ts); absent when denied (the fix is `permission`).
   */
  hint?: string;
}

export interface Model {
  source: "plan" | "live";
  cluster: ClusterFact;
  roles: Record<string, RoleFact>;
  vpcs: Record<string, VpcFact>;
  routeTables: Record<string, RouteTableFact>;
  peerings: PeeringFact[];
  securityGroupRules: SecurityGroupRuleFact[];
  /** Access entries of the cluster, by principal ARN. */
  accessEntries: Record<string, AccessEntryFact>;
  /** Declared SCPs, by account. Missing account: none declared. */
  scps: Record<string, PolicyFact[]>;
  /** Declared resource control policies, by account. */
  rcps: Record<string, PolicyFact[]>;
  /** Organization id of an account, when known (aws:PrincipalOrgID). */
  organizations: Record<string, string>;
  instances: InstanceFact[];
  unread: UnreadFact[];
}

/** Keys for `Model.unread`, one per kind of fact. */
export const factKey = {
  role: (arn: string) => `role:${arn}`,
  routeTable: (id: string) => `routeTable:${id}`,
  vpc: (id: string) => `vpc:${id}`,
  peerings: (account: string) => `peerings:${account}`,
  securityGroup: (id: string) => `securityGroup:${id}`,
  accessEntries: () => "accessEntries",
  accessEntry: (principalArn: string) => `accessEntry:${principalArn}`,
  authenticationMode: () => "cluster.authenticationMode",
  endpointAccess: () => "cluster.endpointAccess",
  instances: (account: string) => `instances:${account}`,
} as const;

/** The unread record for a key, if the fact could not be read. */
export function unread(model: Model, key: string): UnreadFact | undefined {
  return model.unread.find((u) => u.key === key);
}

/**
 * An empty live model for the topology's cluster, before any read: what doctor fills from AWS and what deploy
 * gives the `eks.authentication-mode` link (one seed, so both see the same cluster fact).
 */
export function emptyLiveModel(cluster: Topology["cluster"]): Model {
  return emptyModel("live", {
    name: cluster.name,
    account: cluster.account,
    region: cluster.region,
    partition: cluster.partition,
    arn: cluster.arn,
    securityGroupId: cluster.securityGroupId,
    vpcId: cluster.vpc.id,
    source: "live",
  });
}

/** An empty model for a cluster, to be filled by a source. */
export function emptyModel(source: Model["source"], cluster: ClusterFact): Model {
  return {
    source,
    cluster,
    roles: {},
    vpcs: {},
    routeTables: {},
    peerings: [],
    securityGroupRules: [],
    accessEntries: {},
    scps: {},
    rcps: {},
    organizations: {},
    instances: [],
    unread: [],
  };
}
