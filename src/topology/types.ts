/**
 * The normalized topology: what the rest of xeks reads. Defaults are filled in, short names are resolved to
 * ARNs, and every cross-reference has been checked (see `validate.ts`).
 */
import type { PolicyDocument as FactPolicyDocument } from "../domain/facts.js";
import type { ClientPrincipal } from "../domain/principal.js";
import type { FromOrganization } from "../domain/stackset.js";
import type {
  DeclaredAccessEntry,
  DeclaredIngressRule,
  DeclaredRoute,
  NamedPolicy,
  PolicyDocument,
} from "./schema.js";

export type { DeclaredAccessEntry, DeclaredIngressRule, DeclaredRoute, NamedPolicy, PolicyDocument };

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type IsTrue<T extends true> = T;
/**
 * Compile-time check: the schema's policy document is exactly the domain's plain one (src/domain/facts.ts), which
 * the facts src/aws reads carry; `tsc` fails here if either changes alone.
 */
export type PolicyDocumentMatchesDomain = IsTrue<Same<PolicyDocument, FactPolicyDocument>>;

export type AuthenticationMode = "CONFIG_MAP" | "API_AND_CONFIG_MAP" | "API";

export interface Vpc {
  id: string;
  cidr: string;
  routeTables: string[];
  /** Routes that already exist (declared facts). */
  routes: DeclaredRoute[];
}

export interface Cluster {
  name: string;
  account: string;
  region: string;
  partition: string;
  /** `arn:aws:eks:REGION:ACCOUNT:cluster/NAME` */
  arn: string;
  authenticationMode?: AuthenticationMode;
  endpointAccess?: { private: boolean; public: boolean };
  /** The CIDRs the public endpoint admits (declared; EKS's default 0.0.0.0/0). */
  publicAccessCidrs?: string[];
  /**
   * Quotas of the cluster account raised above AWS's defaults (declared; `cluster.quotas`): the role trust policy
   * length (characters, 2,048..4,096) and the active VPC peering connections per VPC (50..125). Unset: the
   * defaults of src/domain/quotas.ts.
   */
  quotas?: { trustPolicyLength?: number; peeringsPerVpc?: number };
  endpoint?: string;
  certificateAuthority?: string;
  securityGroupId: string;
  vpc: Vpc;
  scps: NamedPolicy[];
  /** Resource control policies of the cluster account (declared). */
  rcps: NamedPolicy[];
  /**
   * Inbound rules of the cluster security group that exist (declared facts, default []). A tcp 443-443 rule from
   * a client's CIDR is that client's 443 rule: adopted, not created (docs/adopt.md).
   */
  ingressRules: DeclaredIngressRule[];
  /** Access entries that already exist (declared), with policy ARNs resolved. */
  accessEntries: {
    principalArn: string;
    type: string;
    username?: string;
    kubernetesGroups: string[];
    policies: AccessPolicyRef[];
  }[];
}

/**
 * A role in the client account whose sessions call sts:AssumeRole on the access roles: the EC2 role (kind
 * instance), the web-identity role (oidc), the Pod Identity role (pod-identity), or an existing role (role). A
 * permission set's roles (sso) are not one role: such a client has no `role` (see `Client.principal`).
 */
export interface ClientRole {
  name: string;
  /** true: the role exists already; xeks only attaches the sts:AssumeRole policy. */
  existing: boolean;
  path: string;
  /** `arn:aws:iam::ACCOUNT:role{path}{name}` */
  arn: string;
  /** The instance profile (kind instance only; default the role name); undefined for the other kinds. */
  instanceProfile?: string;
  /** Declared trust policy of an existing role. */
  trustPolicy?: PolicyDocument;
  permissionsBoundary?: { arn?: string; document: PolicyDocument };
  /** Identity policies already on an existing role (declared facts). */
  policies: NamedPolicy[];
  /**
   * Adopt: the name of the existing role's inline policy (one of `policies`) that allows sts:AssumeRole on the
   * access roles; CloudFormation takes it over under that name. Undefined: xeks adds its own policy.
   */
  assumePolicy?: string;
}

/** A peering connection that exists between a client's VPC and the cluster VPC (docs/adopt.md). */
export interface ExistingPeering {
  /** `pcx-…` */
  id: string;
  /** true: CloudFormation takes ownership (import); false: left as it is, referred to by id. */
  adopt: boolean;
}

