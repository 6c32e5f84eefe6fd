/**
 * The cross-field rules and the normalization of `clients[].fromOrganization` (a client that is every account of
 * organizational units, its role created by a service-managed StackSet: docs/organizations.md). The schema
 * (schema.ts) checks each field and that `account` and `fromOrganization` come one without the other.
 */
import { partitionOf } from "../access/names.js";
import { type ClientPrincipal, oidcProviderArn } from "../domain/principal.js";
import {
  type FromOrganization,
  memberRoleArn,
  REPRESENTATIVE_MEMBER_ACCOUNT,
  STACKSET_KINDS,
} from "../domain/stackset.js";
import type { InputIssue } from "../errors.js";
import type { ParsedTopology } from "./schema.js";
import type { ClientIdentity } from "./types.js";

type ParsedClient = ParsedTopology["clients"][number];

/**
 * The problems of client `i`'s `fromOrganization` (none when it has none), each at its field path:
 * `organization` must be declared (the access roles trust the members by organization and role pattern: their
 * accounts are not known offline) and the client in it; kinds instance (default) and oidc only; no `vpc` (members
 * reach the public endpoint from `publicCidrs`: a peering per member account does not scale), no `peering`, no
 * `instance`, no existing role (the StackSet creates the role in every member account); OUs listed once; every
 * region in the cluster's partition.
 */
export function fromOrganizationIssues(t: ParsedTopology, c: ParsedClient, i: number): InputIssue[] {
  const from = c.fromOrganization;
  if (!from) return [];
  const at = `clients[${i}]`;
  const out: InputIssue[] = [];
  if (!t.organization) {
    out.push({
      path: `${at}.fromOrganization`,
      message:
        "a client from an organization needs the top-level organization (id, and a rolePattern or the role names): the access roles trust its members by organization and role name, since their accounts are not known offline",
    });
  } else if (c.organizationId !== undefined && c.organizationId !== t.organization.id) {
    out.push({
      path: `${at}.organizationId`,
      message: `a client from an organization is in organization ${t.organization.id} (the organization declared at the top): drop organizationId`,
    });
  }
  const kind = c.identity?.kind ?? "instance";
  if (!(STACKSET_KINDS as readonly string[]).includes(kind)) {
    out.push({
      path: `${at}.identity.kind`,
      message: `a client from an organization is of kind instance or oidc (one role the StackSet creates in every member account); kind ${kind} is not`,
    });
  }
  if (c.vpc !== undefined) {
    out.push({
      path: `${at}.vpc`,
      message:
        "a client from an organization reaches the cluster's public endpoint from its publicCidrs: a peering per member account does not scale (at most 125 peerings per VPC) and needs a stack per account; drop vpc and give publicCidrs (a Transit Gateway path comes later)",
    });
  } else if (c.publicCidrs === undefined) {
    out.push({
      path: `${at}.publicCidrs`,
      message:
        "a client from an organization reaches the cluster's public endpoint: give publicCidrs, the members' egress CIDRs",
    });
  }
  const role = c.identity?.kind === "instance" ? c.identity.role : c.role;
  if (role !== undefined && typeof role !== "string" && role.existing) {
    out.push({
      path: c.identity?.kind === "instance" ? `${at}.identity.role.existing` : `${at}.role.existing`,
      message:
        "a client from an organization has its role created by the StackSet in every member account: drop existing",
    });
  }
  from.organizationalUnits.forEach((ou, j) => {
    if (from.organizationalUnits.indexOf(ou) !== j) {
      out.push({
        path: `${at}.fromOrganization.organizationalUnits[${j}]`,
        message: `${ou} is listed twice (first at ${at}.fromOrganization.organizationalUnits[${from.organizationalUnits.indexOf(ou)}]); list each OU once`,
      });
    }
  });
  // Against the fromOrganization clients before this one: OUs may nest or overlap, so one role name in two
  // StackSets would be two StackSets writing the same role in one member account (IAM role names are unique per
  // account, case-insensitively); and an account is the management account (SELF) or a delegated administrator
  // (DELEGATED_ADMIN), not both.
  const mine = stackSetRoleField(c, at);
  t.clients.slice(0, i).forEach((o, k) => {
    if (!o.fromOrganization) return;
    const theirs = stackSetRoleField(o, `clients[${k}]`);
    if (mine && theirs && mine.name.toLowerCase() === theirs.name.toLowerCase()) {
      out.push({
        path: mine.path,
        message: `role ${mine.name} is already the role of client ${o.name}'s StackSet (${theirs.path}); two StackSets would write the same role in the accounts their OUs share (OUs may nest or overlap): give this client another role name`,
      });
    }
    if (
      o.fromOrganization.administrator === from.administrator &&
      o.fromOrganization.callAs !== from.callAs
    ) {
      out.push({
        path: `${at}.fromOrganization.callAs`,
        message: `account ${from.administrator} is the administrator of client ${o.name}'s StackSet with callAs ${o.fromOrganization.callAs}: an account is the management account (SELF) or a delegated administrator (DELEGATED_ADMIN), not both; use callAs ${o.fromOrganization.callAs}`,
      });
    }
  });
  const partition = partitionOf(t.cluster.region);
  (from.regions ?? []).forEach((r, j) => {
    if (from.regions?.indexOf(r) !== j) {
      out.push({
        path: `${at}.fromOrganization.regions[${j}]`,
        message: `${r} is listed twice; list each region once`,
      });
    } else if (j > 0) {
      // IAM is global: the member template's named role would exist already in each account when CloudFormation
      // deploys the second region's instance ("Role ... already exists"), failing the operation.
      out.push({
        path: `${at}.fromOrganization.regions[${j}]`,
        message: `the member template creates the named role ${stackSetRoleField(c, at)?.name ?? "of the client"}, and IAM is global: an instance in a second region would fail (the role already exists in each account); list one region`,
      });
    } else if (partitionOf(r) !== partition) {
      out.push({
        path: `${at}.fromOrganization.regions[${j}]`,
        message: `region ${r} is in partition ${partitionOf(r)}, the cluster's region ${t.cluster.region} in ${partition}; IAM trust does not cross partitions`,
      });
    }
  });
  return out;
}

