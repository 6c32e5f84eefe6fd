/**
 * The client side of an organization (`clients[].fromOrganization`, docs/organizations.md): instead of one
 * client-identity stack in one account, a service-managed StackSet in the administrator account whose member
 * template (the same intents: the role, its instance profile, its sts:AssumeRole policy) is deployed by
 * CloudFormation in every account of the OUs, and in the accounts that join them later (AutoDeployment). Plain
 * data, read by the infra (the member template), the manifest, the printed plan and deploy (phase 1).
 */
import { STACKSET_CAPABILITIES, type StackSetCallAs } from "../domain/stackset.js";
import type { Client } from "../topology/types.js";
import type { Intent, StackLayout } from "./layout.js";

/** A service-managed StackSet xeks deploys in phase 1 (client side), in its administrator account. */
export interface StackSetLayout {
  /**
   * The StackSet's name, also the member template's cloud assembly artifact id and template file's base name
   * (the client-identity stack name the client would otherwise have).
   */
  name: string;
  client: string;
  /** Always 1: the members' roles exist before the access roles (phase 2) are deployed. */
  phase: 1;
  /** The administrator account, where the StackSet lives and where deploy calls the StackSets API. */
  account: string;
  /** The StackSet's own region (the client's region: the cluster's unless declared). */
  region: string;
  permissionModel: "SERVICE_MANAGED";
  callAs: StackSetCallAs;
  autoDeployment: { enabled: true; retainStacksOnAccountRemoval: boolean };
  /** DeploymentTargets.OrganizationalUnitIds. */
  organizationalUnits: string[];
  /** The regions of the stack instances. */
  regions: string[];
  capabilities: string[];
  description: string;
  /** What the member template creates in every member account (environment-agnostic). */
  intents: Intent[];
}

/**
 * The StackSet of a client from an organization, from the client-identity stack it would otherwise have (same
 * name and intents); undefined for any other client.
 */
export function stackSetOf(client: Client, identity: StackLayout | undefined): StackSetLayout | undefined {
  const from = client.fromOrganization;
  if (!from || !identity) return undefined;
  return {
    name: identity.name,
    client: client.name,
    phase: 1,
    account: from.administrator,
    region: client.region,
    permissionModel: "SERVICE_MANAGED",
    callAs: from.callAs,
    autoDeployment: { enabled: true, retainStacksOnAccountRemoval: from.retainStacksOnAccountRemoval },
    organizationalUnits: [...from.organizationalUnits],
    regions: [...from.regions],
    capabilities: [...STACKSET_CAPABILITIES],
    // No OU or region in it: it is the member template's Description too, and a change of the targets must not
    // rewrite every member stack (the targets are the StackSet's DeploymentTargets).
    description: `${identity.description}, in every account of the StackSet's OUs`,
    intents: identity.intents,
  };
}

/**
 * The member template of a StackSet as a stack layout, for the CDK stack that synthesizes it: account `*` (no
 * environment: the template uses `AWS::AccountId` and `AWS::Partition` only), the StackSet's region.
 */
export function memberStackLayout(set: StackSetLayout): StackLayout {
  return {
    name: set.name,
    kind: "client-identity",
    phase: 1,
    side: "client",
    account: "*",
    region: set.region,
    client: set.client,
    description: set.description,
    dependsOn: [],
    parameters: [],
    outputs: [],
    intents: set.intents,
  };
}
