/**
 * One normalized picture of both accounts (architecture.md "The model"). Plain, serializable data keyed by
 * ARN or id. Built from synthesized templates plus declared facts (`plan`, see from-assembly.ts) or from live
 * AWS (`doctor`). Links read only this.
 */
import type {
  AccessEntryFact,
  FactSource,
  InstanceFact,
  OidcProviderFact,
  PeeringFact,
  PodIdentityAssociationFact,
  PolicyFact,
  RoleFact,
  RouteTableFact,
  SecurityGroupRuleFact,
  VpcFact,
} from "../domain/facts.js";
import type { StackInstanceFact } from "../domain/stackset.js";
import type { AuthenticationMode, Topology } from "../topology/types.js";

/**
 * The facts AWS answers carry, and the policy document: plain data in the domain layer (src/domain/facts.ts),
 * so that src/aws's readers can return them.
 */
export type * from "../domain/facts.js";
export type { AuthenticationMode };

export interface ClusterFact {
  name: string;
  account: string;
  region: string;
  partition: string;
  arn: string;
  authenticationMode?: AuthenticationMode;
  endpointAccess?: { private: boolean; public: boolean };
  /**
   * The CIDRs the public endpoint admits (DescribeCluster `resourcesVpcConfig.publicAccessCidrs`; EKS's
   * default is 0.0.0.0/0). Undefined: not known (plan without it declared).
   */
  publicAccessCidrs?: string[];
  endpoint?: string;
  certificateAuthority?: string;
  securityGroupId: string;
  /** Live: every security group on the control plane's network interfaces (the cluster group first). */
  securityGroupIds?: string[];
  vpcId: string;
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
  /** IAM OIDC providers of client accounts, by ARN. */
  oidcProviders: Record<string, OidcProviderFact>;
  /** EKS Pod Identity associations in client accounts' clusters. */
  podIdentityAssociations: PodIdentityAssociationFact[];
  /**
   * The roles that act for a client whose principal is a pattern (kind sso), by client name: live, the
   * permission set's roles found in the client account (IAM ListRoles under /aws-reserved/sso.amazonaws.com/);
   * at plan, the principal's example role. Each ARN is a key of `roles`.
   */
  principalRoles: Record<string, string[]>;
  /**
   * Live: the stack instances of each StackSet client's StackSet, by client name (ListStackInstances in its
   * administrator account; [] when the StackSet does not exist). Absent at plan (docs/organizations.md).
   */
  stackSetInstances?: Record<string, StackInstanceFact[]>;
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
  oidcProvider: (arn: string) => `oidcProvider:${arn}`,
  /** The Pod Identity associations of one cluster (`arn:…:cluster/NAME`). */
  podIdentityAssociations: (clusterArn: string) => `podIdentityAssociations:${clusterArn}`,
  /** The roles of a client whose principal is a pattern (sso), by client name. */
  principalRoles: (client: string) => `principalRoles:${client}`,
  publicAccessCidrs: () => "cluster.publicAccessCidrs",
  /** The stack instances of a StackSet client's StackSet, by client name. */
  stackSetInstances: (client: string) => `stackSetInstances:${client}`,
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
    oidcProviders: {},
    podIdentityAssociations: [],
    principalRoles: {},
    unread: [],
  };
}