/** The declared role name of a client and its field path (undefined: xeks's default name, one per client). */
function stackSetRoleField(c: ParsedClient, at: string): { name: string; path: string } | undefined {
  const inIdentity = (c.identity as { role?: unknown } | undefined)?.role;
  const [value, path] =
    inIdentity !== undefined ? [inIdentity, `${at}.identity.role`] : [c.role, `${at}.role`];
  if (typeof value === "string") return { name: value, path };
  const name = (value as { name?: unknown } | undefined)?.name;
  return typeof name === "string" ? { name, path } : undefined;
}

/** The normalized `fromOrganization` of a client (defaults filled in: regions = the cluster's region). */
export function normalizeFromOrganization(
  from: NonNullable<ParsedClient["fromOrganization"]>,
  clusterRegion: string,
): FromOrganization {
  return {
    organizationalUnits: [...from.organizationalUnits],
    administrator: from.administrator,
    callAs: from.callAs,
    regions: [...(from.regions ?? [clusterRegion])],
    retainStacksOnAccountRemoval: from.retainStacksOnAccountRemoval,
  };
}

/**
 * The principal of a StackSet client: the role in every member account (`arn:PARTITION:iam::*:role/…`, let in by
 * the organization statement of the access roles), simulated as a representative member
 * (`REPRESENTATIVE_MEMBER_ACCOUNT`, docs/organizations.md "How the proof sees a StackSet").
 */
export function memberPrincipal(
  base: ClientPrincipal,
  partition: string,
  path: string,
  name: string,
): ClientPrincipal {
  return {
    ...base,
    arn: memberRoleArn(partition, path, name),
    example: {
      ...base.example,
      arn: `arn:${partition}:iam::${REPRESENTATIVE_MEMBER_ACCOUNT}:role${path}${name}`,
    },
    label: `role ${name} in every account of the StackSet`,
  };
}

/**
 * The identity of a StackSet client: for kind oidc, the OIDC provider is each member account's own
 * (`arn:PARTITION:iam::*:oidc-provider/HOST`, the member template's `AWS::AccountId`), which must exist there.
 */
export function memberIdentity(identity: ClientIdentity, partition: string): ClientIdentity {
  return identity.kind === "oidc"
    ? { ...identity, providerArn: oidcProviderArn(partition, "*", identity.provider) }
    : identity;
}
