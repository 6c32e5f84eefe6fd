/**
 * The facts of the model that AWS answers carry, as plain data: roles and their policies, routes, VPCs,
 * peerings, security group rules, access entries, instances. Domain layer (no imports): src/aws's readers
 * return them and src/model/types.ts re-exports them with the rest of the model (the cluster fact, unread
 * facts, the Model). Sources: the IAM, EC2 and EKS API references, as named in src/aws/read.ts.
 */

/**
 * An IAM policy document, as in the console's JSON editor: the same shape as the topology schema's
 * `policyDocument` output (src/topology/types.ts checks that both stay equal at compile time). Type aliases,
 * not interfaces, so that they fit an index-signature type such as src/domain/trust.ts's TrustStatement.
 */
export type PolicyDocument = {
  Version: "2012-10-17" | "2008-10-17";
  Id?: string | undefined;
  Statement: PolicyStatement | PolicyStatement[];
};

/** One statement of a {@link PolicyDocument}: Action or NotAction, and the rest of IAM's grammar. */
export type PolicyStatement = {
  Sid?: string | undefined;
  Effect: "Allow" | "Deny";
  Action?: string | string[] | undefined;
  NotAction?: string | string[] | undefined;
  Resource?: string | string[] | undefined;
  NotResource?: string | string[] | undefined;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Condition?: Record<string, Record<string, unknown>> | undefined;
};

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
  /** Live: the rule's id (`sgr-…`, DescribeSecurityGroupRules `SecurityGroupRuleId`). */
  id?: string;
  /** Live: the rule's description, when it has one. */
  description?: string;
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

export interface InstanceFact {
  id: string;
  account: string;
  subnetId?: string;
  /** Instance profile ARN or name attached, if any. */
  instanceProfile?: string;
  httpTokensRequired?: boolean;
  source: FactSource;
}

/**
 * An IAM OIDC identity provider of a client account (IAM GetOpenIDConnectProvider: `Url`, `ClientIDList`,
 * `ThumbprintList`). `url` is the issuer without `https://`, as IAM stores it in the provider's ARN.
 */
export interface OidcProviderFact {
  arn: string;
  account: string;
  url: string;
  /** ClientIDList: the audiences the provider accepts. */
  audiences: string[];
  source: FactSource;
}

/**
 * An EKS Pod Identity association (EKS DescribePodIdentityAssociation: `associationId`, `clusterName`,
 * `namespace`, `serviceAccount`, `roleArn`, `targetRoleArn`).
 */
export interface PodIdentityAssociationFact {
  /** `a-…`; absent at plan (CloudFormation assigns it). */
  id?: string;
  account: string;
  region: string;
  clusterName: string;
  namespace: string;
  serviceAccount: string;
  /** The Pod Identity role the pods get. */
  roleArn: string;
  /** The role EKS assumes next with the Pod Identity role's session (cross-account form), when set. */
  targetRoleArn?: string;
  source: FactSource;
}
