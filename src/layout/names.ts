/**
 * Names xeks gives to what it synthesizes: stack names, the peering accepter role, CloudFormation logical ids.
 * Pure functions of the topology, so the same file always gives the same names (stable across runs and
 * machines), and every name fits the rules of the service that stores it.
 */
import { createHash } from "node:crypto";

/** Prefix of every stack, tag and generated role name. */
const XEKS_PREFIX = "xeks";

/** Tag keys put on every stack (and on every taggable resource in it). */
export const TAG_CLUSTER = "xeks:cluster";
export const TAG_STACK = "xeks:stack";
export const TAG_CLIENT = "xeks:client";

/** Eight hex digits of SHA-256: a short, stable disambiguator. */
export function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 8);
}

/**
 * Shorten `text` to `max` characters by cutting it and appending `-` and a hash of the whole text, so two long
 * names that share a prefix stay distinct.
 */
function fit(text: string, max: number): string {
  if (text.length <= max) return text;
  const hash = shortHash(text);
  return `${text.slice(0, max - hash.length - 1).replace(/-+$/, "")}-${hash}`;
}

/**
 * A CloudFormation stack name: letters, digits and hyphens, starting with a letter, at most 128 characters.
 * Other characters (the `_` a cluster name may hold, the `.@+=,` of role names) become hyphens.
 */
function stackNameOf(...parts: string[]): string {
  const raw = [XEKS_PREFIX, ...parts]
    .join("-")
    .replace(/[^A-Za-z0-9-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/-$/, "");
  return fit(raw, 128);
}

/** Stack names of one topology, by role in the deployment. */
export const stackNames = {
  clientIdentity: (cluster: string, client: string) => stackNameOf(cluster, "client", client, "identity"),
  clusterBase: (cluster: string) => stackNameOf(cluster, "cluster", "base"),
  clusterAccess: (cluster: string, accessRole: string) =>
    stackNameOf(cluster, "cluster", "access", accessRole),
  clientLink: (cluster: string, client: string) => stackNameOf(cluster, "client", client, "link"),
  clusterLink: (cluster: string, client: string) => stackNameOf(cluster, "cluster", "link", client),
};

/** The IAM role in the cluster account that lets client accounts accept the VPC peering: 64 characters at most. */
export function accepterRoleName(cluster: string): string {
  return fit(`${XEKS_PREFIX}-${cluster}-peering-accepter`.replace(/[^\w+=,.@-]/g, "-"), 64);
}

/** The inline policy xeks puts on a client role (created or existing): 128 characters at most. */
export function assumePolicyName(cluster: string): string {
  return fit(`${XEKS_PREFIX}-${cluster}-assume-access-roles`.replace(/[^\w+=,.@-]/g, "-"), 128);
}

/** The inline policy xeks writes on an access role (eks:DescribeCluster on the cluster, eks:ListClusters). */
export const ACCESS_ROLE_POLICY_NAME = "xeks-eks-describe";

/** `ops-team` -> `OpsTeam`, `EKS-CrossAccount-Access-Role` -> `EKSCrossAccountAccessRole`. */
export function pascal(text: string): string {
  return text
    .split(/[^A-Za-z0-9]+/)
    .filter((p) => p.length > 0)
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join("");
}
