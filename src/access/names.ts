/**
 * Names of the EKS managed access policies xeks knows, and which of them only make sense with cluster scope.
 * The permission rules live in `rules.ts`; this file stays tiny so the topology validator can import it.
 */

export const ACCESS_POLICY_ARN_PREFIX = "cluster-access-policy/";

/** Short names accepted in the topology file (`policies: [AmazonEKSViewPolicy]`). */
export const KNOWN_ACCESS_POLICIES = [
  "AmazonEKSClusterAdminPolicy",
  "AmazonEKSAdminPolicy",
  "AmazonEKSEditPolicy",
  "AmazonEKSViewPolicy",
  "AmazonEKSAdminViewPolicy",
  "AmazonEKSHybridPolicy",
] as const;

export type KnownAccessPolicy = (typeof KNOWN_ACCESS_POLICIES)[number];

/**
 * Policies whose grants are about the whole cluster (cluster-admin, nodes), so a namespace scope is a
 * mistake rather than a restriction. xeks refuses `namespaces` on them (decision recorded in docs/topology.md).
 */
export const CLUSTER_ONLY_POLICIES: ReadonlySet<string> = new Set([
  "AmazonEKSClusterAdminPolicy",
  "AmazonEKSHybridPolicy",
]);

/** `arn:aws:eks::aws:cluster-access-policy/NAME` for a short name, in the given partition. */
export function accessPolicyArn(name: string, partition = "aws"): string {
  return `arn:${partition}:eks::aws:${ACCESS_POLICY_ARN_PREFIX}${name}`;
}

const POLICY_ARN =
  /^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b|aws-iso-e|aws-iso-f|aws-eusc):eks::aws:cluster-access-policy\/([A-Za-z0-9]+)$/;

/** The short name of an access policy ARN, or undefined when the text is not such an ARN. */
export function accessPolicyName(arn: string): string | undefined {
  return POLICY_ARN.exec(arn)?.[2];
}

export { partitionOf } from "../aws/partition.js";

/**
 * `aws eks associate-access-policy …` for one policy and scope, quoted so a shell leaves `team-*` alone.
 * Re-associating a policy replaces its scope, so this is also the fix for a wrong scope.
 */
export function associateAccessPolicyCommand(
  cluster: { name: string; region: string },
  principalArn: string,
  policy: { arn: string; scope: { type: "cluster" } | { type: "namespace"; namespaces: readonly string[] } },
): string {
  const scope =
    policy.scope.type === "cluster"
      ? "type=cluster"
      : `type=namespace,namespaces=${policy.scope.namespaces.join(",")}`;
  return (
    `aws eks associate-access-policy --cluster-name ${cluster.name} --region ${cluster.region} ` +
    `--principal-arn ${principalArn} --policy-arn ${policy.arn} --access-scope '${scope}'`
  );
}
