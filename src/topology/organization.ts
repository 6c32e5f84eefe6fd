/**
 * Which clients an organization statement covers, and the organization trust of an access role
 * (docs/organizations.md). The documents are built in src/domain/trust.ts.
 */
import { ORGANIZATION_KINDS } from "../domain/organization.js";
import type { OrganizationTrust } from "../domain/trust.js";
import type { AccessRole, Client, Topology } from "./types.js";

/**
 * True when the topology declares an organization and the client gets in through its statement: a client of kind
 * instance, role or oidc (one exact role) whose account is in the organization (`organizationId`, which defaults to
 * `organization.id`). pod-identity (sts:TagSession) and sso (role patterns per account) keep their statements.
 */
export function organizationCovers(topology: Topology, client: Client): boolean {
  const org = topology.organization;
  return (
    org !== undefined &&
    client.role !== undefined &&
    ORGANIZATION_KINDS.includes(client.identity.kind) &&
    client.organizationId === org.id
  );
}

/**
 * The organization trust of an access role (the `organization` argument of `accessTrustPolicy`): the topology's
 * organization with the exact role ARNs of the access role's covered clients; undefined without an organization.
 */
export function accessOrganizationTrust(
  topology: Topology,
  access: AccessRole,
): OrganizationTrust | undefined {
  const org = topology.organization;
  if (!org) return undefined;
  const covered = topology.clients
    .filter((c) => access.clients.includes(c.name) && organizationCovers(topology, c))
    .map((c) => c.role?.arn as string);
  return {
    id: org.id,
    paths: org.paths,
    rolePatterns: org.rolePatterns,
    covered,
    clusterAccount: topology.cluster.account,
  };
}