/**
 * Who a client is (`clients[].identity`, docs/clients.md). The legacy `clients[].role` key is kind `instance`.
 * - instance: EC2 instances with `Client.role` in an instance profile;
 * - sso: the roles of an IAM Identity Center permission set (`policies`: the permission set's policies, declared);
 * - oidc: a web-identity role xeks creates, trusting `providerArn` for `audience` and `subjects`;
 * - pod-identity: a Pod Identity role xeks creates, associated with `namespace`/`serviceAccount` of the client
 *   account's cluster `cluster` (`clusterArn`);
 * - role: an existing role (`Client.role`, existing), its trust left as it is.
 */
export type ClientIdentity =
  | { kind: "instance" }
  | { kind: "sso"; permissionSet: string; policies: NamedPolicy[] }
  | { kind: "oidc"; provider: string; providerArn: string; audience: string; subjects: string[] }
  | {
      kind: "pod-identity";
      cluster: string;
      clusterArn: string;
      namespace: string;
      serviceAccount: string;
    }
  | { kind: "role" };

export type { ClientKind, ClientPrincipal } from "../domain/principal.js";

export interface Client {
  name: string;
  account: string;
  region: string;
  identity: ClientIdentity;
  /** What the access roles trust for this client, and the caller the proof simulates. */
  principal: ClientPrincipal;
  /** The client's VPC, peered with the cluster VPC; undefined for a client that reaches the public endpoint. */
  vpc?: Vpc;
  /** Egress CIDRs of a client without a VPC (`clients[].publicCidrs`); [] for a client with a VPC. */
  publicCidrs: string[];
  /** The client account's role that calls sts:AssumeRole; undefined for kind sso (see `principal`). */
  role?: ClientRole;
  /** The peering connection that exists already (adopted or left); undefined: xeks requests one. */
  peering?: ExistingPeering;
  instance?: { subnetId: string; type: string };
  scps: NamedPolicy[];
  /** The account's organization (aws:PrincipalOrgID); default `Topology.organization.id`. */
  organizationId?: string;
  /** The account's organization path, `o-…/r-…/ou-…/` (aws:PrincipalOrgPaths; declared, for the proof). */
  organizationPath?: string;
  /**
   * The client is every account of organizational units (`clients[].fromOrganization`, docs/organizations.md): its
   * role is created in each by a service-managed StackSet in `fromOrganization.administrator`, which is then also
   * `account` (the account xeks writes to for this client: credentials and the account check); `role.arn` and
   * `principal.arn` are `arn:PARTITION:iam::*:role/…` (every member), `principal.example` a representative member.
   */
  fromOrganization?: FromOrganization;
}

import type { AccessPolicyRef } from "../domain/scope.js";

/** Access scope types live in the domain layer (src/domain/scope.ts). */
export type { AccessPolicyRef, AccessScope } from "../domain/scope.js";

export interface AccessRole {
  /** Role name in the cluster account. */
  role: string;
  /** `arn:aws:iam::CLUSTER_ACCOUNT:role/NAME` */
  arn: string;
  clients: string[];
  policies: AccessPolicyRef[];
  kubernetesGroups: string[];
  username: string | null;
  externalId: string | null;
  /**
   * The role exists already: CloudFormation takes ownership of it (and of its access entry, when
   * `cluster.accessEntries` lists one for `arn`). Its trust policy and inline policies as found.
   */
  adopt?: { trustPolicy: PolicyDocument; policies: NamedPolicy[] };
}

/**
 * The clients' organization (`organization`, docs/organizations.md): the access roles trust the covered clients
 * (kinds instance, role, oidc whose `organizationId` is `id`) through one statement (`aws:PrincipalOrgID` `id`,
 * `aws:PrincipalOrgPaths` under `paths`, `aws:PrincipalArn` like `arn:PARTITION:iam::*:role/PATTERN` for
 * `rolePatterns`), and the peering accepter role trusts the organization's accounts.
 */
export interface Organization {
  /** `o-…` */
  id: string;
  /** Declared organization paths (`o-…/r-…/ou-…/`); [] for the whole organization. */
  paths: string[];
  /**
   * Role name patterns (path without its leading `/`, then the name; `*` and `?` wildcards): the declared
   * `rolePattern`, or the covered clients' role names (xeks's default names as one `xeks-CLUSTER-*`).
   */
  rolePatterns: string[];
}

export interface Topology {
  /** The file it was read from, for messages. */
  file?: string;
  cluster: Cluster;
  clients: Client[];
  access: AccessRole[];
  /** The clients' organization, when declared. */
  organization?: Organization;
}
