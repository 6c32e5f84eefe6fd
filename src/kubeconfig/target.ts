/**
 * What a kubeconfig is for: the cluster and the access role, read from the topology (a client and one of the
 * access roles it may assume) or from flags.
 */
import { InputError } from "../errors.js";
import type { AccessRole, ClientKind, Topology } from "../topology/types.js";

/**
 * The client a topology-mode kubeconfig is for (docs/clients.md, "kubeconfig per kind"): its kind decides
 * which credentials `xeks token` starts from (an Identity Center profile, a pipeline's environment, a pod's
 * container credentials, an instance profile) and which local checks apply.
 */
export interface KubeconfigClient {
  name: string;
  kind: ClientKind;
  /** The client account (12 digits). */
  account: string;
  /** Kind sso: the permission set whose roles the access role trusts. */
  permissionSet?: string;
}

export interface KubeconfigTarget {
  clusterName: string;
  region: string;
  /** Known from the topology; otherwise DescribeCluster tells it. */
  clusterArn?: string;
  server?: string;
  certificateAuthorityData?: string;
  roleArn?: string;
  externalId?: string;
  /** Topology mode: the client, its kind and account. */
  client?: KubeconfigClient;
}

function describeRoles(roles: AccessRole[]): string {
  return roles.map((r) => `${r.role} (${r.arn})`).join(", ");
}

/** The access role the client uses: the only one, or the one `--role-arn` names (role name or ARN). */
export function chooseAccessRole(topology: Topology, clientName: string, accessRole?: string): AccessRole {
  const client = topology.clients.find((c) => c.name === clientName);
  if (!client) {
    throw new InputError(`no client ${clientName} in ${topology.file ?? "the topology"}`, [
      { path: "--client", message: `expected one of: ${topology.clients.map((c) => c.name).join(", ")}` },
    ]);
  }
  const roles = topology.access.filter((a) => a.clients.includes(clientName));
  if (roles.length === 0) {
    throw new InputError(
      `client ${clientName} may assume no access role in ${topology.file ?? "the topology"}`,
      [{ path: "access", message: `add ${clientName} to the clients of an access role` }],
    );
  }
  if (accessRole !== undefined) {
    const chosen = roles.find((r) => r.role === accessRole || r.arn === accessRole);
    if (!chosen) {
      throw new InputError(`client ${clientName} has no access role ${accessRole}`, [
        { path: "--role-arn", message: `expected one of: ${describeRoles(roles)}` },
      ]);
    }
    return chosen;
  }
  if (roles.length > 1) {
    throw new InputError(
      `client ${clientName} may assume ${roles.length} access roles; choose one with --role-arn`,
      [{ path: "--role-arn", message: `one of: ${describeRoles(roles)}` }],
    );
  }
  return roles[0] as AccessRole;
}

export function targetFromTopology(
  topology: Topology,
  clientName: string,
  accessRole?: string,
): KubeconfigTarget {
  const role = chooseAccessRole(topology, clientName, accessRole);
  const c = topology.cluster;
  const target: KubeconfigTarget = {
    clusterName: c.name,
    region: c.region,
    clusterArn: c.arn,
    roleArn: role.arn,
  };
  if (role.externalId) target.externalId = role.externalId;
  const client = topology.clients.find((x) => x.name === clientName);
  if (client) {
    target.client = { name: client.name, kind: client.identity.kind, account: client.account };
    if (client.identity.kind === "sso") target.client.permissionSet = client.identity.permissionSet;
  }
  if (c.endpoint && c.certificateAuthority) {
    target.server = c.endpoint;
    target.certificateAuthorityData = c.certificateAuthority;
  }
  return target;
}
