/**
 * The normalized topology: what the rest of xeks reads. Defaults are filled in, short names are resolved to
 * ARNs, and every cross-reference has been checked (see `validate.ts`).
 */
import type { DeclaredAccessEntry, DeclaredRoute, NamedPolicy, PolicyDocument } from "./schema.js";

export type { DeclaredAccessEntry, DeclaredRoute, NamedPolicy, PolicyDocument };

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
  endpoint?: string;
  certificateAuthority?: string;
  securityGroupId: string;
  vpc: Vpc;
  scps: NamedPolicy[];
  /** Resource control policies of the cluster account (declared). */
  rcps: NamedPolicy[];
  /** Access entries that already exist (declared), with policy ARNs resolved. */
  accessEntries: {
    principalArn: string;
    type: string;
    username?: string;
    kubernetesGroups: string[];
    policies: AccessPolicyRef[];
  }[];
}

export interface ClientRole {
  name: string;
  /** true: the role exists already; xeks only attaches the sts:AssumeRole policy. */
  existing: boolean;
  path: string;
  /** `arn:aws:iam::ACCOUNT:role{path}{name}` */
  arn: string;
  instanceProfile: string;
  /** Declared trust policy of an existing role. */
  trustPolicy?: PolicyDocument;
  permissionsBoundary?: { arn?: string; document: PolicyDocument };
  /** Identity policies already on an existing role (declared facts). */
  policies: NamedPolicy[];
}

export interface Client {
  name: string;
  account: string;
  region: string;
  vpc: Vpc;
  role: ClientRole;
  instance?: { subnetId: string; type: string };
  scps: NamedPolicy[];
  organizationId?: string;
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
}

export interface Topology {
  /** The file it was read from, for messages. */
  file?: string;
  cluster: Cluster;
  clients: Client[];
  access: AccessRole[];
}
